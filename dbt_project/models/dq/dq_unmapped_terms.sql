-- Terms no code list knows, by site and concept, with the number of rows (current
-- deliveries, accepted or not) that carry them. Should be empty: a warning-level test says so.
select
    cast(site_id as varchar) as site_id,
    cast(concept as varchar) as concept,
    cast(term as varchar) as term,
    cast(count(*) as integer) as n_rows
from {{ ref('int_unmapped_term_rows') }}
group by site_id, concept, term
