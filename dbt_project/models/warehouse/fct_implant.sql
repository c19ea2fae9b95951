-- One row per accepted patient implant of a current delivery; drugs as sorted canonical codes.
select
    cast(patient_key as varchar) as patient_key,
    cast(site_id as varchar) as site_id,
    cast(implant_date as date) as implant_date,
    cast(implant_type as varchar) as implant_type,
    cast(array_to_string(drugs, ';') as varchar) as drugs,
    cast(coalesce(len(drugs), 0) as integer) as n_drugs,
    cast(pump_model as varchar) as pump_model,
    cast(catheter_model as varchar) as catheter_model
from {{ ref('int_patients__validated') }}
where is_accepted and delivery_id in (select delivery_id from {{ ref('int_deliveries__analysed') }})
