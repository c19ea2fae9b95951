{# Tables and views built in place, in one transaction.

   dbt-duckdb's own materializations build each relation under a temporary name, rename
   the old one to a backup, rename the new one and drop the backup: three statements
   more per node, each through dbt's macros and its relation cache, for 51 nodes a build.
   DuckDB's DDL is transactional, so dropping the old relation and creating the new one
   between BEGIN and COMMIT is as safe: a failing build rolls back to the old relation,
   and a reader sees one or the other. (dbt-duckdb does this already for tables that
   foreign keys point to.) Contracts and Python models go through the adapter's own
   `create_table_as`; hooks run where they run in the adapter's versions. The `main`
   statement stays in each materialization: dbt runs a Python model only when that
   statement is called from the materialization itself. #}

{% materialization table, adapter="duckdb", supported_languages=['sql', 'python'] %}
  {%- set language = model['language'] -%}
  {%- set target_relation = this.incorporate(type='table') -%}
  {{ begin_in_place() }}
  {% call statement('main', language=language) -%}
    {{- create_table_as(False, target_relation, compiled_code, language) }}
  {%- endcall %}
  {{ commit_in_place() }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{% materialization view, adapter="duckdb" %}
  {%- set target_relation = this.incorporate(type='view') -%}
  {{ begin_in_place() }}
  {% call statement('main') -%}
    {{ get_create_view_as_sql(target_relation, sql) }}
  {%- endcall %}
  {{ commit_in_place() }}
  {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}

{# The node's pre-hooks, then its old relation dropped inside the build's transaction.
   Settings the adapter's versions apply and these do not are refused, not ignored. #}
{% macro begin_in_place() %}
  {%- set unapplied = [] -%}
  {%- for setting in ('grants', 'indexes', 'partitioned_by', 'sorted_by') if config.get(setting) -%}
    {%- do unapplied.append(setting) -%}
  {%- endfor -%}
  {%- if config.persist_relation_docs() or config.persist_column_docs() -%}
    {%- do unapplied.append('persist_docs') -%}
  {%- endif -%}
  {%- if unapplied -%}
    {{ exceptions.raise_compiler_error(unapplied | join(', ') ~ " set on " ~ this ~ ": macros/materialized_in_place.sql "
                                       ~ "does not apply it; apply it there, or remove the setting") }}
  {%- endif -%}
  {{ run_hooks(pre_hooks, inside_transaction=False) }}
  {{ run_hooks(pre_hooks, inside_transaction=True) }}
  {%- set existing_relation = load_cached_relation(this) -%}
  {% if existing_relation is not none %}
    {#- auto_begin: the drop belongs to the build's transaction, never committed alone -#}
    {% call statement('drop_existing', auto_begin=True) -%}
      drop {{ existing_relation.type }} if exists {{ existing_relation }}
    {%- endcall %}
    {% do adapter.cache_dropped(existing_relation) %}
  {% endif %}
{% endmacro %}

{# The post-hooks inside the transaction, COMMIT, then those outside it. #}
{% macro commit_in_place() %}
  {{ run_hooks(post_hooks, inside_transaction=True) }}
  {{ adapter.commit() }}
  {{ run_hooks(post_hooks, inside_transaction=False) }}
{% endmacro %}
