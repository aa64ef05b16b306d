"""The fixed words of the decision PDF (:mod:`guotu.io.decision_pdf`), each a (Chinese,
English) pair: section titles, table heads, the unverified-basis marker, the footer's
templates, and what the applicant, the authority and the date are called on each kind.
"""

from __future__ import annotations

from guotu.io.decision_model import DecisionKind

__all__ = ["APPLICANT", "ISSUED", "LABELS", "label"]

#: The labels by key; ``{…}`` fields are filled by :func:`label`.
LABELS: dict[str, tuple[str, str]] = {
    "case_ref": ("案件编号", "Case number"),
    "project": ("项目名称", "Project"),
    "location": ("用地位置", "Location"),
    "site_area": ("用地面积", "Site area"),
    "ha": ("公顷", "ha"),
    "facts": ("基本情况", "Particulars"),
    "decision": ("决定内容", "Decision"),
    "conditions": ("附加条件", "Conditions attached"),
    "reasons": ("不予许可的理由", "Reasons for refusal"),
    "planning": ("规划条件", "Planning conditions"),
    "as_built": ("规划核实对照", "As-built comparison"),
    "map": (
        "用地位置图（国土空间规划“一张图”摘录）",
        "Site plan (excerpt of the planning one-map)",
    ),
    "map_crs": (
        "坐标系：{crs}；红线为用地范围。",
        "Coordinate system: {crs}; the red line is the site.",
    ),
    "opinions": ("部门意见", "Department opinions"),
    "review": ("智能审查摘要", "Automatic review summary"),
    "basis": ("法律依据", "Legal basis"),
    "notices": ("告知事项", "Notices"),
    "item": ("项目", "Item"),
    "value": ("内容", "Details"),
    "indicator": ("指标", "Indicator"),
    "planned": ("规定值", "Value"),
    "unit": ("单位", "Unit"),
    "source": ("依据", "Source"),
    "permitted": ("许可值", "Permitted"),
    "measured": ("实测值", "Measured"),
    "tolerance": ("允许误差", "Tolerance"),
    "result": ("结论", "Result"),
    "within": ("合格", "Within"),
    "exceeded": ("超出", "Exceeded"),
    "not_measured": ("未测量", "Not measured"),
    "department": ("部门", "Department"),
    "opinion": ("意见", "Opinion"),
    "opinion_conditions": ("条件或理由", "Conditions or reasons"),
    "date": ("日期", "Date"),
    "rule": ("审查规则", "Rule"),
    "outcome": ("结果", "Outcome"),
    "finding": ("审查发现", "Finding"),
    "no": ("序号", "No."),
    "document": ("依据文件及条款", "Document and article"),
    "checked": ("核对", "Checked"),
    "verified": ("已核对", "Verified"),
    "not_verified": ("未核对", "Not verified"),
    "unverified": ("〔依据条文未经核对〕", " [article not verified]"),
    "unverified_note": (
        "标有〔依据条文未经核对〕的依据，其条文尚未与官方文本核对，引用前须核对。",
        "A basis marked [article not verified] has not been checked against the official "
        "text; check it before citing it.",
    ),
    "scan": ("扫码核验", "Scan to verify"),
    "no_url": ("（无核验链接）", "(no verification URL)"),
    "seal": ("{authority}（盖章）", "{authority} (seal)"),
    "rule_pack": ("规则包 {id} {version}", "Rule pack {id} {version}"),
    "generated": ("生成时间 {at}", "Generated {at}"),
    "data": ("数据：{data}", "Data: {data}"),
    "page_lead": ("第 {page} 页，共 ", "Page {page} of "),
    "page_total": ("{total} 页", "{total}"),
}
#: What the applicant is called on each kind of document.
APPLICANT: dict[DecisionKind, tuple[str, str]] = {
    DecisionKind.SITE_SELECTION: ("建设单位", "Developer"),
    DecisionKind.LAND_USE_PERMIT: ("用地单位", "Land user"),
    DecisionKind.CONSTRUCTION_PERMIT: ("建设单位", "Developer"),
    DecisionKind.RURAL_PERMIT: ("建设单位（个人）", "Builder (unit or person)"),
    DecisionKind.AS_BUILT_VERIFICATION: ("建设单位", "Developer"),
    DecisionKind.REFUSAL: ("申请人", "Applicant"),
}
#: What the authority and the date are called on each kind: who issues a permit, who
#: verifies, who decides a refusal.
ISSUED: dict[DecisionKind, tuple[tuple[str, str], tuple[str, str]]] = {
    DecisionKind.SITE_SELECTION: (("核发机关", "Issuing authority"), ("核发日期", "Date of issue")),
    DecisionKind.LAND_USE_PERMIT: (
        ("发证机关", "Issuing authority"),
        ("发证日期", "Date of issue"),
    ),
    DecisionKind.CONSTRUCTION_PERMIT: (
        ("发证机关", "Issuing authority"),
        ("发证日期", "Date of issue"),
    ),
    DecisionKind.RURAL_PERMIT: (("发证机关", "Issuing authority"), ("发证日期", "Date of issue")),
    DecisionKind.AS_BUILT_VERIFICATION: (
        ("核实机关", "Verifying authority"),
        ("核实日期", "Date of verification"),
    ),
    DecisionKind.REFUSAL: (("决定机关", "Deciding authority"), ("决定日期", "Date of decision")),
}


def label(key: str, lang: str = "zh", **values: object) -> str:
    """The label ``key`` in ``lang`` (anything but ``"en"`` is Chinese), its ``{…}`` filled
    from ``values`` (left as they are without values: the page-number templates).

    Examples
    --------
    >>> label("seal", authority="示范县自然资源和规划局"), label("page_lead", "en")
    ('示范县自然资源和规划局（盖章）', 'Page {page} of ')
    """
    template = LABELS[key][1 if lang == "en" else 0]
    return template.format(**values) if values else template
