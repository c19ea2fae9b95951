"""The sheet-name and header dictionaries, kept as data in ``data/*.csv``.

``sheet_names.csv``: sheet_kind, language, name.
``header_dictionary.csv``: sheet_kind (or ``any``), field, role (``field`` is
kept, ``identifier`` is dropped before anything is written), language, synonym.
Adding a language or a variant is adding rows; no code changes.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from registry.landing.labels import normalise_label, normalise_sheet_name

DATA_DIR = Path(__file__).resolve().parent / "data"
SHEET_KINDS = ("patients", "visits", "events", "exits")
ROLES = ("field", "identifier")


@dataclass(frozen=True)
class HeaderMatch:
    field: str
    role: str  # "field" or "identifier"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=None)
def sheet_name_index(path: Path = DATA_DIR / "sheet_names.csv") -> dict[str, str]:
    """Normalised sheet name -> sheet kind; a name claimed by two kinds is an error."""
    index: dict[str, str] = {}
    for line, row in enumerate(_read_csv(path), start=2):
        kind = row["sheet_kind"].strip()
        if kind not in SHEET_KINDS:
            raise ValueError(f"{path.name} line {line}: unknown sheet_kind {kind!r}")
        key = normalise_sheet_name(row["name"])
        if index.setdefault(key, kind) != kind:
            raise ValueError(f"{path.name} line {line}: {row['name']!r} already names {index[key]} sheets")
    return index


@lru_cache(maxsize=None)
def header_index(path: Path = DATA_DIR / "header_dictionary.csv") -> dict[str, dict[str, HeaderMatch]]:
    """Sheet kind -> normalised header -> match (``any`` rows are merged into every kind)."""
    rows = _read_csv(path)
    index: dict[str, dict[str, HeaderMatch]] = {kind: {} for kind in SHEET_KINDS}
    # sheet-specific rows first so that they are reported as the conflict's owner
    for line, row in sorted(enumerate(rows, start=2), key=lambda item: item[1]["sheet_kind"] == "any"):
        kind, role = row["sheet_kind"].strip(), row["role"].strip()
        if kind != "any" and kind not in SHEET_KINDS:
            raise ValueError(f"{path.name} line {line}: unknown sheet_kind {kind!r}")
        if role not in ROLES:
            raise ValueError(f"{path.name} line {line}: role must be one of {ROLES}, not {role!r}")
        key = normalise_label(row["synonym"])
        if not key:
            raise ValueError(f"{path.name} line {line}: empty synonym")
        match = HeaderMatch(row["field"].strip(), role)
        for target in SHEET_KINDS if kind == "any" else (kind,):
            if index[target].setdefault(key, match) != match:
                raise ValueError(
                    f"{path.name} line {line}: {row['synonym']!r} already maps to "
                    f"{index[target][key].field} in {target} sheets"
                )
    return index
