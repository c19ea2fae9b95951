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


def test_second_prepare_reuses_the_manifest_and_a_lost_one_is_parsed_again(tmp_path):
    config = config_for(tmp_path)
    manifest = prepare_dbt_manifest(config)
    first = manifest.stat().st_mtime_ns
    assert prepare_dbt_manifest(config) == manifest and manifest.stat().st_mtime_ns == first
    manifest.unlink()
    assert prepare_dbt_manifest(config).is_file()
    stamp = manifest.parent / "parsed-from.sha256"
    stamp.write_text("another project version")
    second = manifest.stat().st_mtime_ns
    prepare_dbt_manifest(config)
    assert manifest.stat().st_mtime_ns != second and stamp.read_text() != "another project version"
