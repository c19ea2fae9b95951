{# Custom schemas are used as-is (staging, intermediate, warehouse, dq, seeds):
   other pieces of the platform read these names directly. #}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
