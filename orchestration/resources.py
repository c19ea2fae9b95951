"""The resources every asset gets, all derived from the one ``RegistryConfig``.

- ``registry``: the configuration (paths, secret, limits);
- ``warehouse``: connections to the warehouse file (attached as catalog ``registry``);
- ``dbt``: the dbt CLI on the project in ``dbt_project/``, building the configuration's
  warehouse; each run's artefacts in the state folder.
"""
from __future__ import annotations

from contextlib import contextmanager
from functools import cached_property
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource
from packaging import version
from pydantic import Field

from orchestration.dbt_manifest import DBT_EXECUTABLE, dbt_version, manifest_target
from registry import warehouse as warehouse_db
from registry.config import DBT_PROJECT_DIR, RegistryConfig, set_environment
from registry.warehouse import WAREHOUSE_VAR

# The configuration of this code location, read from the environment once, when it loads.
CONFIG = RegistryConfig.from_env()

# Every asset that writes the warehouse file runs in this pool: DuckDB allows one
# writing process per file. Its limit (1) is set in the instance's dagster.yaml.
WAREHOUSE_POOL = "registry_warehouse"


class WarehouseResource(DuckDBResource):
    """DuckDBResource whose connections attach the file under a fixed catalog name,
    so that any file name works, and wait a bounded time for another writer."""

    lock_timeout_seconds: float = 60.0

    @contextmanager
    def get_connection(self):
        con = warehouse_db.connect(self.database, lock_timeout=self.lock_timeout_seconds,
                                   config=self.connection_config)
        try:
            yield con
        finally:
            con.close()


def dbt_project() -> DbtProject:
    """The dbt project, its prepared manifest and partial-parse state in its target folder
    (the same for every warehouse: ``orchestration/dbt_manifest.py``)."""
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target_path=manifest_target(DBT_PROJECT_DIR),
    )


class RegistryDbtCliResource(DbtCliResource):
    """dagster-dbt's dbt CLI resource without two start-up costs of each dbt command:

    - it asks `dbt --version` (a 1.4 s process); our dbt is the one installed beside this
      interpreter, so its version is the installed dbt-core's;
    - it sets up a dbt adapter in this process (about 1 s), used only by its column and
      row-count fetchers; each table's post-hook logs its row count in dbt's output instead
      (``macros/row_count.sql``), since a second connection would contend with dbt for
      the DuckDB file.

    It builds ``warehouse``: dbt's process finds the file in REGISTRY_WAREHOUSE
    (``registry/warehouse_for_dbt.py``), set here for each command it starts."""

    warehouse: str = Field(description="The warehouse file that dbt's commands build.")

    def cli(self, args, **kwargs):
        # dagster-dbt hands dbt a copy of this process's environment as cli() starts it.
        with set_environment({WAREHOUSE_VAR: str(self.warehouse)}):
            return super().cli(args, **kwargs)

    @cached_property
    def _cli_version(self) -> version.Version:
        if Path(self.dbt_executable) == Path(DBT_EXECUTABLE):
            return version.parse(dbt_version())
        return super()._cli_version

    def _initialize_dbt_core_adapter(self, args):
        return None


def resources_for(config: RegistryConfig) -> dict[str, object]:
    return {
        "registry": config,
        "warehouse": WarehouseResource(database=config.warehouse, lock_timeout_seconds=config.max_wait_seconds),
        "dbt": RegistryDbtCliResource(project_dir=dbt_project(), dbt_executable=DBT_EXECUTABLE,
                                      warehouse=str(config.warehouse)),
    }
