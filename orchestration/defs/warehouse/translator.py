"""How dbt nodes appear in Dagster: keys by schema, groups by layer, eager automation."""
from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings

# The site master and the delivery register are written by every ingest run; the
# landing tables only when a delivery changed them. Models follow the latter.
EAGER_AFTER_LOADS = dg.AutomationCondition.eager().ignore(
    dg.AssetSelection.assets(dg.AssetKey(["landing", "site_master"]), dg.AssetKey(["landing", "deliveries"]))
)

# dbt folder (first fqn part after the project) -> Dagster group of the asset graph.
GROUP_BY_FOLDER = {
    "staging": "staging",
    "intermediate": "warehouse",
    "warehouse": "warehouse",
    "dq": "warehouse",
}


class RegistryDbtTranslator(DagsterDbtTranslator):
    def __init__(self) -> None:
        super().__init__(settings=DagsterDbtTranslatorSettings(enable_asset_checks=True))

    def get_asset_spec(self, manifest: Mapping[str, Any], unique_id: str, project) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        props = self.get_resource_props(manifest, unique_id)
        resource_type = props["resource_type"]
        if resource_type == "source":
            # The landing tables are written by the ingest assets under these keys.
            return spec.replace_attributes(key=dg.AssetKey([props["source_name"], props["name"]]))
        folder = props["fqn"][1] if len(props["fqn"]) > 2 else "staging"
        group = "staging" if resource_type == "seed" else GROUP_BY_FOLDER.get(folder, "warehouse")
        schema = props.get("schema") or group
        return spec.replace_attributes(
            key=dg.AssetKey([schema, props["name"]]),
            group_name=group,
            owners=["team:data-engineering"],
            automation_condition=EAGER_AFTER_LOADS,
        ).merge_attributes(kinds={"duckdb"})
