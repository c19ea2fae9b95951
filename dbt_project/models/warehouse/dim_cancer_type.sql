-- Canonical cancer types with display labels and ICD-10 ranges, plus the `unmapped` member.
select cast(cancer_type as varchar) as cancer_type,
       cast(cancer_type_label as varchar) as cancer_type_label,
       cast(icd10_range as varchar) as icd10_range
from {{ ref('cancer_types') }}
union all
select 'unmapped', 'unmapped', null
