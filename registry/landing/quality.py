"""Questions the landing checks ask of the landing zone (counts, names and reasons only).

Each function reads the current state: the site's current delivery, and
rejected files that arrived after it (a problem nobody has fixed yet).
"""
from __future__ import annotations

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
