{{ config(tags=['as_of_scoped']) }}
-- One row per accepted patient of a current delivery: implant, data cut, last contact
-- (latest of implant, visits, events and exit) and registry exit.
with current_deliveries as (
    select delivery_id from {{ ref('int_deliveries__analysed') }}
),

patients as (
    select p.patient_key, p.site_id, s.region, p.implant_date, p.data_cut
    from {{ ref('int_patients__validated') }} as p
    left join {{ ref('stg_landing__site_master') }} as s on s.site_id = p.site_id
    where p.is_accepted and p.delivery_id in (select delivery_id from current_deliveries)
),

last_visit as (
    select patient_key, max(visit_date) as last_visit_date
    from {{ ref('int_visits__validated') }}
    where is_accepted and delivery_id in (select delivery_id from current_deliveries)
    group by patient_key
),

last_event as (
    select patient_key, max(onset_date) as last_event_date
    from {{ ref('int_events__validated') }}
    where is_accepted and delivery_id in (select delivery_id from current_deliveries)
    group by patient_key
),

exits as (
    select patient_key, exit_date, exit_reason, exit_category
    from {{ ref('int_exits__validated') }}
    where is_accepted and delivery_id in (select delivery_id from current_deliveries)
)

select
    p.patient_key,
    p.site_id,
    p.region,
    p.implant_date,
    p.data_cut,
    lv.last_visit_date,
    le.last_event_date,
    x.exit_date,
    x.exit_reason,
    x.exit_category,
    greatest(p.implant_date, coalesce(lv.last_visit_date, p.implant_date),
             coalesce(le.last_event_date, p.implant_date), coalesce(x.exit_date, p.implant_date)) as last_contact_date
from patients as p
left join last_visit as lv using (patient_key)
left join last_event as le using (patient_key)
left join exits as x using (patient_key)
