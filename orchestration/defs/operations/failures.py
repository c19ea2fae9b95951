"""A run failure leaves a clear summary in the run log and in the publish folder."""

import datetime as dt

import dagster as dg

from registry.config import RegistryConfig


def failure_summary(context: dg.RunFailureSensorContext) -> str:
    run = context.dagster_run
    steps = [
        # the first lines say what failed (a blocking check names its asset and check there)
        f"  - step {event.step_key}: "
        + " ".join(line.strip() for line in event.event_specific_data.error.message.strip().splitlines()[:3])
        for event in context.get_step_failure_events()
        if event.event_specific_data and event.event_specific_data.error
    ]
    lines = [
        f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%SZ} run {run.run_id} of job {run.job_name} failed"
        + (f" (partition {run.tags['dagster/partition']})" if "dagster/partition" in run.tags else ""),
        f"  reason: {context.failure_event.message}",
        *steps,
        "  the previous publish stays in place.",
    ]
    return "\n".join(lines)


@dg.run_failure_sensor(
    default_status=dg.DefaultSensorStatus.RUNNING,
    monitor_all_code_locations=False,
    description="Writes a summary of each failed run (failed step, first line of its error) to the "
    "sensor log and to `failures.log` in the state folder (REGISTRY_STATE_DIR).",
)
def run_failure_summary(context: dg.RunFailureSensorContext, registry: RegistryConfig) -> None:
    summary = failure_summary(context)
    context.log.error(summary)
    log = registry.failures_log
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "a", encoding="utf-8") as out:
        out.write(summary + "\n")
