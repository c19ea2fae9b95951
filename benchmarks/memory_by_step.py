"""Where the memory is: the run's process tree sampled while `registry run` works, per step.

    .venv/bin/python benchmarks/memory_by_step.py [--scale 300] [--every 0.25]

Uses (or generates) the inbox of ``benchmarks/run.py`` for the scale, runs `registry run`
from a fresh warehouse, reads the resident memory of every process of its tree from
``/proc`` (Linux) at each interval, then prints, per step that took over half a second,
its time, the run's own process's peak and the largest process seen during it. Timing and
memory never go into the tests.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import time
from pathlib import Path

from run import (  # benchmarks/run.py, beside this script
    BIN,
    DATA,
    run_env,
    sample,
    step_spans,
)

PAGE = os.sysconf("SC_PAGE_SIZE")


def process_tree(root: int) -> dict[int, tuple[int, str]]:
    """pid -> (resident bytes, command) of ``root`` and its descendants."""
    table = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            command = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue  # gone meanwhile
        table[int(entry)] = (int(fields[1]), int(fields[21]) * PAGE, command.strip())
    tree, grew = {root}, True
    while grew:
        grew = False
        for pid, (parent, _, _) in table.items():
            if parent in tree and pid not in tree:
                tree.add(pid)
                grew = True
    return {pid: table[pid][1:] for pid in tree if pid in table}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=300)
    parser.add_argument("--every", type=float, default=0.25, help="seconds between samples")
    args = parser.parse_args()
    sample_dir = sample(args.scale)
    work = DATA / f"memory-{args.scale:g}"
    shutil.rmtree(work, ignore_errors=True)
    samples = []  # (time, run's own process, largest process, its command)
    try:
        process = subprocess.Popen([str(BIN / "registry"), "run", "--plain"], env=run_env(work, sample_dir),
                                   stdout=subprocess.DEVNULL)
        while process.poll() is None:
            tree = process_tree(process.pid)
            if tree:
                largest = max(tree.values())
                samples.append((time.time(), tree.get(process.pid, (0, ""))[0], *largest))
            time.sleep(args.every)
        if process.returncode != 0:
            raise SystemExit(f"registry run failed (exit {process.returncode})")
        print(f"scale {args.scale:g}: step, seconds, the run's process at its peak, the largest process")
        for step, (start, end) in step_spans(work / "dagster_home").items():
            during = [s for s in samples if start <= s[0] <= end]
            if end - start < 0.5 or not during:
                continue
            peak = max(during, key=lambda s: s[2])
            print(f"{step:45s} {end - start:6.1f} s  {max(s[1] for s in during) / 2**30:.2f} GB  "
                  f"{peak[2] / 2**30:.2f} GB ({peak[3][:70]})")
        print(f"whole run: the run's process {max(s[1] for s in samples) / 2**30:.2f} GB, "
              f"largest {max(s[2] for s in samples) / 2**30:.2f} GB")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
