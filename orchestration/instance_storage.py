"""Dagster's SQLite storage with its event-log connections kept open.

Dagster's SQLite event log opens a new SQLAlchemy engine for every statement it runs and
closes it afterwards; in WAL mode the close of the last connection checkpoints the log to
disk. A registry run stores about a thousand events (materializations, dbt tests as checks,
their planned events), each touching two or three databases: several seconds a run spent
opening and checkpointing. This storage keeps one connection per database file (the run's
shard, the cross-run index) for the life of the process; everything else, including the
files' layout, is Dagster's own, so `dagster dev` and the UI read the same history.

Use it from ``dagster.yaml`` (``orchestration/dagster.yaml`` does)::

    storage:
      custom:
        module: orchestration.instance_storage
        class: RegistrySqliteStorage
        config:
          base_dir: {env: DAGSTER_HOME}
"""
from __future__ import annotations

import contextlib
import os
from collections import OrderedDict
from collections.abc import Iterator

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorage,
)
from dagster._core.storage.sql import create_engine
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.pool import StaticPool

# Open database files kept per process: a run touches its own shard and the index; the
# webserver reads a few runs' shards at a time. Older ones are closed.
OPEN_SHARDS = 8


class KeptOpenSqliteEventLogStorage(SqliteEventLogStorage):
    """Dagster's run-sharded SQLite event log, one open connection per shard.

    Every use of a connection already holds the storage's lock (Dagster's `_connect`), so
    one connection per file, shared by the process's threads, is safe. A forked child never
    uses its parent's connections."""

    def __init__(self, base_dir: str, inst_data=None):
        self._engines: OrderedDict[str, Engine] = OrderedDict()
        self._engines_pid = os.getpid()
        self._tables: set[str] = set()
        self._asset_key_columns: set[str] = set()
        super().__init__(base_dir, inst_data=inst_data)

    def _engine(self, shard: str) -> Engine:
        if self._engines_pid != os.getpid():  # forked: the parent's connections are not ours
            self._engines, self._engines_pid = OrderedDict(), os.getpid()
        engine = self._engines.get(shard)
        if engine is None:
            engine = create_engine(
                self.conn_string_for_shard(shard),
                poolclass=StaticPool,
                connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
            )
            # In WAL mode, NORMAL syncs at checkpoints rather than at every commit: a killed
            # process loses nothing, a power cut at most the last events (SQLite's advice for WAL).
            event.listen(engine, "connect", lambda sqlite, _record: sqlite.execute("PRAGMA synchronous=NORMAL"))
            if shard not in self._initialized_dbs:
                self._initdb(engine)
                self._initialized_dbs.add(shard)
            self._engines[shard] = engine
            while len(self._engines) > OPEN_SHARDS:
                self._engines.popitem(last=False)[1].dispose()
        self._engines.move_to_end(shard)
        return engine

    @contextlib.contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        with self._db_lock:
            engine = self._engine(shard)
            try:
                with engine.connect() as conn:
                    sqlite = conn.connection.dbapi_connection
                    changes = sqlite.total_changes
                    with conn.begin():
                        yield conn
                    wrote = sqlite.total_changes != changes
            except BaseException:
                # A connection left in an unknown state is not reused.
                self._engines.pop(shard, None)
                engine.dispose()
                raise
            if wrote and shard != INDEX_SHARD_NAME:
                # Writes stay in the WAL file until a checkpoint, but the webserver follows a
                # live run by watching its shard's file: say that it changed.
                with contextlib.suppress(FileNotFoundError):
                    os.utime(self.path_for_shard(shard))

    def has_table(self, table_name: str) -> bool:
        # Asked before every check evaluation is stored; a table, once there, stays.
        if table_name not in self._tables and super().has_table(table_name):
            self._tables.add(table_name)
        return table_name in self._tables

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        # Asked, by reflecting the table's schema, for every asset event stored (0.3 s a run);
        # a column, once there, stays.
        if column_name not in self._asset_key_columns \
                and super()._has_asset_key_col_on_connection(conn, column_name):
            self._asset_key_columns.add(column_name)
        return column_name in self._asset_key_columns

    def _close_all(self) -> None:
        with self._db_lock:
            while self._engines:
                self._engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._close_all()  # the run shards' files are deleted
        self._tables.clear()
        self._asset_key_columns.clear()
        super().wipe()

    def upgrade(self) -> None:
        self._close_all()
        self._tables.clear()
        self._asset_key_columns.clear()
        super().upgrade()

    def dispose(self) -> None:
        super().dispose()
        self._close_all()


class RegistrySqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage (runs, event log, schedules under one folder, laid out as
    Dagster lays them out) with the kept-open event log."""

    def __init__(self, base_dir: str, inst_data=None):
        super().__init__(base_dir, inst_data=inst_data)
        events_dir = self._event_log_storage._base_dir  # noqa: SLF001 - Dagster's own layout
        self._event_log_storage.dispose()
        self._event_log_storage = KeptOpenSqliteEventLogStorage(events_dir)

    @classmethod
    def from_config_value(cls, inst_data, config_value):
        return cls.from_local(inst_data=inst_data, **config_value)
