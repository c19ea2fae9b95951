-- One row per term to look up in the code lists: the text of every coded cell of every
-- sheet (`cell`). A multi-valued cell (drugs, pain locations, interventions) is split on
-- , ; + / ( ) and line breaks into parts (`part`), and every part again on conjunctions
-- (and, y, e, et, und, en, &) into pieces (`piece`); int_cell_codes counts a part whole
-- when a list knows it (`irrigation and debridement`), else its pieces.
{%- set coded_cells = [
    ('patients', 'sex', 'sex_text', false),
    ('patients', 'implant_type', 'implant_type_text', false),
    ('patients', 'cancer_type', 'cancer_type_text', false),
    ('patients', 'drug', 'drugs_text', true),
    ('patients', 'pain_location', 'pain_location_text', true),
    ('visits', 'visit_label', 'visit_label_text', false),
    ('events', 'event_type', 'event_term_text', false),
    ('events', 'intervention', 'intervention_text', true),
    ('events', 'yes_no', 'serious_text', false),
    ('exits', 'exit_reason', 'exit_reason_text', false),
] %}
{#- doses such as `10 mg/ml` or `0.5%` are not part of a drug's name #}
{%- set dose = "'\\d+([.,]\\d+)?\\s*(mg|mcg|µg|μg|ug|microg|%)(\\s*/\\s*(ml|d|day|dia|día|jour|tag|24 ?h|h))?'" %}
with cells as (
    {%- for sheet, concept, text_column, multi_valued in coded_cells %}
    select delivery_id, sheet_kind, source_row, site_id, site_language, '{{ concept }}' as concept,
           {{ 'true' if multi_valued else 'false' }} as is_multi_valued,
           {% if concept == 'drug' %}regexp_replace({{ text_column }}, {{ dose }}, ' ', 'gi'){% else %}{{ text_column }}{% endif %} as cell_text
    from {{ ref('int_' ~ sheet ~ '__typed') }}
    where {{ text_column }} is not null
    {{ 'union all' if not loop.last }}
    {%- endfor %}
),

parts as (
    select delivery_id, sheet_kind, source_row, site_id, site_language, concept,
           cast(pos as integer) as part_no, trim(parts[pos]) as part
    from (
        select *, unnest(range(1, len(parts) + 1)) as pos
        from (
            select *, regexp_split_to_array(cell_text, '\s*[,;+/()\n]\s*') as parts
            from cells
            where is_multi_valued
        )
    )
    where trim(parts[pos]) <> ''
),

pieces as (
    select delivery_id, sheet_kind, source_row, site_id, site_language, concept, part_no,
           cast(pos as integer) as piece_no, trim(pieces[pos]) as piece
    from (
        select *, unnest(range(1, len(pieces) + 1)) as pos
        from (
            select *, regexp_split_to_array(part, '\s+(and|y|e|et|und|en|&)\s+|\s*&\s*', 'i') as pieces
            from parts
        )
    )
    where trim(pieces[pos]) <> ''
)

select delivery_id, sheet_kind, source_row, site_id, site_language, concept,
       'cell' as term_level, cast(null as integer) as part_no, cast(null as integer) as piece_no, cell_text as term
from cells
where not is_multi_valued
union all
select delivery_id, sheet_kind, source_row, site_id, site_language, concept,
       'part', part_no, null, part
from parts
union all
select delivery_id, sheet_kind, source_row, site_id, site_language, concept,
       'piece', part_no, piece_no, piece
from pieces
