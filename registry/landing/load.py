"""Loading pending deliveries into the landing tables, many sites at once.

Each delivery is read completely before anything is written (``reading``: in worker
processes, the bytes from the delivery archive, checked against the registered SHA-256,
else from the inbox; the zip checked against the size limits before the reader opens
it; free text screened for identifier patterns). This process writes each batch of
files with one insert per table (Arrow scans, no row loops), all in one transaction,
so a file-level fault rejects the file without leaving rows behind and a failure
leaves the landing as it was. A cut that would become current but drops patients of
the current cut is held (``cuts``); the site's current delivery is the newest
accepted, non-held one by data cut, then arrival. Deliveries whose column recognition
would change (new dictionaries or overrides) are landed again from the archive.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc

from registry.landing.cuts import judge_new_cuts, settle_sites
from registry.landing.deliveries import sheets_json
from registry.landing.labels import normalise_label
from registry.landing.limits import (
    DEFAULT_MAX_FILE_MB,
    DEFAULT_MAX_ROWS_PER_SHEET,
    DEFAULT_MAX_SHEET_MB,
    WorkbookLimits,
)
from registry.landing.mappings import Mappings, read_mappings
from registry.landing.pseudonym import patient_key_params, patient_key_sql
from registry.landing.reading import (
    FileOutcome,
    ReadBatch,
    ReaderSettings,
    ReadTask,
    read_deliveries,
)
from registry.landing.recognition import vocabulary
from registry.landing.schema import SHEET_FIELDS, ensure_landing_schema
from registry.landing.screening import screen_label


@dataclass
class SheetCounts:
    rows_read: int = 0  # rows below the header
    data_rows: int = 0  # stored in landing.<kind>
    note_rows: int = 0  # stored in landing.note_rows
    blank_rows: int = 0  # counted only

    def add(self, other: "SheetCounts") -> None:
        self.rows_read += other.rows_read
        self.data_rows += other.data_rows
        self.note_rows += other.note_rows
        self.blank_rows += other.blank_rows


@dataclass
class SiteLoadReport:
    """Counts and header names of one load of one site; never patient data.

    Files are named by their inbox-relative path (``SITE/name.xlsx``).
    """

    site_id: str
    load_id: str
    files_loaded: list[str] = field(default_factory=list)
    files_rejected: dict[str, str] = field(default_factory=dict)  # file path -> `code: message`
    files_held: dict[str, str] = field(default_factory=dict)  # file path -> `held: would drop N of M ...`
    files_skipped: int = 0  # the site's deliveries already loaded, duplicates or ignored
    current_file: str | None = None
    sheets: dict[str, SheetCounts] = field(default_factory=dict)  # sheet kind -> counts
    unknown_columns: dict[str, list[str]] = field(default_factory=dict)  # sheet kind -> headers
    identifier_columns_dropped: dict[str, list[str]] = field(default_factory=dict)
    ambiguous_columns: dict[str, dict[str, list[str]]] = field(default_factory=dict)  # kind -> header -> fields
    ignored_sheets: list[str] = field(default_factory=list)
    files_relanded: list[str] = field(default_factory=list)  # landed again: their recognition changed
    files_not_relandable: list[str] = field(default_factory=list)  # recognition changed, bytes not at hand

    n_sites: int = 1

    @classmethod
    def merged(cls, label: str, reports: list["SiteLoadReport"]) -> "SiteLoadReport":
        """The reports of many sites as one (a country's partition); ``site_id`` is ``label``."""
        out = cls(label, reports[0].load_id if reports else "", n_sites=len(reports))
        for r in reports:
            out.files_loaded += r.files_loaded
            out.files_rejected.update(r.files_rejected)
            out.files_held.update(r.files_held)
            out.files_skipped += r.files_skipped
            out.files_relanded += r.files_relanded
            out.files_not_relandable += r.files_not_relandable
            for kind, counts in r.sheets.items():
                out.sheets.setdefault(kind, SheetCounts()).add(counts)
            for target, source in ((out.unknown_columns, r.unknown_columns),
                                   (out.identifier_columns_dropped, r.identifier_columns_dropped)):
                for kind, headers in source.items():
                    merged = target.setdefault(kind, [])
                    merged.extend(h for h in headers if h not in merged)
            for kind, columns in r.ambiguous_columns.items():
                out.ambiguous_columns.setdefault(kind, {}).update(columns)
            out.ignored_sheets.extend(s for s in r.ignored_sheets if s not in out.ignored_sheets)
        return out

    @property
    def problems(self) -> list[str]:
        """Readable lines for the site: rejected files, unknown columns, ignored sheets."""
        return [*self.file_problems(), *(
            f"{self.site_id}: unknown {kind} columns, not loaded (profiled in landing.unknown_columns): "
            f"{', '.join(screen_label(h) for h in headers)}" for kind, headers in self.unknown_columns.items()),
            *self.sheet_problems()]

    def file_problems(self) -> list[str]:
        """Rejected and held files, and files that could not be landed again."""
        return [*(f"{path}: rejected, {reason}" for path, reason in self.files_rejected.items()),
                *(f"{path}: {reason}; the current cut stays current until the delivery is released"
                  for path, reason in self.files_held.items()),
                *(f"{path}: recognition changed but the delivery is not in the archive"
                  for path in self.files_not_relandable)]

    def sheet_problems(self) -> list[str]:
        """Ambiguous columns and ignored sheets."""
        lines = [f"{self.site_id}: ambiguous {kind} column {screen_label(h)!r} not loaded, candidates: "
                 f"{', '.join(fields) or 'none'}"
                 for kind, columns in self.ambiguous_columns.items() for h, fields in columns.items()]
        if self.ignored_sheets:
            lines.append(f"{self.site_id}: sheets ignored: {', '.join(self.ignored_sheets)}")
        return lines

    def metadata_for(self, table: str) -> dict[str, object]:
        """Metadata of one landing table's asset: patients, visits, events, exits, sheet_loads, note_rows."""
        files = {"sites": self.n_sites, "files_loaded": len(self.files_loaded),
                 "files_rejected": len(self.files_rejected), "files_held": len(self.files_held)}
        if table in SHEET_FIELDS:
            counts = self.sheets.get(table, SheetCounts())
            return {
                **files,
                "rows_read": counts.rows_read,
                "rows_kept": counts.data_rows,
                "blank_rows": counts.blank_rows,
                "note_rows": counts.note_rows,
                "unknown_columns": [screen_label(h) for h in self.unknown_columns.get(table, [])],
                "ambiguous_columns": {screen_label(h): list(f) for h, f in self.ambiguous_columns.get(table, {}).items()},
                "identifier_columns_dropped": [screen_label(h) for h in self.identifier_columns_dropped.get(table, [])],
            }
        if table == "note_rows":
            return {**files, **{f"{kind}_note_rows": c.note_rows for kind, c in self.sheets.items()}}
        if table == "sheet_loads":
            return {**files, "rejections": dict(self.files_rejected), "held": dict(self.files_held),
                    "ignored_sheets": list(self.ignored_sheets), "files_relanded": len(self.files_relanded),
                    **{f"{kind}_rows_read": c.rows_read for kind, c in self.sheets.items()}}
        raise ValueError(f"no landing table {table!r}")


def run_log_lines(reports: list[SiteLoadReport], examples: int = 3) -> list[str]:
    """The problems of many sites' loads, for a run's log: each file's and sheet's on a line
    of its own; each unknown header once, with the number of sites that sent it and a few
    of them. One line per site and sheet kind was a thousand lines at scale 100, most of
    them the same few headers (the case for a mapping override or a dictionary entry).
    Spellings that an override would match alike (``normalise_label``) share a line."""
    lines: list[str] = []
    unknown: dict[tuple[str, str], tuple[dict[str, None], dict[str, None]]] = {}
    for report in reports:
        lines += report.file_problems() + report.sheet_problems()
        for kind, headers in report.unknown_columns.items():
            for header in headers:
                shown = screen_label(header)
                spellings, sites = unknown.setdefault((kind, normalise_label(shown)), ({}, {}))
                spellings.setdefault(shown)
                sites.setdefault(report.site_id)
    for (kind, _), (spellings, sites) in unknown.items():
        written = " / ".join(repr(s) for s in list(spellings)[:examples]) + (
            f" / {len(spellings) - examples} more spelling(s)" if len(spellings) > examples else "")
        named = ", ".join(list(sites)[:examples]) + (
            f" and {len(sites) - examples} more" if len(sites) > examples else "")
        lines.append(f"unknown {kind} column {written}, not loaded (profiled in landing.unknown_columns): "
                     f"{len(sites)} site(s): {named}")
    return lines


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


_LANDED_TABLES = (*SHEET_FIELDS, "note_rows", "sheet_loads", "unknown_columns")
RELANDABLE_REASONS = ("missing_required_column", "ambiguous_column", "no_patients_sheet")


# Rows held before they are inserted: a few inserts per load rather than several per read
# batch (each insert has a fixed cost of milliseconds), while memory stays bounded.
FLUSH_ROWS = 250_000


class _Writer:
    """Writes read batches into the landing tables: batches are gathered up to ``FLUSH_ROWS``
    rows, then inserted with one statement per table.

    Lineage (site, file, SHA-256, data cut) comes from landing.deliveries by delivery id;
    the patient key is computed by DuckDB from the site and the reference (``pseudonym``)."""

    def __init__(self, con, load_id: str, key_params: dict[str, bytes]):
        self.con, self.load_id, self.key_params = con, load_id, key_params
        self._rows: dict[str, list[pa.Table]] = {}
        self._sheets: list[pa.Table] = []
        self._n_sheets = self._n_rows = 0
        self._loads: list[dict] = []
        self._profiles: list[dict] = []

    def delete(self, delivery_ids: list[str]) -> None:
        """Remove the landed rows of deliveries landed again."""
        if delivery_ids:
            self.flush()
            for table in _LANDED_TABLES:
                self.con.execute(f"DELETE FROM landing.{table} WHERE delivery_id IN (SELECT unnest(?::VARCHAR[]))",
                                 [delivery_ids])

    def write(self, batch: ReadBatch, delivery_ids: set[str]) -> None:
        """Land the rows, notes, sheet loads and unknown-column profiles of the batch's files in
        ``delivery_ids`` (accepted files): gathered, inserted when enough rows wait (``flush``)."""
        if not delivery_ids:
            return
        keep = pc.is_in(batch.sheets.column("delivery_id"), pa.array(sorted(delivery_ids), pa.string()))
        offset = pa.scalar(self._n_sheets, pa.int32())  # sheet indexes are the batch's own
        sheets = batch.sheets.filter(keep)
        self._sheets.append(sheets.set_column(0, "_sheet", pc.add(sheets.column("_sheet"), offset)))
        self._n_sheets += batch.sheets.num_rows
        for kind, rows in batch.rows.items():
            rows = rows.set_column(rows.column_names.index("_sheet"), "_sheet", pc.add(rows.column("_sheet"), offset))
            self._rows.setdefault(kind, []).append(rows)
            self._n_rows += rows.num_rows
        self._records(batch, delivery_ids)
        if self._n_rows >= FLUSH_ROWS:
            self.flush()

    def flush(self) -> None:
        """Insert what is gathered: one statement per landing table."""
        con = self.con
        if self._sheets:
            con.register("_sheets", pa.concat_tables(self._sheets))
            try:
                for kind, tables in self._rows.items():
                    rows = pa.concat_tables(tables, promote_options="default")
                    present = set(rows.column_names)
                    fields = ", ".join(f'r."{f}"' if f in present else "NULL" for f in SHEET_FIELDS[kind])
                    key = patient_key_sql("d.site_id", "r.patient_ref") if "patient_ref" in present else "NULL"
                    con.register("_rows", rows)
                    try:
                        con.execute(
                            f"INSERT INTO landing.{kind} SELECT $load_id, s.delivery_id, d.site_id, d.file_name, "
                            f"s.sheet_name, r.source_row, d.file_sha256, d.data_cut, {key}, {fields} "
                            "FROM _rows r JOIN _sheets s USING (_sheet) JOIN landing.deliveries d USING (delivery_id) "
                            "WHERE r.row_class = 'data' ORDER BY r._sheet, r.source_row",
                            {"load_id": self.load_id, **self.key_params},
                        )
                        con.execute(
                            "INSERT INTO landing.note_rows SELECT s.delivery_id, s.sheet_name, r.source_row, "
                            "r.note_text FROM _rows r JOIN _sheets s USING (_sheet) WHERE r.row_class = 'note' "
                            "ORDER BY r._sheet, r.source_row"
                        )
                    finally:
                        con.unregister("_rows")
            finally:
                con.unregister("_sheets")
        _insert_records(con, "sheet_loads", self._loads, _SHEET_LOAD_TYPES)
        _insert_records(con, "unknown_columns", self._profiles, _PROFILE_TYPES)
        self._rows, self._sheets, self._n_rows, self._loads, self._profiles = {}, [], 0, [], []

    def _records(self, batch: ReadBatch, delivery_ids: set[str]) -> None:
        """The sheet loads and unknown-column profiles of the batch's landed files."""
        for file in batch.files:
            if file.task.delivery_id not in delivery_ids:
                continue
            for kind, sheet in file.sheets.items():
                self._loads.append({
                    "delivery_id": file.task.delivery_id, "sheet_kind": kind, "sheet_name": sheet.name,
                    "header_row": sheet.header_row, "rows_read": sheet.rows_read, "data_rows": sheet.data_rows,
                    "blank_rows": sheet.blank_rows, "note_rows": sheet.note_rows,
                    "mapped_columns": _json(sheet.mapped_columns), "unknown_columns": _json(sheet.unknown_columns),
                    "identifier_columns_dropped": _json(sheet.identifier_columns),
                    "ambiguous_columns": _json(sheet.ambiguous_columns), "recognition": _json(sheet.recognition),
                })
                self._profiles += [{
                    "delivery_id": file.task.delivery_id, "site_id": file.task.site_id, "sheet_kind": kind,
                    "sheet_name": sheet.name, "position": p["position"], "header": p["header"],
                    "status": p["status"], "candidates": _json(p["candidates"]), "n_values": p["n_values"],
                    "n_distinct": p["n_distinct"], "identifier_patterns": _json(p["identifier_patterns"]),
                    "max_length": p["max_length"], "share_numeric": p["share_numeric"],
                    "share_date_like": p["share_date_like"], "load_id": self.load_id,
                } for p in sheet.profiles]


_SHEET_LOAD_TYPES = {"header_row": pa.int32(), "rows_read": pa.int32(), "data_rows": pa.int32(),
                     "blank_rows": pa.int32(), "note_rows": pa.int32()}
_PROFILE_TYPES = {"position": pa.int32(), "n_values": pa.int32(), "n_distinct": pa.int32(),
                  "max_length": pa.int32(), "share_numeric": pa.float64(), "share_date_like": pa.float64()}


def _insert_records(con, table: str, records: list[dict], types: dict[str, pa.DataType]) -> None:
    """Insert a list of small records (one per sheet or column, never per row) by name."""
    if not records:
        return
    columns = {name: pa.array([r[name] for r in records], types.get(name, pa.string())) for name in records[0]}
    con.register("_records", pa.table(columns))
    try:
        con.execute(f"INSERT INTO landing.{table} BY NAME SELECT * FROM _records")
    finally:
        con.unregister("_records")


def _update_deliveries(con, updates: list[dict]) -> None:
    """Set status, reason, sheets, ignored sheets and recognition version of many deliveries."""
    if not updates:
        return
    con.register("_updates", pa.table({name: pa.array([u[name] for u in updates], pa.string())
                                        for name in ("delivery_id", "status", "reason", "sheets",
                                                     "ignored_sheets", "recognition_version")}))
    try:
        con.execute(
            "UPDATE landing.deliveries AS d SET status = u.status, reason = u.reason, sheets = u.sheets, "
            "ignored_sheets = u.ignored_sheets, recognition_version = u.recognition_version "
            "FROM _updates u WHERE d.delivery_id = u.delivery_id"
        )
    finally:
        con.unregister("_updates")

def _site_rows(con, site_ids: list[str] | None) -> dict[str, dict]:
    """Rows of landing.site_master (all sites, or the given ones; an unknown one is an error)."""
    cursor = con.execute("SELECT * FROM landing.site_master ORDER BY site_id")
    names = [d[0] for d in cursor.description]
    rows = {row["site_id"]: row for row in (dict(zip(names, r)) for r in cursor.fetchall())}
    if site_ids is None:
        return rows
    unknown = [s for s in site_ids if s not in rows]
    if unknown:
        raise ValueError(f"site {unknown[0]!r} is not in the site master")
    return {s: rows[s] for s in site_ids}


def _as_mappings(mappings: Mappings | Path | str | None, con=None) -> Mappings:
    if mappings is None or isinstance(mappings, Mappings):
        return mappings or Mappings()
    sites = [r[0] for r in con.execute("SELECT site_id FROM landing.site_master").fetchall()] if con else None
    return read_mappings(Path(mappings), sites)


def recognition_version(site: dict, mappings: Mappings | None = None) -> str:
    """The version (content hash) of what recognises a site's columns: the shipped dictionaries,
    keywords, value rules and code lists, the overrides that apply to the site, and the site's
    language, scale and EQ-5D version. First 16 hex digits."""
    context = (mappings or Mappings()).site_context(site)
    settings = [site.get(k) for k in ("language", "date_order", "pain_scale", "eq5d_version")]
    text = json.dumps([vocabulary().digest, context.overrides_digest, settings])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def recognition_versions(con, mappings: Mappings | Path | str | None = None) -> dict[str, str]:
    """Site -> current recognition version, for every site of the site master."""
    mappings = _as_mappings(mappings, con)
    return {site_id: recognition_version(row, mappings) for site_id, row in _site_rows(con, None).items()}


def _deliveries(con, where: str, params: list) -> list[dict]:
    cursor = con.execute(
        "SELECT d.delivery_id, d.site_id, d.file_path, d.file_name, d.file_sha256, d.data_cut, d.status, "
        f"d.reason, d.recognition_version, d.size_bytes FROM landing.deliveries d {where}", params)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def stale_deliveries(con, versions: dict[str, str]) -> list[dict]:
    """Deliveries of the given sites recognised with another version than the current one:
    accepted ones (current, superseded), and files rejected for their structure (a mapping
    may now find their columns). Oldest cut first."""
    if not versions:
        return []
    return _deliveries(
        con,
        "JOIN (SELECT unnest(?::VARCHAR[]) AS site_id, unnest(?::VARCHAR[]) AS version) v USING (site_id) "
        "WHERE d.recognition_version IS DISTINCT FROM v.version AND (d.status IN ('current', 'superseded') "
        "OR (d.status = 'rejected' AND split_part(d.reason, ':', 1) IN (SELECT unnest(?::VARCHAR[])))) "
        "ORDER BY d.site_id, d.data_cut, d.arrived_at, d.file_path",
        [list(versions), list(versions.values()), list(RELANDABLE_REASONS)],
    )


def _pending(con, site_ids: list[str]) -> list[dict]:
    return _deliveries(
        con, "WHERE d.status = 'pending' AND d.site_id IN (SELECT unnest(?::VARCHAR[])) "
             "ORDER BY d.site_id, d.data_cut, d.arrived_at, d.file_path", [site_ids])


def _landed_recognition(con, delivery_ids: list[str]) -> dict[str, dict[str, tuple]]:
    """Delivery -> sheet kind -> (sheet name, header row, recognition JSON), as landed."""
    out: dict[str, dict[str, tuple]] = {}
    if delivery_ids:
        for delivery_id, kind, name, header_row, recognition in con.execute(
                "SELECT delivery_id, sheet_kind, sheet_name, header_row, recognition FROM landing.sheet_loads "
                "WHERE delivery_id IN (SELECT unnest(?::VARCHAR[]))", [delivery_ids]).fetchall():
            out.setdefault(delivery_id, {})[kind] = (name, header_row, recognition)
    return out


def _same_outcome(delivery: dict, file: FileOutcome, landed: dict[str, tuple]) -> bool:
    if file.rejected:
        return delivery["status"] == "rejected" and delivery["reason"] == file.reason
    if delivery["status"] == "rejected":
        return False
    new = {kind: (name, header_row, _json(recognition))
           for kind, (name, header_row, recognition) in file.recognition_key().items()}
    return new == landed


def _task(delivery: dict) -> ReadTask:
    return ReadTask(delivery["delivery_id"], delivery["site_id"], delivery["file_path"], delivery["file_sha256"],
                    delivery.get("size_bytes"))


def _add_to_report(report: SiteLoadReport, file: FileOutcome) -> None:
    """A landed file's counts, unknown, identifier and ambiguous columns and ignored sheets."""
    report.ignored_sheets.extend(s for s in file.ignored_sheets if s not in report.ignored_sheets)
    for kind, sheet in file.sheets.items():
        report.sheets.setdefault(kind, SheetCounts()).add(
            SheetCounts(sheet.rows_read, sheet.data_rows, sheet.note_rows, sheet.blank_rows))
        for target, headers in ((report.unknown_columns, sheet.unknown_columns),
                                (report.identifier_columns_dropped, sheet.identifier_columns)):
            if headers:
                merged = target.setdefault(kind, [])
                merged.extend(h for h in headers if h not in merged)
        if sheet.ambiguous_columns:
            report.ambiguous_columns.setdefault(kind, {}).update(sheet.ambiguous_columns)


def _status_update(file: FileOutcome, status: str, reason: str | None, version: str) -> dict:
    return {"delivery_id": file.task.delivery_id, "status": status, "reason": reason,
            "sheets": sheets_json(file.sheet_names) if (file.sheet_names or not file.rejected) else None,
            "ignored_sheets": None if file.rejected else _json(file.ignored_sheets),
            "recognition_version": version}


def load_sites(con, *, inbox: Path | None, load_id: str, pseudonym_key: str, site_ids: list[str] | None = None,
               archive: Path | None = None, mappings: Mappings | Path | str | None = None,
               max_file_mb: float = DEFAULT_MAX_FILE_MB, max_sheet_mb: float = DEFAULT_MAX_SHEET_MB,
               max_rows_per_sheet: int = DEFAULT_MAX_ROWS_PER_SHEET, workers: int | None = None,
               pending: bool = True) -> dict[str, SiteLoadReport]:
    """Load the pending deliveries of many sites (default: every site of the master) and land
    again, from the archive, their deliveries whose recognition changed; returns a report
    per site (counts for the run's metadata, never patient data).

    Files are read in ``workers`` processes (``reading``) while this process writes; everything
    is written in one transaction, so a failure leaves the landing as it was (the deliveries
    stay pending). New cuts are then judged in their sites' order (``cuts.judge_new_cuts``) and
    each site's current delivery settled. A delivery recognised with another version than the
    current one is read again and, when its outcome differs, its rows are replaced under
    ``load_id`` (its delivery row and arrival stay); a delivery whose bytes cannot be had is
    listed in ``files_not_relandable`` and left as it is. ``pending=False``: only that.

    ``pseudonym_key`` is the secret of the patient keys (HMAC-SHA-256). ``archive`` is the
    delivery archive (read when it holds the bytes; files read from the inbox are added to
    it). ``mappings`` is the mappings folder or its ``Mappings``. The limits are
    ``RegistryConfig``'s, as plain numbers."""
    limits = WorkbookLimits(max_file_mb, max_sheet_mb, max_rows_per_sheet)
    archive = Path(archive) if archive is not None else None
    ensure_landing_schema(con)
    sites = _site_rows(con, site_ids)
    mappings = _as_mappings(mappings, con)
    versions = {site_id: recognition_version(row, mappings) for site_id, row in sites.items()}
    reports = {site_id: SiteLoadReport(site_id, load_id) for site_id in sites}
    new = _pending(con, list(sites)) if pending else []
    stale = stale_deliveries(con, versions)
    landed = _landed_recognition(con, [d["delivery_id"] for d in stale])
    known = {d["delivery_id"]: d for d in stale}
    tasks = [_task(d) for d in new + stale]
    involved = {t.site_id for t in tasks}
    settings = ReaderSettings(inbox, archive, limits,
                              {s: mappings.site_context(sites[s]) for s in involved})
    writer = _Writer(con, load_id, patient_key_params(pseudonym_key))
    updates: list[dict] = []
    to_judge: list[str] = []
    touched: set[str] = set()
    con.execute("BEGIN TRANSACTION")
    try:
        for batch in read_deliveries(tasks, settings, workers):
            write: set[str] = set()
            replace: list[str] = []
            for file in batch.files:
                task, report, version = file.task, reports[file.task.site_id], versions[file.task.site_id]
                delivery = known.get(task.delivery_id)
                if delivery is not None:  # landed before: land again only if the outcome changes
                    if file.missing_bytes:
                        report.files_not_relandable.append(task.file_path)
                        continue
                    if _same_outcome(delivery, file, landed.get(task.delivery_id, {})):
                        updates.append({"delivery_id": task.delivery_id, "status": delivery["status"],
                                        "reason": delivery["reason"], "keep": True, "recognition_version": version})
                        continue
                    replace.append(task.delivery_id)
                    report.files_relanded.append(task.file_path)
                    touched.add(task.site_id)
                if file.rejected:
                    report.files_rejected[task.file_path] = file.reason
                    updates.append(_status_update(file, "rejected", file.reason, version))
                    continue
                write.add(task.delivery_id)
                _add_to_report(report, file)
                if delivery is None:
                    report.files_loaded.append(task.file_path)
                    to_judge.append(task.delivery_id)
                    updates.append(_status_update(file, "pending", None, version))
                else:  # landed again: it keeps its place, it is not judged again
                    updates.append(_status_update(file, "superseded", None, version))
            writer.delete(replace)
            writer.write(batch, write)
        writer.flush()
        _update_deliveries(con, [u for u in updates if not u.get("keep")])
        _set_versions(con, [(u["delivery_id"], u["recognition_version"]) for u in updates if u.get("keep")])
        by_id = {d["delivery_id"]: d for d in new}
        for delivery_id, reason in judge_new_cuts(con, to_judge).items():
            reports[by_id[delivery_id]["site_id"]].files_held[by_id[delivery_id]["file_path"]] = reason
        touched |= {d["site_id"] for d in new}
        settle_sites(con, sorted(touched))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    _finish_reports(con, reports)
    return reports


def _set_versions(con, pairs: list[tuple[str, str]]) -> None:
    """Record the recognition version of deliveries read again with the same outcome."""
    if pairs:
        con.execute(
            "UPDATE landing.deliveries AS d SET recognition_version = v.version FROM "
            "(SELECT unnest(?::VARCHAR[]) AS delivery_id, unnest(?::VARCHAR[]) AS version) v "
            "WHERE d.delivery_id = v.delivery_id", [[p[0] for p in pairs], [p[1] for p in pairs]])


def _finish_reports(con, reports: dict[str, SiteLoadReport]) -> None:
    """Each report's current file and its count of deliveries loaded before (one query)."""
    rows = con.execute(
        "SELECT site_id, count(*) FILTER (status <> 'pending'), "
        "max(file_name) FILTER (status = 'current') FROM landing.deliveries "
        "WHERE site_id IN (SELECT unnest(?::VARCHAR[])) GROUP BY site_id", [list(reports)]).fetchall()
    for site_id, settled, current in rows:
        report = reports[site_id]
        report.files_skipped = int(settled) - len(report.files_loaded) - len(report.files_rejected)
        report.current_file = current


def load_site(con, *, inbox: Path, site_id: str, load_id: str, pseudonym_key: str,
              archive: Path | None = None, mappings: Mappings | Path | str | None = None,
              max_file_mb: float = DEFAULT_MAX_FILE_MB, max_sheet_mb: float = DEFAULT_MAX_SHEET_MB,
              max_rows_per_sheet: int = DEFAULT_MAX_ROWS_PER_SHEET, workers: int | None = None) -> SiteLoadReport:
    """``load_sites`` for one site."""
    return load_sites(con, inbox=inbox, load_id=load_id, pseudonym_key=pseudonym_key, site_ids=[site_id],
                      archive=archive, mappings=mappings, max_file_mb=max_file_mb, max_sheet_mb=max_sheet_mb,
                      max_rows_per_sheet=max_rows_per_sheet, workers=workers)[site_id]


def reland_site(con, *, site_id: str, load_id: str, pseudonym_key: str, archive: Path | None,
                mappings: Mappings | Path | str | None = None, inbox: Path | None = None,
                limits: WorkbookLimits | None = None) -> SiteLoadReport:
    """Land again, from the archive, the site's deliveries whose recognition would change
    (``load_sites`` without the pending deliveries)."""
    limits = limits or WorkbookLimits()
    return load_sites(con, inbox=inbox, load_id=load_id, pseudonym_key=pseudonym_key, site_ids=[site_id],
                      archive=archive, mappings=mappings, max_file_mb=limits.max_file_mb,
                      max_sheet_mb=limits.max_sheet_mb, max_rows_per_sheet=limits.max_rows_per_sheet,
                      pending=False)[site_id]
