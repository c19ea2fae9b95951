"""The suite's tally of hostile inputs: what was tried, and what got through.

Every part of the suite that tries bad input (the hostile-file corpus, crash points,
the disclosure audit, the privacy scan) adds its counts here with ``add``; the counts
that must stay zero say what got through. ``tests/conftest.py`` prints the line at the
end of the run:
``tally: bad inputs tried N, faults injected M, rows lost 0, identifier leaks 0, disclosive cells 0``.
"""
from __future__ import annotations

from collections import Counter

ITEMS = (("bad_inputs", "bad inputs tried"), ("faults_injected", "faults injected"),
         ("rows_lost", "rows lost"), ("identifier_leaks", "identifier leaks"),
         ("disclosive_cells", "disclosive cells"))
TALLY: Counter[str] = Counter()


def add(**counts: int) -> None:
    unknown = set(counts) - {key for key, _ in ITEMS}
    if unknown:
        raise KeyError(f"not a tally item: {sorted(unknown)}")
    TALLY.update(counts)


def line(counts: Counter | None = None) -> str:
    counts = TALLY if counts is None else counts
    return ", ".join(f"{label} {counts[key]}" for key, label in ITEMS)
