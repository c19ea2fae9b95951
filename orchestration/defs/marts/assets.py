"""Outcome marts: the registry's published analysis, computed from the star schema."""

import os

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.metadata import markdown_table
from orchestration.resources import WAREHOUSE_POOL
from registry.marts import (
    MART_BUILDERS,
    MART_DESCRIPTIONS,
    build_marts,
    write_marts,
)

STAR_INPUTS = [
    dg.AssetKey(["warehouse", name])
    for name in (
        "dim_site",
        "dim_patient",
        "fct_assessment",
        "fct_event",
        "fct_registry_exit",
        "fct_patient_follow_up",
    )
] + [dg.AssetKey(["dq", "dq_delivery_summary"])]

MART_KEYS = {name: dg.AssetKey(["marts", name]) for name in MART_BUILDERS}
# Marts small enough, and aggregate enough, to preview in the asset's metadata.
PREVIEW_ROWS = 12

# A site's current delivery may reject at most this share of its rows before the
# publish is blocked (a bad delivery must not replace good published marts).
MAX_REJECTED_SHARE_VAR = "REGISTRY_MAX_REJECTED_SHARE"
DEFAULT_MAX_REJECTED_SHARE = 0.2


def max_rejected_share() -> float:
    return float(os.environ.get(MAX_REJECTED_SHARE_VAR, DEFAULT_MAX_REJECTED_SHARE))


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            deps=STAR_INPUTS,
            group_name="marts",
            kinds={"python", "duckdb"},
            owners=["team:analytics"],
            description=MART_DESCRIPTIONS.get(name, f"Outcome mart `{name}`."),
            automation_condition=dg.AutomationCondition.eager(),
        )
        for name, key in MART_KEYS.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "has_patients",
            asset=MART_KEYS["cohort_overview"],
            blocking=True,
            description="The cohort holds at least one patient (never publish an empty registry).",
        ),
        dg.AssetCheckSpec(
            "total_matches_star",
            asset=MART_KEYS["cohort_overview"],
            blocking=True,
            description="The `All` row's patient count equals the star schema's dim_patient.",
        ),
        dg.AssetCheckSpec(
            "rejected_share_below_threshold",
            asset=MART_KEYS["site_data_quality"],
            blocking=True,
            description=f"No site's current delivery rejects more than {MAX_REJECTED_SHARE_VAR} "
            f"(default {DEFAULT_MAX_REJECTED_SHARE:.0%}) of its rows.",
        ),
        dg.AssetCheckSpec(
            "no_unmapped_terms",
            asset=MART_KEYS["site_data_quality"],
            description="Every local term of the current deliveries maps to a canonical code "
            "(a warning: unmapped terms are kept and listed in dq.dq_unmapped_terms).",
        ),
    ],
    name="outcome_marts",
    can_subset=False,
    pool=WAREHOUSE_POOL,
)
def outcome_marts(context: dg.AssetExecutionContext, duckdb: DuckDBResource):
    with duckdb.get_connection() as con:
        marts = build_marts(con)
        write_marts(con, marts)
        n_star = con.execute("select count(*) from warehouse.dim_patient").fetchone()[0]
        worst = con.execute(
            """
            select site_id, file_name, rows_rejected, rows_received,
                   rows_rejected / nullif(rows_received, 0) as share
            from dq.dq_delivery_summary where status = 'current'
            order by share desc nulls last limit 1
            """
        ).fetchone()
        n_unmapped = con.execute("select count(*) from dq.dq_unmapped_terms").fetchone()[0]

    for name, key in MART_KEYS.items():
        frame = marts[name]
        metadata = {"dagster/row_count": len(frame)}
        if name != "survival":
            metadata["preview"] = dg.MetadataValue.md(markdown_table(frame, PREVIEW_ROWS))
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)

    all_row = marts["cohort_overview"].query("region == 'All'")
    n_mart = int(all_row["n_patients"].iloc[0]) if len(all_row) else 0
    yield dg.AssetCheckResult(
        check_name="has_patients",
        asset_key=MART_KEYS["cohort_overview"],
        passed=n_mart > 0,
        metadata={"n_patients": n_mart},
    )
    yield dg.AssetCheckResult(
        check_name="total_matches_star",
        asset_key=MART_KEYS["cohort_overview"],
        passed=n_mart == n_star,
        metadata={"mart_all_n_patients": n_mart, "star_dim_patient": int(n_star)},
    )
    share = float(worst[4] or 0.0) if worst else 0.0
    yield dg.AssetCheckResult(
        check_name="rejected_share_below_threshold",
        asset_key=MART_KEYS["site_data_quality"],
        passed=share <= max_rejected_share(),
        metadata={
            "worst_delivery": f"{worst[0]}/{worst[1]}" if worst else "none",
            "worst_rejected_share": round(share, 4),
            "threshold": max_rejected_share(),
        },
        description=None
        if share <= max_rejected_share()
        else f"{worst[0]}/{worst[1]} rejected {worst[2]} of {worst[3]} rows",
    )
    yield dg.AssetCheckResult(
        check_name="no_unmapped_terms",
        asset_key=MART_KEYS["site_data_quality"],
        passed=n_unmapped == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"distinct_unmapped_terms": int(n_unmapped)},
    )
