"""Generators of hostile files: crafted zips, zip bombs, grids that explode in the reader.

Nothing here is committed as a binary: every file is made by the tests. The zip
writer is deliberately minimal so that a test can lie in it (declared sizes,
member names, duplicates) the way a crafted file does.
"""
from __future__ import annotations

import io
import struct
import zipfile
import zlib
from dataclasses import dataclass

import openpyxl

from tests.landing.workbooks import to_bytes

MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


@dataclass
class Entry:
    """One zip member: raw deflate data and what the directory says about it."""

    name: str
    data: bytes  # raw deflate (or stored) bytes
    crc: int
    size: int  # true uncompressed size
    declared: int | None = None  # uncompressed size written in the headers (default: the true one)
    method: int = zipfile.ZIP_DEFLATED
    flags: int = 0


def deflated(name: str, content: bytes) -> Entry:
    c = zlib.compressobj(6, zlib.DEFLATED, -15)
    return Entry(name, c.compress(content) + c.flush(), zlib.crc32(content), len(content))


def craft_zip(entries: list[Entry]) -> bytes:
    """A zip whose headers say exactly what ``entries`` say (true or not)."""
    out = io.BytesIO()
    central = []
    for e in entries:
        name = e.name.encode("utf-8")
        declared = e.size if e.declared is None else e.declared
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, e.flags | 0x800, e.method, 0, 0,
                              e.crc, len(e.data), declared, len(name), 0))
        out.write(name)
        out.write(e.data)
        central.append(struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, e.flags | 0x800, e.method, 0, 0,
                                   e.crc, len(e.data), declared, len(name), 0, 0, 0, 0, 0, offset) + name)
    start = out.tell()
    for record in central:
        out.write(record)
    size = out.tell() - start
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(central), len(central), size, start, 0))
    return out.getvalue()


def workbook_entries(wb: openpyxl.Workbook) -> list[Entry]:
    """The parts of an openpyxl workbook, re-packed as entries."""
    source = zipfile.ZipFile(io.BytesIO(to_bytes(wb)))
    return [deflated(info.filename, source.read(info.filename)) for info in source.infolist()]


def patients_only_workbook() -> openpyxl.Workbook:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Patients"
    ws.append(["Patient ID", "Implant date"])
    ws.append(["P1", "2015-01-01"])
    return wb


def replace_sheet(wb: openpyxl.Workbook, sheet_part: Entry, part: str = "xl/worksheets/sheet1.xml") -> bytes:
    entries = [sheet_part if e.name == part else e for e in workbook_entries(wb)]
    return craft_zip(entries)


def sheet_xml(rows_xml: str, dimension: str | None = None) -> bytes:
    dim = f'<dimension ref="{dimension}"/>' if dimension else ""
    return (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{MAIN_NS}">{dim}'
            f"<sheetData>{rows_xml}</sheetData></worksheet>").encode()


def bomb_entry(expanded_bytes: int, *, declared: int | None = None,
               name: str = "xl/worksheets/sheet1.xml") -> Entry:
    """A worksheet part that expands to about ``expanded_bytes`` of rows of junk, made
    without ever holding them: one compressed block of 1 MB of rows, repeated (a full
    flush makes each copy self-contained)."""
    head = sheet_xml("", None).split(b"</sheetData>")[0]
    header_row = (b'<row><c t="inlineStr"><is><t>Patient ID</t></is></c>'
                  b'<c t="inlineStr"><is><t>Implant date</t></is></c></row>')
    row = b'<row><c t="inlineStr"><is><t>junk</t></is></c><c><v>42000</v></c></row>'
    block = row * ((1 << 20) // len(row))
    tail = b"</sheetData></worksheet>"
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    first = c.compress(head + header_row) + c.flush(zlib.Z_FULL_FLUSH)
    middle = c.compress(block) + c.flush(zlib.Z_FULL_FLUSH)
    last = c.compress(tail) + c.flush(zlib.Z_FINISH)
    copies = max(1, (expanded_bytes - len(head) - len(tail)) // len(block))
    crc = zlib.crc32(head + header_row)
    for _ in range(copies):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(tail, crc)
    size = len(head) + len(header_row) + copies * len(block) + len(tail)
    return Entry(name, first + middle * copies + last, crc, size, declared)


def zip_bomb(expanded_bytes: int, *, declared: int | None = None) -> bytes:
    """A workbook whose Patients sheet expands to ``expanded_bytes`` (headers may lie)."""
    return replace_sheet(patients_only_workbook(), bomb_entry(expanded_bytes, declared=declared))


def wide_grid(rows: int, last_column: str = "XFD", *, with_r: bool = True) -> bytes:
    """A small file whose sheet spans ``rows`` x the column ``last_column``: one far cell on
    the header row (or a header row of that many cells written without `r`), then a
    number per row in column A. The reader fills every cell of that grid."""
    if with_r:
        first = (f'<row r="1"><c r="A1" t="inlineStr"><is><t>Patient ID</t></is></c>'
                 f'<c r="{last_column}1" t="inlineStr"><is><t>x</t></is></c></row>')
        body = "".join(f'<row r="{i}"><c r="A{i}"><v>{i}</v></c></row>' for i in range(2, rows + 1))
    else:
        width = 16384
        first = '<row><c t="inlineStr"><is><t>Patient ID</t></is></c>' + "<c><v>1</v></c>" * (width - 1) + "</row>"
        body = "".join(f"<row><c><v>{i}</v></c></row>" for i in range(2, rows + 1))
    return replace_sheet(patients_only_workbook(), deflated("xl/worksheets/sheet1.xml", sheet_xml(first + body)))


def whole_grid_dimension() -> bytes:
    """A sheet whose <dimension> announces A1:XFD1048576 but that holds three rows."""
    rows = ('<row r="1"><c r="A1" t="inlineStr"><is><t>Patient ID</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>Implant date</t></is></c></row>'
            '<row r="2"><c r="A2" t="inlineStr"><is><t>P1</t></is></c>'
            '<c r="B2" t="inlineStr"><is><t>2015-01-01</t></is></c></row>'
            '<row r="3"><c r="A3" t="inlineStr"><is><t>P2</t></is></c>'
            '<c r="B3" t="inlineStr"><is><t>2015-02-01</t></is></c></row>')
    return replace_sheet(patients_only_workbook(),
                         deflated("xl/worksheets/sheet1.xml", sheet_xml(rows, "A1:XFD1048576")))


def many_rows(rows: int) -> bytes:
    """A valid sheet of ``rows`` rows with the honest dimension (over a small row limit)."""
    body = "".join(f'<row r="{i}"><c r="A{i}" t="inlineStr"><is><t>P{i}</t></is></c>'
                   f'<c r="B{i}" t="inlineStr"><is><t>2015-01-01</t></is></c></row>' for i in range(2, rows + 2))
    head = ('<row r="1"><c r="A1" t="inlineStr"><is><t>Patient ID</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>Implant date</t></is></c></row>')
    return replace_sheet(patients_only_workbook(),
                         deflated("xl/worksheets/sheet1.xml", sheet_xml(head + body, f"A1:B{rows + 1}")))


def far_row(row_number: int, dimension: str | None = "A1:B2") -> bytes:
    """Two rows, the second numbered ``row_number``: the reader pads every row between."""
    rows = ('<row r="1"><c r="A1" t="inlineStr"><is><t>Patient ID</t></is></c>'
            '<c r="B1" t="inlineStr"><is><t>Implant date</t></is></c></row>'
            f'<row r="{row_number}"><c r="A{row_number}" t="inlineStr"><is><t>P1</t></is></c></row>')
    return replace_sheet(patients_only_workbook(), deflated("xl/worksheets/sheet1.xml", sheet_xml(rows, dimension)))


def with_member_name(wb: openpyxl.Workbook, extra_name: str) -> bytes:
    """A valid workbook plus one member named ``extra_name`` (`../evil.txt`, `/etc/x`)."""
    return craft_zip([*workbook_entries(wb), deflated(extra_name, b"not part of a workbook")])


def with_duplicate_member(wb: openpyxl.Workbook) -> bytes:
    entries = workbook_entries(wb)
    sheet = next(e for e in entries if e.name == "xl/worksheets/sheet1.xml")
    return craft_zip([*entries, deflated(sheet.name, sheet_xml(""))])


def lying_short(wb: openpyxl.Workbook) -> bytes:
    """A sheet that declares more bytes than it expands to (a corrupt entry)."""
    entries = workbook_entries(wb)
    for e in entries:
        if e.name == "xl/worksheets/sheet1.xml":
            e.declared = e.size + 1000
    return craft_zip(entries)


def encrypted_members(wb: openpyxl.Workbook) -> bytes:
    entries = workbook_entries(wb)
    for e in entries:
        e.flags = 0x1
    return craft_zip(entries)


def bzip2_members(wb: openpyxl.Workbook) -> bytes:
    entries = workbook_entries(wb)
    for e in entries:
        e.method = zipfile.ZIP_BZIP2
    return craft_zip(entries)


def empty_zip() -> bytes:
    return craft_zip([])
