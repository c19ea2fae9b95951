"""The attacker's audit of published marts: how far can a suppressed count be
narrowed down from everything else that is published?

Every published count is a cell of a *quantity* (``small_cells.csv``: which
mart column holds which quantity, keyed by which row columns), so a count
shown in two marts (a region's patients in ``cohort_overview``,
``cancer_types.region_n_patients``, ``infection_outcomes`` and
``survival_summary``) is one cell. ``relations.csv`` lists the linear
relations between quantities that anyone can know from the definitions:
regions add up to ``All``; cancer types, exit categories, women and men,
deaths and censored, infected and not infected add up to the region's
patients; pairs are at most the region's patients. Quantities named there
but never published (``male``, ``not_infected``, ``exited``) are *hidden*
cells: never shown, but a small one must not be computable either.
A published percentage whose numerator is published tells its denominator
(``derived.csv``), which the audit adds as a further equation.

For each suppressed cell (and each hidden cell of a region) the audit solves
two linear programmes, minimising and maximising the cell subject to every
relation, the published values and non-negativity; the interval
[lower, upper] is all an attacker can learn from the published figures by
linear reasoning. The protection rule (``protection_required``):

* ``cap`` is the width the cell would have if every region cell of every mart
  were suppressed (only the exact ``All`` rows published): no suppression
  pattern can do better, so the requirement never exceeds it;
* a cell that may be small (lower <= ``small_cell_max``) needs a width of at
  least ``min(small_cell_max, cap)``: at least ``small_cell_max + 1`` whole
  values are possible, e.g. 0 to 4 for a cell of 2;
* a suppressed cell that is certainly not small (lower > ``small_cell_max``)
  still must not be recovered exactly: width at least ``min(1, cap)``;
* a hidden cell that is certainly not small, or certainly zero, needs nothing;
* a small count recovered exactly is never protected, even with a cap of 0.
  A cap of 0 means the ``All`` rows and the rows a mart lists pin the cell
  whatever is suppressed (a category listed in one region only, when the
  mart leaves out zero rows): the audit reports it (``pinned_by_totals``),
  suppression cannot help.

``audit(marts, small_cell_max)`` returns one row per audited cell;
``count_disclosive`` the number of unprotected ones.
"""
from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

import numpy as np
import pandas as pd

ALL = "All"
REGION = "region"
TOL = 1e-6


# ---------------------------------------------------------------- the rules as data

def _read_csv(name: str) -> pd.DataFrame:
    with resources.files(__package__).joinpath(name).open(encoding="utf-8") as fh:
        return pd.read_csv(fh, dtype=str, keep_default_na=False)


@lru_cache(maxsize=1)
def count_rules() -> pd.DataFrame:
    """small_cells.csv: mart, count_column, quantity, keys, blanked_columns."""
    return _read_csv("small_cells.csv")


@lru_cache(maxsize=1)
def relation_rules() -> pd.DataFrame:
    """relations.csv: relation, total, parts, over, sense."""
    return _read_csv("relations.csv")


@lru_cache(maxsize=1)
def derived_rules() -> pd.DataFrame:
    """derived.csv: mart, columns, kind (ratio or rank), count_column, by."""
    return _read_csv("derived.csv")


_TERM = re.compile(r"^(?P<q>[A-Za-z_][\w@.]*)(?:\[(?P<fixed>[^\]]*)\])?$")


def _parse_term(text: str) -> tuple[str, dict[str, str]]:
    m = _TERM.match(text)
    if not m:
        raise ValueError(f"relations.csv: cannot read term {text!r}")
    fixed = dict(part.split("=", 1) for part in (m["fixed"] or "").split(",") if part)
    return m["q"], fixed


def _parse_keys(text: str) -> tuple[list[str], dict[str, str]]:
    """'region exit_category=death' -> (['region'], {'exit_category': 'death'})."""
    columns, fixed = [], {}
    for item in text.split():
        if "=" in item:
            k, v = item.split("=", 1)
            fixed[k] = v
        else:
            columns.append(item)
    return columns, fixed


# ---------------------------------------------------------------- the model

@dataclass(frozen=True, order=True)
class CellKey:
    quantity: str
    dims: tuple[tuple[str, str], ...]

    @property
    def region(self) -> str:
        return dict(self.dims).get(REGION, ALL)

    def label(self) -> str:
        return f"{self.quantity}[{', '.join(f'{k}={v}' for k, v in self.dims)}]"


def _key(quantity: str, dims: dict[str, str]) -> CellKey:
    return CellKey(quantity, tuple(sorted((k, str(v)) for k, v in dims.items())))


@dataclass
class Cell:
    key: CellKey
    hidden: bool
    value: float | None = None           # published (or exact) value; None = unknown
    appearances: list[tuple[str, int, str]] = field(default_factory=list)  # (mart, row, column)
    blank_somewhere: bool = False        # null in one mart although another shows it


@dataclass
class Instance:
    relation: str
    terms: dict[CellKey, float]           # sum(coef * x) + const  (= or >=)  0
    sense: str = "="
    const: float = 0.0


@dataclass
class Model:
    cells: dict[CellKey, Cell]
    instances: list[Instance]
    dropped: list[Instance] = field(default_factory=list)  # relations the values contradict

    def instances_of(self) -> dict[CellKey, list[int]]:
        out: dict[CellKey, list[int]] = defaultdict(list)
        for i, inst in enumerate(self.instances):
            for k in inst.terms:
                out[k].append(i)
        return out

    def known(self) -> dict[CellKey, float]:
        return {k: c.value for k, c in self.cells.items() if c.value is not None}


def _value(v) -> float | None:
    if v is None or v is pd.NA:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if np.isnan(f) else f


def build_model(marts: dict[str, pd.DataFrame], *, with_ratios: bool = True) -> Model:
    """Cells and relation instances of ``marts`` (exact or published).

    Counts shown in several marts are one cell; when two appearances disagree
    (both non-null and different) the later one becomes a cell of its own
    (``quantity@mart.column``), outside the relations. With ``with_ratios``,
    a published percentage with a published non-zero numerator adds the
    equation it implies for its denominator.
    """
    cells: dict[CellKey, Cell] = {}
    for rule in count_rules().itertuples():
        df = marts.get(rule.mart)
        if df is None or rule.count_column not in df.columns:
            continue
        columns, fixed = _parse_keys(rule.keys)
        if any(c not in df.columns for c in columns):
            continue
        for idx, value, *keys in zip(df.index, df[rule.count_column], *(df[c] for c in columns)):
            key = _key(rule.quantity, {**dict(zip(columns, keys)), **fixed})
            v = _value(value)
            cell = cells.get(key)
            if cell is not None and cell.value is not None and v is not None and cell.value != v:
                key = _key(f"{rule.quantity}@{rule.mart}.{rule.count_column}",
                           {**dict(zip(columns, keys)), **fixed})
                cell = cells.get(key)
            if cell is None:
                cell = cells[key] = Cell(key, hidden=False, value=v)
            elif (cell.value is None) != (v is None):
                cell.blank_somewhere = True  # shown in one mart, blank in another
                cell.value = cell.value if v is None else v  # the attacker has it
            cell.appearances.append((rule.mart, idx, rule.count_column))

    instances = _relation_instances(cells)
    if with_ratios:
        instances += _ratio_instances(marts, cells)
    model = Model(cells, instances)
    _fill_hidden(model)
    _drop_contradicted(model)
    return model


def _relation_instances(cells: dict[CellKey, Cell]) -> list[Instance]:
    by_quantity: dict[str, list[CellKey]] = defaultdict(list)
    for k in cells:
        by_quantity[k.quantity].append(k)
    published = set(by_quantity)
    shown_quantities = set(count_rules()["quantity"])  # the others are hidden
    instances: list[Instance] = []
    generic = []
    for rel in relation_rules().itertuples():
        if rel.total == "*":
            generic.append(rel)
            continue
        terms = [(*_parse_term(rel.total), 1.0)] + [(*_parse_term(p), -1.0) for p in rel.parts.split()]
        if any(q in shown_quantities and q not in published for q, _, _ in terms):
            continue  # a mart showing that quantity is not among those given
        over = rel.over or None
        # Free dimensions of each published term; hidden terms take the instance's.
        free: list[list[str] | None] = []
        for q, fixed, _ in terms:
            if q in published:
                dims = {d for k in by_quantity[q] for d, _ in k.dims}
                free.append(sorted(dims - set(fixed) - {over}))
            else:
                free.append(None)
        known_free = [f for f in free if f is not None]
        if not known_free:
            continue
        inst_dims = sorted(set().union(*map(set, known_free)))
        index: list[dict[tuple, list[CellKey]] | None] = []
        instance_keys: set[tuple] = set()
        for (q, fixed, _), f in zip(terms, free):
            if f is None:
                index.append(None)
                continue
            groups: dict[tuple, list[CellKey]] = defaultdict(list)
            for k in by_quantity[q]:
                d = dict(k.dims)
                if all(d.get(a) == b for a, b in fixed.items()):
                    groups[tuple(d.get(x) for x in f)].append(k)
            index.append(groups)
            if f == inst_dims:
                instance_keys |= set(groups)
        for ikey in sorted(instance_keys, key=str):
            assignment = dict(zip(inst_dims, ikey))
            coefs: dict[CellKey, float] = defaultdict(float)
            complete = True
            for (q, fixed, sign), f, groups in zip(terms, free, index):
                if f is None:
                    hidden = _key(q, assignment)
                    cells.setdefault(hidden, Cell(hidden, hidden=True))
                    coefs[hidden] += sign
                    continue
                members = groups.get(tuple(assignment[x] for x in f), [])
                has_over = over is not None and any(d == over for k in members for d, _ in k.dims)
                if not members or (len(members) > 1 and not has_over):
                    complete = False
                    break
                for k in members:
                    coefs[k] += sign
            if complete:
                instances.append(Instance(rel.relation, dict(coefs), rel.sense))
    # Generic relations over a dimension with a total member: regions add up to All.
    by_quantity = defaultdict(list)
    for k in cells:
        by_quantity[k.quantity].append(k)
    for rel in generic:
        dim = rel.over
        for q, keys in by_quantity.items():
            groups: dict[tuple, list[CellKey]] = defaultdict(list)
            for k in keys:
                d = dict(k.dims)
                if dim in d:
                    groups[tuple((a, b) for a, b in k.dims if a != dim)].append(k)
            for members in groups.values():
                totals = [k for k in members if k.region == ALL] if dim == REGION else []
                parts = [k for k in members if k.region != ALL]
                if len(totals) == 1 and parts:
                    terms = {totals[0]: 1.0, **{k: -1.0 for k in parts}}
                    instances.append(Instance(rel.relation, terms, rel.sense))
    return instances


def _ratio_instances(marts: dict[str, pd.DataFrame], cells: dict[CellKey, Cell]) -> list[Instance]:
    """A published percentage p = 100 n / D with n published and non-zero tells D."""
    out = []
    for rule in derived_rules().itertuples():
        if rule.kind != "ratio" or rule.mart not in marts:
            continue
        df = marts[rule.mart]
        pct_column = rule.columns.split()[0]
        quantity, *key_items = rule.by.split()
        columns, fixed = _parse_keys(" ".join(key_items))
        if pct_column not in df.columns or rule.count_column not in df.columns:
            continue
        for _, row in df.iterrows():
            n, pct = _value(row[rule.count_column]), _value(row[pct_column])
            if n is None or pct is None or n == 0 or pct == 0:
                continue
            key = _key(quantity, {**{c: row[c] for c in columns}, **fixed})
            if key not in cells:
                continue
            denominator = round(100.0 * n / pct)
            out.append(Instance(f"{rule.mart}.{pct_column}", {key: 1.0}, "=", -float(denominator)))
    return out


def _fill_hidden(model: Model) -> None:
    """Hidden cells determined by one relation of known cells get that value
    (only when every other cell is known: the exact marts)."""
    changed = True
    while changed:
        changed = False
        for inst in model.instances:
            if inst.sense != "=":
                continue
            unknown = [k for k in inst.terms if model.cells[k].value is None]
            if len(unknown) == 1 and model.cells[unknown[0]].hidden:
                k = unknown[0]
                rest = sum(c * model.cells[o].value for o, c in inst.terms.items() if o != k)
                model.cells[k].value = -(rest + inst.const) / inst.terms[k]
                changed = True


def _drop_contradicted(model: Model) -> None:
    keep = []
    for inst in model.instances:
        values = [model.cells[k].value for k in inst.terms]
        if all(v is not None for v in values):
            residual = sum(c * v for c, v in zip(inst.terms.values(), values)) + inst.const
            if (inst.sense == "=" and abs(residual) > TOL) or (inst.sense == ">=" and residual < -TOL):
                model.dropped.append(inst)
                continue
        keep.append(inst)
    model.instances = keep


# ---------------------------------------------------------------- linear programming

class InconsistentRelations(ValueError):
    """The published values contradict the declared relations."""


def intervals(model: Model, unknown: set[CellKey], targets: list[CellKey],
              values: dict[CellKey, float],
              cache: dict | None = None) -> dict[CellKey, tuple[float, float]]:
    """[min, max] of each target over the non-negative solutions of every
    relation instance, with ``unknown`` cells free and the others at ``values``.

    ``cache`` (for calls with the same model and values) keeps the results of
    a target by the set of unknowns of its component, which most changes of
    ``unknown`` leave alone."""
    # Connected components of unknown cells (sharing an instance): smaller LPs.
    parent: dict[CellKey, CellKey] = {k: k for k in unknown}

    def find(k):
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    active = []
    for inst in model.instances:
        free = [k for k in inst.terms if k in unknown]
        if not free:
            continue
        active.append((inst, free))
        for other in free[1:]:
            a, b = find(free[0]), find(other)
            if a != b:
                parent[a] = b
    members: dict[CellKey, list[CellKey]] = defaultdict(list)
    for k in unknown:
        members[find(k)].append(k)
    comp_instances: dict[CellKey, list] = defaultdict(list)
    for inst, free in active:
        comp_instances[find(free[0])].append((inst, free))

    out: dict[CellKey, tuple[float, float]] = {}
    systems: dict[CellKey, tuple] = {}
    for target in targets:
        if target not in unknown:
            v = values[target]
            out[target] = (v, v)
            continue
        root = find(target)
        cache_key = None
        if cache is not None:
            cache_key = (target, frozenset(members[root]))
            if cache_key in cache:
                out[target] = cache[cache_key]
                continue
        if len(members[root]) == 1:  # one unknown: no linear programme needed
            out[target] = _single(target, comp_instances[root], unknown, values)
            if cache is not None:
                cache[cache_key] = out[target]
            continue
        if root not in systems:
            variables = sorted(members[root])
            col = {k: j for j, k in enumerate(variables)}
            a_eq, b_eq, a_ub, b_ub = [], [], [], []
            for inst, free in comp_instances[root]:
                row = np.zeros(len(variables))
                for k in free:
                    row[col[k]] = inst.terms[k]
                const = inst.const + sum(c * values[k] for k, c in inst.terms.items() if k not in unknown)
                if inst.sense == "=":
                    a_eq.append(row)
                    b_eq.append(-const)
                else:  # row.x + const >= 0  <=>  -row.x <= const
                    a_ub.append(-row)
                    b_ub.append(const)
            systems[root] = (col, len(variables), a_eq, b_eq, a_ub, b_ub)
        col, n, a_eq, b_eq, a_ub, b_ub = systems[root]
        from scipy.optimize import linprog  # where used: see registry/marts/stats.py

        bounds = []
        for sign in (1.0, -1.0):
            c = np.zeros(n)
            c[col[target]] = sign
            res = linprog(c, A_ub=np.array(a_ub) if a_ub else None, b_ub=b_ub or None,
                          A_eq=np.array(a_eq) if a_eq else None, b_eq=b_eq or None,
                          bounds=(0, None), method="highs")
            if res.status == 2:
                raise InconsistentRelations(
                    f"no non-negative values satisfy the relations around {target.label()}")
            if res.status == 3:  # unbounded: only the maximum can be
                bounds.append(np.inf)
            elif res.status != 0:
                raise RuntimeError(f"linear programme for {target.label()}: {res.message}")
            else:
                bounds.append(sign * res.fun)  # min x, or -min(-x) = max x
        out[target] = (_snap(bounds[0]), _snap(bounds[1]))
        if cache is not None:
            cache[cache_key] = out[target]
    return out


def _single(target: CellKey, instances, unknown: set[CellKey], values) -> tuple[float, float]:
    lo, hi = 0.0, np.inf
    for inst, _ in instances:
        coef = inst.terms[target]
        const = inst.const + sum(c * values[k] for k, c in inst.terms.items() if k not in unknown)
        bound = -const / coef
        if inst.sense == "=":
            lo, hi = max(lo, bound), min(hi, bound)
        elif coef > 0:
            lo = max(lo, bound)
        else:
            hi = min(hi, bound)
    if lo > hi + TOL:
        raise InconsistentRelations(
            f"no non-negative values satisfy the relations around {target.label()}")
    return _snap(lo), _snap(hi)


def _snap(x: float) -> float:
    if not np.isfinite(x):
        return float(x)
    r = round(x)
    return float(r) if abs(x - r) < TOL else float(x)


# ---------------------------------------------------------------- protection rule

def protection_required(lower: float, cap: float, small_cell_max: int, hidden: bool) -> float:
    """The width of the feasible interval a cell needs (see the module docstring)."""
    if lower > small_cell_max:
        return 0.0 if hidden else min(1.0, cap)
    return float(min(small_cell_max, cap))


def is_protected(lower: float, upper: float, cap: float, small_cell_max: int, hidden: bool) -> bool:
    if hidden and upper <= TOL:
        return True  # certainly zero: zero is not a small cell
    if upper - lower < TOL and 1 - TOL <= lower <= small_cell_max + TOL:
        return False  # a small count recovered exactly, whatever the cap
    return upper - lower >= protection_required(lower, cap, small_cell_max, hidden) - TOL


class Auditor:
    """The audit of one model under changing suppression patterns (the caps,
    which depend only on the ``All`` rows, are computed once)."""

    def __init__(self, model: Model, small_cell_max: int):
        self.model = model
        self.small_cell_max = small_cell_max
        self._cap: dict[CellKey, float] = {}
        self._cache: dict = {}  # intervals by component (assess is called with the same values)
        self._all_free = {k for k, c in model.cells.items() if c.hidden or k.region != ALL}
        # Percentage equations are left out of the caps: with every region cell
        # suppressed no percentage of a region would be published.
        self._cap_model = Model(model.cells, [i for i in model.instances if i.const == 0.0])

    def cap(self, keys: list[CellKey], values: dict[CellKey, float]) -> dict[CellKey, float]:
        missing = [k for k in keys if k not in self._cap]
        if missing:
            for k, (lo, hi) in intervals(self._cap_model, self._all_free, missing, values).items():
                self._cap[k] = hi - lo
        return {k: self._cap[k] for k in keys}

    def targets(self, suppressed: set[CellKey]) -> list[CellKey]:
        hidden = [k for k, c in self.model.cells.items() if c.hidden and k.region != ALL]
        return sorted(suppressed) + sorted(hidden)

    def assess(self, suppressed: set[CellKey], values: dict[CellKey, float],
               targets: list[CellKey] | None = None) -> list[dict]:
        """One record per target: interval, cap, required width, protected."""
        unknown = set(suppressed) | {k for k, c in self.model.cells.items() if c.hidden}
        known = {k: v for k, v in values.items() if k not in unknown}
        targets = self.targets(suppressed) if targets is None else targets
        found = intervals(self.model, unknown, targets, known, self._cache)
        caps = self.cap(targets, {k: v for k, v in known.items() if k.region == ALL})
        out = []
        for k in targets:
            lo, hi = found[k]
            hidden = self.model.cells[k].hidden
            out.append({"cell": k, "hidden": hidden, "lower": lo, "upper": hi, "cap": caps[k],
                        "required": protection_required(lo, caps[k], self.small_cell_max, hidden),
                        "protected": is_protected(lo, hi, caps[k], self.small_cell_max, hidden)})
        return out


# ---------------------------------------------------------------- the audit of published marts

AUDIT_COLUMNS = ["quantity", "cell", "kind", "mart", "column", "region", "lower", "upper",
                 "width", "cap", "required", "pinned_by_totals", "protected"]


def audit(marts: dict[str, pd.DataFrame], small_cell_max: int = 4) -> pd.DataFrame:
    """The attacker's view of published ``marts``: one row per suppressed count
    (kind ``suppressed``; the first mart column showing it) and per hidden count
    of a region (kind ``hidden``: men, patients without a surgical infection,
    patients who exited), with the interval the published figures allow and
    whether it satisfies the protection rule; a count blank in one mart but
    shown in another is kind ``shown elsewhere``, never protected. Raises ``InconsistentRelations``
    when the published values contradict the declared relations."""
    if small_cell_max <= 0:
        return pd.DataFrame(columns=AUDIT_COLUMNS)
    model = build_model(marts)
    suppressed = {k for k, c in model.cells.items() if not c.hidden and c.value is None}
    auditor = Auditor(model, small_cell_max)
    rows = []
    for k, c in model.cells.items():  # suppressed in one mart, shown in another
        if c.blank_somewhere and k.region != ALL:
            shown = [a for a in c.appearances if _value(marts[a[0]].at[a[1], a[2]]) is None]
            rows.append({"quantity": k.quantity, "cell": k.label(), "kind": "shown elsewhere",
                         "mart": shown[0][0], "column": shown[0][2], "region": k.region,
                         "lower": c.value, "upper": c.value, "width": 0.0, "cap": np.nan,
                         "required": np.nan, "pinned_by_totals": False, "protected": False})
    for rec in auditor.assess(suppressed, model.known()):
        k = rec["cell"]
        mart, _, column = (model.cells[k].appearances or [("", None, "")])[0]
        rows.append({"quantity": k.quantity, "cell": k.label(),
                     "kind": "hidden" if rec["hidden"] else "suppressed",
                     "mart": mart, "column": column, "region": k.region,
                     "lower": rec["lower"], "upper": rec["upper"],
                     "width": rec["upper"] - rec["lower"], "cap": rec["cap"],
                     "required": rec["required"], "pinned_by_totals": rec["cap"] < TOL,
                     "protected": rec["protected"]})
    return pd.DataFrame(rows, columns=AUDIT_COLUMNS)


def count_disclosive(marts: dict[str, pd.DataFrame], small_cell_max: int = 4) -> int:
    """How many audited cells of ``marts`` are not protected (0 is the goal)."""
    result = audit(marts, small_cell_max)
    return int((~result["protected"].astype(bool)).sum())
