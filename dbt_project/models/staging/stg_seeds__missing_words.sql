-- The contract's missing-value words, normalised the way cells are compared.
select distinct {{ normalise_term('cast(word as varchar)') }} as normalised_word
from {{ ref('missing_words') }}
