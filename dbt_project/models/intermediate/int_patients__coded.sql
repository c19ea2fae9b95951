{{ config(materialized='view') }}
-- Patients rows in the canonical vocabulary: one column per coded cell (int_cell_codes).
with codes as (
    select
        delivery_id,
        source_row,
        any_value(code) filter (where concept = 'sex') as sex,
        any_value(code) filter (where concept = 'implant_type') as implant_type,
        any_value(code) filter (where concept = 'cancer_type') as cancer_type,
        any_value(codes) filter (where concept = 'drug') as drugs,
        any_value(codes) filter (where concept = 'pain_location') as pain_locations
    from {{ ref('int_cell_codes') }}
    where sheet_kind = 'patients'
    group by delivery_id, source_row
)

select p.delivery_id, p.source_row, c.sex, c.implant_type, c.cancer_type, c.drugs, c.pain_locations
from {{ ref('int_patients__typed') }} as p
left join codes as c on c.delivery_id = p.delivery_id and c.source_row = p.source_row
