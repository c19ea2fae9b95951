"""Loading a site's pending deliveries into the landing tables.

Each delivery is read completely before anything is written, then written in
one transaction (Arrow scans, no row loops), so a file-level fault rejects the
file without leaving rows behind. The bytes come from the delivery archive
(checked against the registered SHA-256), else from the inbox; the zip is checked
against the size limits before the reader opens it (``limits``). Free text is
screened for identifier patterns before it is written (``screening``). A cut that
would become current but drops patients of the current cut is held (``cuts``); the
site's current delivery is the newest accepted, non-held one by data cut, then arrival.
Deliveries whose column recognition would change (new dictionaries or overrides) are
landed again from the archive (``reland_site``).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from registry.landing import archive as archive_module
from registry.landing.cuts import judge_cut, settle_current
from registry.landing.deliveries import sheets_json
from registry.landing.limits import (
    DEFAULT_MAX_FILE_MB,
    DEFAULT_MAX_ROWS_PER_SHEET,
    DEFAULT_MAX_SHEET_MB,
    WorkbookLimits,
    describe_bytes,
)
from registry.landing.mappings import Mappings, read_mappings
from registry.landing.pseudonym import patient_key_params, patient_key_sql
from registry.landing.recognition import Recognizer, vocabulary
from registry.landing.schema import SHEET_FIELDS, ensure_landing_schema
from registry.landing.screening import screen_label, screen_labels, screen_rows
from registry.landing.workbook import (
    FileRejected,
    SheetRead,
    WorkbookRead,
    read_workbook,
)


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

    @property
    def problems(self) -> list[str]:
        """Readable lines for the run log: rejected files, unknown columns, ignored sheets."""
        lines = [f"{path}: rejected, {reason}" for path, reason in self.files_rejected.items()]
        lines += [f"{path}: {reason}; the current cut stays current until the delivery is released"
                  for path, reason in self.files_held.items()]
        lines += [f"{self.site_id}: unknown {kind} columns, not loaded (profiled in landing.unknown_columns): "
                  f"{', '.join(screen_label(h) for h in headers)}" for kind, headers in self.unknown_columns.items()]
        lines += [f"{self.site_id}: ambiguous {kind} column {screen_label(h)!r} not loaded, candidates: "
                  f"{', '.join(fields) or 'none'}"
                  for kind, columns in self.ambiguous_columns.items() for h, fields in columns.items()]
        lines += [f"{path}: recognition changed but the delivery is not in the archive"
                  for path in self.files_not_relandable]
        if self.ignored_sheets:
            lines.append(f"{self.site_id}: sheets ignored: {', '.join(self.ignored_sheets)}")
        return lines

    def metadata_for(self, table: str) -> dict[str, object]:
        """Metadata of one landing table's asset: patients, visits, events, exits, sheet_loads, note_rows."""
        files = {"sites": self.site_id, "files_loaded": len(self.files_loaded),
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


def _insert_sheet(con, sheet: SheetRead, lineage: dict[str, object], key_params: dict[str, bytes]) -> SheetCounts:
    """Bulk-insert one sheet's data and note rows, its load record and its unknown columns'
    profiles; returns its row counts."""
    rows = screen_rows(sheet.rows, sheet.kind)  # free text: identifier patterns redacted
    sheet_name = screen_label(sheet.name)
    con.register("_ingest_rows", rows)
    try:
        present = set(rows.column_names)
        fields = ", ".join(f'"{f}"' if f in present else "NULL" for f in SHEET_FIELDS[sheet.kind])
        key = patient_key_sql("$site_id", "patient_ref")
        con.execute(
            f"INSERT INTO landing.{sheet.kind} SELECT $load_id, $delivery_id, $site_id, $file_name, "
            f"$sheet_name, source_row, $file_sha256, $data_cut::DATE, {key}, {fields} "
            "FROM _ingest_rows WHERE row_class = 'data' ORDER BY source_row",
            {**lineage, "sheet_name": sheet_name, **key_params},
        )
        con.execute(
            "INSERT INTO landing.note_rows SELECT $delivery_id, $sheet_name, source_row, note_text "
            "FROM _ingest_rows WHERE row_class = 'note' ORDER BY source_row",
            {"delivery_id": lineage["delivery_id"], "sheet_name": sheet_name},
        )
        read, data, note, blank = con.execute(
            "SELECT count(*), count(*) FILTER (row_class = 'data'), count(*) FILTER (row_class = 'note'), "
            "count(*) FILTER (row_class = 'blank') FROM _ingest_rows"
        ).fetchall()[0]
    finally:
        con.unregister("_ingest_rows")
    counts = SheetCounts(read, data, note, blank)
    screened = {screen_label(k): v for k, v in sheet.mapped_columns.items()}
    con.execute(
        "INSERT INTO landing.sheet_loads BY NAME SELECT ? AS delivery_id, ? AS sheet_kind, ? AS sheet_name, "
        "? AS header_row, ? AS rows_read, ? AS data_rows, ? AS blank_rows, ? AS note_rows, "
        "? AS mapped_columns, ? AS unknown_columns, ? AS identifier_columns_dropped, "
        "? AS ambiguous_columns, ? AS recognition",
        [lineage["delivery_id"], sheet.kind, sheet_name, sheet.header_row, read, data, blank, note,
         _json(screened), _json([screen_label(h) for h in sheet.unknown_columns]),
         _json([screen_label(h) for h in sheet.identifier_columns]),
         _json({screen_label(h): c for h, c in sheet.ambiguous_columns.items()}),
         recognition_json(sheet)],
    )
    if sheet.profiles:
        con.executemany(
            "INSERT INTO landing.unknown_columns BY NAME SELECT ? AS delivery_id, ? AS site_id, ? AS sheet_kind, "
            "? AS sheet_name, ? AS position, ? AS header, ? AS status, ? AS candidates, ? AS n_values, "
            "? AS n_distinct, ? AS identifier_patterns, ? AS max_length, ? AS share_numeric, "
            "? AS share_date_like, ? AS load_id",
            [[lineage["delivery_id"], lineage["site_id"], sheet.kind, sheet_name, p["position"],
              screen_label(p["header"]), p["status"], _json(p["candidates"]), p["n_values"], p["n_distinct"],
              _json(p["identifier_patterns"]), p["max_length"], p["share_numeric"], p["share_date_like"],
              lineage["load_id"]] for p in sheet.profiles],
        )
    return counts


def _json(value) -> str:
    return json.dumps(value, ensure_ascii=False)


def recognition_json(sheet: SheetRead) -> str:
    """Every column's recognition of a sheet, as stored in sheet_loads.recognition."""
    return _json([c.record(screen_label) for c in sheet.columns])


_LANDED_TABLES = (*SHEET_FIELDS, "note_rows", "sheet_loads", "unknown_columns")


def _delete_landed(con, delivery_id: str) -> None:
    for table in _LANDED_TABLES:
        con.execute(f"DELETE FROM landing.{table} WHERE delivery_id = ?", [delivery_id])


def _write_delivery(con, workbook: WorkbookRead, delivery: dict, load_id: str, key_params: dict,
                    version: str | None = None,
                    replace: bool = False) -> tuple[dict[str, SheetCounts], str, str | None]:
    """Write a read workbook in one transaction; returns its counts and its status and reason:
    ``superseded`` until the site is settled, or ``held`` (a new cut that drops patients of the
    current one). A delivery landed again (``replace``) keeps its place, it is not judged again."""
    lineage = {
        "load_id": load_id, "delivery_id": delivery["delivery_id"], "site_id": delivery["site_id"],
        "file_name": delivery["file_name"], "file_sha256": delivery["file_sha256"],
        "data_cut": delivery["data_cut"],
    }
    con.execute("BEGIN TRANSACTION")
    try:
        if replace:
            _delete_landed(con, delivery["delivery_id"])
        counts = {kind: _insert_sheet(con, sheet, lineage, key_params) for kind, sheet in workbook.sheets.items()}
        # accepted: held if it would drop patients of the current cut; else current or
        # superseded, settled for the whole site afterwards
        status, reason = ("superseded", None) if replace else judge_cut(con, delivery["site_id"],
                                                                           delivery["delivery_id"])
        con.execute(
            "UPDATE landing.deliveries SET status = ?, reason = ?, sheets = ?, ignored_sheets = ?, "
            "recognition_version = ? WHERE delivery_id = ?",
            [status, reason, sheets_json({k: screen_label(v) for k, v in workbook.sheet_names.items()}),
             json.dumps(screen_labels(workbook.ignored_sheets), ensure_ascii=False), version,
             delivery["delivery_id"]],
        )
        if status != "held":
            settle_current(con, delivery["site_id"])  # the next pending cut is judged against this one
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts, status, reason


def _reject(con, delivery_id: str, exc: FileRejected, version: str | None = None, replace: bool = False) -> None:
    con.execute("BEGIN TRANSACTION")
    try:
        if replace:
            _delete_landed(con, delivery_id)
        con.execute(
            "UPDATE landing.deliveries SET status = 'rejected', reason = ?, sheets = ?, recognition_version = ? "
            "WHERE delivery_id = ?",
            [exc.reason, sheets_json({k: screen_label(v) for k, v in exc.sheets.items()}) if exc.sheets else None,
             version, delivery_id],
        )
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


RELANDABLE_REASONS = ("missing_required_column", "ambiguous_column", "no_patients_sheet")


def _registered_bytes(inbox: Path | None, archive: Path | None, delivery: dict) -> bytes:
    """The registered bytes of a delivery: from the archive when it holds them, else from the
    inbox (checked against the registered SHA-256, and then archived)."""
    sha = delivery["file_sha256"]
    if archive is not None:
        try:
            return archive_module.read(archive, sha)
        except archive_module.ArchiveError:
            pass
    if inbox is None:
        raise FileRejected("unreadable_workbook", "the delivery is not in the archive")
    path = Path(inbox) / delivery["file_path"]
    try:
        content = path.read_bytes()
    except OSError as exc:
        raise FileRejected("unreadable_workbook", f"cannot read the file: {type(exc).__name__}") from None
    if hashlib.sha256(content).hexdigest() != sha:
        raise FileRejected(
            "unreadable_workbook", "the file changed after it was registered; its new bytes are a new delivery"
        )
    if archive is not None:
        archive_module.store(archive, content, sha)
    return content


def _site_row(con, site_id: str) -> dict:
    cursor = con.execute("SELECT * FROM landing.site_master WHERE site_id = ?", [site_id])
    names = [d[0] for d in cursor.description]
    rows = cursor.fetchall()
    if not rows:
        raise ValueError(f"site {site_id!r} is not in the site master")
    return dict(zip(names, rows[0]))


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
    cursor = con.execute("SELECT * FROM landing.site_master ORDER BY site_id")
    names = [d[0] for d in cursor.description]
    return {row["site_id"]: recognition_version(row, mappings)
            for row in (dict(zip(names, r)) for r in cursor.fetchall())}


def stale_deliveries(con, versions: dict[str, str]) -> list[dict]:
    """Deliveries of the given sites recognised with another version than the current one:
    accepted ones (current, superseded), and files rejected for their structure (a mapping
    may now find their columns). Oldest cut first."""
    if not versions:
        return []
    cursor = con.execute(
        "SELECT d.delivery_id, d.site_id, d.file_path, d.file_name, d.file_sha256, d.data_cut, d.status, "
        "d.reason, d.recognition_version FROM landing.deliveries d "
        "JOIN (SELECT unnest(?::VARCHAR[]) AS site_id, unnest(?::VARCHAR[]) AS version) v USING (site_id) "
        "WHERE d.recognition_version IS DISTINCT FROM v.version AND (d.status IN ('current', 'superseded') "
        "OR (d.status = 'rejected' AND split_part(d.reason, ':', 1) IN (SELECT unnest(?::VARCHAR[])))) "
        "ORDER BY d.site_id, d.data_cut, d.arrived_at, d.file_path",
        [list(versions), list(versions.values()), list(RELANDABLE_REASONS)],
    )
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]


def _landed_recognition(con, delivery_id: str) -> dict[str, tuple]:
    rows = con.execute(
        "SELECT sheet_kind, sheet_name, header_row, recognition FROM landing.sheet_loads WHERE delivery_id = ?",
        [delivery_id]).fetchall()
    return {kind: (name, header_row, recognition) for kind, name, header_row, recognition in rows}


def _same_outcome(con, delivery: dict, outcome: WorkbookRead | FileRejected) -> bool:
    if isinstance(outcome, FileRejected):
        return delivery["status"] == "rejected" and delivery["reason"] == outcome.reason
    if delivery["status"] == "rejected":
        return False
    new = {kind: (sheet.name, sheet.header_row, recognition_json(sheet)) for kind, sheet in outcome.sheets.items()}
    return new == _landed_recognition(con, delivery["delivery_id"])


def _land(con, report: SiteLoadReport, delivery: dict, outcome: WorkbookRead | FileRejected, load_id: str,
          key_params: dict, version: str, replace: bool) -> None:
    if isinstance(outcome, FileRejected):
        _reject(con, delivery["delivery_id"], outcome, version, replace)
        report.files_rejected[delivery["file_path"]] = outcome.reason
        return
    counts, status, reason = _write_delivery(con, outcome, delivery, load_id, key_params, version, replace)
    if status == "held":
        report.files_held[delivery["file_path"]] = reason
    report.ignored_sheets.extend(s for s in screen_labels(outcome.ignored_sheets) if s not in report.ignored_sheets)
    for kind, sheet in outcome.sheets.items():
        report.sheets.setdefault(kind, SheetCounts()).add(counts[kind])
        for target, headers in ((report.unknown_columns, sheet.unknown_columns),
                                (report.identifier_columns_dropped, sheet.identifier_columns)):
            if headers:
                merged = target.setdefault(kind, [])
                merged.extend(h for h in headers if h not in merged)
        if sheet.ambiguous_columns:
            report.ambiguous_columns.setdefault(kind, {}).update(sheet.ambiguous_columns)


def _read(content: bytes, recognizer: Recognizer, limits: WorkbookLimits) -> WorkbookRead | FileRejected:
    """The workbook read, or why its file is rejected: nothing a file holds raises."""
    try:
        return read_workbook(content, recognizer=recognizer, limits=limits)
    except FileRejected as exc:
        return exc
    except Exception as exc:  # a reader fault on a hostile file: recorded, never raised
        return FileRejected("unreadable_workbook", f"the reader failed ({type(exc).__name__})")


def _too_large(delivery: dict, limits: WorkbookLimits) -> FileRejected | None:
    size = delivery.get("size_bytes")
    if size is not None and size > limits.file_bytes:
        return FileRejected("too_large", f"the file is {describe_bytes(size)}, the limit is "
                                         f"{limits.max_file_mb:g} MB (max_file_mb)")
    return None


def load_site(con, *, inbox: Path, site_id: str, load_id: str, pseudonym_key: str,
              archive: Path | None = None, mappings: Mappings | Path | str | None = None,
              max_file_mb: float = DEFAULT_MAX_FILE_MB, max_sheet_mb: float = DEFAULT_MAX_SHEET_MB,
              max_rows_per_sheet: int = DEFAULT_MAX_ROWS_PER_SHEET) -> SiteLoadReport:
    """Load every pending delivery of a known site, then land again the site's deliveries
    whose recognition changed (``reland_site``); returns counts for the run's metadata.

    ``pseudonym_key`` is the secret of the patient keys (HMAC-SHA-256). ``archive`` is the
    delivery archive (read when it holds the bytes; files read from the inbox are added to
    it). ``mappings`` is the mappings folder or its ``Mappings`` (``read_mappings``). The
    limits are ``RegistryConfig``'s, as plain numbers."""
    limits = WorkbookLimits(max_file_mb, max_sheet_mb, max_rows_per_sheet)
    archive = Path(archive) if archive is not None else None
    ensure_landing_schema(con)
    site = _site_row(con, site_id)
    mappings = _as_mappings(mappings, con)
    recognizer = Recognizer(mappings.site_context(site))
    version = recognition_version(site, mappings)
    report = SiteLoadReport(site_id, load_id)
    key_params = patient_key_params(pseudonym_key)
    cursor = con.execute(
        "SELECT delivery_id, site_id, file_path, file_name, file_sha256, data_cut, size_bytes "
        "FROM landing.deliveries WHERE site_id = ? AND status = 'pending' ORDER BY data_cut, arrived_at, file_path",
        [site_id],
    )
    names = [d[0] for d in cursor.description]
    pending = [dict(zip(names, row)) for row in cursor.fetchall()]
    for delivery in pending:
        outcome = _too_large(delivery, limits)
        if outcome is None:
            try:
                outcome = _read(_registered_bytes(inbox, archive, delivery), recognizer, limits)
            except FileRejected as exc:
                outcome = exc
        _land(con, report, delivery, outcome, load_id, key_params, version, replace=False)
        if not isinstance(outcome, FileRejected):
            report.files_loaded.append(delivery["file_path"])
    reland_site(con, site_id=site_id, load_id=load_id, pseudonym_key=pseudonym_key, archive=archive,
                mappings=mappings, inbox=inbox, report=report, limits=limits, _site=site)
    report.files_skipped = con.execute(
        "SELECT count(*) FROM landing.deliveries WHERE site_id = ? AND status <> 'pending'", [site_id]
    ).fetchall()[0][0] - len(report.files_loaded) - len(report.files_rejected)
    report.current_file = settle_current(con, site_id)
    return report


def reland_site(con, *, site_id: str, load_id: str, pseudonym_key: str, archive: Path | None,
                mappings: Mappings | Path | str | None = None, inbox: Path | None = None,
                report: SiteLoadReport | None = None, limits: WorkbookLimits | None = None,
                _site: dict | None = None) -> SiteLoadReport:
    """Land again, from the archive, the site's deliveries whose recognition would change.

    Each delivery recognised with another version than the current one (``stale_deliveries``)
    is read again (archive first, else the inbox when its bytes are still the registered
    ones) and recognised with the current dictionaries and overrides. When the outcome is
    the same, only its version is recorded; otherwise its landing rows are replaced under
    ``load_id`` (the delivery row, its arrival time and the other deliveries stay) and the
    site's current delivery is settled again. A delivery whose bytes cannot be had is
    listed in ``report.files_not_relandable`` and left as it is."""
    if _site is None:
        ensure_landing_schema(con)
    site = _site or _site_row(con, site_id)
    mappings = _as_mappings(mappings, con)
    version = recognition_version(site, mappings)
    recognizer = Recognizer(mappings.site_context(site))
    report = report or SiteLoadReport(site_id, load_id)
    key_params = patient_key_params(pseudonym_key)
    changed = False
    for delivery in stale_deliveries(con, {site_id: version}):
        try:
            content = _registered_bytes(inbox, archive, delivery)
        except FileRejected:
            report.files_not_relandable.append(delivery["file_path"])
            continue
        outcome = _read(content, recognizer, limits or WorkbookLimits())
        if _same_outcome(con, delivery, outcome):
            con.execute("UPDATE landing.deliveries SET recognition_version = ? WHERE delivery_id = ?",
                        [version, delivery["delivery_id"]])
            continue
        _land(con, report, delivery, outcome, load_id, key_params, version, replace=True)
        report.files_relanded.append(delivery["file_path"])
        changed = True
    if changed:
        report.current_file = settle_current(con, site_id)
    return report
