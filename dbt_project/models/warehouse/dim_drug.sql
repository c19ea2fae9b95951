-- Canonical intrathecal drugs with label and class, plus the `unmapped` member.
select cast(drug as varchar) as drug, cast(drug_label as varchar) as drug_label, cast(drug_class as varchar) as drug_class
from {{ ref('drugs') }}
union all
select 'unmapped', 'unmapped', null
