"""Running the registry's Dagster job from the command line, with the UI's definitions."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

from registry.config import PROJECT_ROOT, RegistryConfig

INSTANCE_TEMPLATE = PROJECT_ROOT / "orchestration" / "dagster.yaml"


def dagster_home(config: RegistryConfig) -> Path:
    """DAGSTER_HOME, by default the state folder's `dagster/`, with the project's instance
    settings (the warehouse pool of size 1), so that `dagster dev` later shows the same runs."""
    home = Path(os.environ.get("DAGSTER_HOME") or config.dagster_home).resolve()
    home.mkdir(parents=True, exist_ok=True)
    if not (home / "dagster.yaml").exists():
        shutil.copy(INSTANCE_TEMPLATE, home / "dagster.yaml")
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def check_inputs(config: RegistryConfig) -> list[str]:
    """The site master's site ids; exits with a one-line reason when the inputs are missing."""
    from registry.landing import SiteMasterError, read_site_master

    sites, inbox = config.path("sites"), config.path("inbox")
    if not sites.is_file():
        raise SystemExit(f"registry: site master not found: {sites} (REGISTRY_SITES)")
    if not inbox.is_dir():
        raise SystemExit(f"registry: inbox not found: {inbox} (REGISTRY_INBOX)")
    try:
        site_ids = list(read_site_master(sites)["site_id"])
    except SiteMasterError as exc:
        raise SystemExit(f"registry: {exc}") from None
    if not site_ids:
        raise SystemExit(f"registry: the site master {sites} lists no site")
    return site_ids


def run_pipeline(config: RegistryConfig):
    """Materialize every asset over every site, in one in-process run."""
    import dagster as dg

    from orchestration.resources import prepare_dbt_manifest

    site_ids = check_inputs(config)
    # The dbt assets are built from the manifest when their module is imported.
    prepare_dbt_manifest(config)
    from orchestration.definitions import definitions_for
    from orchestration.defs.landing.partitions import (
        SITE_PARTITIONS,
        all_sites_tags,
        apply_partition_requests,
        site_partition_requests,
    )

    dagster_home(config)
    instance = dg.DagsterInstance.get()
    apply_partition_requests(
        instance, site_partition_requests(instance.get_dynamic_partitions(SITE_PARTITIONS.name), site_ids))
    partitions = instance.get_dynamic_partitions(SITE_PARTITIONS.name)
    job = definitions_for(config).resolve_job_def("registry_full_build")
    return job.execute_in_process(
        # Dagster's step-by-step DEBUG events stay in the run log (the UI), not the terminal.
        run_config={"loggers": {"console": {"config": {"log_level": "INFO"}}}},
        instance=instance,
        tags=all_sites_tags(list(partitions)),
        raise_on_error=False,
    )


def first_failure(result) -> str:
    """One line: the failed step and the innermost error's message."""
    for event in result.all_events:
        if event.is_step_failure and event.event_specific_data.error:
            error = event.event_specific_data.error
            while error.cause is not None:
                error = error.cause
            message = " ".join(line.strip() for line in error.message.strip().splitlines()[:4])
            return f"step {event.step_key} failed: {message or 'no message'}"
    return "the run failed (see the Dagster run log)"
