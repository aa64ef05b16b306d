"""The plan-review report document as the report writers show it.

The review engine hands the writers of :mod:`guotu.io.review_report` a *report document*: a
plain JSON-ready dict with all text already in the chosen language. This module reads it
for them: the fixed labels in both languages, the number formats (areas in m² with 2
decimals and in 公顷 with 4, shares in percent with 2, a missing value as "—"), the summary
rows, and the map of a finding (its layers clipped to a bounding box and a frame that fits
metres into a drawing, for the SVG and PDF maps alike). Every reader is lenient: a missing
key is shown as "—", never an error.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import shapely

__all__ = [
    "MISSING",
    "ROLE_ORDER",
    "SEVERITIES",
    "MapFrame",
    "MapLayer",
    "area_ha",
    "data_versions",
    "feature_label",
    "features_label",
    "findings",
    "format_area_ha",
    "format_area_m2",
    "format_measure",
    "format_share",
    "is_english",
    "kind_text",
    "label",
    "map_layers",
    "number",
    "parts",
    "relation_text",
    "rule_rows",
    "severity_counts",
    "severity_text",
    "shape",
    "stamp_rows",
    "text",
    "unit_text",
    "zone_label",
]

logger = logging.getLogger(__name__)

#: Shown for a missing value in every format.
MISSING = "—"

SEVERITIES = ("error", "warning", "info")

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
    "data_version": ("版本", "Version"),
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
}

_SEVERITY_TEXT = {"error": ("错误", "error"), "warning": ("警告", "warning"),
                  "info": ("提示", "info")}
_KIND_TEXT = {"detailed-plan": ("详细规划", "detailed plan"),
              "special-plan": ("专项规划", "special plan"),
              "project": ("建设项目", "project"), "indicators": ("规划指标", "indicators")}
_RELATION_TEXT = {"within": ("位于其内", "within"), "overlaps": ("部分重叠", "overlaps"),
                  "contains": ("包含", "contains"), "crosses": ("穿越", "crosses"),
                  "intersects": ("相交", "intersects"), "touches": ("相接", "touches")}
_UNIT_TEXT = {"m2": ("m²", "m²"), "ha": ("公顷", "ha"), "m": ("米", "m"), "km": ("千米", "km"),
              "pct": ("%", "%"), "%": ("%", "%")}


def is_english(doc: Mapping[str, Any]) -> bool:
    """Whether the document asks for English labels (anything else means Chinese)."""
    return doc.get("lang") == "en"


def label(doc: Mapping[str, Any], key: str) -> str:
    """The fixed label ``key`` in the document's language.

    Examples
    --------
    >>> label({"lang": "zh"}, "list"), label({"lang": "en"}, "list")
    ('问题清单', 'Findings')
    """
    zh, en = _TEXT[key]
    return en if is_english(doc) else zh


def _pick(doc: Mapping[str, Any], table: Mapping[str, tuple[str, str]], value: Any) -> str:
    if value is None or value == "":
        return MISSING
    pair = table.get(str(value))
    if pair is None:
        return str(value)
    return pair[1] if is_english(doc) else pair[0]


def severity_text(doc: Mapping[str, Any], severity: Any) -> str:
    """``error``/``warning``/``info`` as 错误/警告/提示 (or as is in English).

    Examples
    --------
    >>> severity_text({"lang": "zh"}, "warning"), severity_text({"lang": "en"}, "warning")
    ('警告', 'warning')
    """
    return _pick(doc, _SEVERITY_TEXT, severity)


def kind_text(doc: Mapping[str, Any], kind: Any) -> str:
    """The review kind (``detailed-plan`` …) in the document's language.

    Examples
    --------
    >>> kind_text({"lang": "zh"}, "detailed-plan"), kind_text({"lang": "zh"}, "other")
    ('详细规划', 'other')
    """
    return _pick(doc, _KIND_TEXT, kind)


def relation_text(doc: Mapping[str, Any], relation: Any) -> str:
    """A spatial relation (``within`` …) in the document's language.

    Examples
    --------
    >>> relation_text({"lang": "zh"}, "within"), relation_text({"lang": "zh"}, None)
    ('位于其内', '—')
    """
    return _pick(doc, _RELATION_TEXT, relation)


def unit_text(doc: Mapping[str, Any], unit: Any) -> str:
    """A unit code as shown (``m2`` → ``m²``); an empty string when there is none.

    Examples
    --------
    >>> unit_text({"lang": "zh"}, "m2"), unit_text({"lang": "zh"}, "ha"), unit_text({}, None)
    ('m²', '公顷', '')
    """
    if unit is None or unit == "":
        return ""
    return _pick(doc, _UNIT_TEXT, unit)


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


def findings(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The document's findings (an empty list when it has none).

    Examples
    --------
    >>> findings({"findings": None})
    []
    """
    return list(doc.get("findings") or ())


def severity_counts(doc: Mapping[str, Any]) -> dict[str, int]:
    """Findings per severity, from ``summary.by_severity`` or counted when it is missing.

    Examples
    --------
    >>> severity_counts({"findings": [{"severity": "error"}, {"severity": "error"}]})
    {'error': 2, 'warning': 0, 'info': 0}
    """
    given = (doc.get("summary") or {}).get("by_severity")
    if given:
        return {str(k): int(v) for k, v in given.items()}
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings(doc):
        counts[str(f.get("severity"))] = counts.get(str(f.get("severity")), 0) + 1
    return counts


def rule_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per rule for the summary: id, title, severity, basis, count and area in m².

    Rules come from ``doc["rules"]``; a rule that has findings but is not listed there is
    added from its findings, so the table and the findings always agree.

    Examples
    --------
    >>> [(r["id"], r["count"]) for r in rule_rows({"findings": [{"rule": "a.b"}]})]
    [('a.b', 1)]
    """
    areas = (doc.get("summary") or {}).get("area_m2_by_rule") or {}
    rows: dict[str, dict[str, Any]] = {}
    for rule in doc.get("rules") or ():
        rows[str(rule.get("id"))] = {"id": rule.get("id"), "title": rule.get("title"),
                                     "severity": rule.get("severity"),
                                     "basis": rule.get("basis"), "count": rule.get("count")}
    counted: dict[str, int] = {}
    for f in findings(doc):
        rid = str(f.get("rule"))
        counted[rid] = counted.get(rid, 0) + 1
        rows.setdefault(rid, {"id": f.get("rule"), "title": f.get("title"),
                              "severity": f.get("severity"), "basis": f.get("basis"),
                              "count": None})
    for rid, row in rows.items():
        if row["count"] is None:
            row["count"] = counted.get(rid, 0)
        row["area_m2"] = areas.get(rid)
    return list(rows.values())


def stamp_rows(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The overview as (label, value) pairs: what was reviewed, then the stamp.

    Examples
    --------
    >>> dict(stamp_rows({"lang": "en", "stamp": {"rule_pack_hash": "sha256:9f"}}))["Rule pack hash"]
    'sha256:9f'
    """
    stamp = doc.get("stamp") or {}
    pack = text(stamp.get("rule_pack"))
    return [
        (label(doc, "kind"), kind_text(doc, doc.get("kind"))),
        (label(doc, "source"), text(doc.get("source"))),
        (label(doc, "workspace"), text(doc.get("workspace"))),
        (label(doc, "crs"), text(doc.get("crs"))),
        (label(doc, "generated_at"), text(doc.get("generated_at"))),
        (label(doc, "rule_pack"), pack),
        (label(doc, "rule_pack_version"), text(stamp.get("rule_pack_version"))),
        (label(doc, "profile"), text(stamp.get("profile"))),
        (label(doc, "rule_pack_hash"), text(stamp.get("rule_pack_hash"))),
        (label(doc, "as_of"), text(stamp.get("as_of"))),
        (label(doc, "known_at"), text(stamp.get("known_at"))),
    ]


def data_versions(doc: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The stamp's data versions as (layer, version) pairs, sorted by layer.

    Examples
    --------
    >>> data_versions({"stamp": {"data_versions": {"STBHHX": "v1", "GHYD": None}}})
    [('GHYD', '—'), ('STBHHX', 'v1')]
    """
    versions = (doc.get("stamp") or {}).get("data_versions") or {}
    return [(str(k), text(v)) for k, v in sorted(versions.items())]


# -- maps ----------------------------------------------------------------------------------

#: Drawing order of map layer roles (later ones on top); unknown roles go before conflicts.
ROLE_ORDER = {"zone": 0, "context": 1, "feature": 2, "conflict": 4, "alternative": 5}


@dataclass(frozen=True)
class MapLayer:
    """One layer of a finding map: its name, role and shapely geometries (clipped)."""

    name: str
    role: str
    geometries: tuple[shapely.Geometry, ...]

    @property
    def kind(self) -> str:
        """``"polygon"``, ``"line"`` or ``"point"``: what the legend shows for this layer
        (polygon when it holds any area, else line when it holds any line)."""
        kinds = {k for g in self.geometries for k, _ in parts(g)}
        return next((k for k in ("polygon", "line") if k in kinds), "point")


@dataclass(frozen=True)
class MapFrame:
    """Fits a bounding box in metres into a ``width`` × ``height`` drawing.

    ``is_y_down`` is true for SVG (y grows downwards) and false for reportlab.

    Examples
    --------
    >>> frame = MapFrame((0.0, 0.0, 100.0, 50.0), 220.0, 120.0, 10.0, is_y_down=True)
    >>> frame.scale, frame.point(0.0, 50.0), frame.point(100.0, 0.0)
    (2.0, (10.0, 10.0), (210.0, 110.0))
    """

    bbox: tuple[float, float, float, float]
    width: float
    height: float
    margin: float
    is_y_down: bool

    @property
    def scale(self) -> float:
        """Drawing units per metre."""
        xmin, ymin, xmax, ymax = self.bbox
        return min((self.width - 2 * self.margin) / (xmax - xmin),
                   (self.height - 2 * self.margin) / (ymax - ymin))

    def point(self, x: float, y: float) -> tuple[float, float]:
        """A point in metres as drawing coordinates (centred in the frame)."""
        xmin, ymin, xmax, ymax = self.bbox
        s = self.scale
        ox = (self.width - (xmax - xmin) * s) / 2
        oy = (self.height - (ymax - ymin) * s) / 2
        px = ox + (x - xmin) * s
        py = oy + ((ymax - y) if self.is_y_down else (y - ymin)) * s
        return px, py

    def scale_bar(self, share: float = 0.25) -> tuple[float, str]:
        """A round scale-bar length (1, 2 or 5 × 10ⁿ m) near ``share`` of the map width:
        its length in drawing units and its label in metres."""
        target = (self.bbox[2] - self.bbox[0]) * share
        step = 10 ** math.floor(math.log10(target)) if target > 0 else 1.0
        metres = max((m * step for m in (1, 2, 5) if m * step <= target), default=step)
        shown = f"{metres:,.0f}" if metres >= 1 else f"{metres:g}"
        return metres * self.scale, f"{shown} m"


def map_layers(doc: Mapping[str, Any], finding: Mapping[str, Any], min_size_m: float = 20.0
               ) -> tuple[tuple[float, float, float, float], list[MapLayer]] | None:
    """The finding's map as a bounding box (metres, square-ish, never empty) and its layers
    in drawing order, each geometry clipped to the box. ``None`` when there is nothing to
    draw.

    Without a ``map``, the finding's own geometry is drawn as the conflict. Without a
    ``bbox``, the bounds of every geometry plus a 10% margin are used.

    Examples
    --------
    >>> f = {"geometry": {"type": "Point", "coordinates": [100.0, 100.0]}}
    >>> bbox, layers = map_layers({"lang": "zh"}, f)
    >>> bbox, [(layer.name, layer.role) for layer in layers]
    ((90.0, 90.0, 110.0, 110.0), [('问题', 'conflict')])
    """
    spec = finding.get("map") or {}
    raw_layers = list(spec.get("layers") or ())
    if not raw_layers and finding.get("geometry"):
        raw_layers = [{"name": label(doc, "finding"), "role": "conflict",
                       "geometries": [finding["geometry"]]}]
    parsed: list[tuple[str, str, list[shapely.Geometry]]] = []
    for layer in raw_layers:
        geoms = [g for g in (shape(d) for d in layer.get("geometries") or ()) if g is not None]
        if geoms:
            parsed.append((str(layer.get("name") or layer.get("role") or ""),
                           str(layer.get("role") or ""), geoms))
    if not parsed:
        return None
    bbox = spec.get("bbox")
    if bbox and len(bbox) == 4 and all(number(v) is not None for v in bbox):
        xmin, xmax = sorted((float(bbox[0]), float(bbox[2])))
        ymin, ymax = sorted((float(bbox[1]), float(bbox[3])))
    else:
        xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(
            [g for _, _, gs in parsed for g in gs]))
        pad = max(xmax - xmin, ymax - ymin) * 0.1
        xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    grow = max(min_size_m - (xmax - xmin), min_size_m - (ymax - ymin), 0.0) / 2
    xmin, ymin, xmax, ymax = xmin - grow, ymin - grow, xmax + grow, ymax + grow
    box = (xmin, ymin, xmax, ymax)
    layers = []
    for name, role, geoms in sorted(parsed, key=lambda p: ROLE_ORDER.get(p[1], 3)):
        clipped = tuple(c for c in (shapely.clip_by_rect(g, *box) for g in geoms)
                        if not c.is_empty)
        if clipped:
            layers.append(MapLayer(name, role, clipped))
    return box, layers


def shape(geojson: Any) -> shapely.Geometry | None:
    """A GeoJSON dict as a shapely geometry; ``None`` when missing, empty or invalid.

    Examples
    --------
    >>> shape({"type": "Point", "coordinates": [1.0, 2.0]}).wkt, shape(None)
    ('POINT (1 2)', None)
    """
    if not geojson:
        return None
    try:
        geom = shapely.geometry.shape(geojson)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        logger.warning("Map geometry skipped, not valid GeoJSON: %s", exc)
        return None
    return None if geom.is_empty else geom


def parts(geom: shapely.Geometry) -> Iterator[tuple[str, list[list[tuple[float, float]]]]]:
    """The simple parts of a geometry: ``("polygon", rings)``, ``("line", [coords])`` or
    ``("point", [[xy]])``, in metres.

    Examples
    --------
    >>> [kind for kind, _ in parts(shapely.GeometryCollection(
    ...     [shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (1, 1)])]))]
    ['polygon', 'line']
    """
    for part in shapely.get_parts(geom):
        kind = part.geom_type
        if kind == "Polygon":
            rings = [part.exterior, *part.interiors]
            yield "polygon", [[(float(x), float(y)) for x, y, *_ in r.coords] for r in rings]
        elif kind in ("LineString", "LinearRing"):
            yield "line", [[(float(x), float(y)) for x, y, *_ in part.coords]]
        elif kind == "Point":
            yield "point", [[(float(part.x), float(part.y))]]
        elif kind.startswith("Multi") or kind == "GeometryCollection":
            yield from parts(part)
