"""Warehouse of the intrathecal drug delivery cancer-pain registry.

The data's path: site workbook -> landing (``registry.ingest``) -> dbt staging
and star schema (``dbt_project/``) -> outcome marts (``registry.outcomes``) ->
publish (``registry.publish``). ``orchestration/`` wires these as Dagster assets.
"""
