"""The suite's tally of hostile inputs: what was tried, and what got through.

Each part of the suite (the hostile-file corpus, crash points, disclosive cells, ...)
records its counts under its own name with ``record(config, part, **counts)``; they
are kept in pytest's cache (``registry/tally/<part>``, under ``.pytest_cache``) and
in ``<cache>/registry/tally.json``, so a suite-level summary can add them up with
``totals(config)``. Counts: ``bad_inputs``, ``faults_injected``, ``rows_lost``,
``identifier_leaks`` (a part may add others).
"""
from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

KEY_PREFIX = "registry/tally/"
COUNTS = ("bad_inputs", "faults_injected", "rows_lost", "identifier_leaks")


class Tally(Counter):
    def line(self) -> str:
        return (f"bad inputs tried {self['bad_inputs']}, faults injected {self['faults_injected']}, "
                f"rows lost {self['rows_lost']}, identifier leaks {self['identifier_leaks']}")


def _file(config) -> Path | None:
    cache = getattr(config, "cache", None)
    return cache.mkdir("registry") / "tally.json" if cache is not None else None


def record(config, part: str, counts: dict[str, int]) -> None:
    """Keep one part's counts (replacing what that part recorded before)."""
    cache = getattr(config, "cache", None)
    if cache is None:  # pytest -p no:cacheprovider
        return
    cache.set(KEY_PREFIX + part, dict(counts))
    path = _file(config)
    parts = json.loads(path.read_text()) if path.is_file() else {}
    parts[part] = dict(counts)
    path.write_text(json.dumps(parts, indent=2, sort_keys=True))


def parts(config) -> dict[str, dict[str, int]]:
    path = _file(config)
    return json.loads(path.read_text()) if path is not None and path.is_file() else {}


def totals(config) -> Tally:
    out = Tally()
    for counts in parts(config).values():
        out.update(counts)
    return out
