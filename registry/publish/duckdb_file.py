"""``marts.duckdb``: every mart as a table of schema ``main``, plus
``publish_info`` (one row: publish id, time, data cut, load id) and
``publish_marts`` (mart, n_rows), so a reader can check what it holds."""
from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd


def write_marts_duckdb(marts: dict[str, pd.DataFrame], path: Path, info: dict) -> Path:
    con = duckdb.connect(str(path))
    try:
        for name, df in marts.items():
            con.register("_mart", df)
            con.execute(f'create table main."{name}" as select * from _mart')
            con.unregister("_mart")
        counts = pd.DataFrame({"mart": list(marts), "n_rows": [len(df) for df in marts.values()]})
        con.register("_counts", counts)
        con.execute("create table main.publish_marts as select * from _counts")
        con.unregister("_counts")
        info_df = pd.DataFrame([{k: (None if v is None else str(v)) for k, v in info.items()}])
        con.register("_info", info_df)
        con.execute("create table main.publish_info as select * from _info")
        con.unregister("_info")
        # Everything in the main file, nothing left in a write-ahead log that would not move with it.
        con.execute("checkpoint")
    finally:
        con.close()
    return path
