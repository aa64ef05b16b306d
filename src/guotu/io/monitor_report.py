"""The 体检评估 report (规划实施监测与体检评估报告) as self-contained HTML, PDF and XLSX.

The document comes from :func:`guotu.services.monitoring_report.checkup_document`: indicator
cards with their year-end series and target, warnings, the monitoring cases by class and the
耕地占补平衡 ledger with the consolidation projects. :func:`report_sections` turns it into
the six numbered sections (一、总体情况 … 六、说明) once; the HTML and the PDF (see
:mod:`guotu.io.monitor_pdf`) both render those, so they have the same content in the same
order. Each indicator's chart (:func:`chart_model`) has a value axis with round ticks, the
year under each point, each point's value and the target as a dashed line. The HTML
references no external file, font or script; the PDF embeds a CJK font
(:mod:`guotu.io.fonts`).
"""

from __future__ import annotations

import html
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = [
    "Block",
    "Bullets",
    "Card",
    "Cards",
    "ChartModel",
    "Grid",
    "Text",
    "chart_model",
    "footer_lines",
    "label",
    "meta_line",
    "render_monitor_html",
    "report_sections",
    "series_svg",
    "write_monitor_xlsx",
]

_STATUS = {
    "green": ("正常", "OK", "#2e7d32"),
    "yellow": ("预警", "Warning", "#d68910"),
    "red": ("突破", "Breached", "#c0392b"),
    None: ("无目标", "No target", "#7f8c8d"),
}
_TEXT = {
    "title": ("规划实施监测与体检评估报告", "Plan implementation monitoring and check-up report"),
    "as_of": ("现状日期", "As of"),
    "workspace": ("工作空间", "Workspace"),
    "summary": ("一、总体情况", "1. Overview"),
    "indicators": ("二、指标监测", "2. Indicators"),
    "warnings": ("三、预警", "3. Warnings"),
    "cases": ("四、监测案件", "4. Monitoring cases"),
    "ledger": ("五、耕地占补平衡与土地整治", "5. Farmland balance and land consolidation"),
    "notes": ("六、说明", "6. Notes"),
    "name": ("指标", "Indicator"),
    "value": ("现状值", "Value"),
    "unit": ("单位", "Unit"),
    "target": ("目标", "Target"),
    "status": ("状态", "Status"),
    "slope": ("年均变化", "Per year"),
    "type": ("属性", "Type"),
    "none": ("无", "None"),
    "class": ("类型", "Class"),
    "count": ("数量", "Count"),
    "patch": ("图斑编号", "Patch"),
    "area": ("面积(m²)", "Area (m²)"),
    "image": ("后时相", "Image"),
    "projects": ("项目", "Projects"),
    "update": ("年度", "Update"),
    "occupied": ("占用耕地(公顷)", "Occupied (ha)"),
    "supplemented": ("补充耕地(公顷)", "Supplemented (ha)"),
    "balance": ("平衡(公顷)", "Balance (ha)"),
    "project": ("整治项目", "Project"),
    "progress": ("进度", "Progress"),
    "planned": ("计划新增耕地(公顷)", "Planned new farmland (ha)"),
    "measured": ("测得新增耕地(公顷)", "Measured new farmland (ha)"),
    "convention": ("约定算法", "Convention"),
    "method": (
        "趋势为逐年末值的最小二乘直线，预计突破时间给出 80% 预测区间的早、晚两端（到季度或年份），"
        "只预测到目标年份年末，其后不作预测（规划期内不会突破）；距目标 2% 以内或 3 年内可能突破为预警。",
        "Trends are least-squares lines through the year-end values; the crossing gives "
        "the early and late edges of the 80 % prediction band (as a quarter or years), "
        "forecast up to the end of the target year only (not crossed within the plan "
        "period). Within 2 % of the target or a possible crossing within 3 years is a "
        "warning.",
    ),
    "binding": ("约束性", "binding"),
    "expected": ("预期性", "expected"),
    "catalogue": ("指标目录", "Catalogue"),
    "data": ("数据", "Data"),
    "no_data": ("无数据", "No data"),
    "star": (
        "带 * 的指标按约定算法计算，见六、说明。",
        "Indicators marked * follow a convention: see 6. Notes.",
    ),
    "status_line": (
        "指标 {n} 项：突破 {red}，预警 {yellow}，正常 {green}，无目标 {none}。",
        "{n} indicators: {red} breached, {yellow} warnings, {green} OK, {none} without a target.",
    ),
    "cases_line": ("监测案件 {n} 件：{detail}。", "{n} monitoring cases: {detail}."),
    "ledger_line": (
        "耕地占补（{first}至{last}）：占用 {occ} 公顷，补充 {sup} 公顷，{bal}。",
        "Farmland ({first} to {last}): {occ} ha taken, {sup} ha added, {bal}.",
    ),
    "balanced": ("已平衡", "balanced"),
    "short": ("缺口 {x} 公顷", "short by {x} ha"),
    "page_lead": ("第 {page} 页，共 ", "Page {page} of "),
    "page_total": ("{total} 页", "{total}"),
}


def label(doc: Mapping[str, Any], key: str) -> str:
    """The fixed text ``key`` in the document's language.

    Examples
    --------
    >>> label({"lang": "zh"}, "summary"), label({"lang": "en"}, "summary")
    ('一、总体情况', '1. Overview')
    """
    zh, en = _TEXT[key]
    return en if doc.get("lang") == "en" else zh


_t = label


def _e(value: Any) -> str:
    return html.escape("—" if value is None else str(value))


def _num(value: Any, decimals: int = 2) -> str:
    return "—" if value is None else f"{value:,.{decimals}f}"


def _status(doc: Mapping[str, Any], status: Any) -> tuple[str, str]:
    """The status word and its colour."""
    zh, en, colour = _STATUS.get(status, _STATUS[None])
    return (en if doc.get("lang") == "en" else zh), colour


def _target(row: Mapping[str, Any], decimals: int = 4) -> str:
    """The target as ``≤2,161.87（2035）``: its direction as the document writes it
    (``direction_label``, see :func:`guotu.services.monitoring_report.direction_text`)."""
    if row.get("target") is None:
        return "—"
    direction = str(row.get("direction_label") or row.get("direction") or "")
    return f"{direction}{_num(row['target'], decimals)}（{row.get('target_year')}）"


# -- charts ----------------------------------------------------------------------------------


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


# -- the sections both formats render ---------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """A paragraph; ``style`` is ``"body"`` or ``"small"``."""

    text: str
    style: str = "body"


@dataclass(frozen=True)
class Bullets:
    """A bulleted list."""

    items: tuple[str, ...]


@dataclass(frozen=True)
class Grid:
    """A table of text cells; ``numeric`` columns are right-aligned, ``widths`` are relative
    column widths (for the PDF)."""

    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    numeric: tuple[int, ...] = ()
    widths: tuple[float, ...] = ()


@dataclass(frozen=True)
class Card:
    """One indicator: its name (``*`` when a convention applies), unit, value, status and
    colour, the lines under the value, and the chart's series and target."""

    name: str
    unit: str
    value: str
    status: str
    colour: str
    lines: tuple[str, ...]
    series: tuple[Mapping[str, Any], ...]
    target: float | None


@dataclass(frozen=True)
class Cards:
    """The indicator cards, each with its chart."""

    cards: tuple[Card, ...]


Block = Text | Bullets | Grid | Cards


def _card(doc: Mapping[str, Any], row: Mapping[str, Any]) -> Card:
    word, colour = _status(doc, row.get("status"))
    d = 4 if row.get("unit") in ("%",) else 2
    lines = []
    if row.get("target") is not None:
        lines.append(f"{_t(doc, 'target')} {_target(row, d)}")
    if row.get("crossing_text"):
        lines.append(str(row["crossing_text"]))
    if row.get("convention"):
        lines.append(f"* {_t(doc, 'convention')}")
    return Card(
        f"{row['name']}{' *' if row.get('convention') else ''}",
        str(row.get("unit_label") or ""),
        _num(row.get("value"), d),
        word,
        colour,
        tuple(lines),
        tuple(row.get("series") or ()),
        row.get("target"),
    )


def _overview_texts(doc: Mapping[str, Any]) -> list[Block]:
    s = doc["indicators"]["summary"]
    out: list[Block] = [
        Text(
            _t(doc, "status_line").format(
                n=len(doc["indicators"]["indicators"]),
                red=s.get("red", 0),
                yellow=s.get("yellow", 0),
                green=s.get("green", 0),
                none=s.get("no_target", 0),
            )
        )
    ]
    cases = doc.get("cases")
    if cases:
        names: dict[str, int] = {}
        for c in cases["cases"]:
            names[c["class_name"]] = names.get(c["class_name"], 0) + 1
        sep = ", " if doc.get("lang") == "en" else "，"
        detail = sep.join(f"{k} {v}" for k, v in names.items())
        out.append(Text(_t(doc, "cases_line").format(n=len(cases["cases"]), detail=detail)))
    cons = doc.get("consolidation")
    if cons:
        t = cons["totals"]
        bal = (
            _t(doc, "balanced")
            if t.get("balanced")
            else _t(doc, "short").format(x=_num(-t["balance_m2"] / 1e4, 4))
        )
        out.append(
            Text(
                _t(doc, "ledger_line").format(
                    first=cons.get("from") or "—",
                    last=cons.get("to") or "—",
                    occ=_num(t["occupied_m2"] / 1e4, 4),
                    sup=_num(t["supplemented_m2"] / 1e4, 4),
                    bal=bal,
                )
            )
        )
    return out


def report_sections(doc: Mapping[str, Any]) -> list[tuple[str, list[Block]]]:
    """The report's numbered sections, each a heading and its blocks, in order.

    Examples
    --------
    >>> doc = {"as_of": "2025-12-31", "indicators": {"summary": {}, "indicators": [],
    ...        "warnings": [], "catalogue": {"id": "c", "version": "1", "title": "t"}}}
    >>> [heading for heading, _ in report_sections(doc)]
    ['一、总体情况', '二、指标监测', '三、预警', '四、监测案件', '五、耕地占补平衡与土地整治', '六、说明']
    """
    ind = doc["indicators"]
    rows = list(ind["indicators"])
    none = (Text(_t(doc, "none")),)
    table = Grid(
        tuple(_t(doc, k) for k in ("name", "type", "value", "unit", "target", "status", "slope")),
        tuple(
            (
                r["name"] + (" *" if r.get("convention") else ""),
                _t(doc, r["type"]) if r.get("type") in _TEXT else str(r.get("type") or "—"),
                _num(r.get("value"), 4),
                str(r.get("unit_label") or ""),
                _target(r),
                _status(doc, r.get("status"))[0],
                _num((r.get("forecast") or {}).get("slope_per_year"), 4),
            )
            for r in rows
        ),
        numeric=(2, 6),
        widths=(50, 14, 24, 18, 36, 14, 20),
    )
    indicators: list[Block] = [Cards(tuple(_card(doc, r) for r in rows)), table]
    if any(r.get("convention") for r in rows):
        indicators.append(Text(_t(doc, "star"), "small"))
    warns = [str(w["message"]) for w in ind["warnings"]]
    if doc.get("consolidation"):
        warns += [str(w) for w in doc["consolidation"]["warnings"]]
    cases = doc.get("cases")
    case_blocks: list[Block] = list(none)
    if cases:
        case_blocks = [
            Grid(
                tuple(
                    _t(doc, k) for k in ("patch", "class", "status", "image", "area", "projects")
                ),
                tuple(
                    (
                        str(c["tbbh"]),
                        str(c["class_name"]),
                        str(c["status_name"]),
                        str(c["image_date"]),
                        _num(c["area_m2"]),
                        "；".join(p["xmdm"] for p in c["projects"]) or "—",
                    )
                    for c in cases["cases"]
                ),
                numeric=(4,),
                widths=(22, 40, 16, 20, 20, 30),
            )
        ]
    cons = doc.get("consolidation")
    ledger: list[Block] = list(none)
    if cons:
        ledger = [
            Grid(
                tuple(_t(doc, k) for k in ("update", "occupied", "supplemented", "balance")),
                tuple(
                    (
                        str(r["version"]),
                        _num(r["occupied_m2"] / 1e4, 4),
                        _num(r["supplemented_m2"] / 1e4, 4),
                        _num(r["balance_m2"] / 1e4, 4),
                    )
                    for r in cons["ledger"]
                ),
                numeric=(1, 2, 3),
                widths=(40, 20, 20, 20),
            ),
            Grid(
                tuple(_t(doc, k) for k in ("project", "progress", "planned", "measured")),
                tuple(
                    (
                        f"{p['xmmc']}（{p['xmdm']}）",
                        "—" if p["progress_pct"] is None else f"{p['progress_pct']:g}%",
                        _num((p["planned"]["new_farmland_m2"] or 0) / 1e4, 4),
                        _num(p["measured"]["new_farmland_m2"] / 1e4, 4),
                    )
                    for p in cons["projects"]
                ),
                numeric=(1, 2, 3),
                widths=(50, 12, 20, 20),
            ),
        ]
    sep = ": " if doc.get("lang") == "en" else "："
    notes = [f"{r['name']}{sep}{r['convention']}" for r in rows if r.get("convention")]
    notes += [str(n) for n in doc.get("notes", [])]
    return [
        (_t(doc, "summary"), _overview_texts(doc)),
        (_t(doc, "indicators"), indicators),
        (_t(doc, "warnings"), [Bullets(tuple(warns))] if warns else list(none)),
        (_t(doc, "cases"), case_blocks),
        (_t(doc, "ledger"), ledger),
        (_t(doc, "notes"), [Text(_t(doc, "method")), *([Bullets(tuple(notes))] if notes else [])]),
    ]


def meta_line(doc: Mapping[str, Any]) -> str:
    """The line under the title: date and indicator catalogue."""
    cat = doc["indicators"]["catalogue"]
    return f"{_t(doc, 'as_of')} {doc['as_of']} · {cat['title']}（{cat['id']} {cat['version']}）"


def footer_lines(doc: Mapping[str, Any]) -> tuple[str, str]:
    """What the PDF's footer says the report was made with: catalogue, version and date;
    then the plans and versions the latest values were read from, each once, as a person
    reads them (``version_label``; the layer and version id where a document has none)."""
    cat = doc["indicators"]["catalogue"]
    versions: dict[str, str] = {}
    for r in doc["indicators"]["indicators"]:
        series = r.get("series") or []
        if series:
            last = series[-1]
            versions.update({k: f"{k} {v}" for k, v in (last.get("version") or {}).items()})
            versions.update(last.get("version_label") or {})
    sep = ": " if doc.get("lang") == "en" else "："
    data = ("; " if doc.get("lang") == "en" else "；").join(
        dict.fromkeys(v for _, v in sorted(versions.items()))
    ) or "—"
    return (
        f"{_t(doc, 'catalogue')} {cat['id']} {cat['version']} · {_t(doc, 'as_of')} {doc['as_of']}",
        f"{_t(doc, 'data')}{sep}{data}",
    )


# -- HTML ------------------------------------------------------------------------------------

_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC","WenQuanYi Micro Hei",
sans-serif;margin:2em auto;max-width:1000px;color:#222;line-height:1.5;padding:0 12px}
h1{color:#1d4e89}h2{color:#1d4e89;border-bottom:2px solid #1d4e89;padding-bottom:.2em;
margin-top:1.6em}table{border-collapse:collapse;width:100%;margin:.5em 0;font-size:.9em}
th,td{border:1px solid #c8ccd2;padding:3px 6px;vertical-align:top;overflow-wrap:anywhere}
th{background:#eef2f7;text-align:left}td.num{text-align:right;white-space:nowrap}
.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #c8ccd2;
border-left:6px solid var(--c);border-radius:4px;padding:.4em .6em;width:310px;
break-inside:avoid}.card h3{margin:.1em 0;font-size:1em}.card .v{font-size:1.3em;
font-weight:bold}.st{color:#fff;background:var(--c);border-radius:3px;padding:0 .4em;
font-size:.85em}.meta{color:#666;font-size:.85em}.small{color:#555;font-size:.85em}
.warn li{margin:.3em 0}@media print{body{margin:0}.card{width:46%}}@page{size:A4;margin:15mm}
"""


def _html_block(doc: Mapping[str, Any], block: Block) -> str:
    if isinstance(block, Text):
        return f'<p class="{block.style}">{_e(block.text)}</p>'
    if isinstance(block, Bullets):
        return '<ul class="warn">' + "".join(f"<li>{_e(i)}</li>" for i in block.items) + "</ul>"
    if isinstance(block, Grid):
        out = [
            "<table><thead><tr>",
            *(f"<th>{_e(h)}</th>" for h in block.head),
            "</tr></thead><tbody>",
        ]
        for row in block.rows:
            out.append(
                "<tr>"
                + "".join(
                    f'<td class="num">{_e(c)}</td>' if i in block.numeric else f"<td>{_e(c)}</td>"
                    for i, c in enumerate(row)
                )
                + "</tr>"
            )
        return "".join([*out, "</tbody></table>"])
    cards = []
    for c in block.cards:
        chart = (
            series_svg(c.series, c.target, c.colour)
            or f'<p class="meta">{_e(_t(doc, "no_data"))}</p>'
        )
        cards.append(
            f'<div class="card" style="--c:{c.colour}"><h3>{_e(c.name)}</h3>'
            f'<div><span class="v">{_e(c.value)}</span> {_e(c.unit)} '
            f'<span class="st">{_e(c.status)}</span></div>'
            + "".join(f'<div class="meta">{_e(line)}</div>' for line in c.lines)
            + f"{chart}</div>"
        )
    return '<div class="cards">' + "".join(cards) + "</div>"


def render_monitor_html(doc: Mapping[str, Any]) -> str:
    """The whole report as one HTML page."""
    lang = doc.get("lang", "zh")
    parts = [
        f'<!doctype html><html lang="{"en" if lang == "en" else "zh-CN"}"><head>'
        f'<meta charset="utf-8"><title>{_e(_t(doc, "title"))}</title><style>{_CSS}</style>'
        f"</head><body><h1>{_e(_t(doc, 'title'))}</h1>",
        f'<p class="meta">{_e(meta_line(doc))}</p>',
    ]
    for heading, blocks in report_sections(doc):
        parts.append(f"<h2>{_e(heading)}</h2>")
        parts += [_html_block(doc, b) for b in blocks]
    parts.append("</body></html>")
    return "".join(parts)


def write_monitor_xlsx(doc: Mapping[str, Any], path: Path) -> Path:
    """The report's tables as an XLSX workbook (one sheet each)."""
    ind = doc["indicators"]
    sheets: dict[str, pd.DataFrame] = {}
    sheets["指标"] = pd.DataFrame(
        [
            {
                "编号": r["id"],
                "指标": r["name"],
                "属性": r["type"],
                "单位": r["unit_label"],
                "现状值": r["value"],
                "目标年": r["target_year"],
                "目标值": r["target"],
                "状态": _STATUS.get(r["status"], _STATUS[None])[0],
                "年均变化": (r.get("forecast") or {}).get("slope_per_year"),
                "预计突破(早)": (r.get("forecast") or {}).get("crossing_early"),
                "公式": r["lineage"]["formula"],
                "约定算法": r.get("convention") or "",
            }
            for r in ind["indicators"]
        ]
    )
    sheets["指标序列"] = pd.DataFrame(
        [
            {"编号": r["id"], "指标": r["name"], "日期": p["as_of"], "值": p["value"]}
            for r in ind["indicators"]
            for p in r["series"]
        ]
    )
    sheets["预警"] = pd.DataFrame(
        [
            {"指标": w["indicator"], "状态": w["status"], "说明": w["message"]}
            for w in ind["warnings"]
        ],
        columns=["指标", "状态", "说明"],
    )
    if doc.get("cases"):
        sheets["监测案件"] = pd.DataFrame(
            [
                {
                    "图斑编号": c["tbbh"],
                    "类型": c["class_name"],
                    "状态": c["status_name"],
                    "后时相": c["image_date"],
                    "面积(m²)": c["area_m2"],
                    **{f"重叠_{k}(m²)": v for k, v in c["overlaps_m2"].items()},
                    "项目": "；".join(p["xmdm"] for p in c["projects"]),
                }
                for c in doc["cases"]["cases"]
            ]
        )
    if doc.get("consolidation"):
        cons = doc["consolidation"]
        sheets["占补平衡"] = pd.DataFrame(
            [
                {
                    "年度": r["version"],
                    "占用耕地(m²)": r["occupied_m2"],
                    "补充耕地(m²)": r["supplemented_m2"],
                    "平衡(m²)": r["balance_m2"],
                    "建设用地减少(m²)": r["construction_reduced_m2"],
                }
                for r in cons["ledger"]
            ]
        )
        sheets["土地整治"] = pd.DataFrame(
            [
                {
                    "项目代码": p["xmdm"],
                    "项目名称": p["xmmc"],
                    "进度(%)": p["progress_pct"],
                    "计划新增耕地(m²)": p["planned"]["new_farmland_m2"],
                    "测得新增耕地(m²)": p["measured"]["new_farmland_m2"],
                    "测得建设用地减少(m²)": p["measured"]["construction_reduced_m2"],
                    "提示": "；".join(p["warnings"]),
                }
                for p in cons["projects"]
            ]
        )
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return path
