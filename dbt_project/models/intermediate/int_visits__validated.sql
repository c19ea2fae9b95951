-- Visits rows with their row-level validity, checked against the accepted patients of the
-- same delivery (a visit of a rejected patient row is unknown_patient_ref). Nothing here
-- reads another delivery or its status, so this model can become incremental on
-- (delivery_id, load_id).
{%- set dimensions = ['mobility', 'self_care', 'usual_activities', 'pain_discomfort', 'anxiety_depression'] %}
{%- set eq5d_checks = [] %}
{%- for dim in dimensions %}
{%- do eq5d_checks.append('(v.' ~ dim ~ '_text is not null or v.eq5d_state_is_digits) and coalesce(v.' ~ dim ~ '_level not between 1 and v.eq5d_max_level, true)') %}
{%- endfor %}
with patients as (
    select delivery_id, patient_key, implant_date
    from {{ ref('int_patients__validated') }}
    where is_accepted
),

checked as (
    select
        v.*,
        c.visit_label,
        {%- for dim in dimensions %}
        s.{{ dim }},
        {%- endfor %}
        s.eq5d_state,
        s.eq5d_index,
        p.implant_date,
        v.visit_date - p.implant_date as days_from_implant,
        {{ reason_list({
            'missing_patient_ref': 'v.patient_key is null',
            'unknown_patient_ref': 'v.patient_key is not null and p.patient_key is null',
            'missing_date': 'v.visit_date_text is null',
            'unparseable_date': 'v.visit_date_text is not null and v.visit_date is null',
            'date_after_data_cut': 'v.visit_date > v.data_cut',
            'pain_out_of_range': 'v.pain_score_text is not null and coalesce(v.pain_written not between 0 and v.pain_written_scale, true)',
            'eq5d_level_out_of_range': '(v.eq5d_state_text is not null and not v.eq5d_state_is_digits) or ' ~ eq5d_checks | join(' or '),
            'eq_vas_out_of_range': 'v.eq_vas_text is not null and coalesce(v.eq_vas not between 0 and 100, true)',
        }) }} as rejection_reasons
    from {{ ref('int_visits__typed') }} as v
    left join {{ ref('int_visits__coded') }} as c on c.delivery_id = v.delivery_id and c.source_row = v.source_row
    left join {{ ref('int_visits__scored') }} as s on s.delivery_id = v.delivery_id and s.source_row = v.source_row
    left join patients as p on p.delivery_id = v.delivery_id and p.patient_key = v.patient_key
)

select
    load_id, delivery_id, site_id, file_name, sheet_kind, sheet_name, source_row, data_cut, patient_key,
    eq5d_version,
    visit_date, implant_date, days_from_implant, visit_label, pain_score,
    {%- for dim in dimensions %} {{ dim }},{% endfor %}
    eq5d_state, eq5d_index, eq_vas,
    rejection_reasons,
    array_to_string(rejection_reasons, ';') as rejection_reasons_text,
    len(rejection_reasons) = 0 as is_accepted
from checked
