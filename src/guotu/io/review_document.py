"""The plan-review report document as the report writers show it.

The review engine hands the writers of :mod:`guotu.io.review_report` a *report document*: a
plain JSON-ready dict with all text already in the chosen language. This module reads it
for them: the fixed labels in both languages, the number formats (areas in m² with 2
decimals, in 公顷 with 4 and in 亩 with 2, shares in percent with 2, a missing value as
"—"), the summary rows and the 审查意见 (conclusion, the largest conflicts). Every reader is
lenient: a missing key is shown as "—", never an error. The map of a finding is in
:mod:`guotu.io.review_map`; the counts, the summary by rule and the 审查意见 in
:mod:`guotu.io.review_summary`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from guotu.io.review_labels import (
    MISSING,
    SEVERITIES,
    is_english,
    kind_text,
    label,
    relation_text,
    severity_text,
    unit_text,
)

__all__ = [
    "MISSING",
    "MU_M2",
    "SEVERITIES",
    "area_ha",
    "area_mu",
    "data_versions",
    "feature_label",
    "feature_lines",
    "features_label",
    "findings",
    "footer_lines",
    "format_area_ha",
    "format_area_m2",
    "format_area_mu",
    "format_measure",
    "format_share",
    "is_english",
    "kind_text",
    "label",
    "limit_cell",
    "measure_text",
    "number",
    "relation_text",
    "severity_text",
    "stamp_rows",
    "text",
    "unit_text",
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


def area_ha(finding: Mapping[str, Any]) -> float | None:
    """The finding's area in 公顷: ``area_ha`` if given, else ``area_m2`` / 10 000.

    Examples
    --------
    >>> area_ha({"area_m2": 5000.0}), area_ha({"area_m2": None})
    (0.5, None)
    """
    ha = number(finding.get("area_ha"))
    if ha is not None:
        return ha
    m2 = number(finding.get("area_m2"))
    return None if m2 is None else m2 / 1e4


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


def measure_text(doc: Mapping[str, Any], f: Mapping[str, Any], key: str) -> str:
    """The finding's ``measured`` or ``limit`` (``key``) as a reader understands it.

    A land-use code is shown with its name (``0903 娱乐用地``, never ``0903 code``). When the
    limit is the rule's area tolerance (``tolerance_m2``), the measured value is the
    conflict area and the limit says that smaller pieces are not counted. Other values get
    their unit (``4,000.00 m²``, ``300 米``).

    Examples
    --------
    >>> f = {"measured": 96.5, "limit": 1.0, "unit": "m2", "tolerance_m2": 1.0}
    >>> measure_text({}, f, "measured"), measure_text({}, f, "limit")
    ('冲突面积 96.50 m²', '面积小于 1 平方米的碎片不计')
    >>> measure_text({}, {"limit": "0903", "limit_name": "娱乐用地", "unit": "code"}, "limit")
    '0903 娱乐用地'
    """
    unit = f.get("unit")
    tolerance = number(f.get("tolerance_m2"))
    if tolerance is not None and unit == "m2":
        if key == "limit":
            return label(doc, "tolerance").format(x=f"{tolerance:g}")
        return f"{label(doc, 'conflict_area')} {format_area_m2(f.get(key))} m²"
    if unit == "code":
        return _code_text(f.get(key), f.get(f"{key}_name")) if f.get(key) else MISSING
    shown = format_measure(f.get(key), unit)
    shown_unit = unit_text(doc, unit)
    return f"{shown} {shown_unit}" if shown_unit and shown != MISSING else shown


def limit_cell(doc: Mapping[str, Any], f: Mapping[str, Any]) -> str:
    """The findings table's 实测值／限值 cell: ``4.8 ／ 4``, ``100101 一类工业用地 → 应为 …``,
    or only the tolerance note when the measured value is the area shown beside it.

    Examples
    --------
    >>> limit_cell({}, {"measured": 4.8, "limit": 4.0})
    '4.8／4'
    >>> limit_cell({}, {"measured": 9.5, "limit": 1.0, "unit": "m2", "tolerance_m2": 1.0})
    '面积小于 1 平方米的碎片不计'
    """
    if number(f.get("tolerance_m2")) is not None and f.get("unit") == "m2":
        return measure_text(doc, f, "limit")
    measured, limit = measure_text(doc, f, "measured"), measure_text(doc, f, "limit")
    if f.get("unit") == "code":
        return f"{measured} → {label(doc, 'should_be')} {limit}"
    return f"{measured}／{limit}"


def feature_label(feature: Mapping[str, Any] | None) -> str:
    """A feature or zone reference as ``BSM=GH00028903`` (``fid 12`` without an id field).

    Examples
    --------
    >>> feature_label({"layer": "GHYD", "fid": 3, "id_field": "BSM", "id_value": "GH1"})
    'BSM=GH1'
    >>> feature_label({"layer": "GHYD", "fid": 3}), feature_label(None)
    ('fid 3', '—')
    """
    if not feature:
        return MISSING
    if feature.get("id_field") and feature.get("id_value") not in (None, ""):
        return f"{feature['id_field']}={feature['id_value']}"
    if feature.get("fid") is not None:
        return f"fid {feature['fid']}"
    return MISSING


def features_label(finding: Mapping[str, Any], *, with_code: bool = True) -> str:
    """Every feature of a finding, ``GHYD BSM=GH1（0703 农村宅基地）``, joined by ``；``.

    Examples
    --------
    >>> features_label({"features": [{"layer": "GHYD", "id_field": "BSM", "id_value": "GH1",
    ...                               "code": "0703", "code_name": "农村宅基地"}]})
    'GHYD BSM=GH1（0703 农村宅基地）'
    """
    parts = []
    for feature in finding.get("features") or ():
        part = f"{feature.get('layer') or ''} {feature_label(feature)}".strip()
        code = " ".join(str(feature[k]) for k in ("code", "code_name") if feature.get(k))
        parts.append(f"{part}（{code}）" if code and with_code else part)
    return "；".join(parts) or MISSING


def zone_label(finding: Mapping[str, Any]) -> str:
    """The zone of a finding as ``STBHHX BSM=HX00001``; ``—`` when it has none.

    Examples
    --------
    >>> zone_label({"zone": {"layer": "STBHHX", "id_field": "BSM", "id_value": "HX1"}})
    'STBHHX BSM=HX1'
    """
    zone = finding.get("zone")
    if not zone:
        return MISSING
    return f"{zone.get('layer') or ''} {feature_label(zone)}".strip()


def _ref_lines(ref: Mapping[str, Any] | None) -> list[str]:
    if not ref:
        return []
    lines = [str(ref.get("layer_name") or ref.get("layer") or ""), feature_label(ref)]
    if ref.get("code"):
        lines.append(_code_text(ref.get("code"), ref.get("code_name")))
    return [line for line in lines if line]


def feature_lines(finding: Mapping[str, Any]) -> list[str]:
    """The features of a finding for a table cell, one short line each (so that an id such
    as ``BSM=GH00028903`` is never broken): the layer's Chinese name (its code when it has
    none), the id, the land-use code and its name.

    Examples
    --------
    >>> feature_lines({"features": [{"layer": "GHYD", "layer_name": "规划用地", "id_field": "BSM",
    ...                              "id_value": "GH1", "code": "0703", "code_name": "农村宅基地"}]})
    ['规划用地', 'BSM=GH1', '0703 农村宅基地']
    """
    return [line for ref in finding.get("features") or () for line in _ref_lines(ref)] or [MISSING]


def zone_lines(finding: Mapping[str, Any]) -> list[str]:
    """The zone of a finding for a table cell, like :func:`feature_lines`.

    Examples
    --------
    >>> zone_lines({"zone": {"layer": "STBHHX", "layer_name": "生态保护红线", "id_field": "BSM",
    ...                      "id_value": "HX1"}}), zone_lines({})
    (['生态保护红线', 'BSM=HX1'], ['—'])
    """
    return _ref_lines(finding.get("zone")) or [MISSING]


def findings(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The document's findings (an empty list when it has none).

    Examples
    --------
    >>> findings({"findings": None})
    []
    """
    return list(doc.get("findings") or ())


def _short_time(value: Any) -> str:
    """An ISO timestamp as ``2026-11-22 10:00`` (other text as it is)."""
    shown = text(value)
    if len(shown) >= 16 and shown[10:11] == "T":
        return f"{shown[:10]} {shown[11:16]}"
    return shown


def stamp_rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The overview as (label, value) pairs: what was reviewed, then the stamp.

    Examples
    --------
    >>> dict(stamp_rows({"lang": "en", "stamp": {"rule_pack_hash": "sha256:9f"}}))["Rule pack hash"]
    'sha256:9f'
    """
    stamp = doc.get("stamp") or {}
    pack = text(stamp.get("rule_pack"))
    if doc.get("rule_pack_title"):
        pack = f"{doc['rule_pack_title']}（{pack}）"
    return [
        (label(doc, "kind"), kind_text(doc, doc.get("kind"))),
        (label(doc, "source"), text(doc.get("source_label") or doc.get("source"))),
        (label(doc, "workspace"), text(doc.get("workspace"))),
        (label(doc, "crs"), text(doc.get("crs"))),
        (label(doc, "generated_at"), _short_time(doc.get("generated_at"))),
        (label(doc, "rule_pack"), pack),
        (label(doc, "rule_pack_version"), text(stamp.get("rule_pack_version"))),
        (label(doc, "profile"), text(stamp.get("profile"))),
        (label(doc, "rule_pack_hash"), text(stamp.get("rule_pack_hash"))),
        (label(doc, "as_of"), text(stamp.get("as_of"))),
        (label(doc, "known_at"), text(stamp.get("known_at"))),
    ]


def _version_cell(row: Mapping[str, Any], en: bool) -> str:
    """A data version row's plan and version as read (``GHYD（规划用地）数据 v1（已批复）``)."""
    shown = text(row.get("label") or row.get("version"))
    state = row.get("status_label")
    if not state:
        return shown
    return f"{shown} ({state})" if en else f"{shown}（{state}）"


def data_versions(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The data versions as (layer, plan and version) pairs: ``doc["data_versions"]`` (rows
    with the layer's Chinese name, its plan and version as a person reads them and their
    state) when given, else the stamp's, by layer.

    Examples
    --------
    >>> data_versions({"stamp": {"data_versions": {"STBHHX": "v1", "GHYD": None}}})
    [('GHYD', '—'), ('STBHHX', 'v1')]
    >>> data_versions({"data_versions": [{"layer": "GHYD", "name": "规划用地",
    ...     "label": "GHYD（规划用地）数据 v1", "status_label": "已批复"}]})
    [('规划用地 GHYD', 'GHYD（规划用地）数据 v1（已批复）')]
    """
    rows = doc.get("data_versions")
    if rows:
        return [
            (
                " ".join(str(r[k]) for k in ("name", "layer") if r.get(k)),
                _version_cell(r, is_english(doc)),
            )
            for r in rows
        ]
    versions = (doc.get("stamp") or {}).get("data_versions") or {}
    return [(str(k), text(v)) for k, v in sorted(versions.items())]


def footer_lines(doc: Mapping[str, Any]) -> tuple[str, str]:
    """What every page's footer says the report was made with: the rule pack, its version,
    the review date and the day the report was made; then the plans and versions the data
    came from, each once.

    Examples
    --------
    >>> footer_lines({"stamp": {"rule_pack": "cn-base", "rule_pack_version": "2026.1",
    ...               "as_of": "2026-11-22", "data_versions": {"GHYD": "v1"}}})
    ('规则包 cn-base 2026.1 · 审查基准日 2026-11-22', '数据：GHYD v1')
    >>> footer_lines({"data_versions": [{"layer": "GHYD", "label": "GHYD（规划用地）数据 v1"},
    ...     {"layer": "DLTB", "label": "示范县年度国土变更调查 2025年度"}]})[1]
    '数据：GHYD（规划用地）数据 v1；示范县年度国土变更调查 2025年度'
    """
    stamp = doc.get("stamp") or {}
    made = label(doc, "made_with").format(
        pack=text(stamp.get("rule_pack")), version=text(stamp.get("rule_pack_version"))
    )
    if stamp.get("profile"):
        made += f" + {stamp['profile']}"
    made += f" · {label(doc, 'as_of')} {text(stamp.get('as_of'))}"
    if doc.get("generated_at"):
        made += f" · {label(doc, 'made_on')} {str(doc['generated_at'])[:10]}"
    sep = ": " if is_english(doc) else "："
    rows = doc.get("data_versions")
    if rows:
        shown = [
            str(
                r.get("plan_version_label")
                or r.get("label")
                or f"{r.get('name') or r.get('layer')} {text(r.get('version'))}"
            )
            for r in rows
        ]
    else:
        shown = [f"{a} {b}" for a, b in data_versions(doc)]
    data = ("; " if is_english(doc) else "；").join(dict.fromkeys(shown))
    return made, f"{label(doc, 'data')}{sep}{data or MISSING}"
