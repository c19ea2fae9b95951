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
"""
from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from . import present
from .methods import methods

FORMULA_STARTS = ("=", "+", "-", "@")
ESCAPE_PREFIX = "'"
MAX_WIDTH = 60
ABOUT, COLUMNS = "About", "Columns"


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


def _header(ws: Worksheet, headers: Iterable[str]) -> None:
    ws.append([escape_value(h) for h in headers])
    for cell in ws[1]:
        cell.font = Font(bold=True)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"


def _widths(ws: Worksheet, headers: list[str], columns: list[list]) -> None:
    for i, (header, values) in enumerate(zip(headers, columns), start=1):
        longest = max((len(str(v)) for v in values if v is not None), default=0)
        ws.column_dimensions[get_column_letter(i)].width = min(
            MAX_WIDTH, max(min(len(header), 24), longest, 6) + 2)


def write_mart_sheet(wb: Workbook, mart: str, df: pd.DataFrame, small_cell_max: int) -> Worksheet:
    ws = wb.create_sheet(sheet_title(mart))
    specs = [present.column(mart, str(c)) for c in df.columns]
    headers = [s.header for s in specs]
    _header(ws, headers)
    suppressed = (df["suppressed"].fillna(False).astype(bool).to_numpy() if "suppressed" in df.columns
                  else np.zeros(len(df), dtype=bool))
    values = df.astype(object).to_numpy()
    written = [[] for _ in specs]
    for r, row in enumerate(values):
        out = [cell_value(s, v, bool(suppressed[r]), small_cell_max) for s, v in zip(specs, row)]
        ws.append(out)
        for i, v in enumerate(out):
            written[i].append(v)
    for i, spec in enumerate(specs, start=1):
        fmt = present.excel_format(spec)
        if fmt and len(df):
            for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                if isinstance(cell.value, (int, float)) or hasattr(cell.value, "isoformat"):
                    cell.number_format = fmt
                elif isinstance(cell.value, str):
                    cell.alignment = Alignment(horizontal="right") if spec.numeric else cell.alignment
    if len(df.columns):
        ws.auto_filter.ref = ws.dimensions
    _widths(ws, headers, [[present.format_value(s, v) if v is not None and not isinstance(v, str)
                           else v for v in col] for s, col in zip(specs, written)])
    return ws


def write_about_sheet(wb: Workbook, facts: list[tuple[str, str]], sites: pd.DataFrame,
                      small_cell_max: int, km_notes: dict | None = None) -> Worksheet:
    """Provenance (label, value), the sites' data cuts, the legend and the methods."""
    ws = wb.create_sheet(ABOUT, 0)
    ws.append(["Intrathecal drug delivery registry: published outcome marts"])
    ws["A1"].font = Font(bold=True, size=13)
    ws.append([])
    for key, value in facts:
        ws.append([key, escape_value(value)])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
    ws.append(["Small cells", present.suppression_legend(small_cell_max)])
    ws.cell(ws.max_row, 1).font = Font(bold=True)
    ws.cell(ws.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    ws.append([])
    ws.append(["Data cuts per site (current delivery)"])
    ws.cell(ws.max_row, 1).font = Font(bold=True, size=12)
    site_headers = ["Site", "Region", "Data cut", "File"]
    ws.append(site_headers)
    for cell in ws[ws.max_row]:
        cell.font = Font(bold=True)
    for row in sites.to_dict("records"):
        ws.append([escape_value(row.get("site_id")), escape_value(row.get("region")),
                   present.as_date(row.get("data_cut")), escape_value(row.get("file_name"))])
        ws.cell(ws.max_row, 3).number_format = "yyyy-mm-dd"
    ws.append([])
    ws.append(["Methods"])
    ws.cell(ws.max_row, 1).font = Font(bold=True, size=12)
    km_notes = km_notes or {}
    for topic, text in methods(small_cell_max, km_min_events=km_notes.get("min_events"),
                               regional_curves=bool(km_notes.get("regions_drawn"))):
        ws.append([topic, text])
        ws.cell(ws.max_row, 1).font = Font(bold=True)
        ws.cell(ws.max_row, 2).alignment = Alignment(wrap_text=True, vertical="top")
    ws.column_dimensions["A"].width = 30
    ws.column_dimensions["B"].width = 100
    ws.column_dimensions["C"].width = 12
    ws.column_dimensions["D"].width = 40
    return ws


def write_columns_sheet(wb: Workbook, marts: dict[str, pd.DataFrame]) -> Worksheet:
    ws = wb.create_sheet(COLUMNS, 1)
    table = present.columns_table(marts)
    headers = ["Mart", "Column", "Label", "Unit", "Shown as", "Description"]
    _header(ws, headers)
    for row in table.itertuples(index=False, name=None):
        ws.append([escape_value(v) for v in row])
    ws.auto_filter.ref = ws.dimensions
    for letter, width in zip("ABCDEF", (24, 26, 34, 12, 30, 90)):
        ws.column_dimensions[letter].width = width
    return ws


def write_workbook(marts: dict[str, pd.DataFrame], path: Path, *,
                   facts: list[tuple[str, str]] | None = None,
                   sites: pd.DataFrame | None = None, small_cell_max: int,
                   km_notes: dict | None = None) -> Path:
    """``About``, ``Columns`` and one sheet per mart, saved to ``path``."""
    wb = Workbook()
    wb.remove(wb.active)
    for name, df in marts.items():
        write_mart_sheet(wb, name, df, small_cell_max)
    write_about_sheet(wb, facts or [], sites if sites is not None else pd.DataFrame(),
                      small_cell_max, km_notes)
    write_columns_sheet(wb, marts)
    wb.save(path)
    return path
