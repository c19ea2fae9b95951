"""Checks of the landing zone over every site's current state; the questions live in
``registry.landing.quality``. Metadata lists the offending sites, files and headers,
never a patient value."""

import dagster as dg

from orchestration.automation import WITH_ITS_ASSET
from orchestration.defs.landing.assets import PATIENTS, SITE_LOAD_KEYS
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from registry.config import RegistryConfig
from registry.landing import quality
from registry.landing.cuts import held_deliveries
from registry.landing.suggestions import header_suggestions

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
        suggestions = header_suggestions(con, top=1)
    worst = max((v["share"] for v in shares.values()), default=0.0)
    return dg.AssetCheckResult(
        passed=worst < MAX_UNKNOWN_HEADER_SHARE,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "worst_site_share": float(round(worst, 4)),
            "unknown_headers_by_site": dg.MetadataValue.json(
                {site: v["headers"] for site, v in shares.items() if v["headers"]}),
            # rows ready for header_overrides.csv (`registry mappings suggest` writes them all)
            "suggestions": dg.MetadataValue.json(suggestions[:50]),
        },
    )


@dg.asset_check(
    asset=PATIENTS,
    blocking=True,
    description="Every current delivery fills the fields the analysis needs (visits: pain, EQ-5D; "
    "exits: reason; events: term and intervention; patients: sex, cancer type, drugs, implant "
    "type) in at least REGISTRY_MIN_FIELD_SHARE of its rows, unless the site declares in "
    "not_collected.csv that it never collects them. Blocks the publish, naming site, file, sheet "
    "and fields: a column lost to an unknown header must never publish as missing data.",
    pool=WAREHOUSE_POOL,
    automation_condition=WITH_ITS_ASSET,
)
def analysis_fields_delivered(registry: RegistryConfig, warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        missing = quality.missing_analysis_fields(con, registry.min_field_share)
    return dg.AssetCheckResult(
        passed=not missing,
        metadata={"min_field_share": registry.min_field_share,
                  "sheets_missing_fields": dg.MetadataValue.json(missing)},
        description=None if not missing else "; ".join(
            f"{m['site_id']} {m['file_name']} sheet {m['sheet_name']!r}: no {', '.join(m['missing'])}"
            for m in missing[:5]),
    )


@dg.asset_check(
    asset=SITE_LOAD_KEYS["deliveries"],
    description="No delivery is held: a cut that would drop patients of the site's current cut waits "
    "for a data engineer to release it (`registry deliveries release SITE FILE`, or the "
    "release_held_delivery job). A warning: the current cut stays in use meanwhile.",
    pool=WAREHOUSE_POOL,
    automation_condition=WITH_ITS_ASSET,
)
def no_held_deliveries(warehouse: WarehouseResource) -> dg.AssetCheckResult:
    with warehouse.get_connection() as con:
        held = held_deliveries(con)
    return dg.AssetCheckResult(
        passed=not held,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={"held": dg.MetadataValue.json(
            [{k: str(v) for k, v in h.items() if k != "file_name"} for h in held])},
        description=None if not held else "; ".join(f"{h['file_path']}: {h['reason']}" for h in held[:5]),
    )


LANDING_CHECKS = [required_columns_found, no_duplicate_patients, unmapped_header_share,
                  analysis_fields_delivered, no_held_deliveries]
