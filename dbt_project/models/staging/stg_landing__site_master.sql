-- The site master as loaded, one row per site; codes in their canonical case.
select
    trim(site_id) as site_id,
    site_name,
    upper(trim(country)) as country,
    trim(region) as region,
    lower(trim(language)) as language,
    upper(trim(date_order)) as date_order,
    upper(trim(pain_scale)) as pain_scale,
    upper(trim(eq5d_version)) as eq5d_version,
    loaded_at
from {{ source('landing', 'site_master') }}
