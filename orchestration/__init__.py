"""Dagster code location of the registry warehouse (see ``definitions.py``)."""
