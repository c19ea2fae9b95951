-- One row per file seen in the inbox; the file-level reason code is split from its message.
select
    delivery_id,
    site_id,
    file_path,
    file_name,
    file_sha256,
    size_bytes,
    cast(data_cut as date) as data_cut,
    data_cut_source,
    arrived_at,
    modified_at,
    status,
    reason,
    nullif(split_part(reason, ':', 1), '') as reason_code,
    load_id,
    sheets,
    ignored_sheets
from {{ source('landing', 'deliveries') }}
