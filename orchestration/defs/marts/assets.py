"""Outcome marts: the registry's published analysis, computed from the star schema."""

import dagster as dg

from orchestration.metadata import markdown_table
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from registry.config import RegistryConfig
from registry.marts import MART_BUILDERS, MART_DESCRIPTIONS, build_marts, write_marts

STAR_INPUTS = [
    dg.AssetKey(["warehouse", name])
    for name in ("dim_site", "dim_patient", "fct_assessment", "fct_event", "fct_registry_exit",
                 "fct_patient_follow_up")
] + [dg.AssetKey(["dq", name]) for name in ("dq_delivery_summary", "dq_rejections")]

MART_KEYS = {name: dg.AssetKey(["marts", name]) for name in MART_BUILDERS}
# Marts aggregate enough to preview in the asset's metadata (no patient-level rows).
PREVIEW_ROWS = 12
NO_PREVIEW = ("survival",)


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            deps=STAR_INPUTS,
            group_name="marts",
            kinds={"python", "duckdb"},
            owners=["team:analytics"],
            description=MART_DESCRIPTIONS[name],
            automation_condition=dg.AutomationCondition.eager(),
        )
        for name, key in MART_KEYS.items()
    ],
    name="outcome_marts",
    can_subset=False,
    pool=WAREHOUSE_POOL,
)
def outcome_marts(registry: RegistryConfig, warehouse: WarehouseResource):
    """Every mart from the star, stored in the warehouse's `marts` schema in one transaction."""
    with warehouse.get_connection() as con:
        marts = build_marts(con, small_cell_max=registry.small_cell_max)
        write_marts(con, marts)
    for name, key in MART_KEYS.items():
        frame = marts[name]
        metadata = {"dagster/row_count": len(frame)}
        if name not in NO_PREVIEW:
            metadata["preview"] = dg.MetadataValue.md(markdown_table(frame, PREVIEW_ROWS))
        yield dg.MaterializeResult(asset_key=key, metadata=metadata)
