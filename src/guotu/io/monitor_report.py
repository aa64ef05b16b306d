"""The 体检评估 report (规划实施监测与体检评估报告) as self-contained HTML, PDF and XLSX.

The document comes from :func:`guotu.services.monitoring_report.checkup_document`: indicator
cards with their year-end series and target (an inline SVG chart each), warnings, the
monitoring cases by class and the 耕地占补平衡 ledger with the consolidation projects. The
HTML references no external file, font or script; the PDF embeds a CJK font when one is
found (see :mod:`guotu.io.review_pdf`).
"""

from __future__ import annotations

import html
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["render_monitor_html", "render_monitor_pdf", "series_svg", "write_monitor_xlsx"]

_STATUS = {"green": ("正常", "OK", "#2e7d32"), "yellow": ("预警", "Warning", "#d68910"),
           "red": ("突破", "Breached", "#c0392b"), None: ("无目标", "No target", "#7f8c8d")}
_TEXT = {
    "title": ("规划实施监测与体检评估报告", "Plan implementation monitoring and check-up report"),
    "as_of": ("现状日期", "As of"), "workspace": ("工作空间", "Workspace"),
    "summary": ("一、总体情况", "1. Overview"), "indicators": ("二、指标监测", "2. Indicators"),
    "warnings": ("三、预警", "3. Warnings"), "cases": ("四、监测案件", "4. Monitoring cases"),
    "ledger": ("五、耕地占补平衡与土地整治", "5. Farmland balance and land consolidation"),
    "notes": ("六、说明", "6. Notes"), "name": ("指标", "Indicator"), "value": ("现状值", "Value"),
    "unit": ("单位", "Unit"), "target": ("目标", "Target"), "status": ("状态", "Status"),
    "slope": ("年均变化", "Per year"), "crossing": ("预计突破", "Crossing"),
    "type": ("属性", "Type"), "none": ("无", "None"), "class": ("类型", "Class"),
    "count": ("数量", "Count"), "patch": ("图斑编号", "Patch"), "area": ("面积(m²)", "Area (m²)"),
    "image": ("后时相", "Image"), "projects": ("项目", "Projects"),
    "update": ("年度", "Update"), "occupied": ("占用耕地(公顷)", "Occupied (ha)"),
    "supplemented": ("补充耕地(公顷)", "Supplemented (ha)"), "balance": ("平衡(公顷)", "Balance (ha)"),
    "project": ("整治项目", "Project"), "progress": ("进度", "Progress"),
    "planned": ("计划新增耕地(公顷)", "Planned new farmland (ha)"),
    "measured": ("测得新增耕地(公顷)", "Measured new farmland (ha)"),
    "convention": ("约定算法", "Convention"),
    "method": ("趋势为逐年末值的最小二乘直线，预计突破年份给出 80% 预测区间的早、晚两端；距目标 2% 以内或 3 年内可能突破为预警。",
               "Trends are least-squares lines through the year-end values; the crossing gives "
               "the early and late edges of the 80 % prediction band. Within 2 % of the target "
               "or a possible crossing within 3 years is a warning."),
    "binding": ("约束性", "binding"), "expected": ("预期性", "expected"),
}


def _t(doc: Mapping[str, Any], key: str) -> str:
    zh, en = _TEXT[key]
    return en if doc.get("lang") == "en" else zh


def _e(value: Any) -> str:
    return html.escape("—" if value is None else str(value))


def _num(value: Any, decimals: int = 2) -> str:
    return "—" if value is None else f"{value:,.{decimals}f}"


def series_svg(series: Sequence[Mapping[str, Any]], target: float | None,
               colour: str = "#1d4e89", width: int = 260, height: int = 90) -> str:
    """A small line chart of a series (``as_of``, ``value``) with the target as a dashed line.

    Examples
    --------
    >>> svg = series_svg([{"as_of": "2021-12-31", "value": 1.0},
    ...                   {"as_of": "2022-12-31", "value": 2.0}], 1.5)
    >>> svg.startswith("<svg") and "stroke-dasharray" in svg
    True
    """
    points = [(str(p["as_of"]), float(p["value"])) for p in series if p.get("value") is not None]
    if not points:
        return ""
    values = [v for _, v in points] + ([target] if target is not None else [])
    lo, hi = min(values), max(values)
    span = hi - lo or abs(hi) * 0.01 or 1.0
    lo, hi = lo - 0.1 * span, hi + 0.1 * span
    left, right, top, bottom = 6, width - 6, 8, height - 16
    n = len(points)

    def x(k: int) -> float:
        return left + (right - left) * (k / (n - 1) if n > 1 else 0.5)

    def y(v: float) -> float:
        return bottom - (bottom - top) * (v - lo) / (hi - lo)

    path = " ".join(f"{'M' if k == 0 else 'L'}{x(k):.1f},{y(v):.1f}"
                    for k, (_, v) in enumerate(points))
    dots = "".join(f'<circle cx="{x(k):.1f}" cy="{y(v):.1f}" r="2.2" fill="{colour}"/>'
                   for k, (_, v) in enumerate(points))
    target_line = ""
    if target is not None:
        target_line = (f'<line x1="{left}" x2="{right}" y1="{y(target):.1f}" y2="{y(target):.1f}" '
                       'stroke="#c0392b" stroke-width="1" stroke-dasharray="4 3"/>')
    labels = (f'<text x="{left}" y="{height - 3}" font-size="9" fill="#666">'
              f'{_e(points[0][0][:4])}</text>'
              f'<text x="{right}" y="{height - 3}" font-size="9" fill="#666" '
              f'text-anchor="end">{_e(points[-1][0][:10])}</text>')
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" role="img">{target_line}'
            f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.6"/>{dots}{labels}'
            "</svg>")


def _table(head: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    out = ["<table><thead><tr>", *(f"<th>{_e(h)}</th>" for h in head), "</tr></thead><tbody>"]
    for row in rows:
        out.append("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


_CSS = """
body{font-family:"Noto Sans CJK SC","Microsoft YaHei","PingFang SC",sans-serif;margin:2em auto;
max-width:1000px;color:#222;line-height:1.5}h1{color:#1d4e89}h2{color:#1d4e89;border-bottom:2px
solid #1d4e89;padding-bottom:.2em;margin-top:1.6em}table{border-collapse:collapse;width:100%;
margin:.5em 0;font-size:.9em}th,td{border:1px solid #c8ccd2;padding:3px 6px;vertical-align:top}
th{background:#eef2f7}.cards{display:flex;flex-wrap:wrap;gap:10px}.card{border:1px solid #c8ccd2;
border-left:6px solid var(--c);border-radius:4px;padding:.4em .6em;width:300px;break-inside:avoid}
.card h3{margin:.1em 0;font-size:1em}.card .v{font-size:1.3em;font-weight:bold}.st{color:#fff;
background:var(--c);border-radius:3px;padding:0 .4em;font-size:.85em}.meta{color:#666;font-size:
.85em}.warn li{margin:.3em 0}@media print{body{margin:0}.card{width:46%}}@page{size:A4;margin:15mm}
"""


def _card(doc: Mapping[str, Any], row: Mapping[str, Any]) -> str:
    lang = doc.get("lang", "zh")
    zh, en, colour = _STATUS.get(row.get("status"), _STATUS[None])
    d = 4 if row.get("unit") in ("%",) else 2
    target = "" if row.get("target") is None else (
        f'<div class="meta">{_e(_t(doc, "target"))} {_e(row.get("direction") or "")}'
        f'{_num(row["target"], d)}（{_e(row.get("target_year"))}）</div>')
    fc = row.get("forecast") or {}
    crossing = ""
    if fc.get("crossing_early") is not None:
        late = fc.get("crossing_late")
        crossing = (f'<div class="meta">{_e(_t(doc, "crossing"))} {fc["crossing_early"]:.1f}'
                    f'{"–" + format(late, ".1f") if late else "+"}</div>')
    conv = ('<div class="meta">* ' + _e(_t(doc, "convention")) + "</div>") if row.get(
        "convention") else ""
    return (f'<div class="card" style="--c:{colour}"><h3>{_e(row["name"])}</h3>'
            f'<div><span class="v">{_num(row.get("value"), d)}</span> {_e(row.get("unit_label"))} '
            f'<span class="st">{_e(zh if lang == "zh" else en)}</span></div>{target}{crossing}'
            f'{series_svg(row.get("series") or [], row.get("target"), colour)}{conv}</div>')


def render_monitor_html(doc: Mapping[str, Any]) -> str:
    """The whole report as one HTML page."""
    ind = doc["indicators"]
    lang = doc.get("lang", "zh")
    parts = [f'<!doctype html><html lang="{"en" if lang == "en" else "zh-CN"}"><head>'
             f'<meta charset="utf-8"><title>{_e(_t(doc, "title"))}</title><style>{_CSS}</style>'
             f'</head><body><h1>{_e(_t(doc, "title"))}</h1>',
             f'<p class="meta">{_e(_t(doc, "as_of"))} {_e(doc["as_of"])} · '
             f'{_e(ind["catalogue"]["title"])}（{_e(ind["catalogue"]["id"])} '
             f'{_e(ind["catalogue"]["version"])}）</p>',
             f'<h2>{_e(_t(doc, "summary"))}</h2>']
    s = ind["summary"]
    counts = "，".join(f'{_STATUS[k][0 if lang == "zh" else 1]} {s[k]}'
                      for k in ("red", "yellow", "green"))
    parts.append(f"<p>{_e(counts)}</p>")
    if doc.get("cases"):
        by_class = doc["cases"]["summary"]["by_class"]
        parts.append(f'<p>{_e(_t(doc, "cases"))[2:]}：{_e(sum(by_class.values()))}</p>')
    if doc.get("consolidation"):
        t = doc["consolidation"]["totals"]
        parts.append(f'<p>{_e(_t(doc, "occupied"))} {_num(t["occupied_m2"] / 1e4, 4)}，'
                     f'{_e(_t(doc, "supplemented"))} {_num(t["supplemented_m2"] / 1e4, 4)}</p>')
    parts.append(f'<h2>{_e(_t(doc, "indicators"))}</h2><div class="cards">')
    parts += [_card(doc, row) for row in ind["indicators"]]
    parts.append("</div>")
    parts.append(_table(
        [_t(doc, k) for k in ("name", "type", "value", "unit", "target", "status", "slope")],
        ([_e(r["name"]) + (" *" if r.get("convention") else ""),
          _e(_t(doc, r["type"]) if r["type"] in _TEXT else r["type"]),
          _num(r.get("value"), 4), _e(r.get("unit_label")),
          "—" if r.get("target") is None else f'{_e(r.get("direction"))}{_num(r["target"], 4)}'
          f'（{_e(r.get("target_year"))}）',
          _e(_STATUS.get(r.get("status"), _STATUS[None])[0 if lang == "zh" else 1]),
          _num((r.get("forecast") or {}).get("slope_per_year"), 4)]
         for r in ind["indicators"])))
    parts.append(f'<h2>{_e(_t(doc, "warnings"))}</h2>')
    warns = list(ind["warnings"])
    if doc.get("consolidation"):
        warns += [{"message": w} for w in doc["consolidation"]["warnings"]]
    parts.append('<ul class="warn">' + "".join(f"<li>{_e(w['message'])}</li>" for w in warns)
                 + "</ul>" if warns else f"<p>{_e(_t(doc, 'none'))}</p>")
    parts.append(f'<h2>{_e(_t(doc, "cases"))}</h2>')
    cases = doc.get("cases")
    if cases:
        parts.append(_table([_t(doc, k) for k in ("patch", "class", "status", "image", "area",
                                                   "projects")],
                            ([_e(c["tbbh"]), _e(c["class_name"]), _e(c["status_name"]),
                              _e(c["image_date"]), _num(c["area_m2"]),
                              _e("；".join(p["xmdm"] for p in c["projects"]) or "—")]
                             for c in cases["cases"])))
    parts.append(f'<h2>{_e(_t(doc, "ledger"))}</h2>')
    cons = doc.get("consolidation")
    if cons:
        parts.append(_table([_t(doc, k) for k in ("update", "occupied", "supplemented",
                                                   "balance")],
                            ([_e(r["version"]), _num(r["occupied_m2"] / 1e4, 4),
                              _num(r["supplemented_m2"] / 1e4, 4),
                              _num(r["balance_m2"] / 1e4, 4)] for r in cons["ledger"])))
        parts.append(_table([_t(doc, k) for k in ("project", "progress", "planned",
                                                   "measured")],
                            ([_e(f'{p["xmmc"]}（{p["xmdm"]}）'),
                              _e("—" if p["progress_pct"] is None else f'{p["progress_pct"]:g}%'),
                              _num((p["planned"]["new_farmland_m2"] or 0) / 1e4, 4),
                              _num(p["measured"]["new_farmland_m2"] / 1e4, 4)]
                             for p in cons["projects"])))
    parts.append(f'<h2>{_e(_t(doc, "notes"))}</h2><p>{_e(_t(doc, "method"))}</p><ul>')
    for r in ind["indicators"]:
        if r.get("convention"):
            parts.append(f'<li><b>{_e(r["name"])}</b>：{_e(r["convention"])}</li>')
    parts += [f"<li>{_e(n)}</li>" for n in doc.get("notes", [])]
    parts.append("</ul></body></html>")
    return "".join(parts)


def write_monitor_xlsx(doc: Mapping[str, Any], path: Path) -> Path:
    """The report's tables as an XLSX workbook (one sheet each)."""
    ind = doc["indicators"]
    sheets: dict[str, pd.DataFrame] = {}
    sheets["指标"] = pd.DataFrame([{
        "编号": r["id"], "指标": r["name"], "属性": r["type"], "单位": r["unit_label"],
        "现状值": r["value"], "目标年": r["target_year"], "目标值": r["target"],
        "状态": _STATUS.get(r["status"], _STATUS[None])[0],
        "年均变化": (r.get("forecast") or {}).get("slope_per_year"),
        "预计突破(早)": (r.get("forecast") or {}).get("crossing_early"),
        "公式": r["lineage"]["formula"], "约定算法": r.get("convention") or ""}
        for r in ind["indicators"]])
    sheets["指标序列"] = pd.DataFrame([{"编号": r["id"], "指标": r["name"], "日期": p["as_of"],
                                     "值": p["value"]} for r in ind["indicators"]
                                    for p in r["series"]])
    sheets["预警"] = pd.DataFrame([{"指标": w["indicator"], "状态": w["status"],
                                  "说明": w["message"]} for w in ind["warnings"]],
                                columns=["指标", "状态", "说明"])
    if doc.get("cases"):
        sheets["监测案件"] = pd.DataFrame([{
            "图斑编号": c["tbbh"], "类型": c["class_name"], "状态": c["status_name"],
            "后时相": c["image_date"], "面积(m²)": c["area_m2"],
            **{f"重叠_{k}(m²)": v for k, v in c["overlaps_m2"].items()},
            "项目": "；".join(p["xmdm"] for p in c["projects"])} for c in doc["cases"]["cases"]])
    if doc.get("consolidation"):
        cons = doc["consolidation"]
        sheets["占补平衡"] = pd.DataFrame([{
            "年度": r["version"], "占用耕地(m²)": r["occupied_m2"],
            "补充耕地(m²)": r["supplemented_m2"], "平衡(m²)": r["balance_m2"],
            "建设用地减少(m²)": r["construction_reduced_m2"]} for r in cons["ledger"]])
        sheets["土地整治"] = pd.DataFrame([{
            "项目代码": p["xmdm"], "项目名称": p["xmmc"], "进度(%)": p["progress_pct"],
            "计划新增耕地(m²)": p["planned"]["new_farmland_m2"],
            "测得新增耕地(m²)": p["measured"]["new_farmland_m2"],
            "测得建设用地减少(m²)": p["measured"]["construction_reduced_m2"],
            "提示": "；".join(p["warnings"])} for p in cons["projects"]])
    with pd.ExcelWriter(path) as writer:
        for name, frame in sheets.items():
            frame.to_excel(writer, sheet_name=name, index=False)
    return path


def render_monitor_pdf(doc: Mapping[str, Any]) -> bytes:
    """The report as a PDF (A4): the overview, the indicator table with a chart per
    indicator, warnings, cases and the ledger."""
    from reportlab.graphics.shapes import Drawing, Line, PolyLine, String
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from guotu.io.review_pdf import find_cjk_font, paragraph_styles

    font = find_cjk_font()
    st = paragraph_styles(font.name, doc.get("lang") != "en")
    ind = doc["indicators"]
    lang = doc.get("lang", "zh")
    story: list[Any] = [Paragraph(html.escape(_t(doc, "title")), st.title),
                        Paragraph(html.escape(f'{_t(doc, "as_of")} {doc["as_of"]} · '
                                              f'{ind["catalogue"]["title"]}'), st.small)]

    def table(head: Sequence[str], rows: Iterable[Sequence[Any]],
              widths: Sequence[float] | None = None) -> Table:
        data = [[Paragraph(html.escape(str(h)), st.cell) for h in head]]
        data += [[Paragraph(html.escape("—" if c is None else str(c)), st.cell) for c in r]
                 for r in rows]
        t = Table(data, colWidths=widths, repeatRows=1)
        t.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#c8ccd2")),
                               ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef2f7")),
                               ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return t

    story.append(Paragraph(html.escape(_t(doc, "indicators")), st.h2))
    story.append(table([_t(doc, k) for k in ("name", "value", "unit", "target", "status",
                                             "slope")],
                       ([r["name"] + (" *" if r.get("convention") else ""),
                         _num(r.get("value"), 4), r.get("unit_label"),
                         None if r.get("target") is None else
                         f'{r.get("direction")}{_num(r["target"], 4)}（{r.get("target_year")}）',
                         _STATUS.get(r.get("status"), _STATUS[None])[0 if lang == "zh" else 1],
                         _num((r.get("forecast") or {}).get("slope_per_year"), 4)]
                        for r in ind["indicators"]),
                       [55 * mm, 25 * mm, 20 * mm, 35 * mm, 18 * mm, 22 * mm]))
    for r in ind["indicators"]:
        pts = [(p["as_of"], p["value"]) for p in r["series"] if p["value"] is not None]
        if len(pts) < 2 or r.get("target") is None:
            continue
        values = [v for _, v in pts] + [r["target"]]
        lo, hi = min(values), max(values)
        span = hi - lo or abs(hi) * 0.01 or 1.0
        w, h = 160 * mm, 28 * mm

        def y(v: float, lo: float = lo, span: float = span, h: float = h) -> float:
            return 4 + (h - 14) * (v - lo) / span

        d = Drawing(w, h)
        xs = [8 + (w - 16) * k / (len(pts) - 1) for k in range(len(pts))]
        colour = colors.HexColor(_STATUS.get(r.get("status"), _STATUS[None])[2])
        d.add(Line(8, y(r["target"]), w - 8, y(r["target"]), strokeColor=colors.red,
                   strokeDashArray=[3, 2], strokeWidth=0.6))
        d.add(PolyLine([c for k, (_, v) in enumerate(pts) for c in (xs[k], y(v))],
                       strokeColor=colour, strokeWidth=1.2))
        d.add(String(8, h - 8, f'{r["name"]}（{r.get("unit_label")}）', fontName=font.name,
                     fontSize=7))
        story += [d, Spacer(1, 2)]
    story.append(Paragraph(html.escape(_t(doc, "warnings")), st.h2))
    warns = [w["message"] for w in ind["warnings"]]
    if doc.get("consolidation"):
        warns += list(doc["consolidation"]["warnings"])
    story += [Paragraph(html.escape("● " + w), st.body) for w in warns] or [
        Paragraph(html.escape(_t(doc, "none")), st.body)]
    if doc.get("cases"):
        story.append(Paragraph(html.escape(_t(doc, "cases")), st.h2))
        story.append(table([_t(doc, k) for k in ("patch", "class", "status", "area")],
                           ([c["tbbh"], c["class_name"], c["status_name"],
                             _num(c["area_m2"])] for c in doc["cases"]["cases"])))
    if doc.get("consolidation"):
        cons = doc["consolidation"]
        story.append(Paragraph(html.escape(_t(doc, "ledger")), st.h2))
        story.append(table([_t(doc, k) for k in ("update", "occupied", "supplemented",
                                                 "balance")],
                           ([r["version"], _num(r["occupied_m2"] / 1e4, 4),
                             _num(r["supplemented_m2"] / 1e4, 4),
                             _num(r["balance_m2"] / 1e4, 4)] for r in cons["ledger"])))
    story.append(Paragraph(html.escape(_t(doc, "notes")), st.h2))
    story.append(Paragraph(html.escape(_t(doc, "method")), st.small))
    buf = io.BytesIO()
    SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                      topMargin=15 * mm, bottomMargin=15 * mm,
                      title=_t(doc, "title")).build(story)
    return buf.getvalue()
