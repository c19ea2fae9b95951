"""The HTML report of a publish."""
from .html import FIGURE_IDS, TABLE_IDS, build_report

__all__ = ["FIGURE_IDS", "TABLE_IDS", "build_report"]
