"""The paper, side by side: every figure of the paper targets next to the
published mart's value, and whether it matches at the paper's rounding.

Which mart cell answers which target is data (``paper_figures.csv``):
target (a ``/``-separated path in the targets file), mart, a row filter
(``col=value`` or ``col!=value``, ``;``-joined), column, and how to compare:

- ``exact``: equal (counts, dates);
- ``rounded``: the mart value rounded half-up to the paper's decimals equals
  the paper's value (decimals from ``rounding_target``, else as printed);
- ``significant``: the paper's true/false equals p < 0.05;
- ``sum``: the column summed over the filtered rows is exact;
- ``top_in_order``: the first values by ``rank`` equal the paper's list;
- ``same_set``: the column holds the paper's list, in any order;
- ``at_least``: a year the data must not precede (no implant before the
  registry started).

A leaf of the targets file with no row in the CSV is listed as ``unmapped``.
"""
from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache
from importlib import resources
from pathlib import Path

import duckdb
import pandas as pd
import yaml

from .frames import frame

SIGNIFICANCE = 0.05
# The paper's figures (a copy of the specification's paper targets), shipped with the package.
PAPER_TARGETS = Path(__file__).with_name("paper_targets.yaml")
COLUMNS = ["figure", "target", "paper_value", "mart_value", "rounding", "matches",
           "mart", "column"]


@lru_cache(maxsize=1)
def figure_map() -> pd.DataFrame:
    with resources.files(__package__).joinpath("paper_figures.csv").open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


def read_published_marts(marts_duckdb: Path) -> dict[str, pd.DataFrame]:
    con = duckdb.connect(str(marts_duckdb), read_only=True)
    try:
        names = [r[0] for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()]
        return {name: frame(con, f'select * from main."{name}"') for name in names}
    finally:
        con.close()


def _leaves(node, prefix: str = ""):
    """(path, value) of every figure in the targets file; lists are one figure,
    ``rounding`` keys are not figures but how to read their siblings."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "rounding":
                continue
            yield from _leaves(value, f"{prefix}/{key}" if prefix else str(key))
    else:
        yield prefix, node


def _lookup(targets: dict, path: str):
    node = targets
    for part in path.split("/"):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def _select(df: pd.DataFrame, row_filter: str) -> pd.DataFrame:
    mask = pd.Series(True, index=df.index)
    for clause in filter(None, row_filter.split(";")):
        if "!=" in clause:
            column, value = clause.split("!=", 1)
            mask &= df[column].astype(str).ne(value)
        else:
            column, value = clause.split("=", 1)
            mask &= df[column].astype(str).eq(value)
    return df[mask]


def _decimals(value) -> int:
    exponent = Decimal(repr(value)).normalize().as_tuple().exponent
    return max(0, -int(exponent))


def round_half_up(value, decimals: int) -> Decimal:
    return Decimal(repr(float(value))).quantize(Decimal(1).scaleb(-decimals), ROUND_HALF_UP)


def _same(a, b) -> bool:
    return str(a) == str(b) if not isinstance(a, (int, float)) else float(a) == float(b)


def _compare(spec, paper, targets: dict, marts: dict[str, pd.DataFrame]):
    """(mart value, rounding, matches) of one figure."""
    mart = marts.get(spec.mart)
    if mart is None or spec.column not in mart.columns:
        return None, None, False
    rows = _select(mart, spec.filter)
    kind = spec.compare
    if kind == "top_in_order":
        values = rows.sort_values("rank")[spec.column].head(len(paper)).tolist()
        return values, None, values == list(paper)
    if kind == "same_set":
        values = rows[spec.column].dropna().tolist()
        return values, None, sorted(values) == sorted(paper)
    if kind == "sum":
        value = int(rows[spec.column].sum())
        return value, None, value == paper
    if len(rows) != 1 or pd.isna(rows[spec.column].iloc[0]):
        return None, None, False
    value = rows[spec.column].iloc[0]
    if kind == "exact":
        if isinstance(value, pd.Timestamp) and value == value.normalize():
            value = value.date()  # a DATE read back through pandas
        if hasattr(value, "isoformat"):
            value = value.isoformat()
        return value, None, _same(value, paper if not hasattr(paper, "isoformat")
                                  else paper.isoformat())
    if kind == "rounded":
        rounding = _lookup(targets, spec.rounding_target) if spec.rounding_target else None
        decimals = int(rounding) if rounding is not None else _decimals(paper)
        return float(value), decimals, round_half_up(value, decimals) == round_half_up(paper, decimals)
    if kind == "significant":
        return float(value), None, bool(value < SIGNIFICANCE) == bool(paper)
    if kind == "at_least":
        return int(value), None, int(value) >= int(paper)
    raise ValueError(f"unknown comparison {kind!r} in paper_figures.csv")


def compare(marts: dict[str, pd.DataFrame] | Path, targets_yaml: Path = PAPER_TARGETS) -> pd.DataFrame:
    """One row per figure of the paper targets: figure, target, paper_value,
    mart_value, rounding, matches (None when the figure has no mapping), mart, column."""
    if not isinstance(marts, dict):
        marts = read_published_marts(Path(marts))
    targets = yaml.safe_load(Path(targets_yaml).read_text(encoding="utf-8"))
    specs = {row.target: row for row in figure_map().itertuples()}
    rows = []
    for path, paper in _leaves(targets):
        spec = specs.get(path)
        if spec is None:
            rows.append({"figure": path, "target": path, "paper_value": paper,
                         "matches": None, "mart": None, "column": None})
            continue
        value, rounding, matches = _compare(spec, paper, targets, marts)
        rows.append({"figure": spec.figure, "target": path, "paper_value": paper,
                     "mart_value": value, "rounding": rounding, "matches": bool(matches),
                     "mart": spec.mart, "column": spec.column})
    return pd.DataFrame(rows, columns=COLUMNS).astype({"rounding": "Int64"})


def _shown(value, decimals=None) -> str:
    if value is None or (not isinstance(value, (list, tuple)) and pd.isna(value)):
        return "-"
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    if isinstance(value, float):
        if decimals is not None and not pd.isna(decimals):
            return f"{value:.{int(decimals) + 2}f}".rstrip("0").rstrip(".")
        return f"{value:.6g}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def display_table(comparison: pd.DataFrame) -> pd.DataFrame:
    """The comparison as text: what the terminal and the HTML report show."""
    verdict = comparison["matches"].map({True: "yes", False: "NO"}).fillna("not mapped")
    return pd.DataFrame({
        "figure": comparison["figure"],
        "paper": [_shown(v) for v in comparison["paper_value"]],
        "marts": [_shown(v, d) for v, d in zip(comparison["mart_value"], comparison["rounding"])],
        "rounding": [("" if pd.isna(d) else f"{int(d)} dp") for d in comparison["rounding"]],
        "matches": verdict,
    })


def format_comparison(comparison: pd.DataFrame) -> str:
    """Fixed-width text for ``registry compare-paper``, with a count of matches."""
    table = display_table(comparison)
    widths = {c: max(len(c), *(len(v) for v in table[c])) for c in table.columns}
    lines = ["  ".join(c.ljust(widths[c]) for c in table.columns),
             "  ".join("-" * widths[c] for c in table.columns)]
    lines += ["  ".join(str(v).ljust(widths[c]) for c, v in row.items())
              for _, row in table.iterrows()]
    mapped = comparison["matches"].notna()
    n_match = int(comparison.loc[mapped, "matches"].astype(bool).sum())
    lines.append(f"{n_match} of {int(mapped.sum())} paper figures match the published marts.")
    return "\n".join(lines)


def all_match(comparison: pd.DataFrame) -> bool:
    return bool(comparison["matches"].notna().all() and comparison["matches"].astype(bool).all())
