"""Loading a site's pending deliveries into the landing tables.

Each delivery is read completely before anything is written, then written in
one transaction (Arrow scans, no row loops), so a file-level fault rejects the
file without leaving rows behind. The bytes come from the delivery archive
(checked against the registered SHA-256), else from the inbox; the zip is
checked against the size limits before the reader opens it (``limits``). Free
text is screened for identifier patterns before it is written (``screening``).
A cut that would become current but drops patients of the current cut is held
(``cuts``); the site's current delivery is then the newest accepted, non-held
one by data cut, then arrival.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path

from registry.landing import archive as archive_store
from registry.landing.cuts import judge_cut, settle_current
from registry.landing.deliveries import sheets_json
from registry.landing.limits import (
    DEFAULT_MAX_FILE_MB,
    DEFAULT_MAX_ROWS_PER_SHEET,
    DEFAULT_MAX_SHEET_MB,
    WorkbookLimits,
    describe_bytes,
)
from registry.landing.pseudonym import patient_key_params, patient_key_sql
from registry.landing.schema import SHEET_FIELDS, ensure_landing_schema
from registry.landing.screening import screen_label, screen_labels, screen_rows
from registry.landing.workbook import (
    FileRejected,
    SheetRead,
    WorkbookRead,
    read_workbook,
)

__all__ = ["SheetCounts", "SiteLoadReport", "load_site", "settle_current"]


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
    ignored_sheets: list[str] = field(default_factory=list)

    @property
    def problems(self) -> list[str]:
        """Readable lines for the run log: rejected files, unknown columns, ignored sheets."""
        lines = [f"{path}: rejected, {reason}" for path, reason in self.files_rejected.items()]
        lines += [f"{path}: {reason}; the current cut stays current until the delivery is released"
                  for path, reason in self.files_held.items()]
        lines += [f"{self.site_id}: unknown {kind} columns kept in extra_columns: {', '.join(headers)}"
                  for kind, headers in self.unknown_columns.items()]
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
                "unknown_columns": list(self.unknown_columns.get(table, [])),
                "identifier_columns_dropped": list(self.identifier_columns_dropped.get(table, [])),
            }
        if table == "note_rows":
            return {**files, **{f"{kind}_note_rows": c.note_rows for kind, c in self.sheets.items()}}
        if table == "sheet_loads":
            return {**files, "rejections": dict(self.files_rejected), "held": dict(self.files_held),
                    "ignored_sheets": list(self.ignored_sheets),
                    **{f"{kind}_rows_read": c.rows_read for kind, c in self.sheets.items()}}
        raise ValueError(f"no landing table {table!r}")


def _insert_sheet(con, sheet: SheetRead, lineage: dict[str, object], key_params: dict[str, bytes]) -> SheetCounts:
    """Bulk-insert one sheet's data and note rows; returns its row counts."""
    rows = screen_rows(sheet.rows, sheet.kind)  # free text: identifier patterns redacted
    con.register("_ingest_rows", rows)
    try:
        present = set(rows.column_names)
        fields = ", ".join(f'"{f}"' if f in present else "NULL" for f in SHEET_FIELDS[sheet.kind])
        extra_params = {f"extra_key_{i}": key for i, key in enumerate(_unique_labels(sheet.extra_keys))}
        if sheet.extra_keys:
            pairs = ", ".join(f"$extra_key_{i}, extra_{i}" for i in range(len(sheet.extra_keys)))
            anything = " OR ".join(f"extra_{i} IS NOT NULL" for i in range(len(sheet.extra_keys)))
            extra = f"CASE WHEN {anything} THEN json_object({pairs})::VARCHAR END"
        else:
            extra = "NULL"
        key = patient_key_sql("$site_id", "patient_ref")
        con.execute(
            f"INSERT INTO landing.{sheet.kind} SELECT $load_id, $delivery_id, $site_id, $file_name, "
            f"$sheet_name, source_row, $file_sha256, $data_cut::DATE, {key}, {fields}, {extra} "
            "FROM _ingest_rows WHERE row_class = 'data' ORDER BY source_row",
            {**lineage, "sheet_name": screen_label(sheet.name), **key_params, **extra_params},
        )
        con.execute(
            "INSERT INTO landing.note_rows SELECT $delivery_id, $sheet_name, source_row, note_text "
            "FROM _ingest_rows WHERE row_class = 'note' ORDER BY source_row",
            {"delivery_id": lineage["delivery_id"], "sheet_name": screen_label(sheet.name)},
        )
        read, data, note, blank = con.execute(
            "SELECT count(*), count(*) FILTER (row_class = 'data'), count(*) FILTER (row_class = 'note'), "
            "count(*) FILTER (row_class = 'blank') FROM _ingest_rows"
        ).fetchall()[0]
    finally:
        con.unregister("_ingest_rows")
    counts = SheetCounts(read, data, note, blank)
    con.execute(
        "INSERT INTO landing.sheet_loads VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [lineage["delivery_id"], sheet.kind, screen_label(sheet.name), sheet.header_row, read, data, blank, note,
         json.dumps({screen_label(h): f for h, f in sheet.mapped_columns.items()}, ensure_ascii=False),
         json.dumps(screen_labels(sheet.unknown_columns), ensure_ascii=False),
         json.dumps(screen_labels(sheet.identifier_columns), ensure_ascii=False)],
    )
    return counts


def _unique_labels(labels: list[str]) -> list[str]:
    """Screened labels, kept distinct (two headers may screen to the same text)."""
    out: list[str] = []
    for label in screen_labels(labels):
        candidate, n = label, 1
        while candidate in out:
            n += 1
            candidate = f"{label} ({n})"
        out.append(candidate)
    return out


def _write_delivery(con, workbook: WorkbookRead, delivery: dict, load_id: str,
                    key_params: dict) -> tuple[dict[str, SheetCounts], str, str | None]:
    """Write a read workbook in one transaction; returns its counts and its status and reason
    (``superseded`` until the site is settled, or ``held``)."""
    lineage = {
        "load_id": load_id, "delivery_id": delivery["delivery_id"], "site_id": delivery["site_id"],
        "file_name": delivery["file_name"], "file_sha256": delivery["file_sha256"],
        "data_cut": delivery["data_cut"],
    }
    con.execute("BEGIN TRANSACTION")
    try:
        counts = {kind: _insert_sheet(con, sheet, lineage, key_params) for kind, sheet in workbook.sheets.items()}
        # accepted: held if it would drop patients of the current cut; else current or
        # superseded, settled for the whole site afterwards
        status, reason = judge_cut(con, delivery["site_id"], delivery["delivery_id"])
        con.execute(
            "UPDATE landing.deliveries SET status = ?, reason = ?, sheets = ?, ignored_sheets = ? "
            "WHERE delivery_id = ?",
            [status, reason, sheets_json({k: screen_label(v) for k, v in workbook.sheet_names.items()}),
             json.dumps(screen_labels(workbook.ignored_sheets), ensure_ascii=False), delivery["delivery_id"]],
        )
        if status != "held":
            settle_current(con, delivery["site_id"])  # the next pending cut is judged against this one
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return counts, status, reason


def _reject(con, delivery_id: str, exc: FileRejected) -> None:
    con.execute(
        "UPDATE landing.deliveries SET status = 'rejected', reason = ?, sheets = ? WHERE delivery_id = ?",
        [exc.reason, sheets_json({k: screen_label(v) for k, v in exc.sheets.items()}) if exc.sheets else None,
         delivery_id],
    )


def _registered_bytes(inbox: Path, delivery: dict, archive: Path | None) -> bytes:
    """The delivery's bytes, checked against the registered SHA-256: from the archive, or
    from the inbox (then archived, for a delivery registered before the archive was kept)."""
    sha = delivery["file_sha256"]
    if archive is not None:
        try:
            return archive_store.read(archive, sha)
        except archive_store.ArchiveError:
            pass  # not archived yet (or damaged there): the inbox may still hold it
    path = inbox / delivery["file_path"]
    try:
        content = path.read_bytes()
    except OSError as exc:
        where = "not in the archive, and " if archive is not None else ""
        raise FileRejected("unreadable_workbook", f"{where}cannot read the file: {type(exc).__name__}") from None
    if hashlib.sha256(content).hexdigest() != sha:
        raise FileRejected(
            "unreadable_workbook", "the file changed after it was registered; its new bytes are a new delivery"
        )
    if archive is not None:
        archive_store.store(archive, content, sha)
    return content


def _read_registered(inbox: Path, delivery: dict, archive: Path | None, limits: WorkbookLimits) -> WorkbookRead:
    """Check the size, read the registered bytes once, check and parse them."""
    size = delivery.get("size_bytes")
    if size is not None and size > limits.file_bytes:
        raise FileRejected("too_large", f"the file is {describe_bytes(size)}, the limit is {limits.max_file_mb:g} MB "
                                        "(max_file_mb)")
    content = _registered_bytes(inbox, delivery, archive)
    try:
        return read_workbook(content, limits)
    except FileRejected:
        raise
    except Exception as exc:  # a reader fault on a hostile file: recorded, never raised
        raise FileRejected("unreadable_workbook", f"the reader failed ({type(exc).__name__})") from None


def load_site(con, *, inbox: Path, site_id: str, load_id: str, pseudonym_key: str,
              archive: Path | None = None, max_file_mb: float = DEFAULT_MAX_FILE_MB,
              max_sheet_mb: float = DEFAULT_MAX_SHEET_MB,
              max_rows_per_sheet: int = DEFAULT_MAX_ROWS_PER_SHEET) -> SiteLoadReport:
    """Load every pending delivery of a known site; returns counts for the run's metadata.

    ``pseudonym_key`` is the secret of the patient keys (HMAC-SHA-256). ``archive``: the
    delivery archive the bytes are read from (``register_site(..., archive=)`` fills it);
    without it the inbox is read. The limits are ``RegistryConfig``'s, as plain numbers."""
    limits = WorkbookLimits(max_file_mb, max_sheet_mb, max_rows_per_sheet)
    archive = Path(archive) if archive is not None else None
    ensure_landing_schema(con)
    if not con.execute("SELECT 1 FROM landing.site_master WHERE site_id = ?", [site_id]).fetchall():
        raise ValueError(f"site {site_id!r} is not in the site master")
    report = SiteLoadReport(site_id, load_id)
    key_params = patient_key_params(pseudonym_key)
    cursor = con.execute(
        "SELECT delivery_id, site_id, file_path, file_name, file_sha256, data_cut, size_bytes FROM landing.deliveries "
        "WHERE site_id = ? AND status = 'pending' ORDER BY data_cut, arrived_at, file_path",
        [site_id],
    )
    names = [d[0] for d in cursor.description]
    pending = [dict(zip(names, row)) for row in cursor.fetchall()]
    for delivery in pending:
        try:
            workbook = _read_registered(Path(inbox), delivery, archive, limits)
        except FileRejected as exc:
            _reject(con, delivery["delivery_id"], exc)
            report.files_rejected[delivery["file_path"]] = exc.reason
            continue
        counts, status, reason = _write_delivery(con, workbook, delivery, load_id, key_params)
        report.files_loaded.append(delivery["file_path"])
        if status == "held":
            report.files_held[delivery["file_path"]] = reason
        report.ignored_sheets.extend(s for s in screen_labels(workbook.ignored_sheets) if s not in report.ignored_sheets)
        for kind, sheet in workbook.sheets.items():
            report.sheets.setdefault(kind, SheetCounts()).add(counts[kind])
            for target, headers in ((report.unknown_columns, screen_labels(sheet.unknown_columns)),
                                    (report.identifier_columns_dropped, screen_labels(sheet.identifier_columns))):
                if headers:
                    merged = target.setdefault(kind, [])
                    merged.extend(h for h in headers if h not in merged)
    report.files_skipped = con.execute(
        "SELECT count(*) FROM landing.deliveries WHERE site_id = ? AND status <> 'pending'", [site_id]
    ).fetchall()[0][0] - len(report.files_loaded) - len(report.files_rejected)
    report.current_file = settle_current(con, site_id)
    return report
