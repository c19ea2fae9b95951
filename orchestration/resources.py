"""Resources shared by every asset: the run's settings, the warehouse and dbt."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject
from dagster_duckdb import DuckDBResource

from registry.config import DBT_PROJECT_DIR, Settings

# Every asset that writes the warehouse file runs in this pool: DuckDB allows one
# writing process per file. Its limit (1) is set in the instance's dagster.yaml.
WAREHOUSE_POOL = "registry_warehouse"

DBT_PROJECT = DbtProject(
    project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR,
    prepare_project_cli_args=["parse", "--quiet", "--vars",
                              json.dumps({"registry_warehouse": str(Settings.from_env().warehouse)})],
)

# dbt is installed beside this interpreter; `.venv/bin/dagster dev` or
# `.venv/bin/registry` may run without the virtualenv on PATH, where dagster-dbt
# (and its manifest preparer) look for the executable.
_BIN_DIR = str(Path(sys.executable).parent)
if _BIN_DIR not in os.environ.get("PATH", "").split(os.pathsep):
    os.environ["PATH"] = _BIN_DIR + os.pathsep + os.environ.get("PATH", "")


class RegistrySettings(dg.ConfigurableResource):
    """Where the run reads and writes (contract section 6).

    The pseudonym key is deliberately not a field: resource config is shown in
    the Dagster UI, so the key is read from the environment only when needed.
    """

    inbox: str
    sites: str
    warehouse: str
    publish_dir: str

    def to_settings(self) -> Settings:
        from_env = Settings.from_env()
        return Settings(
            inbox=Path(self.inbox),
            sites=Path(self.sites),
            warehouse=Path(self.warehouse),
            publish_dir=Path(self.publish_dir),
            pseudonym_key=from_env.pseudonym_key,
            uses_development_key=from_env.uses_development_key,
        )


def build_resources(settings: Settings) -> dict[str, object]:
    settings.warehouse.parent.mkdir(parents=True, exist_ok=True)
    # dbt reads the warehouse path from its profile's env_var: make it the very
    # file the Python assets write, whatever default Settings resolved to.
    os.environ["REGISTRY_WAREHOUSE"] = str(settings.warehouse)
    return {
        "settings": RegistrySettings(
            inbox=str(settings.inbox),
            sites=str(settings.sites),
            warehouse=str(settings.warehouse),
            publish_dir=str(settings.publish_dir),
        ),
        "duckdb": DuckDBResource(database=str(settings.warehouse)),
        "dbt": DbtCliResource(project_dir=DBT_PROJECT),
    }


def prepare_dbt_manifest() -> None:
    """Run `dbt parse` so the definitions can load (outside `dagster dev`)."""
    DBT_PROJECT.preparer.prepare(DBT_PROJECT)
