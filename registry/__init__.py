"""Warehouse of the intrathecal drug delivery cancer-pain registry.

The data's path: site workbook -> landing (``registry.landing``) -> dbt staging
and star schema (``dbt_project/``) -> outcome marts (``registry.marts``) ->
publish (``registry.publish``). ``orchestration/`` wires these as Dagster assets.
"""
