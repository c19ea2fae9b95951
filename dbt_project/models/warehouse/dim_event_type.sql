-- Canonical event types with the infection flag, plus the `unmapped` member (not an infection).
select cast(event_type as varchar) as event_type, cast(event_type_label as varchar) as event_type_label,
       cast(is_infection as boolean) as is_infection
from {{ ref('event_types') }}
union all
select 'unmapped', 'unmapped', false
