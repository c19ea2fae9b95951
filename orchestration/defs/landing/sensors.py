"""The inbox sensor: a new or changed file requests a load of just its site."""

import hashlib
import json
from pathlib import Path

import dagster as dg

from orchestration.defs.landing.assets import (
    DELIVERIES,
    INBOX_SENSOR_TRIGGER,
    SITE_LOAD_KEYS,
    SITE_MASTER,
    TRIGGER_TAG,
)
from orchestration.defs.landing.partitions import SITE_PARTITIONS
from orchestration.defs.operations.jobs import all_sites_tags
from orchestration.resources import RegistrySettings

# More changed sites than this at once (the first tick, a bulk re-delivery): one
# run over every site instead of a run each; unchanged sites are skipped cheaply.
MAX_RUNS_PER_TICK = 4

ingest_site_job = dg.define_asset_job(
    "ingest_site",
    selection=dg.AssetSelection.assets(SITE_MASTER, DELIVERIES, *SITE_LOAD_KEYS),
    description="Register the inbox's files and load one site's new deliveries.",
)


def inbox_fingerprints(inbox: Path) -> dict[str, str]:
    """Site folder -> digest of its files' names, sizes and modification times.

    Only ``stat`` is used: the sensor never opens a workbook nor the warehouse
    (DuckDB admits one writing process, which may be a running load).
    """
    by_site: dict[str, list[str]] = {}
    if not inbox.is_dir():
        return {}
    for path in sorted(inbox.rglob("*")):
        if not path.is_file():
            continue
        rel = path.relative_to(inbox)
        site = rel.parts[0] if len(rel.parts) > 1 else ""
        stat = path.stat()
        by_site.setdefault(site, []).append(f"{rel.as_posix()}|{stat.st_size}|{stat.st_mtime_ns}")
    return {site: hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16] for site, rows in by_site.items()}


def known_sites(sites_csv: Path) -> set[str]:
    import pandas as pd

    if not sites_csv.is_file():
        return set()
    return set(pd.read_csv(sites_csv, dtype=str, usecols=["site_id"])["site_id"].str.strip())


@dg.sensor(
    job=ingest_site_job,
    minimum_interval_seconds=15,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Watches REGISTRY_INBOX; a new or changed file requests a load of its site "
    f"only (more than {MAX_RUNS_PER_TICK} sites at once: one run over every site). Files of "
    "folders unknown to the site master are registered (and rejected) by a load of a known site.",
)
def inbox_sensor(
    context: dg.SensorEvaluationContext, settings: RegistrySettings
) -> dg.SensorResult | dg.SkipReason:
    settings = settings.to_settings()
    previous: dict[str, str] = json.loads(context.cursor) if context.cursor else {}
    current = inbox_fingerprints(settings.inbox)
    sites = known_sites(settings.sites)
    changed = sorted(site for site, digest in current.items() if previous.get(site) != digest)
    to_load = [site for site in changed if site in sites]
    if not changed:
        return dg.SkipReason("No new or changed file in the inbox.")
    unknown = [site for site in changed if site not in sites]
    if unknown:
        where = [folder or "(inbox root)" for folder in unknown]
        context.log.warning(f"Files outside the site master's folders: {', '.join(where)}")
        if not to_load and sites:
            # Still register (and reject or ignore) them, through a load of a known site.
            to_load = [sorted(sites)[0]]
    new_partitions = [
        site for site in to_load if not context.instance.has_dynamic_partition(SITE_PARTITIONS.name, site)
    ]
    # One run per site and inbox state: a later change to the same site runs again.
    state = hashlib.sha256(json.dumps(current, sort_keys=True).encode()).hexdigest()[:12]
    trigger = {TRIGGER_TAG: INBOX_SENSOR_TRIGGER}
    if len(to_load) <= MAX_RUNS_PER_TICK:
        requests = [
            dg.RunRequest(run_key=f"{site}:{state}", partition_key=site, tags=trigger) for site in to_load
        ]
    else:
        every_site = [*context.instance.get_dynamic_partitions(SITE_PARTITIONS.name), *new_partitions]
        requests = [dg.RunRequest(run_key=f"all:{state}", tags={**trigger, **all_sites_tags(every_site)})]
    return dg.SensorResult(
        run_requests=requests,
        dynamic_partitions_requests=[SITE_PARTITIONS.build_add_request(new_partitions)]
        if new_partitions
        else [],
        cursor=json.dumps(current, sort_keys=True),
    )
