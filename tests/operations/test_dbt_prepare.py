"""The dbt manifest is parsed once per project version, for every warehouse, not on every
command."""
from __future__ import annotations

import os
import shutil
import subprocess

from orchestration.dbt_manifest import (
    DBT_EXECUTABLE,
    manifest_target,
    prepare_dbt_manifest,
    project_digest,
)
from registry.config import DBT_PROJECT_DIR
from registry.warehouse import WAREHOUSE_VAR


def _project_copy(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    return project


def test_digest_follows_the_project_files_only(tmp_path):
    project = _project_copy(tmp_path)
    before = project_digest(project)
    assert project_digest(project) == before
    model = next(project.glob("models/marts/**/*.sql"), None) or next(project.rglob("models/**/*.sql"))
    model.write_text(model.read_text() + "\n-- changed\n")
    assert project_digest(project) != before
    # what dbt writes beside the project does not count
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")
    changed = project_digest(project)
    assert project_digest(project) == changed


class _CountingDbt:
    """Stands in for dbt: `parse` writes the artefacts the definitions need, and is counted."""

    parses: list[list[str]] = []

    @staticmethod
    def parse(project_dir, target):
        _CountingDbt.parses.append(project_dir)
        for name in ("manifest.json", "partial_parse.msgpack"):
            (target / name).write_text(str(len(_CountingDbt.parses)))
        return subprocess.Popen(["true"], stdout=subprocess.PIPE, text=True)


def test_second_prepare_reuses_the_manifest_and_a_change_parses_again(tmp_path, monkeypatch):
    from orchestration import dbt_manifest

    monkeypatch.setattr(dbt_manifest, "start_dbt_parse", _CountingDbt.parse)
    _CountingDbt.parses.clear()
    project = _project_copy(tmp_path)
    manifest = prepare_dbt_manifest(project)
    assert manifest == project / "target" / "manifest.json" and len(_CountingDbt.parses) == 1
    assert prepare_dbt_manifest(project) == manifest and len(_CountingDbt.parses) == 1
    # a lost artefact, another project version: parsed again
    (manifest.parent / "partial_parse.msgpack").unlink()
    prepare_dbt_manifest(project)
    assert len(_CountingDbt.parses) == 2
    (manifest.parent / "parsed-from.sha256").write_text("another project version")
    prepare_dbt_manifest(project)
    assert len(_CountingDbt.parses) == 3


def test_one_parse_serves_every_warehouse(tmp_path):
    """dbt itself takes the prepared partial parse for a build of any warehouse: nothing of
    the warehouse is in the profile's hashed settings or in `--vars`."""
    project = _project_copy(tmp_path)
    prepare_dbt_manifest(project)
    for name in ("a", "b"):
        out = subprocess.run(
            [DBT_EXECUTABLE, "parse", "--project-dir", str(project), "--profiles-dir", str(project),
             "--target-path", str(tmp_path / name), "--log-path", str(tmp_path / name),
             "--partial-parse-file-path", str(manifest_target(project) / "partial_parse.msgpack")],
            capture_output=True, text=True,
            env={**os.environ, WAREHOUSE_VAR: str(tmp_path / name / "registry.duckdb"),
                 "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
        assert out.returncode == 0, out.stdout + out.stderr
        log = (tmp_path / name / "dbt.log").read_text()
        assert "Unable to do partial parsing" not in log, log[-3000:]
        assert "Partial parsing enabled" in log, log[-3000:]


def test_a_failed_parse_says_why_and_a_cancelled_one_stops(tmp_path, monkeypatch):
    import pytest

    from orchestration import dbt_manifest

    broken = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, broken, ignore=shutil.ignore_patterns("target", "logs"))
    (broken / "models" / "broken_model.sql").write_text("select {% if true %} 1\n")  # unclosed block
    with pytest.raises(RuntimeError, match="broken_model") as failure:
        dbt_manifest.start_preparing(broken).wait()
    assert f"dbt parse of {broken} failed" in str(failure.value)
    assert not (dbt_manifest.manifest_target(broken) / "parsed-from.sha256").exists()
    # a command that fails before it needs the manifest stops the parse and frees the lock
    started = dbt_manifest.start_preparing(broken)
    started.cancel()
    assert started.parse.returncode is not None
    again = dbt_manifest.start_preparing(broken)  # not blocked by the first
    assert again.parse is not None
    again.cancel()


def test_dbt_commands_build_the_resource_warehouse(tmp_path, monkeypatch):
    """Whatever REGISTRY_WAREHOUSE the process has, the dbt process the resource starts is
    given the resource's own warehouse, and the process's variable is put back."""
    from dagster_dbt import DbtCliResource

    from orchestration.resources import resources_for
    from tests.conftest import config_for

    seen = []
    monkeypatch.setattr(DbtCliResource, "cli", lambda self, args, **kwargs: seen.append(os.environ[WAREHOUSE_VAR]))
    monkeypatch.setenv(WAREHOUSE_VAR, str(tmp_path / "another.duckdb"))
    config = config_for(tmp_path, warehouse=tmp_path / "mine" / "registry.duckdb")
    resources_for(config)["dbt"].cli(["build"])
    assert seen == [str(config.warehouse)]
    assert os.environ[WAREHOUSE_VAR] == str(tmp_path / "another.duckdb")
    monkeypatch.delenv(WAREHOUSE_VAR)
    resources_for(config)["dbt"].cli(["build"])
    assert seen[-1] == str(config.warehouse) and WAREHOUSE_VAR not in os.environ
