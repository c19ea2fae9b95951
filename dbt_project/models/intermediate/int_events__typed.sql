{{ config(materialized='view') }}
-- Events sheet rows read with their site's settings: missing-value words nulled, the onset
-- date parsed in the site's date order.
select
    *,
    {{ parse_date('onset_date_text', 'date_order') }} as onset_date
from (
    select
        e.load_id, e.delivery_id, e.site_id, e.file_name, e.sheet_kind, e.sheet_name,
        e.source_row, e.data_cut, e.patient_key,
        s.language as site_language,
        s.date_order,
        {{ nullif_missing('e.onset_date') }} as onset_date_text,
        {{ nullif_missing('e.event_term') }} as event_term_text,
        {{ nullif_missing('e.intervention') }} as intervention_text,
        {{ nullif_missing('e.serious') }} as serious_text
    from {{ ref('stg_landing__events') }} as e
    left join {{ ref('stg_landing__site_master') }} as s on s.site_id = e.site_id
)
