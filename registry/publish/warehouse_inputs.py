"""Inputs of a publish read from the warehouse, for the orchestration:
the per-site feedback (``site_feedback_from_warehouse``) and the follow-up
times that draw the regional Kaplan-Meier curves (``follow_up_from_warehouse``).

Both take an open DuckDB connection to the warehouse (read only) and
nothing else from the environment. What they select is already free of
identifiers (the landing zone keeps none); the feedback writer screens again.
"""
from __future__ import annotations

import json
from datetime import datetime, timezone

import duckdb
import pandas as pd

from registry.landing.suggestions import header_suggestions, term_suggestions
from registry.reasons import field_for

from .site_feedback import FRAME_COLUMNS, SiteFeedback, by_column


def provenance_from_warehouse(con: duckdb.DuckDBPyConnection, load_id: str, *,
                              code_revision: str | None = None) -> dict:
    """What a publish rests on: every delivery the analysed cuts came from or passed over
    (site, file, data cut, status), the loads behind the current cuts, the time."""
    deliveries = con.execute(
        """
        select site_id, file_name, cast(data_cut as varchar) as data_cut, status, load_id
        from landing.deliveries
        where status in ('current', 'superseded', 'held', 'rejected', 'duplicate')
        order by site_id, data_cut, file_name
        """
    ).df()
    current = deliveries[deliveries["status"] == "current"]
    return {
        "data_cut": current["data_cut"].max() if len(current) else None,
        "load_id": load_id,
        "generated_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "load_ids": sorted(set(current["load_id"].dropna())),
        "deliveries": deliveries.drop(columns=["load_id"]).to_dict(orient="records"),
        "git_revision": code_revision,
    }


def follow_up_from_warehouse(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """region, days (implant to death or censoring), died: one row per patient.
    Handed to the report only (regional curves under the small-cell rule);
    never written to a publish."""
    return con.execute("""
        select region, days_to_death_or_censor::double as days, coalesce(died, false) as died
        from warehouse.fct_patient_follow_up
        where days_to_death_or_censor is not null
    """).df()


def _header_of(mapped: dict[str, str], field: str | None) -> str | None:
    """The site's own header for a field (first one mapped to it), else the field code."""
    if field is None:
        return None
    for header, target in mapped.items():
        if target == field:
            return header
    return field


def site_feedback_from_warehouse(con: duckdb.DuckDBPyConnection) -> list[SiteFeedback]:
    """One ``SiteFeedback`` per site of the site master, from
    ``landing.deliveries``, ``landing.sheet_loads``, ``dq.*`` and the site
    master's language; the best suggestion of ``registry.landing.suggestions``
    for each unknown header and unmapped term."""
    sites = con.execute("select site_id, language from landing.site_master order by site_id").df()
    files = con.execute("""
        select d.site_id, d.delivery_id, d.file_name, cast(d.data_cut as varchar) as data_cut,
               d.status, d.reason, s.rows_received, s.rows_accepted, s.rows_rejected
        from landing.deliveries d
        left join dq.dq_delivery_summary s using (delivery_id)
        where d.site_id is not null
        order by d.site_id, d.data_cut, d.file_name
    """).df()
    loads = con.execute("""
        select d.site_id, d.delivery_id, d.file_name, l.sheet_kind, l.mapped_columns,
               l.unknown_columns
        from landing.sheet_loads l join landing.deliveries d using (delivery_id)
        where d.status = 'current'
    """).df()
    rejected = con.execute("""
        select site_id, delivery_id, file_name, sheet_kind, sheet_name, source_row, reasons
        from dq.dq_rejections order by site_id, file_name, sheet_kind, source_row
    """).df()
    warnings = con.execute("""
        select site_id, file_name, sheet_name, source_row, warning
        from dq.dq_warnings order by site_id, file_name, sheet_name, source_row
    """).df()
    terms = con.execute("""
        select site_id, concept, term, n_rows from dq.dq_unmapped_terms
        order by site_id, concept, term
    """).df()

    mapped = {(r.delivery_id, r.sheet_kind): json.loads(r.mapped_columns or "{}")
              for r in loads.itertuples()}
    unknown = [{"site_id": r.site_id, "file_name": r.file_name, "sheet_kind": r.sheet_kind,
                "header": h}
               for r in loads.itertuples() for h in json.loads(r.unknown_columns or "[]")]
    unknown = pd.DataFrame(unknown, columns=["site_id", "file_name", "sheet_kind", "header"])
    if len(rejected):
        rejected["column"] = [
            _header_of(mapped.get((r.delivery_id, r.sheet_kind), {}), field_for(r.reasons, r.sheet_kind))
            for r in rejected.itertuples()]
    else:
        rejected["column"] = pd.Series(dtype=object)

    best_header = {(r["site_id"], r["sheet_kind"], r["header"]): r["target"]
                   for r in header_suggestions(con, top=1)}
    best_term = {(r["site_id"], r["concept"], r["term"]): r["code"] for r in term_suggestions(con, top=1)}

    unknown["suggestion"] = [best_header.get(key) for key in
                             zip(unknown["site_id"], unknown["sheet_kind"], unknown["header"])]
    terms["suggestion"] = [best_term.get(key) for key in zip(terms["site_id"], terms["concept"], terms["term"])]

    # Each frame sorted by site once and cut into slices (a mask, or a copy, per site would
    # cost a national registry's thousands of sites seconds); its named columns are taken as
    # lists once and sliced the same way (SiteFeedback.values).
    def split(frame: pd.DataFrame, name: str):
        frame = frame.sort_values("site_id", kind="stable").reset_index(drop=True)
        keys = frame["site_id"].to_numpy(dtype=object)
        rest = frame.drop(columns="site_id")
        columns = by_column(rest, FRAME_COLUMNS[name])
        empty = rest.iloc[0:0]
        starts = {k: i for i, k in reversed(list(enumerate(keys)))}
        ends = {k: i + 1 for i, k in enumerate(keys)}

        def of(site_id: str) -> tuple[pd.DataFrame, dict[str, list]]:
            if site_id not in starts:
                return empty, {}
            start, end = starts[site_id], ends[site_id]
            return rest.iloc[start:end], {c: values[start:end] for c, values in columns.items()}
        return of

    frames = {"files": files, "rejected_rows": rejected, "warnings": warnings, "unknown_headers": unknown,
              "unmapped_terms": terms}
    cut = {name: split(frame, name) for name, frame in frames.items()}

    feedback = []
    for site in sites.itertuples():
        parts = {name: of(site.site_id) for name, of in cut.items()}
        feedback.append(SiteFeedback(
            site_id=site.site_id, language=site.language or "en",
            **{name: frame for name, (frame, _) in parts.items()},
            values={name: values for name, (_, values) in parts.items()}))
    return feedback
