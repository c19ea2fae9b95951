"""`registry compare-paper`: every paper figure beside the published mart's value."""
from __future__ import annotations

import argparse
from pathlib import Path

from registry.config import RegistryConfig


def cmd_compare_paper(args: argparse.Namespace) -> int:
    from registry.marts import paper

    publish_dir = Path(args.publish_dir) if args.publish_dir else RegistryConfig.from_env().path("publish_dir")
    marts = publish_dir / "marts.duckdb"
    if not marts.is_file():
        print(f"registry compare-paper: no published marts at {marts}; run `registry run` first")
        return 2
    table = paper.compare(marts, Path(args.targets) if args.targets else paper.PAPER_TARGETS)
    print(paper.format_comparison(table))
    if args.check and not paper.all_match(table):
        return 1
    return 0


def add_parsers(commands) -> None:
    compare = commands.add_parser(
        "compare-paper", help="print every paper figure beside the published mart's value",
    )
    compare.add_argument("--publish-dir", help="default: REGISTRY_PUBLISH_DIR")
    compare.add_argument("--targets", help="paper targets YAML (default: the package's copy)")
    compare.add_argument("--check", action="store_true", help="exit 1 when a figure does not match")
    compare.set_defaults(func=cmd_compare_paper)
