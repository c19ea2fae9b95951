-- Odd but kept: warnings on accepted rows of the sites' current deliveries.
-- age_under_18 / age_over_100 (patients); visit_off_schedule: more than 60 days from every
-- target day of the visit_windows seed (visits labelled `unscheduled` are not flagged);
-- visit_label_mismatch: the label names a window of the seed whose day range does not hold
-- the visit day; unmapped_term: a term no code list knows (detail `concept: term`).
with current_deliveries as (
    select delivery_id from {{ ref('int_deliveries__analysed') }}
),

patients as (
    select * from {{ ref('int_patients__validated') }}
    where is_accepted and delivery_id in (select delivery_id from current_deliveries)
),

visits as (
    select * from {{ ref('int_visits__validated') }}
    where is_accepted and delivery_id in (select delivery_id from current_deliveries)
),

windows as (
    select * from {{ ref('visit_windows') }}
),

off_schedule as (
    select v.delivery_id, v.source_row
    from visits as v
    where v.days_from_implant is not null
      and coalesce(v.visit_label, '') <> 'unscheduled'
      and not exists (
          select 1 from windows as w where abs(v.days_from_implant - w.target_day) <= 60
      )
),

warnings as (
    select site_id, delivery_id, file_name, sheet_kind, sheet_name, source_row,
           'age_under_18' as warning, 'age_at_implant=' || age_at_implant as detail
    from patients where age_at_implant < 18
    union all
    select site_id, delivery_id, file_name, sheet_kind, sheet_name, source_row,
           'age_over_100', 'age_at_implant=' || age_at_implant
    from patients where age_at_implant > 100
    union all
    select v.site_id, v.delivery_id, v.file_name, v.sheet_kind, v.sheet_name, v.source_row,
           'visit_off_schedule', 'days_from_implant=' || v.days_from_implant
    from visits as v
    inner join off_schedule as o on o.delivery_id = v.delivery_id and o.source_row = v.source_row
    union all
    select v.site_id, v.delivery_id, v.file_name, v.sheet_kind, v.sheet_name, v.source_row,
           'visit_label_mismatch', 'visit_label=' || v.visit_label || '; days_from_implant=' || v.days_from_implant
    from visits as v
    inner join windows as w on w.visit_window = v.visit_label
    where v.days_from_implant not between w.min_day and w.max_day
    union all
    select site_id, delivery_id, file_name, sheet_kind, sheet_name, source_row,
           'unmapped_term', concept || ': ' || term
    from {{ ref('int_unmapped_term_rows') }}
    where is_accepted
)

select
    cast(site_id as varchar) as site_id,
    cast(delivery_id as varchar) as delivery_id,
    cast(file_name as varchar) as file_name,
    cast(sheet_kind as varchar) as sheet_kind,
    cast(sheet_name as varchar) as sheet_name,
    cast(source_row as integer) as source_row,
    cast(warning as varchar) as warning,
    cast(detail as varchar) as detail
from warnings
