"""The publish gate: every blocking check upstream of the publish must have executed, and
passed, against the latest materialization of the asset it checks.

Declarative automation and `all_deps_blocking_checks_passed` only look one step up and
treat a check that never ran as no obstacle; this gate is asked by the publish itself,
whatever launched it (automation, the UI, `registry run`).
"""

from collections.abc import Iterable

import dagster as dg


def _ancestors(asset_graph, key: dg.AssetKey) -> set[dg.AssetKey]:
    seen: set[dg.AssetKey] = set()
    todo = [key]
    while todo:
        for parent in asset_graph.get(todo.pop()).parent_keys:
            if parent not in seen and asset_graph.has(parent):
                seen.add(parent)
                todo.append(parent)
    return seen


def blocking_checks_upstream(asset_graph, key: dg.AssetKey) -> list[dg.AssetCheckKey]:
    keys = _ancestors(asset_graph, key)
    return sorted(
        (check_key for check_key in asset_graph.asset_check_keys
         if check_key.asset_key in keys and asset_graph.get_check_spec(check_key).blocking),
        key=lambda k: (k.asset_key.to_user_string(), k.name),
    )


def unmet_checks(instance: dg.DagsterInstance, check_keys: Iterable[dg.AssetCheckKey]) -> list[str]:
    """One line per blocking check that did not pass against its asset's latest materialization."""
    problems = []
    latest: dict[dg.AssetKey, int | None] = {}
    for check_key in check_keys:
        asset_key = check_key.asset_key
        if asset_key not in latest:
            records = instance.fetch_materializations(asset_key, limit=1).records
            latest[asset_key] = records[0].storage_id if records else None
        where = f"{asset_key.to_user_string()}:{check_key.name}"
        if latest[asset_key] is None:
            continue  # never materialized: nothing of it is published
        record = instance.get_latest_asset_check_evaluation_record(check_key)
        evaluation = record.event.asset_check_evaluation if record and record.event else None
        target = evaluation.target_materialization_data if evaluation else None
        if record is None or evaluation is None or target is None or target.storage_id != latest[asset_key]:
            problems.append(f"{where} has not run against the latest {asset_key.to_user_string()}")
        elif not evaluation.passed:
            problems.append(f"{where} failed" + (f": {evaluation.description}" if evaluation.description else ""))
    return problems
