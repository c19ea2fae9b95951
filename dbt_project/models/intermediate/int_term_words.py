"""The words tier of term mapping: a term no code list holds, whose words name exactly one
code of its concept (`adenocarcinoma del pulmon` -> lung, `Patient verstorben zu Hause` ->
death, `Infumorph 25 mg/ml` -> morphine), in any of the seven languages.

The keywords are the seed `term_keywords` and the rule is the ingestion's
(`registry.landing.terms`), so that the values tier of column recognition, the
suggestions and this model read one definition. One row per distinct term, not per cell.
"""
import pandas as pd


def model(dbt, session):
    dbt.config(materialized="table")
    from registry.landing.terms import code_lists

    # the keyword seed is read through the ingestion's loader; ref'd so the graph shows it
    dbt.ref("term_keywords")
    terms = dbt.ref("int_term_occurrences").aggregate("concept, term", "concept, term").df()
    lists = code_lists()
    codes = [lists.code_by_words(concept, term) for concept, term in zip(terms["concept"], terms["term"])]
    out = terms.assign(code=codes)
    out = out[out["code"].notna()].reset_index(drop=True)
    return out.astype({"concept": "string", "term": "string", "code": "string"}) if len(out) else pd.DataFrame(
        {"concept": pd.Series(dtype="string"), "term": pd.Series(dtype="string"), "code": pd.Series(dtype="string")})
