"""The whole pipeline on generated inboxes: every published mart equals the truth
the generator wrote from its own model, and the paper's figures come out."""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from registry.config import PROJECT_ROOT

pytestmark = pytest.mark.slow

# How a truth mart's rows are matched to the published mart's (besides region 'All'
# where the published mart also has region rows the truth does not list).
MART_KEYS = {
    "cohort_overview": ["region"],
    "cancer_types": ["region", "cancer_type"],
    "disposition": ["exit_category"],
    "pain_outcomes": ["timepoint"],
    "eq5d_outcomes": ["timepoint"],
    "infection_outcomes": ["region"],
    "survival": ["days_since_implant"],
    "site_data_quality": ["site_id", "file_name"],
}


def published(run, mart: str) -> pd.DataFrame:
    with duckdb.connect(str(run.marts_duckdb), read_only=True) as con:
        return con.execute(f'select * from main."{mart}"').fetchdf()


def truth_mart(run, mart: str) -> pd.DataFrame:
    return pd.read_csv(run.truth / "marts" / f"{mart}.csv", dtype={"data_cut": str})


def assert_mart_equals_truth(run, mart: str) -> None:
    keys = MART_KEYS[mart]
    truth = truth_mart(run, mart)
    got = published(run, mart)
    if "region" in got.columns and "region" not in keys and (got["region"] == "All").any():
        got = got[got["region"] == "All"]
    if "data_cut" in got.columns:
        got = got.assign(data_cut=pd.to_datetime(got["data_cut"]).dt.strftime("%Y-%m-%d").fillna("nan"))
        truth = truth.assign(data_cut=truth["data_cut"].fillna("nan"))
    for key in keys:
        got[key] = got[key].astype(str)
        truth[key] = truth[key].astype(str)
    merged = truth.merge(got, on=keys, how="outer", suffixes=("_truth", "_mart"), indicator=True)
    # The marts list every category of every region, zeros included (the truth lists those
    # with patients): a zero row only in the mart is no difference.
    count = next((c for c in ("n_patients_mart", "n_patients", "n_paired_mart", "n_paired") if c in merged), None)
    if count is not None:
        zero_only = (merged["_merge"] == "right_only") & (pd.to_numeric(merged[count], errors="coerce") == 0)
        merged = merged[~zero_only]
    assert (merged["_merge"] == "both").all(), (
        f"{mart}: rows only on one side:\n{merged.loc[merged['_merge'] != 'both', keys + ['_merge']]}"
    )
    suppressed = merged["suppressed"].fillna(False).astype(bool) if "suppressed" in merged else False
    for column in [c for c in truth.columns if c not in keys]:
        expected, actual = merged[f"{column}_truth"], merged[f"{column}_mart"]
        check = ~suppressed if isinstance(suppressed, pd.Series) else slice(None)
        if pd.api.types.is_numeric_dtype(expected):
            np.testing.assert_allclose(
                actual[check].astype(float), expected[check].astype(float), rtol=1e-9, atol=1e-9,
                err_msg=f"{mart}.{column}",
            )
        else:
            assert actual[check].astype(str).tolist() == expected[check].astype(str).tolist(), f"{mart}.{column}"


def test_the_run_succeeded(default_run):
    assert default_run.result.success


@pytest.mark.parametrize("mart", sorted(MART_KEYS))
def test_every_mart_equals_the_truth(default_run, mart):
    assert_mart_equals_truth(default_run, mart)


@pytest.mark.parametrize("mart", sorted(MART_KEYS))
def test_every_mart_equals_the_truth_with_faults_planted(faults_run, mart):
    assert_mart_equals_truth(faults_run, mart)


def test_published_files_exist(default_run):
    publish = default_run.publish_dir
    for name in ["marts.duckdb", "registry_marts.xlsx", "report.html", "manifest.json"]:
        assert (publish / name).is_file(), name
    for mart in MART_KEYS:
        assert (publish / f"{mart}.parquet").is_file(), mart
    manifest = json.loads((publish / "manifest.json").read_text())
    assert manifest["row_counts"]["cohort_overview"] == len(published(default_run, "cohort_overview"))


def test_compare_paper_matches_every_figure(default_run):
    out = subprocess.run(
        [str(Path(sys.executable).parent / "registry"), "compare-paper", "--check",
         "--publish-dir", str(default_run.publish_dir)],
        cwd=PROJECT_ROOT, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert " NO " not in out.stdout
    matched = re.search(r"(\d+) of (\d+) paper figures match", out.stdout)
    assert matched and matched.group(1) == matched.group(2) and int(matched.group(2)) >= 20


def test_the_report_shows_the_paper_side_by_side(default_run):
    html = (default_run.publish_dir / "report.html").read_text()
    assert "1403" in html and "0.0007" in html
