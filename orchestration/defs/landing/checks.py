"""Checks of the landing zone over every site's current state; the questions live in
``registry.landing.quality``. Metadata lists the offending sites, files and headers,
never a patient value."""

import dagster as dg

from orchestration.automation import WITH_ITS_ASSET
from orchestration.defs.landing.assets import PATIENTS, SITE_LOAD_KEYS
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from registry.landing import quality

# A site whose current delivery has more unknown headers than this share is worth a look.
MAX_UNKNOWN_HEADER_SHARE = 0.25


@dg.asset_check(
    asset=SITE_LOAD_KEYS["deliveries"],
    description="No site has a file rejected for its structure (no Patients sheet, a required "
    "column missing or claimed twice) that is newer than its current delivery.",
    pool=WAREHOUSE_POOL,
    automation_condition=WITH_ITS_ASSET,
)
def required_columns_found(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        rejected = quality.unresolved_structure_rejections(con)
    return dg.AssetCheckResult(
        passed=not rejected,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"rejected_files": dg.MetadataValue.json(rejected)},
        description=None if not rejected else "; ".join(f"{r['file']}: {r['reason']}" for r in rejected[:5]),
    )


@dg.asset_check(
    asset=PATIENTS,
    description="No patient (pseudonymised patient ref) appears twice in a site's current delivery.",
    pool=WAREHOUSE_POOL,
    automation_condition=WITH_ITS_ASSET,
)
def no_duplicate_patients(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        duplicated = quality.duplicated_patient_keys(con)
    return dg.AssetCheckResult(
        passed=not duplicated,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={"duplicated_keys_by_site": dg.MetadataValue.json(duplicated)},
    )


@dg.asset_check(
    asset=SITE_LOAD_KEYS["sheet_loads"],
    description=f"In every site's current delivery, fewer than {MAX_UNKNOWN_HEADER_SHARE:.0%} of the "
    "column headers are unknown to the dictionaries (a warning: unknown columns are listed with "
    "suggestions, never loaded).",
    pool=WAREHOUSE_POOL,
    automation_condition=WITH_ITS_ASSET,
)
def unmapped_header_share(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        shares = quality.unknown_header_shares(con)
    worst = max((v["share"] for v in shares.values()), default=0.0)
    return dg.AssetCheckResult(
        passed=worst < MAX_UNKNOWN_HEADER_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "worst_site_share": float(round(worst, 4)),
            "unknown_headers_by_site": dg.MetadataValue.json(
                {site: v["headers"] for site, v in shares.items() if v["headers"]}),
        },
    )


LANDING_CHECKS = [required_columns_found, no_duplicate_patients, unmapped_header_share]
