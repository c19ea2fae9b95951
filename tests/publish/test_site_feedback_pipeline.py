"""Site feedback read from a real warehouse (the planted-faults inbox through
the whole pipeline): every site gets its workbook in its language, every
planted rejection is listed, and no identifier of the inbox appears anywhere."""
from __future__ import annotations

import pandas as pd
import pytest
from openpyxl import load_workbook

from registry import warehouse as warehouse_db
from registry.publish import site_feedback_from_warehouse, write_site_feedback
from registry.publish.present import text

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def feedback(faults_run):
    con = warehouse_db.connect(faults_run.warehouse, read_only=True)
    try:
        return site_feedback_from_warehouse(con)
    finally:
        con.close()


@pytest.fixture(scope="module")
def workbooks(feedback, tmp_path_factory):
    return write_site_feedback(feedback, tmp_path_factory.mktemp("feedback"), publish_id="p")


def _strings(path):
    wb = load_workbook(path)
    return [str(v) for ws in wb.worksheets for row in ws.iter_rows(values_only=True)
            for v in row if isinstance(v, str)]


def test_one_workbook_per_site_in_its_language(faults_run, feedback, workbooks):
    sites = pd.read_csv(faults_run.sites, dtype=str)
    assert set(workbooks) == set(sites["site_id"])
    for site in sites.itertuples():
        wb = load_workbook(workbooks[site.site_id])
        assert wb.sheetnames[0] == text("ui.summary", site.language)


def test_every_planted_rejection_is_listed(faults_run, feedback):
    truth = pd.read_csv(faults_run.truth / "rejections.csv", dtype=str)
    truth["site_id"] = truth["file_path"].str.split("/").str[0]
    truth["file_name"] = truth["file_path"].str.split("/").str[-1]
    listed = {(fb.site_id, r.file_name, int(r.source_row))
              for fb in feedback for r in fb.rejected_rows.itertuples()}
    expected = {(r.site_id, r.file_name, int(r.source_row)) for r in truth.itertuples()}
    assert expected <= listed
    files = pd.read_csv(faults_run.truth / "files.csv", dtype=str)
    rejected = files[files["expected_status"].isin(["rejected", "duplicate"])
                     & files["site_id"].notna()]
    known = {fb.site_id for fb in feedback}
    listed_files = {(fb.site_id, f) for fb in feedback for f in fb.files["file_name"]}
    for row in rejected[rejected["site_id"].isin(known)].itertuples():
        assert (row.site_id, row.file_path.split("/")[-1]) in listed_files


def test_no_identifier_reaches_a_feedback_workbook(faults_run, workbooks):
    identifiers = pd.read_csv(faults_run.truth / "identifiers.csv", dtype=str)["value"].dropna()
    refs = pd.read_csv(faults_run.truth / "patients.csv", dtype=str)["patient_ref"].dropna()
    secrets = {v.strip() for v in pd.concat([identifiers, refs]) if len(v.strip()) >= 4}
    for site, path in workbooks.items():
        cells = _strings(path)
        for cell in cells:
            for secret in secrets:
                assert secret not in cell, (site, cell)


def test_workbooks_written_by_worker_processes_say_what_one_process_writes(feedback, tmp_path, monkeypatch):
    """A national publish writes its thousands of workbooks in worker processes; each says
    what the publish's own process would have written."""
    from registry.publish import site_feedback as module

    monkeypatch.setattr(module, "MIN_WORKBOOKS_FOR_WORKERS", 2)
    monkeypatch.setattr(module, "WORKBOOKS_PER_TASK", 3)  # several tasks per worker
    assert len(feedback) >= module.MIN_WORKBOOKS_FOR_WORKERS
    cells = {}
    for workers in (1, 2):
        paths = write_site_feedback(feedback, tmp_path / str(workers), publish_id="p",
                                    published_at="2017-08-02T10:00:00+00:00", workers=workers)
        cells[workers] = {site: [[list(r) for r in ws.iter_rows(values_only=True)]
                                 for ws in load_workbook(path).worksheets] for site, path in paths.items()}
    assert cells[1] == cells[2]
    assert set(cells[2]) == {fb.site_id for fb in feedback}


def test_the_plain_values_of_a_publish_say_what_the_frames_say(feedback):
    """Feedback read from the warehouse carries its columns as lists, sliced from whole
    columns; the digests and the workbooks' contents are those of the frames alone."""
    import dataclasses

    from registry.publish.site_feedback import _content, feedback_digest

    assert all(fb.values is not None for fb in feedback)
    assert any(fb.values["rejected_rows"] for fb in feedback)
    for fb in feedback:
        frames_only = dataclasses.replace(fb, values=None)
        assert feedback_digest(fb) == feedback_digest(frames_only)
        assert repr(_content(fb)) == repr(_content(frames_only))  # repr: a NaN equals itself
