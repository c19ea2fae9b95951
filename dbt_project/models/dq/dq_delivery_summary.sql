-- One row per delivery ever seen (any status): rows received (landing rows of the four
-- sheets), accepted and rejected by the row-level rules.
with sheet_rows as (
    {%- for sheet in ['patients', 'visits', 'events', 'exits'] %}
    select delivery_id, is_accepted from {{ ref('int_' ~ sheet ~ '__validated') }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

counts as (
    select
        delivery_id,
        count(*) as rows_received,
        count(*) filter (where is_accepted) as rows_accepted,
        count(*) filter (where not is_accepted) as rows_rejected
    from sheet_rows
    group by delivery_id
)

select
    cast(d.site_id as varchar) as site_id,
    cast(d.delivery_id as varchar) as delivery_id,
    cast(d.file_name as varchar) as file_name,
    cast(d.data_cut as date) as data_cut,
    cast(d.status as varchar) as status,
    cast(d.reason as varchar) as reason,
    cast(coalesce(c.rows_received, 0) as integer) as rows_received,
    cast(coalesce(c.rows_accepted, 0) as integer) as rows_accepted,
    cast(coalesce(c.rows_rejected, 0) as integer) as rows_rejected
from {{ ref('stg_landing__deliveries') }} as d
left join counts as c on c.delivery_id = d.delivery_id
