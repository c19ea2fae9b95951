{{ config(materialized='view') }}
-- Exits sheet rows read with their site's settings: missing-value words nulled, the exit
-- date parsed in the site's date order.
select
    *,
    {{ parse_date('exit_date_text', 'date_order') }} as exit_date
from (
    select
        x.load_id, x.delivery_id, x.site_id, x.file_name, x.sheet_kind, x.sheet_name,
        x.source_row, x.data_cut, x.patient_key,
        s.language as site_language,
        s.date_order,
        {{ nullif_missing('x.exit_date') }} as exit_date_text,
        {{ nullif_missing('x.exit_reason') }} as exit_reason_text
    from {{ ref('stg_landing__exits') }} as x
    left join {{ ref('stg_landing__site_master') }} as s on s.site_id = x.site_id
)
