"""The inbox sensor requests loads of exactly the sites whose files changed."""
from __future__ import annotations

import json
import os

import dagster as dg
import pytest

from orchestration.defs.landing.assets import INBOX_SENSOR_TRIGGER, TRIGGER_TAG
from orchestration.defs.landing.sensors import inbox_sensor
from orchestration.resources import RegistrySettings


@pytest.fixture
def inbox(tmp_path):
    (tmp_path / "sites.csv").write_text(
        "site_id,site_name,country,region,language,date_order,pain_scale,eq5d_version\n"
        "US-001,A,US,United States,en,MDY,NRS11,5L\n"
        "DE-001,B,DE,Western Europe,de,DMY,VAS100,3L\n"
    )
    for site in ["US-001", "DE-001"]:
        (tmp_path / "inbox" / site).mkdir(parents=True)
        (tmp_path / "inbox" / site / f"{site}_2017-06-30.xlsx").write_bytes(b"first cut")
    return tmp_path


def evaluate(root, instance, cursor):
    settings = RegistrySettings(
        inbox=str(root / "inbox"), sites=str(root / "sites.csv"),
        warehouse=str(root / "registry.duckdb"), publish_dir=str(root / "publish"),
    )
    context = dg.build_sensor_context(instance=instance, cursor=cursor, resources={"settings": settings})
    return inbox_sensor(context)


def test_first_tick_loads_every_site_then_only_changed_ones(inbox):
    with dg.instance_for_test() as instance:
        first = evaluate(inbox, instance, None)
        assert sorted(r.partition_key for r in first.run_requests) == ["DE-001", "US-001"]
        assert all(r.tags[TRIGGER_TAG] == INBOX_SENSOR_TRIGGER for r in first.run_requests)
        added = first.dynamic_partitions_requests[0].partition_keys
        assert sorted(added) == ["DE-001", "US-001"]

        quiet = evaluate(inbox, instance, first.cursor)
        assert isinstance(quiet, dg.SkipReason)

        (inbox / "inbox" / "DE-001" / "DE-001_2017-07-31.xlsx").write_bytes(b"second cut")
        second = evaluate(inbox, instance, first.cursor)
        assert [r.partition_key for r in second.run_requests] == ["DE-001"]

        # A changed file (same name, new bytes and time) is noticed as well.
        path = inbox / "inbox" / "US-001" / "US-001_2017-06-30.xlsx"
        path.write_bytes(b"first cut, corrected")
        os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
        third = evaluate(inbox, instance, second.cursor)
        assert [r.partition_key for r in third.run_requests] == ["US-001"]
        assert third.run_requests[0].run_key != first.run_requests[1].run_key


def test_a_folder_unknown_to_the_master_still_gets_registered(inbox):
    with dg.instance_for_test() as instance:
        first = evaluate(inbox, instance, None)
        (inbox / "inbox" / "ZZ-999").mkdir()
        (inbox / "inbox" / "ZZ-999" / "ZZ-999_2017-07-31.xlsx").write_bytes(b"stray")
        result = evaluate(inbox, instance, first.cursor)
        # One load of a known site registers (and rejects) the stray file.
        assert len(result.run_requests) == 1
        assert result.run_requests[0].partition_key in {"DE-001", "US-001"}
        assert "ZZ-999" in json.loads(result.cursor)


def test_many_changed_sites_make_one_run_over_every_site(inbox):
    sites = ["AR-001", "BR-001", "FR-001", "IT-001", "NL-001"]
    with open(inbox / "sites.csv", "a") as master:
        for site in sites:
            master.write(f"{site},X,XX,Latin America,es,DMY,NRS11,3L\n")
            (inbox / "inbox" / site).mkdir()
            (inbox / "inbox" / site / "cut_2017-07-31.xlsx").write_bytes(site.encode())
    with dg.instance_for_test() as instance:
        result = evaluate(inbox, instance, None)
        assert len(result.run_requests) == 1
        tags = result.run_requests[0].tags
        added = result.dynamic_partitions_requests[0].partition_keys
        assert sorted(added) == sorted(sites + ["DE-001", "US-001"])
        assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
            added[0], added[-1])
        assert tags[TRIGGER_TAG] == INBOX_SENSOR_TRIGGER
