"""One `dbt parse` + `dbt build` of the project on the landing fixture, shared by the tests."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from registry import warehouse as warehouse_db
from registry.warehouse import WAREHOUSE_VAR
from tests.dbt.landing_fixture import build_landing

PROJECT_ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT = PROJECT_ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


def run_dbt(args: list[str], warehouse: Path, tmp: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false", WAREHOUSE_VAR: str(warehouse)}
    cmd = [str(DBT), *args, "--project-dir", str(DBT_PROJECT), "--profiles-dir", str(DBT_PROJECT),
           "--target-path", str(tmp / "target"), "--log-path", str(tmp / "logs")]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=tmp)


@pytest.fixture(scope="session")
def dbt_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dbt")
    # the name of a schema: the profile attaches the file under a fixed catalog name
    warehouse = tmp / "warehouse.duckdb"
    build_landing(warehouse)
    parse = run_dbt(["parse"], warehouse, tmp)
    build = run_dbt(["build"], warehouse, tmp)
    return {"warehouse": warehouse, "parse": parse, "build": build, "tmp": tmp}


@pytest.fixture(scope="session")
def warehouse(dbt_run):
    assert dbt_run["build"].returncode == 0, dbt_run["build"].stdout[-5000:]
    con = warehouse_db.connect(dbt_run["warehouse"], read_only=True)
    yield con
    con.close()
