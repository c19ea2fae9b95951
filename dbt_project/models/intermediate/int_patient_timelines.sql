-- One row per accepted patient of a current delivery: implant, data cut, last contact
-- (latest of implant, visits, events and exit) and registry exit.
with patients as (
    select patient_key, site_id, region, implant_date, data_cut
    from {{ ref('stg_landing__patients') }}
    where is_current_delivery and is_accepted
),

last_visit as (
    select patient_key, max(visit_date) as last_visit_date
    from {{ ref('stg_landing__visits') }}
    where is_current_delivery and is_accepted
    group by patient_key
),

last_event as (
    select patient_key, max(onset_date) as last_event_date
    from {{ ref('stg_landing__events') }}
    where is_current_delivery and is_accepted
    group by patient_key
),

exits as (
    select patient_key, exit_date, exit_reason, exit_category
    from {{ ref('stg_landing__exits') }}
    where is_current_delivery and is_accepted
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
