"""Outcome marts: the registry's published analysis, computed from the star
schema (``warehouse.*``) and the data-quality models (``dq.*``).

Entry points: ``build_marts`` (pure, returns DataFrames), ``write_marts``
(stores them in the warehouse's ``marts`` schema); ``registry.marts.paper``
compares the marts with the paper targets.
"""
from .build import (
           CONTRACT_MARTS,
           MART_BUILDERS,
           MART_DESCRIPTIONS,
           build_marts,
           read_marts,
           write_marts,
)
from .disclosure_audit import audit, count_disclosive

__all__ = ["CONTRACT_MARTS", "MART_BUILDERS", "MART_DESCRIPTIONS", "audit", "build_marts",
           "count_disclosive", "read_marts", "write_marts"]
