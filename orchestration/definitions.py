"""The registry's Dagster definitions: what `dagster dev -w workspace.yaml` loads.

Path of the data: ingest (workbooks -> landing) -> staging and warehouse (dbt)
-> marts (outcome statistics) -> publish (marts.duckdb, Parquet, Excel, report).
"""
from __future__ import annotations

import dagster as dg

from orchestration.defs.landing.assets import deliveries, site_landing, site_master
from orchestration.defs.landing.sensors import inbox_sensor, ingest_site_job
from orchestration.defs.marts.assets import outcome_marts
from orchestration.defs.operations.failures import run_failure_summary
from orchestration.defs.operations.jobs import full_build_job
from orchestration.defs.operations.schedules import nightly_full_build
from orchestration.defs.publish.assets import published_marts
from orchestration.defs.warehouse.assets import registry_dbt_models
from orchestration.resources import build_resources
from registry.config import Settings


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or Settings.from_env()
    return dg.Definitions(
        assets=[site_master, deliveries, site_landing, registry_dbt_models, outcome_marts, published_marts],
        jobs=[full_build_job, ingest_site_job],
        schedules=[nightly_full_build],
        sensors=[
            inbox_sensor,
            run_failure_summary,
            dg.AutomationConditionSensorDefinition(
                "registry_automation",
                target=dg.AssetSelection.all(),
                default_status=dg.DefaultSensorStatus.RUNNING,
                minimum_interval_seconds=15,
            ),
        ],
        resources=build_resources(settings),
        # Steps run one at a time anyway (one DuckDB writer): a process per step
        # would only add start-up time to every run the sensors launch.
        executor=dg.in_process_executor,
    )


defs = build_definitions()


def full_build_job_for_reexecution() -> dg.JobDefinition:
    """The full build as a reconstructable job (`dg.reconstructable(full_build_job_for_reexecution)`),
    for runs that can be re-executed from failure outside the UI."""
    return build_definitions().resolve_job_def("registry_full_build")
