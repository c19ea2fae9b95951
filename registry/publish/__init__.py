"""Publishing the outcome marts where analysts work: ``marts.duckdb``, one
Parquet file per mart, ``registry_marts.xlsx``, ``report.html`` and
``manifest.json``, atomically (see ``atomic``)."""
from .atomic import MANIFEST, MARTS_DUCKDB, REPORT, WORKBOOK, PublishResult, publish

__all__ = ["MANIFEST", "MARTS_DUCKDB", "REPORT", "WORKBOOK", "PublishResult", "publish"]
