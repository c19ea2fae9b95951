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
    "phone": (r"(?:\+|\b)\d(?:[ ().-]{0,2}\d){8,}", "[phone]"),
    # letters then a run of digits: MRN12345, AB-123456, NHS 9434765919, 12345678Z
    "record_number": (r"\b(?:[A-Za-z]{1,5}(?:[#:/-]{1,2}\d{4,}|\d{4,}| \d{5,})[A-Za-z]?|\d{6,}[A-Za-z])\b",
                      "[record number]"),
    "long_number": (r"\b\d{6,}\b", "[number]"),
}
_COMBINED = re.compile("|".join(f"(?P<{name}>{pattern})" for name, (pattern, _) in PATTERNS.items()))


def find(text: str | None) -> list[str]:
    """Names of the patterns found in ``text``."""
    if not text:
        return []
    return sorted({m.lastgroup for m in _COMBINED.finditer(text) if m.lastgroup})


def redact(text: str | None) -> str | None:
    """``text`` with every identifier-like run replaced by its kind, e.g. ``[e-mail]``."""
    if text is None:
        return None
    return _COMBINED.sub(lambda m: PATTERNS[m.lastgroup][1], text)


def redact_array(values: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """``redact`` over an Arrow string column, vectorised."""
    out = values
    for pattern, replacement in PATTERNS.values():
        out = pc.replace_substring_regex(out, pattern, replacement)
    return out


def count_matches(values: pa.Array | pa.ChunkedArray) -> dict[str, int]:
    """How many values of a column hold each pattern (a profile, no value kept)."""
    counts = {}
    for name, (pattern, _) in PATTERNS.items():
        hits = pc.match_substring_regex(values, pattern)
        counts[name] = int(pc.sum(pc.fill_null(hits, False)).as_py() or 0)
    return counts


def redact_sql(expr: str) -> str:
    """A DuckDB expression of ``expr`` with the patterns replaced (for SQL-side screening)."""
    out = expr
    for pattern, replacement in PATTERNS.values():
        escaped = pattern.replace("'", "''")
        out = f"regexp_replace({out}, '{escaped}', '{replacement}', 'g')"
    return out
