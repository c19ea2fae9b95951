"""What a publish rests on: the sites' current data cuts.

Sites deliver on their own calendars, so a publish has a range of data cuts,
one per site; the headline gives the range and the number of sites, never
just the latest cut.
"""
from __future__ import annotations

import pandas as pd

from .present import iso_date

SITE_COLUMNS = ["site_id", "region", "file_name", "data_cut", "rows_received", "rows_accepted",
                "rows_rejected"]


def site_data_cuts(marts: dict[str, pd.DataFrame], provenance: dict) -> pd.DataFrame:
    """One row per site with a current delivery: site_id, region, file_name,
    data_cut (ISO text) and row counts where known. From the
    ``site_data_quality`` mart, else from ``provenance['deliveries']``."""
    quality = marts.get("site_data_quality")
    if quality is not None and {"site_id", "status", "data_cut"} <= set(quality.columns):
        current = quality[quality["status"] == "current"].copy()
    else:
        current = pd.DataFrame(provenance.get("deliveries") or [])
        if current.empty or "status" not in current.columns:
            return pd.DataFrame(columns=SITE_COLUMNS)
        current = current[current["status"] == "current"].copy()
    for column in SITE_COLUMNS:
        if column not in current.columns:
            current[column] = None
    current["data_cut"] = [iso_date(v) or None for v in current["data_cut"]]
    current = current.sort_values(["site_id", "data_cut", "file_name"], na_position="first")
    # A site with two current files (one per sheet set) is one site, at its latest cut.
    current = current.drop_duplicates("site_id", keep="last")
    return current[SITE_COLUMNS].reset_index(drop=True)


def data_cut_range(cuts: pd.DataFrame) -> dict:
    """data_cut_min, data_cut_max (ISO text or None) and n_sites."""
    known = cuts["data_cut"].dropna() if "data_cut" in cuts.columns else pd.Series(dtype=object)
    return {"data_cut_min": min(known) if len(known) else None,
            "data_cut_max": max(known) if len(known) else None,
            "n_sites": int(cuts["site_id"].nunique()) if "site_id" in cuts.columns else 0}


def headline(cut_range: dict, fallback: str | None = None) -> str:
    """``data cuts 2017-06-30 to 2017-07-31, 25 sites`` (or one cut, or not recorded)."""
    low, high, n = cut_range["data_cut_min"], cut_range["data_cut_max"], cut_range["n_sites"]
    sites = f"{n} site" + ("" if n == 1 else "s")
    if low is None:
        return f"data cut {fallback}" if fallback else "data cut not recorded"
    if low == high:
        return f"data cut {low}, {sites}"
    return f"data cuts {low} to {high}, {sites}"
