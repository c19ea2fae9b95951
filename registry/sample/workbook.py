"""Writes one delivery workbook with a site's layout habits and reports the Excel row
number of every data row (for the truth's lineage)."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.styles import Font

FIXED_TIME = pd.Timestamp("2017-07-31").to_pydatetime()


@dataclass
class Sheet:
    name: str
    headers: list[str]
    cells: pd.DataFrame            # one column per header, python values (None = empty)
    banner: list[str] = field(default_factory=list)
    merge_banner: bool = False
    blank_after: np.ndarray | None = None   # data row positions followed by a blank row
    total_row: str | None = None


def write(path: Path, sheets: list[Sheet]) -> dict[str, np.ndarray]:
    """Write the workbook; returns sheet name -> Excel row number of each data row."""
    wb = Workbook()
    wb.remove(wb.active)
    wb.properties.creator = "registry export"
    wb.properties.created = FIXED_TIME
    rows_of = {}
    for sheet in sheets:
        ws = wb.create_sheet(sheet.name)
        width = max(len(sheet.headers), 1)
        for text in sheet.banner:
            ws.append([text or None])
            r = ws.max_row
            if not text:
                continue
            ws.cell(r, 1).font = Font(bold=True)
            if sheet.merge_banner and width > 1:
                ws.merge_cells(start_row=r, start_column=1, end_row=r, end_column=min(width, 6))
        if sheet.banner:
            ws.append([])            # a blank row between the banner and the header
        ws.append(sheet.headers)
        header_row = ws.max_row if sheet.headers else 0
        values = sheet.cells.astype(object).where(sheet.cells.notna(), None).to_numpy().tolist()
        blanks = np.zeros(len(values), bool)
        if sheet.blank_after is not None and len(values):
            blanks[sheet.blank_after[sheet.blank_after < len(values) - 1]] = True
        for row, blank in zip(values, blanks):
            ws.append(row)
            if blank:
                ws.append([])
        # Row numbers: header row + position + blank rows inserted before the row.
        shift = np.concatenate([[0], np.cumsum(blanks)[:-1]]) if len(values) else np.zeros(0, int)
        rows_of[sheet.name] = header_row + 1 + np.arange(len(values)) + shift
        if sheet.total_row:
            ws.append([])
            ws.append([sheet.total_row])
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return rows_of
