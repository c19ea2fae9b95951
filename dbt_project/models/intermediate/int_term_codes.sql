-- The one place where a term gets its canonical code: one row per site, concept and term as
-- written (every term of int_term_occurrences), in this order of evidence:
--   override  the mappings folder names the term for the site (or for every site, `*`);
--   exact     the code list of the site's language knows the normalised term;
--   icd10     for cancer types, the ICD-10 category of a code such as `C34.1`;
--   words     the term's words name exactly one code (int_term_words);
--   unmapped  none of these: a term is never guessed (counted as not reported).
with terms as (
    select distinct site_id, site_language, concept, term
    from {{ ref('int_term_occurrences') }}
),

looked_up as (
    select
        t.site_id,
        t.site_language,
        t.concept,
        t.term,
        {{ normalise_term('t.term') }} as normalised_term,
        coalesce(site_override.code, all_override.code) as override_code,
        listed.code as listed_code,
        icd10.code as icd10_code,
        words.code as words_code
    from terms as t
    left join {{ ref('stg_landing__term_overrides') }} as site_override
        on site_override.site_id = t.site_id
       and site_override.concept = t.concept
       and site_override.normalised_term = {{ normalise_term('t.term') }}
    left join {{ ref('stg_landing__term_overrides') }} as all_override
        on all_override.site_id = '*'
       and all_override.concept = t.concept
       and all_override.normalised_term = {{ normalise_term('t.term') }}
    left join {{ ref('int_code_lists__by_language') }} as listed
        on listed.site_language = t.site_language
       and listed.concept = t.concept
       and listed.normalised_term = {{ normalise_term('t.term') }}
    left join {{ ref('icd10_cancer_prefixes') }} as icd10
        on t.concept = 'cancer_type'
       and icd10.icd10_prefix = regexp_extract(upper(t.term), '^(C\d{2})(\.?\d{0,2})?\b', 1)
    left join {{ ref('int_term_words') }} as words
        on words.concept = t.concept
       and words.term = t.term
)

select
    site_id,
    site_language,
    concept,
    term,
    normalised_term,
    coalesce(override_code, listed_code, icd10_code, words_code, 'unmapped') as code,
    case
        when override_code is not null then 'override'
        when listed_code is not null then 'exact'
        when icd10_code is not null then 'icd10'
        when words_code is not null then 'words'
        else 'unmapped'
    end as mapping_method
from looked_up
