"""The paper comparison on hand-made marts that hold the paper's figures."""
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from registry.marts.paper import (
    PAPER_TARGETS,
    all_match,
    compare,
    format_comparison,
    round_half_up,
)
from registry.publish.duckdb_file import write_marts_duckdb

TARGETS = PAPER_TARGETS


def paper_marts() -> dict[str, pd.DataFrame]:
    regions = ["All", "Latin America", "United States", "Western Europe"]
    categories = ["death", "explant_or_discontinuation", "other", "active"]
    exited = [1141, 57, 113]
    return {
        "cohort_overview": pd.DataFrame({
            "region": regions, "n_patients": [1403, 100, 900, 403],
            "pct_female": [100 * 794 / 1403, 50.0, 57.0, 58.0], "age_mean": [59.4, 58, 60, 57],
            "age_min": [13, 20, 13, 30], "age_max": [93, 80, 93, 85],
            "first_implant_year": [2003, 2005, 2003, 2004]}),
        "cancer_types": pd.DataFrame({
            "region": "All", "rank": [2, 1, 3, 5, 4, 6],
            "cancer_type": ["breast", "lung", "colon/rectal", "prostate", "pancreatic", "other"]}),
        "disposition": pd.DataFrame({
            "region": "All", "exit_category": categories, "n_patients": [*exited, 92],
            "pct_of_exited": [100 * n / 1311 for n in exited] + [None]}),
        "pain_outcomes": pd.DataFrame({
            "timepoint": ["6 months", "12 months"], "region": "All", "n_paired": [103, 55],
            "p_value": [0.00071, 0.00262], "first_baseline_year": [2013, 2013]}),
        "eq5d_outcomes": pd.DataFrame({
            "timepoint": ["6 months", "12 months"], "region": "All", "n_paired": [41, 20],
            "p_value": [0.0016, 0.2]}),
        "infection_outcomes": pd.DataFrame({
            "region": ["All"], "pct_infection_surgical": [100 * 45 / 1403]}),
        "survival_summary": pd.DataFrame({"region": ["All"], "data_cut": [date(2017, 7, 31)]}),
    }


def test_every_target_figure_is_compared_and_matches():
    result = compare(paper_marts(), TARGETS)
    assert result["matches"].notna().all(), result[result["matches"].isna()]
    assert all_match(result), result[~result["matches"].astype(bool)]
    assert len(result) >= 27
    text = format_comparison(result)
    assert f"{len(result)} of {len(result)} paper figures match" in text


@pytest.mark.parametrize("mart, column, value, target", [
    ("cohort_overview", "pct_female", 56.65, "cohort/pct_female/reported"),
    ("disposition", "n_patients", 1140, "disposition/death/exact"),
    ("pain_outcomes", "p_value", 0.00076, "pain_outcomes/6 months/p_value_reported"),
    ("cancer_types", "rank", 9, "cohort/top_cancer_types_in_order"),
])
def test_a_wrong_figure_is_reported(mart, column, value, target):
    marts = paper_marts()
    marts[mart].loc[0, column] = value
    result = compare(marts, TARGETS).set_index("target")
    assert result.loc[target, "matches"] == False  # noqa: E712
    assert "NO" in format_comparison(result.reset_index())


def test_significance_is_checked():
    marts = paper_marts()
    marts["eq5d_outcomes"].loc[0, "p_value"] = 0.06
    result = compare(marts, TARGETS).set_index("target")
    assert not result.loc["eq5d_outcomes/6 months/significant", "matches"]


def test_compare_reads_a_published_marts_file(tmp_path: Path):
    path = write_marts_duckdb(paper_marts(), tmp_path / "marts.duckdb", {"publish_id": "x"})
    assert all_match(compare(path, TARGETS))


def test_rounding_is_half_up_at_the_papers_decimals():
    assert round_half_up(4.35, 1) == round_half_up(4.4, 1)
    assert round_half_up(86.5, 0) == round_half_up(87, 0)
    assert round_half_up(0.00074999, 4) != round_half_up(0.00075, 4)
