-- Visits sheet rows of every loaded delivery: dates by the site's date order, pain on
-- 0 to 10, EQ-5D levels from the dimension columns or the five-digit state, the EQ-5D
-- index from the seeded value set, and row validity against the same delivery's patients.
{%- set dimensions = ['mobility', 'self_care', 'usual_activities', 'pain_discomfort', 'anxiety_depression'] %}
{%- set eq5d_checks = [] %}
{%- for dim in dimensions %}
{%- do eq5d_checks.append('(v.' ~ dim ~ '_text is not null or v.eq5d_state_is_digits) and coalesce(v.' ~ dim ~ '_level not between 1 and v.eq5d_max_level, true)') %}
{%- endfor %}
with source as (
    select
        {{ landing_lineage_columns('visits') }},
        {{ nullif_missing('src.visit_date') }} as visit_date_text,
        {{ nullif_missing('src.visit_label') }} as visit_label_text,
        {{ nullif_missing('src.pain_score') }} as pain_score_text,
        {%- for dim in dimensions %}
        {{ nullif_missing('src.' ~ dim) }} as {{ dim }}_text,
        {%- endfor %}
        -- an Excel number cell holding the state may land as `21232.0`
        regexp_replace({{ nullif_missing('src.eq5d_state') }}, '\.0+$', '') as eq5d_state_text,
        {{ nullif_missing('src.eq_vas') }} as eq_vas_text
    from {{ source('landing', 'visits') }} as src
    {{ landing_lineage_joins() }}
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
    from source
),

patients as (
    select delivery_id, patient_key, implant_date
    from {{ ref('stg_landing__patients') }}
    where is_accepted
),

checked as (
    select
        v.*,
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
    from parsed as v
    left join patients as p
        on p.delivery_id = v.delivery_id and p.patient_key = v.patient_key
),

scored as (
    select
        c.*,
        -- levels and index only when all five dimensions hold a level of the site's version
        {%- for dim in dimensions %}
        {{ dim }}_level between 1 and eq5d_max_level{{ ' and' if not loop.last }}
        {%- endfor %} as eq5d_complete,
        k.constant_if_any_problem,
        k.n3_if_any_level_3,
        {%- for dim in dimensions %}
        vs_{{ dim }}.decrement as {{ dim }}_decrement{{ ',' if not loop.last }}
        {%- endfor %}
    from checked as c
    left join {{ ref('eq5d_value_set_constants') }} as k on k.eq5d_version = c.eq5d_version
    {%- for dim in dimensions %}
    left join {{ ref('eq5d_value_set') }} as vs_{{ dim }}
        on vs_{{ dim }}.eq5d_version = c.eq5d_version
       and vs_{{ dim }}.dimension = '{{ dim }}'
       and vs_{{ dim }}.level = c.{{ dim }}_level
    {%- endfor %}
),

labelled as (
    select s.*, {{ mapped_code('s.visit_label_text', 'label_map') }} as visit_label
    from scored as s
    {{ join_code_list('visit_label', 's.visit_label_text', 's.site_language', 'label_map') }}
)

select
    load_id, delivery_id, site_id, file_name, sheet_kind, sheet_name, source_row, data_cut,
    patient_key, delivery_status, is_current_delivery, site_language, date_order, pain_scale,
    eq5d_version, region,
    visit_date,
    implant_date,
    days_from_implant,
    visit_label_text,
    visit_label,
    pain_score_text,
    pain_written_scale,
    case when pain_written between 0 and pain_written_scale then round(pain_written / (pain_written_scale / 10), 2) end as pain_score,
    {%- for dim in dimensions %}
    case when eq5d_complete then {{ dim }}_level end as {{ dim }},
    {%- endfor %}
    case when eq5d_complete then
        {%- for dim in dimensions %} cast({{ dim }}_level as varchar){{ ' ||' if not loop.last }}{% endfor %}
    end as eq5d_state,
    case when eq5d_complete then round(
        1
        - case when greatest({{ dimensions | map('string') | join('_level, ') }}_level) > 1 then constant_if_any_problem else 0 end
        - ({{ dimensions | join('_decrement + ') }}_decrement)
        - case when {{ dimensions | join('_level = 3 or ') }}_level = 3 then n3_if_any_level_3 else 0 end,
        3) end as eq5d_index,
    eq_vas,
    rejection_reasons,
    array_to_string(rejection_reasons, ';') as rejection_reasons_text,
    len(rejection_reasons) = 0 as is_accepted
from labelled
