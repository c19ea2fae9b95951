-- Patients rows with their row-level validity: rejection reasons (sorted) and is_accepted.
-- Each delivery is validated on its own (a duplicate is a second row of the same patient in
-- the same delivery) and nothing here reads another delivery or its status, so this model
-- can become incremental on (delivery_id, load_id).
with patients as (
    select
        p.*,
        c.sex, c.implant_type, c.cancer_type, c.drugs, c.pain_locations,
        count(*) over (partition by p.delivery_id, p.patient_key) as n_rows_with_key
    from {{ ref('int_patients__typed') }} as p
    left join {{ ref('int_patients__coded') }} as c on c.delivery_id = p.delivery_id and c.source_row = p.source_row
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
    from patients
)

select
    load_id, delivery_id, site_id, file_name, sheet_kind, sheet_name, source_row, data_cut, patient_key,
    sex, birth_date, birth_year, age_at_implant, implant_date, implant_type, cancer_type,
    drugs, pain_locations, pump_model, catheter_model,
    rejection_reasons,
    array_to_string(rejection_reasons, ';') as rejection_reasons_text,
    len(rejection_reasons) = 0 as is_accepted
from validated
