"""The fixed words of the plan-review report in Chinese and English.

Labels of tables and sections, review kinds, spatial relations and units, each as a
(Chinese, English) pair; the report document's ``lang`` picks one (anything but ``"en"`` is
Chinese). Severities are named as everywhere else
(:attr:`guotu.domain.core.findings.Severity.name_zh`), review kinds as the rule packs name them
(:data:`guotu.domain.review.pack.KIND_NAMES`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guotu.domain.core.findings import Severity
from guotu.domain.review.pack import KIND_NAMES
from guotu.io.review_model import ReviewDocument

__all__ = [
    "MISSING",
    "kind_text",
    "label",
    "relation_text",
    "severity_text",
    "unit_text",
]

#: Shown for a missing value in every format.
MISSING = "—"

_TEXT: dict[str, tuple[str, str]] = {
    "overview": ("审查概况", "Review overview"),
    "stamp": ("审查依据版本", "Rule pack and data versions"),
    "basis": ("审查依据", "Rules and legal basis"),
    "summary": ("问题汇总", "Summary"),
    "by_severity": ("按严重程度", "By severity"),
    "by_rule": ("按规则", "By rule"),
    "list": ("问题清单", "Findings"),
    "details": ("问题详情", "Finding details"),
    "skipped": ("未执行的规则", "Rules not run"),
    "repairs": ("几何修复记录", "Geometry repairs"),
    "kind": ("审查类型", "Review kind"),
    "source": ("审查对象", "Reviewed data"),
    "workspace": ("工作空间", "Workspace"),
    "crs": ("坐标系", "CRS"),
    "generated_at": ("生成时间", "Generated at"),
    "rule_pack": ("规则包", "Rule pack"),
    "rule_pack_version": ("规则包版本", "Rule pack version"),
    "profile": ("地方配置", "Profile"),
    "rule_pack_hash": ("规则包哈希", "Rule pack hash"),
    "as_of": ("审查基准日", "As of"),
    "known_at": ("数据截至", "Known at"),
    "data_versions": ("数据版本", "Data versions"),
    "data_layer": ("图层", "Layer"),
    "data_version": ("所属规划及版本", "Plan and version"),
    "no": ("序号", "No."),
    "rule": ("规则", "Rule"),
    "rule_title": ("规则名称", "Title"),
    "severity": ("严重程度", "Severity"),
    "count": ("问题数", "Findings"),
    "total": ("合计", "Total"),
    "area_m2": ("面积（平方米）", "Area (m²)"),
    "area_ha": ("面积（公顷）", "Area (ha)"),
    "features": ("涉及要素", "Features"),
    "layer": ("图层", "Layer"),
    "feature_ids": ("要素编号", "Feature ids"),
    "fids": ("要素 fid", "Feature fids"),
    "code": ("用地代码", "Land-use code"),
    "code_name": ("用地名称", "Land-use name"),
    "zone": ("管控区", "Zone"),
    "zone_layer": ("管控图层", "Zone layer"),
    "relation": ("空间关系", "Relation"),
    "share_of_feature": ("占要素比例", "Share of feature"),
    "share_of_zone": ("占管控区比例", "Share of zone"),
    "measured": ("实测值", "Measured"),
    "limit": ("限值", "Limit"),
    "unit": ("单位", "Unit"),
    "message": ("问题说明", "Problem"),
    "suggestion": ("修改建议", "Suggestion"),
    "legal_basis": ("依据", "Basis"),
    "repaired": ("几何已修复", "Geometry repaired"),
    "yes": ("是", "yes"),
    "no_": ("否", "no"),
    "reason": ("原因", "Reason"),
    "feature": ("要素", "Feature"),
    "area_before": ("修复前面积（平方米）", "Area before (m²)"),
    "area_after": ("修复后面积（平方米）", "Area after (m²)"),
    "finding": ("问题", "Finding"),
    "map": ("示意图", "Map"),
    "no_findings": ("未发现问题。", "No findings."),
    "no_map": ("本问题无空间位置。", "This finding has no location."),
    "status": ("状态", "Status"),
    "run": ("已执行", "run"),
    "not_run": ("未执行", "not run"),
    "north": ("北", "N"),
    "item": ("项目", "Item"),
    "value": ("内容", "Value"),
    # the 审查意见 on page 1 and the tables a planner reads
    "opinion": ("审查意见", "Review opinion"),
    "conclusion": ("审查结论", "Conclusion"),
    "verdict_fail": ("不通过", "Not passed"),
    "verdict_revise": ("需修改", "To be revised"),
    "verdict_pass": ("通过", "Passed"),
    "main_findings": ("主要问题（按面积从大到小）", "Main findings (largest first)"),
    "more_findings": (
        "另有 {n} 项错误或警告，详见问题清单。",
        "{n} more errors or warnings: see the findings table.",
    ),
    "changes": ("修改要求", "Required change"),
    "issue": ("问题", "Issue"),
    "finding_no": ("问题编号", "Finding"),
    "feature_col": ("涉及地块", "Feature"),
    "area_mu": ("面积（亩）", "Area (mu)"),
    "area_m2_short": ("平方米", "m²"),
    "area_ha_short": ("公顷", "ha"),
    "area_mu_short": ("亩", "mu"),
    "share_short": ("占地块", "Of feature"),
    "zone_share_short": ("占管控区", "Of zone"),
    "measure_limit": ("实测值／限值", "Measured / limit"),
    "rule_id": ("规则编号", "Rule id"),
    "conflict_area": ("冲突面积", "conflict area"),
    "tolerance": ("面积小于 {x} 平方米的碎片不计", "pieces under {x} m² are not counted"),
    "should_be": ("应为", "should be"),
    "page_lead": ("第 {page} 页，共 ", "Page {page} of "),
    "page_total": ("{total} 页", "{total}"),
    "made_with": ("规则包 {pack} {version}", "Rule pack {pack} {version}"),
    "data": ("数据", "Data"),
    "made_on": ("生成日期", "made on"),
    # the signature block of page 1, filled in by hand
    "signatures": ("审查签章", "Signatures"),
    "sign_unit": ("审查单位", "Reviewing body"),
    "sign_reviewer": ("审查人", "Reviewed by"),
    "sign_checker": ("审核人", "Checked by"),
    "sign_issuer": ("签发", "Issued by"),
    "sign_date": ("日期", "Date"),
    "sign_date_blank": ("年　　月　　日", ""),
    "subject": ("审查对象：{x}", "Reviewed: {x}"),
}

_KIND_TEXT = KIND_NAMES
_RELATION_TEXT = {
    "within": ("位于其内", "within"),
    "overlaps": ("部分重叠", "overlaps"),
    "contains": ("包含", "contains"),
    "crosses": ("穿越", "crosses"),
    "intersects": ("相交", "intersects"),
    "touches": ("相接", "touches"),
    "outside": ("位于其外", "outside"),
}
#: Units as shown; a land-use code carries no unit word (``090301``, not ``090301 code``).
_UNIT_TEXT = {
    "m2": ("m²", "m²"),
    "ha": ("公顷", "ha"),
    "m": ("米", "m"),
    "km": ("千米", "km"),
    "pct": ("%", "%"),
    "%": ("%", "%"),
    "code": ("", ""),
}


def label(doc: ReviewDocument, key: str) -> str:
    """The fixed label ``key`` in the document's language.

    Examples
    --------
    >>> label(ReviewDocument(lang="zh"), "list"), label(ReviewDocument(lang="en"), "list")
    ('问题清单', 'Findings')
    """
    zh, en = _TEXT[key]
    return en if doc.is_english else zh


def _pick(doc: ReviewDocument, table: Mapping[str, tuple[str, str]], value: Any) -> str:
    if value is None or value == "":
        return MISSING
    pair = table.get(str(value))
    if pair is None:
        return str(value)
    return pair[1] if doc.is_english else pair[0]


def severity_text(doc: ReviewDocument, severity: Severity | str | None) -> str:
    """A severity as 错误/警告/提示 (error/warning/info in English).

    Examples
    --------
    >>> severity_text(ReviewDocument(), Severity.WARNING), severity_text(ReviewDocument(lang="en"),
    ...                                                                  "warning")
    ('警告', 'warning')
    """
    if severity is None or severity == "":
        return MISSING
    try:
        return Severity(severity).text(doc.lang)
    except ValueError:
        return str(severity)


def kind_text(doc: ReviewDocument, kind: Any) -> str:
    """The review kind (``detailed-plan`` …) in the document's language.

    Examples
    --------
    >>> kind_text(ReviewDocument(), "detailed-plan"), kind_text(ReviewDocument(), "other")
    ('详细规划', 'other')
    """
    return _pick(doc, _KIND_TEXT, kind)


def relation_text(doc: ReviewDocument, relation: Any) -> str:
    """A spatial relation (``within`` …) in the document's language.

    Examples
    --------
    >>> relation_text(ReviewDocument(), "within"), relation_text(ReviewDocument(), None)
    ('位于其内', '—')
    """
    return _pick(doc, _RELATION_TEXT, relation)


def unit_text(doc: ReviewDocument, unit: Any) -> str:
    """A unit code as shown (``m2`` → ``m²``); an empty string when there is none.

    Examples
    --------
    >>> d = ReviewDocument()
    >>> unit_text(d, "m2"), unit_text(d, "ha"), unit_text(d, None)
    ('m²', '公顷', '')
    """
    if unit is None or unit == "":
        return ""
    return _pick(doc, _UNIT_TEXT, unit)
