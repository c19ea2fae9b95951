"""The inbox sensor requests loads of exactly the countries whose sites' deliveries changed."""
from __future__ import annotations

import os

import dagster as dg
import pytest

from orchestration.defs.landing import sensors
from orchestration.defs.landing.assets import INBOX_STRAYS, SITE_LOAD_KEYS, SITE_MASTER
from orchestration.defs.landing.sensors import (
    LANDING_SELECTION,
    MAX_RUNS_PER_TICK,
    inbox_sensor,
)
from orchestration.defs.publish.assets import PUBLISHED
from registry.config import ENV_VARS, RegistryConfig

MASTER = ("site_id,site_name,country,region,language,date_order,pain_scale,eq5d_version\n"
          "US-001,A,US,United States,en,MDY,NRS11,5L\n"
          "DE-001,B,DE,Western Europe,de,DMY,VAS100,3L\n")


@pytest.fixture(autouse=True)
def settled_at_once(monkeypatch):
    """Files count as written in full at once (one test below keeps the settling time)."""
    monkeypatch.setattr(sensors, "SETTLE_SECONDS", 0.0)


@pytest.fixture
def inbox(tmp_path):
    (tmp_path / "sites.csv").write_text(MASTER)
    for site in ["US-001", "DE-001"]:
        (tmp_path / "inbox" / site).mkdir(parents=True)
        (tmp_path / "inbox" / site / f"{site}_2017-06-30.xlsx").write_bytes(b"first cut")
    return tmp_path


def evaluate(root, instance, cursor, definitions=None):
    """One tick; with ``definitions``, in that code location (the selection can follow the graph)."""
    config = RegistryConfig.from_env({ENV_VARS["inbox"]: str(root / "inbox"),
                                      ENV_VARS["sites"]: str(root / "sites.csv"),
                                      ENV_VARS["warehouse"]: str(root / "registry.duckdb")})
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"registry": config},
                                      definitions=definitions)
    return inbox_sensor(context)


def apply(instance, result):
    for request in result.dynamic_partitions_requests:
        instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))


def partitions(result) -> list:
    """The country each request loads alone: its partition key, or its range of one partition."""
    ranges = [(r.tags.get("dagster/asset_partition_range_start"), r.tags.get("dagster/asset_partition_range_end"))
              for r in result.run_requests]
    return sorted(r.partition_key or start for r, (start, end) in zip(result.run_requests, ranges)
                  if r.partition_key or (start and start == end))


def test_first_tick_loads_the_master_and_every_site_then_only_changed_ones(inbox):
    with dg.instance_for_test() as instance:
        first = evaluate(inbox, instance, None)
        [everything] = first.run_requests
        assert SITE_MASTER in everything.asset_selection and INBOX_STRAYS in everything.asset_selection
        assert sorted(first.dynamic_partitions_requests[0].partition_keys) == ["DE", "US"]
        apply(instance, first)

        quiet = evaluate(inbox, instance, first.cursor)
        assert quiet.run_requests == [] and quiet.skip_reason

        (inbox / "inbox" / "DE-001" / "DE-001_2017-07-31.xlsx").write_bytes(b"second cut")
        second = evaluate(inbox, instance, first.cursor)
        assert partitions(second) == ["DE"]
        assert SITE_MASTER not in second.run_requests[0].asset_selection

        # A changed file (same name, new bytes and time) is noticed as well.
        path = inbox / "inbox" / "US-001" / "US-001_2017-06-30.xlsx"
        path.write_bytes(b"first cut, corrected")
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
        third = evaluate(inbox, instance, second.cursor)
        assert partitions(third) == ["US"]


def test_a_file_still_being_written_waits_for_a_later_tick(inbox, monkeypatch):
    monkeypatch.setattr(sensors, "SETTLE_SECONDS", 30.0)
    path = inbox / "inbox" / "DE-001" / "DE-001_2017-06-30.xlsx"
    with dg.instance_for_test() as instance:
        old = path.stat().st_mtime_ns - 60 * 10**9
        for site in ["US-001", "DE-001"]:
            first_cut = inbox / "inbox" / site / f"{site}_2017-06-30.xlsx"
            os.utime(first_cut, ns=(old, old))
        first = evaluate(inbox, instance, None)
        apply(instance, first)
        # A copy in progress: the file is there, modified a moment ago.
        new_cut = inbox / "inbox" / "DE-001" / "DE-001_2017-07-31.xlsx"
        new_cut.write_bytes(b"second c")
        writing = evaluate(inbox, instance, first.cursor)
        assert writing.run_requests == [] and writing.skip_reason
        # Grown and modified again: still waiting; the cursor has not taken it in.
        new_cut.write_bytes(b"second cut")
        still = evaluate(inbox, instance, writing.cursor)
        assert still.run_requests == []
        assert "DE-001/DE-001_2017-07-31.xlsx" not in still.cursor
        # A changed file that was known keeps its previous entry while it is written.
        os.utime(path, None)
        assert evaluate(inbox, instance, still.cursor).run_requests == []
        # Untouched for longer than the settling time: its country is loaded, once.
        os.utime(new_cut, ns=(old, old))
        os.utime(path, ns=(old, old))
        settled = evaluate(inbox, instance, still.cursor)
        assert partitions(settled) == ["DE"]


def test_a_file_touched_without_a_change_requests_nothing(inbox):
    with dg.instance_for_test() as instance:
        first = evaluate(inbox, instance, None)
        apply(instance, first)
        path = inbox / "inbox" / "US-001" / "US-001_2017-06-30.xlsx"
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
        touched = evaluate(inbox, instance, first.cursor)
        assert touched.run_requests == []


def test_a_folder_unknown_to_the_master_is_listed_by_the_strays_asset(inbox):
    with dg.instance_for_test() as instance:
        first = evaluate(inbox, instance, None)
        apply(instance, first)
        (inbox / "inbox" / "ZZ-999").mkdir()
        (inbox / "inbox" / "ZZ-999" / "ZZ-999_2017-07-31.xlsx").write_bytes(b"stray")
        result = evaluate(inbox, instance, first.cursor)
        [request] = result.run_requests
        assert request.asset_selection == [INBOX_STRAYS] and request.partition_key is None


def test_a_changed_site_master_reloads_it_and_follows_its_sites(inbox):
    with dg.instance_for_test() as instance:
        first = evaluate(inbox, instance, None)
        apply(instance, first)
        (inbox / "sites.csv").write_text(MASTER.replace("DE-001,B,DE,Western Europe,de,DMY,VAS100,3L\n", ""))
        result = evaluate(inbox, instance, first.cursor)
        [request] = result.run_requests
        assert SITE_MASTER in request.asset_selection
        [delete] = result.dynamic_partitions_requests
        assert isinstance(delete, dg.DeleteDynamicPartitionsRequest) and list(delete.partition_keys) == ["DE"]


def test_a_new_cut_requests_its_country_only_once_for_many_sites(inbox):
    with dg.instance_for_test() as instance:
        (inbox / "inbox" / "US-002").mkdir()
        (inbox / "inbox" / "US-002" / "cut_2017-06-30.xlsx").write_bytes(b"US-002")
        with open(inbox / "sites.csv", "a") as master:
            master.write("US-002,C,US,United States,en,MDY,NRS11,5L\n")
        first = evaluate(inbox, instance, None)
        apply(instance, first)
        for site in ("US-001", "US-002"):
            (inbox / "inbox" / site / "cut_2017-07-31.xlsx").write_bytes(site.encode() + b" second")
        second = evaluate(inbox, instance, first.cursor)
        assert partitions(second) == ["US"]


def test_many_changed_countries_make_one_run_over_every_country(inbox):
    countries = ["AR", "BR", "FR", "IT", "NL"][: MAX_RUNS_PER_TICK + 1]
    with dg.instance_for_test() as instance:
        first = evaluate(inbox, instance, None)
        apply(instance, first)
        for country in countries:
            site = f"{country}-001"
            (inbox / "inbox" / site).mkdir()
            (inbox / "inbox" / site / "cut_2017-07-31.xlsx").write_bytes(site.encode())
        with open(inbox / "sites.csv", "a") as master:
            master.writelines(f"{c}-001,X,{c},Latin America,es,DMY,NRS11,3L\n" for c in countries)
        result = evaluate(inbox, instance, first.cursor)
        [request] = result.run_requests
        added = list(result.dynamic_partitions_requests[0].partition_keys)
        assert added == countries
        order = list(instance.get_dynamic_partitions("countries")) + added
        assert (request.tags["dagster/asset_partition_range_start"],
                request.tags["dagster/asset_partition_range_end"]) == (order[0], order[-1])


def test_an_unreadable_site_master_requests_nothing(inbox):
    with dg.instance_for_test() as instance:
        (inbox / "sites.csv").write_text("site_id\nnot a site id!\n")
        result = evaluate(inbox, instance, None)
        assert isinstance(result, dg.SkipReason) and "site master" in result.skip_message


@pytest.fixture(scope="module")
def code_location(dbt_manifest):
    from orchestration.definitions import defs

    return defs


def test_one_run_builds_what_reads_the_landing_and_runs_per_country_leave_it_to_automation(inbox, code_location):
    graph = code_location.resolve_asset_graph()
    loads = set(SITE_LOAD_KEYS.values())
    after_loads = dg.AssetSelection.assets(*loads).downstream().resolve(graph)
    assert PUBLISHED in after_loads and len(after_loads - loads) > 20  # dbt models, marts, publish
    with dg.instance_for_test() as instance:
        first = evaluate(inbox, instance, None, code_location)  # every country: one run
        apply(instance, first)
        [everything] = first.run_requests
        assert set(everything.asset_selection) == LANDING_SELECTION.downstream().resolve(graph)
        (inbox / "inbox" / "US-001" / "cut_2017-07-31.xlsx").write_bytes(b"US second")
        one = evaluate(inbox, instance, first.cursor, code_location)
        [request] = one.run_requests
        assert (request.tags["dagster/asset_partition_range_start"],
                request.tags["dagster/asset_partition_range_end"]) == ("US", "US")
        assert set(request.asset_selection) == after_loads
        for site in ("US-001", "DE-001"):
            (inbox / "inbox" / site / "cut_2017-08-31.xlsx").write_bytes(site.encode() + b" third")
        two = evaluate(inbox, instance, one.cursor, code_location)
        assert partitions(two) == ["DE", "US"]
        assert all(set(r.asset_selection) == loads for r in two.run_requests)


def test_the_sensor_ticks_at_every_look_of_dagsters_sensor_daemon():
    """A minimum interval equal to the daemon's loop skipped every other look (10 s between ticks)."""
    from dagster._daemon.sensor import MIN_INTERVAL_LOOP_TIME

    assert inbox_sensor.minimum_interval_seconds < MIN_INTERVAL_LOOP_TIME
