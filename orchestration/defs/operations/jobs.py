"""Jobs a data engineer launches or schedules."""

import dagster as dg

# Everything, all sites in one run: the nightly build and `registry run`.
full_build_job = dg.define_asset_job(
    "registry_full_build",
    selection=dg.AssetSelection.all(),
    description="Register the inbox, load every site, dbt build, compute and publish the marts.",
)


def all_sites_tags(site_ids: list[str]) -> dict[str, str]:
    """Run tags that target every site partition in a single run."""
    return {
        "dagster/asset_partition_range_start": site_ids[0],
        "dagster/asset_partition_range_end": site_ids[-1],
    }
