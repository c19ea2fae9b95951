"""Loads the generator's configuration tables (parameters/ and vocabulary/ CSVs)."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
PARAMETERS = HERE / "parameters"
VOCABULARY = HERE / "vocabulary"
LANGUAGES = ("en", "es", "pt", "fr", "de", "it", "nl")


def read_csv(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


@lru_cache(maxsize=None)
def parameter(name: str) -> pd.DataFrame:
    return read_csv(PARAMETERS / f"{name}.csv")


@lru_cache(maxsize=None)
def targets() -> dict[str, str]:
    df = parameter("targets")
    return dict(zip(df["name"], df["value"]))


def target_int(name: str) -> int:
    return int(targets()[name])


def target_float(name: str) -> float:
    return float(targets()[name])


@lru_cache(maxsize=None)
def _wide(name: str, key: tuple[str, ...]) -> dict:
    """A wide vocabulary table (one column per language, variants split by `|`)
    as {(*key, language): [variants]}."""
    df = read_csv(VOCABULARY / f"{name}.csv")
    out = {}
    for row in df.itertuples(index=False):
        row = row._asdict()
        for lang in LANGUAGES:
            out[tuple(row[k] for k in key) + (lang,)] = row[lang].split("|")
    return out


def codes() -> dict:
    """{(concept, code, language): [terms]}"""
    return _wide("codes", ("concept", "code"))


def headers() -> dict:
    """{(field, language): [headers]}"""
    return _wide("headers", ("field",))


def sheet_names() -> dict:
    """{(sheet_kind, language): [names]}"""
    return _wide("sheet_names", ("sheet_kind",))


def texts() -> dict:
    """{(text, language): [templates]}"""
    return _wide("texts", ("text",))


@lru_cache(maxsize=None)
def missing_words() -> dict[str, list[str]]:
    df = read_csv(VOCABULARY / "missing_words.csv")
    return {r.language: r.term.split("|") for r in df.itertuples()}


@lru_cache(maxsize=None)
def person_names() -> dict[str, tuple[list[str], list[str]]]:
    df = read_csv(VOCABULARY / "names.csv")
    return {r.language: (r.given.split("|"), r.family.split("|")) for r in df.itertuples()}
