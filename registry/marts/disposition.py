"""Registry disposition at the data cut: ``disposition``."""
from __future__ import annotations

import duckdb
import pandas as pd

from .frames import all_first, frame
from .stats import wilson_interval

# `not_reported`: an exit whose reason is missing or unmapped, never folded into `other`.
EXIT_CATEGORIES = ("death", "explant_or_discontinuation", "other", "not_reported", "active")


def disposition(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    categories = ", ".join(f"('{c}', {i})" for i, c in enumerate(EXIT_CATEGORIES))
    # Every region shows every category (zero rows included) so regions line up.
    df = frame(con, f"""
        with f as (
            select region,
                   case when status_at_data_cut = 'exited'
                        then coalesce(nullif(exit_category, 'unmapped'), 'not_reported') else 'active' end as exit_category
            from warehouse.fct_patient_follow_up
        ),
        regions as (select distinct region from f union all select 'All'),
        categories(exit_category, category_order) as (values {categories}),
        counts as (
            select region, exit_category, count(*) as n from f group by region, exit_category
            union all
            select 'All', exit_category, count(*) from f group by exit_category
        )
        select r.region, c.exit_category, coalesce(n, 0) as n_patients, c.category_order
        from regions r cross join categories c
        left join counts using (region, exit_category)
    """)
    exited = df["exit_category"].ne("active")
    region_total = df.groupby("region")["n_patients"].transform("sum")
    region_exited = df["n_patients"].where(exited, 0).groupby(df["region"]).transform("sum")
    low, high = wilson_interval(df["n_patients"], region_exited)
    df["pct_of_exited"] = (100.0 * df["n_patients"] / region_exited).where(exited)
    df["ci_low"] = pd.Series(100.0 * low, index=df.index).where(exited)
    df["ci_high"] = pd.Series(100.0 * high, index=df.index).where(exited)
    df["pct_of_patients"] = 100.0 * df["n_patients"] / region_total
    df = all_first(df, "category_order").drop(columns="category_order")
    return df
