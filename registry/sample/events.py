"""Product-performance and adverse events, each between the implant and the patient's end
(exit or data cut). Exactly the planned number of patients have an infection treated
surgically; the other events never make one."""
from __future__ import annotations

import numpy as np
import pandas as pd

from .population import DAY, scaled
from .tables import parameter


def _events_of(rng, patients: pd.DataFrame, pidx: np.ndarray, spec: pd.DataFrame) -> pd.DataFrame:
    w = spec["share_pct"].astype(float).to_numpy()
    pick = rng.choice(len(spec), size=len(pidx), p=w / w.sum())
    chosen = spec.iloc[pick]
    # Each spec row lists alternative intervention sets (`|`), each a `;` list.
    alternatives = chosen["interventions"].str.split("|")
    which = (rng.random(len(pidx)) * alternatives.str.len()).astype(int)
    interventions = [alt[i] for alt, i in zip(alternatives, which)]
    avail = ((patients["end_date"].to_numpy() - patients["implant_date"].to_numpy()) // DAY)[pidx]
    day = 1 + (rng.random(len(pidx)) * np.minimum(avail, 180)).astype(int)
    return pd.DataFrame({
        "pidx": pidx,
        "onset_date": patients["implant_date"].to_numpy()[pidx] + day * DAY,
        "event_type": chosen["event_type"].to_numpy(),
        "interventions": interventions,
        "serious": rng.random(len(pidx)) * 100 < chosen["serious_pct"].astype(float).to_numpy(),
    })


def build_events(rng, patients: pd.DataFrame, scale: float) -> pd.DataFrame:
    spec = parameter("events")
    avail = (patients["end_date"].to_numpy() - patients["implant_date"].to_numpy()) // DAY
    ok = np.flatnonzero(avail >= 7)
    surgical = rng.choice(ok, size=scaled("n_infection_surgical", scale), replace=False)
    rest = np.setdiff1d(ok, surgical)
    antibiotics = rng.choice(rest, size=scaled("n_infection_antibiotics", scale), replace=False)
    other = rng.choice(ok, size=scaled("n_other_events", scale), replace=True)
    parts = [
        _events_of(rng, patients, surgical, spec[spec["group"] == "infection_surgical"]),
        _events_of(rng, patients, antibiotics, spec[spec["group"] == "infection_antibiotics"]),
        _events_of(rng, patients, np.sort(other), spec[spec["group"] == "other"]),
    ]
    ev = pd.concat(parts, ignore_index=True)
    ev = ev.sort_values(["pidx", "onset_date"], kind="stable").reset_index(drop=True)
    return ev
