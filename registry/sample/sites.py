"""The site master at a given scale: the site plan replicated, each copy with its habits."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .tables import parameter

SITE_MASTER_COLUMNS = ["site_id", "site_name", "country", "region", "language",
                       "date_order", "pain_scale", "eq5d_version"]
BOOL_HABITS = ["decimal_comma", "merge_banner", "blank_rows", "total_row",
               "comment_column", "icd10", "eq5d_state"]


def site_plan(scale: float) -> pd.DataFrame:
    """Sites with their habits. Scale K >= 1 repeats the plan round(K) times
    (sites proportional to patients); below 1 every planned site is kept."""
    plan = parameter("site_plan").copy()
    for col in BOOL_HABITS:
        plan[col] = plan[col] == "true"
    plan["weight"] = plan["weight"].astype(float)
    plan["banner_rows"] = plan["banner_rows"].astype(int)
    plan["year_digits"] = plan["year_digits"].astype(int)
    plan["plan_index"] = np.arange(len(plan))
    copies = max(1, int(round(scale)))
    if copies == 1:
        return plan.reset_index(drop=True)
    parts = []
    width = len(str(copies * 10))
    for c in range(copies):
        part = plan.copy()
        # Site numbers go up per country: US-001..US-010 then US-011.. for the next copy.
        prefix = part["site_id"].str[:3]
        number = part["site_id"].str[3:].astype(int) + c * 10
        part["site_id"] = prefix + number.map(lambda v: str(v).zfill(max(3, width)))
        if c:
            part["site_name"] = part["site_name"] + f" ({c + 1})"
        parts.append(part)
    return pd.concat(parts, ignore_index=True)


def allocate(total: int, weights: np.ndarray, minimum: int = 1) -> np.ndarray:
    """Integer counts summing to total, proportional to weights (largest remainder),
    each at least `minimum` when total allows."""
    weights = np.asarray(weights, float)
    base = np.full(len(weights), minimum if total >= minimum * len(weights) else 0)
    rest = total - base.sum()
    share = weights / weights.sum() * rest
    counts = np.floor(share).astype(int)
    left = rest - counts.sum()
    order = np.argsort(-(share - counts), kind="stable")
    counts[order[:left]] += 1
    return base + counts
