"""Patient-reported outcomes: which patients have which visits, and their scores.

Pairs (a chosen baseline and a chosen follow-up visit of a window, both with the
score) are planned group by group so their counts are exact; other visits are
shaped so they never make a pair. At scale 1 the paired t-tests are calibrated
to the paper's P values by nudging single scores one step at a time.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from . import seeds
from .population import DAY, data_cut, scaled
from .tables import target_float, targets

# kind -> (first day, last day, visit label, chosen window)
VISIT_KINDS = {
    "base": (-21, 0, "baseline", "baseline"),
    "m6": (173, 193, "6 months", "6 months"),
    "m12": (351, 379, "12 months", "12 months"),
    "unscheduled": (30, 55, "unscheduled", ""),
    "second_m6": (214, 226, "6 months", ""),
}
# group -> (count expression, earliest implant, latest implant as days before the cut (past every
# visit of the group, second 6-month visits included), visits as kind:P|E)
GROUPS = [
    ("pairs_6_12_eq", ("eq5d_pairs_6_and_12",), "pro_start+31", 400, "base:PE m6:PE m12:PE"),
    ("pairs_6_12", ("pain_pairs_6_and_12", "-eq5d_pairs_6_and_12"), "pro_start+31", 400, "base:P m6:PE m12:PE"),
    ("pairs_6_eq", ("eq5d_pairs_6_only",), "pro_start+31", 230, "base:PE m6:PE"),
    ("pairs_6", ("pain_pairs_6_only", "-eq5d_pairs_6_only"), "pro_start+31", 230, "base:P m6:PE"),
    ("pairs_12_eq", ("eq5d_pairs_12_only",), "pro_start+31", 400, "base:PE m12:PE"),
    ("pairs_12", ("pain_pairs_12_only", "-eq5d_pairs_12_only"), "pro_start+31", 400, "base:PE m12:P"),
    ("baseline_only", ("baseline_only",), "pro_start+31", 0, "base:PE"),
    ("followup_without_baseline", ("followup_without_baseline",), "pro_start-184", 200, "m6:PE"),
    ("followup_without_pain", ("followup_without_pain",), "pro_start+31", 200, "base:P m6:E"),
]
PAIR_GROUPS_6 = ["pairs_6_12_eq", "pairs_6_12", "pairs_6_eq", "pairs_6"]
PAIR_GROUPS_12 = ["pairs_6_12_eq", "pairs_6_12", "pairs_12_eq", "pairs_12"]


def _count(expr: tuple[str, ...], scale: float) -> int:
    return sum(-scaled(e[1:], scale) if e.startswith("-") else scaled(e, scale) for e in expr)


def _bound(expr: str) -> np.datetime64:
    name, _, offset = expr.replace("-", "+-").partition("+")
    return np.datetime64(targets()[name], "D") + int(offset or 0) * DAY


def plan_visits(rng, patients: pd.DataFrame, scale: float) -> pd.DataFrame:
    """One row per planned visit: patient index, group, kind, day, has_pain, has_eq."""
    implant = patients["implant_date"].to_numpy()
    free = np.ones(len(patients), bool)
    rows = []
    for name, expr, lo, days_before_cut, visits in GROUPS:
        count = _count(expr, scale)
        ok = np.flatnonzero(free & (implant >= _bound(lo)) & (implant <= data_cut() - days_before_cut * DAY))
        if count > len(ok):
            raise ValueError(f"not enough patients for visit group {name}")
        chosen = rng.choice(ok, size=count, replace=False)
        free[chosen] = False
        for spec in visits.split():
            kind, flags = spec.split(":")
            rows.append(pd.DataFrame({"pidx": chosen, "group": name, "kind": kind,
                                      "has_pain": "P" in flags, "has_eq": "E" in flags}))
    v = pd.concat(rows, ignore_index=True)
    pair6 = v.loc[v["group"].isin(PAIR_GROUPS_6) & (v["kind"] == "m6"), "pidx"].to_numpy()
    any_pair = v.loc[v["group"].isin(PAIR_GROUPS_6 + PAIR_GROUPS_12), "pidx"].unique()
    extra = []
    for kind, pool, count in (("unscheduled", any_pair, scaled("unscheduled_visits", scale)),
                              ("second_m6", pair6, scaled("second_visit_in_window", scale))):
        chosen = rng.choice(pool, size=min(count, len(pool)), replace=False)
        extra.append(pd.DataFrame({"pidx": chosen, "group": "extra", "kind": kind,
                                   "has_pain": True, "has_eq": kind == "second_m6"}))
    v = pd.concat([v, *extra], ignore_index=True)
    lo = v["kind"].map(lambda k: VISIT_KINDS[k][0]).to_numpy()
    hi = v["kind"].map(lambda k: VISIT_KINDS[k][1]).to_numpy()
    v["day"] = lo + (rng.random(len(v)) * (hi - lo + 1)).astype(int)
    v["visit_label"] = v["kind"].map(lambda k: VISIT_KINDS[k][2])
    v["visit_window"] = v["kind"].map(lambda k: VISIT_KINDS[k][3])
    v["visit_date"] = implant[v["pidx"].to_numpy()] + v["day"].to_numpy() * DAY
    # Unscheduled visits of patients whose pairs are all at 12 months: keep them before day 60.
    return v.sort_values(["pidx", "day"], kind="stable").reset_index(drop=True)


def min_days_after(visits: pd.DataFrame, n: int) -> np.ndarray:
    """Per patient, the first day an exit may fall on (after every planned visit)."""
    out = np.zeros(n, int)
    np.maximum.at(out, visits["pidx"].to_numpy(), visits["day"].to_numpy() + 1)
    return out


# ---------------------------------------------------------------- scores

def _p_from_diffs(sum_d, sumsq_d, n):
    mean = sum_d / n
    var = (sumsq_d - n * mean ** 2) / (n - 1)
    t = mean / np.sqrt(np.maximum(var, 1e-300) / n)
    return 2 * stats.t.sf(np.abs(t), n - 1), t


def _greedy(values, candidates, apply, p_target: float, direction: int, max_steps: int = 20000) -> float:
    """Nudge single values until the paired t-test P value prints as p_target at 4
    decimals (with a 5% margin inside the rounding interval).

    direction: -1 when the follow-up must be lower (pain), +1 higher (EQ-5D index).
    values() -> (follow-up, baseline) arrays per pair; candidates() -> (pair index,
    new follow-up, new baseline) of every single-step change; apply(i) commits one."""
    lo, hi = p_target - 0.00005, p_target + 0.00005
    lo, hi = lo + 0.05 * (hi - lo), hi - 0.05 * (hi - lo)
    target = np.log(p_target)
    for _ in range(max_steps):
        vf, vb = values()
        p = stats.ttest_rel(vf, vb).pvalue
        if lo <= p < hi and np.sign(vf.mean() - vb.mean()) == direction:
            return float(p)
        idx, nf, nb = candidates()
        d = vf - vb
        new_d = nf - nb
        cand_p, cand_t = _p_from_diffs(d.sum() - d[idx] + new_d, (d ** 2).sum() - d[idx] ** 2 + new_d ** 2, len(d))
        # Outcomes improve (direction -1: follow-up below baseline, pain; +1: above, EQ-5D).
        score = np.abs(np.log(cand_p) - target) + np.where(np.sign(cand_t) == direction, 0, 1e6)
        apply(int(np.argmin(score)))
    raise RuntimeError("P value calibration did not converge")


def pair_rows(visits: pd.DataFrame, groups, kind: str) -> tuple[np.ndarray, np.ndarray]:
    """Row positions of (baseline, follow-up) visits of the planned pairs."""
    sel = visits["group"].isin(groups).to_numpy()
    kinds = visits["kind"].to_numpy()
    pidx = visits["pidx"].to_numpy()
    follow = np.flatnonzero(sel & (kinds == kind))
    base_of = pd.Series(np.flatnonzero(sel & (kinds == "base")), index=pidx[sel & (kinds == "base")])
    return base_of.loc[pidx[follow]].to_numpy(), follow


def pain_scores(rng, visits: pd.DataFrame, div: np.ndarray, calibrate_p: bool) -> np.ndarray:
    """Pain per visit in site steps (k / div is the 0-10 value; div 1 for NRS,
    2 for NRS with half points, 10 for VAS mm); NaN where the visit has no pain."""
    n = len(visits)
    kmax = 10 * div
    base_level = np.clip(rng.normal(7.2, 1.5, n), 2, 10)
    patient_base = pd.Series(base_level).groupby(visits["pidx"].to_numpy()).transform("first").to_numpy()
    is_base = (visits["kind"] == "base").to_numpy()
    value = np.where(is_base, base_level, patient_base + rng.normal(-1.0, 2.2, n))
    k = np.clip(np.round(value * div), 0, kmax).astype(float)
    if calibrate_p:
        for kind, groups, p_name, move_base in (("m6", PAIR_GROUPS_6, "pain_p_6", True),
                                                 ("m12", PAIR_GROUPS_12, "pain_p_12", False)):
            bi, fi = pair_rows(visits, groups, kind)
            moves = [(fi, +1), (fi, -1)] + ([(bi, +1), (bi, -1)] if move_base else [])
            token = []

            def values():
                return k[fi] / div[fi], k[bi] / div[bi]

            def candidates():
                token.clear()
                idx, nf, nb = [], [], []
                vf, vb = values()
                for rows, step in moves:
                    newk = k[rows] + step
                    ok = np.flatnonzero((newk >= 0) & (newk <= kmax[rows]))
                    new_v = newk[ok] / div[rows][ok]
                    idx.append(ok)
                    nf.append(new_v if rows is fi else vf[ok])
                    nb.append(new_v if rows is bi else vb[ok])
                    token.extend((rows[j], step) for j in ok)
                return np.concatenate(idx), np.concatenate(nf), np.concatenate(nb)

            def apply(i):
                row, step = token[i]
                k[row] += step

            _greedy(values, candidates, apply, target_float(p_name), -1)
    k[~visits["has_pain"].to_numpy()] = np.nan
    return k


def _index(levels: np.ndarray, versions: np.ndarray) -> np.ndarray:
    out = np.full(len(levels), np.nan)
    for version in np.unique(versions):
        m = versions == version
        out[m] = seeds.eq5d_index(version, levels[m])
    return out


# Baseline level probabilities: pain/discomfort mostly severe, self-care mostly fine.
_BASE_LEVEL_P = {
    "3L": [[.30, .60, .10], [.55, .40, .05], [.15, .60, .25], [.02, .50, .48], [.35, .50, .15]],
    "5L": [[.15, .30, .30, .20, .05], [.40, .30, .20, .08, .02], [.10, .25, .30, .25, .10],
           [.02, .10, .30, .38, .20], [.25, .35, .25, .10, .05]],
}


def eq5d_scores(rng, visits: pd.DataFrame, versions: np.ndarray, calibrate_p: bool):
    """(levels n x 5, with 0 where the visit has no EQ-5D; EQ VAS, NaN likewise)."""
    n = len(visits)
    levels = np.zeros((n, 5), int)
    for version, probs in _BASE_LEVEL_P.items():
        m = np.flatnonzero(versions == version)
        for d, p in enumerate(probs):
            levels[m, d] = rng.choice(np.arange(1, len(p) + 1), size=len(m), p=p)
    maxl = np.where(versions == "5L", 5, 3)
    # Follow-ups start from the patient's baseline levels, a little better on average.
    pidx = visits["pidx"].to_numpy()
    first = pd.Series(np.arange(n)).groupby(pidx).transform("first").to_numpy()
    follow = (visits["kind"] != "base").to_numpy()
    step = rng.choice([-1, 0, 1], size=(n, 5), p=[.3, .6, .1])
    levels[follow] = np.clip(levels[first[follow]] + step[follow], 1, maxl[follow, None])
    if calibrate_p:
        bi, fi = pair_rows(visits, ["pairs_6_12_eq", "pairs_6_eq"], "m6")
        token = []

        def values():
            return _index(levels[fi], versions[fi]), _index(levels[bi], versions[bi])

        def candidates():
            token.clear()
            idx, nf, nb = [], [], []
            vf, vb = values()
            for rows in (fi, bi):
                for d in range(5):
                    for s in (+1, -1):
                        new = levels[rows].copy()
                        new[:, d] += s
                        ok = np.flatnonzero((new[:, d] >= 1) & (new[:, d] <= maxl[rows]))
                        new_v = _index(new[ok], versions[rows][ok])
                        idx.append(ok)
                        nf.append(new_v if rows is fi else vf[ok])
                        nb.append(new_v if rows is bi else vb[ok])
                        token.extend((rows[j], d, s) for j in ok)
            return np.concatenate(idx), np.concatenate(nf), np.concatenate(nb)

        def apply(i):
            row, d, s = token[i]
            levels[row, d] += s

        _greedy(values, candidates, apply, target_float("eq5d_p_6"), +1)
    has_eq = visits["has_eq"].to_numpy()
    levels[~has_eq] = 0
    vas = np.clip(np.round(rng.normal(np.where(follow, 55, 45), 18)), 0, 100)
    vas[~has_eq] = np.nan
    return levels, vas
