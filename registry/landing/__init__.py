"""Ingestion: site workbooks in the inbox -> the DuckDB landing zone.

Entry points (the orchestrator wraps them in assets, sensors and checks):

- ``load_site_master(con, sites_csv)``: validate the site master, replace landing.site_master
- ``register_inbox(con, inbox, load_id)``: record every new file in landing.deliveries
- ``sites_with_changes(con, inbox)``: known sites with unregistered or pending files (stat only)
- ``load_site(con, settings, site_id, load_id)``: read and land a site's pending deliveries
- ``ensure_landing_schema(con)``: create the landing tables if missing
"""
from registry.landing.deliveries import InboxScan, register_inbox, sites_with_changes
from registry.landing.load import SheetCounts, SiteLoadReport, load_site
from registry.landing.schema import ensure_landing_schema
from registry.landing.site_master import SiteMasterError, load_site_master

__all__ = [
    "InboxScan",
    "SheetCounts",
    "SiteLoadReport",
    "SiteMasterError",
    "ensure_landing_schema",
    "load_site",
    "load_site_master",
    "register_inbox",
    "sites_with_changes",
]
