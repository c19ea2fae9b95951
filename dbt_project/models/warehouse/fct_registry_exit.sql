-- One row per accepted registry exit of a current delivery (at most one per patient).
select
    cast(patient_key as varchar) as patient_key,
    cast(site_id as varchar) as site_id,
    cast(exit_date as date) as exit_date,
    cast(days_from_implant as integer) as days_from_implant,
    cast(exit_reason as varchar) as exit_reason,
    cast(exit_category as varchar) as exit_category
from {{ ref('int_exits__validated') }}
where is_accepted and delivery_id in (select delivery_id from {{ ref('int_deliveries__analysed') }})
