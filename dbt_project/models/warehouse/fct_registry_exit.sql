-- One row per accepted registry exit of a current delivery (at most one per patient).
select
    cast(patient_key as varchar) as patient_key,
    cast(site_id as varchar) as site_id,
    cast(exit_date as date) as exit_date,
    cast(days_from_implant as integer) as days_from_implant,
    cast(exit_reason as varchar) as exit_reason,
    cast(exit_category as varchar) as exit_category
from {{ ref('stg_landing__exits') }}
where is_current_delivery and is_accepted
