"""The patient-level model: who was implanted where and when, who they are, how they left.

Everything is drawn vectorised with one numpy Generator, so a seed fixes the sample.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .sites import allocate
from .tables import parameter, target_float, target_int, targets

DAY = np.timedelta64(1, "D")


def data_cut() -> np.datetime64:
    return np.datetime64(targets()["data_cut"], "D")


def scaled(name: str, scale: float) -> int:
    return int(round(target_int(name) * scale))


def _exact_counts(n: int, shares: np.ndarray) -> np.ndarray:
    return allocate(n, shares, minimum=0)


def _shuffled_labels(rng, labels, counts) -> np.ndarray:
    out = np.repeat(np.asarray(labels, dtype=object), counts)
    rng.shuffle(out)
    return out


def implant_dates(rng, n: int) -> np.ndarray:
    years = parameter("implant_years")
    year = years["year"].astype(int).to_numpy()
    w = years["weight"].astype(float).to_numpy()
    start = np.array([np.datetime64(f"{y}-01-01", "D") for y in year])
    end = np.minimum(np.array([np.datetime64(f"{y + 1}-01-01", "D") for y in year]), data_cut())
    pick = rng.choice(len(year), size=n, p=w / w.sum())
    span = (end - start)[pick] // DAY
    return start[pick] + (rng.random(n) * span).astype(int) * DAY


def ages(rng, n: int) -> np.ndarray:
    lo, hi = target_int("age_min"), target_int("age_max")
    age = np.clip(np.round(rng.normal(target_float("age_mean"), target_float("age_sd"), n)), lo + 6, hi - 1).astype(int)
    if n >= 2:
        age[0], age[1] = lo, hi   # positions are random anyway once patients are shuffled
        want = int(round(target_float("age_mean") * n))
        diff = want - age.sum()
        adjustable = np.arange(2, n)
        while diff != 0 and len(adjustable):
            step = np.sign(diff)
            ok = adjustable[(age[adjustable] + step >= lo + 6) & (age[adjustable] + step <= hi - 1)]
            take = rng.choice(ok, size=min(abs(diff), len(ok)), replace=False)
            age[take] += step
            diff -= step * len(take)
    return age


def birth_dates(rng, implant: np.ndarray, age: np.ndarray) -> np.ndarray:
    """A birth date whose whole years to the implant date equal `age`."""
    imp = pd.DatetimeIndex(implant)
    day = np.where((imp.month == 2) & (imp.day == 29), 28, imp.day)
    anniversary = pd.to_datetime(pd.DataFrame({"year": imp.year - age, "month": imp.month, "day": day}))
    back = rng.integers(0, 361, len(age))
    return (anniversary.to_numpy().astype("datetime64[D]") - back * DAY)


def build_patients(rng, sites: pd.DataFrame, scale: float) -> pd.DataFrame:
    n = scaled("n_patients", scale)
    per_site = allocate(n, sites["weight"].to_numpy())
    site_idx = np.repeat(np.arange(len(sites)), per_site)
    p = pd.DataFrame({"site_idx": site_idx})
    p["site_id"] = sites["site_id"].to_numpy()[site_idx]
    p["region"] = sites["region"].to_numpy()[site_idx]
    # Site-local refs: a prefix of the site's own and a running number.
    within = p.groupby("site_idx").cumcount().to_numpy() + 1
    prefix = sites["site_id"].str.replace("-", "", regex=False).to_numpy()[site_idx]
    p["patient_ref"] = pd.Series(prefix) + "-" + pd.Series(within).astype(str).str.zfill(4)
    p["implant_date"] = implant_dates(rng, n)
    n_female = scaled("n_female", scale)
    p["sex"] = _shuffled_labels(rng, ["female", "male"], [n_female, n - n_female])
    age = ages(rng, n)
    rng.shuffle(age)
    p["age_at_implant"] = age
    p["birth_date_model"] = birth_dates(rng, p["implant_date"].to_numpy(), age)
    cancers = parameter("cancer_types")
    p["cancer_type"] = _shuffled_labels(rng, cancers["cancer_type"],
                                        _exact_counts(n, cancers["share_pct"].astype(float).to_numpy()))
    p["implant_type"] = np.where(rng.random(n) < 0.08, "replacement", "initial")
    p["drugs"] = drug_lists(rng, n)
    p["pain_locations"] = pain_locations(rng, n)
    p["pump_model"] = np.where(rng.random(n) < 0.85, "SynchroMed II", "SynchroMed EL")
    p.loc[p["implant_date"] >= np.datetime64("2005-01-01"), "pump_model"] = "SynchroMed II"
    p["catheter_model"] = rng.choice(np.array(["8709SC", "8731SC", "8780", "8781"]), n, p=[0.5, 0.3, 0.1, 0.1])
    return p


def drug_lists(rng, n: int) -> np.ndarray:
    """';'-joined canonical drug codes: one primary drug plus independent adjuvants."""
    d = parameter("drugs")
    prim = d[(d["role"] == "primary") & (d["share_pct"].astype(float) > 0)]
    w = prim["share_pct"].astype(float).to_numpy()
    out = pd.Series(rng.choice(prim["drug"].to_numpy(), n, p=w / w.sum()), dtype=object)
    for r in d[d["role"] == "adjuvant"].itertuples():
        add = (rng.random(n) < float(r.share_pct) / 100) & ~out.str.contains(r.drug, regex=False)
        out[add] = out[add] + ";" + r.drug
    return out.to_numpy()


def pain_locations(rng, n: int) -> np.ndarray:
    """';'-joined pain locations; empty when not specified. Locations overlap as in
    the stand-in source: each is drawn independently among the specified."""
    loc = parameter("pain_locations")
    shares = dict(zip(loc["pain_location"], loc["pct_of_patients"].astype(float) / 100))
    specified = rng.random(n) >= shares.pop("not_specified")
    frac = specified.mean() or 1
    out = pd.Series([""] * n, dtype=object)
    for name, share in shares.items():
        has = specified & (rng.random(n) < share / frac)
        out[has] = out[has] + ";" + name
    empty = specified & (out == "")
    out[empty] = ";spine_back"
    return out.str.lstrip(";").to_numpy()


def assign_status(rng, p: pd.DataFrame, scale: float) -> None:
    """Exit category per patient with the paper's counts; those still active at the
    data cut are drawn with weight on recent implants."""
    n = len(p)
    counts = {"death": scaled("n_death", scale),
              "explant_or_discontinuation": scaled("n_explant_or_discontinuation", scale),
              "other": scaled("n_other_exit", scale)}
    n_active = n - sum(counts.values())
    age_days = (data_cut() - p["implant_date"].to_numpy()) // DAY
    w = np.exp(-age_days / 400.0)
    active = rng.choice(n, size=n_active, replace=False, p=w / w.sum())
    cat = np.full(n, "", dtype=object)
    cat[active] = "active"
    rest = np.flatnonzero(cat == "")
    cat[rest] = _shuffled_labels(rng, list(counts), list(counts.values()))
    p["exit_category"] = cat
    reasons = parameter("exit_reasons")
    p["exit_reason"] = ""
    for category in counts:
        r = reasons[reasons["exit_category"] == category]
        idx = np.flatnonzero(cat == category)
        w = r["share_within_category_pct"].astype(float).to_numpy()
        p.loc[idx, "exit_reason"] = _shuffled_labels(rng, r["exit_reason"], _exact_counts(len(idx), w))


def assign_exit_dates(rng, p: pd.DataFrame, min_days: np.ndarray) -> None:
    """Exit date = implant + a log-normal duration of the reason, kept between the
    patient's last planned contact (min_days) and the data cut."""
    reasons = parameter("exit_reasons").set_index("exit_reason")
    exited = (p["exit_category"] != "active").to_numpy()
    median = reasons["median_days"].astype(float).reindex(p["exit_reason"]).to_numpy()
    sigma = reasons["sigma"].astype(float).reindex(p["exit_reason"]).to_numpy()
    draw = np.round(np.exp(np.log(np.nan_to_num(median, nan=1.0)) + np.nan_to_num(sigma) * rng.standard_normal(len(p))))
    avail = (data_cut() - p["implant_date"].to_numpy()) // DAY
    low = np.maximum(min_days, 1)
    if (exited & (low > avail)).any():
        raise ValueError("a patient's planned contacts do not fit before the data cut")
    outside = (draw < low) | (draw > avail)
    redraw = low + (rng.random(len(p)) * (avail - low + 1)).astype(int)
    days = np.where(outside, redraw, draw).astype(int)
    p["exit_date"] = np.where(exited, p["implant_date"].to_numpy() + days * DAY, np.datetime64("NaT"))
    p["end_date"] = np.where(exited, p["exit_date"].to_numpy(), data_cut())
