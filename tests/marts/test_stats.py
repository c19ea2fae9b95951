import numpy as np
import pytest
from scipy import stats as sps

from registry.marts.stats import (
    Z95,
    kaplan_meier,
    km_median,
    paired_tests,
    wilson_interval,
)


def test_wilson_matches_scipy_for_the_paper_infection_rate():
    low, high = wilson_interval(45, 1403)
    ci = sps.binomtest(45, 1403).proportion_ci(confidence_level=0.95, method="wilson")
    assert float(low) == pytest.approx(ci.low, abs=1e-9)
    assert float(high) == pytest.approx(ci.high, abs=1e-9)
    assert (round(float(low), 5), round(float(high), 5)) == (0.02406, 0.04265)


def test_wilson_is_vectorised_and_handles_edges():
    low, high = wilson_interval(np.array([0, 5, 3]), np.array([10, 5, 0]))
    assert low[0] == 0.0 and high[0] > 0
    assert high[1] == 1.0 and low[1] < 1
    assert np.isnan(low[2]) and np.isnan(high[2])


def test_paired_tests_agree_with_scipy():
    base = np.array([8, 7, 9, 6, 7.5, 8, 6, 9])
    follow = np.array([5, 6, 4, 6, 3, 7, 2, 5])
    out = paired_tests(base, follow)
    d = follow - base
    assert out["n_paired"] == 8
    assert out["mean_change"] == pytest.approx(-2.8125)
    assert out["sd_change"] == pytest.approx(d.std(ddof=1))
    t = sps.ttest_rel(follow, base)
    assert out["p_value"] == pytest.approx(t.pvalue) and out["t_statistic"] == pytest.approx(t.statistic)
    assert out["wilcoxon_p_value"] == pytest.approx(sps.wilcoxon(d).pvalue)
    half = sps.t.ppf(0.975, 7) * d.std(ddof=1) / np.sqrt(8)
    assert (out["ci_low"], out["ci_high"]) == pytest.approx((d.mean() - half, d.mean() + half))


def test_paired_tests_with_too_few_or_identical_pairs():
    one = paired_tests([5.0], [3.0])
    assert one["n_paired"] == 1 and one["mean_change"] == -2.0 and np.isnan(one["p_value"])
    same = paired_tests([5.0, 6.0, 7.0], [5.0, 6.0, 7.0])
    assert same["mean_change"] == 0 and np.isnan(same["p_value"]) and np.isnan(same["wilcoxon_p_value"])
    none = paired_tests([], [])
    assert none["n_paired"] == 0 and np.isnan(none["baseline_mean"])


def test_kaplan_meier_hand_worked():
    # deaths at 1, 2, 3, 5; censored at 2 and 4.
    km = kaplan_meier([1, 2, 2, 3, 4, 5], [1, 1, 0, 1, 0, 1])
    assert km["days_since_implant"].tolist() == [1, 2, 3, 5]
    assert km["n_at_risk"].tolist() == [6, 5, 3, 1]
    assert km["n_deaths"].tolist() == [1, 1, 1, 1]
    assert km["n_censored"].tolist() == [0, 1, 1, 0]
    assert km["survival"] == pytest.approx([5 / 6, 2 / 3, 4 / 9, 0.0])
    # Greenwood at t=1: S^2 * 1/(6*5)
    assert km["std_error"][0] == pytest.approx((5 / 6) * np.sqrt(1 / 30))
    assert np.all(km["ci_low"] <= km["survival"]) and np.all(km["survival"] <= km["ci_high"])
    median, low, high = km_median(km["days_since_implant"], km["survival"], km["ci_low"], km["ci_high"])
    assert median == 3.0 and low <= median and (np.isnan(high) or high >= median)


def test_kaplan_meier_without_deaths_is_empty():
    km = kaplan_meier([3, 4], [0, 0])
    assert km["days_since_implant"].size == 0
    assert np.isnan(km_median(km["days_since_implant"], km["survival"])[0])


def test_z95_is_scipys_normal_quantile():
    assert Z95 == float(sps.norm.ppf(0.975))
