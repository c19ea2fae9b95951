"""Questions the publish gates ask of the warehouse (aggregates, names and reasons only)."""
from __future__ import annotations

import duckdb


def cohort_total(con: duckdb.DuckDBPyConnection) -> int:
    """Patients in the `All` row of the stored cohort_overview mart (0 when absent)."""
    row = con.execute("select n_patients from marts.cohort_overview where region = 'All'").fetchone()
    return int(row[0]) if row and row[0] is not None else 0


def star_patients(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select count(*) from warehouse.dim_patient").fetchone()[0])


def rejected_shares(con: duckdb.DuckDBPyConnection, threshold: float) -> list[dict[str, object]]:
    """Current deliveries rejecting more than ``threshold`` of their rows, worst first."""
    rows = con.execute(
        """
        select site_id, file_name, rows_rejected, rows_received,
               rows_rejected / nullif(rows_received, 0) as share
        from dq.dq_delivery_summary
        where status = 'current' and rows_rejected / nullif(rows_received, 0) > ?
        order by share desc, site_id, file_name
        """,
        [threshold],
    ).fetchall()
    return [{"site_id": s, "file": f, "rows_rejected": int(r), "rows_received": int(n), "share": round(float(x), 4)}
            for s, f, r, n, x in rows]


def worst_rejected_share(con: duckdb.DuckDBPyConnection) -> float:
    row = con.execute(
        "select max(rows_rejected / nullif(rows_received, 0)) from dq.dq_delivery_summary where status = 'current'"
    ).fetchone()
    return float(row[0] or 0.0)


def unmapped_terms(con: duckdb.DuckDBPyConnection, limit: int = 50) -> list[dict[str, object]]:
    """Terms no code list knows, by site and concept, with the rows that carry them."""
    rows = con.execute(
        "select site_id, concept, term, n_rows from dq.dq_unmapped_terms "
        "order by n_rows desc, site_id, concept, term limit ?",
        [limit],
    ).fetchall()
    return [{"site_id": s, "concept": c, "term": t, "n_rows": int(n)} for s, c, t, n in rows]


def n_unmapped_terms(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select count(*) from dq.dq_unmapped_terms").fetchone()[0])
