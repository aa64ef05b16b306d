"""The line chart of an indicator's year-end series in the 体检评估 report
(:mod:`guotu.io.monitor_report`, :mod:`guotu.io.monitor_pdf`): :func:`chart_model` lays it
out once — a value axis with round ticks, the year under each point, each point's value
(left out where it would collide with its neighbour) and the target as a dashed line — and
:func:`series_svg` draws it as inline SVG (the PDF draws the same model).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ChartModel", "chart_model", "series_svg"]


def _e(value: Any) -> str:
    return html.escape("—" if value is None else str(value))


def _nice_step(span: float, ticks: int = 3) -> float:
    """A round tick step (1, 2, 2.5 or 5 × 10ⁿ) giving about ``ticks`` intervals."""
    raw = span / ticks
    power = 10.0 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw))


@dataclass(frozen=True)
class ChartModel:
    """A line chart laid out in a ``width`` × ``height`` box with y growing down (SVG
    convention; the PDF flips it): the plot area, the points with their year and value
    labels (``None`` where a label would collide with its neighbour), the value-axis ticks
    and the target line."""

    width: float
    height: float
    plot: tuple[float, float, float, float]  # left, top, right, bottom
    points: tuple[tuple[float, float, str, str | None], ...]  # x, y, year, value label
    ticks: tuple[tuple[float, str], ...]  # y, label
    target: tuple[float, str] | None = None  # y, label
    decimals: int = field(default=2, compare=False)


def chart_model(
    series: Sequence[Mapping[str, Any]],
    target: float | None,
    *,
    width: float = 280.0,
    height: float = 130.0,
    decimals: int = 2,
    char_width: float = 3.4,
) -> ChartModel | None:
    """The chart of a series of ``{"as_of", "value"}`` points and its target; ``None``
    without values. ``char_width`` is the width of one label character (for collisions).

    Examples
    --------
    >>> m = chart_model([{"as_of": "2021-12-31", "value": 10.0},
    ...                  {"as_of": "2022-12-31", "value": 12.0}], 15.0)
    >>> [p[2:] for p in m.points], [t[1] for t in m.ticks], m.target[1]
    ([('2021', '10.00'), ('2022', '12.00')], ['10', '12', '14', '16'], '15.00')
    """
    pts = [(str(p["as_of"]), float(p["value"])) for p in series if p.get("value") is not None]
    if not pts:
        return None
    values = [v for _, v in pts] + ([float(target)] if target is not None else [])
    lo, hi = min(values), max(values)
    span = hi - lo or abs(hi) * 0.02 or 1.0
    step = _nice_step(span)
    lo_tick, hi_tick = math.floor(lo / step) * step, math.ceil(hi / step) * step
    if hi_tick - lo_tick < step:
        hi_tick = lo_tick + step
    tick_values = [lo_tick + k * step for k in range(round((hi_tick - lo_tick) / step) + 1)]
    tick_decimals = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    tick_text = [f"{v:,.{tick_decimals}f}" for v in tick_values]
    left = 8 + char_width * max(len(t) for t in tick_text)
    plot = (left, 14.0, width - 10.0, height - 16.0)

    def y(v: float) -> float:
        return plot[3] - (plot[3] - plot[1]) * (v - lo_tick) / (hi_tick - lo_tick)

    n = len(pts)
    inner = (plot[2] - plot[0]) - 24
    xs = [plot[0] + 12 + (inner * k / (n - 1) if n > 1 else inner / 2) for k in range(n)]
    labels = [f"{v:,.{decimals}f}" for _, v in pts]
    room = (inner / (n - 1)) if n > 1 else inner
    every = max(1, math.ceil(char_width * max(len(t) for t in labels) * 1.1 / room))
    shown = [labels[k] if (n - 1 - k) % every == 0 else None for k in range(n)]
    years = [d[:4] if d[5:] in ("12-31", "") else d[:7] for d, _ in pts]
    return ChartModel(
        width,
        height,
        plot,
        tuple((xs[k], y(v), years[k], shown[k]) for k, (_, v) in enumerate(pts)),
        tuple((y(v), t) for v, t in zip(tick_values, tick_text, strict=True)),
        None if target is None else (y(float(target)), f"{float(target):,.{decimals}f}"),
        decimals,
    )


def series_svg(
    series: Sequence[Mapping[str, Any]],
    target: float | None,
    colour: str = "#1d4e89",
    width: int = 280,
    height: int = 130,
    decimals: int = 2,
) -> str:
    """The line chart of a series with the target as a dashed line, as inline SVG: a value
    axis with ticks, the year under each point and the values above them.

    Examples
    --------
    >>> svg = series_svg([{"as_of": "2021-12-31", "value": 1.0},
    ...                   {"as_of": "2022-12-31", "value": 2.0}], 1.5)
    >>> svg.startswith("<svg") and "stroke-dasharray" in svg and ">2022</text>" in svg
    True
    """
    m = chart_model(series, target, width=width, height=height, decimals=decimals)
    if m is None:
        return ""
    left, top, right, bottom = m.plot
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" font-family="sans-serif">',
        f'<line x1="{left:.1f}" y1="{top - 4:.1f}" x2="{left:.1f}" y2="{bottom:.1f}" '
        'stroke="#888" stroke-width="0.8"/>',
        f'<line x1="{left:.1f}" y1="{bottom:.1f}" x2="{right:.1f}" y2="{bottom:.1f}" '
        'stroke="#888" stroke-width="0.8"/>',
    ]
    for y, tick in m.ticks:
        out.append(
            f'<line x1="{left - 3:.1f}" y1="{y:.1f}" x2="{right:.1f}" y2="{y:.1f}" '
            'stroke="#e3e6ea" stroke-width="0.6"/>'
            f'<text x="{left - 5:.1f}" y="{y + 3:.1f}" font-size="9" fill="#555" '
            f'text-anchor="end">{_e(tick)}</text>'
        )
    if m.target is not None:
        out.append(
            f'<line x1="{left:.1f}" x2="{right:.1f}" y1="{m.target[0]:.1f}" '
            f'y2="{m.target[0]:.1f}" stroke="#c0392b" stroke-width="1" '
            'stroke-dasharray="4 3"/>'
        )
    path = " ".join(
        f"{'M' if k == 0 else 'L'}{x:.1f},{y:.1f}" for k, (x, y, _, _) in enumerate(m.points)
    )
    out.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.6"/>')
    for x, y, year, value in m.points:
        out.append(
            f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.4" fill="{colour}"/>'
            f'<text x="{x:.1f}" y="{bottom + 11:.1f}" font-size="9" fill="#555" '
            f'text-anchor="middle">{_e(year)}</text>'
        )
        if value is not None:
            out.append(
                f'<text x="{x:.1f}" y="{y - 5:.1f}" font-size="8.5" fill="#222" '
                f'text-anchor="middle">{_e(value)}</text>'
            )
    out.append("</svg>")
    return "".join(out)
