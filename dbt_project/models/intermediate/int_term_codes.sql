-- The one place where a term gets its canonical code: one row per site language, concept
-- and term as written (every term of int_term_occurrences). The code list's entry for the
-- normalised term (`exact`), else, for cancer types, the ICD-10 category of a code such as
-- `C34.1` read from the term as written (`icd10`), else `unmapped`: a term is never guessed.
with terms as (
    select distinct site_language, concept, term
    from {{ ref('int_term_occurrences') }}
),

looked_up as (
    select
        t.site_language,
        t.concept,
        t.term,
        {{ normalise_term('t.term') }} as normalised_term,
        listed.code as listed_code,
        icd10.code as icd10_code
    from terms as t
    left join {{ ref('int_code_lists__by_language') }} as listed
        on listed.site_language = t.site_language
       and listed.concept = t.concept
       and listed.normalised_term = {{ normalise_term('t.term') }}
    left join {{ ref('icd10_cancer_prefixes') }} as icd10
        on t.concept = 'cancer_type'
       and icd10.icd10_prefix = regexp_extract(upper(t.term), '^(C\d{2})(\.?\d{0,2})?\b', 1)
)

select
    site_language,
    concept,
    term,
    normalised_term,
    coalesce(listed_code, icd10_code, 'unmapped') as code,
    case
        when listed_code is not null then 'exact'
        when icd10_code is not null then 'icd10'
        else 'unmapped'
    end as mapping_method
from looked_up
