"""Reading deliveries, in parallel: registered files -> recognised, classified Arrow rows.

Worker processes (``workers``, by default one per core) each take a batch of files.
For each file a worker takes its registered bytes (the archive first, else the inbox,
checked against the registered SHA-256), checks the zip against the size limits,
finds and recognises the sheets (``workbook.read_workbook``), then classifies and
screens the rows of the whole batch at once (``workbook.finish_rows``,
``screening.screen_rows``: a few Arrow calls per batch, not per sheet). The one
process that writes the warehouse receives, per batch, one table of rows per sheet
kind and the files' outcomes, and inserts them in bulk (``load``).

What crosses back from a worker: the rows of the recognised columns (the patient
reference among them, pseudonymised by the insert, never stored raw), labels
screened for identifier patterns, counts. Identifier and unknown columns stay in
the worker.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from registry.landing import archive as archive_module
from registry.landing.limits import WorkbookLimits, describe_bytes
from registry.landing.recognition import Recognizer, SiteContext
from registry.landing.screening import screen_label, screen_labels, screen_rows
from registry.landing.workbook import (
    FileRejected,
    SheetRead,
    WorkbookRead,
    finish_rows,
    read_workbook,
)
from registry.parallel import process_pool, worker_count

# Fewer files than this are read in the calling process: starting workers costs more.
MIN_FILES_FOR_WORKERS = 64
# Files per batch: large enough that the per-batch Arrow calls amortise, small enough
# that both workers stay busy to the end and a batch's rows stay a few megabytes.
MAX_BATCH_FILES = 48


@dataclass(frozen=True)
class ReadTask:
    """One registered delivery to read."""

    delivery_id: str
    site_id: str
    file_path: str  # inbox-relative
    file_sha256: str
    size_bytes: int | None = None


@dataclass(frozen=True)
class ReaderSettings:
    """What every worker needs: where the bytes are, the limits, each site's recognition."""

    inbox: Path | None
    archive: Path | None
    limits: WorkbookLimits
    contexts: dict[str, SiteContext]  # site -> its settings and mapping overrides


@dataclass
class SheetOutcome:
    """One sheet read: labels screened, counts, each column's recognition (JSON)."""

    kind: str
    name: str
    header_row: int | None
    rows_read: int
    data_rows: int
    note_rows: int
    blank_rows: int
    mapped_columns: dict[str, str]
    unknown_columns: list[str]
    identifier_columns: list[str]
    ambiguous_columns: dict[str, list[str]]
    recognition: list[dict]
    profiles: list[dict]


@dataclass
class FileOutcome:
    """One file read: its sheets, or why it is rejected (``code: message``)."""

    task: ReadTask
    reason: str | None = None  # set when the file is rejected
    rejected_sheets: dict[str, str] = field(default_factory=dict)  # kind -> sheet name, when known
    sheets: dict[str, SheetOutcome] = field(default_factory=dict)  # kind -> sheet
    ignored_sheets: list[str] = field(default_factory=list)
    missing_bytes: bool = False  # the registered bytes are neither archived nor in the inbox

    @property
    def rejected(self) -> bool:
        return self.reason is not None

    @property
    def sheet_names(self) -> dict[str, str]:
        return {kind: s.name for kind, s in self.sheets.items()} if not self.rejected else self.rejected_sheets

    def recognition_key(self) -> dict[str, tuple]:
        """What decides the landed rows, per sheet kind (compared when a delivery is read again)."""
        return {kind: (s.name, s.header_row, s.recognition) for kind, s in self.sheets.items()}


@dataclass
class ReadBatch:
    """The outcomes of a batch of files and the rows of its accepted ones.

    ``rows[kind]`` has ``_sheet`` (an index into ``sheets``), ``source_row``, ``row_class``,
    ``note_text`` and the recognised fields; ``sheets`` is (delivery_id, kind, sheet name)."""

    files: list[FileOutcome]
    rows: dict[str, pa.Table]
    sheets: pa.Table


def registered_bytes(inbox: Path | None, archive: Path | None, task: ReadTask) -> bytes:
    """A delivery's registered bytes: from the archive when it holds them, else from the
    inbox (checked against the registered SHA-256, then archived). Raises FileRejected."""
    sha = task.file_sha256
    if archive is not None:
        try:
            return archive_module.read(archive, sha)
        except archive_module.ArchiveError:
            pass
    if inbox is None:
        raise FileRejected("unreadable_workbook", "the delivery is not in the archive")
    try:
        content = (Path(inbox) / task.file_path).read_bytes()
    except OSError as exc:
        raise FileRejected("unreadable_workbook", f"cannot read the file: {type(exc).__name__}") from None
    if hashlib.sha256(content).hexdigest() != sha:
        raise FileRejected(
            "unreadable_workbook", "the file changed after it was registered; its new bytes are a new delivery"
        )
    if archive is not None:
        archive_module.store(archive, content, sha)
    return content


def too_large(size_bytes: int | None, limits: WorkbookLimits) -> FileRejected | None:
    """The rejection of a file larger than ``max_file_mb``, before it is opened."""
    if size_bytes is not None and size_bytes > limits.file_bytes:
        return FileRejected("too_large", f"the file is {describe_bytes(size_bytes)}, the limit is "
                                         f"{limits.max_file_mb:g} MB (max_file_mb)")
    return None


def read_file(content: bytes, recognizer: Recognizer, limits: WorkbookLimits,
              finish: bool = True) -> WorkbookRead | FileRejected:
    """The workbook read, or why its file is rejected: nothing a file holds raises."""
    try:
        return read_workbook(content, recognizer=recognizer, limits=limits, finish=finish)
    except FileRejected as exc:
        return exc
    except Exception as exc:  # a reader fault on a hostile file: recorded, never raised
        return FileRejected("unreadable_workbook", f"the reader failed ({type(exc).__name__})")


class _MissingBytes(FileRejected):
    """The registered bytes cannot be had (a rejection for a new delivery; for one landed
    before, a reason to leave it as it is)."""


def _read_one(task: ReadTask, settings: ReaderSettings, recognizers: dict[str, Recognizer]
              ) -> WorkbookRead | FileRejected:
    """The workbook read (rows not yet classified), or why its file is rejected."""
    rejected = too_large(task.size_bytes, settings.limits)
    if rejected is not None:
        return rejected
    recognizer = recognizers.get(task.site_id)
    if recognizer is None:
        recognizer = recognizers[task.site_id] = Recognizer(settings.contexts.get(task.site_id))
    try:
        content = registered_bytes(settings.inbox, settings.archive, task)
    except FileRejected as exc:
        return _MissingBytes(exc.code, exc.message)
    return read_file(content, recognizer, settings.limits, finish=False)


def _sheet_outcome(sheet: SheetRead, counts: tuple[int, int, int, int]) -> SheetOutcome:
    read, data, note, blank = counts
    return SheetOutcome(
        kind=sheet.kind, name=screen_label(sheet.name), header_row=sheet.header_row,
        rows_read=read, data_rows=data, note_rows=note, blank_rows=blank,
        mapped_columns={screen_label(k): v for k, v in sheet.mapped_columns.items()},
        unknown_columns=screen_labels(sheet.unknown_columns),
        identifier_columns=screen_labels(sheet.identifier_columns),
        ambiguous_columns={screen_label(h): c for h, c in sheet.ambiguous_columns.items()},
        recognition=[c.record(screen_label) for c in sheet.columns],
        profiles=[{**p, "header": screen_label(p["header"])} for p in sheet.profiles],
    )


def _counts_by_sheet(rows: pa.Table, n_sheets: int) -> np.ndarray:
    """(rows read, data, note, blank) per sheet index, from the classified rows."""
    out = np.zeros((n_sheets, 4), dtype=np.int64)
    if rows.num_rows == 0:
        return out
    sheet = rows.column("_sheet").to_numpy()
    row_class = rows.column("row_class")
    out[:, 0] = np.bincount(sheet, minlength=n_sheets)
    for j, name in enumerate(("data", "note", "blank"), start=1):
        mask = np.asarray(pc.equal(row_class, name).to_numpy(zero_copy_only=False), dtype=bool)
        out[:, j] = np.bincount(sheet[mask], minlength=n_sheets)
    return out


def read_batch(tasks: Iterable[ReadTask], settings: ReaderSettings,
               recognizers: dict[str, Recognizer] | None = None) -> ReadBatch:
    """Read a batch of files; the rows of all its sheets of one kind are classified and
    screened together."""
    recognizers = {} if recognizers is None else recognizers
    files: list[FileOutcome] = []
    pending: dict[str, list[pa.Table]] = {}
    sheet_rows: list[tuple[str, str, str]] = []  # (delivery_id, kind, screened sheet name)
    read_sheets: list[tuple[FileOutcome, SheetRead]] = []
    for task in tasks:
        outcome = _read_one(task, settings, recognizers)
        if isinstance(outcome, FileRejected):
            files.append(FileOutcome(task, outcome.reason, {k: screen_label(v) for k, v in outcome.sheets.items()},
                                     missing_bytes=isinstance(outcome, _MissingBytes)))
            continue
        file = FileOutcome(task, ignored_sheets=screen_labels(outcome.ignored_sheets))
        files.append(file)
        for kind, sheet in outcome.sheets.items():
            index = len(sheet_rows)
            sheet_rows.append((task.delivery_id, kind, screen_label(sheet.name)))
            read_sheets.append((file, sheet))
            rows = sheet.rows
            if "_filled" not in rows.column_names:  # an empty sheet: already final
                rows = rows.append_column("_filled", pa.array(np.zeros(rows.num_rows, np.int32)))
                for name in ("_other", "_plain", "_ident"):
                    rows = rows.append_column(name, pa.nulls(rows.num_rows, pa.string()))
                rows = rows.drop_columns([c for c in ("row_class", "note_text") if c in rows.column_names])
            rows = rows.append_column("_sheet", pa.array(np.full(rows.num_rows, index, np.int32)))
            pending.setdefault(kind, []).append(rows)
    finished: dict[str, pa.Table] = {}
    counts = np.zeros((len(sheet_rows), 4), dtype=np.int64)
    for kind, tables in pending.items():
        rows = screen_rows(finish_rows(pa.concat_tables(tables, promote_options="default")), kind)
        counts += _counts_by_sheet(rows, len(sheet_rows))
        finished[kind] = rows
    for index, (file, sheet) in enumerate(read_sheets):
        file.sheets[sheet.kind] = _sheet_outcome(sheet, tuple(int(n) for n in counts[index]))
    sheets = pa.table({
        "_sheet": pa.array(np.arange(len(sheet_rows), dtype=np.int32)),
        "delivery_id": pa.array([s[0] for s in sheet_rows], pa.string()),
        "sheet_kind": pa.array([s[1] for s in sheet_rows], pa.string()),
        "sheet_name": pa.array([s[2] for s in sheet_rows], pa.string()),
    })
    return ReadBatch(files, finished, sheets)


# -- the worker processes -------------------------------------------------------------------
_SETTINGS: ReaderSettings | None = None
_RECOGNIZERS: dict[str, Recognizer] = {}


def _init_worker(settings: ReaderSettings) -> None:
    global _SETTINGS
    _SETTINGS = settings
    _RECOGNIZERS.clear()


def _worker_batch(tasks: list[ReadTask]) -> ReadBatch:
    assert _SETTINGS is not None
    return read_batch(tasks, _SETTINGS, _RECOGNIZERS)


def batches(tasks: list[ReadTask], workers: int) -> list[list[ReadTask]]:
    """Tasks cut into batches: several per worker, so that the last ones finish together."""
    if not tasks:
        return []
    size = max(1, min(MAX_BATCH_FILES, -(-len(tasks) // (workers * 4))))
    return [tasks[i:i + size] for i in range(0, len(tasks), size)]


def read_deliveries(tasks: list[ReadTask], settings: ReaderSettings, workers: int | None = None
                    ) -> Iterator[ReadBatch]:
    """The tasks read in batches, in their order; in ``workers`` processes when there are
    enough files, else here. The caller writes each batch while the workers read on."""
    workers = worker_count(workers)
    if workers == 1 or len(tasks) < MIN_FILES_FOR_WORKERS:
        recognizers: dict[str, Recognizer] = {}
        for batch in batches(tasks, 1):
            yield read_batch(batch, settings, recognizers)
        return
    with process_pool(workers, [__name__], _init_worker, (settings,)) as pool:
        yield from pool.map(_worker_batch, batches(tasks, workers))
