{{ config(materialized='view') }}
-- Visits rows in the canonical vocabulary: the visit label (int_cell_codes).
select v.delivery_id, v.source_row, c.code as visit_label
from {{ ref('int_visits__typed') }} as v
left join {{ ref('int_cell_codes') }} as c
    on c.delivery_id = v.delivery_id
   and c.sheet_kind = 'visits'
   and c.source_row = v.source_row
   and c.concept = 'visit_label'
