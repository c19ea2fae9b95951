"""How dbt nodes appear in Dagster: an asset's key is [schema, name] and its group is its
schema (folder, schema and group agree: staging, intermediate, warehouse, dq, seeds);
models follow their inputs (eager) and every test runs with the model it tests."""

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

from orchestration.automation import WITH_ITS_ASSET


class RegistryDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        if props["resource_type"] == "source":
            # The landing tables are written by the landing assets under these keys.
            return spec.replace_attributes(key=dg.AssetKey([props["source_name"], props["name"]]))
        schema = props["schema"]
        # owners are set per folder in dbt_project.yml (`+meta: {owner: ...}`)
        owner = (props.get("meta") or {}).get("owner") or (props.get("config", {}).get("meta") or {}).get("owner")
        return spec.replace_attributes(
            key=dg.AssetKey([schema, props["name"]]),
            group_name=schema,
            owners=[owner] if owner else [],
            automation_condition=dg.AutomationCondition.eager(),
        ).merge_attributes(kinds={"duckdb"})

    def get_asset_check_spec(self, asset_spec, manifest, unique_id, project) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        return dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=spec.description or _test_description(manifest, unique_id),
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
            automation_condition=WITH_ITS_ASSET,
        )


def _test_description(manifest: Mapping[str, Any], unique_id: str) -> str:
    """What a dbt test checks, in words, for the check's description in the UI."""
    node = manifest["nodes"][unique_id]
    meta = node.get("test_metadata") or {}
    column = node.get("column_name")
    kwargs = {k: v for k, v in (meta.get("kwargs") or {}).items() if k not in ("model", "column_name")}
    what = meta.get("name") or node["name"]
    on = f" on `{column}`" if column else ""
    args = f" ({', '.join(f'{k}={v}' for k, v in kwargs.items())})" if kwargs else ""
    severity = (node.get("config") or {}).get("severity", "error").lower()
    return f"dbt test `{what}`{on}{args}; severity {severity}" + (" (blocks downstream)" if severity == "error" else "")
