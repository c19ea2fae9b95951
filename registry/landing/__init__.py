"""Landing: site workbooks in the inbox -> the DuckDB landing zone.

Entry points (the orchestrator wraps them in assets, sensors and checks):

- ``load_site_master(con, sites_csv)``: validate the site master, replace landing.site_master
- ``register_sites(con, inbox, site_ids, load_id, archive=, max_file_mb=)``: record (and archive) the sites' new files
- ``register_strays(con, inbox, load_id)``: record the files outside every site folder of the master
- ``load_sites(con, inbox=, load_id=, pseudonym_key=, site_ids=, archive=, mappings=, max_file_mb=, max_sheet_mb=, max_rows_per_sheet=, workers=)``: read (in parallel) and land the sites' pending deliveries
- ``register_site`` / ``load_site``: the same for one site
- ``ensure_landing_schema(con)``: create the landing tables if missing
- ``release_delivery(con, site_id, file, released_by=, released_at=)``: accept a held cut
- ``held_deliveries(con, site_id=None)``: the held cuts waiting for a release
- ``check_workbook(content, limits)``: the size limits, checked on the zip before reading
"""
from registry.landing.cuts import (
    Release,
    ReleaseError,
    held_deliveries,
    release_delivery,
)
from registry.landing.deliveries import (
    InboxScan,
    register_inbox,
    register_site,
    register_sites,
    register_strays,
)
from registry.landing.limits import WorkbookLimits, check_workbook
from registry.landing.load import SheetCounts, SiteLoadReport, load_site, load_sites
from registry.landing.schema import ensure_landing_schema
from registry.landing.site_master import (
    SiteMasterError,
    load_site_master,
    read_site_master,
)

__all__ = [
    "InboxScan",
    "Release",
    "ReleaseError",
    "WorkbookLimits",
    "check_workbook",
    "held_deliveries",
    "release_delivery",
    "SheetCounts",
    "SiteLoadReport",
    "SiteMasterError",
    "ensure_landing_schema",
    "load_site",
    "load_sites",
    "load_site_master",
    "read_site_master",
    "register_inbox",
    "register_site",
    "register_sites",
    "register_strays",
]
