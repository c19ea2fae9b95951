-- Files outside every site folder of the site master, listed by the ingestion.
select
    file_path,
    site_folder,
    file_name,
    cast(size_bytes as bigint) as size_bytes,
    cast(modified_at as timestamp) as modified_at,
    status,
    reason,
    nullif(split_part(reason, ':', 1), '') as reason_code,
    load_id
from {{ source('landing', 'inbox_strays') }}
