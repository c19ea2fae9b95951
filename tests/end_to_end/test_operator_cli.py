"""The operator's `registry` command on a registry of its own: status, rejections, a dry run
that writes nothing, held cuts and their release, every publish listed, and an as-of
analysis that still reproduces the paper after later cuts arrive."""
from __future__ import annotations

import csv
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

from registry import warehouse as warehouse_db

pytestmark = pytest.mark.slow

REGISTRY = str(Path(sys.executable).parent / "registry")


def cli(run, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, **run.config.environment(), "DAGSTER_HOME": str(run.root / "dagster_home")}
    done = subprocess.run([REGISTRY, *args], env=env, capture_output=True, text=True, timeout=900)
    if check:
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


@pytest.fixture(scope="module")
def operated(tmp_path_factory, pipeline):
    """The paper's registry (the default sample) through the pipeline, in a folder of its own."""
    run = pipeline.run_in(tmp_path_factory.mktemp("operated"))
    assert run.result.success
    return run


def current_files(run) -> dict[str, str]:
    with warehouse_db.connect(run.warehouse, read_only=True) as con:
        return dict(con.execute("select site_id, file_name from landing.deliveries where status = 'current'")
                    .fetchall())


def test_version_and_status(operated):
    assert cli(operated, "--version").stdout.startswith("registry ")
    out = cli(operated, "status").stdout
    sites = {row["site_id"] for row in csv.DictReader(operated.sites.open())}
    assert all(site in out for site in sites)
    assert "2017-07-31" in out and "\x1b[" not in out  # plain text, no colour codes


def test_rejections_as_csv_name_file_sheet_row_and_column_only(operated):
    out = cli(operated, "rejections", "--csv").stdout
    header = next(csv.reader(io.StringIO(out)))
    assert header == ["site_id", "file_name", "sheet_name", "source_row", "column", "reasons"]


def test_a_dry_run_says_what_would_happen_and_writes_nothing(operated):
    site = "DE-001"
    current = current_files(operated)[site]
    source = operated.inbox / site / current
    shrinking = operated.inbox / site / f"{site} filtered 2017-08-31.xlsx"
    workbook = openpyxl.load_workbook(source)
    patients = workbook.worksheets[0]
    patients.delete_rows(patients.max_row - 4, 5)  # a filtered export: some patients fewer
    workbook.save(shrinking)
    broken = operated.inbox / site / f"{site} broken 2017-09-30.xlsx"
    broken.write_bytes(b"not a workbook at all")
    before = hashlib.sha256(operated.warehouse.read_bytes()).hexdigest()
    out = cli(operated, "run", "--dry-run").stdout
    assert hashlib.sha256(operated.warehouse.read_bytes()).hexdigest() == before
    lines = [line for line in out.splitlines() if line.strip().startswith(site)]
    assert any("filtered" in line and " hold " in line and "would drop" in line for line in lines), out
    assert any("broken" in line and " reject " in line and "unreadable_workbook" in line for line in lines), out
    assert "nothing was written" in out
    broken.unlink()


def test_a_shrinking_cut_is_held_until_released(operated):
    site = "DE-001"
    before = current_files(operated)[site]
    cli(operated, "run", "--site", site)
    assert current_files(operated)[site] == before  # the filtered export is held
    held = cli(operated, "deliveries", "held").stdout
    assert f"{site} filtered 2017-08-31.xlsx" in held and "would drop" in held
    status = cli(operated, "status", "--site", site).stdout
    assert "would drop" in status
    cli(operated, "deliveries", "release", site, f"{site} filtered 2017-08-31.xlsx", "--by", "test")
    assert current_files(operated)[site] == f"{site} filtered 2017-08-31.xlsx"
    cli(operated, "run")


def next_cut(operated, site: str, data_cut: str) -> Path:
    """A later cut of the site's current workbook: other bytes, the same patients."""
    new_cut = operated.inbox / site / f"{site} next {data_cut}.xlsx"
    workbook = openpyxl.load_workbook(operated.inbox / site / current_files(operated)[site])
    workbook.worksheets[0].append([f"Total: cut of {data_cut}"])
    workbook.save(new_cut)
    return new_cut


def test_a_site_of_one_country_is_loaded_built_and_published_in_one_run(operated):
    import dagster as dg

    site = "US-001"
    new_cut = next_cut(operated, site, "2017-09-30")
    home = str(operated.root / "dagster_home")
    with dg.DagsterInstance.from_config(home) as instance:
        before = {r.run_id for r in instance.get_runs()}
    published = (operated.publish_dir / "manifest.json").read_text()
    cli(operated, "run", "--site", site)
    with dg.DagsterInstance.from_config(home) as instance:
        [run] = [r for r in instance.get_runs() if r.run_id not in before]
        assert run.status == dg.DagsterRunStatus.SUCCESS
        assert (run.tags["dagster/asset_partition_range_start"], run.tags["dagster/asset_partition_range_end"]) \
            == ("US", "US")
    assert current_files(operated)[site] == new_cut.name
    assert (operated.publish_dir / "manifest.json").read_text() != published


def test_every_publish_is_kept_and_listed(operated):
    out = cli(operated, "publishes").stdout
    assert out.count("current") == 1 and out.count("history") >= 2


def test_as_of_analysis_reproduces_the_paper_after_later_cuts_arrive(operated):
    """DE-001 sent a later (released) cut above; two more sites send one now."""
    for site in ("US-001", "BR-002"):
        next_cut(operated, site, "2017-10-31")
    cli(operated, "run")
    assert current_files(operated)["US-001"] == "US-001 next 2017-10-31.xlsx"
    out = cli(operated, "run", "--as-of", "2017-07-31").stdout
    as_of = operated.publish_dir / "as-of" / "2017-07-31"
    assert (as_of / "marts.duckdb").exists(), out
    check = cli(operated, "compare-paper", "--check", "--publish-dir", str(as_of), check=False)
    assert check.returncode == 0, check.stdout[-3000:]
    assert "as-of" in cli(operated, "publishes").stdout
    # the current publish still shows the later cuts
    with warehouse_db.connect(operated.warehouse, read_only=True) as con:
        schemas = {r[0] for r in con.execute("select schema_name from duckdb_schemas() where database_name = 'registry'")
                   .fetchall()}
    assert not any("as_of" in s for s in schemas)  # the as-of build leaves nothing behind
