"""Delivery tracking: every file of a site folder recorded in landing.deliveries; the files
outside every site folder listed in landing.inbox_strays.

A file is hashed once: a later scan skips any file whose path, size and
modification time match a registered delivery (stat only). New files start
as ``pending`` and load_site turns them into current / superseded / rejected.
"""
from __future__ import annotations

import hashlib
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import pandas as pd

from registry.landing.archive import store_copy
from registry.landing.limits import MB, describe_bytes
from registry.landing.schema import ensure_landing_schema
from registry.landing.site_master import utc_now

_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)|(?<!\d)(\d{4})(\d{2})(\d{2})(?!\d)")
_HASH_CHUNK = 1 << 20
_HASH_THREADS = 4


@dataclass
class InboxScan:
    """What one pass over (part of) the inbox found: counts and names, no patient data."""

    files_seen: int = 0
    files_unchanged: int = 0  # matched a registered delivery by path, size and mtime
    registered: dict[str, int] = field(default_factory=dict)  # status -> new deliveries
    problems: list[str] = field(default_factory=list)  # "file_path: reason" of rejected/ignored/duplicate

    @property
    def n_new(self) -> int:
        """Files registered by this scan, whatever their status."""
        return sum(self.registered.values())


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


def _registered(con, sites: list[str]) -> list[tuple]:
    """(delivery_id, site_id, file_path, file_sha256, file_name, status, size, mtime_us) of the
    deliveries registered for ``sites``."""
    return con.execute(
        "SELECT delivery_id, site_id, file_path, file_sha256, file_name, status, size_bytes, "
        "epoch_us(modified_at) FROM landing.deliveries WHERE site_id IN (SELECT unnest(?::VARCHAR[]))",
        [sites],
    ).fetchall()


def _known_sites(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT site_id FROM landing.site_master").fetchall()}


def _files_under(root: Path, inbox: Path):
    """(relative posix path, parts, stat) of the files under ``root``, sorted by path."""
    if not root.is_dir():
        return
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        rel = path.relative_to(inbox)
        yield rel.as_posix(), rel.parts, path.stat()


def _site_files(inbox: Path, site_id: str):
    """Every file of a site's folder, sub-folders included (those are reported, not loaded)."""
    yield from _files_under(inbox / site_id, inbox)


def _stray_files(inbox: Path, known_sites: set[str]):
    """Files of the inbox that belong to no site of the master: the inbox root, unknown folders."""
    if not inbox.is_dir():
        return
    for entry in sorted(inbox.iterdir()):
        if entry.is_file():
            rel = entry.relative_to(inbox)
            yield rel.as_posix(), rel.parts, entry.stat()
        elif entry.is_dir() and entry.name not in known_sites:
            yield from _files_under(entry, inbox)


def register_site(con, inbox: Path, site_id: str, load_id: str, *, archive: Path | None = None,
                  max_file_mb: float | None = None) -> InboxScan:
    """Record every new file of one site's folder in landing.deliveries (``register_sites``)."""
    return register_sites(con, inbox, [site_id], load_id, archive=archive, max_file_mb=max_file_mb)


def register_sites(con, inbox: Path, site_ids: list[str], load_id: str, *, archive: Path | None = None,
                   max_file_mb: float | None = None) -> InboxScan:
    """Record every new file of the sites' folders in landing.deliveries, in one insert.

    ``archive``: the delivery archive; every new delivery's bytes are copied there, by
    their SHA-256, in the same read that hashes them (contract section 1). Without it
    nothing is archived and loads read the inbox. ``max_file_mb``: a file larger than
    this is registered ``rejected`` (``too_large``), hashed but neither archived nor read."""
    inbox = Path(inbox)
    files = (entry for site_id in sorted(site_ids) for entry in _site_files(inbox, site_id))
    return _register(con, inbox, files, load_id, sites=list(site_ids), archive=archive, max_file_mb=max_file_mb)


def register_strays(con, inbox: Path, load_id: str) -> InboxScan:
    """List in landing.inbox_strays the files that belong to no site of the master (rejected
    or ignored, with reasons): the listing is replaced, it says what the inbox holds now.
    They are not read nor hashed; once their folder is a site of the master they are deliveries."""
    inbox = Path(inbox)
    ensure_landing_schema(con)
    known_sites = _known_sites(con)
    listed = set(con.execute(
        "SELECT file_path, size_bytes, modified_at FROM landing.inbox_strays").fetchall())
    scan = InboxScan()
    rows = []
    now = utc_now()
    for rel, parts, stat in _stray_files(inbox, known_sites):
        status, reason = _classify(parts, known_sites)
        scan.files_seen += 1
        if (rel, stat.st_size, _mtime(stat)) in listed:
            scan.files_unchanged += 1
        else:
            scan.registered[status] = scan.registered.get(status, 0) + 1
        scan.problems.append(f"{rel}: {reason}")
        rows.append((rel, parts[0] if len(parts) > 1 else None, parts[-1], stat.st_size, _mtime(stat),
                     status, reason, load_id, now))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute("DELETE FROM landing.inbox_strays")
        if rows:
            con.executemany("INSERT INTO landing.inbox_strays VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return scan


def register_inbox(con, inbox: Path, load_id: str, *, archive: Path | None = None,
                   max_file_mb: float | None = None) -> InboxScan:
    """Every site folder and every stray file of the inbox (the whole inbox at once)."""
    inbox = Path(inbox)
    ensure_landing_schema(con)
    total = register_strays(con, inbox, load_id)
    scan = register_sites(con, inbox, sorted(_known_sites(con)), load_id, archive=archive, max_file_mb=max_file_mb)
    total.files_seen += scan.files_seen
    total.files_unchanged += scan.files_unchanged
    total.problems += scan.problems
    for status, n in scan.registered.items():
        total.registered[status] = total.registered.get(status, 0) + n
    return total


def _register(con, inbox: Path, files, load_id: str, sites: list[str], archive: Path | None = None,
              max_file_mb: float | None = None) -> InboxScan:
    """Record the new ones among ``files``, read from the folders of ``sites``."""
    ensure_landing_schema(con)
    known_sites = _known_sites(con)
    existing = _registered(con, sites)
    stats = {(path, size, mtime) for _, _, path, _, _, _, size, mtime in existing}
    known_ids = {row[0] for row in existing}
    # bytes already accepted (or awaiting load, or held) per site: a re-delivery of them is a duplicate
    accepted_bytes = {(site, sha): name for _, site, _, sha, name, status, _, _ in existing
                      if status in ("pending", "current", "superseded", "held")}
    scan = InboxScan()
    now = utc_now()
    new_rows: list[dict[str, object]] = []
    touched: list[tuple[int, datetime, str]] = []
    unseen = []
    for rel, parts, stat in files:
        scan.files_seen += 1
        if (rel, stat.st_size, _mtime_us(stat)) in stats:
            scan.files_unchanged += 1
        else:
            unseen.append((rel, parts, stat))

    def digest(entry) -> str:
        rel, parts, stat = entry
        archived = (archive is not None and _classify(parts, known_sites)[0] == "pending"
                    and not (max_file_mb is not None and stat.st_size > max_file_mb * MB))
        return store_copy(archive, inbox / rel)[0] if archived else file_sha256(inbox / rel)

    # hashing (and archiving) reads the files: threads overlap the reads and hashlib's work
    with ThreadPoolExecutor(max_workers=_HASH_THREADS) as pool:
        shas = list(pool.map(digest, unseen))
    for (rel, parts, stat), sha in zip(unseen, shas):
        status, reason = _classify(parts, known_sites)
        too_large = max_file_mb is not None and stat.st_size > max_file_mb * MB
        delivery_id = delivery_id_for(rel, sha)
        if delivery_id in known_ids:  # same path, same bytes, only the mtime moved
            touched.append((stat.st_size, _mtime(stat), delivery_id))
            scan.files_unchanged += 1
            continue
        site_id = parts[0] if len(parts) >= 2 else None
        if status == "pending" and too_large:
            status, reason = "rejected", (f"too_large: the file is {describe_bytes(stat.st_size)}, the limit is "
                                          f"{max_file_mb:g} MB (max_file_mb); it is not archived")
        if status == "pending":
            first = accepted_bytes.get((site_id, sha))
            if first is not None:
                status, reason = "duplicate", f"duplicate_file: same bytes as {first!r}, already delivered"
            else:
                accepted_bytes[(site_id, sha)] = parts[-1]
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
    return scan


def pending_sites(con) -> list[str]:
    """Known sites with registered deliveries not loaded yet."""
    rows = con.execute(
        "SELECT DISTINCT d.site_id FROM landing.deliveries d "
        "JOIN landing.site_master s USING (site_id) WHERE d.status = 'pending' ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def sheets_json(sheets: dict[str, str]) -> str:
    return json.dumps(sheets, ensure_ascii=False, sort_keys=True)
