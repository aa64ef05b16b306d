"""The sections of the 体检评估 report (规划实施监测与体检评估报告), once for every format.

The document comes from :func:`guotu.services.monitoring_report.checkup_document`: indicator
cards with their year-end series and target, warnings, the monitoring cases by class and the
耕地占补平衡 ledger with the consolidation projects. :func:`report_sections` turns it into the
six numbered sections (一、总体情况 … 六、说明) of blocks (:class:`Text`, :class:`Bullets`,
:class:`Grid`, :class:`Cards`); the HTML (:mod:`guotu.io.monitor_report`) and the PDF
(:mod:`guotu.io.monitor_pdf`) both render those, so they have the same content in the same
order. :func:`label` gives the report's fixed texts in the document's language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "Block",
    "Bullets",
    "Card",
    "Cards",
    "Grid",
    "Text",
    "footer_lines",
    "label",
    "meta_line",
    "report_sections",
    "status_style",
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


def _num(value: Any, decimals: int = 2) -> str:
    return "—" if value is None else f"{value:,.{decimals}f}"


def status_style(doc: Mapping[str, Any], status: Any) -> tuple[str, str]:
    """The word of an indicator's status (``green``, ``yellow``, ``red``; ``None``: no target)
    in the document's language, and its colour.

    Examples
    --------
    >>> status_style({"lang": "zh"}, "red"), status_style({"lang": "en"}, None)
    (('突破', '#c0392b'), ('No target', '#7f8c8d'))
    """
    zh, en, colour = _STATUS.get(status, _STATUS[None])
    return (en if doc.get("lang") == "en" else zh), colour


def _target(row: Mapping[str, Any], decimals: int = 4) -> str:
    """The target as ``≤2,161.87（2035）``: its direction as the document writes it
    (``direction_label``, see :func:`guotu.services.monitoring_report.direction_text`)."""
    if row.get("target") is None:
        return "—"
    direction = str(row.get("direction_label") or row.get("direction") or "")
    return f"{direction}{_num(row['target'], decimals)}（{row.get('target_year')}）"


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
    word, colour = status_style(doc, row.get("status"))
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
                status_style(doc, r.get("status"))[0],
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
