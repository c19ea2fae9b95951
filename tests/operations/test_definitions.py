"""The Dagster definitions load, as the UI and `registry run` load them."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from registry.config import PROJECT_ROOT

BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def defs(tmp_path_factory, isolated_settings):
    from orchestration.resources import prepare_dbt_manifest

    prepare_dbt_manifest()
    from orchestration.definitions import build_definitions

    return build_definitions(isolated_settings(tmp_path_factory.mktemp("defs")))


def test_dbt_parse_is_clean():
    out = subprocess.run(
        [str(BIN / "dbt"), "parse", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project", "--vars", "{registry_warehouse: ':memory:'}"],
        cwd=PROJECT_ROOT, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "deprecat" not in (out.stdout + out.stderr).lower(), out.stdout


def test_every_layer_is_in_the_asset_graph(defs):
    graph = defs.resolve_asset_graph()
    keys = {key.to_user_string() for key in graph.get_all_asset_keys()}
    for expected in [
        "landing/site_master", "landing/deliveries", "landing/patients", "landing/visits",
        "landing/events", "landing/exits",
        "staging/stg_landing__patients", "warehouse/dim_patient", "warehouse/fct_assessment",
        "warehouse/fct_patient_follow_up", "dq/dq_rejections",
        "marts/cohort_overview", "marts/site_data_quality", "marts/survival",
        "publish/published_marts",
    ]:
        assert expected in keys, expected
    groups = {graph.get(key).group_name for key in graph.get_all_asset_keys() if graph.get(key).is_materializable}
    assert {"ingest", "staging", "warehouse", "marts", "publish"} <= groups


def test_dbt_tests_are_asset_checks(defs):
    checks = {key.name for key in defs.resolve_asset_graph().asset_check_keys}
    assert any(name.startswith("unique_") for name in checks)
    assert {"has_patients", "total_matches_star", "rejected_share_below_threshold"} <= checks


def test_jobs_schedule_and_sensors(defs):
    assert defs.resolve_job_def("registry_full_build")
    assert defs.resolve_job_def("ingest_site")
    assert defs.resolve_schedule_def("nightly_full_build")
    for name in ["inbox_sensor", "run_failure_summary", "registry_automation"]:
        assert defs.resolve_sensor_def(name)


def test_dagster_validates_the_workspace(defs, tmp_path):
    out = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT, capture_output=True, text=True,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path), "PYTHONWARNINGS": "default"},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "DeprecationWarning" not in out.stderr and "deprecated" not in out.stderr.lower(), out.stderr
