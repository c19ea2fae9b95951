"""One partition per site of the site master: a delivery reloads only its site.

The partitions follow the site master both ways. ``site_partition_requests`` is
the one place that decides how: the inbox sensor returns its requests, the
``registry`` command applies them.
"""

from collections.abc import Iterable, Sequence

import dagster as dg

SITE_PARTITIONS = dg.DynamicPartitionsDefinition(name="sites")

PartitionRequest = dg.AddDynamicPartitionsRequest | dg.DeleteDynamicPartitionsRequest


def site_partition_requests(existing: Iterable[str], site_ids: Iterable[str]) -> list[PartitionRequest]:
    """Requests that turn the ``existing`` partitions into exactly ``site_ids`` (new ones in order)."""
    existing, wanted = list(existing), list(dict.fromkeys(site_ids))
    add = [site for site in wanted if site not in set(existing)]
    delete = sorted(set(existing) - set(wanted))
    requests: list[PartitionRequest] = []
    if add:
        requests.append(SITE_PARTITIONS.build_add_request(add))
    if delete:
        requests.append(SITE_PARTITIONS.build_delete_request(delete))
    return requests


def apply_partition_requests(instance: dg.DagsterInstance, requests: Sequence[PartitionRequest]) -> None:
    """What a sensor's ``dynamic_partitions_requests`` would do, for the command line."""
    for request in requests:
        if isinstance(request, dg.AddDynamicPartitionsRequest):
            instance.add_dynamic_partitions(request.partitions_def_name, list(request.partition_keys))
        else:
            for key in request.partition_keys:
                instance.delete_dynamic_partition(request.partitions_def_name, key)


def all_sites_tags(site_ids: Sequence[str]) -> dict[str, str]:
    """Run tags that target every site partition (in the order they were added) in one run."""
    return {
        "dagster/asset_partition_range_start": site_ids[0],
        "dagster/asset_partition_range_end": site_ids[-1],
    }
