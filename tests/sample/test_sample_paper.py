"""The default sample's truth reproduces the paper targets (from the generator alone)."""
import json

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from registry.marts.paper import PAPER_TARGETS

from .conftest import PROJECT

TARGETS = yaml.safe_load((PAPER_TARGETS).read_text())
SEEDS = PROJECT / "dbt_project" / "seeds"


@pytest.fixture(scope="module")
def truth(default_sample):
    t = default_sample.truth_dir
    return {
        "figures": json.loads((t / "figures.json").read_text()),
        "patients": pd.read_csv(t / "patients.csv", dtype={"exit_category": str}, keep_default_na=False),
        "visits": pd.read_csv(t / "visits.csv"),
        "events": pd.read_csv(t / "events.csv"),
        "marts": {p.stem: pd.read_csv(p) for p in (t / "marts").glob("*.csv")},
    }


def test_cohort(truth):
    p = truth["patients"]
    c = TARGETS["cohort"]
    assert len(p) == c["n_patients"]["exact"]
    assert p["age_at_implant"].min() == c["age_min"]["exact"]
    assert p["age_at_implant"].max() == c["age_max"]["exact"]
    assert round(p["age_at_implant"].mean()) == c["age_mean"]["reported"]
    assert round(100 * (p["sex"] == "female").mean(), 1) == c["pct_female"]["reported"]
    labels = truth["marts"]["cancer_types"].query("region == 'All'")
    assert list(labels.sort_values("n_patients", ascending=False)["cancer_type"].head(5)) == c["top_cancer_types_in_order"]
    counts = p["cancer_type"].value_counts()
    assert counts.iloc[4] > counts.iloc[5], "the fifth cancer type must be strictly ahead of the sixth"
    assert set(p["region"]) == set(TARGETS["regions"])
    assert pd.to_datetime(p["implant_date"]).min().year == TARGETS["registry_start_year"]
    assert (pd.to_datetime(p["implant_date"]) <= pd.Timestamp(TARGETS["data_cut"])).all()


def test_disposition(truth):
    p = truth["patients"]
    d = TARGETS["disposition"]
    cat = p["exit_category"].replace("", "active")
    assert (cat != "active").sum() == d["n_exited"]["exact"]
    for name in ("death", "explant_or_discontinuation", "other"):
        n = (cat == name).sum()
        assert n == d[name]["exact"]
        assert round(100 * n / d["n_exited"]["exact"], d[name]["rounding"]) == d[name]["pct_reported"]
    assert (cat == "active").sum() == d["active"]["exact"]
    assert (p.loc[cat == "active", "exit_date"] == "").all()
    exits = pd.to_datetime(p.loc[cat != "active", "exit_date"])
    assert (exits >= pd.to_datetime(p.loc[cat != "active", "implant_date"])).all()


def test_infection(truth):
    e, p = truth["events"], truth["patients"]
    n = e[e["is_infection"] & e["is_surgical"]][["site_id", "patient_ref"]].drop_duplicates().shape[0]
    target = TARGETS["infection_requiring_surgical_intervention"]["pct_patients"]
    assert round(100 * n / len(p), 1) == target["reported"]
    assert n == 45
    # other events exist: non-infections, and infections treated without surgery
    assert (~e["is_infection"]).any() and (e["is_infection"] & ~e["is_surgical"]).any()


def _index(v: pd.DataFrame) -> pd.Series:
    vs = pd.read_csv(SEEDS / "eq5d_value_set.csv")
    const = pd.read_csv(SEEDS / "eq5d_value_set_constants.csv").set_index("eq5d_version")
    dims = ["mobility", "self_care", "usual_activities", "pain_discomfort", "anxiety_depression"]
    out = pd.Series(np.nan, index=v.index)
    full = v[dims].notna().all(axis=1)
    for version, g in v[full].groupby("eq5d_version"):
        dec = sum(g[d].astype(int).map(vs[(vs.eq5d_version == version) & (vs.dimension == d)].set_index("level")["decrement"])
                  for d in dims)
        lv = g[dims].astype(int)
        idx = (1 - const.loc[version, "constant_if_any_problem"] * (lv > 1).any(axis=1) - dec
               - const.loc[version, "n3_if_any_level_3"] * ((lv == 3).any(axis=1) & (version == "3L")))
        out[g.index] = idx.round(3)
    return out


def _windows(v: pd.DataFrame) -> pd.Series:
    """The choice rule recomputed here from the seed, independent of the generator."""
    w = pd.read_csv(SEEDS / "visit_windows.csv")
    out = pd.Series("", index=v.index, dtype=object)
    for r in w[w["is_analysis_window"]].itertuples():
        inside = v[(v.days_from_implant >= r.min_day) & (v.days_from_implant <= r.max_day)].copy()
        inside["dist"] = (inside.days_from_implant - r.target_day).abs()
        best = inside.sort_values(["dist", "visit_date"]).groupby(["site_id", "patient_ref"]).head(1)
        out[best.index] = r.visit_window
    return out


def _pairs(v, measure, window):
    b = v[v.window == "baseline"].set_index(["site_id", "patient_ref"])[measure]
    f = v[v.window == window].set_index(["site_id", "patient_ref"])[measure]
    both = pd.concat([b.rename("b"), f.rename("f")], axis=1, join="inner").dropna()
    return len(both), stats.ttest_rel(both["f"], both["b"]).pvalue


def test_paired_outcomes(truth):
    v = truth["visits"].copy()
    v["window"] = _windows(v)
    assert (v["window"] == v["visit_window"].fillna("")).all()
    assert np.allclose(_index(v).fillna(-9), v["eq5d_index"].fillna(-9))
    assert (pd.to_datetime(v["visit_date"]) >= pd.Timestamp(f"{TARGETS['pro_collection_start_year']}-01-01")).all()
    for measure, section in (("pain_score", "pain_outcomes"), ("eq5d_index", "eq5d_outcomes")):
        for tp, target in TARGETS[section].items():
            n, p = _pairs(v, measure, tp)
            assert n == target["n_paired"], (measure, tp)
            assert round(p, 4) == target["p_value_reported"], (measure, tp, p)
            mart = truth["marts"][section].set_index("timepoint").loc[tp]
            assert mart["n_paired"] == n and mart["p_value"] == pytest.approx(p, rel=1e-9)
            assert mart["test"] == "paired t-test"


def test_age_rule_and_birth_dates(truth):
    p = truth["patients"]
    has = p["birth_date"] != ""
    b, i = pd.to_datetime(p.loc[has, "birth_date"]), pd.to_datetime(p.loc[has, "implant_date"])
    whole = i.dt.year - b.dt.year - ((i.dt.month * 100 + i.dt.day) < (b.dt.month * 100 + b.dt.day))
    assert (whole == p.loc[has, "age_at_implant"]).all()


def test_figures_and_survival(truth):
    f = truth["figures"]
    assert f["cohort"]["n_patients"] == 1403 and f["disposition"]["n_exited"] == 1311
    s = truth["marts"]["survival"]
    assert s["n_deaths"].sum() == 1141
    assert s["survival"].is_monotonic_decreasing and s["days_since_implant"].is_monotonic_increasing
    assert s["n_at_risk"].iloc[0] <= 1403
    q = truth["marts"]["site_data_quality"]
    assert (q["rows_received"] == q["rows_accepted"] + q["rows_rejected"]).all()
    assert set(q["status"]) == {"current", "superseded"}
