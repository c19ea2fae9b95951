-- Every rejected landing row of the sites' current deliveries, with file, sheet, row and
-- all its reasons (sorted, `;`-joined). Accepted rows are not listed.
{%- set sheets = ['patients', 'visits', 'events', 'exits'] %}
{%- for sheet in sheets %}
select
    cast(v.site_id as varchar) as site_id,
    cast(v.delivery_id as varchar) as delivery_id,
    cast(v.file_name as varchar) as file_name,
    cast(v.sheet_kind as varchar) as sheet_kind,
    cast(v.sheet_name as varchar) as sheet_name,
    cast(v.source_row as integer) as source_row,
    cast(v.rejection_reasons_text as varchar) as reasons
from {{ ref('int_' ~ sheet ~ '__validated') }} as v
where not v.is_accepted and v.delivery_id in (select delivery_id from {{ ref('int_deliveries__analysed') }})
{{ 'union all' if not loop.last }}
{%- endfor %}
