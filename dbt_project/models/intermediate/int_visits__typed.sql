{{ config(materialized='view') }}
-- Visits sheet rows read with their site's settings: missing-value words nulled, the visit
-- date parsed in the site's date order, pain on 0 to 10 (`7`, `7,5`, `7/10`, `70 mm`; a
-- written unit or scale wins over the site's), EQ-5D levels and EQ VAS read.
{%- set dimensions = ['mobility', 'self_care', 'usual_activities', 'pain_discomfort', 'anxiety_depression'] %}
with cells as (
    select
        v.load_id, v.delivery_id, v.site_id, v.file_name, v.sheet_kind, v.sheet_name,
        v.source_row, v.data_cut, v.patient_key,
        s.language as site_language,
        s.date_order,
        s.pain_scale,
        s.eq5d_version,
        {{ nullif_missing('v.visit_date') }} as visit_date_text,
        {{ nullif_missing('v.visit_label') }} as visit_label_text,
        {{ nullif_missing('v.pain_score') }} as pain_score_text,
        {%- for dim in dimensions %}
        {{ nullif_missing('v.' ~ dim) }} as {{ dim }}_text,
        {%- endfor %}
        -- an Excel number cell holding the state may land as `21232.0`
        regexp_replace({{ nullif_missing('v.eq5d_state') }}, '\.0+$', '') as eq5d_state_text,
        {{ nullif_missing('v.eq_vas') }} as eq_vas_text
    from {{ ref('stg_landing__visits') }} as v
    left join {{ ref('stg_landing__site_master') }} as s on s.site_id = v.site_id
),

parsed as (
    select
        *,
        {{ parse_date('visit_date_text', 'date_order') }} as visit_date,
        {{ pain_written_value('pain_score_text') }} as pain_written,
        {{ pain_written_scale('pain_score_text', 'pain_scale') }} as pain_written_scale,
        case when eq5d_version = '5L' then 5 else 3 end as eq5d_max_level,
        coalesce(regexp_full_match(eq5d_state_text, '\d{5}'), false) as eq5d_state_is_digits,
        {%- for dim in dimensions %}
        -- a dimension column wins over the state digit when both are written
        case
            when {{ dim }}_text is not null then {{ parse_level(dim ~ '_text') }}
            when regexp_full_match(eq5d_state_text, '\d{5}') then cast(substr(eq5d_state_text, {{ loop.index }}, 1) as integer)
        end as {{ dim }}_level,
        {%- endfor %}
        {{ parse_number('eq_vas_text') }} as eq_vas
    from cells
)

select
    load_id, delivery_id, site_id, file_name, sheet_kind, sheet_name, source_row, data_cut, patient_key,
    site_language, date_order, pain_scale, eq5d_version,
    visit_date_text, visit_label_text, pain_score_text,
    {%- for dim in dimensions %} {{ dim }}_text,{% endfor %}
    eq5d_state_text, eq_vas_text,
    visit_date,
    pain_written,
    pain_written_scale,
    -- on 0 to 10 (VAS divided by 10); null when outside its written scale
    case when pain_written between 0 and pain_written_scale then round(pain_written / (pain_written_scale / 10), 2) end as pain_score,
    eq5d_max_level,
    eq5d_state_is_digits,
    {%- for dim in dimensions %} {{ dim }}_level,{% endfor %}
    eq_vas
from parsed
