"""Dagster's SQLite storage with the event log's connections kept open: the same history,
read by another process, followed live by the webserver, at a few connections a run."""
from __future__ import annotations

import subprocess
import sys
import threading

import dagster as dg
import pytest

from orchestration import instance_storage
from orchestration.instance_storage import KeptOpenSqliteEventLogStorage
from registry.cli.pipeline import dagster_home
from tests.conftest import config_for


@dg.asset
def first() -> int:
    return 1


@dg.asset(deps=[first])
def second() -> int:
    return 2


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.delenv("DAGSTER_HOME", raising=False)  # put back as it was after the test
    return dagster_home(config_for(tmp_path))


def test_a_run_is_stored_and_read_by_another_process(home):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert isinstance(instance.event_log_storage, KeptOpenSqliteEventLogStorage)
        result = dg.materialize([first, second], instance=instance)
        assert result.success
        run_id = result.run_id
        with instance.event_log_storage.run_connection(run_id) as conn:
            assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 1  # NORMAL
    # another process (the webserver, `registry status`) reading the instance from its folder
    code = ("import sys, dagster as dg\n"
            "with dg.DagsterInstance.from_config(sys.argv[1]) as i:\n"
            "    print(len(i.get_records_for_run(sys.argv[2]).records),"
            " i.get_latest_materialization_event(dg.AssetKey('second')).run_id)\n")
    out = subprocess.run([sys.executable, "-c", code, str(home), run_id], check=True, capture_output=True,
                         text=True).stdout.split()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert int(out[0]) == len(instance.get_records_for_run(run_id).records) > 10
    assert out[1] == run_id


def test_a_live_run_is_followed_by_a_watcher(home):
    """The webserver follows a run by watching its shard's file; the kept-open connection
    writes to the WAL file, so the storage says when the shard changed."""
    with dg.DagsterInstance.from_config(str(home)) as writer, dg.DagsterInstance.from_config(str(home)) as reader:
        run_id = dg.materialize([first], instance=writer).run_id
        cursor = reader.event_log_storage.get_records_for_run(run_id).cursor
        seen: list[str] = []
        arrived = threading.Event()

        def on_event(entry, _cursor):
            seen.append(entry.message)
            if "still working" in entry.message:
                arrived.set()

        reader.event_log_storage.watch(run_id, cursor, on_event)
        try:
            writer.report_engine_event("still working", writer.get_run_by_id(run_id))
            assert arrived.wait(timeout=20), f"the watcher saw only {seen}"
        finally:
            reader.event_log_storage.end_watch(run_id, on_event)


def test_a_run_opens_a_few_connections_not_one_an_event(home, monkeypatch):
    opened = []
    real = instance_storage.create_engine
    monkeypatch.setattr(instance_storage, "create_engine", lambda *a, **k: opened.append(a[0]) or real(*a, **k))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        run_id = dg.materialize([first, second], instance=instance).run_id
        events = len(instance.get_records_for_run(run_id).records)
        # the run's shard and the cross-run index, each opened once
        assert len(opened) <= 2 < events
        instance.wipe()  # closes them before the shards' files go
        assert dg.materialize([first], instance=instance).success


def test_the_asset_table_schema_is_read_once_not_per_event(home, monkeypatch):
    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage

    asked = []
    real = SqliteEventLogStorage._has_asset_key_col_on_connection
    monkeypatch.setattr(SqliteEventLogStorage, "_has_asset_key_col_on_connection",
                        lambda self, conn, name: asked.append(name) or real(self, conn, name))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        for _ in range(3):
            assert dg.materialize([first, second], instance=instance).success
        assert instance.get_latest_materialization_event(dg.AssetKey("second")) is not None
        assert 1 <= len(asked) <= 2, asked  # six materializations stored


def test_the_instance_starts_queued_runs_within_a_second_four_at_most_one_writer_step(home):
    """The instance settings `registry run` and `dagster dev` share (orchestration/dagster.yaml)."""
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.run_coordinator.dequeue_interval_seconds == 1
        concurrency = instance.get_concurrency_config()
        assert concurrency.run_queue_config.max_concurrent_runs == 4
        assert concurrency.pool_config.default_pool_limit == 1
