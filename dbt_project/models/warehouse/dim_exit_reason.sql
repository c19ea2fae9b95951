-- Canonical exit reasons with the paper's three exit categories, plus the `unmapped` member
-- (exit category `not_reported`: an unknown reason is never counted as `other`).
select cast(exit_reason as varchar) as exit_reason, cast(exit_reason_label as varchar) as exit_reason_label,
       cast(exit_category as varchar) as exit_category
from {{ ref('exit_reasons') }}
union all
select 'unmapped', 'unmapped', 'not_reported'
