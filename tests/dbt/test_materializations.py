"""The project's table and view materializations (macros/materialized_in_place.sql): each
relation is dropped and created again inside one transaction, so a failing build leaves
the relation as it was, and a model may change between view and table.

A small project of its own, with only that macro file, keeps the test to the
materializations: one model that fails when asked to, read by a view."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import duckdb
import pytest

from tests.dbt.conftest import DBT, DBT_PROJECT

MODEL = """{{ config(materialized=var('materialized', 'table')) }}
select case when {{ var('fail', false) }} then error('a planted failure') else n end as n
from range({{ var('rows', 3) }}) as t(n)
"""
READER = "select count(*) as rows from {{ ref('numbers') }}\n"


@pytest.fixture
def project(tmp_path: Path) -> Path:
    root = tmp_path / "project"
    (root / "models").mkdir(parents=True)
    (root / "macros").mkdir()
    shutil.copy(DBT_PROJECT / "macros" / "materialized_in_place.sql", root / "macros")
    (root / "models" / "numbers.sql").write_text(MODEL)
    (root / "models" / "number_count.sql").write_text("{{ config(materialized='view') }}\n" + READER)
    (root / "dbt_project.yml").write_text(
        "name: materializations\nversion: '1.0'\nconfig-version: 2\nprofile: materializations\n")
    (root / "profiles.yml").write_text(
        "materializations:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n"
        f"      path: {tmp_path / 'numbers.duckdb'}\n      threads: 1\n")
    return root


def build(project: Path, **vars_: object) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(DBT), "run", "--project-dir", str(project), "--profiles-dir", str(project),
         "--vars", json.dumps(vars_), "--log-format-file", "json", "--log-level-file", "debug"],
        capture_output=True, text=True, cwd=project)


def relations(project: Path) -> dict[str, tuple[str, int]]:
    """name -> (table type, rows) of the project's relations."""
    with duckdb.connect(str(project.parent / "numbers.duckdb"), read_only=True) as con:
        kinds = dict(con.execute("select table_name, table_type from information_schema.tables "
                                 "where table_schema = 'main'").fetchall())
        return {name: (kind, con.execute(f"select count(*) from main.{name}").fetchone()[0])
                for name, kind in kinds.items()}


def statements(project: Path) -> list[str]:
    out = []
    for line in (project / "logs" / "dbt.log").read_text().splitlines():
        event = json.loads(line)
        if event["info"]["name"] == "SQLQuery":
            out.append(event["data"]["sql"])
    return out


def test_a_failing_build_leaves_the_table_and_its_readers_as_they_were(project):
    first = build(project, rows=3)
    assert first.returncode == 0, first.stdout
    assert relations(project) == {"numbers": ("BASE TABLE", 3), "number_count": ("VIEW", 1)}

    failed = build(project, rows=5, fail=True)
    assert failed.returncode != 0 and "a planted failure" in failed.stdout
    # the drop of the old table was rolled back with the failed create
    assert relations(project) == {"numbers": ("BASE TABLE", 3), "number_count": ("VIEW", 1)}

    again = build(project, rows=5)
    assert again.returncode == 0, again.stdout
    assert relations(project)["numbers"] == ("BASE TABLE", 5)


def test_tables_and_views_are_replaced_in_place_without_renames(project):
    assert build(project).returncode == 0
    (project / "logs" / "dbt.log").unlink()
    rebuilt = build(project, rows=4)
    assert rebuilt.returncode == 0, rebuilt.stdout
    sql = "\n".join(statements(project)).lower()
    assert 'drop table if exists "' in sql and 'drop view if exists "' in sql
    assert "__dbt_tmp" not in sql and "__dbt_backup" not in sql and "rename" not in sql


def test_a_model_changes_between_view_and_table(project):
    assert build(project, materialized="view").returncode == 0
    assert relations(project)["numbers"] == ("VIEW", 3)
    to_table = build(project, materialized="table", rows=2)
    assert to_table.returncode == 0, to_table.stdout
    assert relations(project)["numbers"] == ("BASE TABLE", 2)
    to_view = build(project, materialized="view", rows=6)
    assert to_view.returncode == 0, to_view.stdout
    assert relations(project) == {"numbers": ("VIEW", 6), "number_count": ("VIEW", 1)}


def test_a_setting_the_materializations_do_not_apply_is_refused(project):
    (project / "models" / "indexed.sql").write_text(
        "{{ config(materialized='table', indexes=[{'columns': ['n']}]) }}\nselect 1 as n\n")
    refused = build(project)
    assert refused.returncode != 0
    assert "indexes set on" in refused.stdout and "materialized_in_place.sql" in refused.stdout
