"""The nightly full build."""

import dagster as dg

from orchestration.defs.landing.partitions import COUNTRY_PARTITIONS, country_range_tags
from orchestration.defs.operations.jobs import full_build_job


@dg.schedule(
    job=full_build_job,
    cron_schedule="0 2 * * *",
    execution_timezone="UTC",
    description="Every night at 02:00 UTC: the full build over every country, in one run.",
)
def nightly_full_build(context: dg.ScheduleEvaluationContext):
    countries = context.instance.get_dynamic_partitions(COUNTRY_PARTITIONS.name)
    if not countries:
        return dg.SkipReason("No country partition yet: the inbox sensor or `registry run` adds them.")
    return dg.RunRequest(
        run_key=f"nightly-{context.scheduled_execution_time:%Y-%m-%d}",
        tags=country_range_tags(list(countries)),
    )
