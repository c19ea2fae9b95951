"""Statistics of the outcome marts, vectorised over numpy arrays.

Kept free of pandas and DuckDB so each formula can be checked against a
hand-worked example or scipy in isolation.
"""
from __future__ import annotations

import numpy as np

# scipy.stats.norm.ppf(0.975), written out so that loading this module needs no scipy
# (tests/marts check it against scipy).
Z95 = 1.959963984540054


def wilson_interval(successes, totals, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a proportion, as fractions 0..1.

    Wilson rather than Wald because registry proportions are often near 0
    (infections) or small-n (regions), where Wald leaves [0, 1]. Totals of 0
    give NaN.
    """
    k = np.asarray(successes, dtype=float)
    n = np.asarray(totals, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = k / n
        z2n = z * z / n
        centre = (p + z2n / 2) / (1 + z2n)
        half = z * np.sqrt(p * (1 - p) / n + z2n / (4 * n)) / (1 + z2n)
        low = np.where(n > 0, np.clip(centre - half, 0.0, 1.0), np.nan)
        high = np.where(n > 0, np.clip(centre + half, 0.0, 1.0), np.nan)
    return low, high


PAIRED_FIELDS = (
    "n_paired", "baseline_mean", "followup_mean", "mean_change", "sd_change",
    "ci_low", "ci_high", "t_statistic", "p_value", "wilcoxon_statistic", "wilcoxon_p_value",
)


def paired_tests(baseline, followup) -> dict[str, float]:
    """Paired comparison of follow-up against baseline (change = follow-up - baseline).

    The paired t-test is the primary test (its p in ``p_value``); the Wilcoxon
    signed-rank test is reported alongside because pain scores are bounded and
    often skewed. Fewer than 2 pairs give NaN statistics.
    """
    b = np.asarray(baseline, dtype=float)
    f = np.asarray(followup, dtype=float)
    d = f - b
    n = int(d.size)
    out = dict.fromkeys(PAIRED_FIELDS, np.nan)
    out["n_paired"] = n
    if n == 0:
        return out
    # scipy is imported where it is used: the code location loads without it (0.5 s), and a
    # run imports it while dbt builds (orchestration/defs/warehouse/assets.py).
    from scipy import stats as sps

    out["baseline_mean"] = float(b.mean())
    out["followup_mean"] = float(f.mean())
    out["mean_change"] = float(d.mean())
    if n < 2:
        return out
    sd = float(d.std(ddof=1))
    out["sd_change"] = sd
    half = float(sps.t.ppf(0.975, n - 1)) * sd / np.sqrt(n)
    out["ci_low"], out["ci_high"] = out["mean_change"] - half, out["mean_change"] + half
    if sd > 0:
        t = sps.ttest_rel(f, b)
        out["t_statistic"], out["p_value"] = float(t.statistic), float(t.pvalue)
    if np.any(d != 0):
        w = sps.wilcoxon(d)
        out["wilcoxon_statistic"], out["wilcoxon_p_value"] = float(w.statistic), float(w.pvalue)
    return out


KM_FIELDS = (
    "days_since_implant", "n_at_risk", "n_deaths", "n_censored",
    "survival", "std_error", "ci_low", "ci_high",
)


def kaplan_meier(times, died, z: float = Z95) -> dict[str, np.ndarray]:
    """Kaplan-Meier estimate, one entry per distinct death time.

    ``n_censored`` counts the subjects censored from this death time up to
    (not including) the next one, so that n_at_risk of the next row equals
    n_at_risk - n_deaths - n_censored of this one. Subjects censored before
    the first death only lower the first n_at_risk. Confidence limits:
    Greenwood variance on the log(-log S) scale, which keeps them in [0, 1].
    """
    t = np.asarray(times, dtype=float)
    e = np.asarray(died, dtype=bool)
    sorted_all = np.sort(t)
    death_times, n_deaths = np.unique(t[e], return_counts=True)
    n_at_risk = t.size - np.searchsorted(sorted_all, death_times, side="left")
    censored = np.sort(t[~e])
    next_times = np.append(death_times[1:], np.inf)
    n_censored = (np.searchsorted(censored, next_times, side="left")
                  - np.searchsorted(censored, death_times, side="left"))
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.cumprod(1.0 - n_deaths / n_at_risk)
        greenwood = np.cumsum(n_deaths / (n_at_risk * (n_at_risk - n_deaths)))
        std_error = survival * np.sqrt(greenwood)
        se_loglog = np.sqrt(greenwood) / np.abs(np.log(survival))
        ci_low = survival ** np.exp(z * se_loglog)
        ci_high = survival ** np.exp(-z * se_loglog)
    # S = 0 (everyone left at risk died) makes the log-log scale undefined.
    zero = survival <= 0
    ci_low = np.where(zero, 0.0, ci_low)
    ci_high = np.where(zero, 0.0, ci_high)
    std_error = np.where(zero, 0.0, std_error)
    return {
        "days_since_implant": death_times,
        "n_at_risk": n_at_risk.astype(np.int64),
        "n_deaths": n_deaths.astype(np.int64),
        "n_censored": n_censored.astype(np.int64),
        "survival": survival,
        "std_error": std_error,
        "ci_low": ci_low,
        "ci_high": ci_high,
    }


def km_median(death_times, survival, ci_low=None, ci_high=None) -> tuple[float, float, float]:
    """Median survival (first time S <= 0.5) and its Brookmeyer-Crowley-style
    limits read off the pointwise band; NaN when not reached."""

    def first_at_or_below_half(values) -> float:
        if values is None:
            return np.nan
        v = np.asarray(values, dtype=float)
        hit = np.flatnonzero(v <= 0.5)
        return float(np.asarray(death_times, dtype=float)[hit[0]]) if hit.size else np.nan

    return (first_at_or_below_half(survival),
            first_at_or_below_half(ci_low),
            first_at_or_below_half(ci_high))
