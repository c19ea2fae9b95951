-- One row per accepted patient (implant) of the sites' current deliveries. patient_key is
-- the keyed pseudonym from the landing zone; no direct identifier exists in the warehouse.
select
    cast(p.patient_key as varchar) as patient_key,
    cast(p.site_id as varchar) as site_id,
    cast(s.region as varchar) as region,
    cast(p.sex as varchar) as sex,
    cast(p.birth_year as integer) as birth_year,
    cast(p.age_at_implant as integer) as age_at_implant,
    cast(case
        when p.age_at_implant is null then null
        when p.age_at_implant < 18 then '<18'
        when p.age_at_implant < 40 then '18-39'
        when p.age_at_implant < 50 then '40-49'
        when p.age_at_implant < 60 then '50-59'
        when p.age_at_implant < 70 then '60-69'
        when p.age_at_implant < 80 then '70-79'
        else '80+'
    end as varchar) as age_band,
    cast(p.cancer_type as varchar) as cancer_type,
    cast(c.cancer_type_label as varchar) as cancer_type_label,
    cast(p.implant_date as date) as implant_date,
    cast(p.implant_type as varchar) as implant_type,
    cast(array_to_string(p.pain_locations, ';') as varchar) as pain_locations
from {{ ref('int_patients__validated') }} as p
left join {{ ref('stg_landing__site_master') }} as s on s.site_id = p.site_id
left join {{ ref('dim_cancer_type') }} as c on c.cancer_type = p.cancer_type
where p.is_accepted and p.delivery_id in (select delivery_id from {{ ref('int_deliveries__analysed') }})
