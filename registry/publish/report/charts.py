"""Small inline SVG charts for the report: no JavaScript, no external files.

Each function returns an ``<svg>`` element as a string. Inputs are the few
dozen to few thousand values of a mart, so plain Python over them is fine.
"""
from __future__ import annotations

from html import escape

import numpy as np

WIDTH, HEIGHT = 640, 300
MARGIN = {"left": 60, "right": 20, "top": 20, "bottom": 50}
PALETTE = ["#3b6ea5", "#e0903a", "#5a9f5a", "#b84a4a", "#7d6aa8", "#8c8c8c"]


def _label(value: float) -> str:
    """A bar's value as people write it: counts whole, means with two decimals."""
    return f"{value:.0f}" if float(value).is_integer() else f"{value:.2f}"


def _svg(body: str, title: str, height: int = HEIGHT) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
            f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(title)}">'
            f"<title>{escape(title)}</title>{body}</svg>")


def _nice_max(value: float) -> float:
    if not np.isfinite(value) or value <= 0:
        return 1.0
    magnitude = 10 ** np.floor(np.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return float(step * magnitude)
    return float(10 * magnitude)


def _y_axis(y_max: float, plot_h: int, label: str, ticks: int = 5) -> str:
    parts = []
    for i in range(ticks + 1):
        v = y_max * i / ticks
        y = MARGIN["top"] + plot_h * (1 - i / ticks)
        parts.append(f'<line x1="{MARGIN["left"]}" x2="{WIDTH - MARGIN["right"]}" y1="{y:.1f}" '
                     f'y2="{y:.1f}" class="grid"/>'
                     f'<text x="{MARGIN["left"] - 6}" y="{y + 4:.1f}" text-anchor="end">'
                     f"{v:g}</text>")
    parts.append(f'<text x="14" y="{MARGIN["top"] + plot_h / 2:.1f}" text-anchor="middle" '
                 f'transform="rotate(-90 14 {MARGIN["top"] + plot_h / 2:.1f})">{escape(label)}</text>')
    return "".join(parts)


def grouped_bars(groups: list[str], series: dict[str, list[float]], title: str,
                 y_label: str, y_max: float | None = None) -> str:
    """Bars per group, one colour per series; missing values leave a gap."""
    plot_w = WIDTH - MARGIN["left"] - MARGIN["right"]
    plot_h = HEIGHT - MARGIN["top"] - MARGIN["bottom"]
    values = [v for vs in series.values() for v in vs if v is not None and np.isfinite(v)]
    top = y_max or _nice_max(max(values, default=1.0))
    slot = plot_w / max(len(groups), 1)
    bar_w = slot * 0.8 / max(len(series), 1)
    parts = [_y_axis(top, plot_h, y_label)]
    for gi, group in enumerate(groups):
        x0 = MARGIN["left"] + gi * slot + slot * 0.1
        for si, (name, vals) in enumerate(series.items()):
            v = vals[gi]
            if v is None or not np.isfinite(v):
                continue
            h = plot_h * min(v, top) / top
            x = x0 + si * bar_w
            y = MARGIN["top"] + plot_h - h
            parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" height="{h:.1f}" '
                         f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(name)} '
                         f'{escape(group)}: {_label(v)}</title></rect>'
                         f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" '
                         f'class="value">{_label(v)}</text>')
        parts.append(f'<text x="{x0 + slot * 0.4:.1f}" y="{HEIGHT - MARGIN["bottom"] + 16}" '
                     f'text-anchor="middle">{escape(group)}</text>')
    parts.append(_legend(list(series), HEIGHT - 14))
    return _svg("".join(parts), title)


def _legend(names: list[str], y: float, x: float = MARGIN["left"]) -> str:
    parts = []
    for i, name in enumerate(names):
        parts.append(f'<rect x="{x}" y="{y - 9}" width="10" height="10" '
                     f'fill="{PALETTE[i % len(PALETTE)]}"/>'
                     f'<text x="{x + 14}" y="{y}">{escape(name)}</text>')
        x += 24 + 7 * len(name)
    return "".join(parts)


def km_curve(days, survival, ci_low, ci_high, at_risk_days, at_risk, title: str) -> str:
    """Step curve from (0, 1) through every death time, its pointwise band,
    and the numbers at risk in a row under the time axis."""
    extra = 40
    height = HEIGHT + extra
    plot_w = WIDTH - MARGIN["left"] - MARGIN["right"]
    plot_h = HEIGHT - MARGIN["top"] - MARGIN["bottom"]
    days = np.asarray(days, dtype=float)
    x_max = _nice_max(max(float(days.max()) if days.size else 1.0,
                          float(np.max(at_risk_days)) if len(at_risk_days) else 1.0))

    def px(d):
        return MARGIN["left"] + plot_w * np.asarray(d, dtype=float) / x_max

    def py(s):
        return MARGIN["top"] + plot_h * (1 - np.asarray(s, dtype=float))

    def steps(values, start=1.0):
        xs = np.concatenate([[0.0], np.repeat(days, 2)])
        ys = np.concatenate([[start, start], np.repeat(np.asarray(values, dtype=float), 2)])[:-1]
        return px(xs), py(ys)

    parts = [_y_axis(1.0, plot_h, "survival probability")]
    if days.size:
        lx, ly = steps(ci_low)
        hx, hy = steps(ci_high)
        band = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(hx, hy))
        band += " " + " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(lx[::-1], ly[::-1]))
        parts.append(f'<polygon points="{band}" class="band"/>')
        sx, sy = steps(survival)
        line = " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(sx, sy))
        parts.append(f'<polyline points="{line}" class="curve"/>')
    axis_y = MARGIN["top"] + plot_h
    parts.append(f'<text x="{MARGIN["left"] + plot_w / 2}" y="{axis_y + 34}" '
                 f'text-anchor="middle">days since implant</text>')
    parts.append(f'<text x="4" y="{axis_y + 62}" class="at-risk-label">at risk</text>')
    for d, n in zip(at_risk_days, at_risk):
        x = float(px(d))
        parts.append(f'<text x="{x:.1f}" y="{axis_y + 16}" text-anchor="middle">{int(d)}</text>'
                     f'<text x="{x:.1f}" y="{axis_y + 62}" text-anchor="middle" '
                     f'class="at-risk">{int(n)}</text>')
    return _svg("".join(parts), title, height)


def stacked_hbars(labels: list[str], series: dict[str, list[float]], title: str,
                  x_label: str) -> str:
    """One horizontal bar per label, stacked by series (e.g. accepted, rejected rows)."""
    row_h = 22
    height = MARGIN["top"] + row_h * max(len(labels), 1) + 60
    left = 140
    plot_w = WIDTH - left - MARGIN["right"]
    totals = [sum((vs[i] or 0) for vs in series.values()) for i in range(len(labels))]
    top = _nice_max(max(totals, default=1.0))
    parts = []
    for i, label in enumerate(labels):
        y = MARGIN["top"] + i * row_h
        parts.append(f'<text x="{left - 6}" y="{y + 15}" text-anchor="end">{escape(label)}</text>')
        x = float(left)
        for si, (name, vals) in enumerate(series.items()):
            w = plot_w * (vals[i] or 0) / top
            if w > 0:
                parts.append(f'<rect x="{x:.1f}" y="{y + 3}" width="{w:.1f}" height="{row_h - 6}" '
                             f'fill="{PALETTE[si % len(PALETTE)]}"><title>{escape(label)} '
                             f'{escape(name)}: {vals[i]:g}</title></rect>')
            x += w
        parts.append(f'<text x="{x + 4:.1f}" y="{y + 15}" class="value">{totals[i]:g}</text>')
    axis_y = MARGIN["top"] + row_h * max(len(labels), 1)
    parts.append(f'<text x="{left + plot_w / 2}" y="{axis_y + 20}" text-anchor="middle">'
                 f"{escape(x_label)}</text>")
    parts.append(_legend(list(series), axis_y + 45, x=left))
    return _svg("".join(parts), title, height)
