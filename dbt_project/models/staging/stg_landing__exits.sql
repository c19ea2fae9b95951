-- Exits sheet rows of every loaded delivery: exit date, reason and the paper's exit
-- category; at most one exit per patient (every copy of a second exit is rejected).
with source as (
    select
        {{ landing_lineage_columns('exits') }},
        {{ nullif_missing('src.exit_date') }} as exit_date_text,
        {{ nullif_missing('src.exit_reason') }} as exit_reason_text
    from {{ source('landing', 'exits') }} as src
    {{ landing_lineage_joins() }}
),

parsed as (
    select
        *,
        {{ parse_date('exit_date_text', 'date_order') }} as exit_date,
        count(*) over (partition by delivery_id, patient_key) as n_exits_with_key
    from source
),

patients as (
    select delivery_id, patient_key, implant_date
    from {{ ref('stg_landing__patients') }}
    where is_accepted
),

mapped as (
    select
        x.*,
        p.implant_date,
        x.exit_date - p.implant_date as days_from_implant,
        {{ mapped_code('x.exit_reason_text', 'reason_map') }} as exit_reason,
        r.exit_category,
        p.patient_key as known_patient_key
    from parsed as x
    left join patients as p on p.delivery_id = x.delivery_id and p.patient_key = x.patient_key
    {{ join_code_list('exit_reason', 'x.exit_reason_text', 'x.site_language', 'reason_map') }}
    left join {{ ref('exit_reasons') }} as r on r.exit_reason = reason_map.code
),

validated as (
    select
        *,
        {{ reason_list({
            'missing_patient_ref': 'patient_key is null',
            'unknown_patient_ref': 'patient_key is not null and known_patient_key is null',
            'duplicate_exit': 'patient_key is not null and n_exits_with_key > 1',
            'missing_date': 'exit_date_text is null',
            'unparseable_date': 'exit_date_text is not null and exit_date is null',
            'date_after_data_cut': 'exit_date > data_cut',
            'before_implant': 'exit_date < implant_date',
        }) }} as rejection_reasons
    from mapped
)

select
    load_id, delivery_id, site_id, file_name, sheet_kind, sheet_name, source_row, data_cut,
    patient_key, delivery_status, is_current_delivery, site_language, date_order, pain_scale,
    eq5d_version, region,
    exit_date, implant_date, days_from_implant,
    exit_reason_text, exit_reason,
    -- an unmapped reason is not guessed into a category either
    case when exit_reason = 'unmapped' then 'unmapped' else exit_category end as exit_category,
    rejection_reasons,
    array_to_string(rejection_reasons, ';') as rejection_reasons_text,
    len(rejection_reasons) = 0 as is_accepted
from validated
