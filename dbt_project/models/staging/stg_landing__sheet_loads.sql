-- One row per delivery and sheet read, as logged by the ingestion.
select
    delivery_id,
    sheet_kind,
    sheet_name,
    header_row,
    rows_read,
    data_rows,
    blank_rows,
    note_rows,
    mapped_columns,
    unknown_columns,
    identifier_columns_dropped
from {{ source('landing', 'sheet_loads') }}
