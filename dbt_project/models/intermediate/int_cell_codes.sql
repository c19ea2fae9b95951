-- One row per coded cell of a landing row: its canonical code(s) and the terms no code
-- list knows. A part of a multi-valued cell counts whole when a list knows it, else its
-- conjunction pieces count (an unknown piece is `unmapped`).
-- read twice below; not materialized, each branch joins again (the join is cheap, the
-- materialised rows cost the build about 200 MB at scale 100)
with looked_up as not materialized (
    select o.delivery_id, o.sheet_kind, o.source_row, o.concept, o.term_level, o.part_no, o.term,
           c.code, c.mapping_method
    from {{ ref('int_term_occurrences') }} as o
    left join {{ ref('int_term_codes') }} as c
        on c.site_id = o.site_id
       and c.site_language is not distinct from o.site_language  -- a site missing from the site master has none
       and c.concept = o.concept
       and c.term = o.term
),

-- whole cells count as they are; only the parts and pieces of multi-valued cells need the
-- window (the largest cost of this model when every row went through it)
counted as (
    select *
    from looked_up
    where term_level = 'cell'
    union all
    select *
    from looked_up
    where term_level <> 'cell'
    qualify case term_level
        when 'part' then mapping_method <> 'unmapped'
        else not coalesce(bool_or(term_level = 'part' and mapping_method <> 'unmapped') over (
            partition by delivery_id, sheet_kind, source_row, concept, part_no), false)
    end
)

select
    delivery_id,
    sheet_kind,
    source_row,
    concept,
    any_value(code) filter (where term_level = 'cell') as code,
    list_sort(list_distinct(list(code))) as codes,
    -- list_distinct drops the nulls of the known terms
    list_sort(list_distinct(list(case when mapping_method = 'unmapped' then term end))) as unmapped_terms
from counted
group by delivery_id, sheet_kind, source_row, concept
