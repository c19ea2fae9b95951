{{ config(materialized='view') }}
-- Events rows in the canonical vocabulary (int_cell_codes), with the flags the canonical
-- members carry: the event type's infection flag, whether any intervention is surgical.
with codes as (
    select
        delivery_id,
        source_row,
        any_value(code) filter (where concept = 'event_type') as event_type,
        any_value(codes) filter (where concept = 'intervention') as interventions,
        any_value(code) filter (where concept = 'yes_no') as serious
    from {{ ref('int_cell_codes') }}
    where sheet_kind = 'events'
    group by delivery_id, source_row
),

surgical_interventions as (
    select list(intervention) as interventions
    from {{ ref('interventions') }}
    where is_surgical
)

select
    e.delivery_id,
    e.source_row,
    c.event_type,
    coalesce(t.is_infection, false) as is_infection,
    c.interventions,
    coalesce(list_has_any(c.interventions, s.interventions), false) as is_surgical,
    -- null when missing or unmapped
    case c.serious when 'true' then true when 'false' then false end as is_serious
from {{ ref('int_events__typed') }} as e
left join codes as c on c.delivery_id = e.delivery_id and c.source_row = e.source_row
left join {{ ref('event_types') }} as t on t.event_type = c.event_type
cross join surgical_interventions as s
