"""Marts of the fixture star schema against figures worked out by hand
(see star_fixture.py for the patients)."""
import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from registry import warehouse as warehouse_db
from registry.marts import CONTRACT_MARTS, build_marts, write_marts

from .star_fixture import build_star

REQUIRED = {
    "cohort_overview": ["region", "n_patients", "n_female", "pct_female", "age_mean", "age_sd",
                        "age_min", "age_max"],
    "cancer_types": ["region", "cancer_type", "n_patients", "pct_patients"],
    "disposition": ["exit_category", "n_patients", "pct_of_exited"],
    "pain_outcomes": ["timepoint", "n_paired", "baseline_mean", "followup_mean", "mean_change",
                      "p_value", "test"],
    "eq5d_outcomes": ["timepoint", "n_paired", "baseline_index_mean", "followup_index_mean",
                      "mean_change", "p_value", "test"],
    "infection_outcomes": ["region", "n_patients", "n_infection_surgical", "pct_infection_surgical"],
    "survival": ["days_since_implant", "n_at_risk", "n_deaths", "survival"],
    "site_data_quality": ["site_id", "file_name", "data_cut", "rows_received", "rows_accepted",
                          "rows_rejected", "status"],
}


def row(df, **where):
    mask = pd.Series(True, index=df.index)
    for column, value in where.items():
        mask &= df[column] == value
    assert mask.sum() == 1, where
    return df[mask].iloc[0]


def test_every_contract_mart_has_its_required_columns_first(marts):
    assert set(CONTRACT_MARTS) <= set(marts)
    for name, columns in REQUIRED.items():
        present = [c for c in marts[name].columns if c in columns]
        assert present == columns, name


def test_cohort_overview(marts):
    df = marts["cohort_overview"]
    all_ = row(df, region="All")
    ages = [45, 55, 62, 70, 13, 93, 58, 61, 66, 49, 75, 80, 52, 64, 57, 71, 59, 68, 48, 54, 60]
    assert (all_.n_patients, all_.n_female, all_.age_min, all_.age_max) == (21, 11, 13, 93)
    assert all_.pct_female == pytest.approx(100 * 11 / 21)
    assert all_.age_mean == pytest.approx(np.mean(ages))
    assert all_.age_sd == pytest.approx(np.std(ages, ddof=1))
    ci = sps.binomtest(11, 21).proportion_ci(method="wilson")
    assert all_.pct_female_ci_low == pytest.approx(100 * ci.low)
    us = row(df, region="United States")
    assert (us.n_patients, us.n_female, us.suppressed) == (12, 6, False)
    assert list(df["region"]) == ["All", "Latin America", "United States", "Western Europe"]


def test_small_cells_are_suppressed_in_region_rows_only(marts):
    cohort = marts["cohort_overview"]
    latam = row(cohort, region="Latin America")  # 3 patients
    assert latam.suppressed and pd.isna(latam.n_patients) and pd.isna(latam.age_mean)
    # Western Europe: 3 women, 3 men; its 6 patients are the complementary cell
    # without which Latin America's 3 = 21 - 12 - 6.
    europe = row(cohort, region="Western Europe")
    assert europe.suppressed and pd.isna(europe.n_patients) and pd.isna(europe.n_female)
    assert pd.isna(europe.pct_female) and pd.isna(europe.age_min)
    assert row(cohort, region="United States").n_patients == 12
    infections = marts["infection_outcomes"]
    assert pd.isna(row(infections, region="United States").n_infection_surgical)  # 1 patient
    assert row(infections, region="Western Europe").n_infection_surgical == 0  # zero is not small
    assert row(infections, region="All").n_infection_surgical == 2  # All is exact
    for name in ("cohort_overview", "cancer_types", "disposition", "pain_outcomes",
                 "eq5d_outcomes", "infection_outcomes", "survival_summary"):
        all_rows = marts[name][marts[name]["region"] == "All"]
        assert not all_rows["suppressed"].any(), name


def test_threshold_is_configurable(star_con):
    exact = build_marts(star_con, small_cell_max=0)
    assert not exact["cohort_overview"]["suppressed"].any()
    assert row(exact["cohort_overview"], region="Latin America").n_patients == 3
    strict = build_marts(star_con, small_cell_max=6)
    assert pd.isna(row(strict["cohort_overview"], region="Western Europe").n_patients)
    default = build_marts(star_con, small_cell_max=4)
    assert pd.isna(row(default["cohort_overview"], region="Latin America").n_patients)
    with pytest.raises(ValueError):
        build_marts(star_con, small_cell_max=-1)


def test_cancer_types(marts):
    df = marts["cancer_types"]
    top = df[df["region"] == "All"].sort_values("rank")
    assert list(top["cancer_type"]) == ["lung", "breast", "colon/rectal", "pancreatic",
                                        "gastric", "prostate"]  # ties by label
    assert list(top["n_patients"]) == [10, 4, 3, 2, 1, 1]
    assert row(df, region="All", cancer_type="lung").pct_patients == pytest.approx(100 * 10 / 21)
    assert row(df, region="United States", cancer_type="lung").n_patients == 6
    assert pd.isna(row(df, region="United States", cancer_type="breast").n_patients)


def test_disposition(marts):
    df = marts["disposition"]
    all_ = df[df["region"] == "All"].set_index("exit_category")
    assert list(all_.index) == ["death", "explant_or_discontinuation", "other", "not_reported", "active"]
    assert list(all_["n_patients"]) == [10, 2, 2, 0, 7]
    assert all_.loc["death", "pct_of_exited"] == pytest.approx(100 * 10 / 14)
    assert pd.isna(all_.loc["active", "pct_of_exited"])
    assert row(df, region="United States", exit_category="death").n_patients == 6
    assert row(df, region="Latin America", exit_category="other").n_patients == 0


def test_pain_pairs_use_only_chosen_visits_with_both_scores(marts):
    df = marts["pain_outcomes"]
    six = row(df, timepoint="6 months", region="All")
    base = np.array([8, 7, 9, 6, 7.5, 8, 6, 9])
    follow = np.array([5, 6, 4, 6, 3, 7, 2, 5])
    assert six.n_paired == 8 and six.test == "paired t-test"
    assert six.baseline_mean == pytest.approx(base.mean())
    assert six.followup_mean == pytest.approx(follow.mean())
    assert six.mean_change == pytest.approx((follow - base).mean())
    assert six.p_value == pytest.approx(sps.ttest_rel(follow, base).pvalue)
    assert six.wilcoxon_p_value == pytest.approx(sps.wilcoxon(follow - base).pvalue)
    twelve = row(df, timepoint="12 months", region="All")
    assert twelve.n_paired == 3 and twelve.mean_change == pytest.approx(-10 / 3)
    assert pd.isna(row(df, timepoint="6 months", region="Western Europe").n_paired)  # 2
    # United States' 5 pairs are complementary: without them Latin America's 1
    # and Western Europe's 2 would lie in 0..3, narrower than the rule allows.
    assert pd.isna(row(df, timepoint="6 months", region="United States").n_paired)


def test_pain_pairs_exact_without_suppression(star_con):
    df = build_marts(star_con, small_cell_max=0)["pain_outcomes"]
    assert row(df, timepoint="6 months", region="United States").n_paired == 5


def test_eq5d_pairs(marts):
    six = row(marts["eq5d_outcomes"], timepoint="6 months", region="All")
    assert six.n_paired == 5
    assert six.baseline_index_mean == pytest.approx(0.4)
    assert six.followup_index_mean == pytest.approx(0.57)
    assert row(marts["eq5d_outcomes"], timepoint="12 months", region="All").n_paired == 0


def test_survival_curve_and_summary(marts):
    km = marts["survival"]
    assert list(km["days_since_implant"]) == [30, 50, 60, 100, 120, 200, 250, 300, 365]
    assert list(km["n_at_risk"]) == [21, 20, 19, 17, 15, 13, 11, 10, 9]
    assert list(km["n_deaths"]) == [1, 1, 1, 2, 1, 1, 1, 1, 1]
    assert list(km["n_censored"]) == [0, 0, 1, 0, 1, 1, 0, 0, 8]
    expected = np.cumprod(1 - km["n_deaths"] / km["n_at_risk"])
    assert km["survival"].to_numpy() == pytest.approx(expected.to_numpy())
    summary = row(marts["survival_summary"], region="All")
    assert (summary.n_patients, summary.n_deaths, summary.median_survival_days) == (21, 10, 365)
    assert str(summary.data_cut) == "2017-07-31"
    at_risk = marts["survival_at_risk"]
    assert at_risk["n_at_risk"].iloc[0] == 21 and at_risk["n_at_risk"].is_monotonic_decreasing


def test_site_data_quality_lists_every_delivery_unsuppressed(marts):
    df = marts["site_data_quality"]
    assert len(df) == 6 and "suppressed" not in df.columns
    rejected = row(df, status="rejected")
    assert rejected.site_id == "BR-001" and rejected.reason.startswith("unreadable_workbook")
    assert row(df, delivery_id="d1").rows_rejected == 3
    reasons = marts["site_rejection_reasons"]
    assert row(reasons, delivery_id="d1", reason="pain_out_of_range").n_rows == 2


def test_build_marts_only_reads(star_db, tmp_path):
    con = warehouse_db.connect(star_db, read_only=True)
    build_marts(con, small_cell_max=4)  # a read-only connection would fail on any write
    con.close()


def test_write_marts_replaces_the_marts_schema(tmp_path, marts):
    con = warehouse_db.connect(build_star(tmp_path / "writable.duckdb"))
    write_marts(con, {"old_mart": pd.DataFrame({"x": [1]})})
    write_marts(con, marts)
    tables = {r[0] for r in con.execute(
        "select table_name from information_schema.tables where table_schema = 'marts'").fetchall()}
    assert tables == set(marts)
    assert con.execute("select n_patients from marts.cohort_overview where region = 'All'"
                       ).fetchone()[0] == 21
    assert con.execute("select typeof(data_cut) from marts.site_data_quality limit 1"
                       ).fetchone()[0] == "DATE"
    con.close()
