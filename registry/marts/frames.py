"""DuckDB query results as pandas frames that keep SQL dates as dates."""
from __future__ import annotations

import duckdb
import pandas as pd
import pyarrow as pa

ALL = "All"


def _date_as_arrow(arrow_type: pa.DataType):
    # DuckDB's own .df() turns DATE into datetime64, which would publish as TIMESTAMP.
    return pd.ArrowDtype(arrow_type) if pa.types.is_date(arrow_type) else None


def frame(con: duckdb.DuckDBPyConnection, sql: str, params: dict | list | None = None) -> pd.DataFrame:
    return con.sql(sql, params=params).to_arrow_table().to_pandas(types_mapper=_date_as_arrow)


def region_label(column: str = "region") -> str:
    """SQL for the region of a GROUPING SETS row: the region, or 'All' for the total."""
    return f"case when grouping({column}) = 1 then '{ALL}' else {column} end"


def all_first(df: pd.DataFrame, *keys: str) -> pd.DataFrame:
    """Sort with the 'All' rows first, then regions by name, then ``keys``."""
    order = df["region"].ne(ALL)
    return (df.assign(_all_last=order)
              .sort_values(["_all_last", "region", *keys], kind="stable")
              .drop(columns="_all_last")
              .reset_index(drop=True))
