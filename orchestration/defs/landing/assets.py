"""Landing-zone assets: the site master, the inbox's deliveries, one load per site."""

import dagster as dg
from dagster_duckdb import DuckDBResource

from orchestration.defs.landing.partitions import SITE_PARTITIONS
from orchestration.resources import WAREHOUSE_POOL, RegistrySettings
from registry import landing

OWNERS = ["team:data-engineering"]
KINDS = {"python", "duckdb", "excel"}

# Runs the inbox sensor launches carry this tag; in them a site whose deliveries did
# not change materializes no landing table, so declarative automation rebuilds nothing.
TRIGGER_TAG = "registry/trigger"
INBOX_SENSOR_TRIGGER = "inbox_sensor"

SITE_MASTER = dg.AssetKey(["landing", "site_master"])
DELIVERIES = dg.AssetKey(["landing", "deliveries"])
# Tables written by a site's load, one asset each so dbt sources attach to them.
SITE_LOAD_TABLES = ("patients", "visits", "events", "exits", "sheet_loads", "note_rows")
SITE_LOAD_KEYS = [dg.AssetKey(["landing", table]) for table in SITE_LOAD_TABLES]


def only_on_change(context: dg.AssetExecutionContext) -> bool:
    """True in sensor-launched runs: materialize only what changed. Full builds always do."""
    return context.run.tags.get(TRIGGER_TAG) == INBOX_SENSOR_TRIGGER


@dg.asset(
    key=SITE_MASTER,
    group_name="ingest",
    kinds={"python", "duckdb"},
    owners=OWNERS,
    pool=WAREHOUSE_POOL,
    description="The site master CSV (REGISTRY_SITES): one row per site with its region, "
    "language, date order, pain scale and EQ-5D version. Adding a site is adding a row.",
)
def site_master(
    context: dg.AssetExecutionContext, settings: RegistrySettings, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    cfg = settings.to_settings()
    with duckdb.get_connection() as con:
        landing.ensure_landing_schema(con)
        sites = landing.load_site_master(con, cfg.sites)
    site_ids = sorted(sites["site_id"])
    # Keep the partitions in step with the master: a new row is a new partition.
    new = [s for s in site_ids if not context.instance.has_dynamic_partition(SITE_PARTITIONS.name, s)]
    if new:
        context.instance.add_dynamic_partitions(SITE_PARTITIONS.name, new)
    by_region = sites.groupby("region").size().to_dict()
    return dg.MaterializeResult(
        metadata={
            "n_sites": len(site_ids),
            "sites_by_region": dg.MetadataValue.json({str(k): int(v) for k, v in by_region.items()}),
            "new_partitions": len(new),
            "source": dg.MetadataValue.path(str(cfg.sites)),
        }
    )


@dg.asset(
    key=DELIVERIES,
    deps=[SITE_MASTER],
    group_name="ingest",
    kinds={"python", "duckdb"},
    owners=OWNERS,
    pool=WAREHOUSE_POOL,
    description="Every file seen in the inbox (REGISTRY_INBOX) with its site, data cut, size, "
    "SHA-256, arrival time and status (current, superseded, rejected with reason, duplicate, "
    "ignored). Unchanged files are not re-read.",
)
def deliveries(
    context: dg.AssetExecutionContext, settings: RegistrySettings, duckdb: DuckDBResource
) -> dg.MaterializeResult:
    cfg = settings.to_settings()
    with duckdb.get_connection() as con:
        landing.ensure_landing_schema(con)
        scan = landing.register_inbox(con, cfg.inbox, load_id=context.run.run_id)
        status_counts = dict(
            con.execute(
                "select status, count(*) from landing.deliveries group by status order by status"
            ).fetchall()
        )
    for problem in scan.problems:
        context.log.warning(problem)
    return dg.MaterializeResult(
        metadata={
            "files_new": scan.n_new,
            "sites_with_new_files": dg.MetadataValue.json(sorted(scan.sites_to_load)),
            "files_by_status": dg.MetadataValue.json(status_counts),
        }
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            deps=[DELIVERIES, SITE_MASTER],
            group_name="ingest",
            kinds=KINDS,
            owners=OWNERS,
            partitions_def=SITE_PARTITIONS,
            skippable=True,
            description=f"Landing table `landing.{key.path[-1]}`: every row the site sent, as text, "
            "with its file, sheet and row number. Direct identifiers are dropped before writing; "
            "patient refs are replaced by a keyed pseudonym.",
        )
        for key in SITE_LOAD_KEYS
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "required_columns_found",
            asset=SITE_LOAD_KEYS[0],
            description="No delivery of the site was rejected for a missing required column "
            "or a missing Patients sheet.",
        ),
        dg.AssetCheckSpec(
            "no_duplicate_patients",
            asset=SITE_LOAD_KEYS[0],
            description="No patient appears twice in the site's current delivery.",
        ),
        dg.AssetCheckSpec(
            "unmapped_header_share",
            asset=SITE_LOAD_KEYS[0],
            description="Share of column headers the header dictionary does not know stays "
            "below 25% in the site's current delivery.",
        ),
    ],
    name="site_landing",
    partitions_def=SITE_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
)
def site_landing(
    context: dg.AssetExecutionContext, settings: RegistrySettings, duckdb: DuckDBResource
):
    """Loads the new deliveries of the run's sites (one or a range of partitions)."""
    cfg = settings.to_settings()
    if cfg.uses_development_key:
        context.log.warning(
            "REGISTRY_PSEUDONYM_KEY is not set: patient keys use the development key, "
            "which is not secret. Set the variable for real data."
        )
    site_ids = list(context.partition_keys)
    with duckdb.get_connection() as con:
        landing.ensure_landing_schema(con)
        reports = [landing.load_site(con, cfg, site_id, load_id=context.run.run_id) for site_id in site_ids]
        checks = _landing_checks(con, site_ids)
    for report in reports:
        for problem in report.problems:
            context.log.warning(problem)

    totals = landing.SiteLoadReport.combine(reports)
    changed = bool(totals.files_loaded or totals.files_rejected)
    if changed or not only_on_change(context):
        for key in SITE_LOAD_KEYS:
            yield dg.MaterializeResult(asset_key=key, metadata=totals.metadata_for(key.path[-1]))
    else:
        context.log.info(f"No new delivery for {', '.join(site_ids)}: nothing to materialize.")
    yield from checks


def _landing_checks(con, site_ids: list[str]) -> list[dg.AssetCheckResult]:
    """Checks over the current deliveries of the sites just loaded (counts only)."""
    rejected = con.execute(
        """
        select site_id, file_name, reason from landing.deliveries
        where site_id in (select unnest(?)) and status = 'rejected'
          and (reason like 'missing_required_column%' or reason like 'no_patients_sheet%')
        order by site_id, file_name
        """,
        [site_ids],
    ).fetchall()
    duplicates = con.execute(
        """
        select p.site_id, count(*) as n_duplicated_keys from (
            select p.site_id, p.patient_key from landing.patients p
            join landing.deliveries d using (delivery_id)
            where d.status = 'current' and p.site_id in (select unnest(?))
              and p.patient_key is not null
            group by all having count(*) > 1
        ) p group by p.site_id order by p.site_id
        """,
        [site_ids],
    ).fetchall()
    header_share = con.execute(
        """
        select d.site_id,
               sum(json_array_length(s.unknown_columns)) as n_unknown,
               sum(json_array_length(s.unknown_columns)
                   + len(json_keys(s.mapped_columns))
                   + json_array_length(s.identifier_columns_dropped)) as n_headers
        from landing.sheet_loads s join landing.deliveries d using (delivery_id)
        where d.status = 'current' and d.site_id in (select unnest(?))
        group by d.site_id order by d.site_id
        """,
        [site_ids],
    ).fetchall()
    worst_share = max((u / h for _, u, h in header_share if h), default=0.0)
    return [
        dg.AssetCheckResult(
            check_name="required_columns_found",
            asset_key=SITE_LOAD_KEYS[0],
            passed=not rejected,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"rejected_files": dg.MetadataValue.json([list(r) for r in rejected])},
        ),
        dg.AssetCheckResult(
            check_name="no_duplicate_patients",
            asset_key=SITE_LOAD_KEYS[0],
            passed=not duplicates,
            severity=dg.AssetCheckSeverity.ERROR,
            metadata={"duplicated_keys_by_site": dg.MetadataValue.json(dict(duplicates))},
        ),
        dg.AssetCheckResult(
            check_name="unmapped_header_share",
            asset_key=SITE_LOAD_KEYS[0],
            passed=worst_share < 0.25,
            severity=dg.AssetCheckSeverity.WARN,
            metadata={
                "worst_site_share": float(round(worst_share, 4)),
                "unknown_headers_by_site": dg.MetadataValue.json(
                    {site: int(u or 0) for site, u, _ in header_share}
                ),
            },
        ),
    ]
