{# Left join of the resolved code list (stg_seeds__code_terms) for one concept, on the
   site's language and the normalised term. Use `<alias>.code` in the select. #}
{% macro join_code_list(concept, text_expr, language_expr, alias) -%}
left join {{ ref('stg_seeds__code_terms') }} as {{ alias }}
    on {{ alias }}.concept = '{{ concept }}'
   and {{ alias }}.site_language = {{ language_expr }}
   and {{ alias }}.normalised_term = {{ normalise_term(text_expr) }}
{%- endmacro %}

{# Canonical code of a single-valued cell: null when the cell is missing, the code when
   the list knows the term, else 'unmapped' (never guessed). #}
{% macro mapped_code(text_expr, alias) -%}
case when {{ text_expr }} is null then null else coalesce({{ alias }}.code, 'unmapped') end
{%- endmacro %}

{# Map a multi-valued cell (drugs, pain locations, interventions), set-based:
   1. optionally doses such as `10 mg/ml` or `0.5%` are removed first (drug cells);
   2. the cell is split on , ; + / ( ) and line breaks, and each part is looked up whole
      (so `irrigation and debridement` stays one intervention);
   3. a part no list knows is split again on conjunctions (and, y, e, et, und, en, &)
      and each piece is looked up; a piece still unknown is an unmapped term.
   `relation` needs delivery_id, source_row, site_language and the text column.
   Returns a query with one row per (delivery_id, source_row) holding `codes`
   (sorted, distinct) and `unmapped_terms` (the unknown pieces as written). #}
{% macro map_term_list(relation, text_column, concept, strip_doses=false) -%}
{%- set cell = text_column -%}
{%- if strip_doses -%}
{%- set cell = "regexp_replace(" ~ text_column ~ ", '\\d+([.,]\\d+)?\\s*(mg|mcg|µg|μg|ug|microg|%)(\\s*/\\s*(ml|d|day|dia|día|jour|tag|24 ?h|h))?', ' ', 'gi')" -%}
{%- endif -%}
with split_cells as (
    select delivery_id, source_row, site_language,
           regexp_split_to_array({{ cell }}, '\s*[,;+/()\n]\s*') as parts
    from {{ relation }}
    where {{ text_column }} is not null
),
parts as (
    select delivery_id, source_row, site_language, trim(parts[pos]) as part
    from (select *, unnest(range(1, len(parts) + 1)) as pos from split_cells)
    where trim(parts[pos]) <> ''
),
parts_mapped as (
    select p.*, m.code
    from parts as p
    {{ join_code_list(concept, 'p.part', 'p.site_language', 'm') }}
),
pieces as (
    select delivery_id, source_row, site_language, trim(pieces[pos]) as piece
    from (
        select *, unnest(range(1, len(pieces) + 1)) as pos
        from (
            select delivery_id, source_row, site_language,
                   regexp_split_to_array(part, '\s+(and|y|e|et|und|en|&)\s+|\s*&\s*', 'i') as pieces
            from parts_mapped
            where code is null
        )
    )
    where trim(pieces[pos]) <> ''
),
pieces_mapped as (
    select p.delivery_id, p.source_row, m.code, p.piece
    from pieces as p
    {{ join_code_list(concept, 'p.piece', 'p.site_language', 'm') }}
),
all_terms as (
    select delivery_id, source_row, code, null as unmapped_term from parts_mapped where code is not null
    union all
    select delivery_id, source_row, coalesce(code, 'unmapped'), case when code is null then piece end
    from pieces_mapped
)
select delivery_id, source_row,
       list_sort(list_distinct(list(code))) as codes,
       list_sort(list_distinct(list(unmapped_term))) as unmapped_terms  -- list_distinct drops the nulls
from all_terms
group by delivery_id, source_row
{%- endmacro %}
