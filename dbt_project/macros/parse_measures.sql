{# Pain cell pattern: a number (decimal comma or point), optionally followed by a unit
   (`mm` or `cm` of a 100 mm line) or by the written scale (`/10`, `/100`). #}
{% macro pain_pattern() -%}'^(\d+(?:[.,]\d+)?)\s*(?:(mm|cm)|/\s*(10|100))?$'{%- endmacro %}

{# The scale (10 or 100) a pain cell is written on: its own unit or written scale
   when it has one, else the site's pain_scale. #}
{% macro pain_written_scale(expr, site_pain_scale) -%}
case
    when regexp_extract(lower({{ expr }}), {{ pain_pattern() }}, 2) = 'mm' then 100
    when regexp_extract(lower({{ expr }}), {{ pain_pattern() }}, 2) = 'cm' then 10
    when regexp_extract(lower({{ expr }}), {{ pain_pattern() }}, 3) <> '' then cast(regexp_extract(lower({{ expr }}), {{ pain_pattern() }}, 3) as integer)
    when {{ site_pain_scale }} = 'VAS100' then 100
    else 10
end
{%- endmacro %}

{# The number written in a pain cell, on its written scale; null when the cell does not follow the pattern. #}
{% macro pain_written_value(expr) -%}
case when regexp_full_match(lower({{ expr }}), {{ pain_pattern() }})
     then {{ parse_number("regexp_extract(lower(" ~ expr ~ "), " ~ pain_pattern() ~ ", 1)") }} end
{%- endmacro %}

{# An EQ-5D level: a whole number (as text, `2` or `2.0`), else null. #}
{% macro parse_level(expr) -%}
case when {{ parse_number(expr) }} = floor({{ parse_number(expr) }}) then cast({{ parse_number(expr) }} as integer) end
{%- endmacro %}
