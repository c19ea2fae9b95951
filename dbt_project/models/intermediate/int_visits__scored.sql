{{ config(materialized='view') }}
-- EQ-5D of each visit row: the five levels, the state and the index from the seeded value
-- set (`1 - constant if any level > 1 - decrements - N3 if any level 3`, 3 decimals), only
-- when all five dimensions hold a level of the site's version.
{%- set dimensions = ['mobility', 'self_care', 'usual_activities', 'pain_discomfort', 'anxiety_depression'] %}
with valued as (
    select
        v.delivery_id,
        v.source_row,
        {%- for dim in dimensions %}
        v.{{ dim }}_level,
        {%- endfor %}
        {%- for dim in dimensions %}
        v.{{ dim }}_level between 1 and v.eq5d_max_level{{ ' and' if not loop.last }}
        {%- endfor %} as eq5d_complete,
        k.constant_if_any_problem,
        k.n3_if_any_level_3,
        {%- for dim in dimensions %}
        vs_{{ dim }}.decrement as {{ dim }}_decrement{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ ref('int_visits__typed') }} as v
    left join {{ ref('eq5d_value_set_constants') }} as k on k.eq5d_version = v.eq5d_version
    {%- for dim in dimensions %}
    left join {{ ref('eq5d_value_set') }} as vs_{{ dim }}
        on vs_{{ dim }}.eq5d_version = v.eq5d_version
       and vs_{{ dim }}.dimension = '{{ dim }}'
       and vs_{{ dim }}.level = v.{{ dim }}_level
    {%- endfor %}
)

select
    delivery_id,
    source_row,
    {%- for dim in dimensions %}
    case when eq5d_complete then {{ dim }}_level end as {{ dim }},
    {%- endfor %}
    case when eq5d_complete then
        {%- for dim in dimensions %} cast({{ dim }}_level as varchar){{ ' ||' if not loop.last }}{% endfor %}
    end as eq5d_state,
    case when eq5d_complete then round(
        1
        - case when greatest({{ dimensions | join('_level, ') }}_level) > 1 then constant_if_any_problem else 0 end
        - ({{ dimensions | join('_decrement + ') }}_decrement)
        - case when {{ dimensions | join('_level = 3 or ') }}_level = 3 then n3_if_any_level_3 else 0 end,
        3) end as eq5d_index
from valued
