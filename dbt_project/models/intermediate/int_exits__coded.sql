{{ config(materialized='view') }}
-- Exits rows in the canonical vocabulary (int_cell_codes), with the paper's exit category
-- of the reason.
select
    x.delivery_id,
    x.source_row,
    c.code as exit_reason,
    -- a missing or unmapped reason is not guessed into a category: it is not reported
    case when c.code is null or c.code = 'unmapped' then 'not_reported' else r.exit_category end as exit_category
from {{ ref('int_exits__typed') }} as x
left join {{ ref('int_cell_codes') }} as c
    on c.delivery_id = x.delivery_id
   and c.sheet_kind = 'exits'
   and c.source_row = x.source_row
   and c.concept = 'exit_reason'
left join {{ ref('exit_reasons') }} as r on r.exit_reason = c.code
