"""`registry run` killed with SIGKILL (its whole process group) at many points, from a fresh
warehouse each time, then run again: the published marts equal a clean run's every time,
and no partial publish is ever visible. A killed run's pool slot never blocks the next run,
and a second writer waits or stops with a clear message."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import duckdb
import pandas as pd
import pytest

from registry.config import PROJECT_ROOT
from tests import tally

pytestmark = pytest.mark.slow

REGISTRY = str(Path(sys.executable).parent / "registry")

# (event type, step key or asset key fragment, seconds after it): spread over landing, dbt,
# the marts, their checks and the publish; ("FILE", pattern, seconds): when a file matching the
# pattern appears in the publish folder.
KILL_POINTS = [
    ("STEP_START", "site_master", 0.0),
    ("STEP_START", "site_landing", 0.0),
    ("STEP_START", "site_landing", 0.2),
    ("STEP_START", "site_landing", 0.5),
    ("STEP_START", "registry_dbt_models", 0.5),
    ("STEP_START", "registry_dbt_models", 2.0),
    ("ASSET_MATERIALIZATION", "seeds/", 0.0),
    ("ASSET_MATERIALIZATION", "staging/", 0.0),
    ("ASSET_MATERIALIZATION", "intermediate/", 0.0),
    ("ASSET_MATERIALIZATION", "warehouse/dim_patient", 0.0),
    ("ASSET_MATERIALIZATION", "warehouse/fct_assessment", 0.1),
    ("ASSET_CHECK_EVALUATION", "warehouse/", 0.0),
    ("ASSET_MATERIALIZATION", "dq/", 0.0),
    ("STEP_START", "outcome_marts", 0.0),
    ("STEP_START", "outcome_marts", 0.3),
    ("ASSET_MATERIALIZATION", "marts/", 0.0),
    ("STEP_START", "has_patients", 0.0),
    ("STEP_START", "publish__published_marts", 0.0),
    ("STEP_START", "publish__published_marts", 0.1),
    # inside the publish, whatever its speed: as soon as a file of the new publish appears
    ("FILE", ".publish-*/*.parquet", 0.0),
    ("FILE", ".publish-*/registry_marts.xlsx", 0.0),
    ("FILE", ".publish-*/report.html", 0.0),
    ("FILE", ".publish-*/site_feedback/*.xlsx", 0.0),
    ("FILE", ".publish-*/marts.duckdb", 0.0),
]


def env_for(root: Path, inbox: Path, sites: Path) -> dict[str, str]:
    return {**os.environ,
            "REGISTRY_INBOX": str(inbox), "REGISTRY_SITES": str(sites),
            "REGISTRY_WAREHOUSE": str(root / "warehouse" / "registry.duckdb"),
            "REGISTRY_PUBLISH_DIR": str(root / "publish"),
            "REGISTRY_PSEUDONYM_KEY": "crash-test-key",
            "DAGSTER_HOME": str(root / "dagster_home")}


def start(env: dict[str, str], log: Path) -> subprocess.Popen:
    out = open(log, "wb")  # noqa: SIM115 - closed by the caller through the process
    return subprocess.Popen([REGISTRY, "run"], env=env, cwd=PROJECT_ROOT, stdout=out, stderr=subprocess.STDOUT,
                            start_new_session=True)


def matches(record, kind: str, fragment: str) -> bool:
    event = record.event_log_entry.dagster_event
    if event is None or event.event_type_value != kind:
        return False
    if kind == "STEP_START":
        return fragment in (event.step_key or "")
    if kind == "ASSET_MATERIALIZATION":
        return fragment in event.asset_key.to_user_string()
    if kind == "ASSET_CHECK_EVALUATION":
        return fragment in event.asset_check_evaluation_data.asset_key.to_user_string()
    return False


def kill_at(env: dict[str, str], point: tuple[str, str, float], log: Path, timeout: float = 300) -> bool:
    """Start `registry run`, SIGKILL its process group when the event of ``point`` (plus its
    delay) is seen in the run's event log; True when it was killed before finishing."""
    kind, fragment, delay = point
    process = start(env, log)
    deadline = time.monotonic() + timeout
    home, publish = Path(env["DAGSTER_HOME"]), Path(env["REGISTRY_PUBLISH_DIR"])
    instance = None
    try:
        while process.poll() is None and time.monotonic() < deadline:
            if instance is None and (home / "dagster.yaml").exists() and (home / "storage").exists():
                instance = dg.DagsterInstance.from_config(str(home))
            runs = instance.get_runs(limit=1) if instance else []
            if kind == "FILE":
                seen = bool(runs) and any(publish.glob(fragment))
            else:
                seen = bool(runs) and any(matches(r, kind, fragment) for r in
                                          instance.get_records_for_run(runs[0].run_id, limit=100000).records)
            if seen:
                time.sleep(delay)
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)
                # killed before the end: the run is not recorded as finished
                return instance.get_run_by_id(runs[0].run_id).status not in (
                    dg.DagsterRunStatus.SUCCESS, dg.DagsterRunStatus.FAILURE)
            time.sleep(0.05)
        return False
    finally:
        if instance is not None:
            instance.dispose()
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)


def published_marts(publish: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(publish / "marts.duckdb"), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "and table_name not in ('publish_info', 'publish_marts') order by 1").fetchall()]
        return {name: con.execute(f'select * from "{name}"').fetchdf() for name in names}


def assert_whole_or_no_publish(publish: Path) -> None:
    """What a reader finds: nothing, or one complete publish (every file of one publish id)."""
    manifest_path = publish / "manifest.json"
    if not manifest_path.exists():
        assert not (publish / "marts.duckdb").exists(), "marts.duckdb without its manifest"
        assert not list(publish.glob("*.parquet")), "Parquet files without their manifest"
        return
    manifest = json.loads(manifest_path.read_text())
    for name in manifest["files"]:
        assert (publish / name).exists(), f"{name} of publish {manifest['publish_id']} is missing"
    with duckdb.connect(str(publish / "marts.duckdb"), read_only=True) as con:
        assert con.execute("select publish_id from publish_info").fetchone()[0] == manifest["publish_id"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    from registry.sample import generate

    root = tmp_path_factory.mktemp("crash_sample")
    generate(root, scale=0.05, seed=13)
    return root


@pytest.fixture(scope="module")
def clean_marts(sample, tmp_path_factory):
    root = tmp_path_factory.mktemp("crash_clean")
    env = env_for(root, sample / "inbox", sample / "sites.csv")
    done = subprocess.run([REGISTRY, "run"], env=env, cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return published_marts(root / "publish")


def test_there_are_twenty_kill_points_or_more():
    assert len(KILL_POINTS) >= 20


def crash_and_rerun(point, sample: Path, root: Path) -> dict:
    """Kill a run at ``point`` from a fresh warehouse, look at the publish folder, run again."""
    root.mkdir(parents=True, exist_ok=True)
    env = env_for(root, sample / "inbox", sample / "sites.csv")
    out = {"killed": kill_at(env, point, root / "killed.log")}
    try:
        assert_whole_or_no_publish(root / "publish")
        out["after_kill"] = None
    except AssertionError as exc:
        out["after_kill"] = str(exc)
    rerun = subprocess.run([REGISTRY, "run", "--plain"], env=env, cwd=PROJECT_ROOT, capture_output=True,
                           text=True, timeout=900)
    out["rerun"] = (rerun.returncode, rerun.stdout[-3000:] + rerun.stderr[-3000:])
    if rerun.returncode == 0:
        assert_whole_or_no_publish(root / "publish")
        out["marts"] = published_marts(root / "publish")
    return out


@pytest.fixture(scope="module")
def crashes(sample, clean_marts, tmp_path_factory):
    """Every kill point, two at a time (the machine has two cores; each run is one process)."""
    from concurrent.futures import ThreadPoolExecutor

    root = tmp_path_factory.mktemp("crashes")
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {point: pool.submit(crash_and_rerun, point, sample, root / f"point{i:02d}")
                   for i, point in enumerate(KILL_POINTS)}
        return {point: future.result() for point, future in futures.items()}


@pytest.mark.parametrize("point", KILL_POINTS, ids=[f"{k}-{f}-{d}" for k, f, d in KILL_POINTS])
def test_a_killed_run_then_a_rerun_publishes_what_a_clean_run_does(point, crashes, clean_marts):
    outcome = crashes[point]
    assert outcome["killed"], f"the run finished before {point} was seen"
    tally.add(faults_injected=1)
    assert outcome["after_kill"] is None, outcome["after_kill"]  # whole publish or none, never a mix
    code, text = outcome["rerun"]
    assert code == 0, text
    assert "no longer exists" in text  # the dead run was found, failed and its pool slot freed
    again = outcome["marts"]
    assert again.keys() == clean_marts.keys()
    for name in clean_marts:
        pd.testing.assert_frame_equal(again[name], clean_marts[name], obj=name)


def test_a_second_writer_waits_saying_so_or_stops_with_a_clear_message(sample, clean_marts, tmp_path):
    env = env_for(tmp_path, sample / "inbox", sample / "sites.csv")
    first = start(env, tmp_path / "first.log")
    try:
        home = Path(env["DAGSTER_HOME"])
        deadline = time.monotonic() + 300
        while not (home / "storage").exists() and time.monotonic() < deadline:  # the first run has begun
            time.sleep(0.2)
        time.sleep(3)
        impatient = subprocess.run([REGISTRY, "run", "--plain"], cwd=PROJECT_ROOT, capture_output=True,
                                   text=True, timeout=600, env={**env, "REGISTRY_MAX_WAIT_SECONDS": "2"})
        if first.poll() is None:  # it ran into the first run: it must have said so and stopped
            assert impatient.returncode != 0
            assert "held by" in impatient.stdout + impatient.stderr or "waiting for" in impatient.stdout
        patient = subprocess.run([REGISTRY, "run", "--plain"], cwd=PROJECT_ROOT, capture_output=True, text=True,
                                 timeout=900, env=env)
        assert patient.returncode == 0, patient.stdout[-3000:] + patient.stderr[-3000:]
        assert first.wait(timeout=900) == 0, (tmp_path / "first.log").read_text()[-5000:] + impatient.stdout[-2000:]
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    again = published_marts(tmp_path / "publish")
    for name in clean_marts:
        pd.testing.assert_frame_equal(again[name], clean_marts[name], obj=name)
