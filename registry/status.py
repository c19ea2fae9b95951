"""What an operator asks of the warehouse every day, as frames: each site's deliveries
and their state, and the rejected rows (file, sheet, row, columns, reasons; never a value)."""
from __future__ import annotations

import duckdb
import pandas as pd

from registry.marts.frames import frame
from registry.reasons import field_for


def site_status(con: duckdb.DuckDBPyConnection, site: str | None = None) -> pd.DataFrame:
    """One row per site of the master: its current cut, held/rejected/ignored files with their
    reasons, and its last load."""
    return frame(con, """
        with files as (
            select site_id, file_name, status, reason, data_cut, arrived_at from landing.deliveries
        )
        select s.site_id, s.region, s.language,
               max(f.file_name) filter (where f.status = 'current') as current_file,
               max(f.data_cut) filter (where f.status = 'current') as current_cut,
               count(*) filter (where f.status = 'superseded') as n_superseded,
               string_agg(f.file_name || ' (' || f.reason || ')', '; ' order by f.arrived_at)
                   filter (where f.status = 'held') as held,
               string_agg(f.file_name || ' (' || f.reason || ')', '; ' order by f.arrived_at)
                   filter (where f.status = 'rejected') as rejected,
               string_agg(f.file_name || ' (' || coalesce(f.reason, '') || ')', '; ' order by f.arrived_at)
                   filter (where f.status in ('ignored', 'duplicate')) as ignored,
               max(f.arrived_at) as last_arrival
        from landing.site_master s
        left join files f using (site_id)
        where $site is null or s.site_id = $site
        group by all
        order by s.site_id
    """, {"site": site})


def stray_files(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Files of the inbox outside every site folder, with why they are not loaded."""
    return frame(con, "select file_path, status, reason from landing.inbox_strays order by file_path")


def rejected_rows(con: duckdb.DuckDBPyConnection, site: str | None = None) -> pd.DataFrame:
    """Every rejected row of the current deliveries: site, file, sheet, row, the field to
    correct (``registry.reasons``) and all reasons."""
    rows = frame(con, """
        select site_id, file_name, sheet_kind, sheet_name, source_row, reasons
        from dq.dq_rejections
        where $site is null or site_id = $site
        order by site_id, file_name, sheet_name, source_row
    """, {"site": site})
    rows.insert(5, "column", [field_for(r, k) for r, k in zip(rows["reasons"], rows["sheet_kind"])])
    return rows.drop(columns="sheet_kind")
