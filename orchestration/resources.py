"""The resources every asset gets, all derived from the one ``RegistryConfig``.

- ``registry``: the configuration (paths, secret, limits);
- ``warehouse``: connections to the warehouse file (attached as catalog ``registry``);
- ``dbt``: the dbt CLI on the project in ``dbt_project/``, its artefacts in the state folder.
"""
from __future__ import annotations

import fcntl
import json
import sys
from contextlib import contextmanager
from pathlib import Path

from dagster_dbt import DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource

from registry import warehouse as warehouse_db
from registry.config import DBT_PROJECT_DIR, RegistryConfig

# The configuration of this code location, read from the environment once, when it loads.
CONFIG = RegistryConfig.from_env()

# Every asset that writes the warehouse file runs in this pool: DuckDB allows one
# writing process per file. Its limit (1) is set in the instance's dagster.yaml.
WAREHOUSE_POOL = "registry_warehouse"

# dbt is installed beside this interpreter, which need not be on PATH
# (`.venv/bin/dagster dev` started without an activated virtualenv).
DBT_EXECUTABLE = str(Path(sys.executable).parent / "dbt")


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


def dbt_vars(warehouse: str, **extra: object) -> str:
    """The `--vars` of every dbt invocation: the warehouse file (profiles.yml) and extras."""
    return json.dumps({"registry_warehouse": str(warehouse), **extra}, sort_keys=True)


def dbt_project(config: RegistryConfig) -> DbtProject:
    """The dbt project, its manifest and partial-parse state in the state folder (not the code)."""
    return DbtProject(
        project_dir=DBT_PROJECT_DIR,
        profiles_dir=DBT_PROJECT_DIR,
        target_path=config.dbt_state_dir / "target",
    )


def resources_for(config: RegistryConfig) -> dict[str, object]:
    return {
        "registry": config,
        "warehouse": WarehouseResource(database=config.warehouse, lock_timeout_seconds=config.max_wait_seconds),
        "dbt": DbtCliResource(project_dir=dbt_project(config), dbt_executable=DBT_EXECUTABLE),
    }


def prepare_dbt_manifest(config: RegistryConfig) -> Path:
    """Run `dbt parse` (the project's prepare step) so that the definitions can load.

    dagster-dbt's own preparer would look for `dbt` on PATH; this one uses the
    executable beside this interpreter. `dagster dev` runs it at import
    (``orchestration/defs/warehouse/assets.py``); the CLI and the tests call it first.
    """
    project = dbt_project(config)
    dbt = DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE)
    project.target_path.mkdir(parents=True, exist_ok=True)
    # `dagster dev` loads the code in several processes at once: one parse at a time.
    with open(project.target_path / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        dbt.cli(["parse", "--quiet", "--vars", dbt_vars(config.warehouse)],
                target_path=project.target_path).wait()
    return project.manifest_path
