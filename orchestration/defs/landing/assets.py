"""Landing assets: the site master, the files outside every site folder, the sites' loads
(partitioned by country).

Each asset writes the landing tables named by its key; the library
(``registry.landing``) does the work, the asset passes configuration and reports.
"""

import hashlib
from pathlib import Path

import dagster as dg
from pydantic import Field

from orchestration.defs.landing.partitions import COUNTRY_PARTITIONS
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from registry import landing
from registry.config import RegistryConfig
from registry.landing.load import SiteLoadReport, run_log_lines
from registry.landing.mappings import MappingsError, load_mappings, read_mappings
from registry.landing.recognition import vocabulary
from registry.landing.screening import screen_label

OWNERS = ["team:data-engineering"]
GROUP = "landing"

SITE_MASTER = dg.AssetKey(["landing", "site_master"])
INBOX_STRAYS = dg.AssetKey(["landing", "inbox_strays"])
# The mapping overrides (REGISTRY_MAPPINGS), one table each.
MAPPING_TABLES = ("header_overrides", "term_overrides", "not_collected")
MAPPING_KEYS = {table: dg.AssetKey(["landing", table]) for table in MAPPING_TABLES}
# Tables written by a site's load, one asset each so that dbt sources attach to them.
SITE_LOAD_TABLES = ("deliveries", "patients", "visits", "events", "exits", "sheet_loads", "note_rows")
SITE_LOAD_KEYS = {table: dg.AssetKey(["landing", table]) for table in SITE_LOAD_TABLES}
PATIENTS = SITE_LOAD_KEYS["patients"]

SITE_TABLE_DESCRIPTIONS = {
    "deliveries": "Every file of the site's inbox folder: SHA-256, data cut, arrival, status (current, "
    "superseded, rejected with reason, duplicate, ignored). Unchanged files are not read again.",
    "sheet_loads": "One row per delivery and sheet read: header row, row counts, how each column "
    "was recognised, unknown and identifier columns.",
    "note_rows": "Note and total rows found under the data (`Total: 42 patients`), kept for the load report.",
}


def file_version(path: Path) -> str:
    """Data version of a configuration file or folder: its content's SHA-256 (so an unchanged
    file re-read leaves everything downstream in sync)."""
    if path.is_dir():
        digest = hashlib.sha256()
        for child in sorted(p for p in path.rglob("*") if p.is_file()):
            digest.update(child.relative_to(path).as_posix().encode() + b"\0" + child.read_bytes())
        return digest.hexdigest()[:16]
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16] if path.is_file() else "missing"


# What recognises a site's columns (dictionaries, keywords, value rules, code lists): a new
# version of them makes the landing stale in Dagster, and the next load lands again, from the
# archive, the deliveries whose recognition changes.
RECOGNITION_VERSION = vocabulary().digest[:16]


@dg.asset(
    key=SITE_MASTER,
    group_name=GROUP,
    kinds={"python", "duckdb", "csv"},
    owners=OWNERS,
    pool=WAREHOUSE_POOL,
    description="The site master CSV (REGISTRY_SITES): one row per site with its region, language, "
    "date order, pain scale and EQ-5D version. Adding a site is adding a row. Its data version is "
    "the file's content hash: a re-read of an unchanged master leaves the sites in sync.",
)
def site_master(registry: RegistryConfig, warehouse: WarehouseResource) -> dg.MaterializeResult:
    sites_csv = registry.path("sites")
    with warehouse.get_connection() as con:
        sites = landing.load_site_master(con, sites_csv)
    by_region = sites.groupby("region").size().to_dict()
    return dg.MaterializeResult(
        data_version=dg.DataVersion(file_version(sites_csv)),
        metadata={
            "n_sites": len(sites),
            "sites_by_region": dg.MetadataValue.json({str(k): int(v) for k, v in by_region.items()}),
            "source": dg.MetadataValue.path(str(sites_csv)),
        },
    )


@dg.asset(
    key=INBOX_STRAYS,
    deps=[SITE_MASTER],
    group_name=GROUP,
    kinds={"python", "duckdb"},
    owners=OWNERS,
    pool=WAREHOUSE_POOL,
    description="Files of the inbox outside every site folder of the master (the inbox root, "
    "folders of unknown sites, other file types), listed with the reason they are not loaded.",
)
def inbox_strays(context: dg.AssetExecutionContext, registry: RegistryConfig,
                 warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.get_connection() as con:
        scan = landing.register_strays(con, registry.path("inbox"), load_id=context.run.run_id)
    for problem in scan.problems:
        context.log.warning(problem)
    return dg.MaterializeResult(
        metadata={"n_files": scan.files_seen, "by_status": dg.MetadataValue.json(scan.registered),
                  "files": dg.MetadataValue.json(scan.problems)},
    )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            deps=[SITE_MASTER],
            group_name=GROUP,
            kinds={"python", "duckdb", "csv"},
            owners=OWNERS,
            description=f"`landing.{table}`: the {table.replace('_', ' ')} of the mappings folder "
            "(REGISTRY_MAPPINGS), validated line by line. Overrides win over the shipped dictionaries "
            "and code lists; a change re-lands the deliveries it affects.",
        )
        for table, key in MAPPING_KEYS.items()
    ],
    name="mapping_overrides",
    pool=WAREHOUSE_POOL,
)
def mapping_overrides(registry: RegistryConfig, warehouse: WarehouseResource):
    """Loads the mappings folder; a bad line fails the asset with every problem listed."""
    folder = registry.path("mappings")
    try:
        with warehouse.get_connection() as con:
            loaded = load_mappings(con, folder)
    except MappingsError as exc:
        raise dg.Failure(description=f"The mappings folder {folder} has errors, nothing loaded:\n{exc}") from None
    version = dg.DataVersion(file_version(folder))
    counts = {"header_overrides": len(loaded.header_overrides), "term_overrides": len(loaded.term_overrides),
              "not_collected": len(loaded.not_collected)}
    for table, key in MAPPING_KEYS.items():
        yield dg.MaterializeResult(asset_key=key, data_version=version,
                                   metadata={"rows": counts[table], "folder": dg.MetadataValue.path(str(folder))})


class LandingConfig(dg.Config):
    sites: list[str] = Field(
        default_factory=list,
        description="Only these sites of the run's countries (empty: every site). "
        "`registry run --site` sets it.",
    )


SITES_TABLE = dg.TableSchema(columns=[
    dg.TableColumn("site_id", "string"),
    *(dg.TableColumn(name, "int") for name in ("files_loaded", "files_rejected", "files_held",
                                               "files_relanded", "rows_kept")),
    dg.TableColumn("current_file", "string"),
])


def sites_table(reports: list[SiteLoadReport]) -> dg.MetadataValue:
    """One row per site of a partition: what this load did for it (counts and file names only)."""
    return dg.MetadataValue.table(schema=SITES_TABLE, records=[dg.TableRecord({
        "site_id": r.site_id, "files_loaded": len(r.files_loaded), "files_rejected": len(r.files_rejected),
        "files_held": len(r.files_held), "files_relanded": len(r.files_relanded),
        "rows_kept": sum(c.data_rows for c in r.sheets.values()),
        "current_file": screen_label(r.current_file) if r.current_file else ""}) for r in reports])


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            key,
            deps=[SITE_MASTER, MAPPING_KEYS["header_overrides"]],
            code_version=RECOGNITION_VERSION,
            group_name=GROUP,
            kinds={"python", "duckdb", "excel"},
            owners=OWNERS,
            partitions_def=COUNTRY_PARTITIONS,
            description=SITE_TABLE_DESCRIPTIONS.get(
                table,
                f"Landing table `landing.{table}`: every row the sites sent, as text, with its file, sheet "
                "and row number. Direct identifiers are dropped before writing; patient refs are "
                "replaced by a keyed pseudonym.",
            ),
        )
        for table, key in SITE_LOAD_KEYS.items()
    ],
    name="site_landing",
    partitions_def=COUNTRY_PARTITIONS,
    backfill_policy=dg.BackfillPolicy.single_run(),
    pool=WAREHOUSE_POOL,
)
def site_landing(context: dg.AssetExecutionContext, config: LandingConfig, registry: RegistryConfig,
                 warehouse: WarehouseResource):
    """Registers the new files of the run's countries' sites and loads their new deliveries:
    read in parallel, written in one transaction (one country, a range, or every country)."""
    if registry.uses_development_key:
        context.log.warning(
            "REGISTRY_PSEUDONYM_KEY is not set: patient keys use the development key, which is not "
            "secret. Set the variable for real data."
        )
    inbox, archive, run_id = registry.path("inbox"), registry.path("archive"), context.run.run_id
    countries = list(context.partition_keys)
    with warehouse.get_connection() as con:
        master = dict(con.execute("select site_id, country from landing.site_master").fetchall())
        unknown = sorted(set(config.sites) - set(master))
        if unknown:
            raise dg.Failure(description=f"Not sites of the site master: {', '.join(unknown)}")
        by_country = {c: sorted(s for s, country in master.items() if country == c
                                and (not config.sites or s in config.sites)) for c in countries}
        mappings = read_mappings(registry.path("mappings"), list(master))
        scans = {c: landing.register_sites(con, inbox, sites, load_id=run_id, archive=archive,
                                           max_file_mb=registry.max_file_mb) for c, sites in by_country.items()}
        reports = landing.load_sites(
            con, inbox=inbox, site_ids=[s for sites in by_country.values() for s in sites], load_id=run_id,
            pseudonym_key=registry.secret_key(), archive=archive, mappings=mappings,
            max_file_mb=registry.max_file_mb, max_sheet_mb=registry.max_sheet_mb,
            max_rows_per_sheet=registry.max_rows_per_sheet, workers=registry.workers)
    warnings = dict.fromkeys([*(line for scan in scans.values() for line in scan.problems),
                              *run_log_lines([reports[s] for sites in by_country.values() for s in sites])])
    for country, sites in by_country.items():
        scan, summary = scans[country], SiteLoadReport.merged(country, [reports[s] for s in sites])
        for table, key in SITE_LOAD_KEYS.items():
            metadata = ({"sites": len(sites), "files_seen": scan.files_seen, "files_new": scan.n_new,
                         "sites_with_current_file": sum(1 for s in sites if reports[s].current_file),
                         "held": dg.MetadataValue.json(summary.files_held),
                         "rejected": dg.MetadataValue.json(summary.files_rejected),
                         "by_site": sites_table([reports[s] for s in sites])}
                        if table == "deliveries" else summary.metadata_for(table))
            context.add_asset_metadata(metadata, asset_key=key, partition_key=country)
    for line in warnings:
        context.log.warning(line)
    total = SiteLoadReport.merged("all", list(reports.values()))
    context.log.info(
        f"{len(countries)} country(ies), {len(reports)} site(s): "
        f"{sum(s.n_new for s in scans.values())} new file(s), {len(total.files_loaded)} loaded, "
        f"{len(total.files_rejected)} rejected, {len(total.files_held)} held, "
        f"{len(total.files_relanded)} landed again."
    )
    # Each country's partition carries its own counts (above), not the run's.
    for key in SITE_LOAD_KEYS.values():
        yield dg.MaterializeResult(asset_key=key)
