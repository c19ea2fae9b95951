{# The lineage columns every staged landing row carries, plus the delivery's status and
   the site's settings (from the site master, joined on site_id). Expects the landing
   table aliased `src`, deliveries `d` and sites `s`. #}
{% macro landing_lineage_columns(sheet_kind) -%}
    src.load_id,
    src.delivery_id,
    src.site_id,
    src.file_name,
    '{{ sheet_kind }}' as sheet_kind,
    src.sheet_name,
    cast(src.source_row as integer) as source_row,
    cast(src.data_cut as date) as data_cut,
    src.patient_key,
    d.status as delivery_status,
    coalesce(d.is_current, false) as is_current_delivery,
    s.language as site_language,
    s.date_order,
    s.pain_scale,
    s.eq5d_version,
    s.region
{%- endmacro %}

{% macro landing_lineage_joins() -%}
left join {{ ref('stg_landing__deliveries') }} as d on d.delivery_id = src.delivery_id
left join {{ ref('stg_landing__sites') }} as s on s.site_id = src.site_id
{%- endmacro %}

{# Sorted list of the reason codes whose condition holds (an empty list for a valid row). #}
{% macro reason_list(conditions) -%}
list_sort(list_filter([
    {%- for code, condition in conditions.items() %}
    case when {{ condition }} then '{{ code }}' end{{ ',' if not loop.last }}
    {%- endfor %}
], lambda r: r is not null))
{%- endmacro %}
