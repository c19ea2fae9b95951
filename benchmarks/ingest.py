"""The landing alone, without Dagster: registration and loading of a sample inbox.

    .venv/bin/python benchmarks/ingest.py [--scale 100] [--workers 2 1]

Uses (or generates) the inbox of ``benchmarks/run.py`` for the scale, then for each
number of workers registers every file (``register_inbox``, with the archive) and loads
them (``load_sites``) into a fresh warehouse, and prints the seconds of each and the
load's ratio to the reading floor measured in the same run. Timing never goes into the
tests.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from run import reading_floor, sample  # benchmarks/run.py, beside this script


def load_once(sample_dir: Path, workers: int) -> tuple[float, float]:
    """(seconds registering, seconds loading) into a fresh warehouse and archive."""
    from registry import landing
    from registry import warehouse as warehouse_db

    work = Path(tempfile.mkdtemp(prefix="ingest-benchmark-"))
    try:
        with warehouse_db.connect(work / "registry.duckdb") as con:
            landing.load_site_master(con, sample_dir / "sites.csv")
            started = time.perf_counter()
            landing.register_inbox(con, sample_dir / "inbox", "benchmark", archive=work / "archive")
            registered = time.perf_counter()
            landing.load_sites(con, inbox=sample_dir / "inbox", load_id="benchmark", pseudonym_key="benchmark-key",
                               archive=work / "archive", workers=workers)
            return registered - started, time.perf_counter() - registered
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=100)
    parser.add_argument("--workers", type=int, nargs="+", default=[2, 1])
    args = parser.parse_args()
    sample_dir = sample(args.scale)
    floor = reading_floor(sample_dir / "inbox")
    print(f"scale {args.scale:g}: floor {floor:.2f} s")
    for workers in args.workers:
        register, load = load_once(sample_dir, workers)
        print(f"workers {workers}: register {register:.2f} s, load {load:.2f} s, "
              f"register + load / floor = {(register + load) / floor:.1f}")
    return 0


if __name__ == "__main__":  # worker processes import this module: nothing runs on import
    raise SystemExit(main())
