"""The inbox sensor: a delivery requests a load of just its country (whose run reads only
the new files). When the tick requests one load run, that run also builds the warehouse,
the marts and the publish: a site's new cut then waits neither for an automation tick
nor for a second run's start-up.

It never opens the warehouse (DuckDB admits one writing process, which may be a
running load): it compares the inbox with its cursor, by ``stat`` and, for a file
whose size or time moved, by the SHA-256 of its bytes, so that a file touched
without a change requests nothing. A file written to in the last ``SETTLE_SECONDS``
is left for a later tick: a workbook still being copied is not requested half-written.
"""

import hashlib
import json
import time
from pathlib import Path

import dagster as dg

from orchestration.defs.landing.assets import (
    INBOX_STRAYS,
    MAPPING_KEYS,
    SITE_LOAD_KEYS,
    SITE_MASTER,
    file_version,
)
from orchestration.defs.landing.partitions import (
    COUNTRY_PARTITIONS,
    countries_of,
    country_partition_requests,
    country_range_tags,
)
from registry.config import RegistryConfig
from registry.landing import SiteMasterError, read_site_master
from registry.landing.deliveries import file_sha256

# Seconds between ticks: a new delivery is requested within this time. Dagster's sensor
# daemon looks at its sensors every 5 s, and skips a sensor whose last tick is less than
# its minimum interval ago: a minimum of 5 s would skip every other look whenever a look
# came a moment early (ticks 10 s apart, measured), so the minimum is set below it.
TICK_SECONDS = 5
MIN_INTERVAL_SECONDS = TICK_SECONDS - 1
# A file modified more recently than this is still being written (a copy in progress):
# this tick treats it as it was at the previous tick.
SETTLE_SECONDS = 1.0
# More changed countries than this at once (the first tick, a bulk re-delivery): one
# run over every country instead of a run each; unchanged sites load nothing.
MAX_RUNS_PER_TICK = 4

LANDING_SELECTION = dg.AssetSelection.assets(SITE_MASTER, *MAPPING_KEYS.values(), INBOX_STRAYS,
                                             *SITE_LOAD_KEYS.values())


def inbox_files(inbox: Path, previous: dict[str, str]) -> dict[str, str]:
    """Inbox-relative path -> "size:mtime:sha" for every file; the SHA-256 is taken again only
    for a file whose size or modification time moved since ``previous``. A file modified in
    the last ``SETTLE_SECONDS`` keeps its entry of ``previous`` (none if it is new)."""
    out: dict[str, str] = {}
    if not inbox.is_dir():
        return out
    now = time.time_ns()
    settled_before = now - int(SETTLE_SECONDS * 1e9)
    for path in sorted(p for p in inbox.rglob("*") if p.is_file()):
        rel = path.relative_to(inbox).as_posix()
        stat = path.stat()
        known = previous.get(rel, "")
        # Still being written: seen at a later tick. (A time ahead of this clock, from a share
        # with a skewed clock, says nothing about that: the file is taken as it is.)
        if settled_before < stat.st_mtime_ns <= now:
            if known:
                out[rel] = known
            continue
        stamp = f"{stat.st_size}:{stat.st_mtime_ns}"
        sha = known.rsplit(":", 1)[-1] if known.startswith(stamp + ":") else file_sha256(path)[:16]
        out[rel] = f"{stamp}:{sha}"
    return out


def by_folder(files: dict[str, str], sites: set[str]) -> tuple[dict[str, str], str]:
    """(site -> digest of its files' paths and contents, digest of the files outside site folders)."""
    groups: dict[str, list[str]] = {}
    for rel, entry in files.items():
        parts = rel.split("/")
        folder = parts[0] if len(parts) > 1 and parts[0] in sites else ""
        content = entry.rsplit(":", 1)[-1] if folder else entry  # strays: by stat
        groups.setdefault(folder, []).append(f"{rel}|{content}")
    digests = {folder: hashlib.sha256("\n".join(rows).encode()).hexdigest()[:16] for folder, rows in groups.items()}
    return {s: d for s, d in digests.items() if s}, digests.get("", "")


def with_what_follows(context: dg.SensorEvaluationContext, keys: list[dg.AssetKey]) -> list[dg.AssetKey]:
    """``keys`` and every asset downstream of them in the sensor's code location (``keys``
    alone without one)."""
    if context.repository_def is None:
        return keys
    return sorted(dg.AssetSelection.assets(*keys).downstream().resolve(context.repository_def.asset_graph))


@dg.sensor(
    target=LANDING_SELECTION.downstream(),
    minimum_interval_seconds=MIN_INTERVAL_SECONDS,
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Watches REGISTRY_INBOX, the site master and the mappings folder. A new or changed "
    "delivery requests a load of its country, which reads only the new files (more than "
    f"{MAX_RUNS_PER_TICK} countries at once, a changed site master or changed mapping overrides: one "
    "run over every country, which lands again from the archive the deliveries whose recognition "
    "changes). When that is one run, it also builds the warehouse, the marts and the publish; "
    "after a run per country, automation does. Files outside the site folders are listed by "
    "`inbox_strays`. Country partitions follow the site master. A file touched without a change "
    f"of content requests nothing; a file written to in the last {SETTLE_SECONDS:g} s waits for the next tick.",
)
def inbox_sensor(context: dg.SensorEvaluationContext, registry: RegistryConfig):
    cursor = json.loads(context.cursor) if context.cursor else {}
    sites_csv = registry.path("sites")
    try:
        master_frame = read_site_master(sites_csv)
    except (OSError, SiteMasterError, ValueError) as exc:
        return dg.SkipReason(f"The site master cannot be read, nothing requested: {exc}")
    site_countries = dict(zip(master_frame["site_id"], master_frame["country"]))
    master = hashlib.sha256(sites_csv.read_bytes()).hexdigest()[:16]
    mappings = file_version(registry.path("mappings"))
    files = inbox_files(registry.path("inbox"), cursor.get("files", {}))
    sites, strays = by_folder(files, set(site_countries))
    new_cursor = json.dumps({"master": master, "mappings": mappings, "sites": sites, "strays": strays,
                             "files": files}, sort_keys=True)

    previous_sites = cursor.get("sites", {})
    changed = countries_of(site_countries, (s for s, digest in sites.items() if previous_sites.get(s) != digest))
    master_changed = cursor.get("master") != master or cursor.get("mappings") != mappings
    strays_changed = cursor.get("strays") != strays
    countries = sorted(set(site_countries.values()))
    existing = context.instance.get_dynamic_partitions(COUNTRY_PARTITIONS.name)
    partitions = country_partition_requests(existing, countries)
    # the partitions in their order once the requests are applied (a range follows that order)
    ordered = [c for c in existing if c in set(countries)] + [c for c in countries if c not in set(existing)]
    if not (changed or master_changed or strays_changed):
        return dg.SensorResult(skip_reason="No new or changed file in the inbox.", cursor=new_cursor)

    state = hashlib.sha256(new_cursor.encode()).hexdigest()[:12]
    landing_keys = list(SITE_LOAD_KEYS.values())
    if master_changed or len(changed) > MAX_RUNS_PER_TICK:
        selection = with_what_follows(context, [SITE_MASTER, *MAPPING_KEYS.values(), INBOX_STRAYS, *landing_keys])
        requests = [dg.RunRequest(run_key=f"all:{state}", asset_selection=selection,
                                  tags=country_range_tags(ordered))] if ordered else []
    else:
        if len(changed) == 1:
            # What reads the landing follows in the same run. A range of one partition, not a
            # partition key: in a run of one partition, Dagster ties the checks of the
            # unpartitioned dbt models to no materialization, and the publish gate refuses them.
            requests = [dg.RunRequest(run_key=f"{changed[0]}:{state}", tags=country_range_tags(changed),
                                      asset_selection=with_what_follows(context, landing_keys))]
        else:  # a run per country; automation builds what follows once after their loads
            requests = [dg.RunRequest(run_key=f"{country}:{state}", partition_key=country,
                                      asset_selection=landing_keys) for country in changed]
        if strays_changed:
            requests.append(dg.RunRequest(run_key=f"strays:{state}", asset_selection=[INBOX_STRAYS]))
    return dg.SensorResult(run_requests=requests, dynamic_partitions_requests=partitions, cursor=new_cursor)
