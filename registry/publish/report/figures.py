"""The report's figures, drawn with matplotlib and inlined as SVG text.

No pyplot and no global state: each figure is a ``matplotlib.figure.Figure``
saved to an in-memory buffer with the SVG backend. Text stays text
(``svg.fonttype = none``), so the file stays small and the labels can be read
and searched; every id inside an SVG gets the figure's prefix, so several
figures live in one HTML page without clashing ids.

Kaplan-Meier figure
-------------------
The whole-cohort curve is the published ``survival`` mart (every death time),
with its 95% band, drawn to the last follow-up, with censoring marks and the
numbers at risk under the ticks. Regional curves are drawn only from
per-patient follow-up handed to the report (never written anywhere), on a
coarsened grid: ``regional_steps`` puts a step at a month boundary only once
at least ``small_cell_max + 1`` deaths have gathered since the previous step,
and ends the curve at the last tick where at least ``small_cell_max + 1``
patients are at risk; regional numbers at risk of 1 to ``small_cell_max``
show as ``<N``. A region with no such step is not drawn.
"""
from __future__ import annotations

import functools
import io
import re
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from registry.marts.stats import kaplan_meier

from .. import present

if TYPE_CHECKING:
    from matplotlib.figure import Figure

DAYS_PER_MONTH = 30.4375
PALETTE = ["#1f4e79", "#d9822b", "#3a8d5c", "#b33a3a", "#7a5ea8", "#6b6b6b"]
COHORT_COLOUR = "#222222"
FONT = {"font.size": 10, "axes.titlesize": 11, "axes.labelsize": 10, "xtick.labelsize": 9.5,
        "ytick.labelsize": 9.5, "legend.fontsize": 9.5, "svg.fonttype": "none",
        "font.family": "DejaVu Sans", "axes.spines.top": False, "axes.spines.right": False}


def to_svg(fig: Figure, prefix: str, title: str) -> str:
    """The figure as an ``<svg>`` element: no XML prolog, ids prefixed, scalable."""
    import matplotlib

    buffer = io.StringIO()
    with matplotlib.rc_context({**FONT, "svg.hashsalt": prefix}):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None})
    svg = buffer.getvalue()
    svg = svg[svg.index("<svg"):]
    svg = re.sub(r"<metadata>.*?</metadata>\s*", "", svg, flags=re.S)
    svg = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{prefix}-{m.group(1)}"', svg)
    svg = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{prefix}-{m.group(1)})", svg)
    # Scale with the page: the viewBox keeps the aspect ratio.
    svg = re.sub(r'<svg ([^>]*?)width="([\d.]+)pt" height="([\d.]+)pt"',
                 lambda m: (f'<svg {m.group(1)}width="{float(m.group(2)) * 4 / 3:.0f}" '
                            f'height="{float(m.group(3)) * 4 / 3:.0f}" role="img" '
                            f'aria-label="{_attr(title)}"'), svg, count=1)
    return svg.replace(">", f"><title>{_text(title)}</title>", 1).strip()


def _attr(value: str) -> str:
    return value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;")


def _text(value: str) -> str:
    return value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _styled(draw):
    """Run a drawing function under the report's style: artists read the
    style when they are created, so the whole drawing runs in the context."""
    @functools.wraps(draw)
    def wrapper(*args, **kwargs):
        # matplotlib is imported where it is used: the code location loads without it, and
        # a run imports it while dbt builds (orchestration/defs/warehouse/assets.py).
        import matplotlib

        with matplotlib.rc_context(FONT):
            return draw(*args, **kwargs)
    return wrapper


# --- Kaplan-Meier -------------------------------------------------------------

def step_value(days: np.ndarray, survival: np.ndarray, at: np.ndarray) -> np.ndarray:
    """S(t) of a right-continuous step curve at times ``at`` (1 before the first step)."""
    idx = np.searchsorted(days, at, side="right") - 1
    return np.where(idx >= 0, survival[np.clip(idx, 0, None)], 1.0)


def regional_steps(days, died, min_events: int) -> pd.DataFrame:
    """A region's Kaplan-Meier curve on a monthly grid, each step resting on
    at least ``min_events`` deaths, ending at the last month boundary with at
    least ``min_events`` patients at risk. Columns: day, survival."""
    t = np.asarray(days, dtype=float)
    e = np.asarray(died, dtype=bool)
    if t.size == 0:
        return pd.DataFrame({"day": [0.0], "survival": [1.0]})
    km = kaplan_meier(t, e)
    sorted_t = np.sort(t)
    grid = np.arange(0, np.floor(t.max() / DAYS_PER_MONTH) + 1) * DAYS_PER_MONTH
    at_risk = t.size - np.searchsorted(sorted_t, grid, side="left")
    deaths_by = np.searchsorted(np.sort(t[e]), grid, side="right")  # deaths at or before
    surv = step_value(km["days_since_implant"], km["survival"], grid)
    last = int(np.flatnonzero(at_risk >= min_events).max()) if (at_risk >= min_events).any() else 0
    points_day, points_s = [0.0], [1.0]
    previous_deaths = 0
    for j in range(1, last + 1):
        if deaths_by[j] - previous_deaths >= min_events:
            points_day.append(float(grid[j]))
            points_s.append(float(surv[j]))
            previous_deaths = int(deaths_by[j])
    if points_day[-1] < grid[last]:
        points_day.append(float(grid[last]))
        points_s.append(points_s[-1])
    return pd.DataFrame({"day": points_day, "survival": points_s})


def time_axis(end_day: float) -> tuple[np.ndarray, str, list[str]]:
    """Tick months, axis label and tick labels: every 6 months up to 3 years,
    then every year."""
    end_months = end_day / DAYS_PER_MONTH
    if end_months <= 36:
        months = np.arange(0, end_months + 1e-9, 6)
        return months, "Months since implant", [f"{int(m)}" for m in months]
    months = np.arange(0, end_months + 1e-9, 12)
    return months, "Years since implant", [f"{int(m // 12)}" for m in months]


def tick_days(months: np.ndarray) -> np.ndarray:
    """Days of tick months, as ``survival_at_risk`` rounds them."""
    return np.round(months * DAYS_PER_MONTH).astype("int64")


def at_risk_at(days, ticks: np.ndarray) -> np.ndarray:
    t = np.sort(np.asarray(days, dtype=float))
    return t.size - np.searchsorted(t, ticks, side="left")


@_styled
def km_figure(survival: pd.DataFrame, at_risk: pd.DataFrame, *, small_cell_max: int,
              follow_up: pd.DataFrame | None = None, title: str) -> tuple[str, dict]:
    """The Kaplan-Meier figure and what it shows (for the caption): end day,
    regions drawn and not drawn, whether censoring marks are exact."""
    min_events = max(small_cell_max, 0) + 1
    days = survival["days_since_implant"].to_numpy(dtype=float)
    s = survival["survival"].to_numpy(dtype=float)
    low = survival["ci_low"].to_numpy(dtype=float)
    high = survival["ci_high"].to_numpy(dtype=float)
    has_follow_up = follow_up is not None and len(follow_up) > 0
    if has_follow_up:
        fu_days = follow_up["days"].to_numpy(dtype=float)
        fu_died = follow_up["died"].to_numpy(dtype=bool)
        end_day = float(fu_days.max())
    else:
        positive = at_risk.loc[at_risk["n_at_risk"] > 0, "days_since_implant"]
        end_day = float(max(days.max() if days.size else 0.0,
                            positive.max() if len(positive) else 0.0, 1.0))
    months, x_label, tick_labels = time_axis(end_day)
    ticks = tick_days(months)

    # Whole-cohort numbers at risk: the published mart where it has the tick.
    published = dict(zip(at_risk["days_since_implant"].astype(int), at_risk["n_at_risk"].astype(int)))
    if has_follow_up:
        cohort_risk = at_risk_at(fu_days, ticks)
    else:
        cohort_risk = np.array([published.get(int(d), np.nan) for d in ticks], dtype=float)
    rows = [(present.label("region", "All"), COHORT_COLOUR,
             [("" if np.isnan(n) else f"{int(n):,}") for n in np.asarray(cohort_risk, dtype=float)])]

    regions_drawn, regions_not_drawn = [], []
    curves = []
    if has_follow_up and "region" in follow_up.columns:
        for i, (region, group) in enumerate(sorted(follow_up.groupby("region"), key=lambda g: g[0])):
            steps = regional_steps(group["days"], group["died"], min_events)
            if len(steps) <= 2 and steps["survival"].iloc[-1] == 1.0:
                regions_not_drawn.append(region)
                continue
            colour = PALETTE[(i + 1) % len(PALETTE)]
            curves.append((region, colour, steps))
            counts = at_risk_at(group["days"], ticks)
            rows.append((region, colour, [_risk_text(n, small_cell_max) for n in counts]))
            regions_drawn.append(region)

    n_rows = len(rows)
    fig = _figure(8.8, 4.3 + 0.24 * n_rows)
    grid = fig.add_gridspec(2, 1, height_ratios=[4.3, 0.3 + 0.24 * n_rows])
    ax = fig.add_subplot(grid[0])
    table = fig.add_subplot(grid[1], sharex=ax)
    to_m = 1.0 / DAYS_PER_MONTH

    x = np.concatenate([[0.0], days, [end_day]]) * to_m
    ax.fill_between(x, np.concatenate([[1.0], low, [low[-1] if low.size else 1.0]]),
                    np.concatenate([[1.0], high, [high[-1] if high.size else 1.0]]),
                    step="post", color=COHORT_COLOUR, alpha=0.12, linewidth=0,
                    label="All regions, 95% CI")
    ax.step(x, np.concatenate([[1.0], s, [s[-1] if s.size else 1.0]]), where="post",
            color=COHORT_COLOUR, linewidth=1.8, label=present.label("region", "All"), zorder=4)
    if has_follow_up:
        censored = np.sort(fu_days[~fu_died])
    else:  # the mart's censored counts, placed within their interval
        nxt = np.append(days[1:], end_day)
        n_c = survival["n_censored"].to_numpy(dtype=int)
        censored = np.repeat((days + nxt) / 2, n_c)
    # One mark per day: marks on the same day coincide, and a national registry censors
    # tens of thousands of patients on a few thousand days (each mark is an SVG element).
    censored = np.unique(censored)
    if censored.size:
        ax.plot(censored * to_m, step_value(days, s, censored), linestyle="none", marker="|",
                markersize=6, markeredgewidth=0.9, color=COHORT_COLOUR, alpha=0.8,
                label="Censored", zorder=5)
    for region, colour, steps in curves:
        ax.step(steps["day"] * to_m, steps["survival"], where="post", color=colour,
                linewidth=1.4, label=region)

    ax.set_xlim(0, end_day * to_m * 1.01)
    ax.set_ylim(0, 1.02)
    ax.set_xticks(months, tick_labels)
    ax.set_yticks(np.linspace(0, 1, 6), [f"{v:.1f}" for v in np.linspace(0, 1, 6)])
    ax.set_ylabel("Survival probability")
    ax.set_xlabel(x_label)
    ax.grid(axis="y", color="#e6e6e6", linewidth=0.6)
    ax.legend(loc="upper right", frameon=False, markerscale=1.6)
    ax.set_title(title, loc="left")

    # Numbers at risk: text at the tick positions of the same x axis; the row
    # names are the table's y tick labels, so the layout makes room for them.
    table.set_ylim(n_rows - 0.5, -0.6)
    table.set_yticks(range(n_rows), [name for name, _, _ in rows])
    for tick_label, (_, colour, _) in zip(table.get_yticklabels(), rows):
        tick_label.set_color(colour)
    table.tick_params(axis="y", length=0, pad=26, labelsize=9.5)
    table.tick_params(axis="x", bottom=False, labelbottom=False)
    for spine in table.spines.values():
        spine.set_visible(False)
    table.set_title("Number at risk", loc="left", fontsize=9.5, fontweight="bold")
    for r, (_, colour, values) in enumerate(rows):
        for m, value in zip(months, values):
            table.text(m, r, value, ha="center", va="center", fontsize=9.5, color=colour)
    notes = {"end_day": end_day, "regions_drawn": regions_drawn,
             "regions_not_drawn": regions_not_drawn, "exact_censoring": has_follow_up,
             "min_events": min_events, "x_label": x_label}
    return to_svg(fig, "km", title), notes


def _risk_text(n: int, small_cell_max: int) -> str:
    if 1 <= n <= small_cell_max:
        return present.suppression_mark(small_cell_max)
    return f"{int(n):,}"


# --- bars and intervals ----------------------------------------------------------

@_styled
def pain_figure(pain: pd.DataFrame, title: str) -> str:
    """Mean pain at baseline and at each time point (paired patients, all regions)."""
    rows = pain[pain["region"] == "All"]
    fig = _figure(6.4, 3.2)
    ax = fig.add_subplot()
    x = np.arange(len(rows))
    width = 0.36
    labels = [f"{present.label('timepoint', tp)}\n(n = {int(n):,})"
              for tp, n in zip(rows["timepoint"], rows["n_paired"])]
    for offset, column, name, colour in ((-width / 2, "baseline_mean", "Baseline", PALETTE[0]),
                                         (width / 2, "followup_mean", "Follow-up", PALETTE[1])):
        values = rows[column].astype(float).to_numpy()
        bars = ax.bar(x + offset, np.nan_to_num(values), width, label=name, color=colour)
        ax.bar_label(bars, labels=[present.format_number(v, 2) if not np.isnan(v) else ""
                                   for v in values], padding=2, fontsize=9)
    ax.set_xticks(x, labels)
    ax.set_ylim(0, 10)
    ax.set_ylabel("Mean pain (0-10)")
    ax.legend(frameon=False, loc="upper right", ncols=2)
    ax.set_title(title, loc="left")
    return to_svg(fig, "pain", title)


@_styled
def change_figure(pain: pd.DataFrame, eq5d: pd.DataFrame, title: str) -> str:
    """Mean change from baseline with its 95% CI, per time point and region
    (suppressed rows are left out): pain on the left, EQ-5D index on the
    right, on shared rows (a row missing from one panel stays empty there)."""
    keys: list[tuple[str, str]] = []
    for df in (pain, eq5d):
        for key in zip(df["timepoint"], df["region"]):
            if key not in keys:
                keys.append(key)
    position = {key: i for i, key in enumerate(keys)}
    fig = _figure(8.8, 1.0 + 0.3 * max(len(keys), 1))
    axes = fig.subplots(1, 2, sharey=True)
    for ax, df, name in ((axes[0], pain, "Pain (0-10)"), (axes[1], eq5d, "EQ-5D index")):
        shown = df[~df["suppressed"].astype(bool)] if "suppressed" in df.columns else df
        shown = shown[shown["mean_change"].notna()]
        y = np.array([position[k] for k in zip(shown["timepoint"], shown["region"])], dtype=float)
        change = shown["mean_change"].astype(float).to_numpy()
        low = shown["ci_low"].astype(float).to_numpy()
        high = shown["ci_high"].astype(float).to_numpy()
        is_all = shown["region"].eq("All").to_numpy()
        colours = [COHORT_COLOUR if a else PALETTE[0] for a in is_all]
        ax.hlines(y, np.where(np.isnan(low), change, low), np.where(np.isnan(high), change, high),
                  colors=colours, linewidth=1.4)
        ax.scatter(change, y, c=colours, marker="s", s=[30 if a else 18 for a in is_all], zorder=3)
        ax.axvline(0, color="#999999", linewidth=0.8)
        ax.set_xlabel("Mean change from baseline")
        ax.set_title(name, loc="left")
        ax.grid(axis="x", color="#eeeeee", linewidth=0.6)
    axes[0].set_yticks(range(len(keys)), [f"{present.label('timepoint', tp)}, "
                                          f"{present.label('region', region)}"
                                          for tp, region in keys])
    axes[0].set_ylim(len(keys) - 0.5, -0.5)
    fig.suptitle(title, x=0.01, ha="left", fontsize=11)
    return to_svg(fig, "change", title)


@_styled
def exits_figure(disposition: pd.DataFrame, title: str) -> str:
    """Patients by registry exit category at the data cut (all regions)."""
    rows = disposition[disposition["region"] == "All"].iloc[::-1]
    fig = _figure(6.4, 0.5 + 0.42 * max(len(rows), 1))
    ax = fig.add_subplot()
    names = [present.label("exit_category", c) for c in rows["exit_category"]]
    values = rows["n_patients"].astype(float).to_numpy()
    bars = ax.barh(names, values, color=PALETTE[0], height=0.6)
    pct = rows["pct_of_patients"].astype(float).to_numpy()
    ax.bar_label(bars, labels=[f"{int(v):,} ({present.format_number(p, 1)}%)"
                               for v, p in zip(values, pct)], padding=3, fontsize=9)
    ax.set_xlim(0, max(values.max() if values.size else 1, 1) * 1.22)
    ax.set_xlabel("Patients")
    ax.set_title(title, loc="left")
    return to_svg(fig, "exits", title)


# More bars than this would not be read, and drawing them costs seconds.
MAX_SITES_DRAWN = 40


@_styled
def quality_figure(quality: pd.DataFrame, title: str) -> str:
    """Rows accepted and rejected per site (current deliveries); of a national registry's
    thousands of sites, the ``MAX_SITES_DRAWN`` with the most rejected rows (the table
    beside it lists every delivery)."""
    current = quality[quality["status"] == "current"]
    by_site = current.groupby("site_id", sort=True)[["rows_accepted", "rows_rejected"]].sum()
    if len(by_site) > MAX_SITES_DRAWN:
        title = f"{title}: the {MAX_SITES_DRAWN} of {len(by_site):,} sites with the most rejected rows"
        by_site = (by_site.assign(_site=by_site.index).sort_values(["rows_rejected", "_site"], ascending=[False, True])
                   .head(MAX_SITES_DRAWN).drop(columns="_site").sort_index())
    by_site = by_site.iloc[::-1]
    fig = _figure(7.6, 0.8 + 0.2 * max(len(by_site), 1))
    ax = fig.add_subplot()
    sites = list(by_site.index.astype(str))
    accepted = by_site["rows_accepted"].astype(float).to_numpy()
    rejected = by_site["rows_rejected"].astype(float).to_numpy()
    ax.barh(sites, accepted, color=PALETTE[0], height=0.7, label="Accepted")
    bars = ax.barh(sites, rejected, left=accepted, color=PALETTE[3], height=0.7, label="Rejected")
    ax.bar_label(bars, labels=[f"{int(r):,} rejected" if r else "" for r in rejected],
                 padding=3, fontsize=8.5)
    total = accepted + rejected
    ax.set_xlim(0, max(total.max() if total.size else 1, 1) * 1.2)
    ax.set_xlabel("Rows of the current delivery")
    ax.tick_params(axis="y", labelsize=8.5)
    ax.legend(frameon=False, loc="lower right")
    ax.set_title(title, loc="left")
    return to_svg(fig, "quality", title)
