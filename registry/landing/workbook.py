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

from registry.landing import identifiers
from registry.landing.dictionary import sheet_name_index
from registry.landing.labels import normalise_sheet_name
from registry.landing.limits import WorkbookLimits, check_workbook
from registry.landing.recognition import Column, ColumnsRejected, Recognizer
from registry.landing.schema import SHEET_FIELDS

HEADER_SEARCH_ROWS = 15
# A note's sentence: `Total: 42 patients`, `Note: ...` (a word, then `:`), or three words or more.
LABEL_PATTERN = r"^\p{L}{3,}\s*:(\s|$)"
NOTE_PATTERN = LABEL_PATTERN + r"|\S+\s+\S+\s+\S+"
_MIDNIGHT = r"^(\d{4}-\d{2}-\d{2}) 00:00:00$"
_NUMERIC = r"^[+-]?\d+(?:[.,]\d+)?$"
_DATE_LIKE = r"^\d{4}-\d{2}-\d{2}( \d{2}:\d{2}:\d{2})?$|^\d{1,2}[./-]\d{1,2}[./-]\d{2,4}$"


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
    """The rows below the header of one sheet, identifiers and unknown columns removed.

    ``rows`` has ``source_row`` (Excel row number), ``row_class`` (data, note,
    blank), ``note_text`` (the sentence of a note row, screened) and one column
    per mapped field (``patient_ref`` included, never stored raw). ``columns``
    holds every column's recognition; ``profiles`` the profile of each unknown
    or ambiguous column (counts only: its values are not kept).
    """

    kind: str
    name: str
    header_row: int | None
    rows: pa.Table
    mapped_columns: dict[str, str] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    identifier_columns: list[str] = field(default_factory=list)
    ambiguous_columns: dict[str, list[str]] = field(default_factory=dict)  # header -> candidate fields
    columns: list[Column] = field(default_factory=list)
    profiles: list[dict] = field(default_factory=list)


@dataclass
class WorkbookRead:
    sheets: dict[str, SheetRead]  # sheet kind -> sheet
    ignored_sheets: list[str]

    @property
    def sheet_names(self) -> dict[str, str]:
        return {kind: sheet.name for kind, sheet in self.sheets.items()}


def _clean_all(table: pa.Table) -> list[pa.Array]:
    """Every column trimmed (non-breaking spaces included), empty text null: in one pass over
    the sheet's cells laid end to end (a few Arrow calls per sheet, not per column)."""
    n_rows = table.num_rows
    if table.num_columns == 0:
        return []
    cells = pa.chunked_array([c.cast(pa.string()) for c in table.columns], pa.string()).combine_chunks()
    trimmed = pc.utf8_trim_whitespace(cells)
    cleaned = pc.if_else(pc.equal(trimmed, ""), pa.scalar(None, pa.string()), trimmed)
    return [cleaned.slice(i * n_rows, n_rows) for i in range(table.num_columns)]


def profile_column(values: pa.ChunkedArray) -> dict[str, object]:
    """A profile of an unknown column's values: counts and shares only, never a value."""
    filled = values.drop_null() if len(values) else values
    n = len(filled)
    if n == 0:
        return {"n_values": 0, "n_distinct": 0, "identifier_patterns": identifiers.count_matches(pa.array([], pa.string())),
                "max_length": 0, "share_numeric": None, "share_date_like": None}
    numeric = pc.sum(pc.match_substring_regex(filled, _NUMERIC)).as_py() or 0
    date_like = pc.sum(pc.match_substring_regex(filled, _DATE_LIKE)).as_py() or 0
    return {
        "n_values": n,
        "n_distinct": int(pc.count_distinct(filled).as_py()),
        "identifier_patterns": identifiers.count_matches(filled),
        "max_length": int(pc.max(pc.utf8_length(filled)).as_py() or 0),
        "share_numeric": round(numeric / n, 4),
        "share_date_like": round(date_like / n, 4),
    }


# Columns of a sheet's rows before ``finish_rows``: what tells a data row from a note or a
# blank (cells filled, and the text of the unknown, kept and identifier columns coalesced).
# They live only in memory: ``finish_rows`` drops them, so no identifier is ever written.
PENDING_COLUMNS = ("_filled", "_other", "_plain", "_ident")


def read_sheet(reader: fastexcel.ExcelReader, kind: str, name: str, recognizer: Recognizer | None = None,
               finish: bool = True) -> SheetRead:
    """One sheet: its header found and its columns recognised. With ``finish=False`` the rows
    keep the ``PENDING_COLUMNS`` so that many sheets are classified at once (``finish_rows``)."""
    recognizer = recognizer or Recognizer()
    table = reader.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_arrow()
    columns = _clean_all(table)
    n_rows = table.num_rows
    if all(col.null_count == len(col) for col in columns):
        # an empty sheet holds no rows of its kind
        return SheetRead(kind, name, None, _empty_rows(kind))
    head_rows = min(n_rows, HEADER_SEARCH_ROWS)
    by_column = [col.slice(0, head_rows).to_pylist() for col in columns]
    head = [list(row) for row in zip(*by_column)] if by_column else []
    h = recognizer.find_header(kind, head)
    if h is None:
        raise FileRejected(
            "missing_required_column",
            f"sheet {name!r}: no patient_ref column in rows 1-{HEADER_SEARCH_ROWS}",
        )
    data = [col.slice(h + 1) for col in columns]
    try:
        recognition = recognizer.recognise(kind, head[h], data, describe=f"sheet {name!r} (header row {h + 1})")
    except ColumnsRejected as exc:
        raise FileRejected(exc.code, exc.message) from None
    sheet = SheetRead(kind, name, h + 1, pa.table({}), columns=recognition.columns)
    kept: dict[str, pa.Array] = {}
    dropped: list[pa.Array] = []  # identifier columns: only to tell notes and blanks apart
    others: list[pa.Array] = []  # unknown, ambiguous, ignored, duplicate: never stored
    for col in recognition.columns:
        values = data[col.index]
        if col.status == "mapped":
            kept[col.target] = values
            sheet.mapped_columns.setdefault(col.key, col.target)
        elif col.status == "identifier" or (col.status == "duplicate" and col.target == "patient_ref"):
            sheet.identifier_columns.append(col.key)  # a second patient_ref column holds raw refs
            dropped.append(values)
        else:
            others.append(values)
            if col.status in ("unknown", "ambiguous"):
                sheet.unknown_columns.append(col.key)
                sheet.profiles.append({"position": col.index + 1, "header": col.key, "status": col.status,
                                       "candidates": col.candidates, **profile_column(values)})
                if col.status == "ambiguous":
                    sheet.ambiguous_columns[col.key] = col.candidate_targets()
    n = n_rows - h - 1
    # cells the site wrote on each row, identifiers included (validity bits, summed in numpy)
    filled = np.zeros(n, dtype=np.int32)
    for values in data:
        if values.null_count == 0:
            filled += 1
        elif values.null_count < n:
            filled += np.asarray(values.is_valid().to_numpy(zero_copy_only=False), dtype=np.int32)
    nothing = pa.nulls(n, pa.string())
    out = {
        "source_row": pa.array(np.arange(h + 2, n_rows + 1, dtype=np.int32)),
        "_filled": pa.array(filled),
        "_other": pc.coalesce(*others) if others else nothing,
        "_plain": pc.coalesce(*kept.values()) if kept else nothing,
        "_ident": pc.coalesce(*dropped) if dropped else nothing,
        **kept,
    }
    rows = pa.table(out)
    sheet.rows = finish_rows(rows) if finish else rows
    return sheet


def finish_rows(rows: pa.Table) -> pa.Table:
    """Rows of one sheet or of many (``read_sheet(finish=False)``, concatenated): each row
    classed data, note or blank, the note's text kept (screened), the ``PENDING_COLUMNS``
    dropped, and `2017-07-31 00:00:00` written as the date it is.

    A note is a row whose one value is a sentence: sites write `Total: 42` under the
    patient_ref header or simply in column A. Its text is kept only from a recognised
    column (screened for identifier-like runs): in an identifier column only the
    `Word: ...` form counts, so that a full name alone on a row is never kept, and
    the text of an unknown column is never kept at all."""
    # one chunk: Arrow compiles a regular expression again for every chunk it scans
    rows = rows.combine_chunks()
    one = pc.equal(rows.column("_filled"), 1)
    nothing = pa.scalar(None, pa.string())
    other, plain, ident = (rows.column(c) for c in ("_other", "_plain", "_ident"))
    other_note = pc.fill_null(pc.and_(one, pc.match_substring_regex(other, NOTE_PATTERN)), False)
    kept_note = pc.fill_null(pc.and_(one, pc.match_substring_regex(plain, NOTE_PATTERN)), False)
    ident_note = pc.fill_null(pc.and_(one, pc.match_substring_regex(ident, LABEL_PATTERN)), False)
    note_text = pc.if_else(ident_note, ident, pc.if_else(kept_note, plain, nothing))
    is_note = pc.or_(pc.or_(other_note, kept_note), ident_note)
    row_class = pc.if_else(pc.equal(rows.column("_filled"), 0), "blank", pc.if_else(is_note, "note", "data"))
    fields = [c for c in rows.column_names if c not in PENDING_COLUMNS and c != "source_row"
              and not c.startswith("_")]
    out = {
        **{c: rows.column(c) for c in rows.column_names if c.startswith("_") and c not in PENDING_COLUMNS},
        "source_row": rows.column("source_row"),
        "row_class": row_class,
        "note_text": identifiers.redact_array(note_text),
    }
    for fld in fields:
        values = rows.column(fld)
        if fld != "patient_ref" and values.null_count < len(values):
            values = pc.replace_substring_regex(values, _MIDNIGHT, r"\1")
        out[fld] = values
    return pa.table(out)


def _empty_rows(kind: str) -> pa.Table:
    names = ["source_row", "row_class", "note_text", "patient_ref"]
    return pa.table({n: pa.array([], pa.int32() if n == "source_row" else pa.string()) for n in names})


def read_workbook(source: str | bytes, *, recognizer: Recognizer | None = None,
                  limits: WorkbookLimits | None = None, finish: bool = True) -> WorkbookRead:
    """Find and read the four sheet kinds; raise FileRejected for file-level faults.

    ``recognizer`` carries the site's settings and mapping overrides (default: the
    shipped dictionaries only). The zip is checked against ``limits`` (defaults:
    ``WorkbookLimits()``) before the reader opens it. ``finish=False``: the rows are left
    for ``finish_rows`` (the landing classifies a batch of files at once)."""
    recognizer = recognizer or Recognizer()
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
            sheets[kind] = read_sheet(reader, kind, found[kind], recognizer, finish)
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
