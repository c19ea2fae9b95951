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
from importlib import import_module

# Each name is imported from its module when first asked for (PEP 562), not with the
# package: a process that needs one small module (the dbt build's term rules,
# registry.landing.terms) does not import pandas and DuckDB with the rest.
_HOMES = {
    "Release": "cuts", "ReleaseError": "cuts", "held_deliveries": "cuts", "release_delivery": "cuts",
    "InboxScan": "deliveries", "register_inbox": "deliveries", "register_site": "deliveries",
    "register_sites": "deliveries", "register_strays": "deliveries",
    "WorkbookLimits": "limits", "check_workbook": "limits",
    "SheetCounts": "load", "SiteLoadReport": "load", "load_site": "load", "load_sites": "load",
    "ensure_landing_schema": "schema",
    "SiteMasterError": "site_master", "load_site_master": "site_master", "read_site_master": "site_master",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f"{__name__}.{_HOMES[name]}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_HOMES})
