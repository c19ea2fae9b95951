"""`registry sample`: a generated inbox, its site master and its truth."""
from __future__ import annotations

import argparse
from pathlib import Path

from registry.config import RegistryConfig


def default_sample_dir(config: RegistryConfig) -> Path | None:
    """The folder holding both the configured inbox and site master, if they share one."""
    inbox, sites = config.path("inbox"), config.path("sites")
    if inbox.name == "inbox" and sites.parent == inbox.parent:
        return inbox.parent
    return None


def cmd_sample(args: argparse.Namespace) -> int:
    from registry.sample import generate

    out = Path(args.out) if args.out else default_sample_dir(RegistryConfig.from_env())
    if out is None:
        print("registry sample: REGISTRY_INBOX and REGISTRY_SITES do not share a folder; pass --out DIR")
        return 2
    if args.if_missing and (out / "inbox").is_dir() and (out / "sites.csv").is_file():
        print(f"Sample inbox already at {out / 'inbox'} (remove it to regenerate).")
        return 0
    faults = {}
    for item in args.fault or []:
        name, _, count = item.partition("=")
        faults[name] = int(count or 1)
    summary = generate(out, scale=args.scale, seed=args.seed, faults=faults or None)
    print(summary)
    return 0


def add_parsers(commands) -> None:
    sample = commands.add_parser(
        "sample", help="write a sample inbox, its site master and its truth",
        description="Writes DIR/inbox/, DIR/sites.csv and DIR/truth/.",
    )
    sample.add_argument("--out", help="target folder (default: the folder of REGISTRY_INBOX and REGISTRY_SITES)")
    sample.add_argument("--scale", type=float, default=1.0, help="multiply patients and sites (default 1)")
    sample.add_argument("--seed", type=int, default=20170731, help="random seed (default 20170731)")
    sample.add_argument(
        "--fault", action="append", metavar="NAME=COUNT",
        help="plant a rejection case (repeatable); see docs/sample-data.md for the names",
    )
    sample.add_argument("--if-missing", action="store_true", help="do nothing when the sample exists")
    sample.set_defaults(func=cmd_sample)
