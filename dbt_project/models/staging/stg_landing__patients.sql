-- Patients sheet rows of every loaded delivery: typed, mapped to the canonical vocabulary
-- and validated row by row (each delivery on its own).
with source as (
    select
        {{ landing_lineage_columns('patients') }},
        {{ nullif_missing('src.sex') }} as sex_text,
        {{ nullif_missing('src.birth_date') }} as birth_date_text,
        {{ nullif_missing('src.birth_year') }} as birth_year_text,
        {{ nullif_missing('src.age_at_implant') }} as age_at_implant_text,
        {{ nullif_missing('src.implant_date') }} as implant_date_text,
        {{ nullif_missing('src.implant_type') }} as implant_type_text,
        {{ nullif_missing('src.cancer_type') }} as cancer_type_text,
        {{ nullif_missing('src.drugs') }} as drugs_text,
        {{ nullif_missing('src.pain_location') }} as pain_location_text,
        {{ nullif_missing('src.pump_model') }} as pump_model,
        {{ nullif_missing('src.catheter_model') }} as catheter_model
    from {{ source('landing', 'patients') }} as src
    {{ landing_lineage_joins() }}
),

parsed as (
    select
        *,
        {{ parse_date('birth_date_text', 'date_order') }} as birth_date,
        {{ parse_date('implant_date_text', 'date_order') }} as implant_date,
        cast({{ parse_number('birth_year_text') }} as integer) as birth_year_given,
        {{ parse_number('age_at_implant_text') }} as age_at_implant_given,
        regexp_extract(upper(cancer_type_text), '^(C\d{2})(\.?\d{0,2})?\b', 1) as icd10_category
    from source
),

drug_codes as ({{ map_term_list('source', 'drugs_text', 'drug', strip_doses=true) }}),

pain_location_codes as ({{ map_term_list('source', 'pain_location_text', 'pain_location') }}),

mapped as (
    select
        p.*,
        {{ mapped_code('p.sex_text', 'sex_map') }} as sex,
        {{ mapped_code('p.implant_type_text', 'implant_type_map') }} as implant_type,
        case
            when p.cancer_type_text is null then null
            else coalesce(cancer_map.code, icd10.code, 'unmapped')
        end as cancer_type,
        drug_codes.codes as drugs,
        drug_codes.unmapped_terms as drug_terms_unmapped,
        pain_location_codes.codes as pain_locations,
        pain_location_codes.unmapped_terms as pain_location_terms_unmapped
    from parsed as p
    {{ join_code_list('sex', 'p.sex_text', 'p.site_language', 'sex_map') }}
    {{ join_code_list('implant_type', 'p.implant_type_text', 'p.site_language', 'implant_type_map') }}
    {{ join_code_list('cancer_type', 'p.cancer_type_text', 'p.site_language', 'cancer_map') }}
    left join {{ ref('icd10_cancer_prefixes') }} as icd10 on icd10.icd10_prefix = p.icd10_category
    left join drug_codes using (delivery_id, source_row)
    left join pain_location_codes using (delivery_id, source_row)
),

derived as (
    select
        *,
        -- age at implant: as written, else whole years from the birth date, else from the birth year
        cast(coalesce(
            floor(age_at_implant_given),
            date_sub('year', birth_date, implant_date),
            year(implant_date) - birth_year_given
        ) as integer) as age_at_implant,
        coalesce(birth_year_given, year(birth_date), year(implant_date) - cast(floor(age_at_implant_given) as integer)) as birth_year,
        count(*) over (partition by delivery_id, patient_key) as n_rows_with_key
    from mapped
),

validated as (
    select
        *,
        {{ reason_list({
            'missing_patient_ref': 'patient_key is null',
            'duplicate_patient_ref': 'patient_key is not null and n_rows_with_key > 1',
            'missing_date': 'implant_date_text is null',
            'unparseable_date': '(implant_date_text is not null and implant_date is null) or (birth_date_text is not null and birth_date is null)',
            'date_after_data_cut': 'implant_date > data_cut or birth_date > data_cut',
        }) }} as rejection_reasons
    from derived
)

select
    load_id, delivery_id, site_id, file_name, sheet_kind, sheet_name, source_row, data_cut,
    patient_key, delivery_status, is_current_delivery, site_language, date_order, pain_scale,
    eq5d_version, region,
    sex_text, sex,
    birth_date, birth_year, age_at_implant,
    implant_date, implant_type_text, implant_type,
    cancer_type_text, cancer_type,
    drugs_text, drugs, drug_terms_unmapped,
    pain_location_text, pain_locations, pain_location_terms_unmapped,
    pump_model, catheter_model,
    rejection_reasons,
    array_to_string(rejection_reasons, ';') as rejection_reasons_text,
    len(rejection_reasons) = 0 as is_accepted
from validated
