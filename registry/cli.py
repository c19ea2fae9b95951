"""The `registry` command: sample data, a full run, and the paper comparison."""
from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

from registry.config import PROJECT_ROOT, Settings

DEFAULT_DAGSTER_HOME = PROJECT_ROOT / ".dagster_home"
INSTANCE_TEMPLATE = PROJECT_ROOT / "orchestration" / "dagster.yaml"
PAPER_TARGETS = PROJECT_ROOT / "docs" / "paper-targets.yaml"


def ensure_dagster_home() -> Path:
    """DAGSTER_HOME (default `.dagster_home/`), so `dagster dev` later shows this run."""
    home = Path(os.environ.setdefault("DAGSTER_HOME", str(DEFAULT_DAGSTER_HOME))).resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(INSTANCE_TEMPLATE, home / "dagster.yaml")
    return home


def default_sample_dir(settings: Settings) -> Path | None:
    """The folder holding both the configured inbox and site master, if they share one."""
    if settings.inbox.name == "inbox" and settings.sites.parent == settings.inbox.parent:
        return settings.inbox.parent
    return None


def cmd_sample(args: argparse.Namespace) -> int:
    from registry.sample import generate

    out = Path(args.out) if args.out else default_sample_dir(Settings.from_env())
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


def run_pipeline(settings: Settings):
    """Materialize every asset over every site, in process, with the UI's definitions."""
    import dagster as dg

    from orchestration.resources import prepare_dbt_manifest

    if not settings.sites.is_file():
        raise SystemExit(f"registry run: site master not found: {settings.sites} (REGISTRY_SITES)")
    if not settings.inbox.is_dir():
        raise SystemExit(f"registry run: inbox not found: {settings.inbox} (REGISTRY_INBOX)")
    # The dbt assets are built from the manifest when their module is imported.
    prepare_dbt_manifest()
    from orchestration.definitions import build_definitions
    from orchestration.defs.landing.partitions import SITE_PARTITIONS
    from orchestration.defs.landing.sensors import known_sites
    from orchestration.defs.operations.jobs import all_sites_tags

    site_ids = sorted(known_sites(settings.sites))
    if not site_ids:
        raise SystemExit(f"registry run: the site master {settings.sites} lists no site")
    ensure_dagster_home()
    instance = dg.DagsterInstance.get()
    known = set(instance.get_dynamic_partitions(SITE_PARTITIONS.name))
    # The master is the list of sites: partitions follow it both ways.
    for stale in sorted(known - set(site_ids)):
        instance.delete_dynamic_partition(SITE_PARTITIONS.name, stale)
    instance.add_dynamic_partitions(SITE_PARTITIONS.name, [s for s in site_ids if s not in known])
    # The range covers every partition in the order they were added.
    partitions = instance.get_dynamic_partitions(SITE_PARTITIONS.name)
    job = build_definitions(settings).resolve_job_def("registry_full_build")
    return job.execute_in_process(
        # Dagster's step-by-step DEBUG events stay in the run log (the UI), not the terminal.
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        instance=instance,
        tags=all_sites_tags(list(partitions)),
        raise_on_error=False,
    )


def first_failure(result) -> str:
    """One line: the failed step and the innermost error's message."""
    for event in result.all_events:
        if event.is_step_failure and event.event_specific_data.error:
            error = event.event_specific_data.error
            while error.cause is not None:
                error = error.cause
            message = " ".join(line.strip() for line in error.message.strip().splitlines()[:4])
            return f"step {event.step_key} failed: {message or 'no message'}"
    return "the run failed (see the Dagster run log)"


def cmd_run(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    result = run_pipeline(settings)
    if not result.success:
        print(f"registry run failed: {first_failure(result)}", file=sys.stderr)
        return 1
    publish = settings.publish_dir
    print(f"Warehouse: {settings.warehouse}")
    print(f"Marts:     {publish / 'marts.duckdb'} (and {publish}/*.parquet, {publish / 'registry_marts.xlsx'})")
    print(f"Report:    {publish / 'report.html'}")
    return 0


def cmd_compare_paper(args: argparse.Namespace) -> int:
    from registry.marts import paper

    publish_dir = Path(args.publish_dir) if args.publish_dir else Settings.from_env().publish_dir
    marts = publish_dir / "marts.duckdb"
    if not marts.is_file():
        print(f"registry compare-paper: no published marts at {marts}; run `registry run` first")
        return 2
    table = paper.compare(marts, Path(args.targets))
    print(paper.format_comparison(table))
    if args.check and not paper.all_match(table):
        return 1
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="registry",
        description="Registry warehouse: site workbooks -> landing -> dbt star -> outcome marts -> publish.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="load the inbox, build the warehouse and publish the marts",
        description="Full load, build and publish for REGISTRY_INBOX / REGISTRY_SITES into "
        "REGISTRY_WAREHOUSE and REGISTRY_PUBLISH_DIR, with the Dagster definitions of the UI.",
    )
    run.set_defaults(func=cmd_run)

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

    compare = commands.add_parser(
        "compare-paper", help="print every paper figure beside the published mart's value",
    )
    compare.add_argument("--publish-dir", help="default: REGISTRY_PUBLISH_DIR")
    compare.add_argument("--targets", default=str(PAPER_TARGETS), help="paper targets YAML")
    compare.add_argument("--check", action="store_true", help="exit 1 when a figure does not match")
    compare.set_defaults(func=cmd_compare_paper)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
