"""dbt's way into the warehouse: a dbt-duckdb plugin (``profiles.yml``) that attaches the
file named by ``REGISTRY_WAREHOUSE`` under the fixed catalog ``registry``, as every other
connection does (``registry.warehouse``).

Why a plugin that reads the variable when dbt connects, and not a path in the profile or
in ``--vars``: dbt hashes both into its partial-parse state, so each warehouse needed a
parse of its own (4 to 5 s, the first of every fresh warehouse). Read here, the path is
not part of the parse: one manifest serves every warehouse.
"""
from __future__ import annotations

import os

from dbt.adapters.duckdb.plugins import BasePlugin
from duckdb import DuckDBPyConnection

from registry.warehouse import WAREHOUSE_VAR, attach_statement


class Plugin(BasePlugin):
    def configure_connection(self, conn: DuckDBPyConnection) -> None:
        path = os.environ.get(WAREHOUSE_VAR, "").strip()
        if not path:
            raise RuntimeError(f"dbt needs {WAREHOUSE_VAR}: the warehouse file to build "
                               "(the registry's commands and Dagster set it)")
        # Attached before the profile's `attach:` list, whose `registry` entry is then a no-op
        # (dbt-duckdb attaches IF NOT EXISTS); that entry only tells dbt the catalog exists.
        conn.execute(attach_statement(path))
