"""The Excel workbook of a publish: ``About`` (provenance, data cuts per
site, the suppression legend and the methods), ``Columns`` (the column
dictionary: mart, column, label, unit, how shown, description), then one
sheet per mart with readable headers and units.

Headers, labels of codes and number formats come from ``columns.csv`` and
``labels.csv`` through ``registry.publish.present``, the same facts the
HTML report uses. Values stay numbers (full precision; the format rounds);
a value that would show as -0 is written as 0. Small p-values show in
scientific notation. In a suppressed row every withheld count is the text
``<N*`` (N = small_cell_max + 1; the small counts and those withheld to protect
them look alike), and ranks and interval bounds are left empty.

Text that Excel (or a spreadsheet importing a copy) could read as a formula,
a cell starting with ``=``, ``+``, ``-`` or ``@``, is written as text with a
leading apostrophe (``'=HYPERLINK(...)``), the usual defence against formula
injection: site file names and reasons come from outside. Numbers are never
escaped.

Written with XlsxWriter (as the site feedback is): at national scale the site tables
run to thousands of rows, which openpyxl writes several times slower.
"""
from __future__ import annotations

import numbers
from collections.abc import Iterable
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from . import present
from .methods import methods

FORMULA_STARTS = ("=", "+", "-", "@")
ESCAPE_PREFIX = "'"
MAX_WIDTH = 60
ABOUT, COLUMNS = "About", "Columns"
# Text is written as text whatever it looks like: no formulas, links or numbers read from it.
WORKBOOK_OPTIONS = {"strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}


def escape_value(value):
    """A text cell that starts like a formula gets a leading apostrophe."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return ESCAPE_PREFIX + value
    return value


def escape_text(values: pd.Series) -> pd.Series:
    """Prefix text cells that start like a formula; leaves other values alone."""
    return values.map(escape_value)


def sheet_title(name: str) -> str:
    return name[:31]  # Excel's limit on sheet names


def _number(value, spec: present.Column):
    """A number as written: a float that rounds to 0 at the shown decimals is 0."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    v = float(value)
    if spec.kind in ("number", "percent") and spec.decimals is not None:
        return 0.0 if present.rounded(v, spec.decimals) == 0 else v
    return v


def cell_value(spec: present.Column, value, row_suppressed: bool, small_cell_max: int):
    """The Python value written to one cell (None for an empty cell)."""
    state = present.suppression_state(spec, value, row_suppressed)
    if state == present.SMALL:
        return present.suppression_mark(small_cell_max)
    if state == present.HIDDEN or present.is_missing(value):
        return None
    if spec.kind == "label":
        return escape_value(present.label(spec.labels, value))
    if spec.kind == "sentence":
        return escape_value(present.sentence_case(str(value)))
    if spec.kind == "date":
        return present.as_date(value) or escape_value(str(value))
    if spec.kind == "flag":
        return "yes" if bool(value) else "no"
    if spec.numeric or isinstance(value, (int, float, np.integer, np.floating)):
        try:
            return _number(value, spec)
        except (TypeError, ValueError):
            return escape_value(str(value))
    if hasattr(value, "isoformat"):
        return present.iso_date(value)
    return escape_value(str(value))


class Formats:
    """The workbook's cell formats, each made once (XlsxWriter wants one object per format)."""

    def __init__(self, wb: xlsxwriter.Workbook):
        self._wb, self._made = wb, {}

    def __call__(self, **properties) -> xlsxwriter.format.Format:
        key = tuple(sorted(properties.items()))
        if key not in self._made:
            self._made[key] = self._wb.add_format(properties)
        return self._made[key]


def write_cell(ws: Worksheet, row: int, col: int, value, fmt=None) -> None:
    """One cell: numbers as numbers, dates as dates, anything else as text (never read as
    a formula: ``WORKBOOK_OPTIONS``)."""
    if value is None:
        if fmt is not None:
            ws.write_blank(row, col, None, fmt)
    elif isinstance(value, (bool, np.bool_)):
        ws.write_boolean(row, col, bool(value), fmt)
    elif isinstance(value, numbers.Real):
        ws.write_number(row, col, value, fmt)
    elif isinstance(value, (date, datetime)):
        ws.write_datetime(row, col, value, fmt)
    else:
        ws.write_string(row, col, str(value), fmt)


def _header(ws: Worksheet, formats: Formats, headers: Iterable[str]) -> None:
    bold = formats(bold=True, text_wrap=True, valign="top")
    for col, header in enumerate(headers):
        ws.write_string(0, col, str(escape_value(header)), bold)
    ws.freeze_panes(1, 0)


def _width(header: str, values: Iterable) -> float:
    longest = max((len(str(v)) for v in values if v is not None), default=0)
    return min(MAX_WIDTH, max(min(len(header), 24), longest, 6) + 2)


def write_mart_sheet(wb: xlsxwriter.Workbook, formats: Formats, mart: str, df: pd.DataFrame,
                     small_cell_max: int) -> Worksheet:
    ws = wb.add_worksheet(sheet_title(mart))
    specs = [present.column(mart, str(c)) for c in df.columns]
    headers = [s.header for s in specs]
    _header(ws, formats, headers)
    suppressed = (df["suppressed"].fillna(False).astype(bool).to_numpy() if "suppressed" in df.columns
                  else np.zeros(len(df), dtype=bool))
    # A column's format: its number format on numbers and dates; its text right-aligned
    # where the column holds numbers (the ``<N*`` marks).
    number_formats = [formats(num_format=f) if (f := present.excel_format(s)) else None for s in specs]
    right = formats(align="right")
    values = df.astype(object).to_numpy()
    written = [[] for _ in specs]
    for r, row in enumerate(values, start=1):
        for c, (spec, value) in enumerate(zip(specs, row)):
            out = cell_value(spec, value, bool(suppressed[r - 1]), small_cell_max)
            if isinstance(out, str):
                fmt = right if spec.numeric and number_formats[c] is not None else None
            else:
                fmt = number_formats[c] if out is not None else None
            write_cell(ws, r, c, out, fmt)
            written[c].append(out)
    if specs:
        ws.autofilter(0, 0, len(df), len(specs) - 1)
    for c, (spec, header, column) in enumerate(zip(specs, headers, written)):
        ws.set_column(c, c, _width(header, [present.format_value(spec, v) if v is not None and not isinstance(v, str)
                                            else v for v in column]))
    return ws


def write_about_sheet(wb: xlsxwriter.Workbook, formats: Formats, facts: list[tuple[str, str]],
                      sites: pd.DataFrame, small_cell_max: int, km_notes: dict | None = None) -> Worksheet:
    """Provenance (label, value), the sites' data cuts, the legend and the methods."""
    ws = wb.add_worksheet(ABOUT)
    bold, wrapped = formats(bold=True), formats(text_wrap=True, valign="top")
    title, day = formats(bold=True, font_size=12), formats(num_format="yyyy-mm-dd")
    ws.write_string(0, 0, "Intrathecal drug delivery registry: published outcome marts",
                    formats(bold=True, font_size=13))
    row = 2
    for key, value in facts:
        write_cell(ws, row, 0, key, bold)
        write_cell(ws, row, 1, escape_value(value))
        row += 1
    ws.write_string(row, 0, "Small cells", bold)
    ws.write_string(row, 1, present.suppression_legend(small_cell_max), wrapped)
    row += 2
    ws.write_string(row, 0, "Data cuts per site (current delivery)", title)
    row += 1
    for col, header in enumerate(["Site", "Region", "Data cut", "File"]):
        ws.write_string(row, col, header, bold)
    for site in sites.to_dict("records"):
        row += 1
        write_cell(ws, row, 0, escape_value(site.get("site_id")))
        write_cell(ws, row, 1, escape_value(site.get("region")))
        write_cell(ws, row, 2, present.as_date(site.get("data_cut")), day)
        write_cell(ws, row, 3, escape_value(site.get("file_name")))
    row += 2
    ws.write_string(row, 0, "Methods", title)
    km_notes = km_notes or {}
    for topic, text in methods(small_cell_max, km_min_events=km_notes.get("min_events"),
                               regional_curves=bool(km_notes.get("regions_drawn"))):
        row += 1
        ws.write_string(row, 0, topic, bold)
        ws.write_string(row, 1, text, wrapped)
    for col, width in enumerate((30, 100, 12, 40)):
        ws.set_column(col, col, width)
    return ws


def write_columns_sheet(wb: xlsxwriter.Workbook, formats: Formats, marts: dict[str, pd.DataFrame]) -> Worksheet:
    ws = wb.add_worksheet(COLUMNS)
    table = present.columns_table(marts)
    headers = ["Mart", "Column", "Label", "Unit", "Shown as", "Description"]
    _header(ws, formats, headers)
    for r, values in enumerate(table.itertuples(index=False, name=None), start=1):
        for c, value in enumerate(values):
            write_cell(ws, r, c, None if present.is_missing(value) else escape_value(value))
    ws.autofilter(0, 0, len(table), len(headers) - 1)
    for col, width in enumerate((24, 26, 34, 12, 30, 90)):
        ws.set_column(col, col, width)
    return ws


def write_workbook(marts: dict[str, pd.DataFrame], path: Path, *,
                   facts: list[tuple[str, str]] | None = None,
                   sites: pd.DataFrame | None = None, small_cell_max: int,
                   km_notes: dict | None = None) -> Path:
    """``About``, ``Columns`` and one sheet per mart, saved to ``path``."""
    wb = xlsxwriter.Workbook(str(path), WORKBOOK_OPTIONS)
    formats = Formats(wb)
    write_about_sheet(wb, formats, facts or [], sites if sites is not None else pd.DataFrame(),
                      small_cell_max, km_notes)
    write_columns_sheet(wb, formats, marts)
    for name, df in marts.items():
        write_mart_sheet(wb, formats, name, df, small_cell_max)
    wb.close()
    return path
