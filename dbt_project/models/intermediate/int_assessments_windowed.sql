{{ config(tags=['as_of_scoped']) }}
-- Accepted visits of current deliveries placed in the analysis windows of the visit_windows
-- seed (windows do not overlap), with the one visit chosen per patient and window: the one
-- closest to the window's target day; ties go to the earlier visit, then the lower source row.
with visits as (
    select *
    from {{ ref('int_visits__validated') }}
    where is_accepted and delivery_id in (select delivery_id from {{ ref('int_deliveries__analysed') }})
),

windows as (
    select visit_window, target_day, min_day, max_day
    from {{ ref('visit_windows') }}
    where is_analysis_window
),

windowed as (
    select v.*, w.visit_window, w.target_day
    from visits as v
    left join windows as w on v.days_from_implant between w.min_day and w.max_day
)

select
    *,
    visit_window is not null and row_number() over (
        partition by patient_key, visit_window
        order by abs(days_from_implant - target_day), visit_date, source_row
    ) = 1 as is_window_choice
from windowed
