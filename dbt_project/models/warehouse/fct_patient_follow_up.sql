-- One row per patient: implant, last contact, exit and status at the site's data cut,
-- with the time to death or censoring (exit date for any exit, else the data cut).
select
    cast(patient_key as varchar) as patient_key,
    cast(site_id as varchar) as site_id,
    cast(region as varchar) as region,
    cast(implant_date as date) as implant_date,
    cast(data_cut as date) as data_cut,
    cast(last_contact_date as date) as last_contact_date,
    cast(exit_date as date) as exit_date,
    cast(exit_reason as varchar) as exit_reason,
    cast(exit_category as varchar) as exit_category,
    cast(case when exit_date is null then 'active' else 'exited' end as varchar) as status_at_data_cut,
    cast(last_contact_date - implant_date as integer) as days_of_follow_up,
    cast(coalesce(exit_reason = 'death', false) as boolean) as died,
    cast(coalesce(exit_date, data_cut) - implant_date as integer) as days_to_death_or_censor
from {{ ref('int_patient_timelines') }}
