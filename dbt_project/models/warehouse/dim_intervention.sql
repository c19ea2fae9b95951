-- Canonical interventions with the surgical flag, plus the `unmapped` member (not surgical).
select cast(intervention as varchar) as intervention, cast(intervention_label as varchar) as intervention_label,
       cast(is_surgical as boolean) as is_surgical
from {{ ref('interventions') }}
union all
select 'unmapped', 'unmapped', false
