"""The plan's indicator table (规划指标表) and its planted problems.

The table lists the master plan's indicators with the planned value (规划目标值, 2035) and the
upper-level allocation (上级下达值): a row for every indicator of the monitoring catalogue
that a county plan sets, under the catalogue's Chinese name, so that ``规划目标.xlsx``
(:mod:`guotu.demo.targets`) carries the same figure for the same indicator. Area rows are in
公顷 to 4 decimals:

* the 三区三线 rows are the upper-level tasks the delimitation meets (上级下达 = 规划目标值):
  97 % of the delimited 生态保护红线 and 永久基本农田 (floors, rounded down to whole
  hectares) and 103 % of the delimited 城镇开发边界 (a cap, rounded up), from the exact
  ellipsoidal areas of the layers;
* the plan-map rows derive from the plan's land use (GHYD ``MJ``, ellipsoidal m²):
  耕地保有量 from 01, 城乡建设用地规模 from the rule pack's 城乡建设用地 codes, 建设用地总面积
  and 国土开发强度 from 07–16 (06 农业设施建设用地 is 农用地 by the 三大类);
* 林地保有量, 湿地面积 and 草地面积 lie 3 %, 5 % and 15 % under the 2025 survey (some
  林地 and 草地 give way to 耕地), and 人均城镇建设用地面积 (100 平方米/人: the town is to
  grow denser) and 用水总量 (0.75 亿立方米, allocated 0.80) are round figures.

Planted for the review (图数一致性, 1 ha tolerance): 城乡建设用地规模 is 3.5 ha under what the
map holds (a finding), 耕地保有量 0.6 ha over the map's 耕地 (within tolerance, not a finding)
and 25 ha below its allocation (a finding). No planted offset touches a row whose figure
monitoring compares with the same layer (the 三区三线 rows), so monitoring finds those met.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np

from guotu.demo.manifest import Item
from guotu.demo.targets import CountyMeasure, floor_to

__all__ = ["COLUMNS", "INDICATOR_LAYER", "SHEET", "URBAN_RURAL", "indicator_table"]

#: The handover file's sheet, and the name its items give as their layer.
SHEET = "规划指标"
INDICATOR_LAYER = "规划指标表"
#: Columns of the table: English key → Chinese header.
COLUMNS = {
    "name": "指标名称",
    "kind": "指标属性",
    "unit": "单位",
    "planned": "规划目标值",
    "allocated": "上级下达值",
}
#: 城乡建设用地 codes: the `cn-base` rule pack's map indicator (建设用地 without 区域基础设施
#: 1201–1206, 采矿/盐田 1002/1003 and 特殊用地 15).
URBAN_RURAL = ("07", "08", "09", "1001", "11", "1207", "1208", "1209", "13", "14", "16")
#: 建设用地 of the plan by the 三大类: 07–16 (06 农业设施建设用地 counts as 农用地).
_CONSTRUCTION = tuple(f"{i:02d}" for i in range(7, 17))
#: Planted offsets, ha.
_URBAN_RURAL_UNDER_HA = 3.5
_CROPLAND_OVER_HA = 0.6
_CROPLAND_BELOW_HA = 25.0
#: Shares of the 2025 survey the plan keeps (林地, 湿地, 草地).
_KEEP = {"forest_land": 0.97, "wetland_area": 0.95, "grassland_area": 0.85}
#: The upper-level tasks against the delimited 三区三线: floors under, the cap over the map.
_ZONE_FLOOR_SHARE, _ZONE_CAP_SHARE = 0.97, 1.03


def _ha(frame: gpd.GeoDataFrame, prefixes: tuple[str, ...] | None = None) -> float:
    """Sum of ``MJ`` (m²) in hectares, optionally over the GHYD codes with ``prefixes``."""
    mj = frame["MJ"].to_numpy(dtype=np.float64)
    if prefixes is not None:
        mj = mj[frame["YDYHFLDM"].astype(str).str.startswith(prefixes).to_numpy()]
    return float(mj.sum()) / 1e4


def _r4(value: float) -> float:
    return round(value, 4)


def indicator_table(
    layers: dict[str, gpd.GeoDataFrame],
    county_area_m2: float,
    measure: CountyMeasure,
    survey: dict[str, float | None],
) -> tuple[list[dict[str, Any]], list[Item]]:
    """The table rows (keys of :data:`COLUMNS`, ``None`` = blank) and the manifest items.

    ``survey`` holds the monitoring values of the 2025 survey by indicator id
    (:meth:`CountyMeasure.values`)."""
    ghyd = layers["GHYD"]
    redline = floor_to(_ZONE_FLOOR_SHARE * measure.zone_ha("STBHHX"), 0)
    farmland = floor_to(_ZONE_FLOOR_SHARE * measure.zone_ha("YJJBNT"), 0)
    boundary = floor_to(_ZONE_CAP_SHARE * measure.zone_ha("CZKFBJ"), 0, up=True)
    cropland = _r4(_ha(ghyd, ("01",)))
    urban_rural = _r4(_ha(ghyd, URBAN_RURAL))
    construction = floor_to(_ha(ghyd, _CONSTRUCTION), 4, up=True)
    intensity = floor_to(100 * construction * 1e4 / county_area_m2, 2, up=True)
    crop_plan = _r4(cropland + _CROPLAND_OVER_HA)
    crop_alloc = _r4(crop_plan + _CROPLAND_BELOW_HA)
    ur_plan = _r4(urban_rural - _URBAN_RURAL_UNDER_HA)
    kept = {k: floor_to(share * float(survey[k] or 0.0), 4) for k, share in _KEEP.items()}
    rows = [
        ("生态保护红线面积", "约束性", "公顷", redline, redline),
        ("永久基本农田保护面积", "约束性", "公顷", farmland, farmland),
        ("耕地保有量", "约束性", "公顷", crop_plan, crop_alloc),
        (
            "林地保有量",
            "约束性",
            "公顷",
            kept["forest_land"],
            float(math.floor(kept["forest_land"])),
        ),
        (
            "湿地面积",
            "约束性",
            "公顷",
            kept["wetland_area"],
            float(math.floor(kept["wetland_area"])),
        ),
        ("草地面积", "预期性", "公顷", kept["grassland_area"], None),
        ("建设用地总面积", "约束性", "公顷", construction, _r4(construction + 60)),
        ("城乡建设用地规模", "约束性", "公顷", ur_plan, _r4(ur_plan + 100)),
        ("国土开发强度", "预期性", "%", intensity, round(math.ceil(intensity) + 1.0, 2)),
        ("城镇开发边界面积", "约束性", "公顷", boundary, boundary),
        ("人均城镇建设用地面积", "约束性", "平方米/人", 100.0, None),
        ("用水总量", "约束性", "亿立方米", 0.75, 0.8),
    ]
    table = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    codes = "、".join(URBAN_RURAL)
    items = [
        Item(
            "conflict.indicator.map.1",
            "map_table_mismatch",
            INDICATOR_LAYER,
            ["城乡建设用地规模"],
            f"指标表城乡建设用地规模 {ur_plan:.4f} 公顷，规划用地图层 GHYD 的城乡建设用地（{codes}）"
            f"量算 {urban_rural:.4f} 公顷，图上多出 {_URBAN_RURAL_UNDER_HA:g} 公顷，超过 1 公顷容差。",
            f"The table gives the urban and rural construction land as {ur_plan:.4f} ha; layer "
            f"GHYD holds {urban_rural:.4f} ha of it ({codes}), {_URBAN_RURAL_UNDER_HA:g} ha more "
            "(tolerance 1 ha).",
            id_field=COLUMNS["name"],
            other_layer="GHYD",
            field=COLUMNS["planned"],
            value=urban_rural,
            limit=ur_plan,
        ),
        Item(
            "nonconflict.indicator.map.within_tolerance.1",
            "within_tolerance",
            INDICATOR_LAYER,
            ["耕地保有量"],
            f"指标表耕地保有量比规划用地图层 GHYD 的耕地（01）多 {_CROPLAND_OVER_HA:g} 公顷，"
            "在 1 公顷容差内，不是问题。",
            f"The table's cultivated land is {_CROPLAND_OVER_HA:g} ha above the cultivated land "
            "(01) of layer GHYD, within the 1 ha tolerance: not a finding.",
            id_field=COLUMNS["name"],
            other_layer="GHYD",
            field=COLUMNS["planned"],
            value=cropland,
            limit=crop_plan,
        ),
        Item(
            "conflict.indicator.allocation.1",
            "below_allocation",
            INDICATOR_LAYER,
            ["耕地保有量"],
            f"耕地保有量规划目标值 {crop_plan:.4f} 公顷低于上级下达值 {crop_alloc:.4f} 公顷"
            f"（差 {_CROPLAND_BELOW_HA:g} 公顷）。",
            f"The planned cropland {crop_plan:.4f} ha is {_CROPLAND_BELOW_HA:g} ha below the "
            f"allocation {crop_alloc:.4f} ha.",
            id_field=COLUMNS["name"],
            field=COLUMNS["planned"],
            value=crop_plan,
            limit=crop_alloc,
        ),
    ]
    return table, items
