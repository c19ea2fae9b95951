-- Term overrides of the mappings folder: site (or `*` for every site), concept, the local term
-- (normalised as the code lists are) and its canonical code.
select
    trim(site_id) as site_id,
    trim(concept) as concept,
    term,
    normalised_term,
    trim(code) as code,
    cast(source_line as integer) as source_line
from {{ source('landing', 'term_overrides') }}
