"""The Dagster definitions load, as the UI and `registry run` load them, and the asset graph
is what the snapshot says (set REGISTRY_UPDATE_SNAPSHOTS=1 to rewrite it after a deliberate change)."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from registry.config import PROJECT_ROOT

BIN = Path(sys.executable).parent
SNAPSHOT = Path(__file__).with_name("asset_graph_snapshot.json")


@pytest.fixture(scope="module")
def defs(tmp_path_factory, isolated_config, dbt_manifest):
    from orchestration.definitions import definitions_for

    return definitions_for(isolated_config(tmp_path_factory.mktemp("defs")))


def graph_specs(defs) -> dict:
    """Every asset and check of the graph as plain data: group, kinds, owners, partitioning,
    upstream keys, automation, and its checks (name, blocking)."""
    graph = defs.resolve_asset_graph()
    checks: dict[str, list] = {}
    for key in graph.asset_check_keys:
        spec = graph.get_check_spec(key)
        checks.setdefault(key.asset_key.to_user_string(), []).append([key.name, spec.blocking])
    out = {}
    for key in sorted(graph.get_all_asset_keys(), key=lambda k: k.to_user_string()):
        node = graph.get(key)
        if not node.is_materializable:
            continue
        out[key.to_user_string()] = {
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "partitioned": node.partitions_def is not None,
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "automated": node.automation_condition is not None,
            "has_description": bool(node.description),
            "checks": sorted(checks.get(key.to_user_string(), [])),
        }
    return out


def test_the_asset_graph_matches_its_snapshot(defs):
    specs = graph_specs(defs)
    if os.environ.get("REGISTRY_UPDATE_SNAPSHOTS"):
        SNAPSHOT.write_text(json.dumps(specs, indent=1, sort_keys=True) + "\n")
    assert specs == json.loads(SNAPSHOT.read_text())


def test_groups_follow_the_datas_path(defs):
    groups = {spec["group"] for spec in graph_specs(defs).values()}
    assert groups == {"landing", "seeds", "staging", "intermediate", "warehouse", "dq", "marts", "publish"}


def test_every_asset_check_and_sensor_is_described(defs):
    graph = defs.resolve_asset_graph()
    undescribed = [key.to_user_string() for key in graph.get_all_asset_keys()
                   if graph.get(key).is_materializable and not graph.get(key).description]
    undescribed += [str(key) for key in graph.asset_check_keys if not graph.get_check_spec(key).description]
    undescribed += [s.name for s in defs.sensors if not s.description]
    undescribed += [s.name for s in defs.schedules if not s.description]
    assert undescribed == []


def test_dbt_tests_are_blocking_asset_checks_that_run_with_their_model(defs):
    graph = defs.resolve_asset_graph()
    dbt_checks = [k for k in graph.asset_check_keys if k.name.startswith(("unique_", "not_null_"))]
    assert dbt_checks and all(graph.get_check_spec(k).blocking for k in dbt_checks)
    assert all(graph.get(k).automation_condition is not None for k in dbt_checks)


def test_jobs_schedule_and_sensors(defs):
    assert defs.resolve_job_def("registry_full_build")
    assert defs.resolve_schedule_def("nightly_full_build")
    for name in ["inbox_sensor", "run_failure_summary", "registry_automation"]:
        assert defs.resolve_sensor_def(name)


def test_dbt_parse_is_clean(tmp_path):
    out = subprocess.run(
        [str(BIN / "dbt"), "parse", "--project-dir", "dbt_project", "--profiles-dir", "dbt_project",
         "--target-path", str(tmp_path), "--log-path", str(tmp_path)],
        cwd=PROJECT_ROOT, capture_output=True, text=True,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "deprecat" not in (out.stdout + out.stderr).lower(), out.stdout


def test_dagster_validates_the_workspace(defs, tmp_path):
    out = subprocess.run(
        [str(BIN / "dagster"), "definitions", "validate", "-w", "workspace.yaml"],
        cwd=PROJECT_ROOT, capture_output=True, text=True,
        env={**os.environ, "DAGSTER_HOME": str(tmp_path), "PYTHONWARNINGS": "default"},
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "DeprecationWarning" not in out.stderr and "deprecated" not in out.stderr.lower(), out.stderr


def test_nothing_is_written_when_the_definitions_are_imported(tmp_path, dbt_manifest):
    """Importing the code location creates no folder (not even the state folder, since the
    prepared manifest serves every warehouse), changes no environment variable and loads
    neither scipy nor matplotlib: the steps that use them import them (a run, while dbt
    builds), so that every process that loads the code location starts sooner."""
    root = tmp_path / "fresh"
    env = {**os.environ, "REGISTRY_WAREHOUSE": str(root / "w" / "registry.duckdb"),
           "REGISTRY_PUBLISH_DIR": str(root / "p")}
    env.pop("REGISTRY_STATE_DIR", None)
    code = ("import os, sys; before = dict(os.environ); import orchestration.definitions; "
            "assert dict(os.environ) == before, 'environment changed'; "
            "loaded = [m for m in ('scipy', 'matplotlib') if m in sys.modules]; "
            "assert not loaded, f'loaded with the code location: {loaded}'")
    out = subprocess.run([sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-3000:]
    assert not root.exists()


def test_imports_on_the_side_are_made_and_a_failing_one_is_left_to_its_step():
    from orchestration.defs.warehouse.assets import import_on_the_side

    sys.modules.pop("colorsys", None)
    import_on_the_side(["registry_no_such_module", "colorsys"]).join(timeout=30)
    assert "colorsys" in sys.modules and "registry_no_such_module" not in sys.modules
