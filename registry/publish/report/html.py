"""``report.html``: the paper-style tables and figures of the published marts,
the methods, the sites and their data cuts, what was rejected and why, and
the paper comparison, in one self-contained file (inline CSS and SVG, no
scripts, no external resources).

Labels, units and decimals come from ``columns.csv`` and ``labels.csv``
through ``registry.publish.present``, the same facts the workbook uses.
Every table and figure carries an id (``table-cohort``, ``figure-km``, ...);
``TABLE_IDS`` and ``FIGURE_IDS`` list them for tests and screenshots.
"""
from __future__ import annotations

from collections.abc import Sequence
from html import escape
from importlib import resources

import pandas as pd

from .. import present
from ..methods import methods
from ..provenance import data_cut_range, headline, site_data_cuts
from . import figures

TABLE_IDS = ("table-provenance", "table-sites-by-region", "table-sites", "table-cohort", "table-cancer-types",
             "table-disposition", "table-pain", "table-eq5d", "table-infections",
             "table-survival", "table-data-quality", "table-rejected-files",
             "table-rejection-reasons", "table-unmapped-terms", "table-paper")
FIGURE_IDS = ("figure-exits", "figure-pain", "figure-change", "figure-km", "figure-data-quality")
# A national registry lists thousands of sites and deliveries: tables longer than this
# are folded (a click opens them), so that the outcome tables stay within reach.
LONG_TABLE_ROWS = 100


def _header_html(c: present.Column, label: str | None = None) -> str:
    """A header with its unit kept on one line: ``Mean pain, baseline (0-10)``."""
    label = c.label if label is None else label
    unit = c.header[len(c.label):].strip()
    return escape(label) + (f' <span class="unit">{escape(unit)}</span>' if unit else "")


def _range_header(low: present.Column) -> str:
    """``Mean change, 95% CI (0-10)`` from the lower bound's label and unit."""
    return _header_html(low, low.label.replace(" lower", ""))


def mart_table(mart: str, df: pd.DataFrame, columns: Sequence, table_id: str, caption: str,
               small_cell_max: int, empty: str = "None.") -> str:
    """An HTML table of ``columns`` of a mart, headers and values as
    ``columns.csv`` says; a ``(low, high)`` pair is one interval column
    (``0.040 to 0.160``); suppressed cells marked; all-regions rows bold."""
    items = []
    for item in columns:
        names = item if isinstance(item, tuple) else (item,)
        if all(n in df.columns for n in names):
            items.append(tuple(present.column(mart, n) for n in names))
    head = "".join(
        f'<th class="{"num" if specs[0].numeric else "text"}" scope="col">'
        f"{_range_header(specs[0]) if len(specs) == 2 else _header_html(specs[0])}</th>"
        for specs in items)
    suppressed = (df["suppressed"].fillna(False).astype(bool) if "suppressed" in df.columns
                  else pd.Series(False, index=df.index))
    shows_region = any(spec.name == "region" for specs in items for spec in specs)
    body = []
    # records, not iterrows: a national registry's sites table has thousands of rows
    for row, row_suppressed in zip(df.to_dict("records"), suppressed.tolist()):
        row_suppressed = bool(row_suppressed)
        cells = []
        for specs in items:
            states = [present.suppression_state(s, row[s.name], row_suppressed) for s in specs]
            texts = [present.cell_text(s, row[s.name], row_suppressed, small_cell_max)
                     for s in specs]
            if len(specs) == 2:
                shown = (present.NOT_AVAILABLE if any(states) or present.NOT_AVAILABLE in texts
                         else f"{texts[0]} to {texts[1]}")
            else:
                shown = texts[0]
            classes = ["num" if specs[0].numeric else "text", f"c-{specs[0].name}"]
            if any(states):
                classes.append("mark")
            cells.append(f'<td class="{" ".join(classes)}">{escape(shown)}</td>')
        total = shows_region and row.get("region") == "All"
        cls = ' class="total"' if total else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    if not body:
        body.append(f'<tr><td class="text empty" colspan="{max(len(items), 1)}">'
                    f"{escape(empty)}</td></tr>")
    return (f'<div class="table"><table id="{table_id}"><caption>{escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>")


def text_table(df: pd.DataFrame, table_id: str, caption: str, numeric: Sequence[str] = (),
               empty: str = "None.") -> str:
    """A table of text already formatted (headers are the frame's columns)."""
    head = "".join(f'<th class="{"num" if c in numeric else "text"}" scope="col">{escape(str(c))}</th>'
                   for c in df.columns)
    rows = ["<tr>" + "".join(f'<td class="{"num" if c in numeric else "text"}">{escape(str(v))}</td>'
                             for c, v in zip(df.columns, r)) + "</tr>"
            for r in df.itertuples(index=False, name=None)]
    if not rows:
        rows = [f'<tr><td class="text empty" colspan="{max(len(df.columns), 1)}">'
                f"{escape(empty)}</td></tr>"]
    return (f'<div class="table"><table id="{table_id}"><caption>{escape(caption)}</caption>'
            f"<thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>")


def _figure(figure_id: str, svg: str, caption: str) -> str:
    return f'<figure id="{figure_id}">{svg}<figcaption>{escape(caption)}</figcaption></figure>'


def _provenance_table(provenance: dict, info: dict, small_cell_max: int) -> str:
    kind = "as-of analysis" if info.get("as_of") else "current publish"
    items = [("Publish", f"{info['publish_id']} ({kind})"),
             ("Published", present.timestamp(info["published_at"])),
             ("As of", info.get("as_of") or "–"),
             ("Data cuts", headline(info["cut_range"], provenance.get("data_cut"))),
             ("Load", provenance.get("load_id") or "not recorded"),
             ("Generated", present.timestamp(provenance.get("generated_at") or info["published_at"])),
             ("Code revision", provenance.get("git_revision") or "not recorded"),
             ("Small-cell bound", str(small_cell_max) if small_cell_max > 0 else "none")]
    rows = "".join(f'<tr><th scope="row" class="text">{escape(k)}</th>'
                   f'<td class="text">{escape(str(v))}</td></tr>' for k, v in items)
    return (f'<div class="table"><table id="table-provenance" class="facts"><caption>This publish'
            f"</caption><tbody>{rows}</tbody></table></div>")


def folded(table_html: str, n_rows: int, what: str) -> str:
    """The table as it is, or folded under a line saying what it holds when it is long."""
    if n_rows <= LONG_TABLE_ROWS:
        return table_html
    return (f'<details class="long-table"><summary>{escape(what)}: {n_rows:,} rows (open to read)'
            f"</summary>{table_html}</details>")


def _region_summary(cuts: pd.DataFrame) -> str:
    """Sites, the range of their data cuts and their rows, by region (then all regions)."""
    columns = ["Region", "Sites", "Earliest data cut", "Latest data cut", "Rows received",
               "Rows accepted", "Rows rejected"]
    counts = ["rows_received", "rows_accepted", "rows_rejected"]
    frame = cuts.assign(region=cuts["region"].fillna("Not recorded"),
                        **{c: pd.to_numeric(cuts[c], errors="coerce") for c in counts})

    def line(name: str, part: pd.DataFrame) -> list[str]:
        known = part["data_cut"].dropna()
        return [name, f"{part['site_id'].nunique():,}", min(known) if len(known) else "–",
                max(known) if len(known) else "–",
                *(f"{int(part[c].sum()):,}" if part[c].notna().any() else "–" for c in counts)]

    rows = [line(str(region), part) for region, part in frame.groupby("region", sort=True)]
    if len(rows) > 1:
        rows.append(line("All", frame))
    return text_table(pd.DataFrame(rows, columns=columns), "table-sites-by-region",
                      "Sites and their current data cuts, by region", numeric=columns[1:2] + columns[4:],
                      empty="No current delivery.")


def _sites_table(cuts: pd.DataFrame, small_cell_max: int) -> str:
    return folded(mart_table("site_data_quality", cuts,
                             ["site_id", "region", "file_name", "data_cut", "rows_received",
                              "rows_accepted", "rows_rejected"],
                             "table-sites", "Sites and their data cuts (current delivery of each site)",
                             small_cell_max, empty="No current delivery."),
                  len(cuts), "Every site and its current delivery")


def _methods_section(small_cell_max: int, km_notes: dict) -> str:
    items = methods(small_cell_max, km_min_events=km_notes.get("min_events"),
                    regional_curves=bool(km_notes.get("regions_drawn")))
    return ('<dl id="methods" class="methods">'
            + "".join(f"<dt>{escape(t)}</dt><dd>{escape(d)}</dd>" for t, d in items) + "</dl>")


def _rejected_files(quality: pd.DataFrame | None) -> str:
    if quality is None or "status" not in quality.columns:
        frame = pd.DataFrame(columns=["site_id", "file_name", "data_cut", "status", "reason"])
    else:
        frame = quality[~quality["status"].isin(["current", "superseded"])]
    return folded(mart_table("site_data_quality", frame,
                             ["site_id", "file_name", "data_cut", "status", "reason"],
                             "table-rejected-files", "Files not used, and why", 0,
                             empty="Every delivered file was used."),
                  len(frame), "Files not used")


def _rejection_reasons(reasons: pd.DataFrame | None) -> str:
    frame = reasons if reasons is not None else pd.DataFrame(
        columns=["site_id", "file_name", "sheet_kind", "reason", "n_rows"])
    return folded(mart_table("site_rejection_reasons", frame,
                             ["site_id", "file_name", "sheet_kind", "reason", "n_rows"],
                             "table-rejection-reasons",
                             "Rejected rows of the current deliveries, by reason (a row with two "
                             "reasons counts under both)", 0, empty="No row was rejected."),
                  len(frame), "Rejected rows by site, file and reason")


def _unmapped_terms(site_feedback) -> str:
    if site_feedback is None:
        return text_table(pd.DataFrame(columns=["Site", "Field", "Term as written", "Rows",
                                                "Suggested code"]),
                          "table-unmapped-terms", "Terms no code list knows", numeric=["Rows"],
                          empty="Not supplied to this publish.")
    rows = []
    for fb in site_feedback:
        terms = fb.unmapped_terms
        if terms is None or terms.empty:
            continue
        for r in terms.to_dict("records"):
            rows.append({"Site": fb.site_id,
                         "Field": present.label("concept", r.get("concept")),
                         "Term as written": str(r.get("term", "")),
                         "Rows": f"{int(r.get('n_rows') or 0):,}",
                         "Suggested code": str(r.get("suggestion") or "–")})
    frame = pd.DataFrame(rows, columns=["Site", "Field", "Term as written", "Rows",
                                        "Suggested code"])
    return folded(text_table(frame, "table-unmapped-terms",
                             "Terms no code list knows (counted as not reported, never guessed)",
                             numeric=["Rows"], empty="Every term was recognised."),
                  len(frame), "Unrecognised terms by site")


def _paper_table(comparison: pd.DataFrame | None) -> str:
    from registry.marts.paper import display_table

    if comparison is None:
        return ('<table id="table-paper"><caption>Paper comparison</caption><tbody><tr>'
                '<td class="text">No paper targets were given to this publish.</td></tr></tbody></table>')
    shown = display_table(comparison)
    rows = "".join(
        f'<tr><td class="text">{escape(r.figure)}</td><td class="text">{escape(r.paper)}</td>'
        f'<td class="text">{escape(r.marts)}</td><td class="num">{escape(r.rounding)}</td>'
        f'<td class="{"yes" if r.matches == "yes" else "no"}">{escape(r.matches)}</td></tr>'
        for r in shown.itertuples())
    return ('<div class="table"><table id="table-paper"><caption>The paper, side by side</caption><thead><tr>'
            '<th class="text">Figure</th><th class="text">Paper</th><th class="text">Marts</th>'
            f'<th class="num">Rounding</th><th>Matches</th></tr></thead><tbody>{rows}</tbody></table></div>')


def _km_caption(summary: pd.DataFrame, notes: dict, small_cell_max: int) -> str:
    median = summary.loc[summary["region"] == "All", "median_survival_days"]
    shown = ("not reached" if median.empty or pd.isna(median.iloc[0])
             else f"{int(median.iloc[0]):,} days")
    end = (f"to the last follow-up at day {int(notes['end_day']):,}" if notes["exact_censoring"]
           else f"to the last tick with patients at risk, day {int(notes['end_day']):,}")
    parts = [f"Survival from implant, all regions (Kaplan-Meier, shaded 95% band), {end}; "
             f"median {shown}."]
    parts.append("Ticks mark censored patients"
                 + ("." if notes["exact_censoring"] else
                    " (placed within the interval between death times the published table gives)."))
    if notes["regions_drawn"]:
        parts.append(f"Regional curves on a monthly grid, each step resting on at least "
                     f"{notes['min_events']} deaths (see Methods).")
    if notes["regions_not_drawn"]:
        parts.append("Not drawn (too few deaths per step): "
                     + ", ".join(notes["regions_not_drawn"]) + ".")
    parts.append("Numbers at risk under the ticks.")
    return " ".join(parts)


def build_report(marts: dict[str, pd.DataFrame], provenance: dict, publish_id: str,
                 generated_at: str, comparison: pd.DataFrame | None = None, *,
                 small_cell_max: int = 4, follow_up: pd.DataFrame | None = None,
                 site_feedback=None, as_of: str | None = None) -> str:
    """The report as one HTML string. ``generated_at`` is the publish time;
    ``follow_up`` (region, days, died per patient; optional) draws regional
    Kaplan-Meier curves under the rule of the methods; ``site_feedback``
    (optional ``SiteFeedback`` list) supplies the unmapped terms."""
    css = resources.files(__package__).joinpath("report.css").read_text(encoding="utf-8")
    m = marts
    cuts = site_data_cuts(m, provenance)
    cut_range = data_cut_range(cuts)
    info = {"publish_id": publish_id, "published_at": generated_at, "as_of": as_of,
            "cut_range": cut_range}
    k = small_cell_max
    def change(b: str, f: str) -> list:
        return ["timepoint", "region", "n_paired", b, f, "mean_change", ("ci_low", "ci_high"),
                "sd_change", "p_value", "wilcoxon_p_value"]

    km_svg, km_notes = figures.km_figure(
        m["survival"], m["survival_at_risk"], small_cell_max=k, follow_up=follow_up,
        title="Survival from implant")
    cancer = m["cancer_types"][m["cancer_types"]["region"] == "All"]
    quality = m.get("site_data_quality")
    sections = [
        ("publish", "Publish and data cuts",
         _provenance_table(provenance, info, k) + _region_summary(cuts) + _sites_table(cuts, k)),
        ("methods-section", "Methods", _methods_section(k, km_notes)),
        ("cohort", "Cohort", mart_table("cohort_overview", m["cohort_overview"], [
            "region", "n_patients", "n_female", "pct_female",
            ("pct_female_ci_low", "pct_female_ci_high"), "age_mean", "age_sd", "age_median", "age_min", "age_max",
            "n_sites"], "table-cohort", "Patients at implant, by region", k)),
        ("cancer-types", "Primary cancer", mart_table("cancer_types", cancer, [
            "rank", "cancer_type", "n_patients", "pct_patients", ("ci_low", "ci_high")],
            "table-cancer-types", "Primary cancer, all regions (regional rows in the workbook)", k)),
        ("disposition", "Registry exit", mart_table("disposition", m["disposition"], [
            "region", "exit_category", "n_patients", "pct_of_exited", ("ci_low", "ci_high"),
            "pct_of_patients"], "table-disposition", "Registry exit at the data cut", k)
         + _figure("figure-exits", figures.exits_figure(
             m["disposition"], "Registry exit at the data cut, all regions"),
             "Patients by registry exit category at their site's data cut, all regions; "
             "percentages of all patients.")),
        ("pain", "Pain", mart_table("pain_outcomes", m["pain_outcomes"],
                                    change("baseline_mean", "followup_mean"), "table-pain",
                                    "Change in pain (0-10) from baseline, paired patients", k)
         + _figure("figure-pain", figures.pain_figure(
             m["pain_outcomes"], "Mean pain at baseline and follow-up"),
             "Mean pain (0-10) at baseline and at the time point among patients with both "
             "assessments, all regions.")),
        ("eq5d", "EQ-5D", mart_table("eq5d_outcomes", m["eq5d_outcomes"],
                                     change("baseline_index_mean", "followup_index_mean"),
                                     "table-eq5d",
                                     "Change in EQ-5D index from baseline, paired patients", k)
         + _figure("figure-change", figures.change_figure(
             m["pain_outcomes"], m["eq5d_outcomes"], "Mean change from baseline with 95% CI"),
             "Mean change from baseline with its 95% confidence interval, all regions (dark) "
             "and by region; rows with withheld cells are left out. Pain: below 0 is less "
             "pain; EQ-5D index: above 0 is better health.")),
        ("infections", "Infections", mart_table("infection_outcomes", m["infection_outcomes"], [
            "region", "n_patients", "n_infection_surgical", "pct_infection_surgical",
            ("ci_low", "ci_high")], "table-infections",
            "Patients with an infection that required surgical intervention", k)),
        ("survival", "Survival", mart_table("survival_summary", m["survival_summary"], [
            "region", "n_patients", "n_deaths", "n_censored", "median_survival_days",
            ("median_ci_low", "median_ci_high"), "survival_6_months", "survival_12_months"],
            "table-survival", "Survival from implant", k)
         + _figure("figure-km", km_svg, _km_caption(m["survival_summary"], km_notes, k))),
        ("data-quality", "Data quality",
         (folded(mart_table("site_data_quality", quality, [
             "site_id", "file_name", "data_cut", "status", "rows_received", "rows_accepted",
             "rows_rejected", "pct_rejected"], "table-data-quality",
             "Every delivery, with its status", 0), len(quality), "Every delivery and its status")
          if quality is not None else "")
         + _rejected_files(quality)
         + _rejection_reasons(m.get("site_rejection_reasons"))
         + _unmapped_terms(site_feedback)
         + (_figure("figure-data-quality", figures.quality_figure(
             quality, "Rows accepted and rejected per site"),
             "Rows of each site's current delivery, accepted and rejected.")
            if quality is not None else "")),
        ("paper", "The paper, side by side", _paper_table(comparison)),
    ]
    nav = "".join(f'<li><a href="#{sid}">{escape(title)}</a></li>' for sid, title, _ in sections)
    body = "".join(f'<section id="{sid}"><h2>{escape(title)}</h2>{content}</section>'
                   for sid, title, content in sections)
    as_of_note = (f" As-of analysis: data as of {escape(as_of)}." if as_of else "")
    return (f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f"<title>Registry outcome report</title><style>{css}</style></head><body>"
            f"<header><h1>Intrathecal drug delivery registry: outcome report</h1>"
            f'<p class="headline">{escape(present.sentence_case(headline(cut_range, provenance.get("data_cut"))))}; '
            f"published {escape(present.timestamp(generated_at))} (publish {escape(publish_id)})."
            f"{as_of_note}</p>"
            f'<p class="note">{escape(present.suppression_legend(k))}</p>'
            f'<nav><ol>{nav}</ol></nav></header>{body}</body></html>')
