{# Sorted list of the reason codes whose condition holds (an empty list for a valid row).
   `conditions` maps each reason code to a SQL condition. #}
{% macro reason_list(conditions) -%}
list_sort(list_filter([
    {%- for code, condition in conditions.items() %}
    case when {{ condition }} then '{{ code }}' end{{ ',' if not loop.last }}
    {%- endfor %}
], lambda r: r is not null))
{%- endmacro %}
