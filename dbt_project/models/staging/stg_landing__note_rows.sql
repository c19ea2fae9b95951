-- Note and total rows found under the data (kept for the load report, never analysed).
select
    delivery_id,
    sheet_name,
    cast(source_row as integer) as source_row,
    text
from {{ source('landing', 'note_rows') }}
