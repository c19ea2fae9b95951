"""Cumulative cuts: shrinking cuts are held until released; every delivery archived on arrival."""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import openpyxl
import pytest

from registry.landing import (
    ReleaseError,
    held_deliveries,
    load_site,
    load_site_master,
    register_site,
    release_delivery,
)
from registry.landing.archive import archive_path
from tests.landing.workbooks import TEST_KEY


def cut(refs: list[str]) -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Patients"
    ws.append(["Patient ID", "Implant date", "Cancer type"])
    for i, ref in enumerate(refs):
        ws.append([ref, dt.datetime(2015, 1, 1 + i), "lung"])
    return wb


def put(inbox: Path, rel: str, wb: openpyxl.Workbook) -> Path:
    path = inbox / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path


@pytest.fixture
def site(con, settings, sites_csv, tmp_path):
    load_site_master(con, sites_csv)
    archive = tmp_path / "archive"

    def run(load_id: str):
        register_site(con, settings.inbox, "US-001", load_id, archive=archive)
        return load_site(con, inbox=settings.inbox, site_id="US-001", load_id=load_id,
                         pseudonym_key=TEST_KEY, archive=archive)

    run.archive = archive
    return run


def status(con) -> dict[str, tuple[str, str | None]]:
    return {p: (s, r) for p, s, r in con.execute(
        "SELECT file_name, status, reason FROM landing.deliveries ORDER BY file_name").fetchall()}


THIRTY = [f"P{i:02d}" for i in range(30)]


def test_a_header_only_cut_is_held_and_the_current_cut_stays(con, settings, site):
    put(settings.inbox, "US-001/us 2017-01-31.xlsx", cut(THIRTY))
    site("load-1")
    put(settings.inbox, "US-001/us 2017-07-31.xlsx", cut([]))
    report = site("load-2")
    assert status(con)["us 2017-07-31.xlsx"] == (
        "held", "held: would drop 30 of 30 patients of the current cut us 2017-01-31.xlsx")
    assert status(con)["us 2017-01-31.xlsx"] == ("current", None)
    assert report.current_file == "us 2017-01-31.xlsx"
    assert report.files_held == {"US-001/us 2017-07-31.xlsx": status(con)["us 2017-07-31.xlsx"][1]}
    assert any("held: would drop 30 of 30" in line for line in report.problems)
    assert report.metadata_for("patients")["files_held"] == 1
    assert held_deliveries(con)[0]["file_path"] == "US-001/us 2017-07-31.xlsx"


def test_a_smaller_cut_is_held_a_larger_one_is_current(con, settings, site):
    put(settings.inbox, "US-001/us 2017-01-31.xlsx", cut(THIRTY))
    site("load-1")
    put(settings.inbox, "US-001/us 2017-07-31.xlsx", cut(THIRTY[:2]))
    put(settings.inbox, "US-001/us 2017-12-31.xlsx", cut([*THIRTY, "P99"]))
    site("load-2")
    assert status(con)["us 2017-07-31.xlsx"][1] == "held: would drop 28 of 30 patients of the current cut us 2017-01-31.xlsx"
    assert status(con)["us 2017-12-31.xlsx"] == ("current", None)
    assert status(con)["us 2017-01-31.xlsx"] == ("superseded", None)


def test_an_older_cut_arriving_late_is_superseded_not_held(con, settings, site):
    put(settings.inbox, "US-001/us 2017-07-31.xlsx", cut(THIRTY))
    site("load-1")
    put(settings.inbox, "US-001/us 2016-07-31.xlsx", cut(THIRTY[:3]))
    site("load-2")
    assert status(con)["us 2016-07-31.xlsx"] == ("superseded", None)
    assert status(con)["us 2017-07-31.xlsx"] == ("current", None)


def test_releasing_a_held_cut_makes_it_current_and_records_who_and_when(con, settings, site):
    put(settings.inbox, "US-001/us 2017-01-31.xlsx", cut(THIRTY))
    site("load-1")
    put(settings.inbox, "US-001/us 2017-07-31.xlsx", cut(THIRTY[1:]))  # P00 withdrew consent
    site("load-2")
    with pytest.raises(ReleaseError, match="not a held delivery"):
        release_delivery(con, "US-001", "us 2017-01-31.xlsx")
    with pytest.raises(ReleaseError, match="no delivery of the site"):
        release_delivery(con, "US-001", "nothing.xlsx")
    when = dt.datetime(2017, 8, 2, 9, 30)
    done = release_delivery(con, "US-001", "us 2017-07-31.xlsx", released_by="data engineer", released_at=when)
    assert (done.status, done.current_file, done.patients_dropped) == ("current", "us 2017-07-31.xlsx", 1)
    row = con.execute("SELECT status, reason, released_by, released_at FROM landing.deliveries "
                      "WHERE file_name = 'us 2017-07-31.xlsx'").fetchall()[0]
    assert row == ("current", "released: drops 1 of 30 patients of the current cut us 2017-01-31.xlsx",
                   "data engineer", when)
    assert status(con)["us 2017-01-31.xlsx"] == ("superseded", None)
    assert held_deliveries(con) == []
    # a later full cut is judged against the released one
    put(settings.inbox, "US-001/us 2017-12-31.xlsx", cut(THIRTY[1:] + ["P99"]))
    site("load-3")
    assert status(con)["us 2017-12-31.xlsx"] == ("current", None)


def test_patients_are_compared_by_key_never_raw_reference(con, settings, site):
    put(settings.inbox, "US-001/us 2017-01-31.xlsx", cut(["p01", " P02 "]))
    site("load-1")
    put(settings.inbox, "US-001/us 2017-07-31.xlsx", cut(["P01", "P02"]))  # same patients, other case and spaces
    site("load-2")
    assert status(con)["us 2017-07-31.xlsx"] == ("current", None)


def test_every_delivery_is_archived_on_arrival_and_loads_read_the_archive(con, settings, site):
    path = put(settings.inbox, "US-001/us 2017-01-31.xlsx", cut(THIRTY))
    register_site(con, settings.inbox, "US-001", "load-1", archive=site.archive)
    sha = con.execute("SELECT file_sha256 FROM landing.deliveries").fetchall()[0][0]
    assert archive_path(site.archive, sha).read_bytes() == path.read_bytes()
    path.unlink()  # the site deletes its file before the load
    report = load_site(con, inbox=settings.inbox, site_id="US-001", load_id="load-1", pseudonym_key=TEST_KEY,
                       archive=site.archive)
    assert report.files_loaded == ["US-001/us 2017-01-31.xlsx"] and report.current_file == "us 2017-01-31.xlsx"
    assert con.execute("SELECT count(*) FROM landing.patients").fetchall()[0][0] == 30


def test_a_file_overwritten_after_registration_loses_nothing(con, settings, site):
    path = put(settings.inbox, "US-001/us 2017-01-31.xlsx", cut(THIRTY))
    register_site(con, settings.inbox, "US-001", "load-1", archive=site.archive)
    put(settings.inbox, "US-001/us 2017-01-31.xlsx", cut(["X1"]))
    load_site(con, inbox=settings.inbox, site_id="US-001", load_id="load-1", pseudonym_key=TEST_KEY,
              archive=site.archive)
    assert con.execute("SELECT count(*) FROM landing.patients").fetchall()[0][0] == 30
    site("load-2")  # the new bytes are a delivery of their own, held: they drop 30 patients
    statuses = sorted(r[0] for r in con.execute("SELECT status FROM landing.deliveries").fetchall())
    assert statuses == ["current", "held"]
    assert path.exists()


def test_a_file_over_the_size_limit_is_rejected_at_registration_and_not_archived(con, settings, site):
    put(settings.inbox, "US-001/us 2017-01-31.xlsx", cut(THIRTY))
    scan = register_site(con, settings.inbox, "US-001", "load-1", archive=site.archive, max_file_mb=0.001)
    assert scan.registered == {"rejected": 1}
    assert status(con)["us 2017-01-31.xlsx"][1].startswith("too_large: the file is")
    assert not site.archive.exists() or not any(site.archive.rglob("*.xlsx"))


def test_a_registered_delivery_missing_from_the_archive_is_archived_when_loaded(con, settings, site):
    put(settings.inbox, "US-001/us 2017-01-31.xlsx", cut(THIRTY))
    register_site(con, settings.inbox, "US-001", "load-1")  # registered before the archive was kept
    load_site(con, inbox=settings.inbox, site_id="US-001", load_id="load-1", pseudonym_key=TEST_KEY,
              archive=site.archive)
    sha = con.execute("SELECT file_sha256 FROM landing.deliveries").fetchall()[0][0]
    assert archive_path(site.archive, sha).is_file()
