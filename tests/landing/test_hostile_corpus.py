"""The hostile corpus: every file- and row-level case of the contract's section 5, and files
built to break a reader, landed beside well-formed sites of the same inbox.

Each case starts from an inbox where US-001 already has a current cut (four patients)
and ES-001 / DE-001 each have a new, valid cut; the hostile files are dropped in and
the whole inbox is registered and loaded (``register_site`` + ``load_site``, archive on).
For every case: no exception escapes; the hostile file (or row) is listed with its
reason; the other sites load; nothing already landed is lost; no planted identifier
reaches any table or report. The module prints its tally:
``bad inputs tried N, faults injected M, rows lost 0, identifier leaks 0``.
"""
from __future__ import annotations

import datetime as dt
import io
import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

import openpyxl
import pytest
from msoffcrypto.format.ooxml import OOXMLFile

from registry.landing import load_site, load_site_master, register_site, register_strays
from registry.landing.deliveries import pending_sites
from registry.landing.schema import SHEET_FIELDS
from tests import tally
from tests.landing import hostile
from tests.landing.workbooks import TEST_KEY, to_bytes

FIRST = "US-001/us 2017-01-31.xlsx"
LATER = "US-001/us 2017-07-31.xlsx"
REFS = ["US-A-001", "US-A-002", "US-A-003", "US-A-004"]
OTHER_SITES = {"ES-001/es_2017-07-31.xlsx": "ES-001", "DE-001/de 20170731.xlsx": "DE-001"}

_FIRST_BYTES: list[bytes] = []


def first_cut_bytes() -> bytes:
    """The bytes of US-001's first cut (made once: openpyxl stamps the time into every save)."""
    if not _FIRST_BYTES:
        _FIRST_BYTES.append(to_bytes(cut()))
    return _FIRST_BYTES[0]


# --- workbooks -------------------------------------------------------------------------

def cut(refs=REFS, *, extra_rows=(), notes=(), comments=None, sheet="Patients", header=None,
        visits=True) -> openpyxl.Workbook:
    """A plain cut: Patients (ref, implant date, cancer type, drugs, comments) and Visits."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(header or ["Patient ID", "Implant date", "Cancer type", "Drugs", "Comments"])
    for i, ref in enumerate(refs):
        ws.append([ref, dt.datetime(2015, 1, 1 + i), "lung", "morphine",
                   comments[i] if comments and i < len(comments) else None])
    for row in extra_rows:
        ws.append(list(row))
    for note in notes:
        ws.append([note])
    if visits:
        v = wb.create_sheet("Visits")
        v.append(["Patient ID", "Visit date", "Pain (0-10)"])
        for ref in refs:
            v.append([ref, dt.datetime(2015, 6, 1), 5])
    return wb


def _cell_xml(ref: str, value) -> str:
    if isinstance(value, tuple):
        kind, text = value
        if kind == "e":
            return f'<c r="{ref}" t="e"><v>{escape(text)}</v></c>'
        if kind == "n":
            return f'<c r="{ref}"><v>{text}</v></c>'
        if kind == "f":
            return f'<c r="{ref}"><f>{escape(text)}</f></c>'
        raise ValueError(kind)
    encoded = "".join(f"_x{ord(ch):04X}_" if ord(ch) < 32 and ch not in "\t\n\r" else ch for ch in value)
    return f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">{escape(encoded)}</t></is></c>'


def xml_cut(rows: list[list], dimension: str | None = None) -> bytes:
    """A Patients sheet written as XML (what openpyxl refuses to write: control characters,
    error cells, a lying dimension)."""
    body = []
    for r, row in enumerate([["Patient ID", "Implant date", "Cancer type"], *rows], start=1):
        cells = "".join(_cell_xml(f"{chr(65 + c)}{r}", v) for c, v in enumerate(row) if v is not None)
        body.append(f'<row r="{r}">{cells}</row>')
    part = hostile.deflated("xl/worksheets/sheet1.xml", hostile.sheet_xml("".join(body), dimension))
    return hostile.replace_sheet(hostile.patients_only_workbook(), part)


def full_rows(**overrides) -> list[list]:
    return [[ref, "2015-01-0%d" % (i + 1), overrides.get(ref, "lung")] for i, ref in enumerate(REFS)]


def encrypted() -> bytes:
    out = io.BytesIO()
    OOXMLFile(io.BytesIO(to_bytes(cut()))).encrypt("secret", out)
    return out.getvalue()


def es_cut() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Pacientes"
    ws.append(["ID paciente", "Fecha de implantación", "Tipo de cáncer"])
    ws.append(["ES-1", "02/03/2015", "cáncer de pulmón"])
    ws.append(["ES-2", "15/06/2016", "C18"])
    return wb


def de_cut() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Patienten"
    ws.append(["Patienten-Nr.", "Implantationsdatum", "Tumorart"])
    ws.append(["DE-1", "03.04.2016", "Lungenkarzinom"])
    return wb


# --- cases -----------------------------------------------------------------------------

@dataclass
class Case:
    name: str
    files: Callable[[], dict[str, bytes | openpyxl.Workbook]]
    expect: dict[str, tuple[str, str | None]]  # file path -> (status, reason code or None)
    faults: int = 1  # faults planted (cells, lies, files)
    identifiers: tuple[str, ...] = ()  # planted values that must not be stored
    limits: dict[str, float] = field(default_factory=dict)
    stored: dict[str, list[str]] = field(default_factory=dict)  # `table.column` -> values expected stored
    check: Callable | None = None


REJECTED_UNREADABLE = ("rejected", "unreadable_workbook")
HUGE = "x" * 10_000
PHONE, EMAIL, MRN = "+49 171 5550 3318", "hostile.person@example.org", "MRN-4471123"

CASES = [
    # file level: not a readable xlsx
    Case("truncated zip", lambda: {LATER: hostile.craft_zip(hostile.workbook_entries(cut()))[:3000]},
         {LATER: REJECTED_UNREADABLE}),
    Case("password protected (encrypted by msoffcrypto)", lambda: {LATER: encrypted()}, {LATER: REJECTED_UNREADABLE}),
    Case("csv named .xlsx", lambda: {LATER: "Patient ID,Implant date\nUS-A-001,2015-01-01\n".encode()},
         {LATER: REJECTED_UNREADABLE}),
    Case("random bytes named .xlsx", lambda: {LATER: random.Random(7).randbytes(5000)}, {LATER: REJECTED_UNREADABLE}),
    Case("zip-signed random bytes", lambda: {LATER: b"PK\x03\x04" + random.Random(8).randbytes(5000)},
         {LATER: REJECTED_UNREADABLE}),
    Case("zero-byte file", lambda: {LATER: b""}, {LATER: REJECTED_UNREADABLE}),
    Case("empty zip", lambda: {LATER: hostile.empty_zip()}, {LATER: REJECTED_UNREADABLE}),
    Case("member named ../", lambda: {LATER: hostile.with_member_name(cut(), "../../evil.sh")},
         {LATER: REJECTED_UNREADABLE}),
    Case("member with an absolute name", lambda: {LATER: hostile.with_member_name(cut(), "/etc/cron.d/evil")},
         {LATER: REJECTED_UNREADABLE}),
    Case("two members of one name", lambda: {LATER: hostile.with_duplicate_member(cut())}, {LATER: REJECTED_UNREADABLE}),
    Case("member declaring more than it holds", lambda: {LATER: hostile.lying_short(cut())},
         {LATER: REJECTED_UNREADABLE}),
    Case("encrypted members", lambda: {LATER: hostile.encrypted_members(cut())}, {LATER: REJECTED_UNREADABLE}),
    Case("bzip2 members", lambda: {LATER: hostile.bzip2_members(cut())}, {LATER: REJECTED_UNREADABLE}),
    Case("invalid UTF-8 in the sheet", lambda: {LATER: hostile.replace_sheet(
        hostile.patients_only_workbook(),
        hostile.deflated("xl/worksheets/sheet1.xml", hostile.sheet_xml(
            '<row r="1"><c r="A1" t="inlineStr"><is><t>Patient ID</t></is></c></row>').replace(
            b"Patient ID", b"Patient \xff\xfe ID")))},
         {LATER: None}),
    Case("XML entity expansion (billion laughs)", lambda: {LATER: hostile.replace_sheet(
        hostile.patients_only_workbook(), hostile.deflated("xl/worksheets/sheet1.xml", (
            b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
            b'<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">]>'
            b'<worksheet xmlns="' + hostile.MAIN_NS.encode() + b'"><sheetData><row r="1"><c r="A1" t="inlineStr">'
            b"<is><t>&d;&d;&d;&d;</t></is></c></row></sheetData></worksheet>")))},
         {LATER: None}),
    # file level: structure
    Case("empty workbook", lambda: {LATER: openpyxl.Workbook()}, {LATER: ("rejected", "no_patients_sheet")}),
    Case("no Patients sheet", lambda: {LATER: cut(sheet="Summary")}, {LATER: ("rejected", "no_patients_sheet")}),
    Case("no implant_date column", lambda: {LATER: cut(header=["Patient ID", "Visit", "Cancer type", "Drugs", "x"])},
         {LATER: ("rejected", "missing_required_column")}),
    Case("no patient_ref column", lambda: {LATER: cut(header=["Name", "Implant date", "Cancer type", "Drugs", "x"])},
         {LATER: ("rejected", "missing_required_column")}),
    Case("unknown site folder", lambda: {"XX-999/xx_2017-07-31.xlsx": cut()},
         {"XX-999/xx_2017-07-31.xlsx": ("rejected", "unknown_site")}),
    Case("other file types and lock files",
         lambda: {"US-001/us 2017-07-31.xlsm": cut(), "US-001/us.csv": b"a,b\n", "US-001/~$us 2017-07-31.xlsx": b"lock"},
         {"US-001/us 2017-07-31.xlsm": ("ignored", "not_a_workbook"), "US-001/us.csv": ("ignored", "not_a_workbook"),
          "US-001/~$us 2017-07-31.xlsx": ("ignored", "not_a_workbook")}, faults=3),
    Case("a file in a sub-folder", lambda: {"US-001/old/us 2017-07-31.xlsx": cut()},
         {"US-001/old/us 2017-07-31.xlsx": ("ignored", "outside_site_folder")}),
    Case("a byte-identical re-delivery", lambda: {"US-001/copy.xlsx": first_cut_bytes()},
         {"US-001/copy.xlsx": ("duplicate", "duplicate_file")}),
    # file level: limits
    Case("larger than max_file_mb", lambda: {LATER: cut(comments=[random.Random(3).randbytes(20_000).hex()] * 4)},
         {LATER: ("rejected", "too_large")}, limits={"max_file_mb": 0.02}),
    Case("zip bomb declaring its size", lambda: {LATER: hostile.zip_bomb(30_000_000)}, {LATER: ("rejected", "too_large")},
         limits={"max_sheet_mb": 5}),
    Case("zip bomb lying about its size", lambda: {LATER: hostile.zip_bomb(30_000_000, declared=2_000)},
         {LATER: ("rejected", "too_large")}, limits={"max_sheet_mb": 5}),
    Case("more rows than max_rows_per_sheet", lambda: {LATER: hostile.many_rows(600)}, {LATER: ("rejected", "too_large")},
         limits={"max_rows_per_sheet": 500}),
    Case("one far row behind a small dimension", lambda: {LATER: hostile.far_row(3_000_000)},
         {LATER: ("rejected", "too_large")}),
    Case("a cell at column XFD over 20,000 rows", lambda: {LATER: hostile.wide_grid(20_000)},
         {LATER: ("rejected", "too_large")}),
    Case("16,384 cells without references in one row", lambda: {LATER: hostile.wide_grid(3_000, with_r=False)},
         {LATER: ("rejected", "too_large")}),
    # cuts
    Case("header-only Patients sheet", lambda: {LATER: cut([])}, {LATER: ("held", "held")}),
    Case("a cut of fewer patients", lambda: {LATER: cut(REFS[:2])}, {LATER: ("held", "held")}),
    Case("whole-grid dimension holding four patients", lambda: {LATER: xml_cut(full_rows(), "A1:XFD1048576")},
         {LATER: ("current", None)}),
    # names
    *[Case(f"file name in {script}", (lambda n=name: {n: cut()}), {name: ("current", None)}) for script, name in [
        ("Greek and spaces", "US-001/Ασθενείς  εξαγωγή 2017-07-31.xlsx"),
        ("Cyrillic", "US-001/пациенты 2017-07-31.xlsx"),
        ("Arabic", "US-001/المرضى 2017-07-31.xlsx"),
    ]],
    # cells
    Case("formulas and formula-like text", lambda: {LATER: xml_cut([
        *full_rows(), ["US-A-005", "2015-02-01", ("f", 'HYPERLINK("http://example.org/x","click")')],
        ["US-A-006", "2015-02-02", "=HYPERLINK(\"http://example.org\")"], ["US-A-007", "2015-02-03", "+1"],
        ["US-A-008", "2015-02-04", "@SUM(A1:A9)"], ["US-A-009", "2015-02-05", "-2+3"]])},
         {LATER: ("current", None)}, faults=5,
         stored={"patients.cancer_type": ['=HYPERLINK("http://example.org")', "+1", "@SUM(A1:A9)", "-2+3"]}),
    Case("10,000-character cells", lambda: {LATER: cut(
        extra_rows=[["US-A-005", dt.datetime(2015, 2, 1), HUGE, HUGE, HUGE]], notes=["Note: " + HUGE])},
         {LATER: ("current", None)}, faults=4, stored={"patients.cancer_type": [HUGE]}),
    Case("control characters and right-to-left marks", lambda: {LATER: xml_cut([
        *full_rows(), ["US-A-005", "2015-02-01", "lung\x01\x07\x1b[31m"],
        ["US-A-006\u200f", "2015-02-02", "\u202egnul\u202c"], ["US-A-007", "2015-02-03", "\ufeffbreast\u200b"],
        ["\u00a0US-A-008\u00a0", "2015-02-04", "colon\r\n\tcancer"]])},
         {LATER: ("current", None)}, faults=6,
         stored={"patients.cancer_type": ["lung\x01\x07\x1b[31m", "\u202egnul\u202c"]}),
    Case("Excel error cells", lambda: {LATER: xml_cut([
        *full_rows(), ["US-A-005", ("e", "#N/A"), ("e", "#DIV/0!")], ["US-A-006", ("e", "#REF!"), ("e", "#VALUE!")],
        [("e", "#NAME?"), "2015-02-03", "lung"]])},
         {LATER: ("current", None)}, faults=5),
    Case("odd numbers and dates", lambda: {LATER: xml_cut([
        *full_rows(), ["US-A-005", ("n", "1e308"), "lung"], ["US-A-006", ("n", "-42"), "lung"],
        ["US-A-007", "31/02/2015", "lung"], ["US-A-008", "0000-00-00", "lung"], ["US-A-009", "NaN", "lung"],
        ["US-A-010", ("n", "99999999999"), "lung"]])},
         {LATER: ("current", None)}, faults=6),
    Case("identifiers in free text", lambda: {LATER: cut(
        extra_rows=[["US-A-005", dt.datetime(2015, 2, 1), f"lung, call {PHONE}", f"morphine {EMAIL}", f"seen {MRN}"]],
        notes=[f"Contact: {EMAIL} or {PHONE}", f"Total: 5 patients, ref {MRN}"])},
         {LATER: ("current", None)}, faults=7, identifiers=(PHONE, EMAIL, MRN, "5550 3318", "4471123")),
    Case("identifiers in headers and sheet names", lambda: {LATER: (lambda wb: (
        wb["Patients"].cell(row=1, column=6, value=f"Call {PHONE}"),
        wb.create_sheet(f"Notes {EMAIL}"[:31]), wb)[-1])(cut())},
         {LATER: ("current", None)}, faults=2, identifiers=(PHONE, "5550 3318", EMAIL[:25])),
    Case("duplicate patient refs", lambda: {LATER: cut([*REFS, REFS[0], REFS[0]])}, {LATER: ("current", None)}, faults=2),
    Case("rows without patient_ref and sentences everywhere", lambda: {LATER: cut(
        extra_rows=[[None, dt.datetime(2015, 2, 1), "lung"], ["Total: 5", None, None],
                    ["this is not a patient", None, None, None, "but this is a comment"]])},
         {LATER: ("current", None)}, faults=3),
    Case("two hundred extra sheets", lambda: {LATER: (lambda wb: ([wb.create_sheet(f"S{i}") for i in range(200)], wb)[-1])(
        cut())}, {LATER: ("current", None)}),
]


# --- running a case --------------------------------------------------------------------

def put(inbox: Path, files: dict[str, bytes | openpyxl.Workbook]) -> None:
    for rel, content in files.items():
        path = inbox / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(to_bytes(content) if isinstance(content, openpyxl.Workbook) else content)


def run_inbox(con, inbox: Path, archive: Path, load_id: str, limits: dict[str, float]):
    reports = []
    reports.append(register_strays(con, inbox, load_id))
    sites = [r[0] for r in con.execute("SELECT site_id FROM landing.site_master ORDER BY 1").fetchall()]
    for site in sites:
        reports.append(register_site(con, inbox, site, load_id, archive=archive,
                                     max_file_mb=limits.get("max_file_mb")))
    for site in pending_sites(con):
        reports.append(load_site(con, inbox=inbox, site_id=site, load_id=load_id, pseudonym_key=TEST_KEY,
                                 archive=archive, **limits))
    return reports


def rows_by_delivery(con) -> dict[str, int]:
    union = " UNION ALL ".join(f"SELECT delivery_id FROM landing.{t}" for t in [*SHEET_FIELDS, "note_rows"])
    return dict(con.execute(f"SELECT delivery_id, count(*) FROM ({union}) GROUP BY 1").fetchall())


def untraceable_rows(con) -> int:
    """Rows read that are neither stored nor counted as blank, per accepted delivery and sheet."""
    missing = 0
    for kind in SHEET_FIELDS:
        missing += con.execute(
            f"SELECT coalesce(sum(abs(s.data_rows - coalesce(n.n, 0)) + abs(s.rows_read - s.data_rows - s.blank_rows "
            f"- s.note_rows)), 0) FROM landing.sheet_loads s LEFT JOIN (SELECT delivery_id, sheet_name, count(*) AS n "
            f"FROM landing.{kind} GROUP BY ALL) n ON n.delivery_id = s.delivery_id AND n.sheet_name = s.sheet_name "
            "WHERE s.sheet_kind = ?", [kind]).fetchall()[0][0]
    return int(missing)


def stored_text_hits(con, needles: tuple[str, ...]) -> set[str]:
    hits = set()
    columns = con.execute("SELECT table_schema, table_name, column_name FROM information_schema.columns "
                          "WHERE data_type = 'VARCHAR'").fetchall()
    for schema, table, column in columns:
        for needle in needles:
            if con.execute(f'SELECT count(*) FROM "{schema}"."{table}" WHERE contains("{column}", ?)',
                           [needle]).fetchall()[0][0]:
                hits.add(needle)
    return hits


def report_text(reports) -> str:
    out = []
    for r in reports:
        out.append(json.dumps(getattr(r, "problems", []), ensure_ascii=False))
        if hasattr(r, "metadata_for"):
            out += [json.dumps(r.metadata_for(t), ensure_ascii=False, default=str)
                    for t in ("patients", "visits", "events", "exits", "note_rows", "sheet_loads")]
    return "\n".join(out)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_case(case: Case, con, settings, sites_csv, tmp_path):
    archive = tmp_path / "archive"
    inbox = settings.inbox
    load_site_master(con, sites_csv)
    put(inbox, {FIRST: first_cut_bytes()})
    run_inbox(con, inbox, archive, "load-1", {})
    first_id = con.execute("SELECT delivery_id FROM landing.deliveries WHERE file_path = ?", [FIRST]).fetchall()[0][0]
    landed_before = rows_by_delivery(con)

    files = case.files()
    put(inbox, {**files, **{rel: es_cut() if site == "ES-001" else de_cut() for rel, site in OTHER_SITES.items()}})
    reports = run_inbox(con, inbox, archive, "load-2", case.limits)  # nothing may raise

    listed = dict(con.execute("SELECT file_path, status || '|' || coalesce(reason, '') FROM landing.deliveries "
                              "UNION ALL SELECT file_path, status || '|' || coalesce(reason, '') "
                              "FROM landing.inbox_strays").fetchall())
    on_disk = {p.relative_to(inbox).as_posix() for p in inbox.rglob("*") if p.is_file()}
    assert on_disk <= set(listed), "every file of the inbox is listed"
    for rel, expected in case.expect.items():
        status, reason = listed[rel].split("|", 1)
        if expected is None:  # either refused with a reason, or read: never an exception
            assert status in ("rejected", "current", "held") and (status != "rejected" or reason)
            continue
        assert status == expected[0], (rel, listed[rel])
        if expected[1]:
            assert reason.split(":")[0] == expected[1], (rel, reason)
        if status == "rejected":
            assert reason.split(":")[0] in ("unreadable_workbook", "too_large", "no_patients_sheet",
                                            "missing_required_column", "unknown_site")
    for rel in OTHER_SITES:  # the other sites of the inbox load
        assert listed[rel].startswith("current|"), (rel, listed[rel])
    current_us = con.execute("SELECT file_path FROM landing.deliveries WHERE site_id = 'US-001' AND "
                             "status = 'current'").fetchall()
    assert current_us, "US-001 keeps a current cut"
    if any(s[0] != "current" for s in case.expect.values() if s):
        assert current_us[0][0] == FIRST or current_us[0][0] in case.expect

    landed_after = rows_by_delivery(con)
    lost = abs(landed_after.get(first_id, 0) - landed_before[first_id]) + untraceable_rows(con)
    for column, values in case.stored.items():
        table, name = column.split(".")
        stored = {r[0] for r in con.execute(f"SELECT {name} FROM landing.{table} WHERE file_name = ?",
                                            [LATER.split("/", 1)[1]]).fetchall()}
        lost += sum(v not in stored for v in values)
    leaks = stored_text_hits(con, case.identifiers) | {n for n in case.identifiers if n in report_text(reports)}

    tally.add(bad_inputs=len(files), faults_injected=case.faults, rows_lost=lost, identifier_leaks=len(leaks))
    assert lost == 0
    assert leaks == set()


def test_the_corpus_covers_every_file_level_reason():
    expected = {e[1] for c in CASES for e in c.expect.values() if e}
    assert {"unreadable_workbook", "no_patients_sheet", "missing_required_column", "unknown_site", "too_large",
            "not_a_workbook", "outside_site_folder", "duplicate_file", "held"} <= expected
