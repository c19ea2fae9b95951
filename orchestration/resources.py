"""The resources every asset gets, all derived from the one ``RegistryConfig``.

- ``registry``: the configuration (paths, secret, limits);
- ``warehouse``: connections to the warehouse file (attached as catalog ``registry``);
- ``dbt``: the dbt CLI on the project in ``dbt_project/``, its artefacts in the state folder.
"""
from __future__ import annotations

import fcntl
import hashlib
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


# What `dbt parse` reads: a change to any of these makes the next command parse again.
PARSED_SUFFIXES = {".sql", ".yml", ".yaml", ".csv", ".md"}


def project_digest(project_dir: Path, vars_: str) -> str:
    """SHA-256 of the dbt project's files, the parse's `--vars` and the dbt version."""
    from dbt.version import __version__ as dbt_version

    digest = hashlib.sha256(f"{dbt_version}\0{vars_}\0".encode())
    for path in sorted(p for p in project_dir.rglob("*") if p.suffix in PARSED_SUFFIXES and p.is_file()
                       and p.relative_to(project_dir).parts[0] not in ("target", "logs", "dbt_packages")):
        digest.update(f"{path.relative_to(project_dir).as_posix()}\0".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def prepare_dbt_manifest(config: RegistryConfig) -> Path:
    """Run `dbt parse` (the project's prepare step) so that the definitions can load, unless
    the manifest in the state folder was parsed from these very files and `--vars`.

    dagster-dbt's own preparer would look for `dbt` on PATH; this one uses the
    executable beside this interpreter. `dagster dev` runs it at import
    (``orchestration/defs/warehouse/assets.py``); the CLI and the tests call it first.
    """
    project = dbt_project(config)
    target = Path(project.target_path)
    target.mkdir(parents=True, exist_ok=True)
    vars_ = dbt_vars(config.warehouse)
    # `dagster dev` loads the code in several processes at once: one parse at a time.
    with open(target / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        digest = project_digest(Path(project.project_dir), vars_)
        stamp = target / "parsed-from.sha256"
        parsed = [project.manifest_path, target / "partial_parse.msgpack"]
        if all(p.is_file() for p in parsed) and stamp.is_file() and stamp.read_text() == digest:
            return project.manifest_path
        stamp.unlink(missing_ok=True)
        dbt = DbtCliResource(project_dir=project, dbt_executable=DBT_EXECUTABLE)
        dbt.cli(["parse", "--quiet", "--vars", vars_], target_path=target).wait()
        stamp.write_text(digest)
    return project.manifest_path
