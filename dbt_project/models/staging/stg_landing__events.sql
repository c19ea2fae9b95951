-- Events sheet rows of every loaded delivery: onset date, event type (with its infection
-- flag), interventions (several per cell, with the surgical flag), seriousness, validity.
with source as (
    select
        {{ landing_lineage_columns('events') }},
        {{ nullif_missing('src.onset_date') }} as onset_date_text,
        {{ nullif_missing('src.event_term') }} as event_term_text,
        {{ nullif_missing('src.intervention') }} as intervention_text,
        {{ nullif_missing('src.serious') }} as serious_text
    from {{ source('landing', 'events') }} as src
    {{ landing_lineage_joins() }}
),

parsed as (
    select *, {{ parse_date('onset_date_text', 'date_order') }} as onset_date
    from source
),

intervention_codes as ({{ map_term_list('source', 'intervention_text', 'intervention') }}),

surgical as (
    select ic.delivery_id, ic.source_row, bool_or(coalesce(i.is_surgical, false)) as is_surgical
    from (select delivery_id, source_row, unnest(codes) as intervention from intervention_codes) as ic
    left join {{ ref('interventions') }} as i on i.intervention = ic.intervention
    group by ic.delivery_id, ic.source_row
),

patients as (
    select delivery_id, patient_key, implant_date
    from {{ ref('stg_landing__patients') }}
    where is_accepted
),

mapped as (
    select
        e.*,
        p.implant_date,
        e.onset_date - p.implant_date as days_from_implant,
        {{ mapped_code('e.event_term_text', 'event_map') }} as event_type,
        coalesce(et.is_infection, false) as is_infection,
        ic.codes as interventions,
        ic.unmapped_terms as intervention_terms_unmapped,
        coalesce(sg.is_surgical, false) as is_surgical,
        {{ mapped_code('e.serious_text', 'serious_map') }} as serious_code,
        p.patient_key as known_patient_key
    from parsed as e
    left join patients as p on p.delivery_id = e.delivery_id and p.patient_key = e.patient_key
    {{ join_code_list('event_type', 'e.event_term_text', 'e.site_language', 'event_map') }}
    left join {{ ref('event_types') }} as et on et.event_type = event_map.code
    left join intervention_codes as ic on ic.delivery_id = e.delivery_id and ic.source_row = e.source_row
    left join surgical as sg on sg.delivery_id = e.delivery_id and sg.source_row = e.source_row
    {{ join_code_list('yes_no', 'e.serious_text', 'e.site_language', 'serious_map') }}
),

validated as (
    select
        *,
        {{ reason_list({
            'missing_patient_ref': 'patient_key is null',
            'unknown_patient_ref': 'patient_key is not null and known_patient_key is null',
            'missing_date': 'onset_date_text is null',
            'unparseable_date': 'onset_date_text is not null and onset_date is null',
            'date_after_data_cut': 'onset_date > data_cut',
            'before_implant': 'onset_date < implant_date',
        }) }} as rejection_reasons
    from mapped
)

select
    load_id, delivery_id, site_id, file_name, sheet_kind, sheet_name, source_row, data_cut,
    patient_key, delivery_status, is_current_delivery, site_language, date_order, pain_scale,
    eq5d_version, region,
    onset_date, implant_date, days_from_implant,
    event_term_text, event_type, is_infection,
    intervention_text, interventions, intervention_terms_unmapped, is_surgical,
    serious_text,
    case serious_code when 'true' then true when 'false' then false end as is_serious,
    serious_code = 'unmapped' as serious_is_unmapped,
    rejection_reasons,
    array_to_string(rejection_reasons, ';') as rejection_reasons_text,
    len(rejection_reasons) = 0 as is_accepted
from validated
