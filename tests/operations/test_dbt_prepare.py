"""The dbt manifest is parsed once per project version and warehouse, not on every command."""
from __future__ import annotations

import shutil
import subprocess

from orchestration.dbt_manifest import dbt_vars, prepare_dbt_manifest, project_digest
from registry.config import DBT_PROJECT_DIR
from tests.conftest import config_for


def test_digest_follows_the_project_files_and_the_vars(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, project, ignore=shutil.ignore_patterns("target", "logs"))
    before = project_digest(project, dbt_vars("a.duckdb"))
    assert project_digest(project, dbt_vars("a.duckdb")) == before
    assert project_digest(project, dbt_vars("b.duckdb")) != before
    model = next(project.glob("models/marts/**/*.sql"), None) or next(project.rglob("models/**/*.sql"))
    model.write_text(model.read_text() + "\n-- changed\n")
    assert project_digest(project, dbt_vars("a.duckdb")) != before
    # what dbt writes beside the project does not count
    (project / "target").mkdir()
    (project / "target" / "manifest.json").write_text("{}")
    changed = project_digest(project, dbt_vars("a.duckdb"))
    assert project_digest(project, dbt_vars("a.duckdb")) == changed


class _CountingDbt:
    """Stands in for dbt: `parse` writes the artefacts the definitions need, and is counted."""

    parses: list[list[str]] = []

    @staticmethod
    def parse(project_dir, target, vars_):
        _CountingDbt.parses.append(vars_)
        for name in ("manifest.json", "partial_parse.msgpack"):
            (target / name).write_text(str(len(_CountingDbt.parses)))
        return subprocess.Popen(["true"], stdout=subprocess.PIPE, text=True)


def test_second_prepare_reuses_the_manifest_and_a_change_parses_again(tmp_path, monkeypatch):
    from orchestration import dbt_manifest

    monkeypatch.setattr(dbt_manifest, "start_dbt_parse", _CountingDbt.parse)
    _CountingDbt.parses.clear()
    config = config_for(tmp_path)
    manifest = prepare_dbt_manifest(config)
    assert len(_CountingDbt.parses) == 1
    assert prepare_dbt_manifest(config) == manifest and len(_CountingDbt.parses) == 1
    # a lost artefact, another project version, another warehouse: parsed again
    (manifest.parent / "partial_parse.msgpack").unlink()
    prepare_dbt_manifest(config)
    assert len(_CountingDbt.parses) == 2
    (manifest.parent / "parsed-from.sha256").write_text("another project version")
    prepare_dbt_manifest(config)
    assert len(_CountingDbt.parses) == 3
    other = config_for(tmp_path, warehouse=tmp_path / "elsewhere" / "other.duckdb")
    prepare_dbt_manifest(other)
    assert len(_CountingDbt.parses) == 4 and str(other.warehouse) in _CountingDbt.parses[-1]


def test_a_failed_parse_says_why_and_a_cancelled_one_stops(tmp_path, monkeypatch):
    import pytest

    from orchestration import dbt_manifest

    broken = tmp_path / "dbt_project"
    shutil.copytree(DBT_PROJECT_DIR, broken, ignore=shutil.ignore_patterns("target", "logs"))
    (broken / "models" / "broken_model.sql").write_text("select {% if true %} 1\n")  # unclosed block
    config = config_for(tmp_path)
    with pytest.raises(RuntimeError, match="broken_model") as failure:
        dbt_manifest.start_preparing(config, project_dir=broken).wait()
    assert f"dbt parse of {broken} failed" in str(failure.value)
    assert not (dbt_manifest.manifest_target(config) / "parsed-from.sha256").exists()
    # a command that fails before it needs the manifest stops the parse and frees the lock
    started = dbt_manifest.start_preparing(config, project_dir=broken)
    started.cancel()
    assert started.parse.returncode is not None
    again = dbt_manifest.start_preparing(config, project_dir=broken)  # not blocked by the first
    assert again.parse is not None
    again.cancel()
