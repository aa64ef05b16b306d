"""The printable sheet of a site query (规划条件查询单): one A4 page a bureau prints and stamps.

:func:`render_sheet` turns a site-query answer (``SiteReport.to_dict()``) into one
self-contained HTML page (no external resource; print it or save it as PDF from the browser).
Each fact is said once and in words a planner reads:

* the head: where (coordinates, or the parcel), the coordinate system by its Chinese name,
  the as-of date, the data it was made from (the latest record time it read and the data
  version's check code) and the permanent link with its QR code;
* what applies: each feature by its name (``示范县（370999）``), its relation and share, and
  its main attributes under their standard Chinese field names (:data:`guotu.domain.core.fields.FIELDS`),
  a code beside its class name (``用地用海分类：0102 水浇地``);
* the parcel indicators; the land uses by rule (a rule, its basis and its exemptions once,
  with every class it forbids or conditions); the allowed classes by name, the sea classes
  (用海) in one entry;
* pending amendments, the sources (each layer's plan and version once) and a block for the
  issuing office's stamp and signatures.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from pyproj import CRS
from pyproj.exceptions import CRSError

from guotu.domain.codes.classification import SEA_CLASSES, ydyh_2023
from guotu.domain.core.fields import FIELDS
from guotu.domain.core.plan_labels import plan_version_label
from guotu.domain.site.query import feature_name

__all__ = ["crs_label", "feature_label", "render_sheet"]

#: Code fields shown with their name field as one fact (``用地用海分类：0102 水浇地``).
_PAIRS = {"YDYHFLDM": "YDYHFLMC", "DLBM": "DLMC", "GHFQDM": "GHFQMC", "XZQDM": "XZQMC"}
#: Attributes the sheet lists for a feature that applies (in this order, when present).
_SHOWN = (
    "YDYHFLDM",
    "DLBM",
    "GHFQDM",
    "LHLX",
    "JB",
    "XMLX",
    "PZLX",
    "PZWH",
    "PZRQ",
    "ZXLX",
    "DLDJ",
    "HDLX",
    "ZDXMLX",
)
_ROLE_ZH = {
    "admin_boundary": "行政区",
    "ecological_redline": "生态保护红线",
    "permanent_farmland": "永久基本农田",
    "urban_boundary": "城镇开发边界",
    "planned_land_use": "总体规划用地",
    "detailed_unit": "详细规划单元",
    "detailed_parcel": "详细规划地块",
    "special_plan": "专项规划",
    "construction_project": "已批建设项目",
    "consolidation_project": "土地整治项目",
    "land_survey": "现状地类",
    "change_patch": "变化图斑",
    "monitoring_case": "监测案件",
}
_ROLE_EN = {
    "admin_boundary": "Administrative area",
    "ecological_redline": "Ecological red line",
    "permanent_farmland": "Permanent farmland",
    "urban_boundary": "Urban boundary",
    "planned_land_use": "Master-plan land use",
    "detailed_unit": "Detailed-plan unit",
    "detailed_parcel": "Detailed-plan parcel",
    "special_plan": "Special plan",
    "construction_project": "Approved project",
    "consolidation_project": "Consolidation project",
    "land_survey": "Land survey",
    "change_patch": "Change patch",
    "monitoring_case": "Monitoring case",
}
_RELATION = {
    "within": ("位于其内", "within"),
    "contains": ("包含该要素", "contains it"),
    "overlaps": ("部分重叠", "overlaps"),
    "on_boundary": ("位于边界上", "on its edge"),
    "touches": ("仅边界相接", "touches"),
    "crosses": ("穿越", "crosses"),
}
_STATUS = {
    "forbidden": ("禁止", "forbidden"),
    "conditional": ("有条件允许", "conditional"),
    "allowed": ("允许", "allowed"),
}
_VERSION_STATUS = {
    "drafting": "编制中",
    "publicity": "公示",
    "submitted": "报批",
    "approved": "批复",
    "amended": "修改",
    "repealed": "废止",
}
_INDICATORS = (
    ("RJL", "容积率", ""),
    ("JZMD", "建筑密度", "%"),
    ("LDL", "绿地率", "%"),
    ("JZXG", "建筑限高", "m"),
)
_CSS = """
@page{size:A4;margin:12mm 13mm 12mm}
body{font-family:"Noto Sans CJK SC","Source Han Sans SC","WenQuanYi Micro Hei","Microsoft YaHei",
sans-serif;margin:1.5em auto;max-width:184mm;color:#111;font-size:9pt;line-height:1.35}
h1{text-align:center;font-size:15pt;letter-spacing:.25em;margin:0 0 .4em}
h2{font-size:10pt;border-left:4px solid #a00;padding-left:.4em;margin:.7em 0 .25em;
break-after:avoid}
table{border-collapse:collapse;width:100%;table-layout:fixed}
td,th{border:1px solid #555;padding:1px 4px;vertical-align:top;text-align:left;
overflow-wrap:anywhere}
th{background:#eee;font-weight:bold}
tr{break-inside:avoid}
.head{display:flex;gap:4mm;align-items:flex-start}
.head table{flex:1}.head th{width:5.5em;background:#f4f4f4;white-space:nowrap}
.head .link td{font-size:7.5pt;word-break:break-all}
.qr{flex:none;text-align:center;font-size:7pt;width:28mm}.qr svg{width:28mm;height:auto}
.nowrap{white-space:nowrap}.num{text-align:right;white-space:nowrap}
.forbidden{color:#a00;font-weight:bold}.conditional{color:#a60;font-weight:bold}
.small{font-size:7.5pt;color:#333}.note{font-size:7.5pt;color:#444;margin:.3em 0}
.stamp{margin-top:.5em;break-inside:avoid}
.stamp td{border:none;height:1.9em;vertical-align:bottom;width:50%}
.stamp span{display:inline-block;border-bottom:1px solid #333;width:60%;margin-left:.3em}
:lang(en) h1{letter-spacing:.05em}:lang(en) .head th{width:8.5em}
@media print{body{margin:0;max-width:none}}
"""


def _esc(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _pct(share: Any) -> str:
    return "—" if share is None else f"{float(share) * 100:.2f}%"


@lru_cache(maxsize=64)
def crs_label(text: str | None, lang: str = "zh") -> str:
    """A coordinate system by name, as a planner writes it.

    Examples
    --------
    >>> crs_label("EPSG:4527")
    'CGCS2000 3度带高斯-克吕格投影 第39带（中央经线 117°E），EPSG:4527'
    >>> crs_label("EPSG:4490")
    'CGCS2000 地理坐标系，EPSG:4490'
    >>> crs_label("EPSG:4527", "en")
    'CGCS2000 3-degree Gauss-Kruger zone 39 (CM 117°E), EPSG:4527'
    """
    if not text:
        return "—"
    try:
        crs = CRS.from_user_input(text)
    except CRSError:
        return text
    code = crs.to_epsg()
    ref = f"EPSG:{code}" if code else text
    name = crs.name
    zone = re.search(r"CGCS2000 / 3-degree Gauss-Kruger (?:zone (\d+)|CM (\d+)E)", name)
    if zone:
        number = int(zone[1]) if zone[1] else None
        cm = 3 * number if number else int(zone[2])
        if lang == "en":
            part = f" zone {number}" if number else ""
            return f"CGCS2000 3-degree Gauss-Kruger{part} (CM {cm}°E), {ref}"
        part = f" 第{number}带" if number else ""
        return f"CGCS2000 3度带高斯-克吕格投影{part}（中央经线 {cm}°E），{ref}"
    if code == 4490:
        return f"CGCS2000 地理坐标系，{ref}" if lang != "en" else f"CGCS2000 geographic, {ref}"
    return ref


def feature_label(entry: Mapping[str, Any], lang: str = "zh") -> str:
    """A feature by its name and id (``示范县（370999）``), or by its id alone.

    Examples
    --------
    >>> feature_label({"feature": "370999", "properties": {"XZQMC": "示范县"}})
    '示范县（370999）'
    >>> feature_label({"feature": "370999", "properties": {"XZQMC": "示范县"}}, "en")
    '示范县 (370999)'
    >>> feature_label({"feature": "GH1", "properties": {"YDYHFLDM": "0102"}})
    'GH1'
    """
    name = feature_name(entry.get("properties") or {})
    ident = entry.get("feature") or ""
    if name and name != ident:
        if not ident:
            return name
        return f"{name}（{ident}）" if lang != "en" else f"{name} ({ident})"
    return str(ident)


def _field_name(code: str, zh: bool) -> str:
    f = FIELDS.get(code)
    if f is None or not zh:
        return code
    if code in _PAIRS:  # 用地用海分类代码 → 用地用海分类, 地类编码 → 地类
        return re.sub(r"(代码|编码)$", "", f.name_zh)
    return f.name_zh


def _attributes(props: Mapping[str, Any], zh: bool) -> str:
    facts = []
    for key in _SHOWN:
        value = props.get(key)
        if value in (None, ""):
            continue
        pair = _PAIRS.get(key)
        text = f"{value} {props[pair]}" if pair and props.get(pair) else str(value)
        facts.append(f"{_esc(_field_name(key, zh))}{'：' if zh else ': '}{_esc(text)}")
    return "<br>".join(facts)


def _class_name(code: str, zh: bool) -> str:
    if not code:
        return ""
    found = ydyh_2023().get(code)
    if found is None:
        return code
    return f"{code} {found.name_zh if zh else found.name_en}"


def _date_time(value: Any) -> str:
    text = str(value or "")
    return text[:16].replace("T", " ") if text else "—"


def _data_line(doc: Mapping[str, Any], zh: bool) -> str:
    recorded = doc.get("data_recorded_at")
    known = doc.get("known_at")
    token = doc.get("data_version") or "—"
    when = _date_time(known or recorded)
    if zh:
        return f"截至 {when} 登记的数据（数据版本校验码 {token}）"
    return f"Data as recorded by {when} (data version check code {token})"


def _group_uses(codes: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """The restricting reasons grouped by rule: each rule once, with every class it
    forbids or conditions (forbidden rules first)."""
    groups: dict[tuple[Any, ...], dict[str, Any]] = {}
    for c in codes:
        if c["status"] == "allowed":
            continue
        for r in c["reasons"]:
            key = (r["rule"], r["status"], r.get("where"), r.get("zone_role"), r.get("zone_value"))
            g = groups.setdefault(key, {"reason": r, "status": r["status"], "classes": []})
            g["classes"].append((c, r))
    order = {"forbidden": 0, "conditional": 1}
    return sorted(groups.values(), key=lambda g: (order.get(g["status"], 2), g["reason"]["rule"]))


def _uses_rows(uses: Mapping[str, Any], zh: bool) -> list[str]:
    def t(a: str, b: str) -> str:
        return a if zh else b

    rows = []
    for g in _group_uses(uses.get("codes", [])):
        r = g["reason"]
        classes = []
        for c, why in g["classes"]:
            label = f"{c['code']} {c['name_zh'] if zh else c['name_en']}"
            if why.get("only_codes"):
                label += t(
                    f"（仅涉及 {'、'.join(why['only_codes'])}）",
                    f" (only {', '.join(why['only_codes'])})",
                )
            if why.get("except_codes"):
                label += t(
                    f"（{'、'.join(why['except_codes'])} 除外）",
                    f" (except {', '.join(why['except_codes'])})",
                )
            classes.append(_esc(label))
        basis = (
            _esc(r["title_zh"] if zh else r["title_en"])
            + '<br><span class="small">'
            + _esc(r["basis"])
            + "</span>"
        )
        for u in r.get("unless") or ():
            name = _field_name(u["field"], zh)
            items = "；".join(u["in"]) if zh else "; ".join(u["in"])
            basis += (
                '<br><span class="small">'
                + _esc(
                    t(
                        f"除外情形：{name}（{u['field']}）为 {items}",
                        f"Unless {name} is one of: {items}",
                    )
                )
                + "</span>"
            )
        status = g["status"]
        rows.append(
            f'<tr><td class="{status} nowrap">{_esc(_STATUS[status][0 if zh else 1])}'
            f"</td><td>{'、'.join(classes) if zh else ', '.join(classes)}</td>"
            f"<td>{basis}</td></tr>"
        )
    allowed = [c for c in uses.get("codes", []) if c["status"] == "allowed"]
    land = [c for c in allowed if c["code"] not in SEA_CLASSES]
    sea = [c["code"] for c in allowed if c["code"] in SEA_CLASSES]
    names = [f"{c['code']} {c['name_zh'] if zh else c['name_en']}" for c in land]
    if sea:
        names.append(t(f"用海类（{'、'.join(sea)}）", f"sea classes ({', '.join(sea)})"))
    if names:
        rows.append(
            f'<tr><td class="nowrap">{t("允许", "allowed")}</td>'
            f'<td colspan="2">{_esc("、".join(names) if zh else ", ".join(names))}'
            "</td></tr>"
        )
    return rows


def _version_status(status: Any, zh: bool) -> str:
    text = str(status or "")
    return _VERSION_STATUS.get(text, text) if zh else text


def _plan_text(entry: Mapping[str, Any], zh: bool) -> str:
    """The plan and version of an entry as a person reads it."""
    ver = entry.get("version") or {}
    return plan_version_label(
        entry.get("plan"), ver.get("label"), "zh" if zh else "en", role=entry.get("role")
    )


def _sources(doc: Mapping[str, Any], zh: bool) -> list[str]:
    """Each layer's plan and version once (in force, then pending)."""
    seen: dict[tuple[str, Any], Mapping[str, Any]] = {}
    for e in (*doc.get("applies", []), *doc.get("pending", [])):
        ver = e.get("version") or {}
        seen.setdefault((e["layer"], ver.get("id")), e)
    rows = []
    for (layer, _vid), e in seen.items():
        ver = e.get("version") or {}
        role = (_ROLE_ZH if zh else _ROLE_EN).get(e["role"], e["role"])
        status = _version_status(ver.get("status"), zh)
        rows.append(
            f"<tr><td>{_esc(role)}{'（' if zh else ' ('}{_esc(layer)}{'）' if zh else ')'}</td>"
            f"<td>{_esc(_plan_text(e, zh))}</td>"
            f'<td class="nowrap">{_esc(status or "—")}</td>'
            f'<td class="nowrap">{_esc(ver.get("valid_from") or "—")}</td>'
            f'<td class="nowrap">{_esc(_date_time(ver.get("recorded_at")))}</td></tr>'
        )
    return rows


def render_sheet(
    doc: Mapping[str, Any], *, permalink: str, qr_svg: str | None, lang: str = "zh"
) -> str:
    """The printable sheet (规划条件查询单): one self-contained A4 HTML page.

    Parameters
    ----------
    doc
        A site-query answer (``SiteReport.to_dict()``).
    permalink
        The sheet's permanent URL (pins the as-of date and the data version).
    qr_svg
        An inline ``<svg>`` QR code of ``permalink`` (``None``: the link is printed alone).
    lang
        ``zh`` (default) or ``en``.

    Examples
    --------
    >>> doc = {"site": {"type": "Point", "coordinates": [1.0, 2.0], "crs": "EPSG:4527"},
    ...        "as_of": "2026-01-01", "data_version": "abc", "applies": [], "touching": [],
    ...        "pending": [], "allowed_uses": {"codes": [], "master_plan": []}}
    >>> "规划条件" in render_sheet(doc, permalink="/query/sheet?point=1,2", qr_svg=None)
    True
    """
    zh = lang != "en"

    def t(a: str, b: str) -> str:
        return a if zh else b

    site = doc["site"]
    coords = site.get("coordinates")
    where = (
        f"X={coords[0]:.3f}{'，' if zh else ', '}Y={coords[1]:.3f}"
        if site.get("type") == "Point"
        else t(f"面积 {site.get('area_m2', 0):,.2f} m²", f"area {site.get('area_m2', 0):,.2f} m²")
    )
    given = site.get("given") or {}
    if given.get("parcel"):
        where = t(f"地块 {given['parcel']}（{where}）", f"parcel {given['parcel']} ({where})")
    title = t("规划条件查询单", "Site planning conditions")
    out = [
        "<!DOCTYPE html>",
        f'<html lang="{"zh-CN" if zh else "en"}"><head><meta charset="utf-8">',
        f"<title>{title}</title>",
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{title}</h1>",
        '<div class="head"><table>',
    ]
    for label, value in (
        (t("查询位置", "Site"), where),
        (t("坐标系", "CRS"), crs_label(site.get("crs"), "zh" if zh else "en")),
        (t("现行日期", "As of"), doc.get("as_of")),
        (t("数据版本", "Data version"), _data_line(doc, zh)),
    ):
        out.append(f"<tr><th>{_esc(label)}</th><td>{_esc(value)}</td></tr>")
    out.append(
        f'<tr class="link"><th>{t("永久链接", "Permanent link")}</th>'
        f"<td>{_esc(permalink)}</td></tr></table>"
    )
    if qr_svg:
        out.append(
            f'<div class="qr">{qr_svg}<div>{t("扫码查看本单", "Scan for this sheet")}</div></div>'
        )
    out.append("</div>")

    n = iter([f"{c}、" for c in "一二三四五六七八九十"] if zh else [f"{k}. " for k in range(1, 11)])
    out.append(f"<h2>{next(n)}{t('适用的规划管控要素', 'What applies')}</h2>")
    out.append(
        '<table><colgroup><col style="width:16%"><col style="width:24%">'
        '<col style="width:11%"><col style="width:11%"><col></colgroup>'
        f"<tr><th>{t('类型', 'Kind')}</th><th>{t('要素', 'Feature')}</th>"
        f"<th>{t('关系', 'Relation')}</th><th>{t('占查询范围', 'Share')}</th>"
        f"<th>{t('主要属性', 'Attributes')}</th></tr>"
    )
    for e in doc.get("applies", []):
        role = (_ROLE_ZH if zh else _ROLE_EN).get(e["role"], e["role"])
        relation = _RELATION.get(e["relation"], (e["relation"], e["relation"]))[0 if zh else 1]
        out.append(
            f"<tr><td>{_esc(role)}</td><td>{_esc(feature_label(e, lang))}</td>"
            f'<td class="nowrap">{_esc(relation)}</td>'
            f'<td class="num">{_pct(e.get("share_of_site"))}</td>'
            f"<td>{_attributes(e.get('properties') or {}, zh)}</td></tr>"
        )
    out.append("</table>")

    parcels = [
        e
        for e in doc.get("applies", [])
        if e["role"] in ("detailed_parcel", "construction_project")
    ]
    if parcels:
        out.append(
            f"<h2>{next(n)}{t('地块控制指标', 'Parcel indicators')}</h2><table><tr>"
            f"<th>{t('地块/项目', 'Parcel')}</th><th>{t('用地性质', 'Use')}</th>"
            + "".join(f"<th>{_esc(name if zh else k)}</th>" for k, name, _u in _INDICATORS)
            + "</tr>"
        )
        for e in parcels:
            p = e.get("properties") or {}
            cells = "".join(
                f'<td class="num">{_esc(p.get(k, "—"))}{_esc(u) if k in p and u else ""}</td>'
                for k, _n, u in _INDICATORS
            )
            use = _class_name(str(p.get("YDYHFLDM") or ""), zh)
            out.append(
                f"<tr><td>{_esc(feature_label(e, lang))}</td><td>{_esc(use)}</td>{cells}</tr>"
            )
        out.append("</table>")

    uses = doc.get("allowed_uses") or {}
    out.append(f"<h2>{next(n)}{t('用途管制（依据规则包）', 'Land uses (from the rule pack)')}</h2>")
    out.append(
        '<table><colgroup><col style="width:13%"><col style="width:42%"><col></colgroup>'
        f"<tr><th>{t('结论', 'Status')}</th><th>{t('一级类', 'Classes')}</th>"
        f"<th>{t('依据', 'Basis')}</th></tr>"
    )
    out.extend(_uses_rows(uses, zh))
    out.append("</table>")
    for m in uses.get("master_plan", []):
        admits = [_class_name(c, zh) for c in m["admits"]]
        out.append(
            f"<p>{t('总体规划用途', 'Master-plan use')} {_esc(_class_name(m['code'], zh))}"
            f"{t('（', ' (')}{_esc(m['feature'])}{t('）', ')')}"
            f"{t('下，详细规划可安排：', ' admits in detailed plans: ')}"
            f"{_esc(('、' if zh else ', ').join(admits) or '—')}</p>"
        )

    if doc.get("pending"):
        out.append(
            f"<h2>{next(n)}{t('在途规划修改（公示/报批）', 'Pending amendments')}</h2>"
            f"<table><tr><th>{t('要素', 'Feature')}</th><th>{t('变化', 'Change')}</th>"
            f"<th>{t('规划/版本', 'Plan / version')}</th>"
            f"<th>{t('拟生效日期', 'Effective from')}</th></tr>"
        )
        for e in doc["pending"]:
            ver = e.get("version") or {}
            change = (
                {"added": "新增", "removed": "移除"}.get(e["change"], e["change"])
                if zh
                else e["change"]
            )
            status = _version_status(ver.get("status"), zh)
            role = (_ROLE_ZH if zh else _ROLE_EN).get(e["role"], e["role"])
            out.append(
                f"<tr><td>{_esc(role)} {_esc(feature_label(e, lang))}</td>"
                f'<td class="nowrap">{_esc(change)}</td><td>{_esc(_plan_text(e, zh))}'
                f"（{_esc(status)}）</td>"
                f'<td class="nowrap">{_esc(ver.get("valid_from") or "—")}</td></tr>'
            )
        out.append("</table>")

    sources = _sources(doc, zh)
    if sources:
        out.append(
            f"<h2>{next(n)}{t('数据来源', 'Sources')}</h2><table>"
            '<colgroup><col style="width:26%"><col><col style="width:10%">'
            '<col style="width:13%"><col style="width:18%"></colgroup>'
            f"<tr><th>{t('图层', 'Layer')}</th><th>{t('规划/版本', 'Plan / version')}</th>"
            f"<th>{t('状态', 'Status')}</th><th>{t('生效日期', 'In force from')}</th>"
            f"<th>{t('登记时间', 'Recorded')}</th></tr>" + "".join(sources) + "</table>"
        )
    if doc.get("touching"):
        names = "、".join(f"{e['layer']} {feature_label(e, lang)}" for e in doc["touching"])
        out.append(
            f'<p class="note">{t("仅边界相接（不适用）：", "Touching only (not applying): ")}'
            f"{_esc(names)}</p>"
        )
    out.append(
        f'<p class="note">{t("本单依据上列现行日期与数据版本生成，仅供规划管理参考，以批准的规划文件为准；扫码或访问永久链接可复现同一结果。", "Generated for the as-of date and data version above, for reference; the approved plan documents prevail. The permanent link reproduces it.")}</p>'
    )
    colon = t("：", ": ")
    out.append(
        '<table class="stamp"><tr>'
        f"<td>{t('出具单位（盖章）', 'Issued by (stamp)')}{colon}<span></span></td>"
        f"<td>{t('出具日期', 'Date')}{colon}<span></span></td></tr>"
        f"<tr><td>{t('经办人', 'Prepared by')}{colon}<span></span></td>"
        f"<td>{t('审核人', 'Checked by')}{colon}<span></span></td></tr></table>"
    )
    out.append("</body></html>")
    return "\n".join(out)
