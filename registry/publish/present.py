"""How a published value is shown: the one home of column facts and labels.

``columns.csv`` (mart or blank for any mart, column name or pattern, label,
unit, kind, decimals, labels, when_suppressed, description) says what each
column is and how to show it; ``labels.csv`` (key, en, es, pt, fr, de, it, nl)
turns codes into words. The HTML report and the Excel workbook both read
them through this module, so a label, a unit or a number of decimals is
changed in one place.

Kinds: ``text``, ``sentence`` (text with a capital first letter), ``label``
(a code shown through ``labels.csv``, concept in ``labels``), ``count``,
``number`` and ``percent`` (``decimals``), ``p`` (``decimals``; smaller
values are ``<0.0001`` in text and scientific in Excel), ``date``
(``YYYY-MM-DD``), ``year``, ``flag`` (yes/no), ``id``.

Small-cell suppression is shown, never left to guess: in a suppressed row a
withheld count of a primary rule of ``registry/marts/small_cells.csv`` shows
``<N`` (N = small_cell_max + 1), another withheld count ``withheld``, and
columns marked ``hide`` (ranks, interval bounds) are hidden.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

LANGUAGES = ("en", "es", "pt", "fr", "de", "it", "nl")
NUMERIC_KINDS = ("count", "number", "percent", "p", "year")
NOT_AVAILABLE = "–"

# Cell states of a suppressed row.
SMALL, HIDDEN = "small", "hidden"


@dataclass(frozen=True)
class Column:
    """What a column of a mart is and how it is shown."""

    mart: str
    name: str
    label: str
    unit: str
    kind: str
    decimals: int | None
    labels: str
    when_suppressed: str
    description: str

    @property
    def header(self) -> str:
        """Label with its unit, e.g. ``Mean pain, baseline (0-10)``."""
        if self.unit and self.unit not in ("patients", "rows", "sites", "year", "probability",
                                           "index"):
            return f"{self.label} ({self.unit})"
        return self.label

    @property
    def numeric(self) -> bool:
        return self.kind in NUMERIC_KINDS


def _read_csv(name: str) -> pd.DataFrame:
    with resources.files(__package__).joinpath(name).open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def _column_rows() -> tuple[tuple[str, re.Pattern, dict], ...]:
    rows = []
    for row in _read_csv("columns.csv").to_dict("records"):
        rows.append((row["mart"], re.compile(row["column"]), row))
    return tuple(rows)


@lru_cache(maxsize=None)
def column(mart: str, name: str) -> Column:
    """The first row of ``columns.csv`` for this mart (or any mart) whose
    column pattern matches the whole name; unknown columns get a readable
    label from their name and a kind from nothing (text)."""
    for mart_name, pattern, row in _column_rows():
        if mart_name in ("", mart) and pattern.fullmatch(name):
            return Column(mart=mart, name=name, label=row["label"], unit=row["unit"],
                          kind=row["kind"], decimals=int(row["decimals"]) if row["decimals"] else None,
                          labels=row["labels"], when_suppressed=row["when_suppressed"],
                          description=row["description"])
    return Column(mart=mart, name=name, label=name.replace("_", " ").capitalize(), unit="",
                  kind="", decimals=None, labels="", when_suppressed="", description="")


def columns_table(marts: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """The column dictionary of these marts: mart, column, label, unit, description."""
    rows = [{"mart": mart, "column": str(name), "label": c.label, "unit": c.unit,
             "shown as": describe_format(c), "description": c.description}
            for mart, df in marts.items() for name in df.columns
            for c in [column(mart, str(name))]]
    return pd.DataFrame(rows, columns=["mart", "column", "label", "unit", "shown as",
                                       "description"])


def describe_format(c: Column) -> str:
    if c.kind in ("number", "percent"):
        return f"{c.decimals} decimal" + ("" if c.decimals == 1 else "s")
    if c.kind == "p":
        return f"{c.decimals} decimals; below {10 ** -c.decimals:g} scientific"
    return {"count": "whole number", "date": "YYYY-MM-DD", "year": "year", "flag": "yes/no",
            "label": "label of the code"}.get(c.kind, "text")


# --- labels -----------------------------------------------------------------

@lru_cache(maxsize=1)
def _labels() -> dict[str, dict[str, str]]:
    table = _read_csv("labels.csv")
    return {row["key"]: {lang: row.get(lang, "") for lang in LANGUAGES}
            for row in table.to_dict("records")}


def code_of(value) -> str:
    """The code of a value: ``code: message`` texts keep only the code."""
    return str(value).split(":", 1)[0].strip()


def text(key: str, language: str = "en", default: str | None = None) -> str:
    """The text of ``key`` in ``language``, else English, else ``default``
    (the key itself when no default is given)."""
    entry = _labels().get(key)
    if entry:
        for lang in (language, "en"):
            if entry.get(lang):
                return entry[lang]
    return key if default is None else default


def label(concept: str, code, language: str = "en") -> str:
    """Words for a code of ``concept`` (``exit_category``, ``reason``, ...),
    falling back to English and then to the code."""
    if code is None or (not isinstance(code, str) and pd.isna(code)):
        return ""
    code = code_of(code) if concept in ("reason", "warning") else str(code)
    return text(f"{concept}.{code}", language, default=code)


def known_key(key: str) -> bool:
    return key in _labels()


# --- values -----------------------------------------------------------------

def is_missing(value) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, (float, np.floating)):
        return math.isnan(value)
    return False


def rounded(value, decimals: int) -> float:
    """Half-up rounding as printed; a value that rounds to zero is 0, never -0."""
    result = float(Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP))
    return 0.0 if result == 0 else result


def as_date(value) -> date | None:
    """A date from a date, a timestamp or ISO text (``2017-07-31T00:00:00`` too)."""
    if is_missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return value.date()
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    match = re.match(r"^(\d{4}-\d{2}-\d{2})", str(value))
    return date.fromisoformat(match.group(1)) if match else None


def iso_date(value) -> str:
    d = as_date(value)
    return d.isoformat() if d else ("" if is_missing(value) else str(value))


def timestamp(value) -> str:
    """An ISO time as ``2017-08-02 10:00 UTC`` (naive times are taken as UTC)."""
    if is_missing(value) or value == "":
        return ""
    try:
        ts = pd.Timestamp(value)
    except (ValueError, TypeError):
        return str(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%d %H:%M UTC")


def format_number(value, decimals: int) -> str:
    return f"{rounded(value, decimals):,.{decimals}f}"


def format_p(value, decimals: int = 4) -> str:
    floor = 10 ** -decimals
    if value < floor:
        return f"<{floor:.{decimals}f}"
    return f"{rounded(value, decimals):.{decimals}f}"


def format_value(c: Column, value, language: str = "en") -> str:
    """A value as text, the way the report shows it ('' when missing)."""
    if is_missing(value):
        return ""
    kind = c.kind
    if kind == "label":
        return label(c.labels, value, language)
    if kind == "sentence":
        s = str(value)
        return s[:1].upper() + s[1:]
    if kind == "count":
        return f"{int(round(float(value))):,}"
    if kind in ("number", "percent"):
        return format_number(value, c.decimals if c.decimals is not None else 2)
    if kind == "p":
        return format_p(float(value), c.decimals or 4)
    if kind == "date":
        return iso_date(value)
    if kind == "year":
        return str(int(value))
    if kind == "flag":
        return "yes" if bool(value) else "no"
    if isinstance(value, (pd.Timestamp, datetime, date)):
        return iso_date(value)
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return format_number(value, 2)
    return str(value)


def excel_format(c: Column) -> str | None:
    """The Excel number format of a column, from the same facts."""
    if c.kind == "count":
        return "#,##0"
    if c.kind in ("number", "percent"):
        d = c.decimals if c.decimals is not None else 2
        return "0." + "0" * d if d else "0"
    if c.kind == "p":
        d = c.decimals or 4
        return f"[<{10 ** -d:.{d}f}]0.0E+00;0.{'0' * d}"
    if c.kind == "date":
        return "yyyy-mm-dd"
    if c.kind == "year":
        return "0"
    return None


# --- small cells ------------------------------------------------------------

def suppression_mark(small_cell_max: int) -> str:
    """``<N*`` with N = small_cell_max + 1: what every withheld count shows.

    One mark for the small counts and for the counts withheld to protect them
    (complementary suppression): a distinct mark would tell a reader which withheld
    counts are small and which are not, and let the published totals pin them down."""
    return f"<{small_cell_max + 1}*"


def suppression_state(c: Column, value, row_suppressed: bool) -> str | None:
    """None (show the value), SMALL (``<N*``: a withheld count) or HIDDEN."""
    if not row_suppressed:
        return None
    if c.when_suppressed == "hide":
        return HIDDEN
    if not is_missing(value):
        return None
    if c.kind == "count":
        return SMALL
    return HIDDEN


def suppression_legend(small_cell_max: int) -> str:
    """One sentence on how suppressed cells are shown, following the configured bound."""
    if small_cell_max <= 0:
        return "No small-cell suppression was configured for this publish."
    mark = suppression_mark(small_cell_max)
    return (f"{mark}: a count of 1 to {small_cell_max} patients in a region row, or a count "
            "withheld so that such a count cannot be worked out from the others (small-cell "
            f"protection, bound {small_cell_max}); {NOT_AVAILABLE}: a figure derived from a "
            "withheld count, or not available. Ranks and interval bounds of such rows are "
            "hidden. All-regions rows are exact.")


def cell_text(c: Column, value, row_suppressed: bool, small_cell_max: int,
              language: str = "en") -> str:
    """The text of one cell, suppression included ('' for hidden cells)."""
    state = suppression_state(c, value, row_suppressed)
    if state == SMALL:
        return suppression_mark(small_cell_max)
    if state == HIDDEN:
        return NOT_AVAILABLE
    shown = format_value(c, value, language)
    return shown if shown != "" else NOT_AVAILABLE


def sentence_case(value: str) -> str:
    return value[:1].upper() + value[1:]
