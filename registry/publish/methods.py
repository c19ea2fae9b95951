"""The methods of a publish, as text the report and the workbook both show.

The facts come from where they are kept: visit windows and EQ-5D value sets
from the dbt seeds (the warehouse computes with the same files), the
small-cell bound from the caller, the Kaplan-Meier drawing rule from the
figure code.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from registry.config import DBT_PROJECT_DIR

SEEDS = DBT_PROJECT_DIR / "seeds"


def _seed(name: str, seeds_dir: Path | None) -> pd.DataFrame | None:
    path = Path(seeds_dir or SEEDS) / name
    return pd.read_csv(path, dtype=str, keep_default_na=False) if path.is_file() else None


def _windows_text(windows: pd.DataFrame | None) -> str:
    if windows is None or windows.empty:
        return "Visit windows: as configured in the warehouse (not available to this publish)."
    rows = windows[windows["is_analysis_window"].str.lower().eq("true")] \
        if "is_analysis_window" in windows.columns else windows
    parts = [f"{r['visit_window']}: {r['description'][:1].lower()}{r['description'][1:]} "
             f"(days {r['min_day']} to {r['max_day']} from implant)"
             for r in rows.to_dict("records")]
    return ("Visit windows: " + "; ".join(parts) + ". Per patient and window the visit closest "
            "to the window's target day is analysed (ties: the earlier visit).")


def _value_sets_text(value_sets: pd.DataFrame | None) -> str:
    if value_sets is None or value_sets.empty:
        return "EQ-5D index: the value sets configured in the warehouse."
    parts = [f"EQ-5D-{r['eq5d_version']} with the {r['value_set']} value set ({r['source']})"
             for r in value_sets.to_dict("records")]
    return ("EQ-5D index: " + "; ".join(parts) + ". Each site reports one version; the index is "
            "rounded to 3 decimals per assessment.")


def methods(small_cell_max: int, *, km_min_events: int | None = None,
            regional_curves: bool = False, seeds_dir: Path | None = None) -> list[tuple[str, str]]:
    """(topic, text) pairs describing how the published figures were made."""
    k = small_cell_max + 1
    km_min_events = km_min_events or k
    if small_cell_max > 0:
        suppression = (
            f"Counts of 1 to {small_cell_max} patients in region rows are withheld, with every "
            "figure derived from them (percentages, intervals, means, tests). Further counts are "
            "withheld (complementary suppression) until no withheld count can be worked out from "
            "the published figures: region rows adding up to the exact all-regions rows, "
            "categories adding up to a region's patients, complements (men, patients without "
            "infection, survivors) and totals repeated in other tables; an audit by linear "
            "programming checks every withheld count before publishing. Every withheld count "
            f"shows <{k}*, small or not. Rows for all regions are exact; delivery row counts "
            "(data quality) are not patient cells and are not suppressed. The bound is "
            f"configured per publish (here {small_cell_max}).")
    else:
        suppression = "No small-cell suppression was configured for this publish (bound 0)."
    regional = (
        "Regional curves are drawn on a monthly grid: a region's curve steps down at a month "
        f"boundary only once at least {km_min_events} deaths have gathered since its previous "
        f"step, and ends at the last tick with at least {km_min_events} patients at risk; "
        f"regional numbers at risk of 1 to {km_min_events - 1} are shown as <{km_min_events}, "
        "and regional censoring marks are not drawn. A region with no such step is not drawn. "
        "Regional medians and landmarks are in the survival table."
        if regional_curves else
        "The published curve is the whole cohort; regional medians and landmarks are in the "
        "survival table (regional curves need per-patient follow-up, which this publish did "
        "not receive).")
    return [
        ("Data", "Each site delivers cumulative workbooks; the latest (current) delivery of each "
                 "site is analysed, so sites contribute up to their own data cut (see the table "
                 "of sites). Rows failing a validity rule are rejected and listed by reason."),
        ("Visit windows", _windows_text(_seed("visit_windows.csv", seeds_dir))),
        ("Pain", "Pain on a 0 to 10 scale (NRS-11 as reported; VAS 0 to 100 mm divided by 10)."),
        ("EQ-5D", _value_sets_text(_seed("eq5d_value_set_constants.csv", seeds_dir))),
        ("Change from baseline",
         "Patients with the measure at baseline and at the time point (paired). Change is "
         "follow-up minus baseline. Mean change with a 95% confidence interval from the t "
         "distribution; primary test the two-sided paired t-test, with the Wilcoxon "
         "signed-rank test alongside. Fewer than two pairs, or no variation, give no statistics."),
        ("Proportions", "Percentages with 95% Wilson score intervals."),
        ("Survival",
         "Kaplan-Meier estimate of time from implant to death; patients who left the registry "
         "for another reason are censored at their exit, patients still followed at their "
         "site's data cut. Pointwise 95% confidence band from Greenwood's variance on the "
         "log(-log) scale. Median survival is the first time the estimate is 0.5 or below; its "
         "interval is read off the band. " + regional),
        ("Small cells", suppression),
        ("Presentation",
         "EQ-5D index, its change and interval at 3 decimals; pain at 2; percentages at 1; "
         "p-values at 4 decimals, smaller ones as <0.0001 (scientific notation in the "
         "workbook); a value that rounds to zero is shown as 0. Dates as YYYY-MM-DD. The "
         "published tables (marts.duckdb, Parquet) keep full precision and codes; the report "
         "and the workbook show labels."),
    ]
