"""Jobs a data engineer launches or schedules."""

import dagster as dg

# Everything, all sites in one run: the nightly build and `registry run`.
full_build_job = dg.define_asset_job(
    "registry_full_build",
    selection=dg.AssetSelection.all(),
    description="Register the inbox, load every site, dbt build (models and tests), compute the "
    "marts and publish them when every blocking check passed.",
)
