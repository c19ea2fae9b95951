{# A post-hook of every table and seed: logs its row count, which the orchestrator reads
   from dbt's output while dbt is still running (DuckDB lets no other process read the
   warehouse until dbt exits) and shows as the asset's `dagster/row_count`. The line is
   `row count of <unique id>: <rows>` (``orchestration/defs/warehouse/assets.py``). #}
{% macro log_row_count() -%}
    {%- if execute and (model.resource_type == 'seed' or model.config.materialized in ('table', 'incremental')) -%}
        {%- set rows = run_query('select count(*) from ' ~ this).columns[0].values()[0] -%}
        {%- do log('row count of ' ~ model.unique_id ~ ': ' ~ rows, info=true) -%}
    {%- endif -%}
{%- endmacro %}
