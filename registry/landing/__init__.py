"""Landing: site workbooks in the inbox -> the DuckDB landing zone.

Entry points (the orchestrator wraps them in assets, sensors and checks):

- ``load_site_master(con, sites_csv)``: validate the site master, replace landing.site_master
- ``register_site(con, inbox, site_id, load_id)``: record a site folder's new files in landing.deliveries
- ``register_strays(con, inbox, load_id)``: record the files outside every site folder of the master
- ``load_site(con, inbox=, site_id=, load_id=, pseudonym_key=)``: read and land a site's pending deliveries
- ``ensure_landing_schema(con)``: create the landing tables if missing
"""
from registry.landing.deliveries import (
    InboxScan,
    register_inbox,
    register_site,
    register_strays,
)
from registry.landing.load import SheetCounts, SiteLoadReport, load_site
from registry.landing.schema import ensure_landing_schema
from registry.landing.site_master import (
    SiteMasterError,
    load_site_master,
    read_site_master,
)

__all__ = [
    "InboxScan",
    "SheetCounts",
    "SiteLoadReport",
    "SiteMasterError",
    "ensure_landing_schema",
    "load_site",
    "load_site_master",
    "read_site_master",
    "register_inbox",
    "register_site",
    "register_strays",
]
