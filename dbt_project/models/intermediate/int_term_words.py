"""The words tier of term mapping: a term no code list holds, whose words name exactly one
code of its concept (`adenocarcinoma del pulmon` -> lung, `Patient verstorben zu Hause` ->
death, `Infumorph 25 mg/ml` -> morphine), in any of the seven languages.

The keywords are the seed `term_keywords` and the rule is the ingestion's
(`registry.landing.terms`), so that the values tier of column recognition, the
suggestions and this model read one definition. One row per distinct term, not per cell.

Plain Python values in, a DuckDB relation out: importing pandas cost every build about
half a second, more than the model's work.
"""


def model(dbt, session):
    dbt.config(materialized="table")
    from registry.landing.terms import code_lists

    # the keyword seed is read through the ingestion's loader; ref'd so the graph shows it
    dbt.ref("term_keywords")
    terms = dbt.ref("int_term_occurrences").aggregate("concept, term", "concept, term").fetchall()
    lists = code_lists()
    found = [(concept, term, code) for concept, term in terms
             if (code := lists.code_by_words(concept, term)) is not None]
    concepts, words, codes = (list(column) for column in zip(*found)) if found else ([], [], [])
    return session.sql(
        "select unnest($concepts::varchar[]) as concept, unnest($terms::varchar[]) as term, "
        "unnest($codes::varchar[]) as code",
        params={"concepts": concepts, "terms": words, "codes": codes})
