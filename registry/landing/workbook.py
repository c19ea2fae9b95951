"""Reading one site workbook into Arrow tables of text, one per sheet kind.

The data rows are read once, by fastexcel (calamine -> Arrow, every cell as
text). ``skip_rows=0`` makes fastexcel pad the sheet from Excel row 1 even when
calamine's used range starts lower (data at C4), so table row i is Excel row
i + 1 and source rows cost nothing extra. The header row is then found among
the first 15 rows of that same table and mapped through the header dictionary.
Identifier columns never leave this module.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import fastexcel
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from registry.landing.dictionary import HeaderMatch, header_index, sheet_name_index
from registry.landing.labels import normalise_label, normalise_sheet_name
from registry.landing.limits import WorkbookLimits, check_workbook
from registry.landing.schema import REQUIRED_FIELDS, SHEET_FIELDS

HEADER_SEARCH_ROWS = 15
# A note's sentence: `Total: 42 patients`, `Note: ...` (a word, then `:`), or three words or more.
LABEL_PATTERN = r"^\p{L}{3,}\s*:(\s|$)"
NOTE_PATTERN = LABEL_PATTERN + r"|\S+\s+\S+\s+\S+"
_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"


class FileRejected(Exception):
    """A file-level fault; ``reason`` is the `code: message` stored in landing.deliveries."""

    def __init__(self, code: str, message: str, sheets: dict[str, str] | None = None):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.sheets = sheets or {}

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.message}"


@dataclass
class SheetRead:
    """The rows below the header of one sheet, identifiers removed.

    ``rows`` has ``source_row`` (Excel row number), ``row_class`` (data, note,
    blank), ``note_text`` (the sentence of a note row), one column per mapped
    field (``patient_ref`` included, never stored raw) and ``extra_<i>``
    columns for unknown headers ``extra_keys[i]``.
    """

    kind: str
    name: str
    header_row: int | None
    rows: pa.Table
    mapped_columns: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    identifier_columns: list[str] = field(default_factory=list)
    extra_keys: list[str] = field(default_factory=list)


@dataclass
class WorkbookRead:
    sheets: dict[str, SheetRead]  # sheet kind -> sheet
    ignored_sheets: list[str]

    @property
    def sheet_names(self) -> dict[str, str]:
        return {kind: sheet.name for kind, sheet in self.sheets.items()}


def _clean(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Trim white space (non-breaking included); empty text becomes null."""
    trimmed = pc.utf8_trim_whitespace(column.cast(pa.string()))
    return pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)


def _find_header(head: list[list[str | None]], index: dict[str, HeaderMatch]) -> int | None:
    """Row (0-based) with the most dictionary matches among those naming patient_ref; ties: first."""
    best, best_score = None, -1
    for i, cells in enumerate(head):
        matches = [index.get(normalise_label(cell)) for cell in cells if cell is not None]
        if not any(m is not None and m.field == "patient_ref" for m in matches):
            continue
        score = sum(m is not None for m in matches)
        if score > best_score:
            best, best_score = i, score
    return best


def _unique(key: str, taken: set[str]) -> str:
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key} ({n})"
    taken.add(candidate)
    return candidate


def read_sheet(reader: fastexcel.ExcelReader, kind: str, name: str) -> SheetRead:
    table = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_arrow()
    columns = [_clean(table.column(i)) for i in range(table.num_columns)]
    n_rows = table.num_rows
    head_rows = min(n_rows, HEADER_SEARCH_ROWS)
    head = [[col[i].as_py() for col in columns] for i in range(head_rows)]
    if all(col.null_count == len(col) for col in columns):
        # an empty sheet holds no rows of its kind
        return SheetRead(kind, name, None, _empty_rows(kind))
    index = header_index()[kind]
    h = _find_header(head, index)
    if h is None:
        raise FileRejected(
            "missing_required_column",
            f"sheet {name!r}: no patient_ref column in rows 1-{HEADER_SEARCH_ROWS}",
        )
    data = [col.slice(h + 1) for col in columns]
    sheet = SheetRead(kind, name, h + 1, pa.table({}))
    kept: dict[str, pa.ChunkedArray] = {}
    extras: list[pa.ChunkedArray] = []
    dropped: list[pa.ChunkedArray] = []  # identifier columns: only to tell notes and blanks apart
    taken: set[str] = set()
    for j, header in enumerate(head[h]):
        match = index.get(normalise_label(header)) if header is not None else None
        values = data[j]
        if match is not None and (match.role == "identifier" or (match.field == "patient_ref" and "patient_ref" in kept)):
            sheet.identifier_columns.append(header)  # a second patient_ref column would leak raw refs
            dropped.append(values)
        elif match is not None and match.field not in kept:
            kept[match.field] = values
            sheet.mapped_columns.setdefault(header, match.field)
        elif header is not None or values.null_count < len(values):
            key = _unique(header if header is not None else f"(column {j + 1} without header)", taken)
            sheet.unknown_columns.append(key)
            sheet.extra_keys.append(key)
            extras.append(values)
    missing = [f for f in REQUIRED_FIELDS[kind] if f not in kept]
    if missing:
        raise FileRejected(
            "missing_required_column",
            f"sheet {name!r} (header row {h + 1}): no {' or '.join(missing)} column",
        )
    # classify rows on every cell the site wrote, identifiers included
    filled = pa.array(np.zeros(n_rows - h - 1, dtype=np.int32))
    for values in data:
        filled = pc.add(filled, pc.cast(pc.is_valid(values), pa.int32()))
    # A note is a row whose one value is a sentence: sites write `Total: 42` under the
    # patient_ref header or simply in column A. In an identifier column only the
    # `Word: ...` form counts, so that a full name alone on a row is never kept as a note.
    one = pc.equal(filled, 1)
    plain = pc.coalesce(*kept.values(), *extras)
    is_note = pc.fill_null(pc.and_(one, pc.match_substring_regex(plain, NOTE_PATTERN)), False)
    note_text = pc.if_else(is_note, plain, pa.scalar(None, pa.string()))
    if dropped:
        ident = pc.coalesce(*dropped)
        ident_note = pc.fill_null(pc.and_(one, pc.match_substring_regex(ident, LABEL_PATTERN)), False)
        note_text = pc.if_else(ident_note, ident, note_text)
        is_note = pc.or_(is_note, ident_note)
    row_class = pc.if_else(pc.equal(filled, 0), "blank", pc.if_else(is_note, "note", "data"))
    out = {
        "source_row": pa.array(range(h + 2, n_rows + 1), pa.int32()),
        "row_class": row_class,
        "note_text": note_text,
    }
    for fld, values in kept.items():
        out[fld] = pc.replace_substring_regex(values, _MIDNIGHT, r"\1") if fld != "patient_ref" else values
    for i, values in enumerate(extras):
        out[f"extra_{i}"] = pc.replace_substring_regex(values, _MIDNIGHT, r"\1")
    sheet.rows = pa.table(out)
    return sheet


def _empty_rows(kind: str) -> pa.Table:
    names = ["source_row", "row_class", "note_text", "patient_ref"]
    return pa.table({n: pa.array([], pa.int32() if n == "source_row" else pa.string()) for n in names})


def read_workbook(source: str | bytes, limits: WorkbookLimits | None = None) -> WorkbookRead:
    """Find and read the four sheet kinds; raise FileRejected for file-level faults.

    The zip is checked against ``limits`` (defaults: ``WorkbookLimits()``) before the reader opens it."""
    check_workbook(source, limits)
    try:
        reader = fastexcel.read_excel(source)
        names = reader.sheet_names
    except Exception as exc:  # corrupt, truncated, password protected (OLE), not a zip
        raise FileRejected("unreadable_workbook", _describe(exc)) from None
    kinds = sheet_name_index()
    found: dict[str, str] = {}
    ignored: list[str] = []
    for name in names:
        kind = kinds.get(normalise_sheet_name(name))
        if kind is None or kind in found:
            ignored.append(name)
        else:
            found[kind] = name
    if "patients" not in found:
        raise FileRejected(
            "no_patients_sheet",
            f"no sheet named as a Patients sheet among {names}",
            sheets=found,
        )
    sheets: dict[str, SheetRead] = {}
    for kind in SHEET_FIELDS:  # fixed order: patients first
        if kind not in found:
            continue
        try:
            sheets[kind] = read_sheet(reader, kind, found[kind])
        except FileRejected as exc:
            exc.sheets = found
            raise
        except Exception as exc:
            raise FileRejected("unreadable_workbook", f"sheet {found[kind]!r}: {_describe(exc)}", found) from None
    return WorkbookRead(sheets, ignored)


def _describe(exc: Exception) -> str:
    """A one-line, cell-free description of a reader error."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:300]}" if text else type(exc).__name__
