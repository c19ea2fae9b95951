"""The Excel workbook of all marts: one formatted sheet per mart.

Text that Excel (or a spreadsheet importing a copy) could read as a formula,
a cell starting with ``=``, ``+``, ``-`` or ``@``, is written as text with a
leading apostrophe (``'=HYPERLINK(...)``), the usual defence against formula
injection: site file names and reasons come from outside. Numbers are never
escaped. Number formats per column come from ``number_formats.csv``.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib import resources
from pathlib import Path

import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_STARTS = ("=", "+", "-", "@")
ESCAPE_PREFIX = "'"
MAX_WIDTH = 60


@lru_cache(maxsize=1)
def _formats() -> list[tuple[str, re.Pattern, str]]:
    with resources.files(__package__).joinpath("number_formats.csv").open(encoding="utf-8") as fh:
        table = pd.read_csv(fh, dtype=str, keep_default_na=False)
    return [(m, re.compile(p), f)
            for m, p, f in zip(table["mart"], table["column_pattern"], table["excel_format"])]


def number_format(mart: str, column: str) -> str | None:
    """First matching row of number_formats.csv (a blank mart matches any mart)."""
    for mart_name, pattern, fmt in _formats():
        if mart_name in ("", mart) and pattern.search(column):
            return fmt
    return None


def escape_text(values: pd.Series) -> pd.Series:
    """Prefix text cells that start like a formula; leaves other values alone."""
    is_text = values.map(lambda v: isinstance(v, str))
    risky = is_text & values.where(is_text, "").astype(str).str.startswith(FORMULA_STARTS)
    return values.where(~risky, ESCAPE_PREFIX + values.where(risky, "").astype(str))


def _cells(df: pd.DataFrame) -> pd.DataFrame:
    """Python values openpyxl accepts: None for nulls, escaped text."""
    out = df.astype(object).where(df.notna(), None)
    for column in out.columns:
        out[column] = escape_text(out[column])
    return out


def sheet_title(name: str) -> str:
    return name[:31]  # Excel's limit on sheet names


def write_workbook(marts: dict[str, pd.DataFrame], path: Path) -> Path:
    wb = Workbook()
    wb.remove(wb.active)
    for name, df in marts.items():
        ws = wb.create_sheet(sheet_title(name))
        ws.append([str(c) for c in df.columns])
        for row in _cells(df).itertuples(index=False, name=None):
            ws.append(row)
        for cell in ws[1]:
            cell.font = Font(bold=True)
        ws.freeze_panes = "A2"
        if len(df.columns):
            ws.auto_filter.ref = ws.dimensions
        for i, column in enumerate(df.columns, start=1):
            letter = get_column_letter(i)
            fmt = number_format(name, str(column))
            if fmt and len(df):
                for (cell,) in ws.iter_rows(min_row=2, min_col=i, max_col=i):
                    cell.number_format = fmt
            lengths = df[column].map(lambda v: len(str(v)), na_action="ignore")
            longest = int(lengths.max()) if lengths.notna().any() else 0
            ws.column_dimensions[letter].width = min(MAX_WIDTH, max(len(str(column)), longest, 6) + 2)
    wb.save(path)
    return path
