"""The canonical registry the sample is drawn from: patients, visits and events with
every value the pipeline should end with. Workbooks and truth are both written from it."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import events as events_mod
from . import population as pop
from . import pro

INFECTIONS = {"infection_pocket", "infection_catheter", "meningitis", "infection_other"}
SURGICAL = {"pump_explant", "pump_replacement", "pocket_revision", "irrigation_debridement", "catheter_revision"}


@dataclass
class Registry:
    sites: pd.DataFrame
    patients: pd.DataFrame
    visits: pd.DataFrame
    events: pd.DataFrame


def build(sites: pd.DataFrame, scale: float, seed: int) -> Registry:
    rng = np.random.default_rng(seed)
    p = pop.build_patients(rng, sites, scale)
    pop.assign_status(rng, p, scale)
    visits = pro.plan_visits(rng, p, scale)
    pop.assign_exit_dates(rng, p, pro.min_days_after(visits, len(p)))
    ev = events_mod.build_events(rng, p, scale)

    site_of_visit = p["site_idx"].to_numpy()[visits["pidx"].to_numpy()]
    scale_kind = sites["pain_scale"].to_numpy()[site_of_visit]
    half = sites["decimal_comma"].to_numpy()[site_of_visit]
    div = np.where(scale_kind == "VAS100", 10, np.where(half, 2, 1)).astype(float)
    versions = sites["eq5d_version"].to_numpy()[site_of_visit]
    calibrate = abs(scale - 1) < 1e-9
    k = pro.pain_scores(rng, visits, div, calibrate)
    levels, vas = pro.eq5d_scores(rng, visits, versions, calibrate)
    visits["pain_native"] = k / np.where(scale_kind == "VAS100", 1, div)   # what the site writes
    visits["pain_score"] = k / div                                          # 0-10, as the pipeline computes
    for d, dim in enumerate(pro.seeds.DIMENSIONS):
        visits[dim] = np.where(levels[:, d] > 0, levels[:, d], np.nan)
    visits["eq5d_version"] = versions
    visits["eq5d_index"] = np.where(levels[:, 0] > 0, pro._index(np.maximum(levels, 1), versions), np.nan)
    visits["eq_vas"] = vas
    _attach(visits, p)
    _attach(ev, p)
    ev["is_infection"] = ev["event_type"].isin(INFECTIONS)
    ev["is_surgical"] = ev["interventions"].str.split(";").map(lambda xs: bool(SURGICAL.intersection(xs)))

    last = p["implant_date"].to_numpy().copy()
    np.maximum.at(last, visits["pidx"].to_numpy(), visits["visit_date"].to_numpy())
    np.maximum.at(last, ev["pidx"].to_numpy(), ev["onset_date"].to_numpy())
    exit_d = p["exit_date"].to_numpy()
    p["last_contact_date"] = np.where(pd.isna(exit_d), last, np.maximum(last, exit_d))
    p["data_cut"] = pop.data_cut()
    return Registry(sites, p, visits, ev)


def _attach(frame: pd.DataFrame, p: pd.DataFrame) -> None:
    idx = frame["pidx"].to_numpy()
    frame["site_idx"] = p["site_idx"].to_numpy()[idx]
    frame["site_id"] = p["site_id"].to_numpy()[idx]
    frame["patient_ref"] = p["patient_ref"].to_numpy()[idx]

