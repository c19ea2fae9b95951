"""Small-cell protection of published marts.

Counts from 1 to ``small_cell_max`` in region-level rows (and site-level rows,
if a mart has them) are shown as null, together with the figures derived
from them (percentages, intervals, means), and the row's ``suppressed`` flag
is set. ``All`` rows stay exact. Which counts and derived columns are
protected is data: ``small_cells.csv`` (mart, count_column, complement_of,
blanked_columns). With ``complement_of`` set, the cell is also protected when
``complement_of - count_column`` is small, because the complement could be
recovered by subtraction.
"""
from __future__ import annotations

import os
from functools import lru_cache
from importlib import resources

import pandas as pd

ENV_VAR = "REGISTRY_SMALL_CELL_MAX"
DEFAULT_SMALL_CELL_MAX = 4
ALL = "All"


def small_cell_max_from_env(environ: dict[str, str] | None = None) -> int:
    """Threshold from REGISTRY_SMALL_CELL_MAX (default 4; 0 disables)."""
    env = os.environ if environ is None else environ
    value = env.get(ENV_VAR, "").strip()
    if not value:
        return DEFAULT_SMALL_CELL_MAX
    threshold = int(value)
    if threshold < 0:
        raise ValueError(f"{ENV_VAR} must be 0 or more, got {value}")
    return threshold


@lru_cache(maxsize=1)
def rules() -> pd.DataFrame:
    with resources.files(__package__).joinpath("small_cells.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def _small(values: pd.Series, threshold: int) -> pd.Series:
    v = pd.to_numeric(values, errors="coerce")
    return (v >= 1) & (v <= threshold)


def suppress(mart_name: str, df: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Return ``df`` with small cells of non-``All`` rows nulled and a
    ``suppressed`` column; marts without rules only get the flag."""
    out = df.copy()
    flagged = pd.Series(False, index=out.index)
    protected_rows = out["region"].ne(ALL) if "region" in out.columns else pd.Series(True, index=out.index)
    if threshold > 0:
        for rule in rules()[rules()["mart"] == mart_name].itertuples():
            count = out[rule.count_column]
            hit = _small(count, threshold)
            if rule.complement_of:
                hit |= _small(out[rule.complement_of] - count, threshold)
            hit &= protected_rows
            if not hit.any():
                continue
            for column in [rule.count_column, *rule.blanked_columns.split()]:
                if column in out.columns:
                    out[column] = _nullable(out[column])
                    out.loc[hit, column] = pd.NA
            flagged |= hit
    out["suppressed"] = flagged.to_numpy(dtype=bool)
    return out


def _nullable(series: pd.Series) -> pd.Series:
    """Same values in a dtype that can hold a null without turning counts into floats."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean")
    if pd.api.types.is_integer_dtype(series):
        return series.astype("Int64")
    if pd.api.types.is_float_dtype(series):
        return series.astype("Float64")
    return series.astype(object)
