"""The dbt seeds the pipeline scores with, read here so the sample scores alike."""
from __future__ import annotations

from functools import lru_cache

import numpy as np
import pandas as pd

from registry.config import DBT_PROJECT_DIR

SEEDS = DBT_PROJECT_DIR / "seeds"
DIMENSIONS = ("mobility", "self_care", "usual_activities", "pain_discomfort", "anxiety_depression")


@lru_cache(maxsize=None)
def visit_windows() -> pd.DataFrame:
    return pd.read_csv(SEEDS / "visit_windows.csv")


@lru_cache(maxsize=None)
def _value_set(version: str) -> tuple[np.ndarray, float, float, int]:
    """(decrement table [dimension, level], constant, n3, max level) of one version."""
    vs = pd.read_csv(SEEDS / "eq5d_value_set.csv")
    vs = vs[vs["eq5d_version"] == version]
    max_level = int(vs["level"].max())
    table = np.zeros((len(DIMENSIONS), max_level + 1))
    for d, dim in enumerate(DIMENSIONS):
        rows = vs[vs["dimension"] == dim]
        table[d, rows["level"].to_numpy()] = rows["decrement"].to_numpy()
    const = pd.read_csv(SEEDS / "eq5d_value_set_constants.csv").set_index("eq5d_version").loc[version]
    return table, float(const["constant_if_any_problem"]), float(const["n3_if_any_level_3"]), max_level


def max_level(version: str) -> int:
    return _value_set(version)[3]


def eq5d_index(version: str, levels: np.ndarray) -> np.ndarray:
    """Index of each row of `levels` (n x 5 ints), as the pipeline computes it."""
    table, constant, n3, _ = _value_set(version)
    levels = np.asarray(levels, dtype=int)
    dec = table[np.arange(len(DIMENSIONS))[None, :], levels].sum(axis=1)
    any_problem = (levels > 1).any(axis=1)
    any_three = (levels == 3).any(axis=1) if version == "3L" else np.zeros(len(levels), bool)
    return np.round(1 - constant * any_problem - dec - n3 * any_three, 3)
