"""Free text screened for identifier patterns before the landing writes it.

What a site types where free text is kept (note rows, unknown columns, term fields
such as an exit reason, headers and sheet names) may hold an e-mail, a phone or a
record number. ``screen_rows`` redacts them with ``registry.landing.identifiers``,
column by column on Arrow (no loop over rows); ``screen_label`` does the same for
the few labels (headers, sheet names) written into JSON and reports.

Dates and measures are not screened (a compact date `20170731` is a long number):
only the fields in ``FREE_TEXT_FIELDS``, the note text and the unknown columns.
"""
from __future__ import annotations

import functools

import pyarrow as pa

from registry.landing.identifiers import redact, redact_array

# Fields whose values are words a site typed (term mapping reads them; digits of an
# identifier never map to a term).
FREE_TEXT_FIELDS: dict[str, tuple[str, ...]] = {
    "patients": ("sex", "implant_type", "cancer_type", "drugs", "pain_location", "pump_model", "catheter_model"),
    "visits": ("visit_label",),
    "events": ("event_term", "intervention", "serious"),
    "exits": ("exit_reason",),
}


def screened_columns(rows: pa.Table, kind: str) -> list[str]:
    """The columns of a sheet's rows table that ``screen_rows`` redacts."""
    wanted = set(FREE_TEXT_FIELDS.get(kind, ()))
    return [name for name in rows.column_names
            if name in wanted or name == "note_text" or name.startswith("extra_")]


def screen_rows(rows: pa.Table, kind: str) -> pa.Table:
    """``rows`` with identifier-like runs of its free-text columns replaced (``[phone]``, ...)."""
    for name in screened_columns(rows, kind):
        column = rows.column(name)
        if column.null_count == len(column):
            continue
        rows = rows.set_column(rows.schema.get_field_index(name), name, redact_array(column))
    return rows


@functools.lru_cache(maxsize=4096)
def screen_label(text: str | None) -> str | None:
    """A header or sheet name as it may be stored or reported (labels repeat: cached)."""
    return redact(text)


def screen_labels(texts: list[str]) -> list[str]:
    return [screen_label(t) for t in texts]
