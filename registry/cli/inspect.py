"""`registry status` and `registry rejections`: the warehouse's state without writing SQL.

Both open the warehouse read-only; while a run holds it (DuckDB admits one writing
process) they wait a little, then say so.
"""
from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from registry import warehouse as warehouse_db
from registry.config import RegistryConfig

if TYPE_CHECKING:
    import pandas as pd

# pandas, pyarrow and the status queries (which bring scipy) are imported by the commands
# that use them: every `registry` command loads this module, and `registry run` starts a
# dbt parse only once the command line is read.

READ_WAIT_SECONDS = 10.0


def open_warehouse(config: RegistryConfig):
    path = config.path("warehouse")
    if not path.is_file():
        raise SystemExit(f"registry: no warehouse at {path} yet (REGISTRY_WAREHOUSE); run `registry run` first")
    try:
        return warehouse_db.connect(path, read_only=True, lock_timeout=READ_WAIT_SECONDS)
    except warehouse_db.WarehouseBusy as exc:
        raise SystemExit(f"registry: {exc}; try again when the run has finished") from None


def show(frame: pd.DataFrame, empty: str) -> None:
    """A frame as aligned text (no colour codes), or a sentence when it is empty."""
    import pandas as pd
    import pyarrow as pa

    if frame.empty:
        print(empty)
        return
    shown = frame.astype(object).where(frame.notna(), "")
    for column in shown.columns:
        dtype = frame[column].dtype
        if isinstance(dtype, pd.ArrowDtype) and pa.types.is_date(dtype.pyarrow_dtype):
            shown[column] = frame[column].astype(str).where(frame[column].notna(), "")
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            shown[column] = frame[column].dt.strftime("%Y-%m-%d %H:%M").fillna("")
    print(shown.to_string(index=False, max_colwidth=80))


def cmd_status(args: argparse.Namespace) -> int:
    import pandas as pd

    from registry import status

    config = RegistryConfig.from_env()
    with open_warehouse(config) as con:
        sites = status.site_status(con, args.site)
        strays = status.stray_files(con) if not args.site else pd.DataFrame()
    if args.site and sites.empty:
        print(f"registry status: {args.site} is not a site of the site master")
        return 2
    show(sites, "No site in the site master.")
    if not strays.empty:
        print(f"\nFiles outside the site folders ({len(strays)}):")
        show(strays, "")
    return 0


def cmd_rejections(args: argparse.Namespace) -> int:
    from registry import status

    config = RegistryConfig.from_env()
    with open_warehouse(config) as con:
        rows = status.rejected_rows(con, args.site)
    if args.csv:
        rows.to_csv(sys.stdout, index=False)
        return 0
    where = f" of {args.site}" if args.site else ""
    show(rows, f"No rejected row in the current deliveries{where}.")
    if not rows.empty:
        print(f"\n{len(rows)} rejected row(s){where}.")
    return 0


def add_parsers(commands) -> None:
    st = commands.add_parser(
        "status", help="per site: current cut, held, rejected and ignored files with reasons, last load",
    )
    st.add_argument("--site", help="one site only")
    st.set_defaults(func=cmd_status)

    rej = commands.add_parser(
        "rejections", help="rejected rows of the current deliveries: file, sheet, row, reasons (no patient data)",
    )
    rej.add_argument("--site", help="one site only")
    rej.add_argument("--csv", action="store_true", help="CSV on standard output")
    rej.set_defaults(func=cmd_rejections)
