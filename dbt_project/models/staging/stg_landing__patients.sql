-- Patients sheet rows as landed: lineage typed, every cell trimmed (null when blank).
-- Cells stay text: they are parsed with the site's settings in int_patients__typed.
select
    load_id,
    delivery_id,
    site_id,
    file_name,
    file_sha256,
    'patients' as sheet_kind,
    sheet_name,
    cast(source_row as integer) as source_row,
    cast(data_cut as date) as data_cut,
    patient_key,
    {{ trimmed_text('sex') }} as sex,
    {{ trimmed_text('birth_date') }} as birth_date,
    {{ trimmed_text('birth_year') }} as birth_year,
    {{ trimmed_text('age_at_implant') }} as age_at_implant,
    {{ trimmed_text('implant_date') }} as implant_date,
    {{ trimmed_text('implant_type') }} as implant_type,
    {{ trimmed_text('cancer_type') }} as cancer_type,
    {{ trimmed_text('drugs') }} as drugs,
    {{ trimmed_text('pain_location') }} as pain_location,
    {{ trimmed_text('pump_model') }} as pump_model,
    {{ trimmed_text('catheter_model') }} as catheter_model
from {{ source('landing', 'patients') }}
