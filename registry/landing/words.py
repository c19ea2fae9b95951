"""Keyword sets: the words tier shared by header recognition and term mapping.

A keyword set is a few normalised words that must all appear in a text, in any
order (`pain location`). A word may carry `*` to match the start (`schmerz*`:
Schmerzstärke), the end (`*datum`: Visitendatum) or the inside (`*sarcom*`:
osteosarcoma) of a word, so that German and Dutch compounds are read too.

Given the sets of several targets (fields, codes), a text names the target one of
whose sets contains every other matched set (`pain location` contains `pain`,
so `Pain location` is pain_location, not pain_score). Two matched sets where
neither contains the other make a tie: nothing is chosen, the candidates are
reported. A ``weak`` set (a bare `date`, `profile`) only counts when no strong
set of another target matches.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from registry.landing.labels import normalise_label

# written as one word whatever the spelling: `EQ-5D`, `EQ 5 D`, `e-mail`
_JOINS = ((re.compile(r"\beq ?5 ?d\b"), "eq5d"), (re.compile(r"\be mail\b"), "email"))
_DIGITS = re.compile(r"^\d+$")


@dataclass(frozen=True)
class KeywordSet:
    target: str  # a field, `identifier`, `none`, or a code
    words: tuple[str, ...]  # normalised, sorted, may hold `*`
    role: str = "field"
    strong: bool = True
    language: str = "any"

    def matches(self, tokens: Sequence[str]) -> bool:
        return all(any(word_matches(w, t) for t in tokens) for w in self.words)


@dataclass(frozen=True)
class WordsMatch:
    """What the words of a text name: a winner, or a tie between candidates."""

    winner: KeywordSet | None
    candidates: tuple[KeywordSet, ...]  # the best set of each target that matched

    @property
    def is_tie(self) -> bool:
        return self.winner is None and bool(self.candidates)


def word_matches(pattern: str, token: str) -> bool:
    if pattern.startswith("*") and pattern.endswith("*") and len(pattern) > 2:
        return pattern[1:-1] in token
    if pattern.endswith("*"):
        return token.startswith(pattern[:-1])
    if pattern.startswith("*"):
        return token.endswith(pattern[1:])
    return token == pattern


def keyword_words(text: str) -> tuple[str, ...]:
    """The words of a keyword as written in the CSV files (`*` kept), sorted."""
    words = []
    for raw in str(text).split():
        star_start, star_end = raw.startswith("*"), raw.endswith("*") and len(raw) > 1
        core = _join(normalise_label(raw.strip("*")))
        for i, part in enumerate(core.split()):
            words.append(("*" if star_start and i == 0 else "") + part
                         + ("*" if star_end and i == len(core.split()) - 1 else ""))
    return tuple(sorted(set(words)))


def _join(text: str) -> str:
    for pattern, joined in _JOINS:
        text = pattern.sub(joined, text)
    return text


def text_words(text: object, stop_words: frozenset[str] = frozenset(), normalised: str | None = None
               ) -> tuple[str, ...]:
    """The content words of a header or term: normalised (accents, case, bracketed units,
    punctuation), without stop words and bare numbers, in their order. ``normalised``:
    ``normalise_label(text)`` when the caller has it already."""
    words = _join(normalise_label(text) if normalised is None else normalised).split()
    return tuple(w for w in words if w not in stop_words and not _DIGITS.match(w))


class KeywordIndex:
    """Keyword sets indexed by their words, so that a text is matched without trying every set."""

    def __init__(self, sets: Iterable[KeywordSet]):
        self.sets = tuple(sets)
        self._plain: dict[str, list[int]] = {}
        self._prefix: dict[str, list[str]] = {}  # core -> patterns (`schmerz*`)
        self._suffix: dict[str, list[str]] = {}  # core -> patterns (`*datum`)
        self._inside: list[str] = []  # `*sarcom*`
        self._ids: dict[str, list[int]] = {}  # pattern -> sets
        for i, kset in enumerate(self.sets):
            for word in kset.words:
                self._ids.setdefault(word, []).append(i)
                if "*" not in word:
                    continue
                if word.startswith("*") and word.endswith("*") and len(word) > 2:
                    self._inside.append(word)
                elif word.endswith("*"):
                    self._prefix.setdefault(word[:-1], []).append(word)
                else:
                    self._suffix.setdefault(word[1:], []).append(word)
        self._inside = sorted(set(self._inside))
        self._prefix_lengths = sorted({len(k) for k in self._prefix})
        self._suffix_lengths = sorted({len(k) for k in self._suffix})

    def __iter__(self):
        return iter(self.sets)

    def __len__(self) -> int:
        return len(self.sets)

    def matching(self, tokens: Sequence[str]) -> list[KeywordSet]:
        found: set[str] = set()
        for token in set(tokens):
            if token in self._ids:
                found.add(token)
            for n in self._prefix_lengths:
                if n > len(token):
                    break
                found.update(self._prefix.get(token[:n], ()))
            for n in self._suffix_lengths:
                if n > len(token):
                    break
                found.update(self._suffix.get(token[-n:], ()))
            found.update(p for p in self._inside if p[1:-1] in token)
        touched = sorted({i for word in found for i in self._ids[word]})
        return [self.sets[i] for i in touched if all(w in found for w in self.sets[i].words)]


def best_match(tokens: Sequence[str], sets: KeywordIndex | Iterable[KeywordSet]) -> WordsMatch:
    """The target the words name (module docstring), or the tied candidates.

    Each target covers the text's words that its matched sets explain (all its sets
    together); the winner covers every word that any other target covers, and more."""
    matched = sets.matching(tokens) if isinstance(sets, KeywordIndex) else [s for s in sets if s.matches(tokens)]
    if not matched:
        return WordsMatch(None, ())
    if any(k.strong for k in matched):
        matched = [k for k in matched if k.strong]
    best: dict[str, KeywordSet] = {}
    cover: dict[str, set[str]] = {}
    for kset in matched:
        cover.setdefault(kset.target, set()).update(
            t for t in tokens if any(word_matches(w, t) for w in kset.words))
        held = best.get(kset.target)
        if held is None or len(kset.words) > len(held.words):
            best[kset.target] = kset
    order = sorted(best, key=lambda t: (-len(cover[t]), -len(best[t].words), t))
    candidates = tuple(best[t] for t in order)
    top = order[0]
    if all(cover[t] < cover[top] for t in order[1:]):
        return WordsMatch(best[top], candidates)
    return WordsMatch(None, candidates)
