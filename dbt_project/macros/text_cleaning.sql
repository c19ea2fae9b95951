{# Normalised form of a free-text term, used on both sides of every code-list join:
   lower case, accents stripped, German sharp s spelt out, non-breaking spaces as
   spaces, runs of white space collapsed, trimmed. #}
{% macro normalise_term(expr) -%}
lower(trim(regexp_replace(strip_accents(replace(replace(replace({{ expr }}, chr(160), ' '), 'ß', 'ss'), 'ẞ', 'ss')), '\s+', ' ', 'g')))
{%- endmacro %}

{# The cell as text, or null when it is blank or one of the contract's missing-value
   words (seed missing_words, compared on the normalised form). #}
{% macro nullif_missing(expr) -%}
case
    when {{ expr }} is null or trim(replace({{ expr }}, chr(160), ' ')) = '' then null
    when {{ normalise_term(expr) }} in (select normalised_word from {{ ref('stg_seeds__missing_words') }}) then null
    else trim(replace({{ expr }}, chr(160), ' '))
end
{%- endmacro %}

{# A number written with a decimal comma or point (spaces allowed), else null. #}
{% macro parse_number(expr) -%}
try_cast(replace(replace({{ expr }}, ' ', ''), ',', '.') as double)
{%- endmacro %}
