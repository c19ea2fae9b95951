"""The registry's Dagster definitions: what `dagster dev -w workspace.yaml` loads.

The data's path: landing (workbooks -> DuckDB) -> staging, intermediate, warehouse
and dq (dbt) -> marts (outcome statistics) -> publish (marts.duckdb, Parquet, Excel,
report). Configuration is read from the environment once, in ``resources.CONFIG``.
"""
from __future__ import annotations

import dagster as dg

from orchestration.defs.landing.assets import (
    inbox_strays,
    mapping_overrides,
    site_landing,
    site_master,
)
from orchestration.defs.landing.checks import LANDING_CHECKS
from orchestration.defs.landing.sensors import inbox_sensor
from orchestration.defs.marts.assets import outcome_marts
from orchestration.defs.marts.checks import MART_CHECKS
from orchestration.defs.operations.analyses import OPERATION_JOBS
from orchestration.defs.operations.catch_up import publish_catch_up
from orchestration.defs.operations.cli_logger import registry_cli_logger
from orchestration.defs.operations.failures import run_failure_summary
from orchestration.defs.operations.jobs import full_build_job
from orchestration.defs.operations.schedules import nightly_full_build
from orchestration.defs.publish.assets import published_marts
from orchestration.defs.warehouse.assets import registry_dbt_models
from orchestration.resources import CONFIG, resources_for
from registry.config import RegistryConfig

automation_sensor = dg.AutomationConditionSensorDefinition(
    "registry_automation",
    target=dg.AssetSelection.all(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=15,
    description="Declarative automation: dbt models follow the landing tables they read, their "
    "tests run with them, the marts follow the star, and the publish follows the marts.",
)


def definitions_for(config: RegistryConfig) -> dg.Definitions:
    """The definitions with the resources of ``config`` (``defs`` uses the environment's)."""
    return dg.Definitions(
        assets=[site_master, mapping_overrides, inbox_strays, site_landing, registry_dbt_models, outcome_marts,
                published_marts],
        asset_checks=[*LANDING_CHECKS, *MART_CHECKS],
        jobs=[full_build_job, *OPERATION_JOBS],
        schedules=[nightly_full_build],
        sensors=[inbox_sensor, automation_sensor, publish_catch_up, run_failure_summary],
        resources=resources_for(config),
        # Runs launched by the UI or the daemon log to Dagster's console logger (the default);
        # `registry run` asks for its own display instead.
        loggers={"console": dg.colored_console_logger, "registry_cli": registry_cli_logger},
        # Steps run one at a time anyway (one DuckDB writer): a process per step would
        # only add start-up time to every run the sensors launch.
        executor=dg.in_process_executor,
    )


defs = definitions_for(CONFIG)


def full_build_job_for_reexecution() -> dg.JobDefinition:
    """The full build as a reconstructable job (`dg.reconstructable(full_build_job_for_reexecution)`)
    with the configuration the environment describes when it is called, for runs that can be
    re-executed from failure outside the UI."""
    return definitions_for(RegistryConfig.from_env()).resolve_job_def("registry_full_build")
