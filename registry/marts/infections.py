"""Infections that needed surgery: ``infection_outcomes``.

A patient counts once if any of their events is an infection (event type with
the infection flag) treated surgically (an intervention with the surgical
flag: explant, replacement, pocket revision, irrigation and debridement,
catheter revision). The denominator is every patient of the cohort.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from .frames import all_first, frame, region_label
from .stats import wilson_interval


def infection_outcomes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    df = frame(con, f"""
        with infected as (
            select distinct patient_key from warehouse.fct_event
            where is_infection and is_surgical
        )
        select {region_label('p.region')} as region,
               count(*) as n_patients,
               count(i.patient_key) as n_infection_surgical
        from warehouse.dim_patient p
        left join infected i using (patient_key)
        group by grouping sets ((p.region), ())
    """)
    low, high = wilson_interval(df["n_infection_surgical"], df["n_patients"])
    df["pct_infection_surgical"] = 100.0 * df["n_infection_surgical"] / df["n_patients"]
    df["ci_low"] = 100.0 * low
    df["ci_high"] = 100.0 * high
    return all_first(df)
