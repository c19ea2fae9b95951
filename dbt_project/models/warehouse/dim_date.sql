-- One row per day from the first January of the earliest registry date to the last day
-- of the year of the latest data cut (or date of a fact, if later).
with bounds as (
    select min(d) as first_day, max(d) as last_day
    from (
        select implant_date as d from {{ ref('stg_landing__patients') }} where is_current_delivery and is_accepted
        union all select data_cut from {{ ref('stg_landing__patients') }} where is_current_delivery and is_accepted
        union all select visit_date from {{ ref('stg_landing__visits') }} where is_current_delivery and is_accepted
        union all select onset_date from {{ ref('stg_landing__events') }} where is_current_delivery and is_accepted
        union all select exit_date from {{ ref('stg_landing__exits') }} where is_current_delivery and is_accepted
    )
),

days as (
    select cast(unnest(generate_series(
        cast(date_trunc('year', coalesce(first_day, date '2000-01-01')) as timestamp),
        cast(date_trunc('year', coalesce(last_day, date '2000-01-01')) + interval 1 year - interval 1 day as timestamp),
        interval 1 day)) as date) as date_day
    from bounds
)

select
    date_day,
    cast(year(date_day) as integer) as year,
    cast(quarter(date_day) as integer) as quarter,
    cast(month(date_day) as integer) as month,
    cast(day(date_day) as integer) as day_of_month,
    cast(weekofyear(date_day) as integer) as iso_week,
    cast(isodow(date_day) as integer) as day_of_week
from days
