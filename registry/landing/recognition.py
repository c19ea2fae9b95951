"""Column recognition in tiers, kept as data; never a guess.

For each sheet kind, every column goes through, in order:

1. **exact**: its normalised header is a synonym of ``data/header_dictionary.csv``,
   or of the header overrides of the mapping folder (``override``, which win);
2. **words**: its header's content words (``words.text_words``: accents, case,
   punctuation, bracketed units and the stop words, units and scale words of
   ``data/header_stop_words.csv`` removed) contain a keyword set of one field
   of ``data/header_keywords.csv`` that contains every other matched set
   (``words.best_match``); identifier sets drop the column, ``none`` sets name
   what is no field of the contract (comments, doses: the column stays unknown);
3. **values**: a column still unknown whose non-blank values mostly (setting
   ``value_share``) fit one field of ``data/field_values.csv`` not yet found: a
   term of that field's code list (the dbt seeds, see ``terms``), a date in the
   field's years, a number in its range, an EQ-5D state of the site's version;
4. **never a guess**: a tie of the words, a column that two fields' values fit,
   or a field that two columns claim is reported with its candidates and not
   used; when that field is required (``schema.REQUIRED_FIELDS``) the file is
   rejected ``ambiguous_column``. Two columns that claim one field with the same
   values are one column written twice: the first is used.

Every column's outcome (method, target, matched words or share of values, score,
candidates) is recorded in ``landing.sheet_loads.recognition``. Nothing here
stores or returns a cell value: candidates carry shares and counts only.
"""
from __future__ import annotations

import csv
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from registry.landing.dictionary import (
    DATA_DIR,
    SHEET_KINDS,
    header_index,
    sheet_name_index,
)
from registry.landing.labels import normalise_label
from registry.landing.schema import REQUIRED_FIELDS, SHEET_FIELDS
from registry.landing.terms import SEEDS_DIR, CodeLists, code_lists, normalise_term
from registry.landing.words import (
    KeywordIndex,
    KeywordSet,
    best_match,
    keyword_words,
    text_words,
)

# Bump when the recognition rules change in code, so that versions recorded before differ.
RULES_VERSION = "1"
TARGET_IDENTIFIER, TARGET_IGNORE = "identifier", "ignore"
SHAPE_CHECKS = ("date", "number", "integer", "pain", "eq5d_level", "eq5d_state")
CODE_CHECKS = ("codes", "code_list")

_DATE_PATTERNS = (
    ("iso", r"^(?P<y>\d{4})[-/.](?:0?[1-9]|1[0-2])[-/.](?:0?[1-9]|[12]\d|3[01])(?:[ T]\d{1,2}:\d{2}(?::\d{2})?)?$"),
    ("text4", r"^(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|[12]\d|3[01])[-/.](?P<y>\d{4})$"),
    ("text2", r"^(?:0?[1-9]|[12]\d|3[01])[-/.](?:0?[1-9]|[12]\d|3[01])[-/.](?P<y>\d{2})$"),
    ("serial", r"^(?P<y>\d{5})(?:\.\d+)?$"),
)
_HAS_LETTER = re.compile(r"[^\W\d_]")
_NUMBER = r"^(?P<n>[+-]?\d+(?:[.,]\d+)?)$"
_INTEGER = r"^(?P<n>\d+)(?:[.,]0+)?$"
_PAIN = r"^(?P<n>\d{1,3}(?:[.,]\d+)?)\s*(?:/\s*10{1,2}|mm|cm)?$"


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class ValueRule:
    kind: str
    field: str
    check: str
    concept: str | None = None
    min: float | None = None
    max: float | None = None
    needs_above: float | None = None


@dataclass(frozen=True)
class Vocabulary:
    """The shipped recognition data, read once."""

    keywords: Mapping[str, KeywordIndex]  # sheet kind -> sets (`any` rows included)
    stop_words: frozenset[str]
    rules: Mapping[str, Mapping[str, ValueRule]]  # sheet kind -> field -> rule
    settings: Mapping[str, float]
    codes: CodeLists
    missing_words: frozenset[str]  # lower-cased, and normalised
    digest: str

    def setting(self, name: str) -> float:
        return float(self.settings[name])


def _fields_of(kind: str) -> tuple[str, ...]:
    return ("patient_ref", *SHEET_FIELDS[kind])


@lru_cache(maxsize=2)
def vocabulary(data_dir: Path = DATA_DIR, seeds_dir: Path = SEEDS_DIR) -> Vocabulary:
    digest = hashlib.sha256(RULES_VERSION.encode())
    for name in ("header_dictionary.csv", "sheet_names.csv", "header_keywords.csv", "header_stop_words.csv",
                 "field_values.csv", "recognition_settings.csv"):
        digest.update((data_dir / name).read_bytes())
    missing_path = seeds_dir / "missing_words.csv"
    digest.update(missing_path.read_bytes())
    codes = code_lists(seeds_dir)
    digest.update(codes.digest.encode())
    keywords: dict[str, list[KeywordSet]] = {kind: [] for kind in SHEET_KINDS}
    for line, row in enumerate(_read_csv(data_dir / "header_keywords.csv"), start=2):
        kind, target, role = row["sheet_kind"].strip(), row["target"].strip(), row["role"].strip()
        kinds = SHEET_KINDS if kind == "any" else (kind,)
        if kind != "any" and kind not in SHEET_KINDS:
            raise ValueError(f"header_keywords.csv line {line}: unknown sheet_kind {kind!r}")
        if role not in ("field", "identifier", "none"):
            raise ValueError(f"header_keywords.csv line {line}: unknown role {role!r}")
        if role == "field" and any(target not in _fields_of(k) for k in kinds):
            raise ValueError(f"header_keywords.csv line {line}: {target!r} is no field of {kind} sheets")
        words = keyword_words(row["keywords"])
        if not words:
            raise ValueError(f"header_keywords.csv line {line}: no keyword")
        kset = KeywordSet(target, words, role, row["strength"].strip() != "weak", row["language"].strip())
        for k in kinds:
            keywords[k].append(kset)
    stop_words = frozenset(normalise_label(r["word"]) for r in _read_csv(data_dir / "header_stop_words.csv"))
    rules: dict[str, dict[str, ValueRule]] = {kind: {} for kind in SHEET_KINDS}
    for line, row in enumerate(_read_csv(data_dir / "field_values.csv"), start=2):
        kind, fld = row["sheet_kind"].strip(), row["field"].strip()
        if kind not in SHEET_KINDS or fld not in SHEET_FIELDS[kind]:
            raise ValueError(f"field_values.csv line {line}: {kind}/{fld} is no field of the landing tables")

        def number(name: str) -> float | None:
            return float(row[name]) if row.get(name, "").strip() else None

        rules[kind][fld] = ValueRule(kind, fld, row["check"].strip(), row["concept"].strip() or None,
                                     number("min"), number("max"), number("needs_above"))
    settings = {r["setting"].strip(): float(r["value"]) for r in _read_csv(data_dir / "recognition_settings.csv")}
    words = [r["word"] for r in _read_csv(missing_path)]
    missing = frozenset({w.strip().lower() for w in words} | {normalise_term(w) for w in words})
    return Vocabulary({k: KeywordIndex(v) for k, v in keywords.items()}, stop_words, rules, settings, codes,
                      missing, digest.hexdigest())


# ----------------------------------------------------------------------------------------
# One header: tiers 1 and 2


@dataclass(frozen=True)
class HeaderGuess:
    """What a header alone says. ``role``: field, identifier, ignore (override), none
    (known words that name no field), ambiguous (a tie of the words) or unknown."""

    role: str
    target: str | None = None
    method: str | None = None
    matched: tuple[str, ...] = ()
    score: float | None = None
    candidates: tuple[dict, ...] = ()

    @property
    def decided(self) -> bool:
        return self.role in ("field", "identifier", "ignore")

    def names(self, fld: str) -> bool:
        """Whether the header names this field, surely or as one of tied candidates."""
        return (self.role == "field" and self.target == fld) or (
            self.role == "ambiguous" and any(c["target"] == fld for c in self.candidates))


UNKNOWN = HeaderGuess("unknown")
# (vocabulary, overrides) -> (sheet kind, normalised header) -> guess: headers repeat across files
_GUESSES: dict[tuple[str, str], dict[tuple[str, str], HeaderGuess]] = {}


@dataclass(frozen=True)
class SiteContext:
    """A site's settings and the mapping overrides that apply to it (``mappings``)."""

    site_id: str | None = None
    language: str | None = None
    pain_scale: str | None = None
    eq5d_version: str | None = None
    date_order: str | None = None
    header_overrides: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (kind, norm) -> target
    term_overrides: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (concept, norm) -> code
    overrides_digest: str = ""


# ----------------------------------------------------------------------------------------
# One column: how its values fit each field (tier 3)


def _distinct(values: pa.ChunkedArray | pa.Array, missing: frozenset[str]) -> tuple[pa.Array, np.ndarray]:
    """Distinct non-blank, non-missing values and their counts."""
    values = values.drop_null() if len(values) else values
    if len(values) == 0:
        return pa.array([], pa.string()), np.zeros(0, dtype=np.int64)
    counted = pc.value_counts(values)
    distinct, counts = counted.field("values"), counted.field("counts").to_numpy(zero_copy_only=False)
    keep = pc.invert(pc.is_in(pc.utf8_lower(distinct), pa.array(sorted(missing), pa.string())))
    return distinct.filter(keep), counts[np.asarray(keep.to_numpy(zero_copy_only=False), dtype=bool)]


def _numbers(distinct: pa.Array, pattern: str, group: str = "n") -> np.ndarray:
    if len(distinct) == 0:
        return np.zeros(0)
    found = pc.struct_field(pc.extract_regex(distinct, pattern), group)
    parsed = pc.cast(pc.replace_substring(found, ",", "."), pa.float64())
    return parsed.to_numpy(zero_copy_only=False).astype(float)


def _years(distinct: pa.Array) -> np.ndarray:
    years = np.full(len(distinct), np.nan)
    for kind, pattern in _DATE_PATTERNS:
        found = _numbers(distinct, pattern, "y")
        if kind == "text2":
            found = np.where(found < 30, 2000 + found, 1900 + found)
        elif kind == "serial":
            found = np.where((found >= 10000) & (found <= 80000), 1900 + (found - 1) / 365.25, np.nan)
        years = np.where(np.isnan(years), found, years)
    return years


def _in(values: np.ndarray, low: float | None, high: float | None) -> np.ndarray:
    ok = ~np.isnan(values)
    if low is not None:
        ok &= np.nan_to_num(values, nan=-np.inf) >= low
    if high is not None:
        ok &= np.nan_to_num(values, nan=np.inf) <= high
    return ok


@dataclass(frozen=True)
class ValueFit:
    field: str
    share: float  # of the non-blank values
    n_values: int
    evidence: str  # what was checked, no value

    def as_candidate(self) -> dict:
        return {"target": self.field, "method": "values", "score": round(self.share, 3),
                "matched": [self.evidence]}


class Recognizer:
    """Recognition for one site (or for none: shipped data only, any scale and version)."""

    def __init__(self, site: SiteContext | None = None, vocab: Vocabulary | None = None):
        self.site = site or SiteContext()
        self.vocab = vocab or vocabulary()
        self._exact = header_index()
        self._guesses = _GUESSES.setdefault((self.vocab.digest, self.site.overrides_digest), {})

    # -- tiers 1 and 2 -------------------------------------------------------------------
    def guess(self, kind: str, header: object) -> HeaderGuess:
        if header is None:
            return UNKNOWN
        text = header if isinstance(header, str) else str(header)
        raw = (kind, "\0" + text)
        found = self._guesses.get(raw)
        if found is not None:
            return found
        if not _HAS_LETTER.search(text):
            return UNKNOWN  # dates and numbers: not cached, they rarely repeat
        key = (kind, normalise_label(header))
        found = self._guesses.get(key)
        if found is None:
            found = self._guesses[key] = self._guess(kind, header, key[1])
        if len(self._guesses) > 200_000:
            self._guesses.clear()
        self._guesses[raw] = found
        return found

    def _guess(self, kind: str, header: object, norm: str) -> HeaderGuess:
        if not norm:
            return UNKNOWN
        target = self.site.header_overrides.get((kind, norm))
        if target is not None:
            role = target if target in (TARGET_IDENTIFIER, TARGET_IGNORE) else "field"
            return HeaderGuess(role, target, "override", (norm,), 1.0)
        exact = self._exact[kind].get(norm)
        if exact is not None:
            target = exact.field if exact.role == "field" else TARGET_IDENTIFIER
            return HeaderGuess(exact.role, target, "exact", (norm,), 1.0)
        tokens = text_words(header, self.vocab.stop_words, norm)
        if not tokens:
            return UNKNOWN
        match = best_match(tokens, self.vocab.keywords[kind])
        candidates = tuple(
            {"target": c.target if c.role != "none" else None, "role": c.role, "method": "words",
             "matched": list(c.words), "score": round(_cover(c.words, tokens), 3)}
            for c in match.candidates)
        if match.winner is not None:
            win = match.winner
            role = "identifier" if win.role == "identifier" else ("none" if win.role == "none" else "field")
            target = TARGET_IDENTIFIER if role == "identifier" else (None if role == "none" else win.target)
            return HeaderGuess(role, target, "words", win.words, round(_cover(win.words, tokens), 3), candidates)
        if match.is_tie:
            if any(c.role == "identifier" for c in match.candidates):
                # a header that may name a person is dropped, whatever else it may name
                return HeaderGuess("identifier", TARGET_IDENTIFIER, "words",
                                   tuple(w for c in match.candidates if c.role == "identifier" for w in c.words),
                                   None, candidates)
            return HeaderGuess("ambiguous", None, "words", (), None, candidates)
        return UNKNOWN

    # -- tier 3 --------------------------------------------------------------------------
    def value_fits(self, kind: str, values: pa.ChunkedArray | pa.Array, fields: Sequence[str]) -> list[ValueFit]:
        """How the non-blank values fit each of ``fields`` that has a value rule (shares, no value)."""
        distinct, counts = _distinct(values, self.vocab.missing_words)
        total = int(counts.sum())
        if total == 0:
            return []
        fits = []
        for fld in fields:
            rule = self.vocab.rules[kind].get(fld)
            if rule is None:
                continue
            ok, evidence = self._fit(rule, distinct, counts)
            fits.append(ValueFit(fld, float(counts[ok].sum()) / total, total, evidence))
        return fits

    def _fit(self, rule: ValueRule, distinct: pa.Array, counts: np.ndarray) -> tuple[np.ndarray, str]:
        if rule.check == "date":
            years = _years(distinct)
            return _in(years, rule.min, rule.max), f"dates {rule.min:.0f}-{rule.max:.0f}"
        if rule.check in ("number", "integer"):
            numbers = _numbers(distinct, _NUMBER if rule.check == "number" else _INTEGER)
            ok = _in(numbers, rule.min, rule.max)
            evidence = f"{rule.check}s {rule.min:g}-{rule.max:g}"
            if rule.needs_above is not None and ok.any():
                above = float(counts[ok & (np.nan_to_num(numbers) > rule.needs_above)].sum())
                if above < self.vocab.setting("above_share") * float(counts[ok].sum()):
                    ok = np.zeros(len(ok), dtype=bool)
                evidence += f", mostly above {rule.needs_above:g}"
            return ok, evidence
        if rule.check == "pain":
            top = {"NRS11": 10.0, "VAS100": 100.0}.get(self.site.pain_scale or "", 100.0)
            return _in(_numbers(distinct, _PAIN), 0, top), f"pain scores 0-{top:g}"
        if rule.check == "eq5d_level":
            top = self._eq5d_top()
            return _in(_numbers(distinct, _INTEGER), 1, top), f"EQ-5D levels 1-{top}"
        if rule.check == "eq5d_state":
            top = self._eq5d_top()
            hits = pc.match_substring_regex(distinct, f"^[1-{top}]{{5}}$")
            return np.asarray(hits.to_numpy(zero_copy_only=False), dtype=bool), f"EQ-5D states of levels 1-{top}"
        if rule.check in CODE_CHECKS:
            cap = int(self.vocab.setting("max_distinct"))
            order = np.argsort(-counts, kind="stable")[:cap]
            ok = np.zeros(len(distinct), dtype=bool)
            strings = distinct.take(pa.array(order)).to_pylist() if len(order) else []
            for i, text in zip(order, strings):  # per distinct value, capped
                ok[i] = self.vocab.codes.fits(rule.concept, text, self.site.language, self.site.term_overrides)
            return ok, f"terms of the {rule.concept} code list"
        raise ValueError(f"unknown value check {rule.check!r}")

    def _eq5d_top(self) -> int:
        return {"3L": 3, "5L": 5}.get((self.site.eq5d_version or "").upper(), 5)

    # -- a whole sheet -------------------------------------------------------------------
    def find_header(self, kind: str, head: Sequence[Sequence[object]]) -> int | None:
        """Row (0-based) with the most recognised headers among those naming patient_ref; ties: first."""
        best, best_score = None, -1
        for i, cells in enumerate(head):
            filled = [cell for cell in cells if cell is not None]
            # Once a header is found, a row is guessed only while it can still score more:
            # the data rows below it (most of the 15) stop after a few undecided cells.
            undecided_allowed = len(filled) - best_score - 1
            if undecided_allowed < 0:
                continue
            score, names_ref = 0, False
            for cell in filled:
                guess = self.guess(kind, cell)
                if guess.decided:
                    score += 1
                else:
                    undecided_allowed -= 1
                    if undecided_allowed < 0:
                        break
                names_ref = names_ref or guess.names("patient_ref")
            else:
                if names_ref and score > best_score:
                    best, best_score = i, score
        return best

    def recognise(self, kind: str, headers: Sequence[object], columns: Sequence[pa.ChunkedArray],
                  describe: str = "sheet") -> SheetRecognition:
        """Every column's outcome; raises ``ColumnsRejected`` for a required field that no
        column surely holds (``missing_required_column``) or that two columns claim
        (``ambiguous_column``). ``describe`` names the sheet in those messages."""
        taken: set[str] = set()
        cols: list[Column] = []
        for j, header in enumerate(headers):
            values = columns[j]
            header = None if header is None else str(header)
            if header is None and values.null_count == len(values):
                continue
            key = _unique(header if header is not None else f"(column {j + 1} without header)", taken)
            guess = self.guess(kind, header)
            status = {"field": "mapped", "identifier": "identifier", "ignore": "ignored", "none": "unknown",
                      "ambiguous": "ambiguous", "unknown": "unknown"}[guess.role]
            cols.append(Column(j, header, key, guess.method, guess.target, status, guess.matched, guess.score,
                               list(guess.candidates), values_tier=guess.role == "unknown"))
        sheet = SheetRecognition(kind, cols)
        self._settle_claims(sheet, columns, describe)
        self._check_words_against_values(sheet, columns)
        self._values_tier(sheet, columns, describe)
        self._required(sheet, describe)
        return sheet

    def _settle_claims(self, sheet: SheetRecognition, columns, describe: str) -> None:
        """A field claimed by two columns: one column written twice, or ambiguous."""
        for fld, claimants in sheet.claims().items():
            if len(claimants) < 2:
                continue
            first = claimants[0]
            if all(_same_values(columns[first.index], columns[c.index], fld == "patient_ref") for c in claimants[1:]):
                for c in claimants[1:]:
                    c.status = "duplicate"
                continue
            names = " and ".join(repr(c.key) for c in claimants)
            if fld in REQUIRED_FIELDS[sheet.kind]:
                raise ColumnsRejected("ambiguous_column",
                                      f"{describe}: {fld} is claimed by columns {names}, whose values differ")
            for c in claimants:
                c.status = "ambiguous"
                c.candidates = _merge(c.candidates, [{"target": fld, "method": c.method, "score": c.score,
                                                     "matched": list(c.matched), "claimed_by": len(claimants)}])
                sheet.contested.add(fld)

    def _check_words_against_values(self, sheet: SheetRecognition, columns) -> None:
        """A header read by its words whose values plainly say otherwise is not used."""
        floor, low = self.vocab.setting("min_values"), self.vocab.setting("contradiction_share")
        for c in sheet.columns:
            if c.status != "mapped" or c.method != "words":
                continue
            rule = self.vocab.rules[sheet.kind].get(c.target)
            if rule is None:
                continue
            if rule.check in SHAPE_CHECKS:
                fits = self.value_fits(sheet.kind, columns[c.index], [c.target])
                against = bool(fits) and fits[0].n_values >= floor and fits[0].share < low
            else:
                dates = ValueRule(sheet.kind, c.target, "date", None, 1900, 2100)
                distinct, counts = _distinct(columns[c.index], self.vocab.missing_words)
                total = counts.sum()
                against = total >= floor and counts[self._fit(dates, distinct, counts)[0]].sum() >= (
                    self.vocab.setting("value_share") * total)
                fits = []
            if against:
                c.status = "ambiguous"
                c.candidates = _merge(c.candidates, [*(f.as_candidate() for f in fits),
                                                     {"target": c.target, "method": "words", "score": c.score,
                                                      "matched": list(c.matched), "values_disagree": True}])

    def _values_tier(self, sheet: SheetRecognition, columns, describe: str) -> None:
        found = {c.target for c in sheet.columns if c.status in ("mapped", "duplicate")}
        open_fields = [f for f in self.vocab.rules[sheet.kind] if f not in found and f not in sheet.contested]
        threshold, floor = self.vocab.setting("value_share"), self.vocab.setting("min_values")
        proposals: dict[str, list[tuple[Column, ValueFit]]] = {}
        for c in sheet.columns:
            if not c.values_tier or c.status != "unknown":
                continue
            fits = [f for f in self.value_fits(sheet.kind, columns[c.index], open_fields) if f.share > 0]
            fits.sort(key=lambda f: -f.share)
            c.candidates = _merge(c.candidates, [f.as_candidate() for f in fits[:5]])
            sure = [f for f in fits if f.share >= threshold and f.n_values >= floor]
            if len(sure) == 1:
                proposals.setdefault(sure[0].field, []).append((c, sure[0]))
            elif len(sure) > 1:
                c.status = "ambiguous"
        for fld, claimants in proposals.items():
            if len(claimants) == 1:
                c, fit = claimants[0]
                c.status, c.method, c.target, c.score = "mapped", "values", fld, round(fit.share, 3)
                c.matched = (f"{fit.share:.0%} of {fit.n_values} values: {fit.evidence}",)
                continue
            if fld in REQUIRED_FIELDS[sheet.kind]:
                names = " and ".join(repr(c.key) for c, _ in claimants)
                raise ColumnsRejected("ambiguous_column",
                                      f"{describe}: the values of columns {names} all fit {fld}")
            for c, _ in claimants:
                c.status = "ambiguous"

    def _required(self, sheet: SheetRecognition, describe: str) -> None:
        kept = sheet.kept()
        missing = [f for f in REQUIRED_FIELDS[sheet.kind] if f not in kept]
        if not missing:
            return
        unsure = [c for c in sheet.columns if c.status == "ambiguous"
                  and any(d.get("target") in missing for d in c.candidates)]
        if unsure:
            listed = "; ".join(f"{c.key!r} (candidates: {', '.join(c.candidate_targets())})" for c in unsure)
            raise ColumnsRejected("ambiguous_column", f"{describe}: no column is surely "
                                  f"{' or '.join(missing)}: {listed}")
        raise ColumnsRejected("missing_required_column", f"{describe}: no {' or '.join(missing)} column")


# ----------------------------------------------------------------------------------------


class ColumnsRejected(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(f"{code}: {message}")
        self.code, self.message = code, message


@dataclass
class Column:
    """One column's recognition (``status``: mapped, duplicate, identifier, ignored, ambiguous, unknown)."""

    index: int  # 0-based, counted from the first used column
    header: str | None
    key: str  # the header, or `(column N without header)`, made unique within the sheet
    method: str | None
    target: str | None
    status: str
    matched: tuple[str, ...] = ()
    score: float | None = None
    candidates: list[dict] = field(default_factory=list)
    values_tier: bool = False

    def candidate_targets(self) -> list[str]:
        seen: list[str] = []
        for c in self.candidates:
            if c.get("target") and c["target"] not in seen:
                seen.append(c["target"])
        return seen

    def record(self, redact) -> dict:
        """The column as stored in sheet_loads.recognition (header screened by ``redact``)."""
        return {"position": self.index + 1, "header": redact(self.key), "status": self.status,
                "method": self.method, "target": self.target, "matched": [redact(m) for m in self.matched],
                "score": self.score, "candidates": [{k: v for k, v in c.items()} for c in self.candidates]}


@dataclass
class SheetRecognition:
    kind: str
    columns: list[Column]
    contested: set[str] = field(default_factory=set)

    def claims(self) -> dict[str, list[Column]]:
        out: dict[str, list[Column]] = {}
        for c in self.columns:
            if c.status == "mapped":
                out.setdefault(c.target, []).append(c)
        return out

    def kept(self) -> dict[str, Column]:
        return {c.target: c for c in self.columns if c.status == "mapped"}

    def signature(self) -> str:
        """What decides the landed rows: header, status and target of each column."""
        return json.dumps([[c.index, c.key, c.status, c.target] for c in self.columns], ensure_ascii=False)


def _unique(key: str, taken: set[str]) -> str:
    candidate, n = key, 1
    while candidate in taken:
        n += 1
        candidate = f"{key} ({n})"
    taken.add(candidate)
    return candidate


def _cover(words: Sequence[str], tokens: Sequence[str]) -> float:
    """Share of the header's content words that the keyword set explains."""
    from registry.landing.words import word_matches

    used = sum(any(word_matches(w, t) for w in words) for t in tokens)
    return used / len(tokens) if tokens else 0.0


def _merge(held: list[dict], more: list[dict]) -> list[dict]:
    out = list(held)
    for c in more:
        if c not in out:
            out.append(c)
    return out


def _same_values(a: pa.ChunkedArray, b: pa.ChunkedArray, fold_case: bool) -> bool:
    """Two columns hold the same text on every row (blank equals blank)."""
    if fold_case:
        a, b = pc.utf8_upper(a), pc.utf8_upper(b)
    equal = pc.equal(a, b)
    both_blank = pc.and_(pc.is_null(a), pc.is_null(b))
    return bool(pc.all(pc.or_(pc.fill_null(equal, False), both_blank)).as_py())


def known_fields(kind: str) -> tuple[str, ...]:
    return _fields_of(kind)


__all__ = [
    "Column", "ColumnsRejected", "HeaderGuess", "Recognizer", "SheetRecognition", "SiteContext",
    "Vocabulary", "known_fields", "sheet_name_index", "vocabulary",
]
