"""Data quality of the deliveries: ``site_data_quality`` (one row per
delivery, every status) and ``site_rejection_reasons`` (rejected rows of the
current deliveries by reason; a row with two reasons counts under both).

These are row counts of a delivery, not patient cells, and are not
small-cell suppressed: the site that sent the file knows them already, and
a data manager must be able to chase a single rejected row.
"""
from __future__ import annotations

import duckdb
import pandas as pd

from .frames import frame


def site_data_quality(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return frame(con, """
        select d.site_id, s.region, d.file_name, d.data_cut,
               d.rows_received, d.rows_accepted, d.rows_rejected,
               d.status, d.reason,
               100.0 * d.rows_rejected / nullif(d.rows_received, 0) as pct_rejected,
               d.delivery_id
        from dq.dq_delivery_summary d
        left join warehouse.dim_site s using (site_id)
        order by d.site_id, d.data_cut, d.file_name, d.delivery_id
    """)


def site_rejection_reasons(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    return frame(con, """
        with reasons as (
            select site_id, delivery_id, file_name, sheet_kind,
                   trim(unnest(string_split(reasons, ';'))) as reason
            from dq.dq_rejections
        )
        select r.site_id, s.region, r.file_name, r.sheet_kind, r.reason,
               count(*) as n_rows, r.delivery_id
        from reasons r
        left join warehouse.dim_site s using (site_id)
        where r.reason <> ''
        group by all
        order by r.site_id, r.file_name, r.sheet_kind, r.reason
    """)
