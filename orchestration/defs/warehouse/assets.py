"""The whole dbt project as Dagster assets; its tests are asset checks."""
import json

import dagster as dg
from dagster_dbt import DbtCliResource, dbt_assets
from dagster_duckdb import DuckDBResource

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
def registry_dbt_models(context: dg.AssetExecutionContext, dbt: DbtCliResource, duckdb: DuckDBResource):
    """`dbt build`: seeds, models and their tests, in dependency order."""
    # The op context: given the asset context, dagster-dbt 0.29 reads its
    # deprecated `context.op` when it computes the run's dbt selection.
    vars_arg = json.dumps({"registry_warehouse": duckdb.database})
    events = list(dbt.cli(["build", "--vars", vars_arg], context=context.op_execution_context).stream())
    # Row counts are read once dbt has exited: while it runs, its process holds
    # the warehouse file (DuckDB admits one writing process).
    with duckdb.get_connection() as con:
        counts = table_row_counts(con)
    for event in events:
        if isinstance(event, dg.Output):
            key = context.assets_def.keys_by_output_name[event.output_name]
            if tuple(key.path) in counts:
                event = event.with_metadata({**event.metadata, "dagster/row_count": counts[tuple(key.path)]})
        yield event


def table_row_counts(con) -> dict[tuple[str, str], int]:
    """(schema, table) -> rows, for the tables dbt builds (views are not counted)."""
    tables = con.execute(
        """
        select schema_name, table_name from duckdb_tables()
        where database_name = current_database() and schema_name not in ('landing', 'marts', 'main')
        """
    ).fetchall()
    if not tables:
        return {}
    union = " union all ".join(
        f"select '{schema}' as s, '{table}' as t, count(*) as n from \"{schema}\".\"{table}\""
        for schema, table in tables
    )
    return {(s, t): int(n) for s, t, n in con.execute(union).fetchall()}
