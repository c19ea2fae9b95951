-- The visit windows, defined once in the visit_windows seed.
select
    cast(visit_window as varchar) as visit_window,
    cast(window_order as integer) as window_order,
    cast(target_day as integer) as target_day,
    cast(min_day as integer) as min_day,
    cast(max_day as integer) as max_day,
    cast(is_analysis_window as boolean) as is_analysis_window,
    cast(description as varchar) as description
from {{ ref('visit_windows') }}
