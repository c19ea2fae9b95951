"""Mapping overrides: configuration a data engineer edits, kept with the site master.

The mappings folder holds three optional CSV files:

- ``header_overrides.csv``: site_id (or ``*`` for every site), sheet_kind,
  header, target: a field of that sheet kind, ``identifier`` (dropped) or
  ``ignore`` (neither loaded nor reported as unknown). A site's own row wins
  over a ``*`` row, and both win over the shipped dictionaries.
- ``term_overrides.csv``: site_id (or ``*``), concept, term, code: a local term
  and its canonical code (codes are those of the dbt seeds ``map_*.csv``).
- ``not_collected.csv``: site_id, sheet_kind, field, reason: a field the site
  never collects (``eq5d`` for all of EQ-5D), so that the check of the fields
  the analysis needs does not block it.

Every file is validated when read; ``MappingsError`` lists each bad line with
its file, line number and reason (unknown site, sheet kind, field, concept or
code; a key given twice with another target). A missing folder or file means no
overrides of that kind.
"""
from __future__ import annotations

import csv
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from registry.landing.dictionary import SHEET_KINDS
from registry.landing.labels import normalise_label
from registry.landing.recognition import (
    TARGET_IDENTIFIER,
    TARGET_IGNORE,
    SiteContext,
    known_fields,
)
from registry.landing.schema import SHEET_FIELDS, ensure_landing_schema
from registry.landing.site_master import utc_now
from registry.landing.terms import (
    CONCEPT_SEEDS,
    canonical_concept,
    code_lists,
    normalise_term,
)

ALL_SITES = "*"
FILES = {
    "header_overrides": ("header_overrides.csv", ("site_id", "sheet_kind", "header", "target")),
    "term_overrides": ("term_overrides.csv", ("site_id", "concept", "term", "code")),
    "not_collected": ("not_collected.csv", ("site_id", "sheet_kind", "field", "reason")),
}
# what not_collected may name besides a sheet's fields: a group of fields
FIELD_GROUPS = {"visits": {"eq5d": ("mobility", "self_care", "usual_activities", "pain_discomfort",
                                    "anxiety_depression", "eq5d_state", "eq_vas")}}


@dataclass(frozen=True)
class MappingProblem:
    file: str
    line: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file} line {self.line}: {self.reason}"


class MappingsError(ValueError):
    """The mappings folder has lines that cannot be used; ``problems`` lists them all."""

    def __init__(self, problems: list[MappingProblem]):
        self.problems = problems
        super().__init__("mapping overrides rejected:\n" + "\n".join(f"  {p}" for p in problems))


@dataclass(frozen=True)
class HeaderOverride:
    site_id: str
    sheet_kind: str
    header: str
    target: str
    line: int

    @property
    def key(self) -> tuple[str, str, str]:
        return self.site_id, self.sheet_kind, normalise_label(self.header)


@dataclass(frozen=True)
class TermOverride:
    site_id: str
    concept: str
    term: str
    code: str
    line: int

    @property
    def key(self) -> tuple[str, str, str]:
        return self.site_id, self.concept, normalise_term(self.term)


@dataclass(frozen=True)
class NotCollected:
    site_id: str
    sheet_kind: str
    field: str
    reason: str
    line: int


@dataclass(frozen=True)
class Mappings:
    header_overrides: tuple[HeaderOverride, ...] = ()
    term_overrides: tuple[TermOverride, ...] = ()
    not_collected: tuple[NotCollected, ...] = ()
    folder: Path | None = None

    def site_context(self, site: dict | None) -> SiteContext:
        """The recognition context of a site (a row of landing.site_master, or None)."""
        site = site or {}
        site_id = site.get("site_id")
        headers: dict[tuple[str, str], str] = {}
        terms: dict[tuple[str, str], str] = {}
        # `*` rows first, the site's own rows over them
        for scope in (ALL_SITES, site_id):
            for o in self.header_overrides:
                if o.site_id == scope:
                    kinds = SHEET_KINDS if o.sheet_kind == "any" else (o.sheet_kind,)
                    for kind in kinds:
                        headers[(kind, normalise_label(o.header))] = o.target
            for t in self.term_overrides:
                if t.site_id == scope:
                    terms[(t.concept, normalise_term(t.term))] = t.code
        digest = hashlib.sha256(json.dumps([sorted(headers.items()), sorted(terms.items())],
                                           ensure_ascii=False).encode()).hexdigest()
        return SiteContext(site_id, site.get("language"), site.get("pain_scale"), site.get("eq5d_version"),
                           site.get("date_order"), headers, terms, digest)


def _read(path: Path, columns: tuple[str, ...], problems: list[MappingProblem]) -> list[tuple[int, dict]]:
    if not path.is_file():
        return []
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.DictReader(handle)
        header = [c.strip() for c in reader.fieldnames or []]
        missing = [c for c in columns if c not in header]
        if missing:
            problems.append(MappingProblem(path.name, 1, f"missing column(s) {', '.join(missing)}"))
            return []
        rows = []
        for line, row in enumerate(reader, start=2):
            values = {k.strip(): (v or "").strip() for k, v in row.items() if k is not None}
            if not any(values.get(c) for c in columns):
                continue  # a blank line
            rows.append((line, values))
        return rows


def read_mappings(folder: Path | None, known_sites: Iterable[str] | None = None) -> Mappings:
    """Read and validate the mappings folder; raise ``MappingsError`` listing every bad line."""
    if folder is None:
        return Mappings()
    folder = Path(folder)
    sites = set(known_sites) if known_sites is not None else None
    codes = code_lists()
    problems: list[MappingProblem] = []

    def check_site(name: str, line: int, site_id: str) -> bool:
        if not site_id:
            problems.append(MappingProblem(name, line, "site_id is empty (use * for every site)"))
            return False
        if site_id != ALL_SITES and sites is not None and site_id not in sites:
            problems.append(MappingProblem(name, line, f"unknown site {site_id!r} (not in the site master)"))
            return False
        return True

    name, columns = FILES["header_overrides"]
    headers: dict[tuple, HeaderOverride] = {}
    for line, row in _read(folder / name, columns, problems):
        kind, target = row["sheet_kind"].lower(), row["target"]
        if not check_site(name, line, row["site_id"]):
            continue
        if kind not in (*SHEET_KINDS, "any"):
            problems.append(MappingProblem(name, line, f"unknown sheet_kind {row['sheet_kind']!r} "
                                                       f"(one of {', '.join(SHEET_KINDS)} or any)"))
            continue
        if not normalise_label(row["header"]):
            problems.append(MappingProblem(name, line, "empty header"))
            continue
        kinds = SHEET_KINDS if kind == "any" else (kind,)
        if target not in (TARGET_IDENTIFIER, TARGET_IGNORE) and any(target not in known_fields(k) for k in kinds):
            problems.append(MappingProblem(name, line, f"unknown field {target!r} for {kind} sheets "
                                                       "(a field, identifier or ignore)"))
            continue
        override = HeaderOverride(row["site_id"], kind, row["header"], target, line)
        held = headers.get(override.key)
        if held is not None and held.target != target:
            problems.append(MappingProblem(name, line, f"header {row['header']!r} already maps to "
                                                       f"{held.target!r} on line {held.line}"))
            continue
        headers.setdefault(override.key, override)

    name, columns = FILES["term_overrides"]
    terms: dict[tuple, TermOverride] = {}
    for line, row in _read(folder / name, columns, problems):
        if not check_site(name, line, row["site_id"]):
            continue
        concept = canonical_concept(row["concept"])
        if concept not in CONCEPT_SEEDS:
            problems.append(MappingProblem(name, line, f"unknown concept {row['concept']!r} "
                                                       f"(one of {', '.join(CONCEPT_SEEDS)})"))
            continue
        if row["code"] not in codes.codes[concept]:
            problems.append(MappingProblem(name, line, f"unknown code {row['code']!r} for {concept} "
                                                       f"(one of {', '.join(sorted(codes.codes[concept]))})"))
            continue
        if not normalise_term(row["term"]):
            problems.append(MappingProblem(name, line, "empty term"))
            continue
        override = TermOverride(row["site_id"], concept, row["term"], row["code"], line)
        held = terms.get(override.key)
        if held is not None and held.code != override.code:
            problems.append(MappingProblem(name, line, f"term {row['term']!r} already maps to "
                                                       f"{held.code!r} on line {held.line}"))
            continue
        terms.setdefault(override.key, override)

    name, columns = FILES["not_collected"]
    declared: dict[tuple, NotCollected] = {}
    for line, row in _read(folder / name, columns, problems):
        if not check_site(name, line, row["site_id"]):
            continue
        kind = row["sheet_kind"].lower()
        if kind not in SHEET_KINDS:
            problems.append(MappingProblem(name, line, f"unknown sheet_kind {row['sheet_kind']!r}"))
            continue
        allowed = (*SHEET_FIELDS[kind], *FIELD_GROUPS.get(kind, {}))
        if row["field"] not in allowed:
            problems.append(MappingProblem(name, line, f"unknown field {row['field']!r} for {kind} sheets"))
            continue
        entry = NotCollected(row["site_id"], kind, row["field"], row["reason"], line)
        declared.setdefault((entry.site_id, kind, entry.field), entry)
    if problems:
        raise MappingsError(problems)
    return Mappings(tuple(headers.values()), tuple(terms.values()), tuple(declared.values()), folder)


def load_mappings(con, folder: Path | None, known_sites: Iterable[str] | None = None) -> Mappings:
    """Validate the mappings folder and replace landing.header_overrides, landing.term_overrides
    and landing.not_collected with it (in one transaction); returns the mappings.

    ``known_sites`` defaults to the sites of landing.site_master."""
    ensure_landing_schema(con)
    if known_sites is None:
        known_sites = [r[0] for r in con.execute("SELECT site_id FROM landing.site_master").fetchall()]
    mappings = read_mappings(folder, known_sites)
    now = utc_now()
    con.execute("BEGIN TRANSACTION")
    try:
        for table in ("header_overrides", "term_overrides", "not_collected"):
            con.execute(f"DELETE FROM landing.{table}")
        rows = {
            "header_overrides": [(o.site_id, o.sheet_kind, o.header, normalise_label(o.header), o.target, o.line, now)
                                 for o in mappings.header_overrides],
            "term_overrides": [(t.site_id, t.concept, t.term, normalise_term(t.term), t.code, t.line, now)
                               for t in mappings.term_overrides],
            "not_collected": [(n.site_id, n.sheet_kind, n.field, n.reason, n.line, now) for n in mappings.not_collected],
        }
        for table, values in rows.items():
            if values:
                marks = ", ".join("?" * len(values[0]))
                con.executemany(f"INSERT INTO landing.{table} VALUES ({marks})", values)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise
    return mappings

