"""Opening the warehouse DuckDB file, whatever it is called.

DuckDB names a file's catalog after the file: a warehouse called
``warehouse.duckdb`` or ``marts.duckdb`` would make ``warehouse.dim_patient``
ambiguous between catalog and schema. Every connection therefore attaches the
file under the fixed catalog name ``registry`` (dbt's profile does the same),
so any file name works.

DuckDB admits one writing process per file. A second writer waits for the lock
a bounded time, then fails with a message that says so (never silently).
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from pathlib import Path

import duckdb

CATALOG = "registry"
# The environment variable that names the warehouse file (the registry's setting, and
# what dbt attaches: registry/warehouse_for_dbt.py).
WAREHOUSE_VAR = "REGISTRY_WAREHOUSE"
# How long a writer waits for another process to release the file.
DEFAULT_LOCK_TIMEOUT_SECONDS = 60.0


class WarehouseBusy(RuntimeError):
    """Another process holds the warehouse file for writing."""


def _is_lock_error(exc: Exception) -> bool:
    text = str(exc).lower()
    return "lock" in text or "conflicting" in text or "being used" in text


def attach_statement(path: Path | str, *, read_only: bool = False) -> str:
    """The ATTACH of the warehouse file under the catalog ``registry`` (also dbt's, through
    registry/warehouse_for_dbt.py)."""
    quoted = str(path).replace("'", "''")
    return f"ATTACH '{quoted}' AS {CATALOG}" + (" (READ_ONLY)" if read_only else "")


def connect(path: Path | str, *, read_only: bool = False,
            lock_timeout: float = DEFAULT_LOCK_TIMEOUT_SECONDS,
            config: dict | None = None) -> duckdb.DuckDBPyConnection:
    """A connection whose default catalog is the warehouse file, attached as ``registry``."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + lock_timeout
    delay = 0.1
    while True:
        con = duckdb.connect(":memory:", config=config or {})
        try:
            con.execute(attach_statement(path, read_only=read_only))
            con.execute(f"USE {CATALOG}")
            return con
        except duckdb.Error as exc:
            con.close()
            if not _is_lock_error(exc):
                raise
            if time.monotonic() >= deadline:
                raise WarehouseBusy(
                    f"the warehouse {path} is held by another process (a running load?); "
                    f"waited {lock_timeout:.0f} s: {' '.join(str(exc).split())[:300]}"
                ) from None
            time.sleep(delay)
            delay = min(delay * 2, 2.0)


OVERLAY = "overlay"


@contextmanager
def schemas_swapped(con: duckdb.DuckDBPyConnection, swaps: dict[str, str]):
    """Within the block, queries that name schema ``a`` of ``swaps`` read schema ``swaps[a]``:
    an in-memory catalog of views over every table of the warehouse, with the swapped
    schemas in place of the named ones, is made the default catalog. Used to compute the
    marts of an as-of analysis (built into ``warehouse_as_of_...``) with the marts' own SQL."""
    tables = con.execute(
        "select schema_name, table_name from duckdb_tables() where database_name = ? "
        "union all select schema_name, view_name from duckdb_views() where database_name = ? and not internal",
        [CATALOG, CATALOG]).fetchall()
    by_schema: dict[str, set[str]] = {}
    for schema, table in tables:
        by_schema.setdefault(schema, set()).add(table)
    con.execute(f"ATTACH ':memory:' AS {OVERLAY}")
    try:
        for schema in sorted(set(by_schema) - set(swaps.values())):
            source = swaps.get(schema, schema)
            con.execute(f'CREATE SCHEMA {OVERLAY}."{schema}"')
            for table in sorted(by_schema.get(source, ())):
                con.execute(f'CREATE VIEW {OVERLAY}."{schema}"."{table}" AS '
                            f'SELECT * FROM {CATALOG}."{source}"."{table}"')
        con.execute(f"USE {OVERLAY}")
        yield con
    finally:
        con.execute(f"USE {CATALOG}")
        con.execute(f"DETACH {OVERLAY}")


def drop_schemas(con: duckdb.DuckDBPyConnection, schemas: list[str]) -> None:
    for schema in schemas:
        con.execute(f'DROP SCHEMA IF EXISTS {CATALOG}."{schema}" CASCADE')
