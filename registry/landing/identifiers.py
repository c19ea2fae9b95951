"""Identifier-like patterns in free text: found (for profiles) and redacted (before storing).

Free text that must be kept (note rows, unmapped terms echoed in data-quality
tables and check metadata, headers) may hold what a site typed: an e-mail, a
phone, a record or national id. Every such text passes through ``redact`` (or its
Arrow twin) before it is written. Names cannot be recognised by shape; they are
kept out by never storing an unknown column's values at all.

The patterns are RE2-compatible (Arrow and DuckDB) and Python ``re``-compatible, so the
same list serves the vectorised and the scalar paths.
"""
from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

# name -> (pattern, replacement). Order matters: the most specific first.
PATTERNS: dict[str, tuple[str, str]] = {
    "email": (r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}", "[e-mail]"),
    # nine digits or more, with the separators phone numbers are written with
    "phone": (r"(?:\+|\b)\d(?:[ ()./-]{0,2}\d){8,}", "[phone]"),
    # letters then a run of digits: MRN12345, AB-123456, NHS 9434765919, 12345678Z
    "record_number": (r"\b(?:[A-Za-z]{1,5}(?:[#:/-]{1,2}\d{4,}|\d{4,}| \d{5,})[A-Za-z]?|\d{6,}[A-Za-z])\b",
                      "[record number]"),
    "long_number": (r"\b\d{6,}\b", "[number]"),
}
# Python's re in ASCII mode reads \b, \d and \w as RE2 (Arrow, DuckDB) does. The
# patterns are applied one after the other, in this order, on every path.
_COMPILED = [(name, re.compile(pattern, re.ASCII), replacement) for name, (pattern, replacement) in PATTERNS.items()]

# Dates are not identifiers: `2017-07-31 00:00` or `31.12.2017 10:30` would read as a
# phone (ten digits joined by `-`, `.` and a space). Before the patterns run, the
# separators inside a date are masked with private-use characters, and put back after.
# A date is a whole token: not glued to other digits by a separator, so that a phone
# written `06.12.34.56.78` is no date. Text that already holds a mask character is
# screened unmasked (at worst a date is redacted, never an identifier kept).
_MASKS = {"-": "\ue000", ".": "\ue001", "/": "\ue002"}
_MASKED = "[" + "".join(_MASKS.values()) + "]"
_BEFORE = r"(^|[^0-9./-])"
_AFTER = r"($|[^0-9./-]|[./-][^0-9]|[./-]$)"
DATE_PATTERNS: list[tuple[str, str]] = []
for _sep, _mask in _MASKS.items():
    _s = re.escape(_sep)
    DATE_PATTERNS.append((_BEFORE + rf"(\d{{4}}){_s}(\d{{1,2}}){_s}(\d{{1,2}})" + _AFTER, rf"\1\2{_mask}\3{_mask}\4\5"))
    DATE_PATTERNS.append((_BEFORE + rf"(\d{{1,2}}){_s}(\d{{1,2}}){_s}(\d{{2,4}})" + _AFTER, rf"\1\2{_mask}\3{_mask}\4\5"))
# two passes: a date whose leading context the previous match consumed is masked by the second
_DATE_PASSES = 2
_DATE_RES = [(re.compile(p, re.ASCII), r) for p, r in DATE_PATTERNS]


def _mask_dates(text: str) -> str:
    for _ in range(_DATE_PASSES):
        for pattern, replacement in _DATE_RES:
            text = pattern.sub(replacement, text)
    return text


def _unmask(text: str) -> str:
    for sep, mask in _MASKS.items():
        text = text.replace(mask, sep)
    return text


def find(text: str | None) -> list[str]:
    """Names of the patterns found in ``text``."""
    if not text:
        return []
    screened = text if _MASKED_RE.search(text) else _mask_dates(text)
    return sorted(name for name, pattern, _ in _COMPILED if pattern.search(screened))


_MASKED_RE = re.compile(_MASKED)


def redact(text: str | None) -> str | None:
    """``text`` with every identifier-like run replaced by its kind, e.g. ``[e-mail]``."""
    if text is None:
        return None
    if _MASKED_RE.search(text):
        return _apply(text)
    return _unmask(_apply(_mask_dates(text)))


def _apply(text: str) -> str:
    for _, pattern, replacement in _COMPILED:
        text = pattern.sub(replacement.replace("\\", "\\\\"), text)
    return text


def _mask_dates_array(values):
    for _ in range(_DATE_PASSES):
        for pattern, replacement in DATE_PATTERNS:
            values = pc.replace_substring_regex(values, pattern, replacement)
    return values


def _unmask_array(values):
    for sep, mask in _MASKS.items():
        values = pc.replace_substring(values, mask, sep)
    return values


# Every pattern needs a digit or an `@`: values without one are left as they are.
_CANDIDATE = r"[0-9@]"


def redact_array(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``redact`` over an Arrow string column, vectorised (the same result, value by value).
    Only the values holding a digit or an `@` go through the patterns."""
    if not pa.types.is_string(values.type) and not pa.types.is_large_string(values.type):
        values = values.cast(pa.string())
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    candidate = pc.fill_null(pc.match_substring_regex(values, _CANDIDATE), False)
    n = pc.sum(candidate).as_py() or 0
    if n == 0:
        return values
    if n == len(values):
        return _redact_all(values)
    return pc.replace_with_mask(values, candidate, _redact_all(pc.filter(values, candidate)))


def _redact_all(values: pa.Array) -> pa.Array:
    plain = pc.fill_null(pc.match_substring_regex(values, _MASKED), False)
    masked = _mask_dates_array(values)
    out_plain, out_masked = values, masked
    for pattern, replacement in PATTERNS.values():
        out_plain = pc.replace_substring_regex(out_plain, pattern, replacement)
        out_masked = pc.replace_substring_regex(out_masked, pattern, replacement)
    if not pc.any(plain).as_py():
        return _unmask_array(out_masked)
    return pc.if_else(plain, out_plain, _unmask_array(out_masked))


def count_matches(values: pa.Array | pa.ChunkedArray) -> dict[str, int]:
    """How many values of a column hold each pattern (a profile, no value kept)."""
    masked = _mask_dates_array(values)
    counts = {}
    for name, (pattern, _) in PATTERNS.items():
        hits = pc.match_substring_regex(masked, pattern)
        counts[name] = int(pc.sum(pc.fill_null(hits, False)).as_py() or 0)
    return counts


def redact_sql(expr: str) -> str:
    """A DuckDB expression of ``expr`` with the patterns replaced (for SQL-side screening)."""
    out = expr
    for pattern, replacement in DATE_PATTERNS * _DATE_PASSES:
        escaped = pattern.replace("'", "''")
        out = f"regexp_replace({out}, '{escaped}', '{_sql_rewrite(replacement)}', 'g')"
    for pattern, replacement in PATTERNS.values():
        escaped = pattern.replace("'", "''")
        out = f"regexp_replace({out}, '{escaped}', '{replacement}', 'g')"
    for sep, mask in _MASKS.items():
        out = f"replace({out}, '{mask}', '{sep}')"
    return out


def _sql_rewrite(replacement: str) -> str:
    return replacement.replace("'", "''")


def looks_like_date(text: str | None) -> bool:
    """Whether ``text`` holds a date (a birth date typed where a header or term belongs)."""
    return bool(text) and any(regex.search(text) for regex, _ in _DATE_RES)
