-- Every site of the site master with its settings and region.
select
    cast(site_id as varchar) as site_id,
    cast(site_name as varchar) as site_name,
    cast(country as varchar) as country,
    cast(region as varchar) as region,
    cast(language as varchar) as language,
    cast(date_order as varchar) as date_order,
    cast(pain_scale as varchar) as pain_scale,
    cast(eq5d_version as varchar) as eq5d_version
from {{ ref('stg_landing__site_master') }}
