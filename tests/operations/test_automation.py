"""A check follows its asset: requested with it, and after a run that updated the asset without
evaluating the check; never again after a run that evaluated it."""
from __future__ import annotations

import dagster as dg

from orchestration.automation import WITH_ITS_ASSET


@dg.asset
def table() -> None:
    return None


@dg.asset_check(asset=table, automation_condition=WITH_ITS_ASSET)
def table_check() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


@dg.asset(automation_condition=dg.AutomationCondition.missing() & ~dg.AutomationCondition.in_progress())
def built_when_missing() -> None:
    return None


@dg.asset_check(asset=built_when_missing, automation_condition=WITH_ITS_ASSET)
def built_check() -> dg.AssetCheckResult:
    return dg.AssetCheckResult(passed=True)


CHECK = dg.AssetCheckKey(table.key, "table_check")
BUILT_CHECK = dg.AssetCheckKey(built_when_missing.key, "built_check")


def requested(defs, instance, cursor):
    """The keys one automation tick requests, and the cursor for the next tick."""
    result = dg.evaluate_automation_conditions(
        defs=defs, instance=instance, cursor=cursor,
        asset_selection=dg.AssetSelection.all() | dg.AssetSelection.all_asset_checks())
    return {r.key for r in result.results if r.true_subset.size}, result.cursor


def test_a_check_is_requested_with_its_asset_and_after_it_only_when_its_run_skipped_it():
    defs = dg.Definitions(assets=[table, built_when_missing], asset_checks=[table_check, built_check])
    with dg.instance_for_test() as instance:
        checks, cursor = requested(defs, instance, None)
        assert BUILT_CHECK in checks  # with the asset automation builds
        assert dg.materialize([table, built_when_missing, table_check, built_check], instance=instance).success
        checks, cursor = requested(defs, instance, cursor)
        assert CHECK not in checks  # its asset's run evaluated it
        assert dg.materialize([table], instance=instance, selection=dg.AssetSelection.assets(table)
                              .without_checks()).success
        checks, cursor = requested(defs, instance, cursor)
        assert CHECK in checks  # the asset changed and the check did not run against it
        checks, cursor = requested(defs, instance, cursor)
        assert CHECK not in checks  # once
