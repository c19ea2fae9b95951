-- Bridge: one row per implant and intrathecal drug (multi-drug cells split).
select cast(patient_key as varchar) as patient_key, cast(drug as varchar) as drug
from (
    select patient_key, unnest(drugs) as drug
    from {{ ref('int_patients__validated') }}
    where is_accepted and delivery_id in (select delivery_id from {{ ref('int_deliveries__analysed') }})
)
