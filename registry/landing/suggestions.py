"""Suggestions for what recognition left unknown: the closest fields of an unknown header,
the closest codes of an unmapped term, as rows ready to paste into the override files.

Like OHDSI's Usagi for source terms: every candidate has a score (0 to 100) and the
evidence behind it, and nothing is applied until a data engineer copies a row into
``header_overrides.csv`` or ``term_overrides.csv`` (``mappings``). The evidence is made
of the header or term itself, the dictionaries' synonyms and keywords, code-list terms
and counts (shares of values that fit a field, from ``landing.unknown_columns``):
never a patient value. Texts are screened with ``identifiers.redact``.

- ``suggest_headers(rows)``: rows of site_id, sheet_kind, header and optionally
  n_values, candidates (the value fits recorded at landing), share_date_like;
  returns site_id, sheet_kind, header, target, rank, score, evidence.
- ``suggest_terms(rows)``: rows of site_id, concept, term, optionally n_rows and
  language; returns site_id, concept, term, code, rank, score, evidence.
- ``header_suggestions(con)`` / ``term_suggestions(con)``: the same for what the
  warehouse holds now (current deliveries' unknown columns; ``dq.dq_unmapped_terms``).
"""
from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from rapidfuzz import fuzz, process

from registry.landing.dictionary import DATA_DIR, SHEET_KINDS
from registry.landing.identifiers import redact
from registry.landing.labels import normalise_label
from registry.landing.recognition import TARGET_IDENTIFIER, known_fields, vocabulary
from registry.landing.terms import canonical_concept, code_lists, normalise_term
from registry.landing.words import best_match, text_words, word_matches

HEADER_COLUMNS = ("site_id", "sheet_kind", "header", "target", "rank", "score", "evidence")
TERM_COLUMNS = ("site_id", "concept", "term", "code", "rank", "score", "evidence")
DATE_FIELDS = ("birth_date", "implant_date", "visit_date", "onset_date", "exit_date")


@lru_cache(maxsize=1)
def _synonyms() -> dict[str, list[tuple[str, str]]]:
    """Sheet kind -> (normalised synonym, target) of the dictionary and the keyword sets."""
    with (DATA_DIR / "header_dictionary.csv").open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    out: dict[str, list[tuple[str, str]]] = {kind: [] for kind in SHEET_KINDS}
    for row in rows:
        target = row["field"] if row["role"] == "field" else TARGET_IDENTIFIER
        for kind in SHEET_KINDS if row["sheet_kind"] == "any" else (row["sheet_kind"],):
            out[kind].append((normalise_label(row["synonym"]), target))
    vocab = vocabulary()
    for kind, index in vocab.keywords.items():
        for kset in index:
            if kset.role != "none" and not any("*" in w for w in kset.words):
                target = TARGET_IDENTIFIER if kset.role == "identifier" else kset.target
                out[kind].append((" ".join(kset.words), target))
    return {kind: sorted(set(pairs)) for kind, pairs in out.items()}


def _fuzzy_words(tokens: tuple[str, ...], kind: str) -> dict[str, tuple[float, str]]:
    """Target -> (score, evidence) from keyword sets whose words the header's words spell
    closely (typos: `Pian`, `resaon`); a set counts by the share of its words found."""
    out: dict[str, tuple[float, str]] = {}
    for kset in vocabulary().keywords[kind]:
        if kset.role == "none":
            continue
        found, total = 0.0, 0.0
        for word in kset.words:
            core = word.strip("*")
            best = 0.0
            for t in tokens:
                if word_matches(word, t):
                    best = 100.0
                    break
                if len(core) >= 4 and len(t) >= 3:
                    best = max(best, fuzz.ratio(core, t[: len(core) + 2] if word.endswith("*") else t))
            found += best
            total += 100.0
        share = found / total if total else 0.0
        used = sum(any(word_matches(w, t) or fuzz.ratio(w.strip("*"), t) >= 80 for w in kset.words) for t in tokens)
        coverage = used / len(tokens) if tokens else 0.0
        score = 100 * share * (0.75 + 0.25 * coverage) * (1.0 if kset.strong else 0.85)
        target = TARGET_IDENTIFIER if kset.role == "identifier" else kset.target
        if score > out.get(target, (0.0, ""))[0]:
            out[target] = (score, f"words {' '.join(kset.words)!r} ({score:.0f})")
    return out


def suggest_headers(rows: Iterable[Mapping], top: int | None = None,
                    min_score: float | None = None) -> list[dict]:
    """The best candidate targets of each unknown header (module docstring)."""
    vocab = vocabulary()
    top = int(top if top is not None else vocab.setting("suggestion_candidates"))
    floor = float(min_score if min_score is not None else vocab.setting("suggestion_min_score"))
    out: list[dict] = []
    for row in rows:
        kind, header = row["sheet_kind"], str(row.get("header") or "")
        scores: dict[str, list[tuple[float, str]]] = {}

        def add(target: str, score: float, evidence: str) -> None:
            if target and target in (*known_fields(kind), TARGET_IDENTIFIER):
                scores.setdefault(target, []).append((min(score, 100.0), evidence))

        for target, score, evidence in _name_scores(kind, header):
            add(target, score, evidence)
        for cand in _candidates(row.get("candidates")):
            if cand.get("method") == "values" and cand.get("target"):
                share = float(cand.get("score") or 0)
                add(cand["target"], 100 * share, f"values: {share:.0%} fit ({'; '.join(cand.get('matched', []))})")
        date_like = row.get("share_date_like")
        if date_like is not None and float(date_like) >= 0.8:
            for target in DATE_FIELDS:
                add(target, 55, f"values: {float(date_like):.0%} look like dates")
        patterns = row.get("identifier_patterns")
        if isinstance(patterns, str):
            patterns = json.loads(patterns)
        if patterns and any(int(n) > 0 for n in patterns.values()):
            add(TARGET_IDENTIFIER, 80, "values hold identifier-like patterns: "
                + ", ".join(f"{k} {v}" for k, v in patterns.items() if int(v)))
        ranked = sorted(((_combine(found), target) for target, found in scores.items()), key=lambda x: (-x[0][0], x[1]))
        for rank, ((score, evidence), target) in enumerate([r for r in ranked if r[0][0] >= floor][:top], start=1):
            out.append({"site_id": row.get("site_id") or "*", "sheet_kind": kind, "header": redact(header),
                        "target": target, "rank": rank, "score": round(score, 1), "evidence": redact(evidence)})
    return out


# The same header turns up at many sites, and a run asks twice (the header check, then the
# site feedback): what a name suggests is worked out once per process.
@lru_cache(maxsize=8192)
def _name_scores(kind: str, header: str) -> tuple[tuple[str, float, str], ...]:
    """(target, score, evidence) that a header's name alone suggests: its spelling against
    the synonyms, its words against the keyword sets, closely spelt words."""
    vocab = vocabulary()
    norm = normalise_label(header)
    tokens = text_words(header, vocab.stop_words)
    found: list[tuple[str, float, str]] = []
    if norm:
        for (synonym, target), score, _ in process.extract(
                norm, _synonyms()[kind], processor=lambda pair: pair[0] if isinstance(pair, tuple) else pair,
                scorer=_similarity, limit=8):
            found.append((target, score * 0.95, f"similar to {synonym!r} ({score:.0f})"))
    if tokens:
        match = best_match(tokens, vocab.keywords[kind])
        for cand in match.candidates:
            if cand.role != "none":
                target = TARGET_IDENTIFIER if cand.role == "identifier" else cand.target
                found.append((target, 90 if match.winner is cand else 75, f"words {' '.join(cand.words)!r}"))
        for target, (score, evidence) in _fuzzy_words(tokens, kind).items():
            found.append((target, score * 0.9, evidence))
    return tuple(found)


def _similarity(a: str, b: str, **_) -> float:
    """Spelling similarity (0-100) that a few shared letters of a short word do not inflate:
    word order does not matter, and a text that holds the other gets its score scaled by
    how much of the longer text it is."""
    if not a or not b:
        return 0.0
    short, long_ = sorted((len(a), len(b)))
    return max(fuzz.token_sort_ratio(a, b), fuzz.token_set_ratio(a, b) * (0.6 + 0.4 * short / long_))


def _candidates(value) -> list[dict]:
    if not value:
        return []
    if isinstance(value, str):
        value = json.loads(value)
    return [c for c in value if isinstance(c, dict)]


def _combine(found: list[tuple[float, str]]) -> tuple[float, str]:
    """Best evidence first; independent evidence that agrees adds a little."""
    found = sorted(found, key=lambda x: -x[0])
    score = found[0][0] + sum(s for s, _ in found[1:3]) * 0.05
    return min(score, 100.0), "; ".join(dict.fromkeys(e for _, e in found[:3]))


def suggest_terms(rows: Iterable[Mapping], top: int | None = None, min_score: float | None = None) -> list[dict]:
    """The best candidate codes of each unmapped term (module docstring)."""
    vocab, lists = vocabulary(), code_lists()
    top = int(top if top is not None else vocab.setting("suggestion_candidates"))
    floor = float(min_score if min_score is not None else vocab.setting("suggestion_min_score"))
    out: list[dict] = []
    for row in rows:
        concept = canonical_concept(row["concept"])
        term = str(row.get("term") or "")
        norm = normalise_term(term)
        language = row.get("language")
        scores: dict[str, list[tuple[float, str]]] = {}

        def add(code: str, score: float, evidence: str) -> None:
            scores.setdefault(code, []).append((min(score, 100.0), evidence))

        if not norm or concept not in lists.terms:
            continue
        known = lists.code(concept, norm, language)
        if known is not None:
            add(known, 100, "the code lists already map it")
        keywords = lists.keywords.get(concept)
        tokens = text_words(norm)
        if keywords is not None and tokens:
            match = best_match(tokens, keywords)
            for cand in match.candidates:
                cover = sum(any(word_matches(w, t) for w in cand.words) for t in tokens) / len(tokens)
                add(cand.target, (70 + 25 * cover) if match.winner is cand else 65,
                    f"words {' '.join(cand.words)!r}")
        choices = _term_choices(concept)
        for (seed_term, code, lang), score, _ in process.extract(
                norm, choices, processor=lambda item: item[0] if isinstance(item, tuple) else item,
                scorer=_similarity, limit=10):
            bonus = 1.0 if lang in (language, "any", None) else 0.97
            add(code, score * 0.95 * bonus, f"similar to {seed_term!r} ({lang}, {score:.0f})")
        ranked = sorted(((_combine(found), code) for code, found in scores.items()), key=lambda x: (-x[0][0], x[1]))
        for rank, ((score, evidence), code) in enumerate([r for r in ranked if r[0][0] >= floor][:top], start=1):
            out.append({"site_id": row.get("site_id") or "*", "concept": concept, "term": redact(term),
                        "code": code, "rank": rank, "score": round(score, 1), "evidence": redact(evidence)})
    return out


@lru_cache(maxsize=16)
def _term_choices(concept: str) -> list[tuple[str, str, str]]:
    lists = code_lists()
    return sorted((term, code, lang) for term, by_lang in lists.terms[concept].items() for lang, code in by_lang.items())


def header_suggestions(con, top: int | None = None) -> list[dict]:
    """Suggestions for the unknown and ambiguous columns of the current deliveries."""
    rows = con.execute(
        """
        select d.site_id, u.sheet_kind, u.header, sum(u.n_values) as n_values,
               max(u.share_date_like) as share_date_like, any_value(u.candidates) as candidates,
               any_value(u.identifier_patterns) as identifier_patterns
        from landing.unknown_columns u join landing.deliveries d using (delivery_id)
        where d.status = 'current'
        group by all order by 1, 2, 3
        """).fetchall()
    names = ("site_id", "sheet_kind", "header", "n_values", "share_date_like", "candidates", "identifier_patterns")
    return suggest_headers([dict(zip(names, r)) for r in rows], top)


def term_suggestions(con, top: int | None = None) -> list[dict]:
    """Suggestions for the unmapped terms of ``dq.dq_unmapped_terms`` (empty before the dbt build)."""
    exists = con.execute("select count(*) from information_schema.tables where table_schema = 'dq' "
                         "and table_name = 'dq_unmapped_terms'").fetchall()[0][0]
    if not exists:
        return []
    rows = con.execute(
        "select t.site_id, t.concept, t.term, t.n_rows, s.language from dq.dq_unmapped_terms t "
        "left join landing.site_master s using (site_id) order by 1, 2, 3").fetchall()
    names = ("site_id", "concept", "term", "n_rows", "language")
    return suggest_terms([dict(zip(names, r)) for r in rows], top)


def write_csv(rows: list[dict], path: Path, columns: tuple[str, ...]) -> Path:
    """Suggestions as a CSV file with the override file's columns first."""
    with Path(path).open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(columns), extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    return Path(path)
