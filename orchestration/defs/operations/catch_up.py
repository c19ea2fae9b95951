"""Catch-up: the publish follows the landing even when automation let an update slip.

A new cut can land while an automation run is already building from the previous
landing (the warehouse pool makes them take turns): that run's publish is then refused
by the gate, rightly, and automation may count the landing update as handled by the run
it raced. This sensor looks at the outcome, not at the ticks: when no run is queued or in
progress and the newest landing materialization is newer than the start of the run
that made the current publish (or there is no publish yet), it requests the warehouse,
the marts and the publish once for that landing.
"""
from __future__ import annotations

import dagster as dg

from orchestration.defs.landing.assets import SITE_LOAD_KEYS
from orchestration.defs.publish.assets import PUBLISHED

# dbt models, marts, their checks and the publish: what reads the landing tables.
DOWNSTREAM_OF_LANDING = dg.AssetSelection.assets(*SITE_LOAD_KEYS.values()).downstream(include_self=False)
BUSY = [dg.DagsterRunStatus.QUEUED, dg.DagsterRunStatus.NOT_STARTED, dg.DagsterRunStatus.STARTING,
        dg.DagsterRunStatus.STARTED]


def newest_landing(instance: dg.DagsterInstance) -> dg.EventLogRecord | None:
    """The newest materialization of any landing table, any country."""
    records = [r for key in SITE_LOAD_KEYS.values()
               for r in instance.fetch_materializations(key, limit=1).records]
    return max(records, key=lambda r: r.timestamp, default=None)


def publish_is_behind(instance: dg.DagsterInstance) -> dg.EventLogRecord | None:
    """The landing materialization the current publish has not seen, if any."""
    landed = newest_landing(instance)
    if landed is None:
        return None
    published = instance.fetch_materializations(PUBLISHED, limit=1).records
    if not published:
        return landed
    if landed.run_id and landed.run_id == published[0].run_id:  # landed and published in one run
        return None
    run = instance.get_run_record_by_id(published[0].run_id)
    started = run.start_time if run is not None and run.start_time is not None else published[0].timestamp
    return landed if landed.timestamp > started else None


@dg.sensor(
    name="publish_catch_up",
    asset_selection=DOWNSTREAM_OF_LANDING,
    minimum_interval_seconds=60,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Builds the warehouse, the marts and the publish again when the landing changed "
    "after the run that made the current publish started and no run is queued or in progress: "
    "a safety net for a cut that landed while an automation run was building.",
)
def publish_catch_up(context: dg.SensorEvaluationContext):
    if context.instance.get_run_records(filters=dg.RunsFilter(statuses=BUSY), limit=1):
        return dg.SkipReason("A run is queued or in progress.")
    behind = publish_is_behind(context.instance)
    if behind is None:
        return dg.SkipReason("The publish has seen the newest landing.")
    # One request per landing materialization: a publish refused for its data is not retried
    # until the landing changes again.
    return dg.RunRequest(run_key=f"landing:{behind.storage_id}")
