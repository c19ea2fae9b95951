"""One writing command at a time on a warehouse: a second one waits for the first, saying who
it is, stops with a clear message once it has waited too long, and is never blocked by a
command that was killed."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from registry.cli.command_lock import CommandLock
from registry.config import PROJECT_ROOT

REGISTRY = str(Path(sys.executable).parent / "registry")

HOLD = """
import sys, time
from pathlib import Path
from registry.cli.command_lock import CommandLock
lock = CommandLock(Path(sys.argv[1]))
lock.acquire("run", 5, print)
print("held", flush=True)
time.sleep(600)
"""


@pytest.fixture
def holder(tmp_path):
    """Another process holding the lock of ``tmp_path/registry.duckdb``, as a running command would."""
    warehouse = tmp_path / "warehouse" / "registry.duckdb"
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(warehouse)], stdout=subprocess.PIPE, text=True,
                               cwd=PROJECT_ROOT, start_new_session=True)
    assert process.stdout.readline().strip() == "held"
    yield warehouse, process
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def test_a_second_command_waits_saying_who_holds_the_warehouse_then_stops(holder):
    warehouse, process = holder
    said: list[str] = []
    started = time.monotonic()
    with pytest.raises(TimeoutError) as stopped:
        CommandLock(warehouse).acquire("release", 1.0, said.append, poll=0.1)
    assert time.monotonic() - started >= 1.0
    assert len(said) == 1 and f"`registry run` (process {process.pid}" in said[0]
    assert f"still held by `registry run` (process {process.pid}" in str(stopped.value)


def test_a_killed_holder_frees_the_warehouse_at_once(holder):
    warehouse, process = holder
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    lock = CommandLock(warehouse)
    lock.acquire("run", 0.5, pytest.fail)  # no wait, nothing said
    assert f"process {os.getpid()}" in lock.holder()
    lock.release()
    assert lock.holder() == "another registry command"  # a released lock names no one


def test_the_holder_is_waited_for_and_the_waiter_goes_on_when_it_ends(holder):
    warehouse, process = holder
    said: list[str] = []
    lock = CommandLock(warehouse)
    subprocess.Popen(["sh", "-c", f"sleep 1; kill -9 {process.pid}"])
    lock.acquire("run", 30, said.append, poll=0.1)
    assert len(said) == 1 and "waiting for `registry run`" in said[0]
    lock.release()


def test_registry_run_stops_before_it_starts_anything_while_another_command_holds_the_warehouse(holder, tmp_path):
    warehouse, process = holder
    inbox, sites = tmp_path / "inbox", tmp_path / "sites.csv"
    inbox.mkdir()
    sites.write_text("site_id,site_name,country,region,language,date_order,pain_scale,eq5d_version\n"
                     "US-001,A,US,United States,en,MDY,NRS11,3L\n", encoding="utf-8")
    env = {**os.environ, "REGISTRY_INBOX": str(inbox), "REGISTRY_SITES": str(sites),
           "REGISTRY_WAREHOUSE": str(warehouse), "REGISTRY_PUBLISH_DIR": str(tmp_path / "publish"),
           "REGISTRY_PSEUDONYM_KEY": "lock-test-key", "REGISTRY_MAX_WAIT_SECONDS": "1",
           "DAGSTER_HOME": str(tmp_path / "dagster_home")}
    stopped = subprocess.run([REGISTRY, "run", "--plain"], env=env, cwd=PROJECT_ROOT, capture_output=True,
                             text=True, timeout=300)
    assert stopped.returncode != 0
    assert f"waiting for `registry run` (process {process.pid}" in stopped.stdout
    assert f"still held by `registry run` (process {process.pid}" in stopped.stdout + stopped.stderr
    # stopped before the instance, the dbt parse or the warehouse
    assert not (tmp_path / "dagster_home").exists()
    assert {p.relative_to(tmp_path / "warehouse" / "state").parts[0]
            for p in (tmp_path / "warehouse" / "state").rglob("*")} == {"logs"}
    assert not warehouse.exists()
