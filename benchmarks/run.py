"""How fast and how big: the registry at scale 1, 10 and 100, against the reading floor.

    .venv/bin/python benchmarks/run.py [--scales 1 10 100] [--repeat N] [--sensor] [--keep]

For each scale it generates (or reuses) the sample inbox under data/benchmarks/, then in
one run of this script measures:

- floor: fastexcel reading every sheet of every workbook as text in one process (warm cache);
- `registry run` from a fresh warehouse: its steps from the Dagster event log (ingest,
  dbt, marts and checks, publish), end to end, the time outside every step, peak RSS
  (largest process of the run's tree);
- incremental: one site's new cut, refreshed and published by `registry run`, with its
  steps (and, with --sensor, by the inbox sensor and automation under `dagster dev`);
- lower bounds, from work no correct run can skip, each measured alone: for ingest, the
  floor and the contract's screen of every workbook before it is expanded (limits.py),
  shared by the machine's cores, plus DuckDB writing the landed rows once; for a new cut,
  loading the code location and one dbt invocation (a single seed), which every run pays
  before it reads a row.

It prints the table and each figure's ratio to its target. With ``--repeat N`` each scale is
measured N times, each from a fresh warehouse, and the table gives the median of each
figure, ratios taken within each repetition (a shared machine's speed drifts by tens of
per cent over minutes). Timing never goes into the tests.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
DATA = ROOT / "data" / "benchmarks"
CORES = os.cpu_count() or 1  # the ingest bound shares reading and screening among them

TARGETS = {  # figure -> (target, how to read it)
    "ingest_vs_floor_100": (1.5, "ingest at scale 100 within 1.5x the floor"),
    "end_to_end_100": (60.0, "end to end at scale 100 under 60 s"),
    "end_to_end_1": (20.0, "end to end at scale 1 under 20 s"),
    "peak_rss_gb_100": (2.0, "peak memory at scale 100 under 2 GB"),
    "incremental_share_100": (0.10, "one site's new cut in under 10% of the full run"),
    "incremental_sensor_share_100": (0.10, "one site's new cut by the sensor under dagster dev in under 10%"),
}
STAGES = {"ingest": ("site_master", "inbox_strays", "site_landing"), "dbt": ("registry_dbt_models",),
          "publish": ("publish__published_marts",)}  # anything else: marts and their checks


# The name of the new cut the benchmark drops into a site's folder and removes afterwards.
CUT_NAME = "benchmark_cut_2099-12-31.xlsx"


def sample(scale: float) -> Path:
    out = DATA / f"scale-{scale:g}"
    # A benchmark killed while its new cut was in the inbox left it there: the sample is
    # measured without it.
    for stale in [*(out / "inbox").glob(f"*/{CUT_NAME}"), out / CUT_NAME]:
        if stale.is_file():
            print(f"removing {stale}, left by an interrupted benchmark", flush=True)
            stale.unlink()
    if not (out / "inbox").is_dir():
        print(f"generating the scale {scale:g} sample in {out} ...", flush=True)
        subprocess.run([str(BIN / "registry"), "sample", "--out", str(out), "--scale", str(scale)], check=True)
    return out


def reading_floor(inbox: Path) -> float:
    """Seconds for fastexcel to read every sheet of every workbook as text (second, warm pass)."""
    code = (
        "import sys, time, fastexcel, pathlib\n"
        "files = sorted(pathlib.Path(sys.argv[1]).rglob('*.xlsx'))\n"
        "def read():\n"
        "    for f in files:\n"
        "        r = fastexcel.read_excel(f.read_bytes())\n"
        "        for name in r.sheet_names:\n"
        "            r.load_sheet(name, header_row=None, dtypes='string').to_arrow()\n"
        "read()\n"
        "t = time.perf_counter(); read(); print(time.perf_counter() - t)\n"
    )
    return seconds_of(code, str(inbox))


def seconds_of(code: str, *args: str) -> float:
    """The seconds a Python snippet prints, run in a fresh interpreter with ``args``."""
    out = subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, check=True, capture_output=True, text=True)
    return float(out.stdout.strip())


def screen_floor(inbox: Path) -> float:
    """Seconds for the contract's screen (``check_workbook``: the zip directory, every part
    inflated in steps, the sheets' rows and cells counted) of every workbook in one process
    (second, warm pass)."""
    code = (
        "import sys, time, pathlib\n"
        "from registry.landing.limits import check_workbook\n"
        "files = sorted(pathlib.Path(sys.argv[1]).rglob('*.xlsx'))\n"
        "def screen():\n"
        "    for f in files:\n"
        "        check_workbook(f.read_bytes())\n"
        "screen()\n"
        "t = time.perf_counter(); screen(); print(time.perf_counter() - t)\n"
    )
    return seconds_of(code, str(inbox))


def landing_write_floor(warehouse: Path, work: Path) -> float:
    """Seconds for DuckDB to write every landing table of ``warehouse`` once into a new file
    (what the one writing process must do at least, whoever reads the workbooks)."""
    code = (
        "import sys, time, duckdb\n"
        "con = duckdb.connect(sys.argv[2])\n"
        "con.execute(f\"ATTACH '{sys.argv[1]}' AS source (READ_ONLY)\")\n"
        "tables = [t for (t,) in con.execute(\"SELECT table_name FROM duckdb_tables() \"\n"
        "          \"WHERE database_name = 'source' AND schema_name = 'landing'\").fetchall()]\n"
        "t = time.perf_counter()\n"
        "for name in tables:\n"
        "    con.execute(f'CREATE TABLE main.\"{name}\" AS SELECT * FROM source.landing.\"{name}\"')\n"
        "con.execute('CHECKPOINT')\n"
        "print(time.perf_counter() - t)\n"
    )
    scratch = work / "landing_write_floor.duckdb"
    try:
        return seconds_of(code, str(warehouse), str(scratch))
    finally:
        scratch.unlink(missing_ok=True)


# A small seed with no tests: one dbt invocation that connects, builds a node and stops.
FLOOR_SEED = "visit_windows"


def best_of(command: list[str], env: dict[str, str], times: int = 3, expect: str = "") -> float:
    """The shortest of ``times`` fresh runs of ``command`` (seconds); its output must hold ``expect``."""
    best = float("inf")
    for _ in range(times):
        start = time.perf_counter()
        done = subprocess.run(command, check=False, cwd=ROOT, env=env, capture_output=True, text=True)
        seconds = time.perf_counter() - start
        if done.returncode != 0 or expect not in done.stdout:
            raise SystemExit(f"{' '.join(command)} failed (exit {done.returncode}):\n{done.stdout[-2000:]}")
        best = min(best, seconds)
    return best


def fixed_costs(env: dict[str, str], work: Path) -> dict[str, float]:
    """What every run pays before it reads a row: loading the code location (each
    `registry run`, and each run Dagster launches, in a fresh process) and one dbt
    invocation with the arguments of a run's build, building a single seed."""
    from orchestration.defs.warehouse.assets import DBT_PROJECT, dbt_args

    folder = work / "dbt_floor"
    dbt = [str(BIN / "dbt"), *dbt_args("build", folder), "--select", FLOOR_SEED,
           "--project-dir", str(DBT_PROJECT.project_dir), "--profiles-dir", str(DBT_PROJECT.profiles_dir),
           "--target-path", str(folder)]
    return {"code_location": best_of([sys.executable, "-c", "import orchestration.definitions"], env),
            "dbt_invocation": best_of(dbt, {**env, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"}, expect="TOTAL=1")}


def run_env(work: Path, sample_dir: Path) -> dict[str, str]:
    return {**os.environ, "REGISTRY_INBOX": str(sample_dir / "inbox"), "REGISTRY_SITES": str(sample_dir / "sites.csv"),
            "REGISTRY_WAREHOUSE": str(work / "warehouse" / "registry.duckdb"),
            "REGISTRY_PUBLISH_DIR": str(work / "publish"), "REGISTRY_PSEUDONYM_KEY": "benchmark-key",
            "DAGSTER_HOME": str(work / "dagster_home")}


def timed(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS in GB of the largest process of the command's tree)."""
    code = ("import resource, subprocess, sys, time\n"
            "t = time.perf_counter()\n"
            "done = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL)\n"
            "print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, done.returncode)\n")
    # In a process group of its own: a benchmark stopped midway stops the run's whole tree
    # (the command, its dbt and its workers) rather than leaving it writing to the warehouse.
    process = subprocess.Popen([sys.executable, "-c", code, *command], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        stdout, stderr = process.communicate()
    except BaseException:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        raise
    if process.returncode != 0:
        raise SystemExit(f"timing {' '.join(command)} failed (exit {process.returncode}):\n{stderr[-2000:]}")
    seconds, rss_kb, returncode = stdout.split()
    if int(returncode) != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {returncode})")
    return float(seconds), int(rss_kb) / 1024 / 1024


def step_spans(dagster_home: Path) -> dict[str, tuple[float, float]]:
    """(start, end) timestamps of each step of the latest run, from its STEP_START and
    STEP_SUCCESS/STEP_FAILURE events."""
    import dagster as dg

    starts: dict[str, float] = {}
    spans: dict[str, tuple[float, float]] = {}
    with dg.DagsterInstance.from_config(str(dagster_home)) as instance:
        run = instance.get_runs(limit=1)[0]
        for record in instance.get_records_for_run(run.run_id, limit=1_000_000).records:
            event = record.event_log_entry.dagster_event
            if event is None or not event.step_key:
                continue
            if event.event_type_value == "STEP_START":
                starts[event.step_key] = record.event_log_entry.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in starts:
                spans[event.step_key] = (starts[event.step_key], record.event_log_entry.timestamp)
    return spans


def step_times(dagster_home: Path) -> dict[str, float]:
    """Seconds per stage of the latest run (``STAGES``; anything else is marts and checks)."""
    out = {"ingest": 0.0, "dbt": 0.0, "marts": 0.0, "publish": 0.0}
    for step, (start, end) in step_spans(dagster_home).items():
        stage = next((s for s, prefixes in STAGES.items() if step.startswith(prefixes)), "marts")
        out[stage] += end - start
    return out


def new_cut_of_one_site(sample_dir: Path) -> Path:
    """A later cut of the first site: its current workbook plus a note row (same patients)."""
    import openpyxl

    site = sorted(p for p in (sample_dir / "inbox").iterdir() if p.is_dir())[0]
    current = sorted(site.glob("*.xlsx"))[-1]
    workbook = openpyxl.load_workbook(current)
    workbook.worksheets[0].append(["Total: benchmark cut"])
    target = site / CUT_NAME
    staged = sample_dir / target.name  # outside the inbox, then moved in whole: one sensor tick sees it
    workbook.save(staged)
    os.replace(staged, target)
    return target


def wait_until_idle(dagster_home: str, quiet_seconds: float = 45, timeout: float = 900) -> None:
    """Until no run has been queued or in progress for ``quiet_seconds``."""
    import dagster as dg

    busy = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
            dg.DagsterRunStatus.STARTED]
    start = quiet_since = time.perf_counter()
    with dg.DagsterInstance.from_config(dagster_home) as instance:
        while time.perf_counter() - quiet_since < quiet_seconds:
            if instance.get_run_records(filters=dg.RunsFilter(statuses=busy), limit=1):
                quiet_since = time.perf_counter()
            if time.perf_counter() - start > timeout:
                raise SystemExit("dagster dev did not settle within 15 minutes")
            time.sleep(1)


def sensor_refresh(env: dict[str, str], sample_dir: Path, work: Path) -> float:
    """Seconds from dropping one site's new cut into the inbox under `dagster dev` until the
    publish shows it (sensor, automation, publish)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]

    def reset():
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)

    log = open(work / "dagster_dev.log", "wb")  # noqa: SIM115
    process = subprocess.Popen([str(BIN / "dagster"), "dev", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)],
                               cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=reset,
                               start_new_session=True)
    manifest = work / "publish" / "manifest.json"
    try:
        for _ in range(180):
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=2)
                break
            except OSError:
                time.sleep(1)
        # The sensors' first ticks settle on the inbox as it is (a fresh `dagster dev` has no
        # sensor cursor: its first tick loads every country once); the cut is dropped when idle.
        wait_until_idle(env["DAGSTER_HOME"])
        before = json.loads(manifest.read_text())["publish_id"]
        cut = new_cut_of_one_site(sample_dir)
        start = time.perf_counter()
        try:
            while json.loads(manifest.read_text())["publish_id"] == before:
                if time.perf_counter() - start > 900:
                    raise SystemExit("the sensor did not publish the new cut within 15 minutes")
                time.sleep(0.5)
            return time.perf_counter() - start
        finally:
            cut.unlink()
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=60)


def measure(scale: float, with_sensor: bool, keep: bool) -> dict[str, float]:
    sample_dir = sample(scale)
    work = DATA / f"run-{scale:g}"
    shutil.rmtree(work, ignore_errors=True)
    env = run_env(work, sample_dir)
    figures: dict[str, float] = {"scale": scale}
    n_files = sum(1 for _ in (sample_dir / "inbox").rglob("*.xlsx"))
    figures["files"] = n_files
    figures["floor"] = reading_floor(sample_dir / "inbox")
    figures["end_to_end"], figures["peak_rss_gb"] = timed([str(BIN / "registry"), "run", "--plain"], env)
    figures.update(step_times(work / "dagster_home"))
    figures["outside_steps"] = figures["end_to_end"] - sum(figures[s] for s in ("ingest", "dbt", "marts", "publish"))
    cut = new_cut_of_one_site(sample_dir)
    try:
        figures["incremental"], _ = timed([str(BIN / "registry"), "run", "--plain"], env)
    finally:
        cut.unlink()
    cut_steps = step_times(work / "dagster_home")
    figures.update({f"cut_{stage}": seconds for stage, seconds in cut_steps.items()})
    figures["cut_outside_steps"] = figures["incremental"] - sum(cut_steps.values())
    figures["screen"] = screen_floor(sample_dir / "inbox")
    figures["landing_write"] = landing_write_floor(work / "warehouse" / "registry.duckdb", work)
    figures.update(fixed_costs(env, work))
    if with_sensor:
        subprocess.run([str(BIN / "registry"), "run", "--plain"], env=env, check=True, stdout=subprocess.DEVNULL)
        figures["incremental_sensor"] = sensor_refresh(env, sample_dir, work)
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return figures


def with_ratios(figures: dict[str, float]) -> dict[str, float]:
    """The figures of one measurement and its ratios, taken within it."""
    ingest_bound = (figures["floor"] + figures["screen"]) / CORES + figures["landing_write"]
    cut_bound = figures["code_location"] + figures["dbt_invocation"]
    out = {**figures, "ingest_vs_floor": figures["ingest"] / figures["floor"],
           "incremental_share": figures["incremental"] / figures["end_to_end"],
           "ingest_bound": ingest_bound, "ingest_bound_vs_floor": ingest_bound / figures["floor"],
           "incremental_bound": cut_bound, "incremental_bound_share": cut_bound / figures["end_to_end"]}
    if "incremental_sensor" in figures:
        out["incremental_sensor_share"] = figures["incremental_sensor"] / figures["end_to_end"]
    return out


def median_of(repeats: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over the repetitions, and the range of the end to end time."""
    out = {key: statistics.median(r[key] for r in repeats) for key in repeats[0]}
    out["repeats"] = len(repeats)
    out["end_to_end_range"] = (min(r["end_to_end"] for r in repeats), max(r["end_to_end"] for r in repeats))
    return out


def report(rows: list[dict[str, float]]) -> str:
    columns = ["scale", "files", "floor", "ingest", "dbt", "marts", "publish", "outside_steps", "end_to_end",
               "peak_rss_gb", "incremental", "incremental_sensor"]
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        lines.append("| " + " | ".join(
            "-" if c not in row else (f"{row[c]:g}" if c in ("scale", "files") else f"{row[c]:.2f}")
            for c in columns) + " |")
    by_scale = {row["scale"]: row for row in rows}
    lines.append("")
    checks = []
    if 100 in by_scale:
        r = by_scale[100]
        checks += [("ingest_vs_floor_100", r["ingest_vs_floor"]), ("end_to_end_100", r["end_to_end"]),
                   ("peak_rss_gb_100", r["peak_rss_gb"]), ("incremental_share_100", r["incremental_share"])]
        if "incremental_sensor_share" in r:
            checks.append(("incremental_sensor_share_100", r["incremental_sensor_share"]))
    if 1 in by_scale:
        checks.append(("end_to_end_1", by_scale[1]["end_to_end"]))
    for name, value in checks:
        target, words = TARGETS[name]
        verdict = "met" if value <= target else "NOT met"
        lines.append(f"{words}: {value:.3g} (ratio to target {value / target:.2f}, {verdict})")
    lines.append("")
    lines.append("| scale | screen | landing write | ingest lower bound (x floor) | code location | dbt invocation "
                 "| new cut lower bound (share of full run) | new cut: ingest, dbt, marts, publish, outside |")
    lines.append("|" + "---|" * 8)
    for row in rows:
        cut_steps = ", ".join(f"{row[f'cut_{s}']:.2f}" for s in ("ingest", "dbt", "marts", "publish", "outside_steps"))
        lines.append(f"| {row['scale']:g} | {row['screen']:.2f} | {row['landing_write']:.2f} "
                     f"| {row['ingest_bound']:.2f} ({row['ingest_bound_vs_floor']:.2f}x) | {row['code_location']:.2f} "
                     f"| {row['dbt_invocation']:.2f} | {row['incremental_bound']:.2f} "
                     f"({100 * row['incremental_bound_share']:.0f}%) | {cut_steps} |")
    lines.append(f"(ingest lower bound: floor and screen shared by {CORES} cores, plus the landing write; "
                 "new cut lower bound: code location plus one dbt invocation)")
    if 100 in by_scale:
        r = by_scale[100]
        for name, bound in (("ingest_vs_floor_100", r["ingest_bound_vs_floor"]),
                            ("incremental_share_100", r["incremental_bound_share"])):
            target, words = TARGETS[name]
            verdict = ("the target leaves room for the rest of the work" if bound < target
                       else "that work alone is over the target")
            lines.append(f"{words}: lower bound {bound:.3g} (ratio to target {bound / target:.2f}: {verdict})")
    for row in rows:
        low, high = row["end_to_end_range"]
        lines.append(f"scale {row['scale']:g}: ingest / floor = {row['ingest_vs_floor']:.2f}, "
                     f"incremental / full run = {row['incremental_share']:.3f}"
                     + (f" (medians of {row['repeats']} runs; end to end from {low:.1f} to {high:.1f} s)"
                        if row["repeats"] > 1 else ""))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scales", nargs="+", type=float, default=[1, 10, 100])
    parser.add_argument("--sensor", action="store_true", help="also time the sensor path under dagster dev")
    parser.add_argument("--repeat", type=int, default=1, help="measurements per scale (their medians are shown)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark warehouses")
    args = parser.parse_args()
    # Killed (SIGTERM), the script still removes its new cut and stops `dagster dev`.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))
    rows = []
    for scale in args.scales:
        repeats = []
        for _ in range(max(args.repeat, 1)):
            repeats.append(with_ratios(measure(scale, args.sensor, args.keep)))
            print(json.dumps(repeats[-1]), flush=True)
        rows.append(median_of(repeats))
    print(report(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
