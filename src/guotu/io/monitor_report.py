"""The 体检评估 report (规划实施监测与体检评估报告) as self-contained HTML, and its tables as XLSX.

The HTML renders the sections of :func:`guotu.io.monitor_sections.report_sections` (the same
the PDF of :mod:`guotu.io.monitor_pdf` renders, so both have the same content in the same
order), each indicator card with its chart (:func:`guotu.io.monitor_chart.series_svg`). It
references no external file, font or script; the PDF embeds a CJK font
(:mod:`guotu.io.fonts`).
"""

from __future__ import annotations

import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from guotu.io.monitor_chart import series_svg
from guotu.io.monitor_sections import (
    Block,
    Bullets,
    Grid,
    Text,
    label,
    meta_line,
    report_sections,
    status_style,
)

__all__ = ["render_monitor_html", "write_monitor_xlsx"]

_t = label


def _e(value: Any) -> str:
    return html.escape("—" if value is None else str(value))


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
                "状态": status_style({"lang": "zh"}, r["status"])[0],
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
