-- Exits sheet rows as landed: lineage typed, every cell trimmed (null when blank).
-- Cells stay text: they are parsed with the site's settings in int_exits__typed.
select
    load_id,
    delivery_id,
    site_id,
    file_name,
    file_sha256,
    'exits' as sheet_kind,
    sheet_name,
    cast(source_row as integer) as source_row,
    cast(data_cut as date) as data_cut,
    patient_key,
    {{ trimmed_text('exit_date') }} as exit_date,
    {{ trimmed_text('exit_reason') }} as exit_reason
from {{ source('landing', 'exits') }}
