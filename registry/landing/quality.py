"""Questions the landing checks ask of the landing zone (counts, names and reasons only).

Each function reads the current state: the site's current delivery, and
rejected files that arrived after it (a problem nobody has fixed yet).
"""
from __future__ import annotations

import json

STRUCTURE_REASONS = ("missing_required_column", "no_patients_sheet", "ambiguous_column")


def unresolved_structure_rejections(con) -> list[dict[str, str]]:
    """Files rejected for their structure with no accepted cut of the site as recent."""
    rows = con.execute(
        """
        select d.site_id, d.file_path, d.reason
        from landing.deliveries d
        left join (
            select site_id, max(data_cut) as current_cut from landing.deliveries
            where status = 'current' group by site_id
        ) c using (site_id)
        where d.status = 'rejected' and split_part(d.reason, ':', 1) in (select unnest(?::VARCHAR[]))
          and (c.current_cut is null or d.data_cut >= c.current_cut)
        order by d.site_id, d.file_path
        """,
        [list(STRUCTURE_REASONS)],
    ).fetchall()
    return [{"site_id": s, "file": f, "reason": r} for s, f, r in rows]


def duplicated_patient_keys(con) -> dict[str, int]:
    """Site -> number of pseudonymised patient refs that appear twice in its current delivery."""
    rows = con.execute(
        """
        select p.site_id, count(*) from (
            select p.site_id, p.patient_key from landing.patients p
            join landing.deliveries d using (delivery_id)
            where d.status = 'current' and p.patient_key is not null
            group by all having count(*) > 1
        ) p group by p.site_id order by p.site_id
        """
    ).fetchall()
    return {site: int(n) for site, n in rows}


def unknown_header_shares(con) -> dict[str, dict[str, object]]:
    """Site -> share of the current delivery's headers no dictionary knows, and those headers."""
    rows = con.execute(
        """
        select d.site_id,
               sum(json_array_length(s.unknown_columns)) as n_unknown,
               sum(json_array_length(s.unknown_columns) + len(json_keys(s.mapped_columns))
                   + json_array_length(s.identifier_columns_dropped)) as n_headers,
               flatten(list(cast(s.unknown_columns as VARCHAR[]))) as headers
        from landing.sheet_loads s join landing.deliveries d using (delivery_id)
        where d.status = 'current'
        group by d.site_id order by d.site_id
        """
    ).fetchall()
    return {
        site: {"share": (n_unknown or 0) / n_headers if n_headers else 0.0, "headers": sorted(set(headers or []))}
        for site, n_unknown, n_headers, headers in rows
    }


# Fields the outcome marts use, per sheet kind; a tuple is one requirement met by any of
# its alternatives (EQ-5D: the five dimensions together, or the state column).
EQ5D_DIMENSIONS = ("mobility", "self_care", "usual_activities", "pain_discomfort", "anxiety_depression")
ANALYSIS_FIELDS: dict[str, dict[str, tuple[tuple[str, ...], ...]]] = {
    "patients": {"sex": (("sex",),), "cancer_type": (("cancer_type",),), "drugs": (("drugs",),),
                 "implant_type": (("implant_type",),)},
    "visits": {"pain_score": (("pain_score",),), "eq5d": (EQ5D_DIMENSIONS, ("eq5d_state",))},
    "events": {"event_term": (("event_term",),), "intervention": (("intervention",),)},
    "exits": {"exit_reason": (("exit_reason",),)},
}


def _missing_words() -> list[str]:
    from registry.landing.recognition import vocabulary

    return sorted(vocabulary().missing_words)


def missing_analysis_fields(con, min_share: float) -> list[dict[str, object]]:
    """Sheets of current deliveries that lack a field the marts use (no column recognised as
    it: an unknown header loses a whole column), or fill it in fewer than ``min_share`` of
    their data rows (a blank cell or a missing-value word is not filled; 0 asks only for the
    column), less what landing.not_collected declares for the site (``*`` rows for every site).

    One row per sheet: site_id, delivery_id, file_path, file_name, sheet_kind, sheet_name,
    data_rows, missing (the requirements not met: a field, or ``eq5d``), shares
    (requirement -> share of rows filled), not_collected (requirements declared).
    """
    declared: dict[tuple[str, str], set[str]] = {}
    for site, kind, fld in con.execute("SELECT site_id, sheet_kind, field FROM landing.not_collected").fetchall():
        declared.setdefault((site, kind), set()).add(fld)
    missing_words = _missing_words()
    out: list[dict[str, object]] = []
    for kind, requirements in ANALYSIS_FIELDS.items():
        fields = sorted({f for alternatives in requirements.values() for group in alternatives for f in group})
        filled = ", ".join(
            f"count(*) FILTER (l.\"{f}\" IS NOT NULL AND lower(trim(l.\"{f}\")) NOT IN "
            f"(SELECT unnest($missing::VARCHAR[]))) AS \"{f}\"" for f in fields)
        cursor = con.execute(
            f"""
            SELECT d.site_id, d.delivery_id, d.file_path, d.file_name, s.sheet_name, s.mapped_columns,
                   count(l.delivery_id) AS data_rows, {filled}
            FROM landing.deliveries d
            JOIN landing.sheet_loads s ON s.delivery_id = d.delivery_id AND s.sheet_kind = $kind
            LEFT JOIN landing.{kind} l ON l.delivery_id = d.delivery_id
            WHERE d.status = 'current'
            GROUP BY ALL ORDER BY d.site_id, d.file_path
            """,
            {"kind": kind, "missing": missing_words},
        )
        names = [c[0] for c in cursor.description]
        for row in (dict(zip(names, r)) for r in cursor.fetchall()):
            n = row["data_rows"]
            if not n:
                continue
            skip = declared.get((row["site_id"], kind), set()) | declared.get(("*", kind), set())
            mapped = set(json.loads(row["mapped_columns"] or "{}").values())
            shares, missing, excused = {}, [], []
            for name, alternatives in requirements.items():
                share = max(min(row[f] / n for f in group) for group in alternatives)
                shares[name] = round(share, 4)
                # delivered: some alternative's columns were all recognised, and fill the share
                recognised = any(set(group) <= mapped for group in alternatives)
                if recognised and share >= min_share:
                    continue
                if name in skip or any(f in skip for group in alternatives for f in group):
                    excused.append(name)
                else:
                    missing.append(name)
            if missing:
                out.append({"site_id": row["site_id"], "delivery_id": row["delivery_id"],
                            "file_path": row["file_path"], "file_name": row["file_name"], "sheet_kind": kind,
                            "sheet_name": row["sheet_name"], "data_rows": n, "missing": missing,
                            "shares": shares, "not_collected": excused})
    return out
