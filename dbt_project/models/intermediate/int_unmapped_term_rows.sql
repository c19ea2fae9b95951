{{ config(tags=['as_of_scoped']) }}
-- One row per landing row of a current delivery and term that no code list knows, with the
-- concept it was written for (from int_cell_codes). Feeds dq_unmapped_terms and the
-- unmapped_term warning.
with sheet_rows as (
    {%- for sheet in ['patients', 'visits', 'events', 'exits'] %}
    select delivery_id, sheet_kind, source_row, site_id, file_name, sheet_name, is_accepted
    from {{ ref('int_' ~ sheet ~ '__validated') }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
)

select
    r.site_id, r.delivery_id, r.file_name, r.sheet_kind, r.sheet_name, r.source_row, r.is_accepted,
    c.concept,
    unnest(c.unmapped_terms) as term
from {{ ref('int_cell_codes') }} as c
inner join sheet_rows as r
    on r.delivery_id = c.delivery_id and r.sheet_kind = c.sheet_kind and r.source_row = c.source_row
where len(c.unmapped_terms) > 0
  and c.delivery_id in (select delivery_id from {{ ref('int_deliveries__analysed') }})
