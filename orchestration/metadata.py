"""Small helpers for the metadata shown beside assets in the Dagster UI."""
from __future__ import annotations

import pandas as pd


def markdown_table(frame: pd.DataFrame, max_rows: int = 12) -> str:
    """A Markdown preview of an aggregate table (never pass patient-level data)."""
    head = frame.head(max_rows)

    def cell(value) -> str:
        if value is None or (isinstance(value, float) and pd.isna(value)) or value is pd.NA:
            return ""
        if isinstance(value, float):
            return f"{value:.4g}"
        return str(value).replace("|", "\\|")

    lines = [
        "| " + " | ".join(map(str, head.columns)) + " |",
        "| " + " | ".join("---" for _ in head.columns) + " |",
    ]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in head.itertuples(index=False)]
    if len(frame) > max_rows:
        lines.append(f"\n{len(frame) - max_rows} more rows")
    return "\n".join(lines)
