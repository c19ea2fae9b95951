-- Every code list resolved per site language: for a site writing in language L a term
-- means the code listed for L, else for `any` (abbreviations, brand names), else for
-- English, else the code every other language agrees on. A term two other languages
-- read differently (`V`: varón / vrouw) is only understood in those languages.
{%- set code_lists = {
    'sex': 'map_sex', 'implant_type': 'map_implant_type', 'cancer_type': 'map_cancer_type',
    'drug': 'map_drug', 'pain_location': 'map_pain_location', 'visit_label': 'map_visit_label',
    'event_type': 'map_event_term', 'intervention': 'map_intervention',
    'exit_reason': 'map_exit_reason', 'yes_no': 'map_yes_no'} %}
with terms as (
    {%- for concept, seed in code_lists.items() %}
    select '{{ concept }}' as concept, cast(language as varchar) as language,
           {{ normalise_term('cast(term as varchar)') }} as normalised_term, cast(code as varchar) as code
    from {{ ref(seed) }}
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

site_languages as (
    select unnest(['en', 'es', 'pt', 'fr', 'de', 'it', 'nl']) as site_language
),

candidates as (
    select l.site_language, t.concept, t.normalised_term, t.code,
           case
               when t.language = l.site_language then 1
               when t.language = 'any' then 2
               when t.language = 'en' then 3
               else 4
           end as priority
    from site_languages as l
    cross join terms as t
),

agreed as (
    select *
    from candidates
    qualify priority < 4
         or min(code) over (partition by site_language, concept, normalised_term, priority)
          = max(code) over (partition by site_language, concept, normalised_term, priority)
)

select site_language, concept, normalised_term, code, priority
from agreed
qualify row_number() over (partition by site_language, concept, normalised_term order by priority, code) = 1
