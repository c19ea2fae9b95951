"""Cohort description: ``cohort_overview`` and ``cancer_types``."""
from __future__ import annotations

import duckdb
import pandas as pd

from .frames import all_first, frame, region_label
from .stats import wilson_interval


def cohort_overview(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    df = frame(con, f"""
        select {region_label()} as region,
               count(*) as n_patients,
               count(*) filter (where sex = 'female') as n_female,
               avg(age_at_implant)::double as age_mean,
               stddev_samp(age_at_implant)::double as age_sd,
               min(age_at_implant) as age_min,
               max(age_at_implant) as age_max,
               median(age_at_implant)::double as age_median,
               count(distinct site_id) as n_sites,
               min(year(implant_date)) as first_implant_year
        from warehouse.dim_patient
        group by grouping sets ((region), ())
    """)
    low, high = wilson_interval(df["n_female"], df["n_patients"])
    df.insert(3, "pct_female", 100.0 * df["n_female"] / df["n_patients"])
    df.insert(4, "pct_female_ci_low", 100.0 * low)
    df.insert(5, "pct_female_ci_high", 100.0 * high)
    return all_first(df)


def cancer_types(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    # Every region lists every cancer type of the cohort, zeros included: a type missing
    # from a region's rows would let a reader place the region's count by subtraction.
    df = frame(con, f"""
        with p as (
            -- a missing or unmapped cancer type is its own category, never `other`
            select region,
                   case when cancer_type is null or cancer_type = 'unmapped' then 'not reported'
                        else coalesce(cancer_type_label, cancer_type) end as cancer_type,
                   case when cancer_type is null or cancer_type = 'unmapped' then 'not_reported'
                        else cancer_type end as cancer_type_code
            from warehouse.dim_patient
        ),
        counts as (
            select {region_label()} as region, cancer_type, cancer_type_code,
                   count(*) as n_patients
            from p
            group by grouping sets ((region, cancer_type, cancer_type_code),
                                    (cancer_type, cancer_type_code))
        ),
        grid as (
            select r.region, t.cancer_type, t.cancer_type_code
            from (select distinct region from counts) r
            cross join (select distinct cancer_type, cancer_type_code from counts) t
        ),
        filled as (
            select g.region, g.cancer_type, g.cancer_type_code, coalesce(c.n_patients, 0) as n_patients
            from grid g left join counts c using (region, cancer_type, cancer_type_code)
        )
        select region, cancer_type, cancer_type_code, n_patients,
               (sum(n_patients) over (partition by region))::bigint as region_n_patients,
               row_number() over (partition by region
                                  order by n_patients desc, cancer_type) as rank
        from filled
    """)
    low, high = wilson_interval(df["n_patients"], df["region_n_patients"])
    df.insert(4, "pct_patients", 100.0 * df["n_patients"] / df["region_n_patients"])
    df.insert(5, "ci_low", 100.0 * low)
    df.insert(6, "ci_high", 100.0 * high)
    df["region_n_patients"] = df["region_n_patients"].astype("int64")
    return all_first(df, "rank")
