"""The truth beside the inbox: canonical patient-level data and every mart's rows,
computed from the generator's model (never from the workbooks)."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from . import seeds
from .model import Registry

CANCER_LABELS = {"colorectal": "colon/rectal", "head_neck": "head and neck", "unknown_primary": "unknown primary"}
PAIR_TEST = "paired t-test"


def _iso(s) -> pd.Series:
    return pd.to_datetime(pd.Series(s)).dt.strftime("%Y-%m-%d").fillna("")


def patients_csv(reg: Registry) -> pd.DataFrame:
    p, sites = reg.patients, reg.sites
    birth_field = sites["birth_field"].to_numpy()[p["site_idx"].to_numpy()]
    implant_year = pd.DatetimeIndex(p["implant_date"]).year.to_numpy()
    jan1 = pd.to_datetime(pd.Series(implant_year - p["age_at_implant"].to_numpy()).astype(str) + "-01-01")
    birth = np.where(pd.Series(birth_field).str.startswith("birth_date"), _iso(p["birth_date_model"]),
                     np.where(birth_field == "birth_year", _iso(jan1), ""))
    return pd.DataFrame({
        "site_id": p["site_id"], "patient_ref": p["patient_ref"], "region": p["region"], "sex": p["sex"],
        "birth_date": birth, "age_at_implant": p["age_at_implant"], "implant_date": _iso(p["implant_date"]),
        "implant_type": p["implant_type"], "cancer_type": p["cancer_type"], "drugs": p["drugs"],
        "exit_date": _iso(p["exit_date"]), "exit_reason": p["exit_reason"],
        "exit_category": p["exit_category"].replace("active", ""),
        "last_contact_date": _iso(p["last_contact_date"]), "data_cut": _iso(p["data_cut"]),
    })


def chosen_windows(visits: pd.DataFrame, implant: np.ndarray) -> np.ndarray:
    """The visit-window choice rule of the pipeline, applied to the model's visits:
    per patient and window the visit closest to the target day (ties: earlier)."""
    days = visits["days_from_implant"].to_numpy()
    out = np.full(len(visits), "", dtype=object)
    for w in seeds.visit_windows().itertuples():
        if str(w.is_analysis_window).lower() != "true":
            continue
        inside = np.flatnonzero((days >= w.min_day) & (days <= w.max_day))
        cand = pd.DataFrame({"row": inside, "pidx": visits["pidx"].to_numpy()[inside],
                             "dist": np.abs(days[inside] - w.target_day), "day": days[inside]})
        best = cand.sort_values(["pidx", "dist", "day", "row"]).drop_duplicates("pidx")
        out[best["row"].to_numpy()] = w.visit_window
    return out


def visits_csv(reg: Registry) -> pd.DataFrame:
    v = reg.visits
    return pd.DataFrame({
        "site_id": v["site_id"], "patient_ref": v["patient_ref"], "visit_date": _iso(v["visit_date"]),
        "days_from_implant": v["days_from_implant"], "visit_window": v["chosen_window"],
        "pain_score": v["pain_score"], **{d: v[d].astype("Int64") for d in seeds.DIMENSIONS},
        "eq5d_version": v["eq5d_version"], "eq5d_index": v["eq5d_index"], "eq_vas": v["eq_vas"].astype("Int64"),
    })


def events_csv(reg: Registry) -> pd.DataFrame:
    e = reg.events
    return pd.DataFrame({"site_id": e["site_id"], "patient_ref": e["patient_ref"], "onset_date": _iso(e["onset_date"]),
                         "event_type": e["event_type"], "interventions": e["interventions"],
                         "is_infection": e["is_infection"], "is_surgical": e["is_surgical"]})


# ---------------------------------------------------------------- marts

def _by_region(p: pd.DataFrame) -> list[tuple[str, pd.DataFrame]]:
    return [(r, p[p["region"] == r]) for r in sorted(p["region"].unique())] + [("All", p)]


def marts(reg: Registry, deliveries: pd.DataFrame) -> dict[str, pd.DataFrame]:
    p, v, e = reg.patients, reg.visits, reg.events
    out = {}
    rows = []
    for region, g in _by_region(p):
        a = g["age_at_implant"]
        nf = int((g["sex"] == "female").sum())
        rows.append({"region": region, "n_patients": len(g), "n_female": nf, "pct_female": 100 * nf / len(g),
                     "age_mean": a.mean(), "age_sd": a.std(ddof=1), "age_min": int(a.min()), "age_max": int(a.max())})
    out["cohort_overview"] = pd.DataFrame(rows)

    rows = []
    for region, g in _by_region(p):
        counts = g["cancer_type"].value_counts()
        for code, n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])):
            rows.append({"region": region, "cancer_type": CANCER_LABELS.get(code, code), "cancer_type_code": code,
                         "n_patients": int(n), "pct_patients": 100 * n / len(g)})
    out["cancer_types"] = pd.DataFrame(rows)

    n_exited = int((p["exit_category"] != "active").sum())
    rows = []
    for cat in ("death", "explant_or_discontinuation", "other", "active"):
        n = int((p["exit_category"] == cat).sum())
        rows.append({"exit_category": cat, "n_patients": n, "pct_of_exited": None if cat == "active" else 100 * n / n_exited})
    out["disposition"] = pd.DataFrame(rows)

    for mart, measure, names in (("pain_outcomes", "pain_score", ("baseline_mean", "followup_mean")),
                                 ("eq5d_outcomes", "eq5d_index", ("baseline_index_mean", "followup_index_mean"))):
        rows = []
        for window in ("6 months", "12 months"):
            n, b, f, pv = _pairs(v, measure, window)
            rows.append({"timepoint": window, "n_paired": n, names[0]: b, names[1]: f, "mean_change": f - b,
                         "p_value": pv, "test": PAIR_TEST})
        out[mart] = pd.DataFrame(rows)

    surg = set(e.loc[e["is_infection"] & e["is_surgical"], "pidx"])
    rows = []
    for region, g in _by_region(p):
        k = int(g.index.isin(list(surg)).sum())
        rows.append({"region": region, "n_patients": len(g), "n_infection_surgical": k,
                     "pct_infection_surgical": 100 * k / len(g)})
    out["infection_outcomes"] = pd.DataFrame(rows)
    out["survival"] = survival(p)
    out["site_data_quality"] = deliveries[["site_id", "file_name", "data_cut", "rows_received", "rows_accepted",
                                           "rows_rejected", "status"]].reset_index(drop=True)
    return out


def _pairs(v: pd.DataFrame, measure: str, window: str):
    from scipy import stats
    chosen = v[v["chosen_window"] != ""]
    base = chosen[chosen["chosen_window"] == "baseline"].set_index("pidx")[measure].rename("b")
    fol = chosen[chosen["chosen_window"] == window].set_index("pidx")[measure].rename("f")
    both = pd.concat([base, fol], axis=1, join="inner").dropna()
    if len(both) < 2:
        return len(both), np.nan, np.nan, np.nan
    return len(both), both["b"].mean(), both["f"].mean(), float(stats.ttest_rel(both["f"], both["b"]).pvalue)


def survival(p: pd.DataFrame) -> pd.DataFrame:
    """Kaplan-Meier from implant to death, censored at other exits or the data cut."""
    end = p["exit_date"].where(p["exit_date"].notna(), p["data_cut"])
    t = ((pd.to_datetime(end) - pd.to_datetime(p["implant_date"])).dt.days).to_numpy()
    died = (p["exit_category"] == "death").to_numpy()
    times = np.unique(t[died])
    ts = np.sort(t)
    at_risk = len(t) - np.searchsorted(ts, times, side="left")
    deaths = np.bincount(np.searchsorted(times, t[died]), minlength=len(times))
    surv = np.cumprod(1 - deaths / at_risk)
    return pd.DataFrame({"days_since_implant": times, "n_at_risk": at_risk, "n_deaths": deaths, "survival": surv})


def figures(m: dict[str, pd.DataFrame], data_cut: str) -> dict:
    allc = m["cohort_overview"].set_index("region").loc["All"]
    cancers = m["cancer_types"][m["cancer_types"]["region"] == "All"]
    disp = m["disposition"].set_index("exit_category")
    pain = m["pain_outcomes"].set_index("timepoint")
    eq = m["eq5d_outcomes"].set_index("timepoint")
    inf = m["infection_outcomes"].set_index("region").loc["All"]
    regions = [r for r in m["cohort_overview"]["region"] if r != "All"]
    return {
        "data_cut": data_cut,
        "regions": regions,
        "cohort": {"n_patients": int(allc["n_patients"]), "age_mean": float(allc["age_mean"]),
                   "age_sd": float(allc["age_sd"]), "age_min": int(allc["age_min"]), "age_max": int(allc["age_max"]),
                   "n_female": int(allc["n_female"]), "pct_female": float(allc["pct_female"]),
                   "top_cancer_types_in_order": list(cancers["cancer_type"].head(5))},
        "disposition": {"n_exited": int(disp.drop("active")["n_patients"].sum()),
                        **{k: {"n": int(disp.loc[k, "n_patients"]),
                               "pct": None if k == "active" else float(disp.loc[k, "pct_of_exited"])}
                           for k in disp.index}},
        "pain_outcomes": {tp: {"n_paired": int(r["n_paired"]), "p_value": float(r["p_value"]),
                               "baseline_mean": float(r["baseline_mean"]), "followup_mean": float(r["followup_mean"])}
                          for tp, r in pain.iterrows()},
        "eq5d_outcomes": {tp: {"n_paired": int(r["n_paired"]), "p_value": float(r["p_value"]),
                               "baseline_index_mean": float(r["baseline_index_mean"]),
                               "followup_index_mean": float(r["followup_index_mean"])} for tp, r in eq.iterrows()},
        "infection_requiring_surgical_intervention": {"n_patients": int(inf["n_infection_surgical"]),
                                                      "pct_patients": float(inf["pct_infection_surgical"])},
        "test": PAIR_TEST,
    }


def write(truth_dir: Path, reg: Registry, deliveries: pd.DataFrame, rejections: pd.DataFrame,
          identifiers: pd.DataFrame, warnings: pd.DataFrame, data_cut: str) -> None:
    (truth_dir / "marts").mkdir(parents=True, exist_ok=True)
    patients_csv(reg).to_csv(truth_dir / "patients.csv", index=False)
    visits_csv(reg).to_csv(truth_dir / "visits.csv", index=False)
    events_csv(reg).to_csv(truth_dir / "events.csv", index=False)
    deliveries[["file_path", "site_id", "data_cut", "expected_status", "reason_code"]].to_csv(
        truth_dir / "files.csv", index=False)
    rejections.to_csv(truth_dir / "rejections.csv", index=False)
    identifiers.to_csv(truth_dir / "identifiers.csv", index=False)
    warnings.to_csv(truth_dir / "warnings.csv", index=False)
    m = marts(reg, deliveries)
    for name, df in m.items():
        df.to_csv(truth_dir / "marts" / f"{name}.csv", index=False)
    (truth_dir / "figures.json").write_text(json.dumps(figures(m, data_cut), indent=2) + "\n")
