-- Exits rows with their row-level validity, checked against the accepted patients of the
-- same delivery; at most one exit per patient (every copy of a second exit is rejected).
-- Nothing here reads another delivery or its status, so this model can become incremental
-- on (delivery_id, load_id).
with exits as (
    select *, count(*) over (partition by delivery_id, patient_key) as n_exits_with_key
    from {{ ref('int_exits__typed') }}
),

patients as (
    select delivery_id, patient_key, implant_date
    from {{ ref('int_patients__validated') }}
    where is_accepted
),

checked as (
    select
        x.*,
        c.exit_reason, c.exit_category,
        p.implant_date,
        x.exit_date - p.implant_date as days_from_implant,
        {{ reason_list({
            'missing_patient_ref': 'x.patient_key is null',
            'unknown_patient_ref': 'x.patient_key is not null and p.patient_key is null',
            'duplicate_exit': 'x.patient_key is not null and x.n_exits_with_key > 1',
            'missing_date': 'x.exit_date_text is null',
            'unparseable_date': 'x.exit_date_text is not null and x.exit_date is null',
            'date_after_data_cut': 'x.exit_date > x.data_cut',
            'before_implant': 'x.exit_date < p.implant_date',
        }) }} as rejection_reasons
    from exits as x
    left join {{ ref('int_exits__coded') }} as c on c.delivery_id = x.delivery_id and c.source_row = x.source_row
    left join patients as p on p.delivery_id = x.delivery_id and p.patient_key = x.patient_key
)

select
    load_id, delivery_id, site_id, file_name, sheet_kind, sheet_name, source_row, data_cut, patient_key,
    exit_date, implant_date, days_from_implant, exit_reason, exit_category,
    rejection_reasons,
    array_to_string(rejection_reasons, ';') as rejection_reasons_text,
    len(rejection_reasons) = 0 as is_accepted
from checked
