-- Bridge: one row per implant and intrathecal drug (multi-drug cells split).
select cast(patient_key as varchar) as patient_key, cast(drug as varchar) as drug
from (
    select patient_key, unnest(drugs) as drug
    from {{ ref('stg_landing__patients') }}
    where is_current_delivery and is_accepted
)
