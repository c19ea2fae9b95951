"""Change from baseline of patient-reported outcomes: ``pain_outcomes`` and
``eq5d_outcomes``.

A pair is one patient's chosen visit (``is_window_choice``) of the baseline
window and of the follow-up window, both holding the measure. Change is
follow-up minus baseline; the primary test is the paired t-test.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from .frames import ALL, frame
from .stats import PAIRED_FIELDS, paired_tests

TIMEPOINTS = ("6 months", "12 months")
PRIMARY_TEST = "paired t-test"


def _pairs(con: duckdb.DuckDBPyConnection, measure: str) -> pd.DataFrame:
    """One row per patient: region, baseline value and year, value per time point."""
    followups = ",\n".join(
        f"max(a.{measure}) filter (where a.visit_window = '{tp}') as \"{tp}\"" for tp in TIMEPOINTS)
    windows = ", ".join(f"'{w}'" for w in ("baseline", *TIMEPOINTS))
    return frame(con, f"""
        select p.region, a.patient_key,
               max(a.{measure}) filter (where a.visit_window = 'baseline') as baseline,
               min(year(a.visit_date)) filter (where a.visit_window = 'baseline'
                                              and a.{measure} is not null) as baseline_year,
               {followups}
        from warehouse.fct_assessment a
        join warehouse.dim_patient p using (patient_key)
        where a.is_window_choice and a.visit_window in ({windows})
        group by p.region, a.patient_key
    """)


def change_outcomes(con: duckdb.DuckDBPyConnection, measure: str) -> pd.DataFrame:
    """Rows per time point for 'All' and every region (loops over a handful of groups)."""
    pairs = _pairs(con, measure)
    # Every region of the cohort, with zero pairs too: a region missing from the table would
    # tell the reader its count, and could not take part in complementary suppression.
    cohort_regions = [r[0] for r in con.execute(
        "select distinct region from warehouse.dim_patient where region is not null order by 1").fetchall()]
    regions = [ALL, *sorted(set(cohort_regions) | set(pairs["region"].dropna()))]
    rows = []
    for timepoint in TIMEPOINTS:
        complete = pairs[pairs["baseline"].notna() & pairs[timepoint].notna()]
        for region in regions:
            group = complete if region == ALL else complete[complete["region"] == region]
            stats = paired_tests(group["baseline"].to_numpy(), group[timepoint].to_numpy())
            first_year = group["baseline_year"].min() if len(group) else np.nan
            rows.append({"timepoint": timepoint, "region": region, **stats,
                         "test": PRIMARY_TEST, "first_baseline_year": first_year})
    df = pd.DataFrame(rows, columns=["timepoint", "region", *PAIRED_FIELDS, "test",
                                     "first_baseline_year"])
    df["n_paired"] = df["n_paired"].astype("int64")
    df["first_baseline_year"] = df["first_baseline_year"].astype("Int64")
    order = ["timepoint", "region", "n_paired", "baseline_mean", "followup_mean", "mean_change",
             "p_value", "test", "sd_change", "ci_low", "ci_high", "t_statistic",
             "wilcoxon_statistic", "wilcoxon_p_value", "first_baseline_year"]
    # Rows were built in publication order: time point, then 'All', then regions.
    return df[order]


def pain_outcomes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return change_outcomes(con, "pain_score")


def eq5d_outcomes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return change_outcomes(con, "eq5d_index").rename(columns={
        "baseline_mean": "baseline_index_mean", "followup_mean": "followup_index_mean"})
