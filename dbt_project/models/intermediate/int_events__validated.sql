-- Events rows with their row-level validity, checked against the accepted patients of the
-- same delivery (an event of a rejected patient row is unknown_patient_ref). Nothing here
-- reads another delivery or its status, so this model can become incremental on
-- (delivery_id, load_id).
with patients as (
    select delivery_id, patient_key, implant_date
    from {{ ref('int_patients__validated') }}
    where is_accepted
),

checked as (
    select
        e.*,
        c.event_type, c.is_infection, c.interventions, c.is_surgical, c.is_serious,
        p.implant_date,
        e.onset_date - p.implant_date as days_from_implant,
        {{ reason_list({
            'missing_patient_ref': 'e.patient_key is null',
            'unknown_patient_ref': 'e.patient_key is not null and p.patient_key is null',
            'missing_date': 'e.onset_date_text is null',
            'unparseable_date': 'e.onset_date_text is not null and e.onset_date is null',
            'date_after_data_cut': 'e.onset_date > e.data_cut',
            'before_implant': 'e.onset_date < p.implant_date',
        }) }} as rejection_reasons
    from {{ ref('int_events__typed') }} as e
    left join {{ ref('int_events__coded') }} as c on c.delivery_id = e.delivery_id and c.source_row = e.source_row
    left join patients as p on p.delivery_id = e.delivery_id and p.patient_key = e.patient_key
)

select
    load_id, delivery_id, site_id, file_name, sheet_kind, sheet_name, source_row, data_cut, patient_key,
    onset_date, implant_date, days_from_implant,
    event_type, is_infection, interventions, is_surgical, is_serious,
    rejection_reasons,
    array_to_string(rejection_reasons, ';') as rejection_reasons_text,
    len(rejection_reasons) = 0 as is_accepted
from checked
