-- One row per accepted event of a current delivery, with its interventions (sorted codes),
-- the infection flag of the event type and whether any intervention was surgical.
select
    cast(substr(md5(delivery_id || '|events|' || cast(source_row as varchar)), 1, 16) as varchar) as event_id,
    cast(patient_key as varchar) as patient_key,
    cast(site_id as varchar) as site_id,
    cast(onset_date as date) as onset_date,
    cast(days_from_implant as integer) as days_from_implant,
    cast(event_type as varchar) as event_type,
    cast(array_to_string(interventions, ';') as varchar) as interventions,
    cast(is_infection as boolean) as is_infection,
    cast(is_surgical as boolean) as is_surgical,
    cast(is_serious as boolean) as is_serious
from {{ ref('int_events__validated') }}
where is_accepted and delivery_id in (select delivery_id from {{ ref('int_deliveries__analysed') }})
