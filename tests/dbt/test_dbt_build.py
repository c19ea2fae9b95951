"""The dbt project built on the landing fixture: rejections, warnings, counts, windows, index values."""
from __future__ import annotations

from tests.dbt.landing_fixture import DELIVERIES, EXPECTED, planted_rejections


def test_parse_has_no_deprecation(dbt_run):
    parse = dbt_run["parse"]
    assert parse.returncode == 0, parse.stdout
    assert "deprecat" not in parse.stdout.lower()


def test_build_passes_with_only_the_unmapped_warning(dbt_run):
    build = dbt_run["build"]
    assert build.returncode == 0, build.stdout[-5000:]
    assert "deprecat" not in build.stdout.lower()
    warned = [line for line in build.stdout.splitlines() if " WARN " in line]
    assert len(warned) == 1 and "is_empty_dq_unmapped_terms" in warned[0]


def test_unit_tests_run_and_pass_here(dbt_run):
    """The orchestrated build leaves dbt's unit tests out (they test SQL, not data): they run here."""
    import json

    results = json.loads((dbt_run["tmp"] / "target" / "run_results.json").read_text())["results"]
    unit = [r for r in results if r["unique_id"].startswith("unit_test.")]
    assert len(unit) >= 10 and all(r["status"] == "pass" for r in unit), unit


def test_every_planted_fault_is_rejected_with_its_reason_and_nothing_else(warehouse):
    got = set(warehouse.execute(
        "select delivery_id, sheet_kind, source_row, reasons from dq.dq_rejections").fetchall())
    assert got == planted_rejections()


def test_superseded_delivery_is_summarised_but_not_in_rejections(warehouse):
    rows = dict(warehouse.execute(
        "select delivery_id, rows_rejected from dq.dq_delivery_summary").fetchall())
    assert set(rows) == set(DELIVERIES)
    assert rows["us-old"] == 1 and rows["br-bad"] == 0
    n_old = warehouse.execute("select count(*) from dq.dq_rejections where delivery_id = 'us-old'").fetchone()[0]
    assert n_old == 0


def test_warnings(warehouse):
    got = set(warehouse.execute(
        "select delivery_id, sheet_kind, source_row, warning from dq.dq_warnings").fetchall())
    assert got == EXPECTED["warnings"]


def test_unmapped_terms_listed_by_site(warehouse):
    got = set(warehouse.execute("select site_id, concept, term from dq.dq_unmapped_terms").fetchall())
    assert got == EXPECTED["unmapped"]


def test_fact_counts(warehouse):
    def count(table):
        return warehouse.execute(f"select count(*) from warehouse.{table}").fetchone()[0]
    assert count("dim_patient") == EXPECTED["n_patients"]
    assert count("fct_implant") == EXPECTED["n_patients"]
    assert count("fct_patient_follow_up") == EXPECTED["n_patients"]
    assert count("fct_event") == EXPECTED["n_events"]
    assert count("fct_registry_exit") == EXPECTED["n_exits"]


def test_window_choice_closest_to_target(warehouse):
    rows = warehouse.execute("""
        select days_from_implant, visit_window, is_window_choice from warehouse.fct_assessment
        where site_id = 'US-001' order by days_from_implant""").fetchall()
    assert rows == [(-14, "baseline", False), (-5, "baseline", True), (183, "6 months", True),
                    (200, "6 months", False), (366, "12 months", True), (505, None, False), (672, None, False)]


def test_eq5d_index_and_pain_in_the_star(warehouse):
    rows = dict(warehouse.execute("""
        select site_id || ' ' || eq5d_state, eq5d_index from warehouse.fct_assessment
        where eq5d_state is not null""").fetchall())
    assert rows == {"US-001 21232": 0.088, "US-001 11223": 0.255, "US-001 33333": -0.594,
                    "DE-001 11111": 1.0, "DE-001 55555": -0.285, "DE-001 12345": 0.322,
                    "BR-001 11223": 0.255, "NL-001 21232": 0.088}
    pain = warehouse.execute("""select pain_score from warehouse.fct_assessment
        where site_id = 'DE-001' order by visit_date""").fetchall()
    assert [p for (p,) in pain] == [7.0, 6.5, 0.65]


def test_mapping_reaches_the_star(warehouse):
    events = set(warehouse.execute(
        "select site_id, event_type, interventions, is_infection, is_surgical from warehouse.fct_event").fetchall())
    assert ("BR-001", "infection_pocket", "antibiotics_only;irrigation_debridement", True, True) in events
    assert ("US-001", "infection_pocket", "pump_explant;pump_replacement", True, True) in events
    exits = dict(warehouse.execute(
        "select exit_reason, count(*) from warehouse.fct_registry_exit group by 1").fetchall())
    assert exits == {"death": 3, "lost_to_follow_up": 1, "transfer_of_care": 1}
    sexes = dict(warehouse.execute("select site_id, sex from warehouse.dim_patient where site_id = 'NL-001'").fetchall())
    assert sexes == {"NL-001": "female"}


def test_no_raw_reference_reaches_the_warehouse(warehouse):
    tables = warehouse.execute("""select table_schema, table_name from information_schema.tables
        where table_schema in ('warehouse', 'dq', 'intermediate')""").fetchall()
    for schema, table in tables:
        text = warehouse.execute(f"select cast(list(t) as varchar) from {schema}.{table} as t").fetchone()[0] or ""
        assert "'P1'" not in text and "'D1'" not in text
