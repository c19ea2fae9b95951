"""Properties: dates round-trip through the landing and staging's date rule; no cell text
makes the landing raise.

Staging's date rule is the dbt macro ``parse_date`` (dbt_project/macros/parse_date.sql).
It is evaluated here without dbt: the macro files are rendered once with Jinja (as dbt
does; the macros use only ``set``, ``~`` and calls of each other) into one DuckDB
expression over a column, and the landed text of every generated date is parsed by
DuckDB in one query. A change of the macro's signature breaks this harness visibly.
"""
from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import jinja2
import openpyxl
import pyarrow as pa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from registry import warehouse as warehouse_db
from registry.landing import load_site, load_site_master, register_site
from registry.landing.identifiers import redact, redact_array
from registry.landing.workbook import read_workbook
from tests.landing.workbooks import SITES_CSV, TEST_KEY, to_bytes

MACROS = Path(__file__).resolve().parents[2] / "dbt_project" / "macros"


def parse_date_sql(column: str, date_order: str) -> str:
    """The SQL of `parse_date(column, date_order)` as dbt renders it."""
    source = (MACROS / "text_cleaning.sql").read_text() + (MACROS / "parse_date.sql").read_text()
    template = jinja2.Environment().from_string(source + "{{ parse_date(column, date_order) }}")
    return template.render(column=column, date_order=date_order)


ORDERS = ("MDY", "DMY", "YMD")
dates = st.dates(min_value=dt.date(1900, 3, 1), max_value=dt.date(2099, 12, 31))


@st.composite
def written_dates(draw):
    """(date, how the cell is written, the site's date order)."""
    day = draw(dates)
    order = draw(st.sampled_from(ORDERS))
    how = draw(st.sampled_from(["text", "iso", "excel_date", "serial"]))
    if how == "excel_date":
        return day, dt.datetime(day.year, day.month, day.day), order
    if how == "serial":
        return day, float((day - dt.date(1899, 12, 30)).days), order
    if how == "iso":
        return day, day.isoformat(), order
    sep = draw(st.sampled_from("/.-"))
    two_digit = 1930 <= day.year <= 2029 and draw(st.booleans())
    year = f"{day.year % 100:02d}" if two_digit else f"{day.year:04d}"
    pad = draw(st.booleans())
    month, dom = (f"{day.month:02d}", f"{day.day:02d}") if pad else (str(day.month), str(day.day))
    parts = {"Y": year, "M": month, "D": dom}
    return day, sep.join(parts[c] for c in order), order


def workbook_of(values: list[object], column: str = "Implant date") -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Patients"
    ws.append(["Patient ID", column, "Comments"])
    for i, value in enumerate(values):
        ws.append([f"P{i}", value, None])
    return to_bytes(wb)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(written_dates(), min_size=1, max_size=30))
def test_any_date_a_site_may_write_round_trips_through_landing_and_staging(cases):
    landed = read_workbook(workbook_of([written for _, written, _ in cases])).sheets["patients"].rows
    texts = landed.column("implant_date").to_pylist()
    assert len(texts) == len(cases)
    con = duckdb.connect()
    try:
        table = pa.table({"v": texts, "date_order": [order for _, _, order in cases]})
        con.register("cells", table)
        parsed = [r[0] for r in con.execute(
            f"SELECT {parse_date_sql('v', 'date_order')} FROM cells").fetchall()]
    finally:
        con.close()
    for (day, written, order), text, got in zip(cases, texts, parsed):
        assert got == day, (written, order, text)


# Any text a site may type: every Unicode character XML allows, control characters
# included (a workbook writes them as _xHHHH_), long runs, formula-like starts.
xml_chars = st.characters(blacklist_categories=("Cs",), blacklist_characters="\ufffe\uffff")
cell_texts = st.one_of(
    st.text(xml_chars, max_size=60),
    st.text(st.sampled_from("=+-@0123456789/.:, \t\u00a0\u200fxyzé#"), max_size=30),
    st.builds(lambda c, n: c * n, xml_chars, st.integers(1, 3000)),
)


def _xml_safe(text: str) -> str:
    return "".join(ch if ch in "\t\n\r" or ord(ch) >= 32 else f"_x{ord(ch):04X}_" for ch in text)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                 HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["Patient ID", "Implant date", "Cancer type", "Comments", "Notes"]),
                          cell_texts), min_size=1, max_size=25))
def test_no_cell_text_makes_the_landing_raise(tmp_path_factory, cells):
    root = tmp_path_factory.mktemp("any_text")
    (root / "sites.csv").write_text(SITES_CSV, encoding="utf-8")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Patients"
    headers = ["Patient ID", "Implant date", "Cancer type", "Comments", "Notes"]
    ws.append(headers)
    for i, (column, text) in enumerate(cells):
        row = [f"P{i}", "2015-01-01", "lung", None, None]
        row[headers.index(column)] = text
        # openpyxl refuses control characters: write them as Excel does
        ws.append([_xml_safe(v) if isinstance(v, str) else v for v in row])
    path = root / "inbox" / "US-001" / "us 2017-07-31.xlsx"
    path.parent.mkdir(parents=True)
    wb.save(path)
    con = warehouse_db.connect(root / "warehouse.duckdb")
    try:
        load_site_master(con, root / "sites.csv")
        register_site(con, root / "inbox", "US-001", "load-1", archive=root / "archive")
        report = load_site(con, inbox=root / "inbox", site_id="US-001", load_id="load-1",
                           pseudonym_key=TEST_KEY, archive=root / "archive")
        status, reason = con.execute("SELECT status, reason FROM landing.deliveries").fetchall()[0]
        assert status == "current" or (status == "rejected" and reason), (status, reason)
        if status == "current":
            stored = con.execute("SELECT count(*) FROM landing.patients").fetchall()[0][0]
            notes = con.execute("SELECT count(*) FROM landing.note_rows").fetchall()[0][0]
            counts = report.sheets["patients"]
            assert stored == counts.data_rows and notes == counts.note_rows
            assert counts.rows_read == counts.data_rows + counts.note_rows + counts.blank_rows
    finally:
        con.close()


@settings(max_examples=300, deadline=None)
@given(st.text(xml_chars, max_size=80))
def test_redaction_is_the_same_on_arrow_and_in_python_and_idempotent(text):
    once = redact(text)
    assert redact_array(pa.array([text])).to_pylist() == [once]
    assert redact(once) == once


@settings(max_examples=200, deadline=None)
@given(dates, st.sampled_from(ORDERS), st.sampled_from("/.-"), st.sampled_from([" ", "T", " at "]),
       st.times())
def test_dates_and_date_times_are_never_redacted(day, order, sep, glue, time):
    parts = {"Y": f"{day.year:04d}", "M": f"{day.month:02d}", "D": f"{day.day:02d}"}
    for written in (day.isoformat(), sep.join(parts[c] for c in order)):
        text = f"seen {written}{glue}{time.strftime('%H:%M')} ok"
        assert redact(text) == text
