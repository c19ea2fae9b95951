"""What a load would do, without writing anything: the dry run of `registry run --dry-run`.

For every file of the site folders that the register does not hold yet (by path, size
and modification time), it reads the file as a load would (limits, recognition with the
mapping overrides) and says whether it would load, be held (it would drop patients of the
site's current cut: counted by pseudonymised key, in memory), be rejected (with the
reason) or be ignored (a duplicate, not a workbook, outside the site folders). The
warehouse is opened read-only; the archive and the landing tables are not touched.
"""
from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa

from registry.landing.deliveries import _classify, _files_under, _mtime_us, _stray_files
from registry.landing.limits import WorkbookLimits
from registry.landing.load import recognition_version, stale_deliveries
from registry.landing.mappings import Mappings
from registry.landing.pseudonym import patient_key_params, patient_key_sql
from registry.landing.reading import read_file, too_large
from registry.landing.recognition import Recognizer
from registry.landing.workbook import FileRejected

COLUMNS = ("site_id", "file_path", "would", "reason")


def _registered(con) -> tuple[set, dict]:
    rows = con.execute("select file_path, size_bytes, epoch_us(modified_at), site_id, file_sha256, status "
                       "from landing.deliveries").fetchall()
    stats = {(p, s, m) for p, s, m, *_ in rows}
    accepted = {(site, sha) for _, _, _, site, sha, status in rows
                if status in ("pending", "current", "superseded", "held")}
    return stats, accepted


def _current_keys(con, site_id: str) -> tuple[str | None, set[str]]:
    rows = con.execute(
        "select d.file_name, p.patient_key from landing.deliveries d "
        "left join landing.patients p on p.delivery_id = d.delivery_id "
        "where d.site_id = ? and d.status = 'current'", [site_id]).fetchall()
    return (rows[0][0] if rows else None), {k for _, k in rows if k}


def _keys_of(rows: pa.Table, site_id: str, key: str) -> set[str]:
    """Pseudonymised keys of a read Patients sheet's data rows (computed in memory)."""
    if "patient_ref" not in rows.column_names:
        return set()
    con = duckdb.connect()
    try:
        con.register("_rows", rows)
        found = con.execute(
            f"select distinct {patient_key_sql('$site_id', 'patient_ref')} from _rows "
            "where row_class = 'data' and patient_ref is not null",
            {"site_id": site_id, **patient_key_params(key)}).fetchall()
    finally:
        con.close()
    return {k for (k,) in found}


def preview(con, inbox: Path, *, pseudonym_key: str, mappings: Mappings | None = None,
            limits: WorkbookLimits | None = None, sites: list[str] | None = None) -> list[dict]:
    """One row per new file of the inbox: site_id, file_path, would (``load``, ``hold``,
    ``reject``, ``ignore``) and reason; and the registered deliveries that would be read again
    (``re-check``) because the dictionaries or overrides changed."""
    inbox, limits, mappings = Path(inbox), limits or WorkbookLimits(), mappings or Mappings()
    master = {row[0]: dict(zip(("site_id", "language", "date_order", "pain_scale", "eq5d_version"), row))
              for row in con.execute("select site_id, language, date_order, pain_scale, eq5d_version "
                                     "from landing.site_master").fetchall()}
    known = set(master)
    stats, accepted = _registered(con)
    out: list[dict] = []
    for site_id in sorted(sites or known):
        current_file, current = _current_keys(con, site_id)
        recognizer = Recognizer(mappings.site_context(master.get(site_id)))
        for rel, parts, stat in _files_under(inbox / site_id, inbox):
            if (rel, stat.st_size, _mtime_us(stat)) in stats:
                continue
            status, reason = _classify(parts, known)
            if status != "pending":
                out.append({"site_id": site_id, "file_path": rel, "would": "ignore", "reason": reason})
                continue
            content = (inbox / rel).read_bytes()
            sha = hashlib.sha256(content).hexdigest()
            if (site_id, sha) in accepted:
                out.append({"site_id": site_id, "file_path": rel, "would": "ignore",
                            "reason": "duplicate_file: same bytes as a delivery already registered"})
                continue
            outcome = too_large(stat.st_size, limits) or read_file(content, recognizer, limits)
            if isinstance(outcome, FileRejected):
                out.append({"site_id": site_id, "file_path": rel, "would": "reject", "reason": outcome.reason})
                continue
            keys = _keys_of(outcome.sheets["patients"].rows, site_id, pseudonym_key)
            dropped = len(current - keys)
            if current_file and dropped:
                out.append({"site_id": site_id, "file_path": rel, "would": "hold",
                            "reason": f"held: would drop {dropped} of {len(current)} patients of the "
                                      f"current cut {current_file}"})
            else:
                out.append({"site_id": site_id, "file_path": rel, "would": "load",
                            "reason": f"{len(keys)} patients"})
    if sites is None:
        for rel, parts, _ in _stray_files(inbox, known):
            out.append({"site_id": parts[0] if len(parts) > 1 else "", "file_path": rel, "would": "ignore",
                        "reason": _classify(parts, known)[1]})
    # deliveries whose recognition would change with today's dictionaries and overrides
    versions = {site: recognition_version(row, mappings) for site, row in master.items()
                if sites is None or site in sites}
    for delivery in stale_deliveries(con, versions):
        out.append({"site_id": delivery["site_id"], "file_path": delivery["file_path"], "would": "re-check",
                    "reason": "the dictionaries or overrides changed: read again from the archive, "
                              "landed again if its columns are recognised differently"})
    return out
