"""Planted problems and conflicts in the land layers (GHYD, DLTB) and the special plan.

The planted parcels are axis-parallel rectangles (and one bow-tie) placed against the
straight edges of the special red line, a permanent-farmland block and the development
boundary (:data:`guotu.demo.layout.SITES`), so every conflict area is a product of two
integers. The background tessellation is cut along each planted footprint, so the layer
still tiles the county except where a gap or an overlap is planted on purpose.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, Polygon, box

from guotu.demo.classes import ZoneClass, sandiao_name
from guotu.demo.layout import HIGHWAY_WIDTH_M, SITES, TOWNS, Layout
from guotu.demo.manifest import Item
from guotu.demo.tessellate import Pieces, difference_all, finish_pieces, polygon_parts

__all__ = ["DECLARATION_FIELDS", "GhydPlanting", "highway_item", "plant_dltb", "plant_ghyd"]

Geoms = npt.NDArray[np.object_]

#: ID values of the zone features the planted conflicts hit (fixed by construction).
REDLINE_BSM = "HX00001"
FARM_BSM = "NT00001"
UDB01_BSM = "KF001"
UDB02_BSM = "KF002"
UDB03_BSM = "KF003"
HIGHWAY_BSM = "ZX001"

#: Planted GHYD parcels: (site, 用地用海 code). Construction codes against the zones are rural
#: (0703, 06xx) so each one triggers exactly the rule it is planted for.
_GHYD_PARCELS: tuple[tuple[str, str], ...] = (
    ("redline_inside", "0703"),
    ("redline_straddle", "060202"),
    ("redline_touch", "0703"),
    ("redline_sliver", "060101"),
    ("farm_parcel", "0703"),
    ("udb_straddle", "090101"),
    ("bowtie", "0102"),
    ("bowtie_left", "0102"),
    ("bowtie_right", "0102"),
    ("overlap_a", "0103"),
    ("overlap_b", "0103"),
    ("special_use", "090101"),
    ("flexible_zone", "0701"),
    ("redline_exempt", "0703"),
    ("farm_exempt", "1202"),
    ("transmission_unit", "070102"),
)
#: Declared exemptions of planted GHYD parcels: site → (HDLX, ZDXMLX, PZJG).
_DECLARED: dict[str, tuple[str | None, str | None, str | None]] = {
    "redline_exempt": ("原住居民生产生活设施", None, None),
    "farm_exempt": (None, "交通类", "国务院"),
}
#: GHYD columns a declared exemption fills (mostly empty).
DECLARATION_FIELDS = ("HDLX", "ZDXMLX", "PZJG")


def _site(name: str) -> Polygon:
    return box(*SITES[name])


def _bowtie() -> Polygon:
    """A self-intersecting ring over the ``bowtie`` square: its two diagonals cross.

    It covers the square's bottom and top triangles; the left and right triangles are two
    valid parcels (:func:`_bowtie_sides`), so the layer still tiles once the bow-tie is
    repaired.
    """
    x0, y0, x1, y1 = SITES["bowtie"]
    return Polygon([(x0, y0), (x1, y0), (x0, y1), (x1, y1)])


def _bowtie_sides() -> dict[str, Polygon]:
    """The left and right triangles of the bow-tie square."""
    x0, y0, x1, y1 = SITES["bowtie"]
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    return {
        "bowtie_left": Polygon([(x0, y0), (cx, cy), (x0, y1)]),
        "bowtie_right": Polygon([(x1, y0), (x1, y1), (cx, cy)]),
    }


def _planted_geometry(site: str) -> Polygon:
    if site == "bowtie":
        return _bowtie()
    sides = _bowtie_sides()
    return sides[site] if site in sides else _site(site)


def _footprints() -> Geoms:
    """Areas the background gives up to the planted parcels and the planted gap."""
    names = [s for s, _ in _GHYD_PARCELS if not s.startswith(("overlap", "bowtie_"))] + ["gap"]
    overlap = shapely.union(_site("overlap_a"), _site("overlap_b"))
    return np.array([*(_site(n) for n in names), overlap], dtype=object)


def _town_code_at(lay: Layout, geom: Polygon) -> str:
    within = np.flatnonzero(shapely.contains(lay.towns, shapely.point_on_surface(geom)))
    return TOWNS[int(within[0])][0]


@dataclass
class GhydPlanting:
    """What :func:`plant_ghyd` cut out, applied to the attributed layer by :meth:`apply`."""

    town_codes: list[str]

    def apply(
        self,
        geoms: Geoms,
        cols: dict[str, Any],
        cls: npt.NDArray[np.str_],
        rng: np.random.Generator,
    ) -> tuple[Geoms, dict[str, Any], list[Item]]:
        """Recode two background parcels and append the planted parcels.

        Returns the geometries, the columns (with ``name`` overrides, ``None`` = name of the
        code) and the manifest items of GHYD.
        """
        n = len(geoms)
        codes = np.asarray(cols["code"], dtype=object).copy()
        names: list[str | None] = [None] * n
        bsm = list(cols["BSM"])
        # An unknown code and a retired 2020 code, on commercial parcels in the town centre.
        pool = np.flatnonzero(
            (cls == ZoneClass.UDB01) & np.char.startswith(codes.astype(str), "09")
        )
        unknown, retired = (int(i) for i in rng.choice(pool, size=2, replace=False))
        codes[unknown], names[unknown] = "0999", "其他用地"
        codes[retired], names[retired] = "090301", "娱乐用地"
        items = [
            Item(
                "qc.unknown_code.1",
                "unknown_code",
                "GHYD",
                [bsm[unknown]],
                "用地用海代码 0999 不在《国土空间调查、规划、用途管制用地用海分类指南》代码表中。",
                "YDYHFLDM 0999 is not a code of the 2023 land-use classification.",
                field="YDYHFLDM",
                value="0999",
                geometry=geoms[unknown],
            ),
            Item(
                "qc.retired_code.1",
                "retired_code",
                "GHYD",
                [bsm[retired]],
                "用地用海代码 090301（2020 试行版“娱乐用地”）在 2023 版中已并入 0903。",
                "YDYHFLDM 090301 is a 2020 trial code, merged into 0903 in the 2023 version.",
                field="YDYHFLDM",
                value="090301",
                geometry=geoms[retired],
            ),
        ]
        planted = [_planted_geometry(s) for s, _ in _GHYD_PARCELS]
        new_bsm = [f"GH{n + i + 1:08d}" for i in range(len(planted))]
        out_cols = {
            "BSM": bsm + new_bsm,
            "XZQDM": np.concatenate(
                [np.asarray(cols["XZQDM"], dtype=object), np.array(self.town_codes, dtype=object)]
            ),
            "code": np.concatenate([codes, np.array([c for _, c in _GHYD_PARCELS], object)]),
            "name": names + [None] * len(planted),
        }
        for k, name in enumerate(DECLARATION_FIELDS):
            out_cols[name] = np.array(
                [None] * n + [_DECLARED.get(s, (None,) * 3)[k] for s, _ in _GHYD_PARCELS],
                dtype=object,
            )
        by_site = dict(zip((s for s, _ in _GHYD_PARCELS), new_bsm, strict=True))
        items += _ghyd_items(by_site)
        return np.concatenate([geoms, np.array(planted, dtype=object)]), out_cols, items


def plant_ghyd(
    pieces: Pieces, lay: Layout, min_area_m2: float, grid_m: float, dust_m2: float
) -> tuple[Pieces, GhydPlanting]:
    """Cut the planted footprints out of the background pieces.

    Parameters
    ----------
    pieces
        The background tessellation.
    lay
        The layout (for the town of each planted parcel).
    min_area_m2
        Sliver threshold: pieces the cuts leave below it join a neighbour.
    grid_m, dust_m2
        Precision grid the cut pieces are snapped to (as the background is), and the area
        below which a leftover is dropped as numerical dust.

    Returns
    -------
    tuple
        The cut pieces and the :class:`GhydPlanting` that adds the planted parcels.
    """
    feet = _footprints()
    a, b = shapely.STRtree(feet).query(pieces.geoms, predicate="intersects")
    cut = difference_all(pieces.geoms, feet, a, b)
    parts, owner = polygon_parts(cut, np.arange(len(cut)))
    cut_pieces = Pieces(parts, pieces.base[owner], pieces.zone[owner])
    touched = np.zeros(len(pieces), dtype=bool)
    touched[a] = True
    frozen = ~touched[owner]
    # Untouched pieces may absorb slivers but are never slivers themselves.
    cut_pieces = finish_pieces(cut_pieces, min_area_m2, grid_m, dust_m2, frozen=frozen)
    towns = [_town_code_at(lay, _planted_geometry(s).envelope) for s, _ in _GHYD_PARCELS]
    return cut_pieces, GhydPlanting(towns)


def _ghyd_items(bsm: dict[str, str]) -> list[Item]:
    """Manifest items of the planted GHYD parcels."""
    rl = _site("redline")
    a, b = _site("overlap_a"), _site("overlap_b")
    udb_x = 15000.0
    sx0, sy0, _, sy1 = SITES["udb_straddle"]
    return [
        Item(
            "qc.self_intersection.1",
            "self_intersection",
            "GHYD",
            [bsm["bowtie"]],
            "规划用地图斑边界自相交（“8”字形），两条对角线在 100 m × 100 m 正方形中心交叉；"
            "修复后为上下两个三角形，共 5000 m²（左右两个三角形是另外两个有效图斑）。",
            "A bow-tie GHYD parcel: its ring crosses itself at the centre of a 100 m × 100 m "
            "square; repaired it is the bottom and top triangles, 5000 m² in all (the left "
            "and right triangles are two other, valid parcels).",
            geometry=_bowtie(),
            area_geometry=shapely.make_valid(_bowtie()),
            planar_area_m2=5000.0,
        ),
        Item(
            "qc.overlap.1",
            "overlap",
            "GHYD",
            [bsm["overlap_a"], bsm["overlap_b"]],
            "两个规划用地图斑重叠 20 m × 80 m = 1600 m²。",
            "Two GHYD parcels overlap by 20 m × 80 m = 1600 m².",
            geometry=shapely.intersection(a, b),
            planar_area_m2=1600.0,
        ),
        Item(
            "qc.gap.1",
            "gap",
            "GHYD",
            [],
            "规划用地图层在 50 m × 40 m = 2000 m² 的矩形内无图斑（缝隙）。",
            "GHYD leaves a 50 m × 40 m = 2000 m² rectangle uncovered (gap).",
            geometry=_site("gap"),
            planar_area_m2=2000.0,
        ),
        Item(
            "conflict.redline.inside.1",
            "redline_conflict",
            "GHYD",
            [bsm["redline_inside"]],
            "农村宅基地（0703）地块 120 m × 80 m 完全位于生态保护红线内，冲突面积 9600 m²。",
            "A rural homestead parcel (0703), 120 m × 80 m, lies wholly inside an ecological "
            "red line: 9600 m² in conflict.",
            other_layer="STBHHX",
            other_features=[REDLINE_BSM],
            geometry=_site("redline_inside"),
            planar_area_m2=9600.0,
        ),
        Item(
            "conflict.redline.straddle.1",
            "redline_conflict",
            "GHYD",
            [bsm["redline_straddle"]],
            "畜禽养殖设施建设用地（060202）地块 150 m × 100 m 跨越红线西边界 x = 3000，"
            "红线内 50 m × 100 m = 5000 m²。",
            "A livestock facility parcel (060202), 150 m × 100 m, crosses the red line's west "
            "edge: 50 m × 100 m = 5000 m² inside.",
            other_layer="STBHHX",
            other_features=[REDLINE_BSM],
            geometry=shapely.intersection(_site("redline_straddle"), rl),
            planar_area_m2=5000.0,
        ),
        Item(
            "nonconflict.redline.touch.1",
            "touches_only",
            "GHYD",
            [bsm["redline_touch"]],
            "农村宅基地地块与生态保护红线仅边界相接（共边 100 m），不是冲突，冲突面积 0。",
            "A rural homestead parcel only touches the red line along a 100 m edge: not a "
            "conflict, area 0.",
            other_layer="STBHHX",
            other_features=[REDLINE_BSM],
            geometry=shapely.intersection(_site("redline_touch"), rl),
            planar_area_m2=0.0,
        ),
        Item(
            "conflict.redline.sliver.1",
            "below_tolerance",
            "GHYD",
            [bsm["redline_sliver"]],
            "村道用地地块压入红线 1/256 m × 128 m = 0.5 m²，小于 1 m² 容差，应视为拓扑误差。",
            "A village-road parcel overlaps the red line by 1/256 m × 128 m = 0.5 m², below "
            "a 1 m² tolerance: a digitising error, not a conflict.",
            other_layer="STBHHX",
            other_features=[REDLINE_BSM],
            geometry=shapely.intersection(_site("redline_sliver"), rl),
            planar_area_m2=0.5,
        ),
        Item(
            "conflict.farmland.1",
            "farmland_conflict",
            "GHYD",
            [bsm["farm_parcel"]],
            "农村宅基地地块 150 m × 80 m 完全占用永久基本农田，冲突面积 12000 m²。",
            "A rural homestead parcel, 150 m × 80 m, lies wholly on permanent farmland: "
            "12000 m² in conflict.",
            other_layer="YJJBNT",
            other_features=[FARM_BSM],
            geometry=_site("farm_parcel"),
            planar_area_m2=12000.0,
        ),
        Item(
            "conflict.udb.outside.1",
            "outside_urban_boundary",
            "GHYD",
            [bsm["udb_straddle"]],
            "零售商业用地（090101）地块 200 m × 100 m 越出城镇开发边界西边界 x = 15000，"
            "边界外 60 m × 100 m = 6000 m²。",
            "A retail parcel (090101), 200 m × 100 m, crosses the development boundary's "
            "west edge: 60 m × 100 m = 6000 m² outside it.",
            other_layer="CZKFBJ",
            other_features=[UDB01_BSM],
            geometry=box(sx0, sy0, udb_x, sy1),
            planar_area_m2=6000.0,
        ),
        Item(
            "conflict.udb.special_use.1",
            "disallowed_use_in_zone",
            "GHYD",
            [bsm["special_use"]],
            "零售商业用地（090101）地块 100 m × 80 m 位于城镇开发边界特别用途区内，"
            "该分区只允许交通、市政、绿地游憩用地，冲突面积 8000 m²。",
            "A retail parcel (090101), 100 m × 80 m, lies in the special-use zone of the "
            "development boundary, which admits only transport, utilities and green space: "
            "8000 m² in conflict.",
            other_layer="CZKFBJ",
            other_features=[UDB03_BSM],
            geometry=_site("special_use"),
            planar_area_m2=8000.0,
        ),
        Item(
            "conflict.udb.flexible.1",
            "urban_use_in_flexible_zone",
            "GHYD",
            [bsm["flexible_zone"]],
            "城镇住宅用地（0701）地块 100 m × 100 m 位于城镇弹性发展区内（规划期内不安排"
            "城镇建设用地），10000 m²。",
            "An urban housing parcel (0701), 100 m × 100 m, lies in the flexible development "
            "zone, which holds no urban construction in the plan period: 10000 m².",
            other_layer="CZKFBJ",
            other_features=[UDB02_BSM],
            geometry=_site("flexible_zone"),
            planar_area_m2=10000.0,
        ),
        Item(
            "compliant.redline.exempt.1",
            "declared_allowed_activity",
            "GHYD",
            [bsm["redline_exempt"]],
            "农村宅基地（0703）地块 60 m × 50 m = 3000 m² 位于生态保护红线内，但人为活动类型"
            "(HDLX) 注明“原住居民生产生活设施”，属允许的有限人为活动（仅作提示）。",
            "A rural homestead parcel (0703), 60 m × 50 m = 3000 m², lies inside the red line "
            "but declares HDLX 原住居民生产生活设施, an allowed limited activity (information "
            "only).",
            other_layer="STBHHX",
            other_features=[REDLINE_BSM],
            field="HDLX",
            value="原住居民生产生活设施",
            geometry=_site("redline_exempt"),
            planar_area_m2=3000.0,
        ),
        Item(
            "compliant.farmland.exempt.1",
            "declared_major_project",
            "GHYD",
            [bsm["farm_exempt"]],
            "公路用地（1202）地块 700 m × 30 m = 21000 m² 占用永久基本农田，但重大项目类型"
            "(ZDXMLX) 为“交通类”、批准机关 (PZJG) 为“国务院”，属依法批准的重大项目（仅作提示）。",
            "A highway parcel (1202), 700 m × 30 m = 21000 m², lies on permanent farmland but "
            "is a major transport project (ZDXMLX 交通类) approved by the State Council (PZJG "
            "国务院): information only.",
            other_layer="YJJBNT",
            other_features=[FARM_BSM],
            field="ZDXMLX",
            value="交通类",
            geometry=_site("farm_exempt"),
            planar_area_m2=21000.0,
        ),
    ]


def highway_item() -> Item:
    """The planned highway crossing the special red line along y = 11 800."""
    x0, _, x1, _ = SITES["redline"]
    y = 11800.0
    half = HIGHWAY_WIDTH_M / 2
    inside = box(x0, y - half, x1, y + half)
    length = float(x1 - x0)
    return Item(
        "conflict.highway.redline.1",
        "linear_redline_conflict",
        "ZXGH",
        [HIGHWAY_BSM],
        f"规划高速公路（宽 {HIGHWAY_WIDTH_M:g} m）穿越生态保护红线 {length:g} m，"
        f"按宽度缓冲后占用红线 {length:g} m × {HIGHWAY_WIDTH_M:g} m = "
        f"{length * HIGHWAY_WIDTH_M:g} m²。",
        f"The planned highway (KD {HIGHWAY_WIDTH_M:g} m) runs {length:g} m inside an "
        f"ecological red line; buffered by its width it takes {length:g} m × "
        f"{HIGHWAY_WIDTH_M:g} m = {length * HIGHWAY_WIDTH_M:g} m².",
        other_layer="STBHHX",
        other_features=[REDLINE_BSM],
        geometry=inside,
        planar_area_m2=length * HIGHWAY_WIDTH_M,
        length_m=length,
    )


def highway_inside_line() -> LineString:
    """The part of the highway centre line inside the special red line."""
    x0, _, x1, _ = SITES["redline"]
    return LineString([(x0, 11800.0), (x1, 11800.0)])


def plant_dltb(
    geoms: Geoms, cols: dict[str, Any], cls: npt.NDArray[np.str_], rng: np.random.Generator
) -> tuple[Geoms, dict[str, Any], list[Item]]:
    """A code/name mismatch and a duplicated feature in the current survey.

    Returns the geometries (with the duplicate appended), the columns (every column of the
    duplicate copied, plus ``name``) and the items.
    """
    codes = np.asarray(cols["code"], dtype=object).copy()
    names = [sandiao_name(c) for c in codes]
    bsm = list(cols["BSM"])
    farm = np.flatnonzero(cls == ZoneClass.FARM)
    plain = np.flatnonzero((cls == ZoneClass.PLAIN) & (codes == "0103"))
    mismatch = int(rng.choice(farm))
    dup = int(rng.choice(plain))
    codes[mismatch], names[mismatch] = "0101", "旱地"
    items = [
        Item(
            "qc.code_name_mismatch.1",
            "code_name_mismatch",
            "DLTB",
            [bsm[mismatch]],
            "地类编码 0101（水田）与地类名称“旱地”（0103）不一致。",
            "DLBM 0101 (paddy field) does not match DLMC 旱地 (the name of 0103).",
            field="DLMC",
            value="旱地",
            geometry=geoms[mismatch],
        ),
        Item(
            "qc.duplicate.1",
            "duplicate",
            "DLTB",
            [bsm[dup]],
            "同一地类图斑（几何与全部属性相同，含标识码）重复出现两次（重叠检查也会报出）。",
            "The same DLTB feature (identical geometry and attributes, BSM included) appears "
            "twice (an overlap check reports it too).",
            geometry=geoms[dup],
        ),
    ]
    cols = {**cols, "code": codes, "name": np.array(names, dtype=object)}
    out = {
        key: np.append(np.asarray(val, dtype=object), np.asarray(val, dtype=object)[dup])
        for key, val in cols.items()
    }
    return np.append(geoms, geoms[dup : dup + 1]), out, items
