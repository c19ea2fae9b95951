"""Every term the sample generator can write is understood by the pipeline.

The generator keeps its sites' habits as data (registry/sample/vocabulary/), the
pipeline its code lists as dbt seeds and its headers as the ingest dictionary;
the two were written independently, so this is a real cross-check.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from registry.config import DBT_PROJECT_DIR, PROJECT_ROOT
from registry.landing import dictionary
from registry.landing.labels import normalise_label, normalise_sheet_name

VOCABULARY = PROJECT_ROOT / "registry" / "sample" / "vocabulary"
LANGUAGES = ["en", "es", "pt", "fr", "de", "it", "nl"]
SEED_OF_CONCEPT = {"event_type": "map_event_term"}
# The dbt macro normalise_term, on a DuckDB column `t`.
NORMALISE = (
    "lower(trim(regexp_replace(strip_accents(replace(replace(replace(t, chr(160), ' '), 'ß', 'ss'),"
    " 'ẞ', 'ss')), '\\s+', ' ', 'g')))"
)


def generator_terms(file: str, key: str) -> pd.DataFrame:
    wide = pd.read_csv(VOCABULARY / file, dtype=str)
    long = wide.melt(id_vars=[c for c in wide.columns if c not in LANGUAGES],
                     value_vars=LANGUAGES, var_name="language", value_name="terms").dropna()
    long["term"] = long["terms"].str.split("|")
    return long.explode("term").drop(columns="terms")


def test_every_code_term_maps_to_the_generators_code():
    con = duckdb.connect()
    terms = generator_terms("codes.csv", "code")
    missing = []
    for concept, group in terms.groupby("concept"):
        seed = DBT_PROJECT_DIR / "seeds" / f"{SEED_OF_CONCEPT.get(concept, 'map_' + concept)}.csv"
        con.execute(f"create or replace table seed as select language, {NORMALISE.replace('t,', 'term,')} as norm, code "
                    f"from read_csv('{seed}', all_varchar=true)")
        con.register("wanted", group[["language", "term", "code"]])
        rows = con.execute(
            f"""
            select w.language, w.term, w.code from wanted w
            where not exists (
                select 1 from seed s where s.norm = {NORMALISE.replace('(t,', '(w.term,')}
                  and s.language in (w.language, 'any', 'en') and s.code = w.code)
            """
        ).fetchall()
        con.unregister("wanted")
        missing += [(concept, *row) for row in rows]
    assert not missing, "terms the code lists do not map (concept, language, term, code):\n" + "\n".join(map(str, missing))


def test_every_header_is_in_the_dictionary():
    index = dictionary.header_index()
    headers = generator_terms("headers.csv", "field")
    # The generator's `comment` column is its deliberately unknown column: it must
    # stay unknown (kept in extra_columns), not be mistaken for a field.
    comments = headers[headers["field"] == "comment"]
    assert not [t for t in comments["term"] if any(normalise_label(t) in index[k] for k in index)]
    headers = headers[headers["field"] != "comment"]
    unknown = [
        (row.field, row.language, row.term)
        for row in headers.itertuples()
        if not any(
            (match := index[kind].get(normalise_label(row.term))) and match.field == row.field
            for kind in index
        )
    ]
    assert not unknown, f"headers the dictionary does not map to the generator's field: {unknown}"


def test_every_sheet_name_is_recognised():
    index = dictionary.sheet_name_index()
    names = generator_terms("sheet_names.csv", "sheet_kind")
    unknown = [
        (row.sheet_kind, row.language, row.term)
        for row in names.itertuples()
        if index.get(normalise_sheet_name(row.term)) != row.sheet_kind
    ]
    assert not unknown, f"sheet names not recognised as the generator's kind: {unknown}"
