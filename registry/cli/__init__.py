"""The `registry` command: one module per group of subcommands, each adding its parsers."""
from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version

from registry.cli import deliveries, inspect, paper, run, sample

COMMAND_MODULES = (run, inspect, deliveries, sample, paper)


def package_version() -> str:
    try:
        return version("itdd-registry")
    except PackageNotFoundError:  # running from a checkout that is not installed
        return "unknown"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="registry",
        description="Registry warehouse: site workbooks -> landing -> dbt star -> outcome marts -> publish. "
        "Configuration: the REGISTRY_* environment variables (README, Configuration).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in COMMAND_MODULES:
        module.add_parsers(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
