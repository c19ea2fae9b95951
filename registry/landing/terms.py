"""The code lists (dbt seeds ``map_*.csv``), read in Python, and the words tier of terms.

The seeds are the one home of the code lists: staging maps terms with them in
SQL, and landing reads the same files to recognise a column by its values and to
suggest codes. ``term_keywords.csv`` (concept, language, keyword, code), next to
the seeds, holds the words that name a code inside a longer local term
(`adenocarcinoma del pulmón` -> lung, `patient died at home` -> death,
`Infumorph 25 mg/ml` -> morphine); ``code_by_words`` applies it, and returns a
code only when the term names one code and nothing else.
"""
from __future__ import annotations

import csv
import hashlib
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from registry.landing.words import (
    KeywordIndex,
    KeywordSet,
    best_match,
    keyword_words,
    text_words,
)

SEEDS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "seeds"
LANGUAGES = ("en", "es", "pt", "fr", "de", "it", "nl")

# concept (as staging and dq_unmapped_terms name it) -> seed of its code list
CONCEPT_SEEDS: dict[str, str] = {
    "sex": "map_sex", "implant_type": "map_implant_type", "cancer_type": "map_cancer_type",
    "drug": "map_drug", "pain_location": "map_pain_location", "visit_label": "map_visit_label",
    "event_type": "map_event_term", "intervention": "map_intervention",
    "exit_reason": "map_exit_reason", "yes_no": "map_yes_no",
}
CONCEPT_ALIASES = {"event_term": "event_type", "drugs": "drug", "serious": "yes_no"}
MULTI_VALUED = ("drug", "pain_location", "intervention")
ICD10 = re.compile(r"^(C\d{2})(\.?\d{0,2})?\b", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_DOSES = re.compile(
    r"\d+([.,]\d+)?\s*(mg|mcg|µg|μg|ug|microg|%)(\s*/\s*(ml|d|day|dia|día|jour|tag|24 ?h|h))?", re.IGNORECASE)
_PARTS = re.compile(r"\s*[,;+/()\n]\s*")
_PIECES = re.compile(r"\s+(?:and|y|e|et|und|en|&)\s+|\s*&\s*", re.IGNORECASE)


def canonical_concept(concept: str) -> str:
    name = str(concept).strip().lower()
    return CONCEPT_ALIASES.get(name, name)


def normalise_term(text: object) -> str:
    """Staging's normalise_term: lower case, accents stripped, ß as ss, spaces collapsed."""
    if text is None:
        return ""
    value = str(text).replace("\u00a0", " ").replace("ß", "ss").replace("ẞ", "ss")
    value = "".join(c for c in unicodedata.normalize("NFKD", value) if not unicodedata.combining(c))
    return _SPACES.sub(" ", value.lower()).strip()


def split_terms(text: object, concept: str) -> list[list[str]]:
    """A multi-valued cell as staging splits it: parts on , ; + / ( ) and line breaks
    (doses removed from drug cells), each part with its pieces split on conjunctions."""
    value = str(text)
    if concept == "drug":
        value = _DOSES.sub(" ", value)
    parts = [p.strip() for p in _PARTS.split(value) if p.strip()]
    return [[p, *[q.strip() for q in _PIECES.split(p) if q.strip()]] for p in parts]


@dataclass(frozen=True)
class CodeLists:
    """Every seed's terms: concept -> normalised term -> {language: code}."""

    terms: Mapping[str, Mapping[str, Mapping[str, str]]]
    codes: Mapping[str, frozenset[str]]  # concept -> its codes
    icd10: Mapping[str, str]  # three-character category -> cancer type
    keywords: Mapping[str, KeywordIndex]  # concept -> term keyword sets
    digest: str  # content hash of the files read

    def code(self, concept: str, term: object, language: str | None = None) -> str | None:
        """The code a code list gives the term, resolved as staging does for a site's
        language: its own language, else `any`, else English, else the code every
        other language agrees on."""
        by_language = self.terms.get(concept, {}).get(normalise_term(term))
        if not by_language:
            return None
        for lang in ((language,) if language else ()) + ("any", "en"):
            if lang in by_language:
                return by_language[lang]
        codes = set(by_language.values())
        return codes.pop() if len(codes) == 1 else None

    def knows(self, concept: str, term: object) -> bool:
        return normalise_term(term) in self.terms.get(concept, {})

    def map_term(self, concept: str, term: object, language: str | None = None,
                 overrides: Mapping[tuple[str, str], str] | None = None) -> str | None:
        """Override, code list, ICD-10 (cancer types), then the words tier; None when unsure."""
        norm = normalise_term(term)
        if not norm:
            return None
        if overrides and (concept, norm) in overrides:
            return overrides[(concept, norm)]
        code = self.code(concept, norm, language)
        if code is None and concept == "cancer_type":
            match = ICD10.match(norm.upper())
            code = self.icd10.get(match.group(1).upper()) if match else None
        return code if code is not None else self.code_by_words(concept, norm)

    def code_by_words(self, concept: str, term: object) -> str | None:
        """The one code whose keywords the term names, or None (no keyword, or two codes)."""
        sets = self.keywords.get(canonical_concept(concept))
        if not sets:
            return None
        match = best_match(text_words(normalise_term(term)), sets)
        return match.winner.target if match.winner is not None else None

    def fits(self, concept: str, value: object, language: str | None = None,
             overrides: Mapping[tuple[str, str], str] | None = None) -> bool:
        """Whether a cell is a term (or, for a multi-valued concept, a list of terms) of the concept."""
        if concept not in MULTI_VALUED:
            return self.map_term(concept, value, language, overrides) is not None
        parts = split_terms(value, concept)
        return bool(parts) and all(
            self.map_term(concept, whole, language, overrides) is not None
            or all(self.map_term(concept, piece, language, overrides) is not None for piece in pieces)
            for whole, *pieces in parts
        )


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=4)
def code_lists(seeds_dir: Path = SEEDS_DIR) -> CodeLists:
    digest = hashlib.sha256()
    terms: dict[str, dict[str, dict[str, str]]] = {}
    codes: dict[str, frozenset[str]] = {}
    for concept, seed in CONCEPT_SEEDS.items():
        path = seeds_dir / f"{seed}.csv"
        digest.update(path.read_bytes())
        by_term: dict[str, dict[str, str]] = {}
        for row in _read(path):
            by_term.setdefault(normalise_term(row["term"]), {}).setdefault(row["language"].strip(), row["code"].strip())
        terms[concept] = by_term
        codes[concept] = frozenset(c for langs in by_term.values() for c in langs.values())
    icd_path = seeds_dir / "icd10_cancer_prefixes.csv"
    digest.update(icd_path.read_bytes())
    icd10 = {row["icd10_prefix"].strip().upper(): row["code"].strip() for row in _read(icd_path)}
    keywords_path = seeds_dir / "term_keywords.csv"
    digest.update(keywords_path.read_bytes())
    keywords: dict[str, list[KeywordSet]] = {}
    for line, row in enumerate(_read(keywords_path), start=2):
        concept = canonical_concept(row["concept"])
        if concept not in codes or row["code"] not in codes[concept]:
            raise ValueError(f"{keywords_path.name} line {line}: {row['concept']}/{row['code']} is no code of the code lists")
        keywords.setdefault(concept, []).append(
            KeywordSet(row["code"], keyword_words(row["keyword"]), "code", True, row["language"]))
    return CodeLists(terms, codes, icd10, {c: KeywordIndex(s) for c, s in keywords.items()}, digest.hexdigest())
