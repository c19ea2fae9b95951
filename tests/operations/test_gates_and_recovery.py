"""Data-quality gates, failure summaries and re-execution from failure."""
from __future__ import annotations

import json
from pathlib import Path

import dagster as dg
import duckdb
import openpyxl
import pandas as pd
import pytest

from orchestration.defs.operations.failures import run_failure_summary
from registry import warehouse as warehouse_db

pytestmark = pytest.mark.slow


def publish_id(publish_dir: Path) -> str:
    return json.loads((publish_dir / "manifest.json").read_text())["publish_id"]


def read_marts(marts_duckdb: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(marts_duckdb), read_only=True) as con:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main' "
            "and table_name <> 'publish_info' order by 1").fetchall()]
        return {name: con.execute(f'select * from "{name}"').fetchdf() for name in names}


def write_bad_cut(site_dir: Path, truth: Path) -> Path:
    """A newer cut that keeps every patient of the site (so it is not held) and adds forty
    rows with an impossible implant date: most of its rows are rejected."""
    patients = pd.read_csv(truth / "patients.csv", dtype=str)
    patients = patients[patients["site_id"] == site_dir.name]
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = "Patients"
    sheet.append(["Patient ID", "Sex", "Age at implant", "Implant date", "Implant type", "Cancer type",
                  "Drugs"])
    for row in patients.itertuples():
        sheet.append([row.patient_ref, row.sex, row.age_at_implant, row.implant_date, row.implant_type,
                      row.cancer_type, row.drugs.replace(";", ", ")])
    for number in range(1, 41 + 4 * len(patients)):
        sheet.append([f"BAD-{number:03d}", "F", 60, "2015-02-31", "initial", "lung", "morphine"])
    path = site_dir / f"{site_dir.name}_2017-09-30.xlsx"
    workbook.save(path)
    return path


@pytest.fixture(scope="module")
def gated_run(tmp_path_factory, pipeline):
    run = pipeline.run_in(tmp_path_factory.mktemp("gates"), scale=0.05, seed=11)
    assert run.result.success
    before = publish_id(run.publish_dir)
    bad_site = sorted(p for p in run.inbox.iterdir() if p.is_dir())[0]
    write_bad_cut(bad_site, run.truth)
    result = pipeline.execute(run.config, run.root / "dagster_home")
    return run, before, result, bad_site.name


def test_a_bad_delivery_fails_the_blocking_check_and_keeps_the_previous_publish(gated_run):
    run, before, result, site = gated_run
    assert not result.success
    failed = [e for e in result.all_events if e.is_step_failure]
    # the gate is a blocking check of its own: it fails, and the publish does not run
    assert [e.step_key for e in failed] == ["marts__site_data_quality_rejected_share_below_threshold"]
    assert not any(e.is_step_success and e.step_key == "publish__published_marts" for e in result.all_events)
    checks = {
        e.asset_check_evaluation_data.check_name: e.asset_check_evaluation_data
        for e in result.all_events if e.event_type_value == "ASSET_CHECK_EVALUATION"
    }
    gate = checks["rejected_share_below_threshold"]
    assert not gate.passed
    assert site in gate.description  # the UI says which delivery and why
    assert publish_id(run.publish_dir) == before
    # The warehouse has the bad cut as the site's current delivery; the analysts don't.
    with warehouse_db.connect(run.warehouse, read_only=True) as con:
        current = con.execute(
            "select file_name from landing.deliveries where site_id = ? and status = 'current'", [site]
        ).fetchone()[0]
    assert current.endswith("2017-09-30.xlsx")
    published = read_marts(run.marts_duckdb)["site_data_quality"]
    assert not published["file_name"].str.endswith("2017-09-30.xlsx").any()


def test_the_failure_sensor_writes_a_summary(gated_run, tmp_path):
    run, _, result, _ = gated_run
    with dg.DagsterInstance.from_config(str(run.root / "dagster_home")) as instance:
        dagster_run = instance.get_run_by_id(result.run_id)
        failure = next(
            e for e in instance.all_logs(result.run_id) if e.dagster_event and e.dagster_event.event_type_value == "PIPELINE_FAILURE"
        ).dagster_event
        context = dg.build_run_status_sensor_context(
            sensor_name="run_failure_summary", dagster_instance=instance, dagster_run=dagster_run,
            dagster_event=failure,
            resources={"registry": type(run.config)(**{**run.config.model_dump(), "state_dir": str(tmp_path)})},
        ).for_run_failure()
        run_failure_summary(context)
    summary = (tmp_path / "failures.log").read_text()
    assert result.run_id in summary
    assert "rejected_share_below_threshold" in summary and "blocking" in summary
    assert "previous publish stays" in summary


def test_reexecution_from_failure_finishes_like_a_clean_run(tmp_path, isolated_config, pipeline):
    from orchestration.definitions import full_build_job_for_reexecution
    from orchestration.defs.landing.partitions import country_range_tags
    from registry.sample import generate

    generate(tmp_path / "sample", scale=0.05, seed=5)
    inputs = {"inbox": tmp_path / "sample" / "inbox", "sites": tmp_path / "sample" / "sites.csv"}
    clean = isolated_config(tmp_path / "clean", **inputs)
    assert pipeline.execute(clean, tmp_path / "clean" / "dagster_home").success

    broken = isolated_config(tmp_path / "retry", **inputs)
    broken_publish = broken.path("publish_dir")
    # The publish folder's place is taken by a file: the run fails at its last step.
    broken_publish.parent.mkdir(parents=True)
    broken_publish.write_text("not a folder")
    with pipeline.environment(broken.environment()):
        countries = sorted(set(pd.read_csv(broken.path("sites"), dtype=str)["country"]))
        with dg.instance_for_test() as instance:
            instance.add_dynamic_partitions("countries", countries)
            job = dg.reconstructable(full_build_job_for_reexecution)
            with dg.execute_job(job, instance, tags=country_range_tags(countries)) as first:
                assert not first.success
                assert [e.step_key for e in first.all_events if e.is_step_failure] == ["publish__published_marts"]
                first_id = first.run_id
            broken_publish.unlink()
            with dg.execute_job(
                job, instance,
                reexecution_options=dg.ReexecutionOptions.from_failure(first_id, instance),
            ) as retry:
                assert retry.success
                executed = {e.step_key for e in retry.all_events if e.is_step_success}
                assert executed == {"publish__published_marts"}

    clean_marts = read_marts(clean.path("publish_dir") / "marts.duckdb")
    retried_marts = read_marts(broken_publish / "marts.duckdb")
    assert clean_marts.keys() == retried_marts.keys()
    for name in clean_marts:
        pd.testing.assert_frame_equal(clean_marts[name], retried_marts[name], obj=name)
