"""The whole dbt project as Dagster assets; its tests are asset checks."""

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets

from orchestration.defs.warehouse.translator import RegistryDbtTranslator
from orchestration.resources import DBT_PROJECT, WAREHOUSE_POOL

# Under `dagster dev` this runs `dbt parse` when the project changed; tests, CI and
# `registry run` parse explicitly before importing this module.
DBT_PROJECT.prepare_if_dev()


@dbt_assets(
    manifest=DBT_PROJECT.manifest_path,
    project=DBT_PROJECT,
    dagster_dbt_translator=RegistryDbtTranslator(),
    pool=WAREHOUSE_POOL,
)
def registry_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource):
    """`dbt build`: seeds, models and their tests, in dependency order."""
    # The op context: given the asset context, dagster-dbt 0.29 reads its
    # deprecated `context.op` when it computes the run's dbt selection.
    yield from dbt.cli(["build"], context=context.op_execution_context).stream()
