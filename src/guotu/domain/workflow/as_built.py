"""规划核实 (completion planning verification): an as-built survey (竣工测量) against what the
建设工程规划许可证 allowed.

Pure: :func:`verify_as_built` compares an :class:`AsBuiltSurvey` with the
:class:`PermitConditions` and returns every item, compliant or not, in an
:class:`AsBuiltResult`. A building that breaks a condition is a failed item (a
:class:`~guotu.domain.core.findings.Finding` through :meth:`AsBuiltResult.findings`), never an
exception; exceptions are for input that cannot be verified as given (a geographic CRS, an
invalid polygon, a negative height). The items (``indicator`` codes are stable rule ids):

* ``as_built.far`` 容积率 ≤ maximum: Σ floor area (计容建筑面积) / site area;
* ``as_built.building_density`` 建筑密度 ≤ maximum: union of the footprints / site area × 100;
* ``as_built.green_ratio`` 绿地率 ≥ minimum: green area / site area × 100 (green polygons
  count as their union clipped to the site);
* per building: ``as_built.height`` 建筑高度 ≤ maximum; ``as_built.within_site`` 用地红线, how
  far the footprint reaches beyond the site, ≤ 0 m; ``as_built.setback`` 退线距离 ≥ minimum, the
  footprint's least distance to the site boundary (0 when it is not within the site);
  ``as_built.footprint`` 建筑轮廓, how far it reaches beyond the permitted footprints, ≤ 0 m.

"How far a footprint reaches beyond a region" is the directed Hausdorff distance: the least
``d`` such that the footprint lies within the region grown by ``d``, found by bisection on
``region.buffer(d)`` to :data:`REACH_RESOLUTION_M` (exact when the farthest point is a corner
of the footprint facing a side of the region). The buffer's arcs are chords, so the value can
come out slightly high (by at most 0.008 % of it), never low.

Areas are planar, in the projected CRS (CGCS2000 Gauss-Krüger) the site and the survey share.
The ellipsoidal area of :mod:`guotu.domain.geometry.area` differs from it by the square of the
projection's scale factor (up to about 0.06 % at the edge of a 3° zone in China), which cancels
in the density and green ratios; where the permit states the site area
(``stated_site_area_m2``), that figure is the denominator of all three ratios.

Values are kept exact; messages and :attr:`AsBuiltItem.measured_text` round them half up (two
decimals, more when two would make a failing value look equal to its limit). Comparisons allow
for floating-point noise (1e-9 relative); every allowance beyond it is a :class:`Tolerances`.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TypeAlias

import shapely
from pyproj import CRS

from guotu.domain.core.findings import FeatureRef, Finding, Severity
from guotu.domain.geometry.crs import check_projected
from guotu.errors import ConfigError, CRSError, GeometryError, InputError

__all__ = [
    "INDICATORS",
    "REACH_RESOLUTION_M",
    "AsBuiltBuilding",
    "AsBuiltItem",
    "AsBuiltResult",
    "AsBuiltSurvey",
    "PermitConditions",
    "Polygonal",
    "Tolerances",
    "verify_as_built",
]

Polygonal: TypeAlias = shapely.Polygon | shapely.MultiPolygon

#: Indicator code → (name_zh, name_en, unit, "max" or "min"), in the order items are listed.
INDICATORS: dict[str, tuple[str, str, str, str]] = {
    "as_built.far": ("容积率", "floor area ratio", "", "max"),
    "as_built.building_density": ("建筑密度", "building density", "%", "max"),
    "as_built.green_ratio": ("绿地率", "green space ratio", "%", "min"),
    "as_built.height": ("建筑高度", "building height", "m", "max"),
    "as_built.within_site": ("用地红线", "site boundary", "m", "max"),
    "as_built.setback": ("退线距离", "setback", "m", "min"),
    "as_built.footprint": ("建筑轮廓", "building footprint", "m", "max"),
}

#: Precision (m) to which the reach of a footprint beyond a region is found.
REACH_RESOLUTION_M = 1e-4

_QUAD_SEGS = 64  # chords per quarter circle in the bisection's buffers (error ≤ 0.008 %)
_RELATIVE_NOISE = 1e-9
_DECIMALS = 2
_MAX_DECIMALS = 7


def _check_number(
    value: float,
    what: tuple[str, str],
    *,
    positive: bool = False,
    at_most: float | None = None,
    error: type[InputError] = InputError,
    field: str | None = None,
) -> None:
    """Refuse a value that is not finite, is negative (or zero, if ``positive``) or above
    ``at_most``; ``what`` names it (zh, en)."""
    low_zh, low_en = ("大于 0", "> 0") if positive else ("不小于 0", "≥ 0")
    top_zh, top_en = (f" 且不大于 {at_most:g}", f" and ≤ {at_most:g}") if at_most else ("", "")
    low_ok = value > 0 if positive else value >= 0
    if not (math.isfinite(value) and low_ok and (at_most is None or value <= at_most)):
        raise error(
            f"{what[1]} is {value!r}; it must be {low_en}{top_en}.",
            field=field,
            fix="Correct the value (percentages in percent: 30 for 30 %).",
            message_zh=f"{what[0]}为 {value!r}，必须{low_zh}{top_zh}。",
            fix_zh="请更正该值（百分比以百分数填写：30% 填 30）。",
        )


def _check_polygonal(geom: object, what: tuple[str, str]) -> None:
    """Refuse anything but a valid, non-empty Polygon or MultiPolygon."""
    kind = getattr(geom, "geom_type", type(geom).__name__)
    if not isinstance(geom, shapely.Polygon | shapely.MultiPolygon) or geom.is_empty:
        empty = kind in ("Polygon", "MultiPolygon")
        why_zh, why_en = (f"空的 {kind}", f"an empty {kind}") if empty else (kind, kind)
    elif not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        why_zh, why_en = f"无效的面（{reason}）", f"an invalid polygon ({reason})"
    else:
        return
    raise GeometryError(
        f"{what[1]} must be a valid, non-empty Polygon or MultiPolygon, but is {why_en}.",
        fix="Give the outline as a valid polygon in the workspace CRS (repair it at its source).",
        message_zh=f"{what[0]}必须是有效且非空的面（Polygon 或 MultiPolygon），实为 {why_zh}。",
        fix_zh="请以工作空间坐标系下的有效面给出其轮廓（在源数据中修复自相交等问题）。",
    )


@dataclass(frozen=True)
class PermitConditions:
    """What the 建设工程规划许可证 (with its 规划条件) allows on one site.

    ``site`` is the 用地红线 polygon and ``permitted_footprints`` the 规划许可的建筑轮廓 every
    as-built footprint must lie within (their union), all in ``crs``: projected, metres (the
    workspace's CGCS2000 Gauss-Krüger CRS). The limits: ``max_far`` 容积率上限,
    ``max_density_pct`` 建筑密度上限 (%), ``min_green_pct`` 绿地率下限 (%), ``max_height_m`` 限高,
    ``min_setback_m`` 退线距离 from the site boundary; ``None`` is not a condition of this permit.
    ``stated_site_area_m2`` is the site area the permit states (``None``: the polygon's planar
    area); ``permit_no`` the permit's number, for reports.

    Examples
    --------
    >>> c = PermitConditions(shapely.box(0, 0, 100, 80), CRS.from_epsg(4527), max_far=2.0)
    >>> c.site_area_m2
    8000.0
    """

    site: Polygonal
    crs: CRS
    max_far: float | None = None
    max_density_pct: float | None = None
    min_green_pct: float | None = None
    max_height_m: float | None = None
    min_setback_m: float | None = None
    permitted_footprints: tuple[Polygonal, ...] = ()
    stated_site_area_m2: float | None = None
    permit_no: str = ""

    def __post_init__(self) -> None:
        _check_polygonal(self.site, ("用地红线", "The site (用地红线)"))
        for i, fp in enumerate(self.permitted_footprints, start=1):
            _check_polygonal(fp, (f"第 {i} 个许可建筑轮廓", f"Permitted footprint {i}"))
        for value, what, positive, at_most in (
            (self.max_far, ("容积率上限", "The maximum FAR"), True, None),
            (self.max_density_pct, ("建筑密度上限", "The maximum density"), True, 100.0),
            (self.min_green_pct, ("绿地率下限", "The minimum green ratio"), False, 100.0),
            (self.max_height_m, ("限高", "The height limit"), True, None),
            (self.min_setback_m, ("退线距离", "The minimum setback"), False, None),
            (self.stated_site_area_m2, ("用地面积", "The stated site area"), True, None),
        ):
            if value is not None:
                _check_number(value, what, positive=positive, at_most=at_most)

    @property
    def site_area_m2(self) -> float:
        """The stated site area, or else the site polygon's planar area."""
        if self.stated_site_area_m2 is not None:
            return self.stated_site_area_m2
        return float(self.site.area)


@dataclass(frozen=True)
class AsBuiltBuilding:
    """One surveyed building: its id (编号), footprint (基底), 层数, height (m) and the floor
    area counted toward the FAR (计容建筑面积, m²); ``fid`` is its feature number in the file.
    """

    id: str
    footprint: Polygonal
    floors: int
    height_m: float
    floor_area_m2: float
    fid: int | None = None

    def __post_init__(self) -> None:
        zh, en = f"建筑 {self.id} 的", f"Building {self.id!r}:"
        _check_polygonal(self.footprint, (f"{zh}基底轮廓", f"{en} the footprint"))
        _check_number(self.floors, (f"{zh}层数", f"{en} the floors"), positive=True)
        _check_number(self.height_m, (f"{zh}高度", f"{en} the height"), positive=True)
        _check_number(self.floor_area_m2, (f"{zh}建筑面积", f"{en} the floor area"), positive=True)


@dataclass(frozen=True)
class AsBuiltSurvey:
    """A 竣工测量: the buildings, the green space (the surveyed total ``green_area_m2``, used
    when given, else the ``green_areas`` polygons), when and by whom it was surveyed, and where
    it came from (``source`` file, ``layer`` the buildings layer that findings name).
    """

    buildings: tuple[AsBuiltBuilding, ...]
    crs: CRS
    green_area_m2: float | None = None
    green_areas: tuple[Polygonal, ...] = ()
    surveyed_on: date | None = None
    surveyor: str = ""
    source: str = ""
    layer: str = "as_built"

    def __post_init__(self) -> None:
        ids = [b.id for b in self.buildings]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise InputError(
                f"More than one building has the id {twice[0]!r}.",
                feature=twice[0],
                fix="Give every building its own id (编号).",
                message_zh=f"有多栋建筑的编号都是 {twice[0]!r}。",
                fix_zh="请为每栋建筑填写不同的编号。",
            )
        if self.green_area_m2 is not None:
            _check_number(self.green_area_m2, ("绿地面积", "The green area"))
        for i, g in enumerate(self.green_areas, start=1):
            _check_polygonal(g, (f"第 {i} 块绿地", f"Green area {i}"))


@dataclass(frozen=True)
class Tolerances:
    """How far a measured value may pass its limit and still comply.

    These are **bureau parameters**: each bureau's 规划核实 rules set them. The defaults are our
    choice, not national values, and every one is configurable:

    * ``far_abs`` (0) and ``far_rel_pct`` (0 %): the FAR may exceed its maximum by the larger
      of ``far_abs`` and ``far_rel_pct`` % of the maximum.
    * ``height_m`` (0 m): a building may exceed the height limit by this much.
    * ``position_m`` (0.05 m): a footprint may reach this far beyond the site or the permitted
      footprints, and its setback may fall this much short.
    * ``area_pct`` (0 %): relative allowance on the areas behind the density and green ratios:
      density ≤ maximum × (1 + area_pct/100), green ratio ≥ minimum × (1 − area_pct/100).

    An allowance on FAR, height or area is a permission to build more than the permit says, so
    none is granted unless the bureau sets one: the strict default fails safe (a person looks
    at a failed item; nobody looks at a wrongly passed one). A position check with no allowance
    at all would fail a footprint drawn on the permitted line for survey noise and coordinate
    rounding alone, hence the few centimetres of ``position_m``.

    Examples
    --------
    >>> Tolerances().position_m, Tolerances(far_rel_pct=1).far_allowance(2.0)
    (0.05, 0.02)
    """

    far_abs: float = 0.0
    far_rel_pct: float = 0.0
    height_m: float = 0.0
    position_m: float = 0.05
    area_pct: float = 0.0

    def __post_init__(self) -> None:
        for name in ("far_abs", "far_rel_pct", "height_m", "position_m", "area_pct"):
            at_most = 100.0 if name == "area_pct" else None
            what = (f"容差 {name}", f"Tolerance {name}")
            value = getattr(self, name)
            _check_number(value, what, at_most=at_most, error=ConfigError, field=name)

    def far_allowance(self, max_far: float) -> float:
        """How far the FAR may exceed ``max_far``."""
        return max(self.far_abs, max_far * self.far_rel_pct / 100.0)


def _round_text(value: float, decimals: int = _DECIMALS) -> str:
    """``value`` rounded half up, as a person rounds the decimal it prints as."""
    step = Decimal(1).scaleb(-decimals)
    return str(Decimal(repr(float(value))).quantize(step, rounding=ROUND_HALF_UP))


def _texts(measured: float, permitted: float) -> tuple[str, str]:
    """Both values to two places, or more while rounding would make them look equal."""
    for d in range(_DECIMALS, _MAX_DECIMALS):
        m, p = _round_text(measured, d), _round_text(permitted, d)
        if m != p or measured == permitted:
            break
    return m, p


@dataclass(frozen=True)
class AsBuiltItem:
    """One verified indicator (of one building, for the per-building ones).

    ``permitted`` is the limit (``limit_kind`` ``max`` or ``min``) and ``tolerance`` the
    allowance, both in ``unit``; ``measured`` is ``None`` when the survey does not give what the
    permit limits (the item fails: it cannot be verified). ``area_m2`` is the area of the part
    outside, for ``within_site`` and ``footprint``.

    Examples
    --------
    >>> item = _item("as_built.far", 2.0, 2.025, 0.0)
    >>> item.measured_text, item.permitted_text, item.passed
    ('2.03', '2.00', False)
    >>> _item("as_built.far", 2.0, 2.004, 0.0).message_zh
    '容积率 2.004，超过许可上限 2.000（容差 0.00）。'
    """

    indicator: str
    name_zh: str
    name_en: str
    unit: str
    limit_kind: str
    permitted: float
    measured: float | None
    tolerance: float
    passed: bool
    message_zh: str
    message_en: str
    building_id: str | None = None
    fid: int | None = None
    area_m2: float | None = None

    @property
    def measured_text(self) -> str:
        """The measured value rounded for a person (``""`` when not measured)."""
        return "" if self.measured is None else _texts(self.measured, self.permitted)[0]

    @property
    def permitted_text(self) -> str:
        """The limit rounded for a person, to as many places as :attr:`measured_text`."""
        if self.measured is None:
            return _round_text(self.permitted)
        return _texts(self.measured, self.permitted)[1]

    def message(self, lang: str = "zh") -> str:
        """The message in ``lang`` (anything but ``"en"`` is Chinese)."""
        return self.message_en if lang == "en" else self.message_zh


def _item(
    indicator: str,
    permitted: float,
    measured: float | None,
    tolerance: float,
    *,
    building: AsBuiltBuilding | None = None,
    area_m2: float | None = None,
    note: tuple[str, str] = ("", ""),
    noise: float | None = None,
) -> AsBuiltItem:
    """An item with its verdict and its messages (``note``: what follows them, zh and en)."""
    name_zh, name_en, unit, kind = INDICATORS[indicator]
    slack = tolerance + (_RELATIVE_NOISE * max(1.0, abs(permitted)) if noise is None else noise)
    passed = measured is not None and (
        measured <= permitted + slack if kind == "max" else measured >= permitted - slack
    )
    u = f" {unit}" if unit == "m" else unit
    who_zh, who_en = (
        (f"建筑 {building.id}：", f"Building {building.id}: ") if building else ("", "")
    )
    bound_zh = "上限" if kind == "max" else "下限"
    if measured is None:
        p = _round_text(permitted)
        zh = f"{who_zh}竣工测量未给出{name_zh}所需的数据，无法核实（许可{bound_zh} {p}{u}）"
        en = f"{who_en}the survey does not give what the {name_en} needs (permitted {kind} {p}{u})"
    else:
        m, p = _texts(measured, permitted)
        verb_zh = ("不" if passed else "") + ("超过" if kind == "max" else "低于")
        verb_en = ("is within the", "exceeds the", "meets the", "falls short of the")[
            (0 if kind == "max" else 2) + (0 if passed else 1)
        ]
        tol = _round_text(tolerance)
        zh = f"{who_zh}{name_zh} {m}{u}，{verb_zh}许可{bound_zh} {p}{u}（容差 {tol}{u}）"
        en = f"{who_en}{name_en} {m}{u} {verb_en} permitted {kind}imum {p}{u} (tolerance {tol}{u})"
    zh += f"：{note[0]}。" if note[0] else "。"
    en += f": {note[1]}." if note[1] else "."
    head = (indicator, name_zh, name_en, unit, kind, permitted, measured, tolerance, passed)
    ref: tuple[str | None, int | None] = (building.id, building.fid) if building else (None, None)
    return AsBuiltItem(*head, zh, en[0].upper() + en[1:], *ref, area_m2)


def _reach_beyond(shape: Polygonal, region: Polygonal) -> tuple[float, float]:
    """How far ``shape`` reaches beyond ``region`` (directed Hausdorff distance in metres, to
    :data:`REACH_RESOLUTION_M`) and the area of its part outside (m²).

    Examples
    --------
    >>> reach, area = _reach_beyond(shapely.box(0, 0, 11, 4), shapely.box(0, 0, 10, 4))
    >>> round(reach, 3), round(area, 6)
    (1.0, 4.0)
    """
    outside = shapely.difference(shape, region)
    if outside.is_empty:
        return 0.0, 0.0
    corners = shapely.points(shapely.get_coordinates(outside))
    lo = float(shapely.distance(corners, region).max())  # a lower bound: some points
    if shapely.covers(shapely.buffer(region, lo + 1e-6, quad_segs=_QUAD_SEGS), outside):
        return lo, float(outside.area)  # the farthest point is a corner: exact
    anchor = shapely.point_on_surface(region)  # an upper bound: all of shape is this close
    far = float(shapely.distance(shapely.points(shapely.get_coordinates(shape)), anchor).max())
    hi = max(lo, far) * 1.01 + REACH_RESOLUTION_M  # covered despite the chords
    while hi - lo > REACH_RESOLUTION_M:
        mid = (lo + hi) / 2.0
        if shapely.covers(shapely.buffer(region, mid, quad_segs=_QUAD_SEGS), outside):
            hi = mid
        else:
            lo = mid
    return hi, float(outside.area)


@dataclass(frozen=True)
class AsBuiltResult:
    """What :func:`verify_as_built` found: every item (site-wide ones first, then the
    per-building ones by indicator and building id); the conditions, survey and tolerances it
    used; and the floor area, footprint area (union) and green area behind the ratios (m²)."""

    items: tuple[AsBuiltItem, ...]
    conditions: PermitConditions
    survey: AsBuiltSurvey
    tolerances: Tolerances
    floor_area_m2: float
    footprint_area_m2: float
    green_area_m2: float | None

    @property
    def site_area_m2(self) -> float:
        """The site area the ratios are computed on."""
        return self.conditions.site_area_m2

    @property
    def passed(self) -> bool:
        """Every item complies (规划核实合格)."""
        return all(i.passed for i in self.items)

    @property
    def exceeded(self) -> tuple[AsBuiltItem, ...]:
        """The items that fail, in the order of :attr:`items`."""
        return tuple(i for i in self.items if not i.passed)

    def findings(self) -> list[Finding]:
        """Each failed item as an error :class:`Finding`, sorted by rule id, then building."""
        out = []
        for i in self.exceeded:
            layer = self.survey.layer
            refs = (FeatureRef(layer, i.fid, "编号", i.building_id),) if i.building_id else ()
            out.append(
                Finding(
                    i.indicator,
                    Severity.ERROR,
                    i.message_zh,
                    i.message_en,
                    layer=layer if refs else None,
                    features=refs,
                    measured=i.measured,
                    limit=i.permitted,
                    unit=i.unit or None,
                    area_m2=i.area_m2,
                    details={"tolerance": i.tolerance, "limit_kind": i.limit_kind},
                )
            )
        return sorted(out, key=lambda f: (f.rule, f.features[0].key() if f.features else ()))


def _ratio_note(what: tuple[str, str], area_m2: float, site_m2: float) -> tuple[str, str]:
    a, s = _round_text(area_m2), _round_text(site_m2)
    return f"{what[0]} {a} m²，用地面积 {s} m²", f"{what[1]} {a} m² on a site of {s} m²"


def _site_items(
    c: PermitConditions, s: AsBuiltSurvey, t: Tolerances, site: float
) -> tuple[list[AsBuiltItem], float, float, float | None]:
    """FAR, density and green ratio, with the floor, footprint and green areas behind them."""
    floor = math.fsum(b.floor_area_m2 for b in s.buildings)
    footprints = [b.footprint for b in s.buildings]
    base = float(shapely.union_all(footprints).area) if footprints else 0.0
    green = s.green_area_m2
    if green is None and s.green_areas:
        green = float(shapely.intersection(shapely.union_all(list(s.green_areas)), c.site).area)
    items = []
    if c.max_far is not None:
        note = _ratio_note(("计容建筑面积合计", "floor area"), floor, site)
        allowance = t.far_allowance(c.max_far)
        items.append(_item("as_built.far", c.max_far, floor / site, allowance, note=note))
    if c.max_density_pct is not None:
        note = _ratio_note(("建筑基底面积", "footprints"), base, site)
        tol = c.max_density_pct * t.area_pct / 100.0
        density = base / site * 100.0
        items.append(_item("as_built.building_density", c.max_density_pct, density, tol, note=note))
    if c.min_green_pct is not None:
        tol = c.min_green_pct * t.area_pct / 100.0
        ratio = None if green is None else green / site * 100.0
        note = ("", "") if green is None else _ratio_note(("绿地面积", "green"), green, site)
        items.append(_item("as_built.green_ratio", c.min_green_pct, ratio, tol, note=note))
    return items, floor, base, green


def _reach_item(
    indicator: str, b: AsBuiltBuilding, region: Polygonal, where: tuple[str, str], t: Tolerances
) -> tuple[AsBuiltItem, float]:
    """The item for how far ``b`` reaches beyond ``region`` (named ``where``, zh and en), and
    the area outside (m²)."""
    reach, outside = _reach_beyond(b.footprint, region)
    item = _item(
        indicator, 0.0, reach, t.position_m, building=b, area_m2=outside, noise=REACH_RESOLUTION_M
    )
    where_zh, where_en = where
    r, a, tol = _round_text(reach), _round_text(outside), _round_text(t.position_m)
    if outside == 0.0:
        zh, en = f"位于{where_zh}以内。", f"lies within {where_en}."
    elif item.passed:
        zh = f"超出{where_zh} {r} m，在容差 {tol} m 以内。"
        en = f"reaches {r} m beyond {where_en}, within the tolerance of {tol} m."
    else:
        zh = f"超出{where_zh} {r} m（容差 {tol} m），超出部分面积 {a} m²。"
        en = f"reaches {r} m beyond {where_en} (tolerance {tol} m); {a} m² lies outside."
    zh, en = f"建筑 {b.id}：{zh}", f"Building {b.id} {en}"
    return dataclasses.replace(item, message_zh=zh, message_en=en), outside


def _building_items(
    c: PermitConditions, b: AsBuiltBuilding, t: Tolerances, permitted: Polygonal | None
) -> list[AsBuiltItem]:
    """Height, site boundary, setback and permitted footprint of one building."""
    items = []
    if c.max_height_m is not None:
        items.append(_item("as_built.height", c.max_height_m, b.height_m, t.height_m, building=b))
    site = ("用地红线", "the site boundary")
    within_site, outside = _reach_item("as_built.within_site", b, c.site, site, t)
    items.append(within_site)
    if c.min_setback_m is not None:
        # A footprint not within the site has no setback: 0, whatever its distance to the line.
        gap = float(shapely.distance(b.footprint, c.site.boundary)) if outside == 0 else 0.0
        note = ("越出用地红线，退线距离按 0 计", "not within the site") if outside else ("", "")
        setback = _item(
            "as_built.setback", c.min_setback_m, gap, t.position_m, building=b, note=note
        )
        items.append(setback)
    if permitted is not None:
        where = ("许可建筑轮廓", "the permitted footprints")
        items.append(_reach_item("as_built.footprint", b, permitted, where, t)[0])
    return items


def verify_as_built(
    conditions: PermitConditions, survey: AsBuiltSurvey, tolerances: Tolerances | None = None
) -> AsBuiltResult:
    """Verify ``survey`` against ``conditions`` within ``tolerances`` (default
    :class:`Tolerances`); the module docstring says what each indicator measures.

    Raises
    ------
    CRSError
        The conditions' CRS is not projected, or the survey is in another CRS.

    Examples
    --------
    A 100 m × 80 m site (8,000 m²), FAR ≤ 2.0 and height ≤ 45 m, and one 20 m × 40 m building
    of 12 floors, 39.6 m and 9,600 m²: FAR 9,600 / 8,000 = 1.2; it lies within the site.

    >>> crs = CRS.from_epsg(4527)
    >>> c = PermitConditions(shapely.box(0, 0, 100, 80), crs, max_far=2.0, max_height_m=45)
    >>> b = AsBuiltBuilding("1号楼", shapely.box(10, 10, 30, 50), 12, 39.6, 9600.0)
    >>> r = verify_as_built(c, AsBuiltSurvey((b,), crs))
    >>> r.passed, [i.measured_text for i in r.items]
    (True, ['1.20', '39.60', '0.00'])
    """
    t = tolerances or Tolerances()
    check_projected(conditions.crs, "As-built verification", what_zh="规划核实")
    if not survey.crs.equals(conditions.crs, ignore_axis_order=True):
        raise CRSError(
            f"The as-built survey is in {survey.crs.name}, the permit's site in "
            f"{conditions.crs.name}.",
            file=survey.source or None,
            fix="Reproject the survey to the workspace CRS before verifying it.",
            message_zh=f"竣工测量成果的坐标系为 {survey.crs.name}，而许可用地红线的坐标系为 "
            f"{conditions.crs.name}。",
            fix_zh="请先将竣工测量成果转换到工作空间坐标系，再进行规划核实。",
        )
    items, floor, base, green = _site_items(conditions, survey, t, conditions.site_area_m2)
    footprints = list(conditions.permitted_footprints)
    permitted = shapely.union_all(footprints) if footprints else None
    buildings = sorted(survey.buildings, key=lambda b: b.id)
    per_building = [i for b in buildings for i in _building_items(conditions, b, t, permitted)]
    order = list(INDICATORS)
    per_building.sort(key=lambda i: order.index(i.indicator))  # stable: buildings stay by id
    items += per_building
    return AsBuiltResult(tuple(items), conditions, survey, t, floor, base, green)
