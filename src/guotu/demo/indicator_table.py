"""The plan's indicator table (规划指标表) and its planted problems.

The table lists the master plan's indicators with the planned value (规划目标值) and the
upper-level allocation (上级下达值). Area rows are in 公顷 and derive from the layers'
ellipsoidal areas (the ``MJ`` field, m²), so the review engine can compare them with the map
(图数一致性, 1 ha tolerance) and with the allocation. Planted: the red-line area is 3.5 ha off
the map, the farmland area 0.6 ha off (within tolerance, not a finding), and the planned
cropland is 25 ha below its allocation.
"""

from __future__ import annotations

import math
from typing import Any

import geopandas as gpd
import numpy as np

from guotu.demo.manifest import Item

__all__ = ["COLUMNS", "INDICATOR_LAYER", "SHEET", "indicator_table"]

#: The handover file's sheet, and the name its items give as their layer.
SHEET = "规划指标"
INDICATOR_LAYER = "规划指标表"
#: Columns of the table: English key → Chinese header.
COLUMNS = {"name": "指标名称", "kind": "指标属性", "unit": "单位", "planned": "规划目标值",
           "allocated": "上级下达值"}
#: 城乡建设用地 codes (the rule pack's map indicator).
_URBAN_RURAL = ("07", "08", "09", "10", "11", "1207", "13", "14", "15", "16")
_CONSTRUCTION = tuple(f"{i:02d}" for i in range(6, 17))
#: Planted offsets, ha.
_REDLINE_OFF_HA = 3.5
_FARMLAND_OFF_HA = 0.6
_CROPLAND_BELOW_HA = 25.0


def _ha(frame: gpd.GeoDataFrame, prefixes: tuple[str, ...] | None = None) -> float:
    """Sum of ``MJ`` (m²) in hectares, optionally over the GHYD codes with ``prefixes``."""
    mj = frame["MJ"].to_numpy(dtype=np.float64)
    if prefixes is not None:
        mj = mj[frame["YDYHFLDM"].astype(str).str.startswith(prefixes).to_numpy()]
    return float(mj.sum()) / 1e4


def _r4(value: float) -> float:
    return round(value, 4)


def indicator_table(layers: dict[str, gpd.GeoDataFrame], county_area_m2: float
                    ) -> tuple[list[dict[str, Any]], list[Item]]:
    """The table rows (keys of :data:`COLUMNS`, ``None`` = blank) and the manifest items."""
    ghyd = layers["GHYD"]
    redline = _r4(_ha(layers["STBHHX"]))
    farmland = _r4(_ha(layers["YJJBNT"]))
    boundary = _r4(_ha(layers["CZKFBJ"]))
    cropland = _r4(_ha(ghyd, ("01",)))
    urban_rural = _r4(_ha(ghyd, _URBAN_RURAL))
    intensity = round(100 * _ha(ghyd, _CONSTRUCTION) * 1e4 / county_area_m2, 2)
    crop_plan = _r4(cropland - 10)
    crop_alloc = _r4(crop_plan + _CROPLAND_BELOW_HA)
    ur_plan = _r4(urban_rural + 50)
    rows = [
        ("生态保护红线面积", "约束性", "公顷", _r4(redline + _REDLINE_OFF_HA),
         float(math.floor(redline))),
        ("永久基本农田保护面积", "约束性", "公顷", _r4(farmland + _FARMLAND_OFF_HA),
         float(math.floor(farmland))),
        ("耕地保有量", "约束性", "公顷", crop_plan, crop_alloc),
        ("城乡建设用地规模", "约束性", "公顷", ur_plan, _r4(ur_plan + 100)),
        ("城镇开发边界面积", "约束性", "公顷", boundary, None),
        ("国土开发强度", "预期性", "%", intensity, round(math.ceil(intensity) + 1.0, 2)),
        ("用水总量", "约束性", "亿立方米", 1.85, 2.1),
    ]
    table = [dict(zip(COLUMNS, row, strict=True)) for row in rows]
    items = [
        Item("conflict.indicator.map.1", "map_table_mismatch", INDICATOR_LAYER, ["生态保护红线面积"],
             f"指标表生态保护红线面积 {redline + _REDLINE_OFF_HA:.4f} 公顷，图层 STBHHX 量算 "
             f"{redline:.4f} 公顷，相差 {_REDLINE_OFF_HA:g} 公顷，超过 1 公顷容差。",
             f"The table gives the red-line area as {redline + _REDLINE_OFF_HA:.4f} ha; layer "
             f"STBHHX measures {redline:.4f} ha, {_REDLINE_OFF_HA:g} ha apart (tolerance 1 ha).",
             id_field=COLUMNS["name"], other_layer="STBHHX", field=COLUMNS["planned"],
             value=redline, limit=_r4(redline + _REDLINE_OFF_HA)),
        Item("nonconflict.indicator.map.within_tolerance.1", "within_tolerance",
             INDICATOR_LAYER, ["永久基本农田保护面积"],
             f"指标表永久基本农田保护面积与图层 YJJBNT 相差 {_FARMLAND_OFF_HA:g} 公顷，"
             "在 1 公顷容差内，不是问题。",
             f"The table's permanent-farmland area is {_FARMLAND_OFF_HA:g} ha off layer YJJBNT, "
             "within the 1 ha tolerance: not a finding.",
             id_field=COLUMNS["name"], other_layer="YJJBNT", field=COLUMNS["planned"],
             value=farmland, limit=_r4(farmland + _FARMLAND_OFF_HA)),
        Item("conflict.indicator.allocation.1", "below_allocation", INDICATOR_LAYER,
             ["耕地保有量"],
             f"耕地保有量规划目标值 {crop_plan:.4f} 公顷低于上级下达值 {crop_alloc:.4f} 公顷"
             f"（差 {_CROPLAND_BELOW_HA:g} 公顷）。",
             f"The planned cropland {crop_plan:.4f} ha is {_CROPLAND_BELOW_HA:g} ha below the "
             f"allocation {crop_alloc:.4f} ha.",
             id_field=COLUMNS["name"], field=COLUMNS["planned"], value=crop_plan,
             limit=crop_alloc),
    ]
    return table, items
