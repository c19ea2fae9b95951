"""Publishing the outcome marts where analysts work: ``marts.duckdb``, one
Parquet file per mart, ``registry_marts.xlsx``, ``report.html``, one feedback
workbook per site and ``manifest.json``, atomically, every publish kept
under ``history/`` and as-of analyses under ``as-of/<date>/`` (see ``atomic``).

Column labels, units and formats: ``columns.csv``; code labels and the site
feedback texts in seven languages: ``labels.csv`` (both read by ``present``).
"""
from .atomic import (
    AS_OF,
    HISTORY,
    MANIFEST,
    MARTS_DUCKDB,
    REPORT,
    WORKBOOK,
    PublishResult,
    format_publishes,
    list_publishes,
    publish,
)
from .site_feedback import FEEDBACK_DIR, SiteFeedback, write_site_feedback
from .warehouse_inputs import (
    follow_up_from_warehouse,
    provenance_from_warehouse,
    site_feedback_from_warehouse,
)

__all__ = ["AS_OF", "FEEDBACK_DIR", "HISTORY", "MANIFEST", "MARTS_DUCKDB", "REPORT", "WORKBOOK",
           "PublishResult", "SiteFeedback", "follow_up_from_warehouse", "format_publishes",
           "list_publishes", "provenance_from_warehouse", "publish", "site_feedback_from_warehouse",
           "write_site_feedback"]
