"""The catch-up sensor: the publish follows the landing even when automation missed an update."""
from __future__ import annotations

import dagster as dg
from dagster._core.test_utils import create_run_for_test

from orchestration.defs.landing.assets import PATIENTS
from orchestration.defs.operations.catch_up import DOWNSTREAM_OF_LANDING, publish_catch_up
from orchestration.defs.publish.assets import PUBLISHED

COUNTRIES = dg.StaticPartitionsDefinition(["DE", "US"])


@dg.asset(key=PATIENTS, partitions_def=COUNTRIES)
def landing_patients() -> dg.MaterializeResult:
    return dg.MaterializeResult()


@dg.asset(key=PUBLISHED)
def publish() -> dg.MaterializeResult:
    return dg.MaterializeResult()


@dg.asset(key=PUBLISHED)
def publish_while_a_cut_lands(context) -> dg.MaterializeResult:
    # a new cut lands after this run started (in another run, in real life)
    context.instance.report_runless_asset_event(dg.AssetMaterialization(PATIENTS, partition="DE"))
    return dg.MaterializeResult()


def tick(instance):
    return publish_catch_up(dg.build_sensor_context(instance=instance))


def land(instance, country="DE"):
    assert dg.materialize([landing_patients], instance=instance, partition_key=country).success


def test_the_publish_follows_the_newest_landing_once(tmp_path):
    with dg.instance_for_test() as instance:
        assert isinstance(tick(instance), dg.SkipReason)  # nothing landed yet
        land(instance)
        first = tick(instance)
        assert isinstance(first, dg.RunRequest) and first.run_key.startswith("landing:")
        assert tick(instance).run_key == first.run_key  # the same landing: the same request (deduplicated)

        assert dg.materialize([publish], instance=instance).success
        assert isinstance(tick(instance), dg.SkipReason)  # the publish has seen it

        land(instance, "US")
        again = tick(instance)
        assert isinstance(again, dg.RunRequest) and again.run_key != first.run_key


def test_a_cut_that_landed_while_the_publish_ran_is_caught_up():
    with dg.instance_for_test() as instance:
        land(instance)
        assert dg.materialize([publish_while_a_cut_lands], instance=instance).success
        assert isinstance(tick(instance), dg.RunRequest)


def test_nothing_is_requested_while_a_run_is_in_progress():
    with dg.instance_for_test() as instance:
        land(instance)
        create_run_for_test(instance, job_name="busy", status=dg.DagsterRunStatus.STARTED)
        skipped = tick(instance)
        assert isinstance(skipped, dg.SkipReason) and "in progress" in str(skipped.skip_message)


def test_the_request_builds_what_reads_the_landing(dbt_manifest):
    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    keys = DOWNSTREAM_OF_LANDING.resolve(graph)
    assert PUBLISHED in keys and dg.AssetKey(["warehouse", "dim_patient"]) in keys
    assert dg.AssetKey(["marts", "pain_outcomes"]) in keys
    assert PATIENTS not in keys and not any(k.path[0] == "landing" for k in keys)


def test_landing_and_publish_in_one_run_is_caught_up_already():
    with dg.instance_for_test() as instance:
        assert dg.materialize([landing_patients, publish], instance=instance, partition_key="DE",
                              selection=[PATIENTS]).success
        assert dg.materialize([publish], instance=instance).success
        assert isinstance(tick(instance), dg.SkipReason)
        both = dg.materialize([landing_patients, publish], instance=instance, partition_key="US")
        assert both.success
        assert isinstance(tick(instance), dg.SkipReason)
