"""The nightly full build."""

import dagster as dg

from orchestration.defs.landing.partitions import SITE_PARTITIONS, all_sites_tags
from orchestration.defs.operations.jobs import full_build_job


@dg.schedule(
    job=full_build_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    description="Every night at 02:00 UTC: the full build over every site, in one run.",
)
def nightly_full_build(context: dg.ScheduleEvaluationContext):
    site_ids = context.instance.get_dynamic_partitions(SITE_PARTITIONS.name)
    if not site_ids:
        return dg.SkipReason("No site partition yet: the inbox sensor or `registry run` adds them.")
    return dg.RunRequest(
        run_key=f"nightly-{context.scheduled_execution_time:%Y-%m-%d}",
        tags=all_sites_tags(list(site_ids)),
    )
