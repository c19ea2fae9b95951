{# Normalised form of a free-text term, used on both sides of every code-list match:
   lower case, accents stripped, German sharp s spelt out, non-breaking spaces as
   spaces, runs of white space collapsed, trimmed. #}
{% macro normalise_term(expr) -%}
lower(trim(regexp_replace(strip_accents(replace(replace(replace({{ expr }}, chr(160), ' '), 'ß', 'ss'), 'ẞ', 'ss')), '\s+', ' ', 'g')))
{%- endmacro %}

{# A landing cell trimmed (a non-breaking space counts as a space); null when blank. #}
{% macro trimmed_text(expr) -%}
nullif(trim(replace({{ expr }}, chr(160), ' ')), '')
{%- endmacro %}

{# A trimmed cell, or null when it is one of the contract's missing-value words (seed
   missing_words, compared on the normalised form). #}
{% macro nullif_missing(expr) -%}
case
    when {{ normalise_term(expr) }} in (select {{ normalise_term('cast(word as varchar)') }} from {{ ref('missing_words') }}) then null
    else {{ expr }}
end
{%- endmacro %}

{# A number written with a decimal comma or point (spaces allowed), else null. #}
{% macro parse_number(expr) -%}
try_cast(replace(replace({{ expr }}, ' ', ''), ',', '.') as double)
{%- endmacro %}
