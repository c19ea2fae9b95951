"""`registry run` (load, build, publish) and `registry dev` (the Dagster UI)."""
from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from registry.cli.pipeline import dagster_home, first_failure, run_pipeline
from registry.config import PROJECT_ROOT, RegistryConfig


def cmd_run(args: argparse.Namespace) -> int:
    from registry.cli.pipeline import run_as_of, run_log_file
    from registry.cli.progress import RunDisplay

    config = RegistryConfig.from_env()
    if args.dry_run:
        return dry_run(config, args.site)
    log_file = run_log_file(config, "cli")
    display = RunDisplay(sys.stdout, tty=sys.stdout.isatty() and not args.plain, log_file=log_file)
    if args.as_of:
        result = run_as_of(config, args.as_of, display)
        print(f"Run log:   {log_file}")
        if not result.success:
            print(f"registry run --as-of failed: {first_failure(result)}", file=sys.stderr)
            return 1
        print(f"As-of {args.as_of} publish: {config.path('publish_dir') / 'as-of' / args.as_of}")
        return 0
    result = run_pipeline(config, display, sites=args.site)
    print(f"Run log:   {log_file}")
    if not result.success:
        print(f"registry run failed: {first_failure(result)}", file=sys.stderr)
        return 1
    publish = config.path("publish_dir")
    print(f"Warehouse: {config.warehouse}")
    print(f"Marts:     {publish / 'marts.duckdb'} (and {publish}/*.parquet, {publish / 'registry_marts.xlsx'})")
    print(f"Report:    {publish / 'report.html'}")
    return 0


def dry_run(config: RegistryConfig, sites: list[str] | None) -> int:
    """What a run would load, hold, reject or ignore; writes nothing."""
    import pandas as pd

    from registry.cli.inspect import open_warehouse, show
    from registry.landing.limits import WorkbookLimits
    from registry.landing.mappings import MappingsError, read_mappings
    from registry.landing.preview import preview

    with open_warehouse(config) as con:
        known = [r[0] for r in con.execute("select site_id from landing.site_master").fetchall()]
        unknown = sorted(set(sites or []) - set(known))
        if unknown:
            print(f"registry run --dry-run: not sites of the site master: {', '.join(unknown)}")
            return 2
        try:
            mappings = read_mappings(config.path("mappings"), known)
        except MappingsError as exc:
            print(f"registry run --dry-run: the mappings folder has errors:\n{exc}")
            return 1
        rows = preview(con, config.path("inbox"), pseudonym_key=config.secret_key(), mappings=mappings,
                       limits=WorkbookLimits(config.max_file_mb, config.max_sheet_mb, config.max_rows_per_sheet),
                       sites=sites)
    show(pd.DataFrame(rows, columns=["site_id", "file_path", "would", "reason"]),
         "Nothing new: a run would load nothing.")
    print("(dry run: nothing was written)")
    return 0


def cmd_dev(args: argparse.Namespace) -> int:
    """`dagster dev` on the project's workspace, with the instance `registry run` uses."""
    config = RegistryConfig.from_env()
    dagster_home(config)
    bin_dir = str(Path(sys.executable).parent)
    # dbt and dagster are installed beside this interpreter, which need not be on PATH.
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    # A process started in the background ignores SIGINT/SIGTERM; dagster dev must not.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    os.chdir(PROJECT_ROOT)
    dagster = str(Path(bin_dir) / "dagster")
    os.execv(dagster, [dagster, "dev", "-w", "workspace.yaml", *args.dagster_args])
    return 0  # not reached


def add_parsers(commands) -> None:
    run = commands.add_parser(
        "run",
        help="load the inbox, build the warehouse and publish the marts",
        description="Full load, build and publish for REGISTRY_INBOX / REGISTRY_SITES into "
        "REGISTRY_WAREHOUSE and REGISTRY_PUBLISH_DIR, with the Dagster definitions of the UI. "
        "On a terminal a progress display, elsewhere plain lines; each distinct warning once.",
    )
    run.add_argument("--plain", action="store_true", help="plain lines even on a terminal")
    run.add_argument("--site", action="append", metavar="SITE",
                     help="load only this site's deliveries (repeatable), then build and publish")
    run.add_argument("--dry-run", action="store_true",
                     help="say what would load, be held, rejected or ignored; write nothing")
    run.add_argument("--as-of", metavar="YYYY-MM-DD",
                     help="publish the analysis as of a date (each site's newest accepted cut on or "
                          "before it) under as-of/<date>/, beside the current publish")
    run.set_defaults(func=cmd_run)

    dev = commands.add_parser(
        "dev", help="start the Dagster UI (dagster dev) with the instance `registry run` uses",
        description="Runs `dagster dev -w workspace.yaml` with DAGSTER_HOME defaulting to the state "
        "folder's `dagster/`; extra arguments go to dagster dev (e.g. -p 3001).",
    )
    dev.add_argument("dagster_args", nargs=argparse.REMAINDER, help="arguments for dagster dev")
    dev.set_defaults(func=cmd_dev)
