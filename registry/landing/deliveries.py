"""Delivery tracking: every file of the inbox recorded in landing.deliveries.

A file is hashed once: a later scan skips any file whose path, size and
modification time match a registered delivery (stat only). New files start
as ``pending`` and load_site turns them into current / superseded / rejected.
"""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from registry.landing.schema import ensure_landing_schema
from registry.landing.site_master import utc_now

_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)|(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_HASH_CHUNK = 1 << 20


@dataclass
class InboxScan:
    """What one pass over the inbox found (counts and names only, no patient data)."""

    files_seen: int = 0
    files_unchanged: int = 0  # matched a registered delivery by path, size and mtime
    registered: dict[str, int] = field(default_factory=dict)  # status -> new deliveries
    sites_with_new_files: list[str] = field(default_factory=list)  # known sites with pending files
    problems: list[str] = field(default_factory=list)  # "file_path: reason" of rejected/ignored/duplicate

    @property
    def n_new(self) -> int:
        """Files registered by this scan, whatever their status."""
        return sum(self.registered.values())

    @property
    def sites_to_load(self) -> list[str]:
        return self.sites_with_new_files

    def as_metadata(self) -> dict[str, object]:
        return {
            "files_seen": self.files_seen,
            "files_unchanged": self.files_unchanged,
            **{f"new_{status}": n for status, n in sorted(self.registered.items())},
            "sites_with_new_files": ", ".join(self.sites_with_new_files),
        }


def data_cut_from_name(file_name: str) -> date | None:
    """The first valid ISO date in a file name (`2017-07-31` or `20170731`)."""
    for match in _ISO_DATE.finditer(file_name):
        y, m, d = (int(g) for g in (match.groups()[:3] if match.group(1) else match.groups()[3:]))
        try:
            return date(y, m, d)
        except ValueError:
            continue
    return None


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def delivery_id_for(file_path: str, sha256: str) -> str:
    """First 16 hex digits of SHA-256 of the inbox-relative path followed by the file's SHA-256."""
    return hashlib.sha256((file_path + sha256).encode("utf-8")).hexdigest()[:16]


_EPOCH = datetime(1970, 1, 1)


def _mtime(stat) -> datetime:
    """Naive UTC modification time, exact to the microsecond (compared with epoch_us)."""
    return _EPOCH + timedelta(microseconds=stat.st_mtime_ns // 1000)


def _mtime_us(stat) -> int:
    return stat.st_mtime_ns // 1000


def _classify(parts: tuple[str, ...], known_sites: set[str]) -> tuple[str, str | None]:
    """(status, reason) of a newly seen file before any content is read."""
    name = parts[-1]
    if len(parts) != 2:
        where = "the inbox root" if len(parts) == 1 else "a sub-folder of a site folder"
        return "ignored", f"outside_site_folder: file in {where}, expected <inbox>/<SITE_ID>/<name>.xlsx"
    if not name.lower().endswith(".xlsx") or name.startswith("~$"):
        return "ignored", "not_a_workbook: only .xlsx files are deliveries"
    if parts[0] not in known_sites:
        return "rejected", f"unknown_site: folder {parts[0]!r} is not a site of the site master"
    return "pending", None


def _registered_stats(con) -> set[tuple[str, int, int]]:
    rows = con.execute(
        "SELECT file_path, size_bytes, epoch_us(modified_at) FROM landing.deliveries"
    ).fetchall()
    return {(p, s, m) for p, s, m in rows}


def _known_sites(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT site_id FROM landing.site_master").fetchall()}


def _inbox_files(inbox: Path):
    """(relative posix path, parts, stat) of every file under the inbox, sorted by path."""
    for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
        rel = path.relative_to(inbox)
        yield rel.as_posix(), rel.parts, path.stat()


def register_inbox(con, inbox: Path, load_id: str) -> InboxScan:
    """Record every new file of the inbox in landing.deliveries; returns what was found."""
    inbox = Path(inbox)
    ensure_landing_schema(con)
    known_sites = _known_sites(con)
    # a site added to the master since: its rejected files become loadable
    con.execute(
        "UPDATE landing.deliveries SET status = 'pending', reason = NULL "
        "WHERE status = 'rejected' AND reason LIKE 'unknown_site:%' "
        "AND site_id IN (SELECT site_id FROM landing.site_master)"
    )
    stats = _registered_stats(con)
    existing = con.execute(
        "SELECT delivery_id, site_id, file_sha256, file_name, status FROM landing.deliveries"
    ).fetchall()
    known_ids = {row[0] for row in existing}
    # bytes already accepted (or awaiting load) per site: a re-delivery of them is a duplicate
    held = {(site, sha): name for _, site, sha, name, status in existing
            if status in ("pending", "current", "superseded")}
    scan = InboxScan()
    now = utc_now()
    new_rows: list[dict[str, object]] = []
    touched: list[tuple[int, datetime, str]] = []
    for rel, parts, stat in _inbox_files(inbox):
        scan.files_seen += 1
        if (rel, stat.st_size, _mtime_us(stat)) in stats:
            scan.files_unchanged += 1
            continue
        sha = file_sha256(inbox / rel)
        delivery_id = delivery_id_for(rel, sha)
        if delivery_id in known_ids:  # same path, same bytes, only the mtime moved
            touched.append((stat.st_size, _mtime(stat), delivery_id))
            scan.files_unchanged += 1
            continue
        status, reason = _classify(parts, known_sites)
        site_id = parts[0] if len(parts) >= 2 else None
        if status == "pending":
            first = held.get((site_id, sha))
            if first is not None:
                status, reason = "duplicate", f"duplicate_file: same bytes as {first!r}, already delivered"
            else:
                held[(site_id, sha)] = parts[-1]
        cut = data_cut_from_name(parts[-1])
        # An ignored file is no delivery: it gets a data cut only if its name says one.
        if cut is None and status != "ignored":
            cut, cut_source = _mtime(stat).date(), "modified_time"
        else:
            cut_source = "file_name" if cut else None
        new_rows.append({
            "delivery_id": delivery_id, "site_id": site_id, "file_path": rel, "file_name": parts[-1],
            "file_sha256": sha, "size_bytes": stat.st_size,
            "data_cut": cut,
            "data_cut_source": cut_source,
            "arrived_at": now, "status": status, "reason": reason, "load_id": load_id,
            "sheets": None, "ignored_sheets": None, "modified_at": _mtime(stat),
        })
        known_ids.add(delivery_id)
        scan.registered[status] = scan.registered.get(status, 0) + 1
        if reason:
            scan.problems.append(f"{rel}: {reason}")
    if touched:
        con.executemany(
            "UPDATE landing.deliveries SET size_bytes = ?, modified_at = ? WHERE delivery_id = ?", touched
        )
    if new_rows:
        frame = pd.DataFrame(new_rows)
        frame["data_cut"] = pd.to_datetime(frame["data_cut"])
        for column in ("site_id", "reason", "sheets", "ignored_sheets"):
            frame[column] = frame[column].astype("string")
        con.register("_new_deliveries", frame)
        con.execute(
            "INSERT INTO landing.deliveries BY NAME SELECT * REPLACE (CAST(data_cut AS DATE) AS data_cut) "
            "FROM _new_deliveries"
        )
        con.unregister("_new_deliveries")
    scan.sites_with_new_files = pending_sites(con)
    return scan


def pending_sites(con) -> list[str]:
    """Known sites with registered deliveries not loaded yet."""
    rows = con.execute(
        "SELECT DISTINCT d.site_id FROM landing.deliveries d "
        "JOIN landing.site_master s USING (site_id) WHERE d.status = 'pending' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def sites_with_changes(con, inbox: Path) -> list[str]:
    """Known sites whose folder holds a file not registered yet, or a pending delivery (stat only)."""
    inbox = Path(inbox)
    ensure_landing_schema(con)
    stats = _registered_stats(con)
    changed = set(pending_sites(con))
    for site in sorted(_known_sites(con) - changed):
        folder = inbox / site
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.is_file():
                stat = path.stat()
                if (f"{site}/{path.name}", stat.st_size, _mtime_us(stat)) not in stats:
                    changed.add(site)
                    break
    return sorted(changed)


def sheets_json(sheets: dict[str, str]) -> str:
    return json.dumps(sheets, ensure_ascii=False, sort_keys=True)
