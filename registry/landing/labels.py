"""Normalisation of sheet names and column headers before dictionary look-up.

Sites write the same header in many ways (`Fecha de implantación*`,
`EVA (mm)`, `Patienten-\nNr.`); both the dictionary and the workbook pass
through the same function so that only the words count.
"""
from __future__ import annotations

import re
import unicodedata

_BRACKETED = re.compile(r"\([^)]*\)|\[[^\]]*\]|\{[^}]*\}")
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_label(text: object) -> str:
    """Accent-free, case-folded words of a header, without bracketed units or `*`."""
    if text is None:
        return ""
    text = str(text)
    if text.isascii():  # most labels: nothing to decompose
        stripped = text
    else:
        decomposed = unicodedata.normalize("NFKD", text)
        stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    # `#` reads "number": `Patient #` is `Patient No`
    folded = _BRACKETED.sub(" ", stripped.casefold()).replace("*", " ").replace("#", " no ")
    return " ".join(_NOT_WORD.sub(" ", folded).split())


def normalise_sheet_name(text: object) -> str:
    """Like normalise_label, and word order does not matter (contract section 3)."""
    return " ".join(sorted(normalise_label(text).split()))
