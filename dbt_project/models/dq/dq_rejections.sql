-- Every rejected landing row of the sites' current deliveries, with file, sheet, row and
-- all its reasons (sorted, `;`-joined). Accepted rows are not listed.
{%- set sheets = ['patients', 'visits', 'events', 'exits'] %}
{%- for sheet in sheets %}
select
    cast(site_id as varchar) as site_id,
    cast(delivery_id as varchar) as delivery_id,
    cast(file_name as varchar) as file_name,
    cast(sheet_kind as varchar) as sheet_kind,
    cast(sheet_name as varchar) as sheet_name,
    cast(source_row as integer) as source_row,
    cast(rejection_reasons_text as varchar) as reasons
from {{ ref('stg_landing__' ~ sheet) }}
where is_current_delivery and not is_accepted
{{ 'union all' if not loop.last }}
{%- endfor %}
