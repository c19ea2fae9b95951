"""Site feedback workbooks: per site, in the site's language, what the
registry did with its files.

Sheets: a summary, the files (status and reason in words), rejected rows
(file, sheet, row, column, reason in words), warnings, unknown column
headers and unrecognised terms, both with a suggested mapping. Labels and
reason texts are data (``labels.csv``: key, en, es, pt, fr, de, it, nl); an
unknown code falls back to the English text, then to the code itself.

No identifier ever belongs here. The caller hands over counts, codes,
file/sheet/row numbers, header names and terms it has already screened;
this module defends anyway: it reads only the columns named in
``SiteFeedback`` (any other column of the frames is ignored, so a free-text
column can never slip through), writes codes only when they look like codes,
withholds header names and terms that look like an e-mail address, a phone
number, a date or a long number, caps text length, and escapes text that
Excel could read as a formula.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, partial
from importlib import resources
from pathlib import Path

import pandas as pd
import xlsxwriter

from registry.landing import identifiers
from registry.parallel import process_pool, worker_count

from . import excel, present
from .excel import escape_value

FEEDBACK_DIR = "site_feedback"
MAX_TEXT = 80

FILE_COLUMNS = ("file_name", "data_cut", "status", "reason", "rows_received", "rows_accepted",
                "rows_rejected")
REJECTED_COLUMNS = ("file_name", "sheet_name", "source_row", "column", "reasons")
WARNING_COLUMNS = ("file_name", "sheet_name", "source_row", "warning")
HEADER_COLUMNS = ("file_name", "sheet_kind", "header", "suggestion")
TERM_COLUMNS = ("concept", "term", "n_rows", "suggestion")
# Each frame of SiteFeedback and the columns read from it (nothing else is read).
FRAME_COLUMNS = {"files": FILE_COLUMNS, "rejected_rows": REJECTED_COLUMNS, "warnings": WARNING_COLUMNS,
                 "unknown_headers": HEADER_COLUMNS, "unmapped_terms": TERM_COLUMNS}

_CODE = re.compile(r"^[a-z][a-z0-9_]*$")


def _frame(columns: tuple[str, ...]):
    return field(default_factory=lambda: pd.DataFrame(columns=list(columns)))


@dataclass(frozen=True)
class SiteFeedback:
    """What one site gets back, all already screened by the caller.

    - ``files``: file_name, data_cut, status (code), reason (code, or
      ``code: message`` of which only the code is used), rows_received,
      rows_accepted, rows_rejected;
    - ``rejected_rows``: file_name, sheet_name, source_row (the Excel row),
      column (the site's header or a field code; may be blank), reasons
      (codes, ``;``-separated);
    - ``warnings``: file_name, sheet_name, source_row, warning (code);
    - ``unknown_headers``: file_name, sheet_kind, header, suggestion;
    - ``unmapped_terms``: concept (code), term, n_rows, suggestion.
    """

    site_id: str
    language: str = "en"
    files: pd.DataFrame = _frame(FILE_COLUMNS)
    rejected_rows: pd.DataFrame = _frame(REJECTED_COLUMNS)
    warnings: pd.DataFrame = _frame(WARNING_COLUMNS)
    unknown_headers: pd.DataFrame = _frame(HEADER_COLUMNS)
    unmapped_terms: pd.DataFrame = _frame(TERM_COLUMNS)
    # The frames' named columns as plain lists (frame -> column -> values), equal to the
    # frames, when the caller has them: a publish that cut every table into thousands of
    # sites takes them from whole columns (``site_feedback_from_warehouse``), since reading
    # each site's frames column by column cost it about a second at scale 100.
    values: Mapping[str, Mapping[str, list]] | None = field(default=None, repr=False, compare=False)


# --- screening --------------------------------------------------------------

def screen_text(value, language: str = "en", *, free_text: bool = True) -> str:
    """Text safe to write: capped, identifier-looking values withheld (for
    headers, terms and sheet names; file names only lose e-mail addresses),
    formula-like text escaped."""
    if present.is_missing(value):
        return ""
    s = " ".join(str(value).split())[:MAX_TEXT]
    # the landing's identifier patterns (one home); a free text also must not hold a date
    found = identifiers.find(s)
    if (found if free_text else "email" in found) or (free_text and identifiers.looks_like_date(s)):
        return present.text("ui.withheld", language)
    return escape_value(s)


def _code(value) -> str | None:
    if present.is_missing(value):
        return None
    code = present.code_of(value)
    return code if _CODE.match(code) else None


def _count(value) -> int | None:
    try:
        return None if present.is_missing(value) else int(value)
    except (TypeError, ValueError):
        return None


def _words(concept: str, value, language: str) -> str:
    code = _code(value)
    if code is None:
        return "" if present.is_missing(value) else present.text("ui.withheld", language)
    return present.label(concept, code, language)


def _reasons(value, language: str) -> str:
    if present.is_missing(value):
        return ""
    return " ".join(_words("reason", part, language) for part in str(value).split(";") if part.strip())


def _column_text(value, language: str) -> str:
    """A field code in words, or the site's own header (screened)."""
    code = _code(value)
    if code and present.known_key(f"field.{code}"):
        return present.label("field", code, language)
    return screen_text(value, language)


def _rows(fb: SiteFeedback, name: str) -> list[dict]:
    """The rows of one frame, only its named columns, whatever else it holds (a missing one
    is None). Taken column by column: seven times quicker than row records on a site's few
    rows, which counts when a publish writes thousands of sites."""
    n = len(getattr(fb, name))
    if n == 0:
        return []
    columns = FRAME_COLUMNS[name]
    by_column = _columns(fb, name)
    values = [by_column.get(c, [None] * n) for c in columns]
    return [dict(zip(columns, row)) for row in zip(*values)]


# --- writing ----------------------------------------------------------------
# XlsxWriter, not openpyxl: a publish writes one small workbook per site, thousands at
# national scale, and XlsxWriter writes one in a fraction of openpyxl's time. Text is
# written as text only (no formulas, no links), whatever it looks like.
WORKBOOK_OPTIONS = {**excel.WORKBOOK_OPTIONS, "in_memory": True}


class _Formats:
    def __init__(self, wb: xlsxwriter.Workbook):
        self.header = wb.add_format({"bold": True, "text_wrap": True, "valign": "top"})
        self.bold = wb.add_format({"bold": True})
        self.title = wb.add_format({"bold": True, "font_size": 13})
        self.intro = wb.add_format({"text_wrap": True, "valign": "top"})


def _write_row(ws, row: int, values: list, fmt=None) -> None:
    for col, value in enumerate(values):
        if value is not None:
            excel.write_cell(ws, row, col, value, fmt)


def _sheet(wb: xlsxwriter.Workbook, formats: _Formats, title: str, headers: list[str], rows: list[list],
           language: str, widths: list[int]) -> None:
    ws = wb.add_worksheet(title[:31])
    _write_row(ws, 0, headers, formats.header)
    ws.freeze_panes(1, 0)
    if not rows:
        rows = [[present.text("ui.none", language)]]
    for i, row in enumerate(rows, start=1):
        _write_row(ws, i, row)
    for i, width in enumerate(widths):
        ws.set_column(i, i, width)


@dataclass(frozen=True)
class _Content:
    """What one workbook shows, as plain values (only the named columns): cheap to hand to a
    worker process, unlike the feedback's frames."""

    site_id: str
    language: str
    files: list[dict]
    rejected: list[dict]
    warnings: list[dict]
    headers: list[dict]
    terms: list[dict]


def _content(fb: SiteFeedback) -> _Content:
    return _Content(str(fb.site_id), fb.language if fb.language in present.LANGUAGES else "en",
                    *(_rows(fb, name) for name in FRAME_COLUMNS))


def _workbook(content: _Content, path: Path, publish_id: str, published_at: str) -> None:
    lang = content.language
    t = lambda key: present.text(key, lang)  # noqa: E731
    files, rejected, warnings = content.files, content.rejected, content.warnings
    headers, terms = content.headers, content.terms
    not_used = [f for f in files if _code(f["status"]) not in ("current", "superseded")]

    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    formats = _Formats(wb)
    ws = wb.add_worksheet(t("ui.summary")[:31])
    ws.write_string(0, 0, t("ui.title"), formats.title)
    ws.merge_range(1, 0, 1, 1, t("ui.intro"), formats.intro)
    ws.set_row(1, 60)
    summary = [
        ("ui.site", screen_text(content.site_id, lang, free_text=False)),
        ("ui.language", lang),
        ("ui.publish_id", publish_id),
        ("ui.published_at", present.timestamp(published_at)),
        ("ui.n_files", len(files)),
        ("ui.n_files_not_used", len(not_used)),
        ("ui.n_rejected_rows", len(rejected)),
        ("ui.n_warnings", len(warnings)),
        ("ui.n_unknown_headers", len(headers)),
        ("ui.n_unmapped_terms", len(terms)),
    ]
    for row, (key, value) in enumerate(summary, start=3):
        ws.write_string(row, 0, t(key), formats.bold)
        _write_row(ws, row, [None, value])
    ws.set_column(0, 0, 36)
    ws.set_column(1, 1, 70)

    _sheet(wb, formats, t("ui.files"),
           [t("ui.file"), t("ui.data_cut"), t("ui.status"), t("ui.reason"),
            t("ui.rows_received"), t("ui.rows_accepted"), t("ui.rows_rejected")],
           [[screen_text(f["file_name"], lang, free_text=False), present.iso_date(f["data_cut"]),
             _words("status", f["status"], lang),
             _words("reason", f["reason"], lang) if not present.is_missing(f["reason"]) else "",
             _count(f["rows_received"]), _count(f["rows_accepted"]), _count(f["rows_rejected"])]
            for f in files], lang, [40, 12, 26, 70, 12, 12, 12])
    _sheet(wb, formats, t("ui.rejected_rows"),
           [t("ui.file"), t("ui.sheet"), t("ui.row"), t("ui.column"), t("ui.reason")],
           [[screen_text(r["file_name"], lang, free_text=False), screen_text(r["sheet_name"], lang),
             _count(r["source_row"]), _column_text(r["column"], lang), _reasons(r["reasons"], lang)]
            for r in rejected], lang, [40, 22, 8, 26, 80])
    _sheet(wb, formats, t("ui.warnings"),
           [t("ui.file"), t("ui.sheet"), t("ui.row"), t("ui.warning")],
           [[screen_text(w["file_name"], lang, free_text=False), screen_text(w["sheet_name"], lang),
             _count(w["source_row"]), _words("warning", w["warning"], lang)]
            for w in warnings], lang, [40, 22, 8, 70])
    _sheet(wb, formats, t("ui.unknown_headers"),
           [t("ui.file"), t("ui.sheet"), t("ui.header"), t("ui.suggestion")],
           [[screen_text(h["file_name"], lang, free_text=False),
             _words("sheet_kind", h["sheet_kind"], lang), screen_text(h["header"], lang),
             screen_text(h["suggestion"], lang) or t("ui.no_header_suggestion")]
            for h in headers], lang, [40, 22, 30, 50])
    _sheet(wb, formats, t("ui.unmapped_terms"),
           [t("ui.concept"), t("ui.term"), t("ui.n_rows"), t("ui.suggestion")],
           [[_words("concept", m["concept"], lang), screen_text(m["term"], lang),
             _count(m["n_rows"]),
             screen_text(m["suggestion"], lang) or t("ui.no_term_suggestion")]
            for m in terms], lang, [26, 36, 8, 50])
    wb.close()


def feedback_file_name(site_id: str) -> str:
    """``<SITE_ID>.xlsx``, with anything but letters, digits, ``-`` and ``_`` replaced."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(site_id)) + ".xlsx"


def feedback_digest(fb: SiteFeedback) -> str:
    """SHA-256 of what a site's workbook says, apart from the publish that wrote it: equal
    digests, equal workbooks. The code and texts that turn it into a workbook count too."""
    content = {"format": _format_key(), "site_id": str(fb.site_id), "language": fb.language,
               **{name: _columns(fb, name) for name in FRAME_COLUMNS}}
    text = json.dumps(content, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _columns(fb: SiteFeedback, name: str) -> dict[str, list]:
    """One frame's named columns as lists: the caller's ``values``, else read from the frame."""
    if fb.values is not None:
        return dict(fb.values.get(name, {}))
    return by_column(getattr(fb, name), FRAME_COLUMNS[name])


def by_column(df: pd.DataFrame | None, columns: tuple[str, ...]) -> dict[str, list]:
    """The named columns' values ({} for no rows), column by column: four times quicker
    than row records."""
    if df is None or len(df) == 0:
        return {}
    return {c: df[c].tolist() for c in columns if c in df.columns}


@cache
def _format_key() -> str:
    digest = hashlib.sha256(Path(__file__).read_bytes())
    digest.update(resources.files(__package__).joinpath("labels.csv").read_bytes())
    return digest.hexdigest()


# A publish writes its feedback workbooks in worker processes when at least this many are
# new: one takes about 2 ms, starting the workers about 0.9 s (measured at scale 100), so
# the workers pay off from about a thousand (a national registry's first publish).
MIN_WORKBOOKS_FOR_WORKERS = 1000
WORKBOOKS_PER_TASK = 50


def write_site_feedback(feedback: Iterable[SiteFeedback], out_dir: Path, *, publish_id: str = "",
                        published_at: str = "", carry: Mapping[str, Path] | None = None,
                        workers: int | None = None) -> dict[str, Path]:
    """One workbook per site, ``out_dir/<SITE_ID>.xlsx``; returns site_id -> path.

    ``carry``: site -> its workbook in an earlier publish, known to say the same
    (``feedback_digest``); it is linked (a publish's files never change), not written again.
    ``workers``: processes writing the others when there are many (default: one per core)."""
    out_dir = Path(out_dir)
    carry = carry or {}
    written: dict[str, Path] = {}
    to_write: list[tuple[_Content, str]] = []
    for fb in feedback:
        out_dir.mkdir(parents=True, exist_ok=True)
        path = out_dir / feedback_file_name(fb.site_id)
        earlier = carry.get(str(fb.site_id))
        if earlier is None or not _link(Path(earlier), path):
            to_write.append((_content(fb), str(path)))
        written[str(fb.site_id)] = path
    workers = worker_count(workers)
    if workers == 1 or len(to_write) < MIN_WORKBOOKS_FOR_WORKERS:
        _write_workbooks(to_write, publish_id, published_at)
    else:
        tasks = [to_write[i:i + WORKBOOKS_PER_TASK] for i in range(0, len(to_write), WORKBOOKS_PER_TASK)]
        with process_pool(workers, [__name__]) as pool:
            list(pool.map(partial(_write_workbooks, publish_id=publish_id, published_at=published_at), tasks))
    return written


def _write_workbooks(contents: list[tuple[_Content, str]], publish_id: str, published_at: str) -> None:
    for content, path in contents:
        _workbook(content, Path(path), publish_id, published_at)


def _link(source: Path, target: Path) -> bool:
    try:
        os.link(source, target)
    except OSError:
        try:
            shutil.copyfile(source, target)
        except OSError:
            return False
    return True
