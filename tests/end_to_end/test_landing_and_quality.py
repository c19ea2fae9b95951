"""The whole pipeline on generated inboxes: files, rows, identifiers and data quality."""
from __future__ import annotations

import pandas as pd
import pytest

from registry import warehouse as warehouse_db

pytestmark = pytest.mark.slow

LANDING_TABLES = ["patients", "visits", "events", "exits"]


def query(run, sql: str, params=None) -> pd.DataFrame:
    with warehouse_db.connect(run.warehouse, read_only=True) as con:
        return con.execute(sql, params or []).fetchdf()


def test_every_file_is_accounted_for_with_its_expected_status(faults_run):
    expected = pd.read_csv(faults_run.truth / "files.csv", dtype=str, keep_default_na=False)
    # the site folders' deliveries, and the files outside every site folder
    got = query(faults_run, "select file_path, status, coalesce(reason, '') as reason from landing.deliveries "
                            "union all select file_path, status, reason from landing.inbox_strays")
    merged = expected.merge(got, on="file_path", how="outer", indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert merged["status"].tolist() == merged["expected_status"].tolist(), merged[
        merged["status"] != merged["expected_status"]
    ]
    for row in merged[merged["reason_code"] != ""].itertuples():
        assert row.reason.startswith(row.reason_code), (row.file_path, row.reason)
    # the sites without a file-level fault loaded: each has exactly one current cut
    current = got[got["status"] == "current"]
    assert current["file_path"].str.split("/").str[0].is_unique


def test_each_planted_row_is_rejected_with_its_reason_and_no_other_row(faults_run):
    planted = pd.read_csv(faults_run.truth / "rejections.csv", dtype=str)
    assert len(planted) > 0
    got = query(
        faults_run,
        "select site_id || '/' || file_name as file_path, sheet_kind, "
        "cast(source_row as varchar) as source_row, reasons from dq.dq_rejections",
    )
    key = ["file_path", "sheet_kind", "source_row"]
    merged = planted.merge(got, on=key, how="outer", suffixes=("_planted", "_found"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    assert (merged["reasons_planted"] == merged["reasons_found"]).all(), merged[
        merged["reasons_planted"] != merged["reasons_found"]
    ]


def test_every_landed_row_traces_back_to_file_sheet_and_row(default_run):
    for table in LANDING_TABLES:
        untraceable = query(
            default_run,
            f"""select count(*) as n from landing.{table} t
                left join landing.deliveries d using (delivery_id)
                where d.delivery_id is null or t.file_name is null or t.sheet_name is null
                   or t.source_row is null or t.source_row < 1 or t.file_sha256 <> d.file_sha256""",
        )["n"].iloc[0]
        assert untraceable == 0, table
    duplicates = query(
        default_run,
        """select delivery_id, sheet_name, source_row, count(*) as n from (
               select delivery_id, sheet_name, source_row from landing.patients union all
               select delivery_id, sheet_name, source_row from landing.visits union all
               select delivery_id, sheet_name, source_row from landing.events union all
               select delivery_id, sheet_name, source_row from landing.exits)
           group by all having count(*) > 1""",
    )
    assert duplicates.empty


def identifier_values(run) -> list[str]:
    identifiers = pd.read_csv(run.truth / "identifiers.csv", dtype=str)["value"].dropna()
    refs = pd.read_csv(run.truth / "patients.csv", dtype=str)["patient_ref"]
    return sorted(set(identifiers) | set(refs))


@pytest.mark.parametrize("run_name", ["default_run", "faults_run"])
def test_no_direct_identifier_anywhere_in_the_warehouse(run_name, request):
    run = request.getfixturevalue(run_name)
    values = identifier_values(run)
    assert len(values) > 100
    # Every text cell of every table built from site data (the seeds hold only the
    # project's code lists; views only show what tables hold), searched for every
    # name, phone, id and ref.
    with warehouse_db.connect(run.warehouse, read_only=True) as con:
        con.execute("create temp table needles as select unnest(?) as needle", [values])
        columns = con.execute(
            """select c.table_schema, c.table_name, c.column_name
               from information_schema.columns c join information_schema.tables t
                 on (c.table_catalog, c.table_schema, c.table_name)
                  = (t.table_catalog, t.table_schema, t.table_name)
               where c.data_type = 'VARCHAR' and t.table_type = 'BASE TABLE'
                 and c.table_schema not in ('temp', 'seeds') and c.table_catalog = current_database()"""
        ).fetchall()
        hits = []
        for schema, table, column in columns:
            found = con.execute(
                f"""select n.needle from (select distinct "{column}" as v from "{schema}"."{table}") t
                    join needles n on contains(t.v, n.needle) limit 3"""
            ).fetchall()
            hits += [(schema, table, column, f[0]) for f in found]
    assert not hits, hits
    # And the file's bytes (whatever DuckDB left uncompressed), for the longer values.
    raw = run.warehouse.read_bytes()
    assert not [v for v in values if len(v) >= 8 and v.encode() in raw]


def test_the_facts_count_what_the_truth_holds(faults_run):
    patients = pd.read_csv(faults_run.truth / "patients.csv", dtype=str)
    events = pd.read_csv(faults_run.truth / "events.csv", dtype=str)
    counts = query(
        faults_run,
        """select (select count(*) from warehouse.dim_patient) as patients,
                  (select count(*) from warehouse.fct_event) as events,
                  (select count(*) from warehouse.fct_registry_exit) as exits""",
    ).iloc[0]
    assert counts["patients"] == len(patients)
    assert counts["events"] == len(events)
    assert counts["exits"] == patients["exit_date"].notna().sum()


def test_no_unmapped_term_in_the_sample(default_run):
    unmapped = query(default_run, "select * from dq.dq_unmapped_terms")
    assert unmapped.empty, unmapped


def test_warnings_are_the_planted_ones(default_run):
    expected = pd.read_csv(default_run.truth / "warnings.csv", dtype=str)
    got = query(
        default_run,
        "select site_id || '/' || file_name as file_path, sheet_kind, "
        "cast(source_row as varchar) as source_row, warning from dq.dq_warnings",
    )
    key = ["file_path", "sheet_kind", "source_row", "warning"]
    assert sorted(map(tuple, got[key].values)) == sorted(map(tuple, expected[key].values))


def test_rerunning_the_same_inbox_changes_no_row_count(faults_run, rerun_pipeline):
    tables = [f"landing.{t}" for t in [*LANDING_TABLES, "deliveries", "sheet_loads", "note_rows"]] + [
        "warehouse.dim_patient", "warehouse.fct_assessment", "warehouse.fct_event", "dq.dq_rejections",
    ]
    sql = " union all ".join(f"select '{t}' as t, count(*) as n from {t}" for t in tables)
    before = query(faults_run, sql)
    result = rerun_pipeline(faults_run)
    assert result.success
    after = query(faults_run, sql)
    assert before.to_dict("records") == after.to_dict("records")


def test_each_country_partition_carries_its_own_sites_counts(default_run):
    """In the Dagster UI a country's landing partition shows its sites, one row each, and only
    what this load did for them."""
    import dagster as dg

    with dg.DagsterInstance.from_config(str(default_run.root / "dagster_home")) as instance:
        records = instance.fetch_materializations(dg.AssetKey(["landing", "deliveries"]), limit=1000).records
        by_partition = {r.partition_key: r.asset_materialization.metadata for r in records}
    sites = pd.read_csv(default_run.sites, dtype=str)
    assert set(by_partition) == set(sites["country"])
    files = query(default_run, "select site_id, count(*) filter (status = 'current') as n_current, "
                               "count(*) filter (status = 'rejected') as n_rejected "
                               "from landing.deliveries group by site_id")
    files = files.set_index("site_id")
    for country, metadata in by_partition.items():
        rows = {r.data["site_id"]: r.data for r in metadata["by_site"].value.records}
        assert set(rows) == set(sites.loc[sites["country"] == country, "site_id"]), country
        for site_id, row in rows.items():
            assert row["files_rejected"] == files.loc[site_id, "n_rejected"]
            assert row["files_loaded"] >= files.loc[site_id, "n_current"] and row["rows_kept"] > 0
            assert row["current_file"].endswith(".xlsx")
        assert metadata["sites"].value == len(rows)


def test_every_dbt_table_shows_its_row_count_and_no_view_claims_one(default_run):
    """The row counts that dbt's post-hook logs reach the tables' materializations in Dagster
    (read from dbt's output while it runs): each equals the table's rows in the warehouse."""
    import dagster as dg

    objects = query(default_run, "select schema_name, table_name, 'table' as kind from duckdb_tables() "
                                 "where schema_name in ('seeds', 'staging', 'intermediate', 'warehouse', 'dq') "
                                 "union all select schema_name, view_name, 'view' from duckdb_views() "
                                 "where schema_name in ('staging', 'intermediate', 'warehouse', 'dq')")
    assert {"table", "view"} <= set(objects["kind"])
    with dg.DagsterInstance.from_config(str(default_run.root / "dagster_home")) as instance:
        for row in objects.itertuples():
            event = instance.get_latest_materialization_event(dg.AssetKey([row.schema_name, row.table_name]))
            assert event is not None, (row.schema_name, row.table_name)
            metadata = event.asset_materialization.metadata
            if row.kind == "view":
                assert "dagster/row_count" not in metadata, row
                continue
            rows = query(default_run, f'select count(*) as n from "{row.schema_name}"."{row.table_name}"')
            assert metadata["dagster/row_count"].value == int(rows["n"][0]), row


def test_the_dbt_build_reuses_the_prepared_parse(default_run):
    """The run's warehouse is new, yet its `dbt build` takes the project's prepared partial
    parse: the warehouse's path is not part of what dbt parses."""
    logs = sorted(default_run.config.dbt_state_dir.glob("runs/*/dbt.log"))
    assert logs, "no dbt log in the run's state folder"
    log = logs[-1].read_text()
    assert "Unable to do partial parsing" not in log, log[:3000]
    assert "Partial parsing enabled" in log, log[:3000]
