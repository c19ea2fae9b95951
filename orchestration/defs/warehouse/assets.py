"""The whole dbt project as Dagster assets; its tests are asset checks.

Each run's dbt artefacts and logs go to a folder of its own under the state
folder (``<state>/dbt/runs/``), of which the newest few are kept; the run reuses
the partial parse of the project's prepared manifest.
"""

import datetime as dt
import shutil
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_dbt.dbt_project import using_dagster_dev

from orchestration.dbt_manifest import dbt_vars, prepare_dbt_manifest
from orchestration.defs.warehouse.translator import RegistryDbtTranslator
from orchestration.resources import (
    CONFIG,
    WAREHOUSE_POOL,
    WarehouseResource,
    dbt_project,
)
from registry.config import RegistryConfig
from registry.warehouse import table_row_counts

DBT_PROJECT = dbt_project(CONFIG)
# Runs' dbt folders kept under <state>/dbt/runs (older ones are removed).
KEEP_DBT_RUN_FOLDERS = 5

# Under `dagster dev`, parse the project when the code loads (the manifest defines the
# assets); `registry run`, the tests and CI call prepare_dbt_manifest themselves first.
if using_dagster_dev():
    prepare_dbt_manifest(CONFIG)


def run_folder(registry: RegistryConfig, run_id: str) -> Path:
    """A fresh folder for one dbt invocation's target and logs; prunes the old ones."""
    runs = registry.dbt_state_dir / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    for old in sorted(p for p in runs.iterdir() if p.is_dir())[:-(KEEP_DBT_RUN_FOLDERS - 1) or None]:
        shutil.rmtree(old, ignore_errors=True)
    folder = runs / f"{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{run_id[:8]}"
    folder.mkdir()
    return folder


def dbt_args(registry: RegistryConfig, command: str, folder: Path, **vars_: object) -> list[str]:
    # dbt's unit tests test the SQL, not the data: pytest runs them (tests/dbt), a build does not.
    args = [command, "--vars", dbt_vars(registry.warehouse, **vars_), "--log-path", str(folder), "--no-use-colors",
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
def registry_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource,
                        registry: RegistryConfig, warehouse: WarehouseResource):
    """`dbt build`: seeds, models and their tests, in dependency order."""
    folder = run_folder(registry, context.run.run_id)
    # The op context: given the asset context, dagster-dbt reads its deprecated
    # `context.op` when it computes the run's dbt selection.
    events = list(dbt.cli(dbt_args(registry, "build", folder), target_path=folder,
                          context=context.op_execution_context).stream())
    # Row counts are read once dbt has exited: while it runs, its process holds
    # the warehouse file (DuckDB admits one writing process).
    with warehouse.get_connection() as con:
        counts = table_row_counts(con, exclude_schemas=("landing", "marts", "main"))
    for event in events:
        if isinstance(event, dg.Output):
            key = context.assets_def.keys_by_output_name[event.output_name]
            if tuple(key.path) in counts:
                event = event.with_metadata({**event.metadata, "dagster/row_count": counts[tuple(key.path)]})
        yield event
