{# Parse a date cell written as text (architecture "Parsing rules"):
   - ISO YYYY-MM-DD (an optional time part is dropped; Excel date cells land this way),
   - compact ISO YYYYMMDD,
   - Excel serial numbers 1 to 80000 (day 0 = 1899-12-30; a fraction is the time of day),
   - day, month and year in the site's date_order (MDY, DMY, YMD) separated by '/', '.' or '-',
     with two-digit years pivoting at 30 (00-29 -> 2000s, 30-99 -> 1900s);
     a four-digit first part is always read as year-month-day.
   Impossible dates (31/02/2015) give null: try_cast of an invalid ISO string is null. #}
{% macro parse_date(expr, date_order) -%}
{%- set txt = "regexp_replace(" ~ expr ~ ", '[T ]\\d{1,2}:\\d{2}(:\\d{2}(\\.\\d+)?)?$', '')" -%}
{%- set dmy = "'^(\\d{1,4})[./-](\\d{1,2})[./-](\\d{1,4})$'" -%}
case
    when {{ expr }} is null then null
    when regexp_full_match({{ txt }}, '\d{4}-\d{1,2}-\d{1,2}')
        then try_cast({{ txt }} as date)
    when regexp_full_match({{ txt }}, '(19|20)\d{2}(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])')
        then try_cast(substr({{ txt }}, 1, 4) || '-' || substr({{ txt }}, 5, 2) || '-' || substr({{ txt }}, 7, 2) as date)
    when regexp_full_match({{ txt }}, '\d{1,5}([.,]\d+)?')
        then case when {{ parse_number(txt) }} between 1 and 80000
                  then cast(date '1899-12-30' + cast(floor({{ parse_number(txt) }}) as integer) as date) end
    when regexp_full_match({{ txt }}, {{ dmy }})
        then {{ registry_date_from_parts(
            "regexp_extract(" ~ txt ~ ", " ~ dmy ~ ", 1)",
            "regexp_extract(" ~ txt ~ ", " ~ dmy ~ ", 2)",
            "regexp_extract(" ~ txt ~ ", " ~ dmy ~ ", 3)",
            date_order) }}
end
{%- endmacro %}

{# Assemble a date from three text parts read in the given order; null when impossible. #}
{% macro registry_date_from_parts(p1, p2, p3, date_order) -%}
{%- set y = "case when length(" ~ p1 ~ ") = 4 then " ~ p1 ~ " when " ~ date_order ~ " = 'YMD' then " ~ p1 ~ " else " ~ p3 ~ " end" -%}
{%- set m = "case when length(" ~ p1 ~ ") = 4 or " ~ date_order ~ " in ('YMD', 'DMY') then " ~ p2 ~ " else " ~ p1 ~ " end" -%}
{%- set d = "case when length(" ~ p1 ~ ") = 4 or " ~ date_order ~ " = 'YMD' then " ~ p3 ~ " when " ~ date_order ~ " = 'DMY' then " ~ p1 ~ " else " ~ p2 ~ " end" -%}
case
    when length({{ y }}) not in (2, 4) or length({{ m }}) > 2 or length({{ d }}) > 2 then null
    else try_cast(
        lpad(cast(case when length({{ y }}) = 2
                       then cast({{ y }} as integer) + case when cast({{ y }} as integer) < 30 then 2000 else 1900 end
                       else cast({{ y }} as integer) end as varchar), 4, '0')
        || '-' || lpad({{ m }}, 2, '0') || '-' || lpad({{ d }}, 2, '0') as date)
end
{%- endmacro %}
