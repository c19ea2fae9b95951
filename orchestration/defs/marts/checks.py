"""Gates on the marts: blocking checks stop the publish, so a bad load never replaces good
published marts. The questions live in ``registry.marts.gates``."""

import dagster as dg

from orchestration.automation import WITH_ITS_ASSET
from orchestration.defs.marts.assets import MART_KEYS
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from registry.config import RegistryConfig
from registry.landing.suggestions import term_suggestions
from registry.marts import audit, gates, read_marts


@dg.asset_check(
    asset=MART_KEYS["cohort_overview"],
    blocking=True,
    pool=WAREHOUSE_POOL,
    automation_condition=WITH_ITS_ASSET,
    description="The cohort holds at least one patient (never publish an empty registry).",
)
def has_patients(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        n = gates.cohort_total(con)
    return dg.AssetCheckResult(passed=n > 0, metadata={"n_patients": n})


@dg.asset_check(
    asset=MART_KEYS["cohort_overview"],
    blocking=True,
    pool=WAREHOUSE_POOL,
    automation_condition=WITH_ITS_ASSET,
    description="The `All` row's patient count equals the star schema's dim_patient.",
)
def total_matches_star(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        mart, star = gates.cohort_total(con), gates.star_patients(con)
    return dg.AssetCheckResult(passed=mart == star,
                               metadata={"mart_all_n_patients": mart, "star_dim_patient": star})


@dg.asset_check(
    asset=MART_KEYS["site_data_quality"],
    blocking=True,
    pool=WAREHOUSE_POOL,
    automation_condition=WITH_ITS_ASSET,
    description="No site's current delivery rejects more than REGISTRY_MAX_REJECTED_SHARE "
    "(default 20%) of its rows; the check lists the deliveries that do.",
)
def rejected_share_below_threshold(registry: RegistryConfig, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    threshold = registry.max_rejected_share
    with warehouse.get_connection() as con:
        over = gates.rejected_shares(con, threshold)
        worst = gates.worst_rejected_share(con)
    return dg.AssetCheckResult(
        passed=not over,
        metadata={"threshold": threshold, "worst_rejected_share": round(worst, 4),
                  "deliveries_over_threshold": dg.MetadataValue.json(over)},
        description=None if not over else "; ".join(
            f"{o['site_id']}/{o['file']} rejected {o['rows_rejected']} of {o['rows_received']} rows"
            for o in over[:5]),
    )


@dg.asset_check(
    asset=MART_KEYS["site_data_quality"],
    pool=WAREHOUSE_POOL,
    automation_condition=WITH_ITS_ASSET,
    description="Every local term of the current deliveries maps to a canonical code (a warning: "
    "unmapped terms count as not reported and are listed with their sites).",
)
def no_unmapped_terms(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        n, terms = gates.n_unmapped_terms(con), gates.unmapped_terms(con)
        suggestions = term_suggestions(con, top=1)
    return dg.AssetCheckResult(
        passed=n == 0,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"distinct_unmapped_terms": n, "terms": dg.MetadataValue.json(terms),
                  # rows ready for term_overrides.csv (`registry mappings suggest` writes them all)
                  "suggestions": dg.MetadataValue.json(suggestions[:50])},
    )


@dg.asset_check(
    asset=MART_KEYS["cancer_types"],
    blocking=True,
    pool=WAREHOUSE_POOL,
    automation_condition=WITH_ITS_ASSET,
    description="The attacker's audit of the marts as they would be published: for every withheld "
    "count, the range the published figures allow (linear programming over every published "
    "relation) must not pin it down. Blocks the publish otherwise.",
)
def no_disclosive_cells(registry: RegistryConfig, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        marts = read_marts(con)
    result = audit(marts, registry.small_cell_max)
    unprotected = result[~result["protected"].astype(bool)] if len(result) else result
    return dg.AssetCheckResult(
        passed=len(unprotected) == 0,
        metadata={"cells_audited": len(result), "disclosive_cells": len(unprotected),
                  "small_cell_max": registry.small_cell_max,
                  "disclosive": dg.MetadataValue.json(unprotected[["cell", "mart", "lower", "upper"]]
                                                      .astype(str).to_dict(orient="records")[:20])},
    )


MART_CHECKS = [has_patients, total_matches_star, rejected_share_below_threshold, no_unmapped_terms,
               no_disclosive_cells]
