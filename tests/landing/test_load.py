"""Inbox -> landing zone, end to end on small workbooks that cover the site workbook contract."""
from __future__ import annotations

import hashlib
import hmac
import json
import os
from pathlib import Path

import openpyxl
import pytest

from registry.landing import deliveries as deliveries_module
from registry.landing import (
    load_site,
    load_site_master,
    register_inbox,
)
from registry.landing.deliveries import pending_sites
from registry.landing.schema import SHEET_FIELDS
from tests.landing import workbooks as wbs
from tests.landing.workbooks import TEST_KEY

US_FIRST = "US-001/US-001 export 2017-01-31.xlsx"
EXPECTED_FIRST = {  # file -> (status, reason code)
    US_FIRST: ("current", None),
    "US-001/copy of export.xlsx": ("duplicate", "duplicate_file"),
    "US-001/notes.txt": ("ignored", "not_a_workbook"),
    "US-001/archive/old_2016-01-01.xlsx": ("ignored", "outside_site_folder"),
    "ES-001/Datos_20170731.xlsx": ("current", None),
    "DE-001/broken 2017-07-31.xlsx": ("rejected", "unreadable_workbook"),
    "DE-001/protected_2017-06-30.xlsx": ("rejected", "unreadable_workbook"),
    "BR-001/br_2017-07-31.xlsx": ("rejected", "missing_required_column"),
    "XX-999/export_2017-07-31.xlsx": ("rejected", "unknown_site"),
    "README.txt": ("ignored", "outside_site_folder"),
}


def put(inbox: Path, rel: str, content: bytes | openpyxl.Workbook) -> Path:
    path = inbox / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(wbs.to_bytes(content) if isinstance(content, openpyxl.Workbook) else content)
    return path


def build_first_inbox(inbox: Path) -> None:
    us = wbs.to_bytes(wbs.us_workbook())
    put(inbox, US_FIRST, us)
    put(inbox, "US-001/copy of export.xlsx", us)
    put(inbox, "US-001/notes.txt", b"call the site on Monday")
    put(inbox, "US-001/archive/old_2016-01-01.xlsx", us)
    put(inbox, "ES-001/Datos_20170731.xlsx", wbs.es_workbook())
    put(inbox, "DE-001/broken 2017-07-31.xlsx", wbs.truncated_xlsx(wbs.de_workbook()))
    put(inbox, "DE-001/protected_2017-06-30.xlsx", wbs.password_protected_xlsx())
    put(inbox, "BR-001/br_2017-07-31.xlsx", wbs.de_workbook(visits_without_ref=True))
    put(inbox, "XX-999/export_2017-07-31.xlsx", wbs.de_workbook())
    put(inbox, "README.txt", b"drop files in your site folder")


def load(con, settings, site_id: str, load_id: str):
    return load_site(con, inbox=settings.inbox, site_id=site_id, load_id=load_id,
                     pseudonym_key=settings.pseudonym_key)


def run(con, settings, load_id: str):
    scan = register_inbox(con, settings.inbox, load_id)
    reports = {site: load(con, settings, site, load_id) for site in pending_sites(con)}
    return scan, reports


@pytest.fixture
def loaded(con, settings, sites_csv):
    build_first_inbox(settings.inbox)
    load_site_master(con, sites_csv)
    scan, reports = run(con, settings, "load-1")
    return scan, reports


def statuses(con) -> dict[str, tuple[str, str | None]]:
    """Every file of the inbox: the site folders' deliveries and the strays outside them."""
    rows = con.execute("SELECT file_path, status, reason FROM landing.deliveries UNION ALL "
                       "SELECT file_path, status, reason FROM landing.inbox_strays").fetchall()
    return {p: (s, r.split(":")[0] if r else None) for p, s, r in rows}


def table_counts(con) -> dict[str, int]:
    tables = ["deliveries", "inbox_strays", "sheet_loads", "note_rows", *SHEET_FIELDS]
    return {t: con.execute(f"SELECT count(*) FROM landing.{t}").fetchall()[0][0] for t in tables}


def test_every_file_is_accounted_for(con, settings, loaded):
    scan, reports = loaded
    on_disk = {p.relative_to(settings.inbox).as_posix() for p in settings.inbox.rglob("*") if p.is_file()}
    assert statuses(con) == EXPECTED_FIRST
    assert set(EXPECTED_FIRST) == on_disk
    assert scan.files_seen == len(on_disk)
    assert reports["DE-001"].files_loaded == [] and len(reports["DE-001"].files_rejected) == 2
    assert reports["DE-001"].current_file is None
    assert reports["BR-001"].files_rejected["BR-001/br_2017-07-31.xlsx"].startswith(
        "missing_required_column: sheet 'Verlauf'"
    )
    us = reports["US-001"]
    assert us.files_loaded == [US_FIRST]
    assert (us.sheets["patients"].rows_read, us.sheets["patients"].data_rows,
            us.sheets["patients"].blank_rows, us.sheets["patients"].note_rows) == (7, 4, 2, 1)
    assert us.unknown_columns["patients"] == ["Comments", "(column 11 without header)"]
    assert us.identifier_columns_dropped["patients"] == ["Patient name", "Phone", "MRN", "E-mail"]
    assert us.ignored_sheets == ["Lookup lists"]
    meta = us.metadata_for("patients")
    assert meta["rows_kept"] == 4 and meta["files_loaded"] == 1
    cuts = dict(con.execute("SELECT file_path, strftime(data_cut, '%Y-%m-%d') || ' ' || data_cut_source "
                            "FROM landing.deliveries").fetchall())
    assert cuts[US_FIRST] == "2017-01-31 file_name"
    assert cuts["ES-001/Datos_20170731.xlsx"] == "2017-07-31 file_name"
    assert cuts["US-001/copy of export.xlsx"].endswith("modified_time")
    sheets = json.loads(con.execute(
        "SELECT sheets FROM landing.deliveries WHERE file_path = ?", ["ES-001/Datos_20170731.xlsx"]
    ).fetchall()[0][0])
    assert sheets == {"patients": " pacientes ", "visits": "Seguimiento", "events": "Adversos eventos", "exits": "Salida"}


def test_every_row_traces_back_to_its_file_sheet_and_row(con, settings, loaded):
    sheet_loads = con.execute(
        "SELECT d.file_path, s.sheet_kind, s.sheet_name, s.header_row, s.rows_read, s.data_rows, s.blank_rows, "
        "s.note_rows, s.mapped_columns FROM landing.sheet_loads s JOIN landing.deliveries d USING (delivery_id)"
    ).fetchall()
    assert len(sheet_loads) == 8  # four sheets in each of the two loaded workbooks
    checked = 0
    for file_path, kind, sheet_name, header_row, read, data, blank, note, mapped in sheet_loads:
        assert read == data + blank + note
        ws = openpyxl.load_workbook(settings.inbox / file_path)[sheet_name]
        ref_header = next(h for h, f in json.loads(mapped).items() if f == "patient_ref")
        ref_column = next(c.column for c in ws[header_row] if c.value == ref_header)
        rows = con.execute(
            f"SELECT source_row, patient_key, site_id FROM landing.{kind} l JOIN landing.deliveries d "
            "USING (delivery_id, site_id, file_name) WHERE d.file_path = ? AND sheet_name = ?",
            [file_path, sheet_name],
        ).fetchall()
        assert len(rows) == data
        for source_row, patient_key, site_id in rows:
            raw = ws.cell(row=source_row, column=ref_column).value
            if raw is None:
                assert patient_key is None
                continue
            message = f"{site_id}|{str(raw).strip().upper()}".encode()
            assert patient_key == hmac.new(TEST_KEY.encode(), message, hashlib.sha256).hexdigest()[:24]
            checked += 1
        notes = con.execute(
            "SELECT source_row, text FROM landing.note_rows n JOIN landing.deliveries d USING (delivery_id) "
            "WHERE d.file_path = ? AND sheet_name = ?", [file_path, sheet_name],
        ).fetchall()
        assert len(notes) == note
        for source_row, text in notes:
            assert [c.value for c in ws[source_row] if c.value is not None] == [text]
    assert checked >= 10


def test_landed_values_and_lineage(con, loaded):
    row = con.execute(
        "SELECT load_id, site_id, file_name, sheet_name, source_row, file_sha256, data_cut, sex, birth_date, "
        "implant_date, drugs FROM landing.patients WHERE site_id = 'US-001' AND source_row = 6"
    ).fetchall()[0]
    assert row[:5] == ("load-1", "US-001", "US-001 export 2017-01-31.xlsx", "Patients", 6)
    assert len(row[5]) == 64 and str(row[6]) == "2017-01-31"
    assert row[7:11] == ("f", "03/14/1962", "42217", "Prialt")
    es = con.execute(
        "SELECT implant_date, birth_year FROM landing.patients WHERE site_id = 'ES-001' ORDER BY source_row"
    ).fetchall()
    assert es == [("02/03/2015", "1955"), ("15.06.16", "1948")]
    # unknown columns: header, position and a profile of their values, never a value
    unknown = con.execute(
        "SELECT u.sheet_kind, u.position, u.header, u.status, u.n_values, u.n_distinct FROM landing.unknown_columns u "
        "JOIN landing.deliveries d USING (delivery_id) WHERE d.site_id = 'US-001' ORDER BY u.position").fetchall()
    assert unknown == [("patients", 10, "Comments", "unknown", 1, 1), ("patients", 11, "(column 11 without header)",
                                                                        "unknown", 1, 1)]
    visit = con.execute("SELECT pain_score, mobility, eq_vas FROM landing.visits WHERE site_id = 'ES-001'").fetchall()
    assert visit == [("70 mm", "2", "55")]


def warehouse_text_hits(con, needles: list[str]) -> set[str]:
    """Needles found in any text column of any table of the warehouse."""
    hits = set()
    columns = con.execute(
        "SELECT table_schema, table_name, column_name FROM information_schema.columns "
        "WHERE data_type = 'VARCHAR'"
    ).fetchall()
    for schema, table, column in columns:
        for needle in needles:
            found = con.execute(
                f'SELECT count(*) FROM "{schema}"."{table}" WHERE contains(upper("{column}"), upper(?))', [needle]
            ).fetchall()[0][0]
            if found:
                hits.add(needle)
    return hits


def test_no_direct_identifier_anywhere_in_the_warehouse(con, settings, warehouse, loaded):
    # the scanner finds what is stored, and the values of unknown columns are not stored
    assert warehouse_text_hits(con, ["cáncer de pulmón", "orphan value", "keep an eye", "xyz"]) == {"cáncer de pulmón"}
    # ...and no identifier nor raw patient reference is stored
    assert warehouse_text_hits(con, wbs.IDENTIFIERS) == set()
    con.execute("CHECKPOINT")
    con.close()
    content = warehouse.read_bytes()
    wal = warehouse.with_name(warehouse.name + ".wal")
    if wal.exists():
        content += wal.read_bytes()
    for needle in wbs.IDENTIFIERS:
        for encoded in (needle.encode("utf-8"), needle.encode("utf-16-le")):
            assert encoded not in content, needle


def test_rerunning_the_same_inbox_changes_nothing_and_hashes_nothing(con, settings, loaded, monkeypatch):
    before = table_counts(con)
    statuses_before = statuses(con)

    def no_hashing(path):
        raise AssertionError(f"{path} was hashed again")

    monkeypatch.setattr(deliveries_module, "file_sha256", no_hashing)
    scan, reports = run(con, settings, "load-2")
    assert scan.files_unchanged == scan.files_seen == len(EXPECTED_FIRST)
    assert reports == {}
    for site in ("US-001", "ES-001"):
        report = load(con, settings, site, "load-3")
        assert report.files_loaded == [] and report.files_skipped >= 1
    assert table_counts(con) == before
    assert statuses(con) == statuses_before


def test_a_touched_file_is_hashed_once_and_stays_one_delivery(con, settings, loaded):
    before = table_counts(con)
    path = settings.inbox / US_FIRST
    os.utime(path, (path.stat().st_atime, path.stat().st_mtime + 3600))
    scan, reports = run(con, settings, "load-2")
    assert scan.files_unchanged == scan.files_seen and reports == {}
    assert table_counts(con) == before
    scan, _ = run(con, settings, "load-3")  # its new modification time is recorded
    assert scan.files_unchanged == scan.files_seen


def test_a_newer_cut_supersedes_the_older(con, settings, loaded):
    put(settings.inbox, "US-001/US-001 export 20170731.xlsx", wbs.us_workbook(extra_patient=True))
    scan, reports = run(con, settings, "load-2")
    assert sorted(reports) == ["US-001"]
    assert statuses(con)[US_FIRST] == ("superseded", None)
    assert statuses(con)["US-001/US-001 export 20170731.xlsx"] == ("current", None)
    assert reports["US-001"].current_file == "US-001 export 20170731.xlsx"
    per_file = dict(con.execute(
        "SELECT file_name, count(*) FROM landing.patients WHERE site_id = 'US-001' GROUP BY 1"
    ).fetchall())
    assert per_file == {"US-001 export 2017-01-31.xlsx": 4, "US-001 export 20170731.xlsx": 5}  # history kept


def test_an_older_cut_arriving_late_does_not_become_current(con, settings, loaded):
    older = wbs.es_workbook()
    older["Salida"].delete_rows(2)  # an earlier cut: no exit yet
    put(settings.inbox, "ES-001/Datos_2016-12-31.xlsx", older)
    run(con, settings, "load-2")
    assert statuses(con)["ES-001/Datos_2016-12-31.xlsx"] == ("superseded", None)
    assert statuses(con)["ES-001/Datos_20170731.xlsx"] == ("current", None)


def test_a_rejected_later_file_leaves_the_earlier_one_current(con, settings, loaded):
    put(settings.inbox, "ES-001/Datos_20171231.xlsx", wbs.de_workbook(with_patients=False))
    put(settings.inbox, "ES-001/Datos_20180131.xlsx", wbs.truncated_xlsx(wbs.es_workbook()))
    _, reports = run(con, settings, "load-2")
    assert statuses(con)["ES-001/Datos_20171231.xlsx"] == ("rejected", "no_patients_sheet")
    assert statuses(con)["ES-001/Datos_20180131.xlsx"] == ("rejected", "unreadable_workbook")
    assert statuses(con)["ES-001/Datos_20170731.xlsx"] == ("current", None)
    assert reports["ES-001"].current_file == "Datos_20170731.xlsx"
    assert con.execute("SELECT count(*) FROM landing.patients WHERE file_name LIKE 'Datos_2017123%'").fetchall()[0][0] == 0


def test_a_site_added_to_the_master_gets_its_rejected_files_loaded(con, settings, sites_csv, loaded, tmp_path):
    more = tmp_path / "more_sites.csv"
    more.write_text(sites_csv.read_text() + "XX-999,New site,NL,Western Europe,nl,DMY,NRS11,5L\n")
    load_site_master(con, more)
    scan, reports = run(con, settings, "load-2")
    assert "XX-999" in reports
    assert statuses(con)["XX-999/export_2017-07-31.xlsx"] == ("current", None)
    assert reports["XX-999"].sheets["patients"].data_rows == 1


def test_a_file_replaced_between_registration_and_load_is_not_landed(con, settings, sites_csv):
    load_site_master(con, sites_csv)
    put(settings.inbox, "DE-001/de_2017-07-31.xlsx", wbs.de_workbook())
    register_inbox(con, settings.inbox, "load-1")
    put(settings.inbox, "DE-001/de_2017-07-31.xlsx", wbs.es_workbook())
    report = load(con, settings, "DE-001", "load-1")
    assert report.files_rejected["DE-001/de_2017-07-31.xlsx"].startswith("unreadable_workbook: the file changed")
    assert table_counts(con)["patients"] == 0
    run(con, settings, "load-2")  # the new bytes are a delivery of their own
    rows = con.execute("SELECT file_path, status FROM landing.deliveries ORDER BY status").fetchall()
    assert rows == [("DE-001/de_2017-07-31.xlsx", "current"), ("DE-001/de_2017-07-31.xlsx", "rejected")]


def test_loading_an_unknown_site_is_an_error(con, settings, sites_csv):
    load_site_master(con, sites_csv)
    with pytest.raises(ValueError, match="XX-999"):
        load(con, settings, "XX-999", "load-1")


def test_landing_schema_matches_the_architecture(con, loaded):
    columns = con.execute(
        "SELECT table_name, list(column_name ORDER BY ordinal_position) FROM information_schema.columns "
        "WHERE table_schema = 'landing' GROUP BY 1"
    ).fetchall()
    columns = dict(columns)
    lineage = ["load_id", "delivery_id", "site_id", "file_name", "sheet_name", "source_row", "file_sha256",
               "data_cut", "patient_key"]
    for kind, fields in SHEET_FIELDS.items():
        assert columns[kind] == [*lineage, *fields]
    assert columns["note_rows"] == ["delivery_id", "sheet_name", "source_row", "text"]
    assert columns["deliveries"][:14] == [
        "delivery_id", "site_id", "file_path", "file_name", "file_sha256", "size_bytes", "data_cut",
        "data_cut_source", "arrived_at", "status", "reason", "load_id", "sheets", "ignored_sheets"]
    delivery_id, path, sha = con.execute(
        "SELECT delivery_id, file_path, file_sha256 FROM landing.deliveries WHERE file_path = ?", [US_FIRST]
    ).fetchall()[0]
    assert delivery_id == hashlib.sha256((path + sha).encode()).hexdigest()[:16]


def test_reports_for_the_orchestrator_hold_counts_and_headers_only(con, loaded):
    scan, reports = loaded
    assert scan.n_new == len(EXPECTED_FIRST)
    assert sorted(reports) == ["BR-001", "DE-001", "ES-001", "US-001"]
    assert any(p.startswith("XX-999/export_2017-07-31.xlsx: unknown_site") for p in scan.problems)
    assert sum(r.sheets["patients"].data_rows for r in reports.values() if "patients" in r.sheets) == 4 + 2
    assert sum(len(r.files_rejected) for r in reports.values()) == 3
    assert sum(len(r.files_loaded) for r in reports.values()) == 2
    patients = [r.metadata_for("patients") for r in reports.values()]
    assert sum(p["rows_kept"] for p in patients) == 6
    assert sum(p["note_rows"] for p in patients) == 2 and sum(p["blank_rows"] for p in patients) == 2
    assert {h for p in patients for h in p["identifier_columns_dropped"]} == {
        "Patient name", "Phone", "MRN", "E-mail", "Nombre y apellidos", "DNI", "Teléfono"}
    assert sum(r.metadata_for("note_rows").get("patients_note_rows", 0) for r in reports.values()) == 2
    assert "DE-001/broken 2017-07-31.xlsx" in reports["DE-001"].metadata_for("sheet_loads")["rejections"]
    assert any("rejected, unreadable_workbook" in p for r in reports.values() for p in r.problems)
    everything = json.dumps([*(r.metadata_for(t) for r in reports.values() for t in
                               ("patients", "visits", "events", "exits", "note_rows", "sheet_loads")),
                             [r.problems for r in reports.values()], scan.problems], ensure_ascii=False)
    for needle in wbs.IDENTIFIERS:
        assert needle not in everything


def _landed(con) -> dict[str, list[tuple]]:
    """Every landing table, without the load's run id and arrival times, in a stable order."""
    out = {}
    for table in (*SHEET_FIELDS, "note_rows", "sheet_loads", "unknown_columns", "deliveries"):
        columns = [c for (c,) in con.execute(
            "SELECT column_name FROM duckdb_columns() WHERE schema_name = 'landing' AND table_name = ? "
            "AND database_name = current_database() ORDER BY column_index", [table]).fetchall()
            if c not in ("load_id", "arrived_at", "modified_at")]
        out[table] = sorted(con.execute(f"SELECT {', '.join(columns)} FROM landing.{table}").fetchall(), key=repr)
    return out


def test_reading_in_worker_processes_lands_exactly_what_one_process_lands(settings, sites_csv, tmp_path,
                                                                          monkeypatch):
    """The parallel path (batches of files read in worker processes, rows classified per batch)
    and the single-process path land the same rows, notes, sheet loads, profiles and statuses;
    so do batches gathered into one insert and batches inserted one by one."""
    from registry import warehouse as warehouse_db
    from registry.landing import load, load_sites, reading, register_sites

    build_first_inbox(settings.inbox)
    for rel, workbook in (("US-001/US-001 export 2017-03-31.xlsx", wbs.us_workbook()),
                          ("ES-001/Datos_20170930.xlsx", wbs.es_workbook())):
        workbook.worksheets[0].append(["Total: a later cut"])  # new bytes, the same patients
        put(settings.inbox, rel, workbook)
    monkeypatch.setattr(reading, "MIN_FILES_FOR_WORKERS", 1)
    monkeypatch.setattr(reading, "MAX_BATCH_FILES", 2)  # several batches, several sheets per batch
    landed = {}
    for label, workers, flush_rows in (("one process", 1, load.FLUSH_ROWS), ("workers", 2, load.FLUSH_ROWS),
                                       ("workers, each batch inserted", 2, 1)):
        monkeypatch.setattr(load, "FLUSH_ROWS", flush_rows)
        with warehouse_db.connect(tmp_path / f"w{len(landed)}.duckdb") as con:
            load_site_master(con, sites_csv)
            sites = [s for (s,) in con.execute("SELECT site_id FROM landing.site_master").fetchall()]
            register_sites(con, settings.inbox, sites, "load-1")
            reports = load_sites(con, inbox=settings.inbox, load_id="load-1", pseudonym_key=TEST_KEY,
                                 workers=workers)
            landed[label] = _landed(con)
            assert sum(len(r.files_loaded) for r in reports.values()) == 4
    assert landed["one process"] == landed["workers"] == landed["workers, each batch inserted"]
    assert len(landed["workers"]["patients"]) > 0 and len(landed["workers"]["note_rows"]) > 0


def test_the_run_log_names_each_unknown_header_once_with_its_sites():
    """A thousand sites sending the same unknown header give one line, not a thousand; a
    file's rejection and a sheet's ambiguous column keep lines of their own; headers are
    screened."""
    from registry.landing.load import SiteLoadReport, run_log_lines

    reports = [SiteLoadReport(f"AR-{i:04d}", "load", unknown_columns={"patients": ["Observaciones"]})
               for i in range(1, 6)]
    reports[0].unknown_columns["events"] = ["Observaciones", "Kontakt jan.novak@example.com"]
    reports[1].files_rejected["AR-0002/export.xlsx"] = "unreadable_workbook: the file is empty"
    reports[2].ambiguous_columns["patients"] = {"Tipo": ["cancer_type", "implant_type"]}
    # spellings one override would match alike share the line; a site counts once
    reports.append(SiteLoadReport("AR-0006", "load", unknown_columns={"patients": ["OBSERVACIONES", "observaciones"]}))

    lines = run_log_lines(reports)

    unknown = [line for line in lines if line.startswith("unknown ")]
    assert unknown == [
        "unknown patients column 'Observaciones' / 'OBSERVACIONES' / 'observaciones', not loaded (profiled in "
        "landing.unknown_columns): 6 site(s): AR-0001, AR-0002, AR-0003 and 3 more",
        "unknown events column 'Observaciones', not loaded (profiled in landing.unknown_columns): "
        "1 site(s): AR-0001",
        "unknown events column 'Kontakt [e-mail]', not loaded (profiled in landing.unknown_columns): "
        "1 site(s): AR-0001",
    ]
    assert "AR-0002/export.xlsx: rejected, unreadable_workbook: the file is empty" in lines
    assert ("AR-0003: ambiguous patients column 'Tipo' not loaded, candidates: cancer_type, implant_type"
            in lines)
    assert len(lines) == 5
    assert not any("jan.novak" in line for line in lines)
    # a site's own lines still name each of its unknown columns
    assert reports[0].problems[0].startswith("AR-0001: unknown patients columns, not loaded")
