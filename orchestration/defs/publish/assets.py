"""Publish: marts.duckdb, Parquet, Excel, the HTML report and the site feedback workbooks,
switched in at once, after the gate."""

import subprocess
from functools import cache

import dagster as dg

from orchestration.defs.marts.assets import MART_KEYS
from orchestration.defs.publish.gate import blocking_checks_upstream, unmet_checks
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from registry import publish
from registry.config import PROJECT_ROOT, RegistryConfig
from registry.marts import paper, read_marts

PUBLISHED = dg.AssetKey(["publish", "published_marts"])


@cache
def code_revision() -> str | None:
    """The checkout's git revision, when there is one (recorded with each publish)."""
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=PROJECT_ROOT,
                             capture_output=True, text=True, timeout=5, check=True)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def publish_from_warehouse(con, registry: RegistryConfig, load_id: str, *, marts=None, as_of=None):
    """Publish ``marts`` (default: those stored in the warehouse) with what the publish shows
    beside them, read from the warehouse."""
    marts = read_marts(con) if marts is None else marts
    return publish.publish(
        marts, registry.path("publish_dir"),
        publish.provenance_from_warehouse(con, load_id, code_revision=code_revision()),
        # the report shows the paper's figures beside the marts' (registry compare-paper)
        comparison=paper.compare(marts),
        small_cell_max=registry.small_cell_max,
        follow_up=publish.follow_up_from_warehouse(con),
        site_feedback=publish.site_feedback_from_warehouse(con),
        as_of=as_of,
        workers=registry.workers,
    )


@dg.asset(
    key=PUBLISHED,
    deps=list(MART_KEYS.values()),
    group_name="publish",
    kinds={"python", "duckdb", "parquet", "excel", "html"},
    owners=["team:analytics"],
    pool=WAREHOUSE_POOL,
    automation_condition=dg.AutomationCondition.eager()
    & dg.AutomationCondition.all_deps_blocking_checks_passed(),
    description="The outcome marts published to REGISTRY_PUBLISH_DIR: marts.duckdb (schema "
    "main, opened read-only by analysts), one Parquet file per mart, registry_marts.xlsx, "
    "report.html and a feedback workbook per site in its language. Every publish is kept under "
    "history/; the current one is switched in at once, so a reader sees the previous publish or "
    "this one, never a mix. Refuses to publish unless every blocking check upstream (dbt "
    "tests, landing and mart gates, the disclosure audit) ran and passed against the latest data.",
)
def published_marts(
    context: dg.AssetExecutionContext, registry: RegistryConfig, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    checks = blocking_checks_upstream(context.job_def.asset_layer.asset_graph, PUBLISHED)
    unmet = unmet_checks(context.instance, checks)
    if unmet:
        raise dg.Failure(
            description=f"Not published: {len(unmet)} of {len(checks)} blocking checks have not passed "
            "against the data to publish; the previous publish stays. " + "; ".join(unmet[:10]),
            metadata={"unmet_checks": dg.MetadataValue.json(unmet)},
        )
    with warehouse.get_connection() as con:
        result = publish_from_warehouse(con, registry, context.run.run_id)
    context.log.info(f"Published {len(result.row_counts)} marts to {result.location} "
                     f"({len(checks)} blocking checks passed)")
    return dg.MaterializeResult(
        metadata={
            "blocking_checks_passed": len(checks),
            "publish_dir": dg.MetadataValue.path(str(result.location)),
            "marts_duckdb": dg.MetadataValue.path(str(result.marts_duckdb)),
            "report": dg.MetadataValue.path(str(result.report)),
            "history": dg.MetadataValue.path(str(result.history_dir)),
            "publish_id": result.publish_id,
            "site_feedback_workbooks": len(result.site_feedback),
            "marts": dg.MetadataValue.json(result.row_counts),
        }
    )
