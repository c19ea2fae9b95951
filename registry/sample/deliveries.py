"""Cuts of the canonical registry as a site would deliver them (canonical values, one
table per sheet kind), before the site's habits are applied."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .model import Registry
from .seeds import DIMENSIONS


def file_name(site: pd.Series, cut: str) -> str:
    return site["file_pattern"].format(site_id=site["site_id"], cut=cut, cut_compact=cut.replace("-", ""))


def cuts_of(site: pd.Series, data_cut: str) -> list[str]:
    """A site's delivery dates, oldest first; the last is current."""
    return ([site["older_cut"]] if site["older_cut"] else []) + [data_cut]


def tables(reg: Registry, site_idx: int, cut: str) -> dict[str, pd.DataFrame]:
    c = np.datetime64(cut, "D")
    site = reg.sites.iloc[site_idx]
    p = reg.patients[(reg.patients["site_idx"] == site_idx) & (reg.patients["implant_date"] <= c)]
    imp = pd.DatetimeIndex(p["implant_date"])
    birth = site["birth_field"]
    pts = pd.DataFrame({
        "patient_ref": p["patient_ref"],
        "sex": p["sex"],
        "birth_date": p["birth_date_model"] if birth.startswith("birth_date") else pd.NaT,
        "birth_year": imp.year.to_numpy() - p["age_at_implant"].to_numpy(),
        "age_at_implant": p["age_at_implant"],
        "implant_date": p["implant_date"],
        "implant_type": p["implant_type"],
        "cancer_type": p["cancer_type"],
        "drugs": p["drugs"],
        "pain_location": p["pain_locations"].where(p["pain_locations"] != "", None),
        "pump_model": p["pump_model"],
        "catheter_model": p["catheter_model"],
    })
    v = reg.visits[(reg.visits["site_idx"] == site_idx) & (reg.visits["visit_date"] <= c)]
    vis = v[["patient_ref", "visit_date", "visit_label", "pain_native", *DIMENSIONS, "eq_vas"]].copy()
    e = reg.events[(reg.events["site_idx"] == site_idx) & (reg.events["onset_date"] <= c)]
    ev = pd.DataFrame({"patient_ref": e["patient_ref"], "onset_date": e["onset_date"],
                       "event_term": e["event_type"], "intervention": e["interventions"],
                       "serious": np.where(e["serious"], "true", "false")})
    x = p[p["exit_date"].notna() & (p["exit_date"] <= c)]
    ex = pd.DataFrame({"patient_ref": x["patient_ref"], "exit_date": x["exit_date"], "exit_reason": x["exit_reason"]})
    out = {"patients": pts, "visits": vis, "events": ev, "exits": ex}
    for t in out.values():
        t["_fault"] = ""
    return {k: t.astype({c: object for c in t.columns if c.endswith("_date")}).reset_index(drop=True)
            for k, t in out.items()}
