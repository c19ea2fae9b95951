"""The report's figures: matplotlib SVG, the Kaplan-Meier drawing rule."""
import re

import numpy as np
import pandas as pd

from registry.publish.report import figures


def test_regional_steps_rest_on_enough_deaths():
    rng = np.random.default_rng(1)
    days = np.round(rng.exponential(200, 300)) + 1
    died = rng.random(300) < 0.8
    steps = figures.regional_steps(days, died, min_events=5)
    grid = steps["day"].to_numpy()
    assert grid[0] == 0 and np.allclose(grid[1:] / figures.DAYS_PER_MONTH,
                                        np.round(grid[1:] / figures.DAYS_PER_MONTH))
    deaths = np.sort(days[died])
    drops = np.flatnonzero(np.diff(steps["survival"].to_numpy()) < 0) + 1
    previous = 0.0
    for i in drops:
        n = np.searchsorted(deaths, grid[i], side="right") - np.searchsorted(deaths, previous, side="right")
        assert n >= 5, (grid[i], n)
        previous = grid[i]
    at_risk_at_end = (days >= grid[-1]).sum()
    assert at_risk_at_end >= 5


def test_region_with_few_deaths_gives_no_step():
    steps = figures.regional_steps([10, 20, 30, 400], [True, True, False, False], min_events=5)
    assert (steps["survival"] == 1.0).all()


def test_time_axis_months_then_years():
    months, label, ticks = figures.time_axis(700)
    assert label == "Months since implant" and ticks[:3] == ["0", "6", "12"]
    months, label, ticks = figures.time_axis(3000)
    assert label == "Years since implant" and ticks[:3] == ["0", "1", "2"]
    assert list(figures.tick_days(np.array([0, 6, 12]))) == [0, 183, 365]


def test_km_figure_runs_to_the_last_follow_up(fixture_marts, fixture_follow_up):
    svg, notes = figures.km_figure(fixture_marts["survival"], fixture_marts["survival_at_risk"],
                                   small_cell_max=4, follow_up=fixture_follow_up, title="KM")
    assert notes["end_day"] == fixture_follow_up["days"].max()
    assert notes["exact_censoring"] and notes["min_events"] == 5
    # 6 deaths in the United States make one step of at least 5; the other regions
    # have too few deaths for any step, and are said not to be drawn.
    assert notes["regions_drawn"] == ["United States"]
    assert notes["regions_not_drawn"] == ["Latin America", "Western Europe"]
    assert svg.startswith("<svg") and "<?xml" not in svg and "<script" not in svg
    assert "Number at risk" in svg and "Censored" in svg
    ids = re.findall(r'\bid="([^"]+)"', svg)
    assert ids and all(i.startswith("km-") for i in ids)
    refs = re.findall(r'(?:href="#|url\(#)([^")]+)', svg)
    assert set(refs) <= set(ids)


def test_km_figure_without_follow_up_uses_the_marts(fixture_marts):
    svg, notes = figures.km_figure(fixture_marts["survival"], fixture_marts["survival_at_risk"],
                                   small_cell_max=4, title="KM")
    assert not notes["exact_censoring"] and notes["regions_drawn"] == []
    assert notes["end_day"] >= fixture_marts["survival"]["days_since_implant"].max()


def test_regional_curves_drawn_when_not_disclosive(fixture_marts):
    rng = np.random.default_rng(7)
    follow_up = pd.DataFrame({"region": np.repeat(["North", "South"], 200),
                              "days": np.round(rng.exponential(300, 400)) + 1,
                              "died": rng.random(400) < 0.85})
    svg, notes = figures.km_figure(fixture_marts["survival"], fixture_marts["survival_at_risk"],
                                   small_cell_max=4, follow_up=follow_up, title="KM")
    assert notes["regions_drawn"] == ["North", "South"]
    assert "North" in svg and "South" in svg


def test_quality_figure_of_a_national_registry_draws_the_sites_with_most_rejected_rows():
    n = figures.MAX_SITES_DRAWN + 60
    quality = pd.DataFrame({"site_id": [f"S{i:04d}" for i in range(n)], "status": "current",
                            "rows_accepted": 100, "rows_rejected": [i % 7 for i in range(n)]})
    svg = figures.quality_figure(quality, "Rows per site")
    assert f"the {figures.MAX_SITES_DRAWN} of {n} sites with the most rejected rows" in svg
    worst = quality.sort_values(["rows_rejected", "site_id"], ascending=[False, True]).head(figures.MAX_SITES_DRAWN)
    drawn = set(re.findall(r"S\d{4}", svg))
    assert drawn == set(worst["site_id"])


def test_quality_figure_of_a_few_sites_draws_them_all():
    quality = pd.DataFrame({"site_id": ["A1", "B2", "C3"], "status": "current",
                            "rows_accepted": [10, 20, 30], "rows_rejected": [0, 1, 2]})
    svg = figures.quality_figure(quality, "Rows per site")
    assert "sites with the most rejected rows" not in svg
    assert {"A1", "B2", "C3"} <= set(re.findall(r"[A-C]\d", svg))


def test_censoring_marks_one_per_day(fixture_marts):
    rng = np.random.default_rng(3)
    days = rng.integers(1, 400, 5000).astype(float)
    follow_up = pd.DataFrame({"days": days, "died": rng.random(5000) < 0.1})
    svg, _ = figures.km_figure(fixture_marts["survival"], fixture_marts["survival_at_risk"],
                               small_cell_max=4, follow_up=follow_up, title="KM")
    censored_days = np.unique(days[~follow_up["died"].to_numpy()])
    # the censoring marks are drawn as <use> of one marker, one per distinct day
    assert 0 < svg.count("<use ") <= len(censored_days) + 50  # (a few more: the legend's mark)
