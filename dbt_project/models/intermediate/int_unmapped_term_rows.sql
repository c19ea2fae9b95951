-- One row per landing row (current deliveries) and term that no code list knows,
-- with the concept it was written for. Feeds dq_unmapped_terms and the unmapped_term warning.
{%- set single_valued = [
    ('stg_landing__patients', 'sex', 'sex_text', 'sex'),
    ('stg_landing__patients', 'implant_type', 'implant_type_text', 'implant_type'),
    ('stg_landing__patients', 'cancer_type', 'cancer_type_text', 'cancer_type'),
    ('stg_landing__visits', 'visit_label', 'visit_label_text', 'visit_label'),
    ('stg_landing__events', 'event_type', 'event_term_text', 'event_type'),
    ('stg_landing__exits', 'exit_reason', 'exit_reason_text', 'exit_reason'),
] %}
{%- set multi_valued = [
    ('stg_landing__patients', 'drug', 'drug_terms_unmapped'),
    ('stg_landing__patients', 'pain_location', 'pain_location_terms_unmapped'),
    ('stg_landing__events', 'intervention', 'intervention_terms_unmapped'),
] %}
-- each staging view is read once (materialised CTE), then its mapped columns are checked
with
{%- for model in ['stg_landing__patients', 'stg_landing__visits', 'stg_landing__events', 'stg_landing__exits'] %}
{{ model }} as materialized (
    select * from {{ ref(model) }} where is_current_delivery
){{ ',' if not loop.last }}
{%- endfor %}
{%- for model, concept, text_column, code_column in single_valued %}
select site_id, delivery_id, file_name, sheet_kind, sheet_name, source_row, is_accepted,
       '{{ concept }}' as concept, {{ text_column }} as term
from {{ model }}
where is_current_delivery and {{ code_column }} = 'unmapped'
union all
{%- endfor %}
select site_id, delivery_id, file_name, sheet_kind, sheet_name, source_row, is_accepted,
       'yes_no' as concept, serious_text as term
from stg_landing__events
where is_current_delivery and serious_is_unmapped
{%- for model, concept, list_column in multi_valued %}
union all
select site_id, delivery_id, file_name, sheet_kind, sheet_name, source_row, is_accepted,
       '{{ concept }}' as concept, unnest({{ list_column }}) as term
from {{ model }}
where is_current_delivery and len({{ list_column }}) > 0
{%- endfor %}
