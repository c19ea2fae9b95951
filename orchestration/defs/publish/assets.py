"""Publish: marts.duckdb, Parquet, Excel and the HTML report, swapped in atomically."""

import datetime as dt
import subprocess

import dagster as dg

from orchestration.defs.marts.assets import MART_KEYS
from orchestration.defs.publish.gate import blocking_checks_upstream, unmet_checks
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from registry import publish
from registry.config import PROJECT_ROOT, RegistryConfig
from registry.marts import paper, read_marts

PUBLISHED = dg.AssetKey(["publish", "published_marts"])


def git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=5, check=True,
        )
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def read_provenance(con, run_id: str) -> dict:
    deliveries = con.execute(
        """
        select site_id, file_name, cast(data_cut as varchar) as data_cut, status, load_id
        from landing.deliveries where status in ('current', 'superseded', 'rejected', 'duplicate')
        order by site_id, data_cut, file_name
        """
    ).fetchdf()
    data_cut = con.execute(
        "select cast(max(data_cut) as varchar) from landing.deliveries where status = 'current'"
    ).fetchone()[0]
    return {
        "data_cut": data_cut,
        "load_id": run_id,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "load_ids": sorted(set(deliveries.loc[deliveries["status"] == "current", "load_id"].dropna())),
        "deliveries": deliveries.drop(columns=["load_id"]).to_dict(orient="records"),
        "git_revision": git_revision(),
    }


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
    "main, opened read-only by analysts), one Parquet file per mart, registry_marts.xlsx and "
    "report.html. Files are built aside and renamed into place, so a reader sees the previous "
    "publish or this one, never a mix. Refuses to publish unless every blocking check upstream "
    "(dbt tests, mart gates) ran and passed against the latest data.",
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
    publish_dir = registry.path("publish_dir")
    with warehouse.get_connection() as con:
        marts = read_marts(con)
        provenance = read_provenance(con, context.run.run_id)
    # The report shows the paper's figures beside the marts' (registry compare-paper).
    comparison = paper.compare(marts)
    result = publish.publish(marts, publish_dir, provenance, comparison=comparison)
    context.log.info(f"Published {len(marts)} marts to {publish_dir} ({len(checks)} blocking checks passed)")
    return dg.MaterializeResult(
        metadata={
            "blocking_checks_passed": len(checks),
            "publish_dir": dg.MetadataValue.path(str(publish_dir)),
            "marts_duckdb": dg.MetadataValue.path(str(result.marts_duckdb)),
            "report": dg.MetadataValue.path(str(result.report)),
            "paper_figures_matching": f"{int(comparison['matches'].eq(True).sum())} of {len(comparison)}",
            "publish_id": result.publish_id,
            "data_cut": provenance["data_cut"] or "",
            "marts": dg.MetadataValue.json({name: len(frame) for name, frame in marts.items()}),
        }
    )
