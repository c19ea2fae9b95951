{{ config(materialized='view') }}
-- Patients sheet rows read with their site's settings: missing-value words nulled, dates
-- parsed in the site's date order, numbers read, age at implant and birth year derived.
with cells as (
    select
        p.load_id, p.delivery_id, p.site_id, p.file_name, p.sheet_kind, p.sheet_name,
        p.source_row, p.data_cut, p.patient_key,
        s.language as site_language,
        s.date_order,
        {{ nullif_missing('p.sex') }} as sex_text,
        {{ nullif_missing('p.birth_date') }} as birth_date_text,
        {{ nullif_missing('p.birth_year') }} as birth_year_text,
        {{ nullif_missing('p.age_at_implant') }} as age_at_implant_text,
        {{ nullif_missing('p.implant_date') }} as implant_date_text,
        {{ nullif_missing('p.implant_type') }} as implant_type_text,
        {{ nullif_missing('p.cancer_type') }} as cancer_type_text,
        {{ nullif_missing('p.drugs') }} as drugs_text,
        {{ nullif_missing('p.pain_location') }} as pain_location_text,
        {{ nullif_missing('p.pump_model') }} as pump_model,
        {{ nullif_missing('p.catheter_model') }} as catheter_model
    from {{ ref('stg_landing__patients') }} as p
    left join {{ ref('stg_landing__site_master') }} as s on s.site_id = p.site_id
),

parsed as (
    select
        *,
        {{ parse_date('birth_date_text', 'date_order') }} as birth_date,
        {{ parse_date('implant_date_text', 'date_order') }} as implant_date,
        cast({{ parse_number('birth_year_text') }} as integer) as birth_year_given,
        {{ parse_number('age_at_implant_text') }} as age_at_implant_given
    from cells
)

select
    load_id, delivery_id, site_id, file_name, sheet_kind, sheet_name, source_row, data_cut, patient_key,
    site_language, date_order,
    sex_text, birth_date_text, implant_date_text, implant_type_text, cancer_type_text,
    drugs_text, pain_location_text,
    birth_date,
    implant_date,
    -- as written, else whole years from the birth date, else from the birth year
    cast(coalesce(
        floor(age_at_implant_given),
        date_sub('year', birth_date, implant_date),
        year(implant_date) - birth_year_given
    ) as integer) as age_at_implant,
    coalesce(birth_year_given, year(birth_date), year(implant_date) - cast(floor(age_at_implant_given) as integer)) as birth_year,
    pump_model,
    catheter_model
from parsed
