"""The plan's targets (规划目标.xlsx) for the monitoring indicators, and the statuses they give.

``规划目标.xlsx`` holds a row for every indicator of the built-in catalogue (``cn-core``) that
the county plan sets, which are the rows of its indicator table (:mod:`guotu.demo.
indicator_table`): the **2035** column is the table's 规划目标值, the same figure for the same
indicator, and the **2025** column (近期目标) is filled where the plan stages a figure:
生态保护红线面积, 永久基本农田保护面积 and 用水总量 (their 2035 figures), 耕地保有量 (just
under the 2025 survey, by one year of the planted loss: *at risk*, 预警), 建设用地总面积
(1 ha under the 2025 survey: *breached*, 突破) and 人均城镇建设用地面积 (110 平方米/人, on
the way to 100 by 2035). A value answers to the next milestone at or after its year, so the
other indicators answer to 2035 from the start, and every indicator does from 2026 on.

On the planted date :data:`STATUS_DATE` (2025-12-31) 建设用地总面积 is breached, 耕地保有量
and 用水总量 (0.74 of 0.75 亿立方米) are at risk, and the others are met. Against the 2035
targets (any date from 2026, the dashboard's today) 建设用地总面积 has room again (the plan
map's 07–16), 人均城镇建设用地面积 is above the 100 the plan aims at (breached), 用水总量 is
still at risk, and 耕地保有量 lies near its 2035 floor, the plan map's 耕地 (about 2 % above
it at 3 000 and 30 000 parcels: met or at risk with the size; the manifest says which).

The catalogue's other seven indicators get no target, as in a county plan: 行政区域面积 (the
base, no direction), 城镇开发边界范围内城乡建设用地面积 and 留白用地比例 (no direction),
每万元GDP地耗 (plans set the *fall* of construction land per unit of GDP, 单位GDP建设用地使用
面积下降率, not a level), 生态保护红线范围内建设用地面积, 违法违规用地事件数量 and 核查属实的占用
永久基本农田面积 (monitoring findings, not plan figures).

:class:`CountyMeasure` measures the generated county as the monitoring engine does with the
2025 survey, the zones and the 2025 statistics, and :func:`plan_targets` states each
target's status with :func:`guotu.domain.monitoring.indicators.status` and the catalogue's warning
margins (the margins are wide enough that no trend forecast changes them for years).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS

from guotu.demo.manifest import CRS_EPSG
from guotu.domain.codes.crosswalks import known_three_major_class
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.domain.monitoring.indicators import (
    AreaTerm,
    Catalogue,
    evaluate,
    status,
    target_for_year,
)

__all__ = [
    "LATER_DATE",
    "NEAR_YEAR",
    "STATUS_DATE",
    "TARGET_YEAR",
    "CountyMeasure",
    "PlanTargets",
    "floor_to",
    "plan_targets",
]

#: The milestones of the plan (近期, 目标年).
NEAR_YEAR, TARGET_YEAR = 2025, 2035
#: The planted date (the 2025 milestone), and a date whose values answer to 2035.
STATUS_DATE = date(2025, 12, 31)
LATER_DATE = date(2026, 12, 31)
#: The 2025 construction-land cap lies this far under the 2025 survey (ha): breached.
_CONSTRUCTION_OVER_HA = 1.0
#: The 2025 cap of 人均城镇建设用地面积 (平方米/人).
_PER_CAPITA_2025 = 110.0
_CLASS_ZH = {"agricultural": "农用地", "construction": "建设用地", "unused": "未利用地"}
#: Zone roles → the demo layer holding them.
_ZONES = {
    "ecological_redline": "STBHHX",
    "permanent_farmland": "YJJBNT",
    "urban_boundary": "CZKFBJ",
}
#: Statistics inputs of the catalogue → the column of 社会经济统计.xlsx.
_STATISTICS = {
    "resident_population": "常住人口（人）",
    "urban_population": "城镇常住人口（人）",
    "water_use": "用水总量（亿立方米）",
    "gdp": "地区生产总值（万元）",
}
_KIND_ZH = {"binding": "约束性", "expected": "预期性"}
_UNIT_ZH = {"ha": "公顷", "%": "%", "m2/person": "平方米/人", "1e8m3": "亿立方米"}
#: Below this (in the value's unit) two measurements of the same thing may differ.
_GUARD = 1e-7


def floor_to(value: float, decimals: int, *, up: bool = False) -> float:
    """``value`` rounded down (``up``: up) to ``decimals``, with a margin of 10⁻⁷ so that a
    floor never exceeds the measured value it came from, nor a cap falls under it; a
    non-negative value never gives a negative floor.

    Examples
    --------
    >>> floor_to(1085.92004, 2), floor_to(2449.8997, 2, up=True), floor_to(0.0, 4)
    (1085.92, 2449.9, 0.0)
    """
    scale = 10.0**decimals
    if up:
        return math.ceil((value + _GUARD) * scale) / scale
    floor = math.floor((value - _GUARD) * scale) / scale
    return max(floor, 0.0) if value >= 0 else floor


def _starts(codes: np.ndarray, prefixes: tuple[str, ...]) -> np.ndarray:
    """Which ``codes`` start with one of ``prefixes`` (all when there are none)."""
    keep = np.zeros(len(codes), dtype=bool) if prefixes else np.ones(len(codes), dtype=bool)
    for prefix in prefixes:
        keep |= np.char.startswith(codes.astype(str), prefix)
    return keep


class CountyMeasure:
    """The generated county measured as the monitoring engine measures it on
    :data:`STATUS_DATE`: the 2025 survey (DLTB), the 三区三线, the county outline, the plan's
    land use (GHYD) and the 2025 statistics. Areas are ellipsoidal and full precision."""

    def __init__(
        self,
        layers: dict[str, gpd.GeoDataFrame],
        dltb_areas_m2: np.ndarray,
        county_area_m2: float,
        statistics: Sequence[dict[str, Any]],
    ) -> None:
        crs = CRS.from_user_input(CRS_EPSG)
        dltb = layers["DLTB"]
        self._dlbm = dltb["DLBM"].astype(str).to_numpy()
        self._dltb_m2 = np.asarray(dltb_areas_m2, dtype=np.float64)
        kinds, where = np.unique(self._dlbm, return_inverse=True)
        self._class = np.array([known_three_major_class(c) or "" for c in kinds])[where]
        udb = shapely.union_all(np.asarray(layers["CZKFBJ"].geometry.values, dtype=object))
        points = shapely.point_on_surface(
            shapely.make_valid(np.asarray(dltb.geometry.values, dtype=object))
        )
        self._in_udb = shapely.contains(udb, points)
        self._zone_m2 = {
            role: float(
                ellipsoidal_area_m2(
                    shapely.make_valid(np.asarray(layers[name].geometry.values, dtype=object)), crs
                ).sum()
            )
            for role, name in _ZONES.items()
        }
        self._ydyh = layers["GHYD"]["YDYHFLDM"].astype(str).to_numpy()
        self._ghyd_m2 = layers["GHYD"]["MJ"].to_numpy(dtype=np.float64)
        self._county_m2 = county_area_m2
        last = dict(statistics[-1]) if statistics else {}
        self._tables = {k: float(last[col]) for k, col in _STATISTICS.items() if col in last}

    def zone_ha(self, layer: str) -> float:
        """The exact ellipsoidal area of a zone layer (STBHHX, YJJBNT, CZKFBJ) in hectares."""
        role = next(r for r, name in _ZONES.items() if name == layer)
        return self._zone_m2[role] / 1e4

    def _term(self, op: str, term: AreaTerm) -> float | None:
        if op != "area" or term.outside:
            return None
        if term.role == "land_survey":
            keep = _starts(self._dlbm, term.codes)
            if term.major_class:
                keep &= self._class == _CLASS_ZH[term.major_class]
            if term.within == "urban_boundary":
                keep &= self._in_udb
            elif term.within:
                return None
            return float(self._dltb_m2[keep].sum())
        if term.within:
            return None
        if term.role in self._zone_m2:
            return self._zone_m2[term.role]
        if term.role == "admin_boundary":
            return self._county_m2
        if term.role == "planned_land_use":
            return float(self._ghyd_m2[_starts(self._ydyh, term.codes)].sum())
        return None

    def values(self, catalogue: Catalogue) -> dict[str, float | None]:
        """Every indicator's value on :data:`STATUS_DATE`, in its unit."""
        base: dict[str, float | None] = {}
        out: dict[str, float | None] = {}
        for ind in catalogue.order():
            raw = evaluate(ind.formula, self._term, self._tables.get, base.get)
            base[ind.id] = raw
            out[ind.id] = None if raw is None else ind.from_base(raw)
        return out


@dataclass
class PlanTargets:
    """规划目标.xlsx and what it gives on :data:`STATUS_DATE`.

    Attributes
    ----------
    rows
        The table: 指标名称, 指标属性, 单位, ``2025年`` (blank when not staged), ``2035年``.
    values
        Indicator id → {year: target}.
    statuses, later
        Indicator id → ``green``/``yellow``/``red`` on :data:`STATUS_DATE` and against the
        2035 targets (:data:`LATER_DATE`), for every indicator with a target, in catalogue
        order.
    no_target
        The catalogue's indicators without a target.
    """

    rows: list[dict[str, Any]]
    values: dict[str, dict[int, float]]
    statuses: dict[str, str]
    later: dict[str, str]
    no_target: list[str] = field(default_factory=list)

    def expected(self) -> dict[str, Any]:
        """The manifest's record of the statuses (``history.expected``): ``status_2025`` on
        2025-12-31, ``status_2035`` for any later date (today) as long as no new data comes."""
        return {
            "status_date": STATUS_DATE.isoformat(),
            "status_2025": self.statuses,
            "status_2035": self.later,
            "no_target": self.no_target,
        }


def plan_targets(
    table: Sequence[dict[str, Any]],
    measure: CountyMeasure,
    catalogue: Catalogue,
    yearly_loss_ha: float,
) -> PlanTargets:
    """The targets of every indicator table row (matched to ``catalogue`` by its Chinese
    name), staged for 2025 as the module says, and their statuses on :data:`STATUS_DATE`."""
    by_name = {ind.name_zh: ind for ind in catalogue.indicators}
    measured = measure.values(catalogue)

    def near(ind_id: str, planned: float) -> float | None:
        value = measured.get(ind_id)
        if ind_id in ("redline_area", "permanent_farmland_area", "water_use_total"):
            return planned
        if ind_id == "cultivated_land" and value is not None:
            return floor_to(value - yearly_loss_ha, 4)  # 公顷 to 4 decimals, as the table
        if ind_id == "construction_land_total" and value is not None:
            return round(value - _CONSTRUCTION_OVER_HA, 4)
        if ind_id == "per_capita_urban_construction":
            return _PER_CAPITA_2025
        return None

    rows: list[dict[str, Any]] = []
    values: dict[str, dict[int, float]] = {}
    for row in table:
        ind = by_name[row["name"]]  # a table row the catalogue does not know: a generator bug
        planned = float(row["planned"])
        staged = near(ind.id, planned)
        values[ind.id] = {TARGET_YEAR: planned} | ({} if staged is None else {NEAR_YEAR: staged})
        rows.append(
            {
                "指标名称": ind.name_zh,
                "指标属性": _KIND_ZH[ind.type],
                "单位": _UNIT_ZH[ind.unit],
                f"{NEAR_YEAR}年": staged,
                f"{TARGET_YEAR}年": planned,
            }
        )
    statuses = {
        day: _statuses(catalogue, values, measured, day.year) for day in (STATUS_DATE, LATER_DATE)
    }
    no_target = [ind.id for ind in catalogue.indicators if ind.id not in values]
    return PlanTargets(rows, values, statuses[STATUS_DATE], statuses[LATER_DATE], no_target)


def _statuses(
    catalogue: Catalogue,
    values: dict[str, dict[int, float]],
    measured: dict[str, float | None],
    year: int,
) -> dict[str, str]:
    """Each target's status for values of ``year``, in catalogue order."""
    out: dict[str, str] = {}
    for ind in catalogue.indicators:
        if ind.id not in values:
            continue
        target = target_for_year(values[ind.id], year)
        found = status(
            ind.direction, measured.get(ind.id), target[1] if target else None, ind.warn_margin
        )
        if found is not None:
            out[ind.id] = found
    return out
