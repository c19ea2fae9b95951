"""The dbt manifest is parsed once per project version and warehouse, not on every command."""
from __future__ import annotations

import shutil

from orchestration.resources import DBT_PROJECT_DIR, dbt_vars, prepare_dbt_manifest, project_digest
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

    def __init__(self, **_):
        pass

    def cli(self, args, target_path):
        _CountingDbt.parses.append(list(args))
        for name in ("manifest.json", "partial_parse.msgpack"):
            (target_path / name).write_text(str(len(_CountingDbt.parses)))
        return self

    def wait(self):
        return self


def test_second_prepare_reuses_the_manifest_and_a_change_parses_again(tmp_path, monkeypatch):
    from orchestration import resources

    monkeypatch.setattr(resources, "DbtCliResource", _CountingDbt)
    _CountingDbt.parses.clear()
    config = config_for(tmp_path)
    manifest = prepare_dbt_manifest(config)
    assert len(_CountingDbt.parses) == 1 and _CountingDbt.parses[0][0] == "parse"
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
    assert len(_CountingDbt.parses) == 4 and str(other.warehouse) in _CountingDbt.parses[-1][-1]
