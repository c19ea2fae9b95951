-- One row per day from the first January of the earliest registry date to the last day
-- of the year of the latest data cut (or date of a fact, if later).
with current_deliveries as (
    select delivery_id from {{ ref('int_deliveries__analysed') }}
),

patients as (
    select implant_date, data_cut
    from {{ ref('int_patients__validated') }}
    where is_accepted and delivery_id in (select delivery_id from current_deliveries)
),

bounds as (
    select min(d) as first_day, max(d) as last_day
    from (
        select implant_date as d from patients
        union all select data_cut from patients
        {%- for sheet, date_column in [('visits', 'visit_date'), ('events', 'onset_date'), ('exits', 'exit_date')] %}
        union all
        select {{ date_column }} from {{ ref('int_' ~ sheet ~ '__validated') }}
        where is_accepted and delivery_id in (select delivery_id from current_deliveries)
        {%- endfor %}
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
