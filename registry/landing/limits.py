"""Size limits of a workbook, checked on the zip before any reader expands it.

A workbook is a zip of XML parts. A few megabytes can expand to gigabytes (a zip
bomb), and a few kilobytes can make the reader build a huge grid (one cell at
column XFD under thousands of rows: the reader fills every cell of the range).
``check_workbook`` refuses such a file from the zip directory and one bounded,
streaming pass over the parts, in constant memory, before the reader opens it:

- the file itself: at most ``max_file_mb`` (compressed);
- every part: its declared size (zip directory) and its actual size (decompressed
  in 1 MB steps, stopping past the limit; declared sizes are not trusted) at most
  ``max_sheet_mb``; all parts together at most ``PARTS_PER_SHEET_LIMIT`` times that;
- every worksheet: at most ``max_rows_per_sheet`` rows (row elements, and the
  number of the last row that holds a value), and a grid (last row x last column
  holding a value) of at most ``max_sheet_mb`` at ``CELL_BYTES`` a cell. The
  ``<dimension>`` a sheet declares is reported, never trusted: a sheet whose
  dimension announces the whole grid (``A1:XFD1048576``) but holds little loads.

It also refuses what no spreadsheet program writes and no reader should be given:
a zip whose parts are encrypted, compressed with a method other than stored or
deflate, named twice, or named with an absolute path or ``..`` (the zip is never
extracted to disk, but such names are a sign of a crafted file).

Reasons: ``too_large: ...`` (naming the sheet or part and the limit) and
``unreadable_workbook: ...``. Messages hold part names, sheet names (screened for
identifier patterns) and sizes, never a cell value.
"""
from __future__ import annotations

import html
import io
import itertools
import re
import struct
import time
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

MB = 1_000_000
# What the reader holds per cell of a sheet's grid (measured: about 35 bytes).
CELL_BYTES = 32
# All parts of a workbook together: at most this many times max_sheet_mb (the four
# sheet kinds; shared strings and styles are small).
PARTS_PER_SHEET_LIMIT = 4
# Most parts a workbook may hold (Excel writes a few dozen).
MAX_PARTS = 10_000
_STEP = 1 << 20  # decompressed bytes per step
_HEAD = 64 * 1024  # where a sheet's <dimension> is looked for

DEFAULT_MAX_FILE_MB = 50.0
DEFAULT_MAX_SHEET_MB = 200.0
DEFAULT_MAX_ROWS_PER_SHEET = 1_000_000

_OLE_MAGIC = bytes.fromhex("D0CF11E0A1B11AE1")
_EOCD = b"PK\x05\x06"
_LOCAL = b"PK\x03\x04"

# Tags, with or without a namespace prefix (`<row `, `<x:row `).
_P = rb"(?:[A-Za-z_][\w.-]*:)?"
_ROW_TAG = re.compile(rb"<" + _P + rb"row[\s>/]")
_ROW_R = re.compile(rb"<" + _P + rb"row\s[^>]*?\br=\"(\d{1,10})\"")
_CELL_TAG = re.compile(rb"<" + _P + rb"c[\s>/]")
_CELL_WITH_R = re.compile(rb"<" + _P + rb"c\s[^>]*?\br=\"")
# A reference to column AA or beyond in a tag that is not self-closing (a self-closing
# cell holds no value). Any attribute ending in `r` counts: at worst the grid is overestimated.
_WIDE_CELL = re.compile(rb"r=\"\$?([A-Z]{2,3})\$?\d+\"[^>]*(?<!/)>")
_VALUE = re.compile(rb"<" + _P + rb"(?:v|is)[\s>]")
_DIMENSION = re.compile(rb"<" + _P + rb"dimension\s[^>]*?\bref=\"([A-Za-z0-9:$]{1,40})\"")
_CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")

_SHEET_ELEMENT = re.compile(rb"<" + _P + rb"sheet\s([^>]*)>")
_RELATIONSHIP = re.compile(rb"<" + _P + rb"Relationship\s([^>]*)>")
_ATTRIBUTE = re.compile(rb"(?:^|\s)([\w.:-]+)\s*=\s*\"([^\"]*)\"")
_SAFE_PART_NAME = re.compile(r"^[A-Za-z0-9_./\[\] -]{1,120}$")


@dataclass(frozen=True)
class WorkbookLimits:
    """The configured limits (``RegistryConfig.max_file_mb`` and friends), as plain numbers."""

    max_file_mb: float = DEFAULT_MAX_FILE_MB
    max_sheet_mb: float = DEFAULT_MAX_SHEET_MB
    max_rows_per_sheet: int = DEFAULT_MAX_ROWS_PER_SHEET

    @property
    def file_bytes(self) -> int:
        return int(self.max_file_mb * MB)

    @property
    def part_bytes(self) -> int:
        return int(self.max_sheet_mb * MB)

    @property
    def total_bytes(self) -> int:
        return PARTS_PER_SHEET_LIMIT * self.part_bytes


@dataclass
class PartCheck:
    """What the check found in one part (no cell value)."""

    name: str
    sheet: str | None  # the sheet's name, for a worksheet
    declared_bytes: int
    expanded_bytes: int = 0
    rows: int = 0  # row elements, or the number of the last row holding a value if larger
    last_column: int = 0  # last column holding a value (1 = A)
    dimension: str | None = None

    @property
    def grid_bytes(self) -> int:
        return self.rows * self.last_column * CELL_BYTES


@dataclass
class WorkbookCheck:
    size_bytes: int
    parts: list[PartCheck] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def expanded_bytes(self) -> int:
        return sum(p.expanded_bytes for p in self.parts)

    def sheet(self, name: str) -> PartCheck | None:
        return next((p for p in self.parts if p.sheet == name), None)


def _rejected(code: str, message: str):
    from registry.landing.workbook import FileRejected  # workbook.py calls this module

    return FileRejected(code, message)


def describe_bytes(n: float) -> str:
    """`12.3 MB`, or `4,096 bytes` under 0.1 MB."""
    return f"{n / MB:,.1f} MB" if n >= MB / 10 else f"{n:,.0f} bytes"


_mb = describe_bytes


def _limit_mb(value: float) -> str:
    return f"{value:g} MB"


def column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


def _dimension_rows_columns(ref: str) -> tuple[int, int]:
    last = _CELL_REF.findall(ref)[-1:] or [("A", "1")]
    return int(last[0][1]), column_number(last[0][0])


def _label(part: PartCheck) -> str:
    from registry.landing.identifiers import redact

    if part.sheet is not None:
        name = redact(part.sheet)
        return f"sheet {name[:60]!r}"
    if _SAFE_PART_NAME.match(part.name):
        return f"part {part.name!r}"
    return "a part with an unusual name"


def check_workbook(source: bytes | str | Path, limits: WorkbookLimits | None = None) -> WorkbookCheck:
    """Check a workbook's bytes (or file) against ``limits``; raise FileRejected
    (``too_large`` or ``unreadable_workbook``) before anything is expanded in memory."""
    limits = limits or WorkbookLimits()
    started = time.perf_counter()
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            size = path.stat().st_size
        except OSError as exc:
            raise _rejected("unreadable_workbook", f"cannot read the file: {type(exc).__name__}") from None
        if size > limits.file_bytes:
            raise _rejected("too_large", f"the file is {_mb(size)}, the limit is {_limit_mb(limits.max_file_mb)} "
                                         "(max_file_mb)")
        source = path.read_bytes()
    content = memoryview(source)
    size = len(content)
    if size > limits.file_bytes:
        raise _rejected("too_large", f"the file is {_mb(size)}, the limit is {_limit_mb(limits.max_file_mb)} "
                                     "(max_file_mb)")
    check = WorkbookCheck(size)
    infos = _zip_directory(bytes(content[:8]), source, size)
    parts = {info.filename: info for info in infos}
    names = _sheet_parts(source, parts, limits)
    total = 0
    for info in infos:
        part = PartCheck(info.filename, names.get(info.filename), info.file_size)
        check.parts.append(part)
        if info.file_size > limits.part_bytes:
            raise _rejected("too_large", f"{_label(part)} declares {_mb(info.file_size)} once expanded, the limit "
                                         f"is {_limit_mb(limits.max_sheet_mb)} (max_sheet_mb)")
        scan = _SheetScan(part, limits) if _is_worksheet(info.filename) else None
        for chunk in _expand(content, info, part, limits):
            total += len(chunk)
            if total > limits.total_bytes:
                raise _rejected("too_large", f"the workbook's parts expand to more than "
                                             f"{_mb(limits.total_bytes)} together, the limit is "
                                             f"{PARTS_PER_SHEET_LIMIT} x {_limit_mb(limits.max_sheet_mb)} "
                                             "(max_sheet_mb)")
            if scan is not None:
                scan.feed(chunk)
        if scan is not None:
            scan.finish()
        if part.expanded_bytes != info.file_size:
            raise _rejected("unreadable_workbook", f"{_label(part)} expands to {_mb(part.expanded_bytes)} but "
                                                   f"declares {_mb(info.file_size)} (a corrupt or crafted zip)")
    check.seconds = time.perf_counter() - started
    return check


def _zip_directory(head: bytes, source: bytes, size: int) -> list[zipfile.ZipInfo]:
    if head.startswith(_OLE_MAGIC):
        raise _rejected("unreadable_workbook", "an OLE compound file, not a zip: a password-protected "
                                               "(encrypted) workbook or an old .xls")
    if size == 0:
        raise _rejected("unreadable_workbook", "the file is empty")
    tail = source[-(65535 + 22):]
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        if not head.startswith(_LOCAL):
            raise _rejected("unreadable_workbook", "not a zip file (an .xlsx is a zip; is it a CSV or another "
                                                   "format renamed?)")
        raise _rejected("unreadable_workbook", "the zip has no directory (truncated: an interrupted copy?)")
    (n_entries,) = struct.unpack("<H", tail[at + 10:at + 12])
    if n_entries > MAX_PARTS:
        raise _rejected("too_large", f"the zip holds {n_entries:,} parts, the limit is {MAX_PARTS:,}")
    try:
        infos = zipfile.ZipFile(io.BytesIO(source)).infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError, struct.error) as exc:
        raise _rejected("unreadable_workbook", f"corrupt zip ({type(exc).__name__})") from None
    if len(infos) > MAX_PARTS:
        raise _rejected("too_large", f"the zip holds {len(infos):,} parts, the limit is {MAX_PARTS:,}")
    if not infos:
        raise _rejected("unreadable_workbook", "the zip is empty")
    seen: set[str] = set()
    for info in infos:
        name = info.filename
        parts = re.split(r"[/\\]", name)
        if (name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name) or ".." in parts or "\0" in name
                or info.orig_filename != info.filename and "\\" in info.orig_filename):
            raise _rejected("unreadable_workbook", "the zip holds a part with an absolute or '..' path "
                                                   "(a crafted file)")
        if name.lower() in seen:
            raise _rejected("unreadable_workbook", "the zip holds two parts of the same name (a crafted file)")
        seen.add(name.lower())
        if info.flag_bits & 0x1:
            raise _rejected("unreadable_workbook", "the zip's parts are encrypted (password protected)")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _rejected("unreadable_workbook", f"a part is compressed with method {info.compress_type}, "
                                                   "not one spreadsheet programs write")
        if info.header_offset + 30 + info.compress_size > size:
            raise _rejected("unreadable_workbook", "a part runs past the end of the file (truncated)")
    return infos


def _data_start(content: memoryview, info: zipfile.ZipInfo) -> int:
    header = bytes(content[info.header_offset:info.header_offset + 30])
    if len(header) < 30 or not header.startswith(_LOCAL):
        raise _rejected("unreadable_workbook", "a part's local header is missing (corrupt zip)")
    name_len, extra_len = struct.unpack("<HH", header[26:30])
    return info.header_offset + 30 + name_len + extra_len


def _expand(content: memoryview, info: zipfile.ZipInfo, part: PartCheck, limits: WorkbookLimits):
    """The part's decompressed bytes in steps of at most 1 MB; stops past the limit."""
    start = _data_start(content, info)
    raw = content[start:start + info.compress_size]
    if len(raw) < info.compress_size:
        raise _rejected("unreadable_workbook", "a part runs past the end of the file (truncated)")
    cap = limits.part_bytes
    if info.compress_type == zipfile.ZIP_STORED:
        for at in range(0, len(raw), _STEP):
            chunk = bytes(raw[at:at + _STEP])
            part.expanded_bytes += len(chunk)
            _check_part_size(part, cap, limits)
            yield chunk
        return
    inflater = zlib.decompressobj(-15)
    pending = raw
    try:
        while True:
            chunk = inflater.decompress(pending, _STEP)
            pending = inflater.unconsumed_tail
            if chunk:
                part.expanded_bytes += len(chunk)
                _check_part_size(part, cap, limits)
                yield chunk
            if inflater.eof or (not pending and not chunk):
                break
    except zlib.error:
        raise _rejected("unreadable_workbook", f"{_label(part)} is not valid deflate data (corrupt zip)") from None
    if not inflater.eof:
        raise _rejected("unreadable_workbook", f"{_label(part)} ends early (truncated or corrupt zip)")


def _check_part_size(part: PartCheck, cap: int, limits: WorkbookLimits) -> None:
    if part.expanded_bytes > cap:
        raise _rejected("too_large", f"{_label(part)} expands to more than {_limit_mb(limits.max_sheet_mb)} "
                                     f"(max_sheet_mb; it declares {_mb(part.declared_bytes)})")
    if part.expanded_bytes > part.declared_bytes:
        # a zip entry that expands past the size it declares: a zip bomb, stopped here
        raise _rejected("too_large", f"{_label(part)} expands past the {_mb(part.declared_bytes)} it declares; "
                                     f"refused before expanding further (limit {_limit_mb(limits.max_sheet_mb)}, "
                                     "max_sheet_mb)")


def _is_worksheet(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith("xl/worksheets/") and lowered.endswith(".xml") and "/_rels/" not in lowered


class _SheetScan:
    """Rows and last column of one worksheet, from its XML in steps; tags never split
    (each step is cut at its last `<`, the rest carried to the next)."""

    def __init__(self, part: PartCheck, limits: WorkbookLimits):
        self.part = part
        self.limits = limits
        self.carry = b""
        self.row_tags = 0
        self.last_value_row = 0
        self.cells_in_open_row = 0  # cells without `r`: counted per row (see _count_unreferenced)
        self.open_row = 0  # number of the last row element seen
        self.seen_head = 0
        self.head = b""

    def feed(self, chunk: bytes) -> None:
        buffer = self.carry + chunk
        cut = buffer.rfind(b"<")
        if cut <= 0:
            # no complete tag boundary: all text, or one tag start at 0
            if cut < 0:
                self.carry = b""
                self._scan(buffer)
            else:
                self.carry = buffer if len(buffer) < _HEAD else b""
            return
        self.carry = buffer[cut:]
        if len(self.carry) > _HEAD:  # a tag longer than any Excel writes: skip its text
            self.carry = b""
        self._scan(buffer[:cut])

    def finish(self) -> None:
        if self.carry:
            self._scan(self.carry)
            self.carry = b""
        self._check()

    def _scan(self, data: bytes) -> None:
        part = self.part
        if self.seen_head < _HEAD:
            self.head += data[:_HEAD - self.seen_head]
            self.seen_head += len(data)
            if part.dimension is None and (found := _DIMENSION.search(self.head)):
                part.dimension = found.group(1).decode("ascii")
        # Plain tags (`<row `) are counted with bytes.count; prefixed ones (`<x:row `) and
        # attributes after a tab or line break take the regular expressions (slower, rare).
        plain = b":row" not in data and b":c" not in data
        n_rows = data.count(b"<row ") + data.count(b"<row>") if plain else len(_ROW_TAG.findall(data))
        first_ordinal = self.row_tags
        self.row_tags += n_rows
        # the last row holding a value: the row element before the last value element
        if plain:
            last_value = max(data.rfind(b"<v>"), data.rfind(b"<v "), data.rfind(b"<is>"))
        else:
            last_value = -1
            for found in _VALUE.finditer(data):
                last_value = found.start()
        if last_value >= 0:
            at = _last_row_tag(data, 0, last_value, plain)
            number = self._row_number(data, at, first_ordinal, plain) if at >= 0 else self.open_row
            self.last_value_row = max(self.last_value_row, number)
        if n_rows:
            self.open_row = self._row_number(data, _last_row_tag(data, 0, len(data), plain), first_ordinal, plain)
        wide = _WIDE_CELL.findall(data)
        if wide:
            part.last_column = max(part.last_column, max(column_number(c.decode()) for c in set(wide)))
        while part.last_column < 26:
            above = bytes([65 + part.last_column])  # the letter after the last column seen
            found = re.search(rb'r="\$?([' + above + rb'-Z])\$?[0-9]', data)
            if not found:
                break
            part.last_column = column_number(found.group(1).decode())
        if plain:
            # `<c` also counts the rare `<charset` of rich text: at worst a needless slow path
            cells, referenced = data.count(b"<c"), data.count(b'<c r="')
        else:
            cells, referenced = len(_CELL_TAG.findall(data)), len(_CELL_WITH_R.findall(data))
        if cells > referenced:
            self._count_unreferenced(data)
        part.rows = max(self.row_tags, self.last_value_row)
        self._check()

    def _row_number(self, data: bytes, at: int, ordinal_before: int, plain: bool) -> int:
        """The number of the row element at ``at``: its `r`, else its position."""
        found = _ROW_R.match(data, at)
        if found:
            return int(found.group(1))
        before = (data.count(b"<row ", 0, at) + data.count(b"<row>", 0, at) if plain
                  else len(_ROW_TAG.findall(data, 0, at)))
        return ordinal_before + before + 1

    def _count_unreferenced(self, data: bytes) -> None:
        """Cells written without `r` take the next column: the widest row counts
        (each row's `<c` tags counted by bytes.count over the split, no regex per row)."""
        pieces = data.split(b"<row")
        counts = list(map(bytes.count, pieces, itertools.repeat(b"<c", len(pieces))))
        counts[0] += self.cells_in_open_row
        self.cells_in_open_row = counts[-1] if len(pieces) > 1 else counts[0]
        self.part.last_column = max(self.part.last_column, max(counts))

    def _check(self) -> None:
        part, limits = self.part, self.limits
        announced = f"; its dimension says {part.dimension}" if part.dimension else ""
        if part.rows > limits.max_rows_per_sheet:
            raise _rejected("too_large", f"{_label(part)} holds more than {limits.max_rows_per_sheet:,} rows "
                                         f"(max_rows_per_sheet; {part.rows:,} counted so far{announced})")
        if part.grid_bytes > limits.part_bytes:
            raise _rejected("too_large", f"{_label(part)} spans {part.rows:,} rows x {part.last_column:,} columns, "
                                         f"more than {_limit_mb(limits.max_sheet_mb)} once read (max_sheet_mb, "
                                         f"{CELL_BYTES} bytes a cell{announced})")


def _last_row_tag(data: bytes, start: int, end: int, plain: bool) -> int:
    """Position of the last row start tag in data[start:end], or -1."""
    if plain:
        return max(data.rfind(b"<row ", start, end), data.rfind(b"<row>", start, end), data.rfind(b"<row/>", start, end))
    last = -1
    for found in _ROW_TAG.finditer(data, start, end):
        last = found.start()
    return last


def _read_small(content: memoryview, info: zipfile.ZipInfo, limits: WorkbookLimits) -> bytes:
    part = PartCheck(info.filename, None, info.file_size)
    if info.file_size > limits.part_bytes:
        raise _rejected("too_large", f"{_label(part)} declares {_mb(info.file_size)} once expanded, the limit "
                                     f"is {_limit_mb(limits.max_sheet_mb)} (max_sheet_mb)")
    return b"".join(_expand(content, info, part, limits))


def _attributes(raw: bytes) -> dict[str, str]:
    out = {}
    for key, value in _ATTRIBUTE.findall(raw):
        name = key.decode("utf-8", "replace").rsplit(":", 1)[-1]
        out.setdefault(name, html.unescape(value.decode("utf-8", "replace")))
    return out


def _sheet_parts(source: bytes, parts: dict[str, zipfile.ZipInfo], limits: WorkbookLimits) -> dict[str, str]:
    """Worksheet part -> sheet name, from xl/workbook.xml and its relationships (best effort)."""
    content = memoryview(source)
    book = parts.get("xl/workbook.xml")
    rels = parts.get("xl/_rels/workbook.xml.rels")
    if book is None or rels is None:
        return {}
    targets = {}
    for raw in _RELATIONSHIP.findall(_read_small(content, rels, limits)):
        attrs = _attributes(raw)
        target = attrs.get("Target", "")
        if target.startswith("/"):
            resolved = target.lstrip("/")
        else:
            resolved = str(PurePosixPath("xl") / target)
        targets[attrs.get("Id")] = _normalise_part(resolved)
    out = {}
    for raw in _SHEET_ELEMENT.findall(_read_small(content, book, limits)):
        attrs = _attributes(raw)
        target = targets.get(attrs.get("id"))
        if target and "name" in attrs:
            out[target] = attrs["name"]
    return out


def _normalise_part(path: str) -> str:
    out: list[str] = []
    for piece in path.split("/"):
        if piece == "..":
            if out:
                out.pop()
        elif piece not in ("", "."):
            out.append(piece)
    return "/".join(out)
