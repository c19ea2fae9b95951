-- One row per delivery ever seen (any status): rows received (landing rows of the four
-- sheets), accepted and rejected by the row-level rules; and one row per file of the inbox
-- outside every site folder (rejected or ignored, no rows). The analysed delivery of each
-- site is `current` (for an as-of analysis, the one of that date; later files are left out).
{%- set as_of = var('as_of', none) %}
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
    cast(case
        when d.delivery_id in (select delivery_id from {{ ref('int_deliveries__analysed') }}) then 'current'
        when d.status = 'current' then 'superseded'
        else d.status
    end as varchar) as status,
    cast(d.reason as varchar) as reason,
    cast(coalesce(c.rows_received, 0) as integer) as rows_received,
    cast(coalesce(c.rows_accepted, 0) as integer) as rows_accepted,
    cast(coalesce(c.rows_rejected, 0) as integer) as rows_rejected
from {{ ref('stg_landing__deliveries') }} as d
left join counts as c on c.delivery_id = d.delivery_id
{%- if as_of %}
where d.data_cut <= cast('{{ as_of }}' as date)
{%- else %}
union all
select
    cast(site_folder as varchar),
    cast(substr(sha256(file_path), 1, 16) as varchar),
    cast(file_name as varchar),
    -- a file's data cut is the first ISO date of its name, as for deliveries
    coalesce(
        try_cast(regexp_extract(file_name, '(\d{4}-\d{2}-\d{2})', 1) as date),
        try_strptime(regexp_extract(file_name, '(\d{8})', 1), '%Y%m%d')::date
    ),
    cast(status as varchar),
    cast(reason as varchar),
    0, 0, 0
from {{ ref('stg_landing__inbox_strays') }}
{%- endif %}
