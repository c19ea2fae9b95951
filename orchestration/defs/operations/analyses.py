"""Jobs a data engineer launches with a little configuration: an as-of analysis, and the
release of a held delivery. The `registry` command runs the same jobs (`run --as-of`,
`deliveries release`)."""

import datetime as dt
import getpass

import dagster as dg
from dagster_dbt import DbtCliResource

from orchestration.defs.landing.assets import SITE_LOAD_KEYS
from orchestration.defs.publish.assets import publish_from_warehouse
from orchestration.defs.warehouse.assets import dbt_args, run_folder
from orchestration.resources import WAREHOUSE_POOL, WarehouseResource
from registry import warehouse as warehouse_db
from registry.config import RegistryConfig
from registry.landing.cuts import ReleaseError, release_delivery
from registry.marts import build_marts, count_disclosive

# Schemas an as-of build writes (dbt's generate_schema_name: models tagged as_of_scoped).
AS_OF_SCHEMAS = ("intermediate", "warehouse", "dq")


class AsOfConfig(dg.Config):
    as_of: str  # YYYY-MM-DD: each site's newest accepted delivery with a data cut on or before it


def as_of_date(text: str) -> str:
    try:
        return dt.date.fromisoformat(str(text).strip()).isoformat()
    except ValueError:
        raise dg.Failure(description=f"as_of must be a date written YYYY-MM-DD, not {text!r}") from None


@dg.op(pool=WAREHOUSE_POOL, description="dbt builds the star and dq from each site's newest accepted "
       "delivery on or before the date, into schemas of their own; the marts are computed from them "
       "and published under as-of/<date>/ beside the current publish (which is left as it is).")
def as_of_publish(context: dg.OpExecutionContext, config: AsOfConfig, dbt: DbtCliResource,
                  registry: RegistryConfig, warehouse: WarehouseResource) -> dg.Output:
    date = as_of_date(config.as_of)
    folder = run_folder(registry, context.run.run_id)
    args = dbt_args("build", folder, as_of=date)
    dbt.cli([*args, "--select", "tag:as_of_scoped"], target_path=folder, raise_on_error=True).wait()
    suffix = "_as_of_" + date.replace("-", "")
    swaps = {schema: schema + suffix for schema in AS_OF_SCHEMAS}
    with warehouse.get_connection() as con:
        try:
            with warehouse_db.schemas_swapped(con, swaps):
                marts = build_marts(con, small_cell_max=registry.small_cell_max)
                disclosive = count_disclosive(marts, registry.small_cell_max)
                if disclosive:
                    raise dg.Failure(description=f"Not published: the disclosure audit finds {disclosive} "
                                                 "withheld count(s) the published figures would pin down.")
                result = publish_from_warehouse(con, registry, context.run.run_id, marts=marts, as_of=date)
        finally:
            warehouse_db.drop_schemas(con, list(swaps.values()))
    context.log.info(f"As-of {date} analysis published to {result.location}")
    return dg.Output(str(result.location), metadata={
        "as_of": date, "publish_id": result.publish_id, "location": dg.MetadataValue.path(str(result.location)),
        "marts": dg.MetadataValue.json(result.row_counts)})


@dg.job(description="An as-of analysis: the marts as they were on a date (run config `as_of`), "
        "published under as-of/<date>/ with their own manifest; `registry run --as-of DATE` runs it.")
def as_of_analysis():
    as_of_publish()


class ReleaseConfig(dg.Config):
    site_id: str
    file: str  # the file name, or its path in the inbox (SITE/name.xlsx)
    released_by: str = ""


@dg.op(pool=WAREHOUSE_POOL, description="Releases a held delivery: it becomes the site's current cut "
       "(unless a newer one is), recorded with who released it and when.")
def release_held(context: dg.OpExecutionContext, config: ReleaseConfig, warehouse: WarehouseResource):
    who = config.released_by or getpass.getuser()
    with warehouse.get_connection() as con:
        try:
            release = release_delivery(con, config.site_id, config.file, released_by=who)
        except ReleaseError as exc:
            raise dg.Failure(description=str(exc)) from None
    context.log.info(f"{config.site_id}/{config.file} released by {who}")
    # The site's deliveries changed: automation rebuilds what follows them.
    yield dg.AssetMaterialization(asset_key=SITE_LOAD_KEYS["deliveries"], partition=release.country,
                                  metadata={"released": config.file, "released_by": who,
                                            "current": str(release.current_file or "")})
    yield dg.Output(None)


@dg.job(description="Release a held delivery (run config: site_id, file, released_by): a cut that "
        "drops patients becomes current once a data engineer says so; `registry deliveries release` "
        "runs it.")
def release_held_delivery():
    release_held()


OPERATION_JOBS = [as_of_analysis, release_held_delivery]
