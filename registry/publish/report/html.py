"""``report.html``: the paper-style tables and figures of the published marts,
the paper comparison and the load provenance, in one self-contained file
(inline CSS and SVG, no scripts, no external resources).

Every table and figure carries an id (``table-cohort``, ``figure-km``, ...);
``TABLE_IDS`` and ``FIGURE_IDS`` list them for tests and screenshots.
"""
from __future__ import annotations

from html import escape
from importlib import resources

import numpy as np
import pandas as pd

from . import charts

TABLE_IDS = ("table-provenance", "table-cohort", "table-cancer-types", "table-disposition",
             "table-pain", "table-eq5d", "table-infections", "table-survival",
             "table-data-quality", "table-paper")
FIGURE_IDS = ("figure-pain", "figure-km", "figure-exits", "figure-data-quality")
SUPPRESSED_MARK = "&lt;5"


def _fmt(column: str, value) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return ""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        if "p_value" in column:
            return "&lt;0.0001" if value < 0.0001 else f"{value:.4f}"
        if column.startswith(("survival", "std_error")):
            return f"{value:.3f}"
        if column.startswith("pct") or "ci_" in column:
            return f"{value:.1f}"
        if "index" in column:
            return f"{value:.3f}"
        return f"{value:.2f}"
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return escape(str(value))


def table(df: pd.DataFrame, table_id: str, columns: dict[str, str], caption: str,
          formats: dict[str, str] | None = None) -> str:
    """An HTML table of ``columns`` (column -> header); text columns left-aligned,
    suppressed cells marked, 'All' rows bold."""
    formats = formats or {}
    head = "".join(f'<th class="{"text" if df[c].dtype == object or pd.api.types.is_string_dtype(df[c]) else ""}">'
                   f"{escape(h)}</th>" for c, h in columns.items())
    body = []
    suppressed = df["suppressed"] if "suppressed" in df.columns else pd.Series(False, index=df.index)
    for idx, row in df.iterrows():
        cells = []
        for c in columns:
            v = row[c]
            text_col = pd.api.types.is_string_dtype(df[c]) or df[c].dtype == object
            if suppressed[idx] and (v is None or v is pd.NA or (isinstance(v, float) and np.isnan(v))):
                shown = SUPPRESSED_MARK
            elif c in formats and not pd.isna(v):
                shown = formats[c].format(v)
            else:
                shown = _fmt(c, v)
            cells.append(f'<td class="{"text" if text_col else ""}">{shown}</td>')
        cls = ' class="total"' if row.get("region") == "All" else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return (f'<table id="{table_id}"><caption>{escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


def _figure(figure_id: str, svg: str, caption: str) -> str:
    return f'<figure id="{figure_id}">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def _provenance(provenance: dict, publish_id: str, generated_at: str) -> str:
    items = {"data cut": provenance.get("data_cut"), "load id": provenance.get("load_id"),
             "publish id": publish_id, "generated at": provenance.get("generated_at") or generated_at,
             "published at": generated_at, "git revision": provenance.get("git_revision")}
    dl = "".join(f"<dt>{escape(k)}</dt><dd>{escape(str(v)) if v not in (None, '') else 'not recorded'}</dd>"
                 for k, v in items.items())
    deliveries = pd.DataFrame(provenance.get("deliveries") or [],
                              columns=["site_id", "file_name", "data_cut", "status"])
    for column in deliveries.columns:
        deliveries[column] = deliveries[column].astype(object)
    return (f'<dl class="provenance">{dl}</dl>'
            + table(deliveries, "table-provenance",
                    {"site_id": "site", "file_name": "file", "data_cut": "data cut",
                     "status": "status"}, "Deliveries of this load"))


def _pain_figure(pain: pd.DataFrame) -> str:
    rows = pain[pain["region"] == "All"].set_index("timepoint")
    groups = ["baseline → " + tp for tp in rows.index]
    svg = charts.grouped_bars(
        groups,
        {"baseline": [float(v) if not pd.isna(v) else None for v in rows["baseline_mean"]],
         "follow-up": [float(v) if not pd.isna(v) else None for v in rows["followup_mean"]]},
        "Mean pain (0-10) at baseline and follow-up, paired patients", "mean pain (0-10)",
        y_max=10)
    counts = ", ".join(f"{tp}: n = {int(n)}" for tp, n in zip(rows.index, rows["n_paired"]))
    return _figure("figure-pain", svg, f"Mean pain at baseline, 6 and 12 months among patients "
                                       f"with both assessments ({counts}).")


def _km_figure(survival: pd.DataFrame, at_risk: pd.DataFrame, summary: pd.DataFrame) -> str:
    svg = charts.km_curve(survival["days_since_implant"], survival["survival"],
                          survival["ci_low"], survival["ci_high"],
                          at_risk["days_since_implant"], at_risk["n_at_risk"],
                          "Kaplan-Meier survival from implant")
    median = summary.loc[summary["region"] == "All", "median_survival_days"]
    shown = "not reached" if median.empty or pd.isna(median.iloc[0]) else f"{median.iloc[0]:.0f} days"
    return _figure("figure-km", svg, "Survival from implant (Kaplan-Meier, 95% band), censored at "
                                     f"exit for other reasons or the data cut; median {shown}. "
                                     "Numbers at risk under the axis.")


def _exits_figure(disposition: pd.DataFrame) -> str:
    rows = disposition[disposition["region"] == "All"]
    svg = charts.grouped_bars(list(rows["exit_category"].str.replace("_", " ")),
                              {"patients": [float(v) for v in rows["n_patients"]]},
                              "Patients by registry exit category", "patients")
    return _figure("figure-exits", svg, "Registry exits by category, and patients still active.")


def _quality_figure(quality: pd.DataFrame) -> str:
    current = quality[quality["status"] == "current"]
    by_site = current.groupby("site_id", sort=True)[["rows_accepted", "rows_rejected"]].sum()
    svg = charts.stacked_hbars(list(by_site.index),
                               {"accepted": by_site["rows_accepted"].astype(float).tolist(),
                                "rejected": by_site["rows_rejected"].astype(float).tolist()},
                               "Rows accepted and rejected per site", "rows (current deliveries)")
    return _figure("figure-data-quality", svg, "Data quality per site: rows of the current "
                                               "delivery accepted and rejected.")


def _paper_table(comparison: pd.DataFrame | None) -> str:
    from registry.marts.paper import display_table

    if comparison is None:
        return ('<table id="table-paper"><caption>Paper comparison</caption><tbody><tr>'
                "<td>No paper targets were given to this publish.</td></tr></tbody></table>")
    shown = display_table(comparison)
    rows = "".join(
        f'<tr><td class="text">{escape(r.figure)}</td><td class="text">{escape(r.paper)}</td>'
        f'<td class="text">{escape(r.marts)}</td><td>{escape(r.rounding)}</td>'
        f'<td class="{"yes" if r.matches == "yes" else "no"}">{escape(r.matches)}</td></tr>'
        for r in shown.itertuples())
    return ('<table id="table-paper"><caption>The paper, side by side</caption><thead><tr>'
            '<th class="text">figure</th><th class="text">paper</th><th class="text">marts</th>'
            f"<th>rounding</th><th>matches</th></tr></thead><tbody>{rows}</tbody></table>")


def build_report(marts: dict[str, pd.DataFrame], provenance: dict, publish_id: str,
                 generated_at: str, comparison: pd.DataFrame | None = None) -> str:
    css = resources.files(__package__).joinpath("report.css").read_text(encoding="utf-8")
    m = marts
    change_cols = {"timepoint": "time point", "region": "region", "n_paired": "n paired",
                   "{b}": "baseline mean", "{f}": "follow-up mean", "mean_change": "mean change",
                   "sd_change": "SD of change", "ci_low": "95% CI low", "ci_high": "95% CI high",
                   "p_value": "p (paired t-test)", "wilcoxon_p_value": "p (Wilcoxon)"}

    def change(prefix: str) -> dict[str, str]:
        return {k.format(b=f"baseline{prefix}_mean", f=f"followup{prefix}_mean"): v
                for k, v in change_cols.items()}

    cancer = m["cancer_types"][m["cancer_types"]["region"] == "All"]
    sections = [
        ("Data cut and provenance", _provenance(provenance, publish_id, generated_at)),
        ("Cohort", table(m["cohort_overview"], "table-cohort", {
            "region": "region", "n_patients": "patients", "n_female": "female",
            "pct_female": "female %", "age_mean": "mean age", "age_sd": "SD",
            "age_min": "min", "age_max": "max"}, "Patients at implant, by region")),
        ("Cancer types", table(cancer, "table-cancer-types", {
            "rank": "rank", "cancer_type": "primary cancer", "n_patients": "patients",
            "pct_patients": "%", "ci_low": "95% CI low", "ci_high": "95% CI high"},
            "Primary cancer, all regions (regional rows in the cancer_types mart)")),
        ("Disposition", table(m["disposition"], "table-disposition", {
            "region": "region", "exit_category": "exit category", "n_patients": "patients",
            "pct_of_exited": "% of exited", "ci_low": "95% CI low", "ci_high": "95% CI high"},
            "Registry exit at the data cut") + _exits_figure(m["disposition"])),
        ("Pain", table(m["pain_outcomes"], "table-pain", change(""),
                       "Change in mean pain (0-10) from baseline") + _pain_figure(m["pain_outcomes"])),
        ("EQ-5D", table(m["eq5d_outcomes"], "table-eq5d", change("_index"),
                        "Change in EQ-5D index from baseline")),
        ("Infections", table(m["infection_outcomes"], "table-infections", {
            "region": "region", "n_patients": "patients",
            "n_infection_surgical": "infection needing surgery",
            "pct_infection_surgical": "%", "ci_low": "95% CI low", "ci_high": "95% CI high"},
            "Patients with an infection that required surgical intervention")),
        ("Survival", table(m["survival_summary"], "table-survival", {
            "region": "region", "n_patients": "patients", "n_deaths": "deaths",
            "median_survival_days": "median (days)", "median_ci_low": "95% CI low",
            "median_ci_high": "95% CI high", "survival_6_months": "S(6 months)",
            "survival_12_months": "S(12 months)"}, "Survival from implant",
            formats={"median_survival_days": "{:.0f}", "median_ci_low": "{:.0f}",
                     "median_ci_high": "{:.0f}", "survival_6_months": "{:.3f}",
                     "survival_12_months": "{:.3f}"})
         + _km_figure(m["survival"], m["survival_at_risk"], m["survival_summary"])),
        ("Data quality", table(m["site_data_quality"], "table-data-quality", {
            "site_id": "site", "file_name": "file", "data_cut": "data cut", "status": "status",
            "rows_received": "received", "rows_accepted": "accepted",
            "rows_rejected": "rejected", "reason": "reason"}, "Deliveries")
         + _quality_figure(m["site_data_quality"])),
        ("The paper, side by side", _paper_table(comparison)),
    ]
    body = "".join(f"<section><h2>{escape(title)}</h2>{content}</section>"
                   for title, content in sections)
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f"<title>Registry outcome report</title><style>{css}</style></head><body>"
            f"<h1>Intrathecal drug delivery registry: outcome report</h1>"
            f'<p class="note">Data cut {escape(str(provenance.get("data_cut") or "not recorded"))}. '
            f"Region and site cells of 1 to 4 patients are shown as {SUPPRESSED_MARK} "
            f"(small-cell protection); 'All' rows are exact.</p>{body}</body></html>")
