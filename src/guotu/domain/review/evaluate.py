"""What a review operator reads and returns: the review context, and how findings are made.

An operator (:mod:`~guotu.domain.review.spatial`, :mod:`~guotu.domain.review.transmission`,
:mod:`~guotu.domain.review.tables`) is a plain function of a rule and a :class:`ReviewContext`
(the reviewed layer, the layers it is checked against and, for the indicator review, the
indicator table) returning :class:`~guotu.domain.core.findings.Finding` records or a
:class:`~guotu.domain.core.findings.Skipped` (the records the quality checks return too);
:func:`make_finding` fills a rule's message and suggestion templates.
:func:`guotu.domain.review.operators.run_review` runs them and sorts the findings by rule id,
then by the features' ids: deterministic and independent of the order features were read in.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
from pyproj import CRS

from guotu.domain.codes.classification import normalize_code, ydyh_2023
from guotu.domain.core.findings import FeatureRef, Finding, Severity, Skipped
from guotu.domain.core.layer_context import LayerContext, feature_at
from guotu.domain.core.layers import LayerData, as_text
from guotu.domain.core.roles import ROLES, role_name
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.domain.geometry.zone_index import ZoneIndex, prepare_zones
from guotu.domain.review.pack import Rule, RulePack, render_template

__all__ = [
    "RELATION_ZH",
    "IndicatorRow",
    "OperatorFunction",
    "OperatorResult",
    "ReviewContext",
    "ZoneSet",
    "area_values",
    "code_label",
    "code_name",
    "feature_text",
    "make_finding",
    "share",
    "skipped_missing",
    "skipped_no_subject",
    "zone_text",
]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]

_CODE_FIELDS = {r.id: r.code_field for r in ROLES}
RELATION_ZH = {
    "within": "完全位于其内",
    "contains": "包含该区域",
    "overlaps": "部分重叠",
    "outside": "位于其外",
    "crosses": "穿越",
}


@dataclass(frozen=True)
class IndicatorRow:
    """One row of a plan's indicator table (规划指标表).

    Values are as written in the table, in ``unit``; ``row`` is the spreadsheet row number.
    """

    name: str
    unit: str
    planned: float | None
    allocated: float | None
    attribute: str = ""
    row: int = 0


@dataclass(frozen=True)
class ZoneSet:
    """The zone features a rule checks against: their layer, positions and overlay index."""

    layer: LayerData
    positions: IntArray
    index: ZoneIndex | None  # None when no feature of the layer passes the rule's filter


class ReviewContext(LayerContext):
    """What a review looks at: the reviewed layer, the reference layers by role, the table.

    Parameters
    ----------
    subject
        The reviewed layer (``None`` for the indicator review).
    references
        Layers by role (control lines, master plan, units …).
    crs
        The projected CRS of every geometry.
    pack
        The effective rule pack (tables and sets).
    table
        The indicator table, for the indicator review.
    """

    def __init__(
        self,
        subject: LayerData | None,
        references: Iterable[LayerData],
        crs: CRS,
        pack: RulePack,
        table: Sequence[IndicatorRow] = (),
    ) -> None:
        refs = list(references)
        super().__init__([subject, *refs] if subject is not None else refs)
        self.subject = subject
        self.references: dict[str, LayerData] = {}
        for layer in refs:
            self.references.setdefault(layer.role, layer)
        self.crs = crs
        self.pack = pack
        self.table = tuple(table)
        self._zones: dict[tuple[Any, ...], ZoneSet] = {}
        self._areas: dict[int, FloatArray] = {}
        self._codes: dict[int, ObjArray] = {}

    def layer(self, role: str) -> LayerData | None:
        """The reference layer of ``role`` (the subject if it has that role)."""
        if self.subject is not None and self.subject.role == role and role not in self.references:
            return self.subject
        return self.references.get(role)

    def codes(self, layer: LayerData) -> ObjArray:
        """Normalised land-use codes of ``layer`` (its role's code field), ``None`` if blank."""
        key = id(layer)
        if key not in self._codes:
            fld = _CODE_FIELDS.get(layer.role) or "YDYHFLDM"
            raw = layer.attributes.get(fld)
            out = np.full(len(layer.fids), None, dtype=object)
            if raw is not None:
                for i, v in enumerate(raw.tolist()):
                    text = as_text(v)
                    out[i] = (
                        normalize_code(v if isinstance(v, int | float) else text)
                        if text is not None
                        else None
                    )
            self._codes[key] = out
        return self._codes[key]

    def areas(self, layer: LayerData) -> FloatArray:
        """Ellipsoidal area of every (repaired) polygon of ``layer`` (0 for lines/empty)."""
        key = id(layer)
        if key not in self._areas:
            geoms = self.polygons(layer)
            usable = self.usable(layer)
            out = np.zeros(len(geoms))
            if usable.any():
                out[usable] = ellipsoidal_area_m2(geoms[usable], self.crs)
            self._areas[key] = out
        return self._areas[key]

    def zones(self, rule: Rule) -> ZoneSet | None:
        """The zones of ``rule`` (its zone role, filtered by field values), indexed once."""
        if rule.zone_role is None:
            return None
        layer = self.layer(rule.zone_role)
        if layer is None:
            return None
        key = (rule.zone_role, rule.zone_field, rule.zone_values)
        if key not in self._zones:
            keep = np.ones(len(layer.fids), dtype=bool)
            if rule.zone_field is not None:
                vals = layer.attributes.get(rule.zone_field)
                wanted = set(rule.zone_values)
                keep = np.array(
                    [as_text(v) in wanted for v in vals.tolist()]
                    if vals is not None
                    else [False] * len(layer.fids),
                    dtype=bool,
                )
            geoms = self.polygons(layer)
            keep &= self.usable(layer)
            pos = np.flatnonzero(keep).astype(np.int64)
            index = prepare_zones(geoms[pos], self.crs) if len(pos) else None
            self._zones[key] = ZoneSet(layer, pos, index)
        return self._zones[key]

    def ref(self, layer: LayerData, pos: int, *, with_code: bool = False) -> FeatureRef:
        """A :class:`~guotu.domain.core.findings.FeatureRef` for the feature at ``pos`` of
        ``layer`` (with its land-use code when ``with_code``)."""
        return feature_at(layer, pos, self.codes(layer)[pos] if with_code else None)


def code_label(code: str | None, lang: str = "zh") -> str:
    """``0703 农村宅基地`` (or the English name); the bare code when unknown.

    Examples
    --------
    >>> code_label("0703"), code_label("0703", "en"), code_label("9999")
    ('0703 农村宅基地', '0703 Rural homestead', '9999')
    """
    if code is None:
        return "—"
    found = ydyh_2023().get(code)
    if found is None:
        return code
    return f"{code} {found.name_zh if lang == 'zh' else found.name_en}"


def code_name(code: str | None, lang: str = "zh") -> str:
    """The class name of a code (``—`` when unknown).

    Examples
    --------
    >>> code_name("070102"), code_name("0999")
    ('二类城镇住宅用地', '—')
    """
    found = ydyh_2023().get(code) if code else None
    if found is None:
        return "—"
    return found.name_zh if lang == "zh" else found.name_en


def feature_text(ref: FeatureRef, role: str, lang: str) -> str:
    """How messages name a feature: ``规划用地 BSM=GH00001（0703 农村宅基地）``."""
    name = role_name(role, lang, default=ref.layer)
    ident = f"{ref.id_field}={ref.id_value}" if ref.id_value else f"fid {ref.fid}"
    if lang == "zh":
        code = f"（{code_label(ref.code)}）" if ref.code else ""
        return f"{name} {ident}{code}"
    code = f" ({code_label(ref.code, 'en')})" if ref.code else ""
    return f"{name} {ident}{code}"


def zone_text(ref: FeatureRef | None) -> str:
    """A zone's id for messages (``HX00001``)."""
    if ref is None:
        return "—"
    return ref.id_value or f"fid {ref.fid}"


def make_finding(
    rule: Rule,
    values: Mapping[str, Any],
    *,
    zh: Mapping[str, Any] | None = None,
    en: Mapping[str, Any] | None = None,
    severity: Severity | None = None,
    features: Sequence[FeatureRef] = (),
    **fields: Any,
) -> Finding:
    """A finding of ``rule`` about ``features`` (on the first one's layer) with its message
    and suggestion filled from ``values``.

    ``zh``/``en`` hold language-specific values (feature labels …) laid over ``values``.
    """
    vz = {**values, **(zh or {})}
    ve = {**values, **(en or {})}
    return Finding(
        rule=rule.id,
        severity=severity or rule.severity,
        message_zh=render_template(rule.message_zh, vz),
        message_en=render_template(rule.message_en, ve),
        suggestion_zh=render_template(rule.suggestion_zh, vz),
        suggestion_en=render_template(rule.suggestion_en, ve),
        layer=features[0].layer if features else None,
        features=tuple(features),
        **fields,
    )


def area_values(area_m2: float, feature_m2: float | None, zone_m2: float | None) -> dict[str, Any]:
    """Template values for an area: m², 公顷 and the shares in percent."""
    share_f = area_m2 / feature_m2 if feature_m2 else None
    share_z = area_m2 / zone_m2 if zone_m2 else None
    return {
        "area_m2": area_m2,
        "area_ha": area_m2 / 10_000,
        "share_of_feature_pct": None if share_f is None else 100 * share_f,
        "share_of_zone_pct": None if share_z is None else 100 * share_z,
    }


def share(part: float, whole: float | None) -> float | None:
    """``part / whole`` rounded to 1e-6, ``None`` when ``whole`` is 0 or missing."""
    if not whole or math.isnan(whole):
        return None
    return round(part / whole, 6)


#: What an operator returns: its findings, or why the rule could not run.
OperatorResult = Sequence[Finding] | Skipped
#: A review operator: ``(rule, context) -> findings or Skipped``.
OperatorFunction = Callable[[Rule, ReviewContext], OperatorResult]


def skipped_no_subject(rule: Rule) -> Skipped:
    """The rule skipped because the review has no reviewed layer (an indicator review)."""
    return Skipped(
        rule.id,
        "没有被审查的图层，规则未运行。",
        "There is no reviewed layer; the rule did not run.",
    )


def skipped_missing(rule: Rule, role: str) -> Skipped:
    """The rule skipped because the workspace has no layer of ``role``."""
    zh, en = role_name(role), role_name(role, "en")
    return Skipped(
        rule.id,
        f"工作空间中没有“{zh}”图层（{role}），规则未运行。",
        f"The workspace has no {en} layer ({role}); the rule did not run.",
    )
