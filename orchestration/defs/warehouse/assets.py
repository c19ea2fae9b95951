"""The whole dbt project as Dagster assets; its tests are asset checks.

Each run's dbt artefacts and logs go to a folder of its own under the state
folder (``<state>/dbt/runs/``), of which the newest few are kept; the run reuses
the partial parse of the project's prepared manifest (one for every warehouse).
"""

import datetime as dt
import importlib
import re
import shutil
import threading
from collections.abc import Iterable
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_dbt.dbt_project import using_dagster_dev

from orchestration.dbt_manifest import dbt_vars, prepare_dbt_manifest
from orchestration.defs.warehouse.translator import RegistryDbtTranslator
from orchestration.resources import WAREHOUSE_POOL, dbt_project
from registry.config import RegistryConfig

DBT_PROJECT = dbt_project()
# Runs' dbt folders kept under <state>/dbt/runs (older ones are removed).
KEEP_DBT_RUN_FOLDERS = 5
# Libraries the marts and the publish import where they use them (registry/marts/stats.py,
# disclosure_audit.py, registry/publish/report/figures.py), so that the code location loads
# without them; a run imports them while dbt builds (about 1 s).
LIBRARIES_OF_LATER_STEPS = ("scipy.stats", "scipy.optimize", "matplotlib.figure",
                            "matplotlib.backends.backend_svg")

# Under `dagster dev`, parse the project when the code loads (the manifest defines the
# assets); `registry run`, the tests and CI call prepare_dbt_manifest themselves first.
if using_dagster_dev():
    prepare_dbt_manifest()


def run_folder(registry: RegistryConfig, run_id: str) -> Path:
    """A fresh folder for one dbt invocation's target and logs; prunes the old ones."""
    runs = registry.dbt_state_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    for old in sorted(p for p in runs.iterdir() if p.is_dir())[:-(KEEP_DBT_RUN_FOLDERS - 1) or None]:
        shutil.rmtree(old, ignore_errors=True)
    folder = runs / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{run_id[:8]}"
    folder.mkdir()
    return folder


def dbt_args(command: str, folder: Path, **vars_: object) -> list[str]:
    # dbt's unit tests test the SQL, not the data: pytest runs them (tests/dbt), a build does not.
    args = [command, *dbt_vars(**vars_), "--log-path", str(folder), "--no-use-colors",
            "--exclude-resource-type", "unit_test"]
    parsed = DBT_PROJECT.target_path / "partial_parse.msgpack"
    if parsed.is_file():
        args += ["--partial-parse-file-path", str(parsed)]
    return args


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=RegistryDbtTranslator(),
    pool=WAREHOUSE_POOL,
)
def registry_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, registry: RegistryConfig):
    """`dbt build`: seeds, models and their tests, in dependency order."""
    folder = run_folder(registry, context.run.run_id)
    import_on_the_side(LIBRARIES_OF_LATER_STEPS)
    # The op context: given the asset context, dagster-dbt reads its deprecated
    # `context.op` when it computes the run's dbt selection.
    invocation = dbt.cli(dbt_args("build", folder), target_path=folder,
                         context=context.op_execution_context)
    # Each event goes to Dagster as dbt reports it, so that Dagster stores it on this core
    # while dbt builds on the other. A table's row count comes from dbt's own output (the
    # post-hook `log_row_count`): while dbt runs, its process holds the warehouse file.
    rows: dict[str, int] = {}
    for raw in invocation.stream_raw_events():
        counted = logged_row_count(raw.raw_event)
        if counted is not None:
            rows[counted[0]] = counted[1]
            continue
        unique_id = raw.raw_event["data"].get("node_info", {}).get("unique_id")
        for event in raw.to_default_asset_events(
                manifest=invocation.manifest, dagster_dbt_translator=invocation.dagster_dbt_translator,
                context=invocation.context, target_path=invocation.target_path, project=invocation.project):
            if isinstance(event, dg.Output) and unique_id in rows:
                event = event.with_metadata({**event.metadata, "dagster/row_count": rows[unique_id]})
            yield event


def import_on_the_side(modules: Iterable[str]) -> threading.Thread:
    """Import ``modules`` in a thread of their own: while dbt builds, this process mostly
    waits for dbt's output, so the imports cost the later steps nothing."""
    def run() -> None:
        for name in modules:
            try:
                importlib.import_module(name)
            except Exception:  # noqa: BLE001 - the step that uses the module imports it again and says why
                pass

    thread = threading.Thread(target=run, name="import-on-the-side", daemon=True)
    thread.start()
    return thread


ROW_COUNT_LINE = re.compile(r"row count of (\S+): (\d+)$")


def logged_row_count(raw_event: dict) -> tuple[str, int] | None:
    """(unique id, rows) from the line a table's post-hook logs, else None."""
    if raw_event["info"].get("name") != "JinjaLogInfo":
        return None
    match = ROW_COUNT_LINE.match(raw_event["info"].get("msg", ""))
    return (match.group(1), int(match.group(2))) if match else None
