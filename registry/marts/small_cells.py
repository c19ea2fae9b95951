"""Small-cell protection of published marts: primary and complementary
(secondary) suppression, checked by the attacker's audit.

1. **Primary**: counts from 1 to ``small_cell_max`` in region rows are
   suppressed. ``All`` rows are never suppressed; zero is not a small cell.
2. **Secondary**: while the audit (``disclosure_audit``) finds a suppressed
   count, or a hidden count such as a region's men, that the published
   figures pin down more tightly than the protection rule allows, one more
   region count is suppressed: from the relations that pin it, the one that
   would not itself be left alone in another relation, preferring counts that
   are not totals, non-zero, then the smallest. Then every secondary cell is
   tried back, largest first, and published again if the audit still passes.
3. **Derived figures**: the columns listed with a count in
   ``small_cells.csv`` are blanked with it (percentages, intervals, means,
   tests, survival estimates of the group); a percentage is also blanked when
   its denominator (``derived.csv``) is no longer determined by the published
   counts; a rank is blanked for every row of a group holding a suppressed
   count, and the suppressed rows are listed after the others in key order
   (the row order would otherwise give the rank away).

A count shown in several marts (a region's patients) is suppressed in all of
them. The ``suppressed`` column is true on every row with a withheld value;
nothing tells primary from secondary cells.
"""
from __future__ import annotations

from collections import deque

import pandas as pd

from .disclosure_audit import (
    ALL,
    TOL,
    Auditor,
    CellKey,
    Model,
    _key,
    _parse_keys,
    _parse_term,
    build_model,
    count_rules,
    derived_rules,
    intervals,
    relation_rules,
)


def protected_marts() -> tuple[str, ...]:
    """The marts small_cells.csv protects (those with region rows), in its order."""
    return tuple(dict.fromkeys(count_rules()["mart"]))


def primary_cells(model: Model, small_cell_max: int) -> set[CellKey]:
    return {k for k, c in model.cells.items()
            if not c.hidden and k.region != ALL and c.value is not None
            and 1 <= c.value <= small_cell_max}


def plan_suppression(model: Model, small_cell_max: int) -> tuple[set[CellKey], set[CellKey]]:
    """(primary, secondary) cells of ``model`` (built from exact marts) such that
    the audit finds every suppressed and hidden cell protected."""
    primary = primary_cells(model, small_cell_max)
    auditor = Auditor(model, small_cell_max)
    values = {k: c.value for k, c in model.cells.items() if not c.hidden}
    suppressed = set(primary)
    chooser = _Chooser(model, values)
    while True:
        # A cap of 0: the All rows and the rows listed pin it; nothing to gain.
        bad = [r["cell"] for r in auditor.assess(suppressed, values)
               if not r["protected"] and r["cap"] >= TOL]
        if not bad:
            break
        # Cells alone in a relation first: their fix is certain to be needed.
        target = next((k for k in bad if chooser.pinning(k, suppressed)), bad[0])
        pick = chooser.choose(target, suppressed)
        if pick is None:  # cannot happen: with every region cell suppressed the audit passes
            raise RuntimeError(f"no complementary cell left for {target.label()}")
        suppressed.add(pick)
    # Publish again what is not needed, largest first.
    for k in sorted(suppressed - primary, key=lambda k: (-values[k], k)):
        trial = suppressed - {k}
        if all(r["protected"] or r["cap"] < TOL for r in auditor.assess(trial, values)):
            suppressed = trial
    return primary, suppressed - primary


class _Chooser:
    """Picks the complementary cell for a cell the audit finds unprotected."""

    def __init__(self, model: Model, values: dict[CellKey, float]):
        self.model = model
        self.values = values
        self.instances_of = model.instances_of()
        self.hidden = {k for k, c in model.cells.items() if c.hidden}
        self.totals = {_parse_term(r.total)[0] for r in relation_rules().itertuples() if r.total != "*"}

    def _eligible(self, k: CellKey, suppressed: set[CellKey]) -> bool:
        return k not in suppressed and k not in self.hidden and k.region != ALL

    def _equations(self, k: CellKey):
        insts = self.model.instances
        return [insts[i] for i in self.instances_of[k] if insts[i].sense == "=" and insts[i].const == 0.0]

    def _score(self, k: CellKey, unknown: set[CellKey]):
        # Relations in which k would be the only unknown once suppressed: each
        # would pin it and call for yet another cell.
        alone = sum(1 for inst in self._equations(k)
                    if not any(o in unknown for o in inst.terms if o != k))
        return (alone, k.quantity in self.totals, self.values[k] == 0, self.values[k], k)

    def pinning(self, target: CellKey, suppressed: set[CellKey]):
        """The relations in which ``target`` is the only unknown (each pins it)."""
        unknown = suppressed | self.hidden
        return [inst for inst in self._equations(target)
                if not any(o in unknown for o in inst.terms if o != target)]

    def choose(self, target: CellKey, suppressed: set[CellKey]) -> CellKey | None:
        unknown = suppressed | self.hidden
        # A relation in which the target is the only unknown pins it: suppress
        # one more of its cells.
        for inst in self.pinning(target, suppressed):
            candidates = [k for k in inst.terms if self._eligible(k, suppressed)]
            if candidates:
                return min(candidates, key=lambda k: self._score(k, unknown))
        # Otherwise its interval is too narrow: the first candidate (best score)
        # of its relations that widens it.
        insts = self.model.instances
        candidates = {k for i in self.instances_of[target] for k in insts[i].terms
                      if self._eligible(k, suppressed)}
        if not candidates:  # every neighbour is suppressed: look further along the unknowns
            seen, queue = {target}, deque([target])
            while queue and not candidates:
                for i in self.instances_of[queue.popleft()]:
                    for k in insts[i].terms:
                        if self._eligible(k, suppressed):
                            candidates.add(k)
                        elif k in unknown and k not in seen:
                            seen.add(k)
                            queue.append(k)
        if not candidates:
            return None
        ranked = sorted(candidates, key=lambda k: self._score(k, unknown))
        width = self._width(target, unknown)
        for k in ranked:
            if self._width(target, unknown | {k}) > width + TOL:
                return k
        return ranked[0]

    def _width(self, target: CellKey, unknown: set[CellKey]) -> float:
        known = {k: v for k, v in self.values.items() if k not in unknown}
        lo, hi = intervals(self.model, unknown, [target], known)[target]
        return hi - lo


def suppress_marts(marts: dict[str, pd.DataFrame], small_cell_max: int,
                   protected_marts: tuple[str, ...], *,
                   complementary: bool = True) -> dict[str, pd.DataFrame]:
    """Copies of ``marts`` with the marts named in ``protected_marts`` protected
    (and given a ``suppressed`` column); the others unchanged.
    ``complementary=False`` applies primary suppression only (to show what the
    audit finds without the complementary cells)."""
    if small_cell_max < 0:
        raise ValueError(f"small_cell_max must be 0 or more, got {small_cell_max}")
    out = {name: (df.reset_index(drop=True).copy() if name in protected_marts else df)
           for name, df in marts.items()}
    flags = {name: pd.Series(False, index=out[name].index) for name in protected_marts if name in out}
    if small_cell_max > 0:
        exact = {name: out[name] for name in flags}
        model = build_model(exact, with_ratios=False)
        if complementary:
            primary, secondary = plan_suppression(model, small_cell_max)
        else:
            primary, secondary = primary_cells(model, small_cell_max), set()
        _apply(out, flags, model, primary | secondary)
    for name, flag in flags.items():
        out[name]["suppressed"] = flag.to_numpy(dtype=bool)
    return out


def _blank(out, flags, mart: str, rows, columns) -> None:
    df = out[mart]
    rows = list(rows)
    if not rows:
        return
    for column in columns:
        if column not in df.columns:
            continue
        was = df.loc[rows, column].notna()
        if not was.any():
            continue
        if not isinstance(df[column].dtype, pd.api.extensions.ExtensionDtype) or \
                df[column].dtype.kind not in "iufb":
            df[column] = _nullable(df[column])
        df.loc[rows, column] = pd.NA
        flags[mart].loc[was[was].index] = True


def _apply(out, flags, model: Model, suppressed: set[CellKey]) -> None:
    blanked = {(r.mart, r.count_column): r.blanked_columns.split() for r in count_rules().itertuples()}
    for k in sorted(suppressed):
        for mart, row, column in model.cells[k].appearances:
            _blank(out, flags, mart, [row], [column, *blanked.get((mart, column), [])])
    # Percentages whose denominator the published counts no longer determine.
    hidden = {k for k, c in model.cells.items() if c.hidden}
    known = {k: c.value for k, c in model.cells.items() if not c.hidden and k not in suppressed}
    rules = derived_rules()
    for rule in rules[rules["kind"] == "ratio"].itertuples():
        if rule.mart not in flags:
            continue
        df = out[rule.mart]
        quantity, *items = rule.by.split()
        columns, fixed = _parse_keys(" ".join(items))
        keys = {idx: _key(quantity, {**{c: df.at[idx, c] for c in columns}, **fixed})
                for idx in df.index}
        targets = sorted({k for k in keys.values() if k in model.cells})
        found = intervals(model, suppressed | hidden, targets, known)
        loose = [idx for idx, k in keys.items() if k not in found or found[k][1] - found[k][0] > TOL]
        _blank(out, flags, rule.mart, loose, rule.columns.split())
    # Ranks last: they reorder rows (the cells' row numbers are used above).
    for rule in rules[rules["kind"] == "rank"].itertuples():
        if rule.mart in flags:
            out[rule.mart] = _blank_ranks(out[rule.mart], flags, rule)
            flags[rule.mart] = flags[rule.mart].reset_index(drop=True)
    unknown_kinds = set(rules["kind"]) - {"ratio", "rank"}
    if unknown_kinds:
        raise ValueError(f"derived.csv: unknown kind {sorted(unknown_kinds)}")


def _blank_ranks(df: pd.DataFrame, flags, rule) -> pd.DataFrame:
    """Blank the rank of every row of a group with a suppressed count; list the
    suppressed rows last, in key order, so the row order does not rank them."""
    group = rule.by.split()
    rank_column = rule.columns.split()[0]
    count_keys = next(_parse_keys(r.keys)[0] for r in count_rules().itertuples()
                      if r.mart == rule.mart and r.count_column == rule.count_column)
    order_keys = [c for c in count_keys if c not in group]
    hit = df[rule.count_column].isna()
    groups_hit = df.loc[hit, group].drop_duplicates()
    in_hit_group = df[group].apply(tuple, axis=1).isin(groups_hit.apply(tuple, axis=1))
    _blank({rule.mart: df}, {rule.mart: flags[rule.mart]}, rule.mart, df.index[in_hit_group],
           [rank_column])
    position = pd.Series(range(len(df)), index=df.index)
    first_of_group = position.groupby([df[g] for g in group], sort=False).transform("min")
    tail_order = (pd.Series(list(zip(*(df[c].astype(str) for c in order_keys))), index=df.index)
                  if order_keys else "")
    sort = pd.DataFrame({"g": first_of_group, "tail": hit & in_hit_group,
                         "pos": position.where(~hit, 0), "key": tail_order})
    order = sort.sort_values(["g", "tail", "pos", "key"], kind="stable").index
    flags[rule.mart] = flags[rule.mart].loc[order]
    return df.loc[order].reset_index(drop=True)


def _nullable(series: pd.Series) -> pd.Series:
    """Same values in a dtype that can hold a null without turning counts into floats."""
    if pd.api.types.is_bool_dtype(series):
        return series.astype("boolean")
    if pd.api.types.is_integer_dtype(series):
        return series.astype("Int64")
    if pd.api.types.is_float_dtype(series):
        return series.astype("Float64")
    return series.astype(object)
