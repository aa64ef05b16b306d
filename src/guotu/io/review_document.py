"""The plan-review report document as the report writers show it: numbers and names in words.

The writers of :mod:`guotu.io.review_report` read a
:class:`~guotu.io.review_model.ReviewDocument`. This module says how its values are shown, the
same in every format: the number formats (areas in m² with 2 decimals, in 公顷 with 4 and in
亩 with 2, shares in percent with 2, a missing value as "—"), a finding's features, zone,
measured value and limit in words, the overview rows, the data versions and the page footer.
The fixed labels are in :mod:`guotu.io.review_labels`, the counts and the 审查意见 in
:mod:`guotu.io.review_summary`, the map of a finding in :mod:`guotu.io.review_map`.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

from guotu.io.review_labels import MISSING, kind_text, label, unit_text
from guotu.io.review_model import ReportFeature, ReportFinding, ReviewDocument

__all__ = [
    "MU_M2",
    "area_mu",
    "data_versions",
    "feature_label",
    "feature_lines",
    "footer_lines",
    "format_area_ha",
    "format_area_m2",
    "format_area_mu",
    "format_measure",
    "format_share",
    "limit_cell",
    "measure_text",
    "number",
    "stamp_rows",
    "text",
    "zone_label",
    "zone_lines",
]

#: 1 亩 in m² (10000/15).
MU_M2 = 10_000 / 15


def text(value: Any) -> str:
    """A free-text field as shown: ``—`` when missing or empty.

    Examples
    --------
    >>> text(None), text(""), text("地块")
    ('—', '—', '地块')
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return MISSING
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def number(value: Any) -> float | None:
    """A finite int or float as a float; ``None`` for anything else (strings, NaN, bools).

    Examples
    --------
    >>> number(3), number("3"), number(float("inf")), number(True)
    (3.0, None, None, None)
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def format_area_m2(value: Any) -> str:
    """An area in m² with 2 decimals and thousands separators; ``—`` when missing.

    Examples
    --------
    >>> format_area_m2(9600.123), format_area_m2(None)
    ('9,600.12', '—')
    """
    n = number(value)
    return MISSING if n is None else f"{n:,.2f}"


def format_area_ha(value: Any) -> str:
    """An area in 公顷 with 4 decimals; ``—`` when missing.

    Examples
    --------
    >>> format_area_ha(0.960012)
    '0.9600'
    """
    n = number(value)
    return MISSING if n is None else f"{n:,.4f}"


def format_share(value: Any) -> str:
    """A fraction (0..1) as a percentage with 2 decimals; ``—`` when missing.

    Examples
    --------
    >>> format_share(0.0016), format_share(1), format_share(None)
    ('0.16%', '100.00%', '—')
    """
    n = number(value)
    return MISSING if n is None else f"{n * 100:.2f}%"


def format_measure(value: Any, unit: Any = None) -> str:
    """A measured value or limit: areas in m² with 2 decimals, 公顷 with 4, other numbers
    with up to 4 decimals; strings as they are; ``—`` when missing.

    Examples
    --------
    >>> format_measure(9600.12, "m2"), format_measure(0.0, "m2"), format_measure(1.5)
    ('9,600.12', '0.00', '1.5')
    >>> format_measure("不低于 35%"), format_measure(None)
    ('不低于 35%', '—')
    """
    if isinstance(value, str):
        return text(value)
    n = number(value)
    if n is None:
        return MISSING
    if unit == "m2":
        return format_area_m2(n)
    if unit == "ha":
        return format_area_ha(n)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{n:,.4f}".rstrip("0").rstrip(".")


def area_mu(value: Any) -> float | None:
    """An area in m² as 亩 (1 亩 = 10000/15 m²); ``None`` when missing.

    Examples
    --------
    >>> area_mu(10000.0), area_mu(None)
    (15.0, None)
    """
    m2 = number(value)
    return None if m2 is None else m2 / MU_M2


def format_area_mu(value: Any) -> str:
    """An area in 亩 with 2 decimals and thousands separators; ``—`` when missing.

    Examples
    --------
    >>> format_area_mu(area_mu(9600.0)), format_area_mu(None)
    ('14.40', '—')
    """
    n = number(value)
    return MISSING if n is None else f"{n:,.2f}"


def _code_text(code: Any, name: Any) -> str:
    return " ".join(str(v) for v in (code, name) if v not in (None, "")) or MISSING


def measure_text(doc: ReviewDocument, f: ReportFinding, key: str) -> str:
    """The finding's ``measured`` or ``limit`` (``key``) as a reader understands it.

    A land-use code is shown with its name (``0903 娱乐用地``, never ``0903 code``). When the
    limit is the rule's area tolerance (``tolerance_m2``), the measured value is the
    conflict area and the limit says that smaller pieces are not counted. Other values get
    their unit (``4,000.00 m²``, ``300 米``).

    Examples
    --------
    >>> from guotu.domain.core.findings import Severity
    >>> f = ReportFinding("a.b", Severity.ERROR, measured=96.5, limit=1.0, unit="m2",
    ...                   tolerance_m2=1.0)
    >>> measure_text(ReviewDocument(), f, "measured"), measure_text(ReviewDocument(), f, "limit")
    ('冲突面积 96.50 m²', '面积小于 1 平方米的碎片不计')
    >>> g = ReportFinding("a.b", Severity.ERROR, limit="0903", limit_name="娱乐用地", unit="code")
    >>> measure_text(ReviewDocument(), g, "limit")
    '0903 娱乐用地'
    """
    value = f.measured if key == "measured" else f.limit
    unit = f.unit
    tolerance = number(f.tolerance_m2)
    if tolerance is not None and unit == "m2":
        if key == "limit":
            return label(doc, "tolerance").format(x=f"{tolerance:g}")
        return f"{label(doc, 'conflict_area')} {format_area_m2(value)} m²"
    if unit == "code":
        name = f.measured_name if key == "measured" else f.limit_name
        return _code_text(value, name) if value else MISSING
    shown = format_measure(value, unit)
    shown_unit = unit_text(doc, unit)
    return f"{shown} {shown_unit}" if shown_unit and shown != MISSING else shown


def limit_cell(doc: ReviewDocument, f: ReportFinding) -> str:
    """The findings table's 实测值／限值 cell: ``4.8 ／ 4``, ``100101 一类工业用地 → 应为 …``,
    or only the tolerance note when the measured value is the area shown beside it.

    Examples
    --------
    >>> from guotu.domain.core.findings import Severity
    >>> limit_cell(ReviewDocument(), ReportFinding("a.b", Severity.ERROR, measured=4.8, limit=4.0))
    '4.8／4'
    >>> limit_cell(ReviewDocument(), ReportFinding("a.b", Severity.ERROR, measured=9.5, limit=1.0,
    ...                                            unit="m2", tolerance_m2=1.0))
    '面积小于 1 平方米的碎片不计'
    """
    if number(f.tolerance_m2) is not None and f.unit == "m2":
        return measure_text(doc, f, "limit")
    measured, limit = measure_text(doc, f, "measured"), measure_text(doc, f, "limit")
    if f.unit == "code":
        return f"{measured} → {label(doc, 'should_be')} {limit}"
    return f"{measured}／{limit}"


def feature_label(feature: ReportFeature | None) -> str:
    """A feature or zone reference as ``BSM=GH00028903`` (``fid 12`` without an id field).

    Examples
    --------
    >>> feature_label(ReportFeature("GHYD", 3, "BSM", "GH1"))
    'BSM=GH1'
    >>> feature_label(ReportFeature("GHYD", 3)), feature_label(None)
    ('fid 3', '—')
    """
    if feature is None:
        return MISSING
    if feature.id_field and feature.id_value not in (None, ""):
        return f"{feature.id_field}={feature.id_value}"
    if feature.fid is not None:
        return f"fid {feature.fid}"
    return MISSING


def zone_label(finding: ReportFinding) -> str:
    """The zone of a finding as ``STBHHX BSM=HX00001``; ``—`` when it has none.

    Examples
    --------
    >>> from guotu.domain.core.findings import Severity
    >>> zone_label(ReportFinding("a.b", Severity.ERROR,
    ...                          zone=ReportFeature("STBHHX", 1, "BSM", "HX1")))
    'STBHHX BSM=HX1'
    """
    zone = finding.zone
    if zone is None:
        return MISSING
    return f"{zone.layer} {feature_label(zone)}".strip()


def _ref_lines(ref: ReportFeature | None) -> list[str]:
    if ref is None:
        return []
    lines = [ref.layer_name or ref.layer, feature_label(ref)]
    if ref.code:
        lines.append(_code_text(ref.code, ref.code_name))
    return [line for line in lines if line]


def feature_lines(finding: ReportFinding) -> list[str]:
    """The features of a finding for a table cell, one short line each (so that an id such
    as ``BSM=GH00028903`` is never broken): the layer's Chinese name (its code when it has
    none), the id, the land-use code and its name.

    Examples
    --------
    >>> from guotu.domain.core.findings import Severity
    >>> feature_lines(ReportFinding("a.b", Severity.ERROR, features=(ReportFeature(
    ...     "GHYD", None, "BSM", "GH1", "0703", "农村宅基地", "规划用地"),)))
    ['规划用地', 'BSM=GH1', '0703 农村宅基地']
    """
    return [line for ref in finding.features for line in _ref_lines(ref)] or [MISSING]


def zone_lines(finding: ReportFinding) -> list[str]:
    """The zone of a finding for a table cell, like :func:`feature_lines`.

    Examples
    --------
    >>> from guotu.domain.core.findings import Severity
    >>> zone = ReportFeature("STBHHX", 1, "BSM", "HX1", layer_name="生态保护红线")
    >>> zone_lines(ReportFinding("a.b", Severity.ERROR, zone=zone))
    ['生态保护红线', 'BSM=HX1']
    """
    return _ref_lines(finding.zone) or [MISSING]


def _short_time(value: datetime | None) -> str:
    """A time as ``2026-11-22 10:00``."""
    return MISSING if value is None else value.strftime("%Y-%m-%d %H:%M")


def stamp_rows(doc: ReviewDocument) -> list[tuple[str, str]]:
    """The overview as (label, value) pairs: what was reviewed, then the stamp.

    Examples
    --------
    >>> from guotu.io.review_model import Stamp
    >>> rows = stamp_rows(ReviewDocument(lang="en", stamp=Stamp(rule_pack_hash="sha256:9f")))
    >>> dict(rows)["Rule pack hash"]
    'sha256:9f'
    """
    stamp = doc.stamp
    pack = text(stamp.rule_pack)
    if doc.rule_pack_title:
        pack = f"{doc.rule_pack_title}（{pack}）"
    return [
        (label(doc, "kind"), kind_text(doc, doc.kind)),
        (label(doc, "source"), text(doc.source_label or doc.source)),
        (label(doc, "workspace"), text(doc.workspace)),
        (label(doc, "crs"), MISSING if doc.crs is None else doc.crs.to_string()),
        (label(doc, "generated_at"), _short_time(doc.generated_at)),
        (label(doc, "rule_pack"), pack),
        (label(doc, "rule_pack_version"), text(stamp.rule_pack_version)),
        (label(doc, "profile"), text(stamp.profile)),
        (label(doc, "rule_pack_hash"), text(stamp.rule_pack_hash)),
        (label(doc, "as_of"), text(stamp.as_of)),
        (label(doc, "known_at"), text(stamp.known_at)),
    ]


def data_versions(doc: ReviewDocument) -> list[tuple[str, str]]:
    """The data versions as (layer, plan and version) pairs: the layer's role name and name,
    its plan and version as a person reads them, and their state.

    Examples
    --------
    >>> from guotu.io.review_model import DataVersion
    >>> data_versions(ReviewDocument(data_versions=(DataVersion(
    ...     "GHYD", "规划用地", "GHYD（规划用地）数据 v1", status_label="已批复"),)))
    [('规划用地 GHYD', 'GHYD（规划用地）数据 v1（已批复）')]
    """
    out = []
    for r in doc.data_versions:
        shown = text(r.label or r.version)
        state = r.status_label
        if state:
            shown = f"{shown} ({state})" if doc.is_english else f"{shown}（{state}）"
        out.append((" ".join(v for v in (r.name, r.layer) if v), shown))
    return out


def footer_lines(doc: ReviewDocument) -> tuple[str, str]:
    """What every page's footer says the report was made with: the rule pack, its version,
    the review date and the day the report was made; then the plans and versions the data
    came from, each once.

    Examples
    --------
    >>> from datetime import date
    >>> from guotu.io.review_model import DataVersion, Stamp
    >>> footer_lines(ReviewDocument(
    ...     stamp=Stamp("cn-base", "2026.1", as_of=date(2026, 11, 22)),
    ...     data_versions=(DataVersion("GHYD", label="GHYD（规划用地）数据 v1"),
    ...                    DataVersion("DLTB", label="示范县年度国土变更调查 2025年度"))))
    ('规则包 cn-base 2026.1 · 审查基准日 2026-11-22', '数据：GHYD（规划用地）数据 v1；示范县年度国土变更调查 2025年度')
    """
    stamp = doc.stamp
    made = label(doc, "made_with").format(
        pack=text(stamp.rule_pack), version=text(stamp.rule_pack_version)
    )
    if stamp.profile:
        made += f" + {stamp.profile}"
    made += f" · {label(doc, 'as_of')} {text(stamp.as_of)}"
    if doc.generated_at is not None:
        made += f" · {label(doc, 'made_on')} {doc.generated_at.date().isoformat()}"
    sep = ": " if doc.is_english else "："
    shown = [
        r.plan_version_label or r.label or f"{r.name or r.layer} {text(r.version)}"
        for r in doc.data_versions
    ]
    data = ("; " if doc.is_english else "；").join(dict.fromkeys(shown))
    return made, f"{label(doc, 'data')}{sep}{data or MISSING}"
