"""`registry deliveries held|release`, `registry publishes` and `registry mappings suggest`."""
from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from registry.config import RegistryConfig


def cmd_held(args: argparse.Namespace) -> int:
    import pandas as pd

    from registry.cli.inspect import open_warehouse, show
    from registry.landing.cuts import held_deliveries

    with open_warehouse(RegistryConfig.from_env()) as con:
        held = pd.DataFrame(held_deliveries(con, args.site),
                            columns=["site_id", "file_path", "file_name", "data_cut", "reason"])
    show(held.drop(columns="file_name"), "No held delivery.")
    return 0


def cmd_release(args: argparse.Namespace) -> int:
    from registry.cli.pipeline import first_failure, release
    from registry.cli.progress import RunDisplay

    config = RegistryConfig.from_env()
    result = release(config, args.site, args.file, args.by or getpass.getuser(),
                     RunDisplay(sys.stdout, tty=False))
    if not result.success:
        print(f"registry deliveries release failed: {first_failure(result)}", file=sys.stderr)
        return 1
    print(f"Released {args.site} {args.file}. Run `registry run` to rebuild and publish with it "
          "(under `dagster dev`, automation does).")
    return 0


def cmd_publishes(args: argparse.Namespace) -> int:
    from registry.publish import format_publishes, list_publishes

    print(format_publishes(list_publishes(RegistryConfig.from_env().path("publish_dir"))))
    return 0


def cmd_suggest(args: argparse.Namespace) -> int:
    """Ready-to-paste rows for header_overrides.csv and term_overrides.csv, with scores and evidence."""
    import pandas as pd

    from registry.cli.inspect import open_warehouse, show
    from registry.landing.suggestions import (
        HEADER_COLUMNS,
        TERM_COLUMNS,
        header_suggestions,
        term_suggestions,
        write_csv,
    )

    config = RegistryConfig.from_env()
    with open_warehouse(config) as con:
        headers, terms = header_suggestions(con, top=args.top), term_suggestions(con, top=args.top)
    if args.out:
        out = Path(args.out)
        out.mkdir(parents=True, exist_ok=True)
        write_csv(headers, out / "header_overrides.suggested.csv", HEADER_COLUMNS)
        write_csv(terms, out / "term_overrides.suggested.csv", TERM_COLUMNS)
        print(f"{len(headers)} header and {len(terms)} term suggestion rows written to {out} "
              f"(copy the rows you accept into {config.path('mappings')})")
        return 0
    print("Unknown headers (rows for header_overrides.csv):")
    show(pd.DataFrame(headers, columns=list(HEADER_COLUMNS)), "  none")
    print("\nUnmapped terms (rows for term_overrides.csv):")
    show(pd.DataFrame(terms, columns=list(TERM_COLUMNS)), "  none")
    return 0


def add_parsers(commands) -> None:
    deliveries = commands.add_parser("deliveries", help="held deliveries, and their release")
    sub = deliveries.add_subparsers(dest="deliveries_command", required=True, metavar="ACTION")
    held = sub.add_parser("held", help="deliveries held because they would drop patients of the current cut")
    held.add_argument("--site", help="one site only")
    held.set_defaults(func=cmd_held)
    rel = sub.add_parser("release", help="release a held delivery: it becomes the site's current cut",
                         description="Patients may leave a registry (consent withdrawn): a data engineer "
                         "releases the cut that drops them. Recorded with who and when.")
    rel.add_argument("site", help="the site, e.g. DE-001")
    rel.add_argument("file", help="the file name (or SITE/name.xlsx)")
    rel.add_argument("--by", help="who releases it (default: the user name)")
    rel.set_defaults(func=cmd_release)

    pubs = commands.add_parser("publishes", help="every publish kept: current, as-of analyses, history")
    pubs.set_defaults(func=cmd_publishes)

    mappings = commands.add_parser("mappings", help="mapping overrides: suggestions for what is unknown")
    msub = mappings.add_subparsers(dest="mappings_command", required=True, metavar="ACTION")
    suggest = msub.add_parser("suggest", help="candidates for every unknown header and unmapped term of the "
                              "current deliveries, as rows for the override files, with scores and evidence")
    suggest.add_argument("--top", type=int, default=3, help="candidates per unknown (default 3)")
    suggest.add_argument("--out", help="write the rows as CSV files into this folder")
    suggest.set_defaults(func=cmd_suggest)
