-- Events sheet rows as landed: lineage typed, every cell trimmed (null when blank).
-- Cells stay text: they are parsed with the site's settings in int_events__typed.
select
    load_id,
    delivery_id,
    site_id,
    file_name,
    file_sha256,
    'events' as sheet_kind,
    sheet_name,
    cast(source_row as integer) as source_row,
    cast(data_cut as date) as data_cut,
    patient_key,
    {{ trimmed_text('onset_date') }} as onset_date,
    {{ trimmed_text('event_term') }} as event_term,
    {{ trimmed_text('intervention') }} as intervention,
    {{ trimmed_text('serious') }} as serious
from {{ source('landing', 'events') }}
