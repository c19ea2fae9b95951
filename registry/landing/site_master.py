"""Site master CSV (contract section 2) -> landing.site_master."""
from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path

import pandas as pd

from registry.landing.schema import ensure_landing_schema

SITE_COLUMNS = ("site_id", "site_name", "country", "region", "language", "date_order", "pain_scale", "eq5d_version")
REGIONS = ("United States", "Western Europe", "Latin America")
LANGUAGES = ("en", "es", "pt", "fr", "de", "it", "nl")
# column -> (allowed values, how the stored value is spelled)
_CODED = {
    "language": (LANGUAGES, str.lower),
    "date_order": (("MDY", "DMY", "YMD"), str.upper),
    "pain_scale": (("NRS11", "VAS100"), str.upper),
    "eq5d_version": (("3L", "5L"), str.upper),
}
_SITE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_COUNTRY = re.compile(r"^[A-Z]{2}$")


def utc_now() -> datetime:
    """Naive UTC timestamp, as stored in the landing zone."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


class SiteMasterError(ValueError):
    """The site master CSV breaks the contract; the message names the CSV line."""


def read_site_master(sites_csv: Path) -> pd.DataFrame:
    """Read and validate the site master; values are trimmed and codes spelled canonically."""
    sites_csv = Path(sites_csv)
    frame = pd.read_csv(sites_csv, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    frame.columns = [str(c).strip().lower() for c in frame.columns]
    missing = [c for c in SITE_COLUMNS if c not in frame.columns]
    if missing:
        raise SiteMasterError(f"{sites_csv.name}: missing column(s) {', '.join(missing)}")
    frame = frame[list(SITE_COLUMNS)].apply(lambda col: col.str.strip())
    region_by_folded = {r.casefold(): r for r in REGIONS}
    for i, row in enumerate(frame.itertuples(index=False)):  # a site master has tens of rows
        where = f"{sites_csv.name} line {i + 2} (site {row.site_id!r})"
        if not _SITE_ID.match(row.site_id):
            raise SiteMasterError(f"{where}: site_id must be a folder name of letters, digits, '-', '_' or '.'")
        if not _COUNTRY.match(row.country.upper()):
            raise SiteMasterError(f"{where}: country must be ISO 3166-1 alpha-2, not {row.country!r}")
        if row.region.casefold() not in region_by_folded:
            raise SiteMasterError(f"{where}: region must be one of {', '.join(REGIONS)}, not {row.region!r}")
        for column, (allowed, spell) in _CODED.items():
            if spell(getattr(row, column)) not in allowed:
                raise SiteMasterError(f"{where}: {column} must be one of {', '.join(allowed)}, not {getattr(row, column)!r}")
    duplicated = frame["site_id"][frame["site_id"].duplicated()]
    if not duplicated.empty:
        line = int(duplicated.index[0]) + 2
        raise SiteMasterError(f"{sites_csv.name} line {line}: site_id {duplicated.iloc[0]!r} appears twice")
    frame["country"] = frame["country"].str.upper()
    frame["region"] = frame["region"].str.casefold().map(region_by_folded)
    for column, (_, spell) in _CODED.items():
        frame[column] = frame[column].map(spell)
    return frame.reset_index(drop=True)


def load_site_master(con, sites_csv: Path) -> pd.DataFrame:
    """Validate the site master CSV and replace landing.site_master with it."""
    frame = read_site_master(sites_csv)
    ensure_landing_schema(con)
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM landing.site_master")
        con.register("_site_master_rows", frame)
        con.execute(
            f"INSERT INTO landing.site_master SELECT {', '.join(SITE_COLUMNS)}, "
            "?::TIMESTAMP FROM _site_master_rows",
            [utc_now()],
        )
        con.unregister("_site_master_rows")
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return frame
