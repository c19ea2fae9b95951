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
    yield from dbt.cli(["build"], context=context).stream()
