{# Custom schemas are used as-is (staging, intermediate, warehouse, dq, seeds): other pieces
   of the platform read these names directly. An as-of analysis (`--vars '{as_of: 2017-07-31}'`)
   builds the models tagged `as_of_scoped` (those that follow the analysed deliveries) into
   schemas of their own, `warehouse_as_of_20170731`, ..., beside the current ones. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- set base = custom_schema_name | trim if custom_schema_name is not none else target.schema -%}
    {%- set as_of = var('as_of', none) -%}
    {%- if as_of and 'as_of_scoped' in (node.tags or []) -%}
        {{ base }}_as_of_{{ as_of | string | replace('-', '') }}
    {%- else -%}
        {{ base }}
    {%- endif -%}
{%- endmacro %}
