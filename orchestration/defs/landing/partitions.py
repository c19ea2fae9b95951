"""One partition per country of the site master: a delivery reloads only its country.

A country is the unit the registry is run by (one language, one date habit, one
national coordinator), and a run over a country reads only its new files: the other
sites' files are unchanged by ``stat`` and skipped. Partitions per site would cost
Dagster one event per site and landing table on every run: at 2,500 sites the event
log, not the reading, would take the time. Each site's loads stay visible in the
warehouse (``landing.deliveries``, by run id) and in ``registry status``.

The partitions follow the site master both ways. ``country_partition_requests`` is
the one place that decides how: the inbox sensor returns its requests, the
``registry`` command applies them.
"""

from collections.abc import Iterable, Mapping, Sequence

import dagster as dg

COUNTRY_PARTITIONS = dg.DynamicPartitionsDefinition(name="countries")

PartitionRequest = dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest


def countries_of(site_countries: Mapping[str, str], site_ids: Iterable[str]) -> list[str]:
    """The countries of ``site_ids`` (site -> country from the site master), sorted."""
    return sorted({site_countries[s] for s in site_ids if s in site_countries})


def country_partition_requests(existing: Iterable[str], countries: Iterable[str]) -> list[PartitionRequest]:
    """Requests that turn the ``existing`` partitions into exactly ``countries`` (new ones sorted)."""
    existing, wanted = list(existing), sorted(set(countries))
    add = [country for country in wanted if country not in set(existing)]
    delete = sorted(set(existing) - set(wanted))
    requests: list[PartitionRequest] = []
    if add:
        requests.append(COUNTRY_PARTITIONS.build_add_request(add))
    if delete:
        requests.append(COUNTRY_PARTITIONS.build_delete_request(delete))
    return requests


def apply_partition_requests(instance: dg.DagsterInstance, requests: Sequence[PartitionRequest]) -> None:
    """What a sensor's ``dynamic_partitions_requests`` would do, for the command line."""
    for request in requests:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


def country_range_tags(countries: Sequence[str]) -> dict[str, str]:
    """Run tags that target the partitions from the first of ``countries`` to the last (in the
    order they were added) in one run."""
    return {
        "dagster/asset_partition_range_start": countries[0],
        "dagster/asset_partition_range_end": countries[-1],
    }
