"""Survival from implant: ``survival`` (the Kaplan-Meier curve of the whole
cohort) and ``survival_summary`` (median and landmark survival, 'All' and
per region).

Time is implant to death; patients who exited for any other reason are
censored at their exit, patients still active at the data cut (their site's
delivery) are censored there. The curve is not split by region in the
``survival`` mart: at each death time a region row would almost always hold
1 to 4 deaths and be suppressed; regional figures are in the summary.
"""
from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from .frames import ALL, frame
from .stats import KM_FIELDS, kaplan_meier, km_median

# Landmarks of the summary: the targets of the 6- and 12-month visit windows.
LANDMARK_DAYS = {"survival_6_months": 183, "survival_12_months": 365}


def _follow_up(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return frame(con, """
        select region, days_to_death_or_censor::double as days, coalesce(died, false) as died,
               data_cut
        from warehouse.fct_patient_follow_up
        where days_to_death_or_censor is not null
    """)


def _curve(days: pd.Series, died: pd.Series) -> pd.DataFrame:
    km = pd.DataFrame(kaplan_meier(days.to_numpy(), died.to_numpy(dtype=bool)),
                      columns=list(KM_FIELDS))
    km["days_since_implant"] = km["days_since_implant"].astype("int64")
    return km


def survival(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    fu = _follow_up(con)
    return _curve(fu["days"], fu["died"])


# Ticks of the numbers-at-risk row under the curve: every six months.
AT_RISK_TICK_MONTHS = 6


def survival_at_risk(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Numbers at risk (time to event or censoring at or after the tick) every
    six months, for the table under the Kaplan-Meier curve."""
    fu = _follow_up(con)
    times = np.sort(fu["days"].to_numpy())
    if times.size == 0:
        return pd.DataFrame({"months": pd.Series(dtype="int64"),
                             "days_since_implant": pd.Series(dtype="int64"),
                             "n_at_risk": pd.Series(dtype="int64")})
    months = np.arange(0, int(times.max() / 30.4375) + 1, AT_RISK_TICK_MONTHS)
    days = np.round(months * 30.4375).astype("int64")
    at_risk = times.size - np.searchsorted(times, days, side="left")
    return pd.DataFrame({"months": months.astype("int64"), "days_since_implant": days,
                         "n_at_risk": at_risk.astype("int64")})


def _survival_at(curve: pd.DataFrame, day: int) -> float:
    before = curve.loc[curve["days_since_implant"] <= day, "survival"]
    return float(before.iloc[-1]) if len(before) else 1.0


def survival_summary(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    fu = _follow_up(con)
    rows = []
    for region in [ALL, *sorted(fu["region"].dropna().unique())]:
        group = fu if region == ALL else fu[fu["region"] == region]
        curve = _curve(group["days"], group["died"])
        median, low, high = km_median(curve["days_since_implant"], curve["survival"],
                                      curve["ci_low"], curve["ci_high"])
        n_deaths = int(group["died"].sum())
        rows.append({
            "region": region,
            "n_patients": len(group),
            "n_deaths": n_deaths,
            "n_censored": len(group) - n_deaths,
            "median_survival_days": median,
            "median_ci_low": low,
            "median_ci_high": high,
            **{name: _survival_at(curve, day) for name, day in LANDMARK_DAYS.items()},
            "data_cut": group["data_cut"].max() if len(group) else None,
        })
    df = pd.DataFrame(rows)
    df["data_cut"] = df["data_cut"].astype(fu["data_cut"].dtype)
    return df
