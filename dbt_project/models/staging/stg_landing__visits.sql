-- Visits sheet rows as landed: lineage typed, every cell trimmed (null when blank).
-- Cells stay text: they are parsed with the site's settings in int_visits__typed.
select
    load_id,
    delivery_id,
    site_id,
    file_name,
    file_sha256,
    'visits' as sheet_kind,
    sheet_name,
    cast(source_row as integer) as source_row,
    cast(data_cut as date) as data_cut,
    patient_key,
    {{ trimmed_text('visit_date') }} as visit_date,
    {{ trimmed_text('visit_label') }} as visit_label,
    {{ trimmed_text('pain_score') }} as pain_score,
    {{ trimmed_text('mobility') }} as mobility,
    {{ trimmed_text('self_care') }} as self_care,
    {{ trimmed_text('usual_activities') }} as usual_activities,
    {{ trimmed_text('pain_discomfort') }} as pain_discomfort,
    {{ trimmed_text('anxiety_depression') }} as anxiety_depression,
    {{ trimmed_text('eq5d_state') }} as eq5d_state,
    {{ trimmed_text('eq_vas') }} as eq_vas
from {{ source('landing', 'visits') }}
