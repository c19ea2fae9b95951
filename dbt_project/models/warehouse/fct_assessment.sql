-- One row per accepted visit (assessment) of a current delivery: pain on 0 to 10, EQ-5D
-- levels and index, EQ VAS, days from implant, analysis window and the window choice.
select
    cast(substr(md5(delivery_id || '|visits|' || cast(source_row as varchar)), 1, 16) as varchar) as assessment_id,
    cast(patient_key as varchar) as patient_key,
    cast(site_id as varchar) as site_id,
    cast(visit_date as date) as visit_date,
    cast(days_from_implant as integer) as days_from_implant,
    cast(visit_label as varchar) as visit_label,
    cast(visit_window as varchar) as visit_window,
    cast(is_window_choice as boolean) as is_window_choice,
    cast(pain_score as double) as pain_score,
    cast(mobility as integer) as mobility,
    cast(self_care as integer) as self_care,
    cast(usual_activities as integer) as usual_activities,
    cast(pain_discomfort as integer) as pain_discomfort,
    cast(anxiety_depression as integer) as anxiety_depression,
    cast(eq5d_version as varchar) as eq5d_version,
    cast(eq5d_state as varchar) as eq5d_state,
    cast(eq5d_index as double) as eq5d_index,
    cast(eq_vas as double) as eq_vas
from {{ ref('int_assessments_windowed') }}
