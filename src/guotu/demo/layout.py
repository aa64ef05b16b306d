"""The fixed layout of the demo county: outline, towns, zones and linear features.

Everything here is built in a *local* metric frame (x = easting, y = northing, both in metres,
origin at the county's south-west corner) and moved into EPSG:4527 at the very end by adding
:data:`ORIGIN`. Zone geometry is fixed by hand so the planted test sites (:data:`SITES`) sit
at known places against straight zone edges; only the many small things (red-line patches,
farmland blocks, villages) are drawn from the seeded random generator.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import LineString, Polygon, box

__all__ = [
    "COUNTY_CODE",
    "COUNTY_NAME",
    "ORIGIN",
    "SITES",
    "TOWNS",
    "UDB_ZONES",
    "Layout",
    "make_layout",
]

Geoms = npt.NDArray[np.object_]

#: Local (0, 0) in EPSG:4527 (CGCS2000 3° GK zone 39, false easting 39 500 000 m). The county
#: spans 23–49 km east of the central meridian 117°E, around 117.4°E 36.6°N.
ORIGIN = (39_523_000.0, 4_044_000.0)

COUNTY_CODE = "370999"
COUNTY_NAME = "示范县"

#: The county outline (local metres), an irregular simple polygon of about 300 km².
_OUTLINE = [
    (1500, 500),
    (8000, 1200),
    (13000, 0),
    (18500, 1200),
    (23500, 600),
    (25000, 3500),
    (24000, 8000),
    (25000, 11500),
    (21500, 14000),
    (17000, 13500),
    (13000, 15500),
    (8000, 14500),
    (2500, 15500),
    (0, 12500),
    (800, 7500),
    (0, 3500),
]

#: Towns (乡镇): 12-digit code, name and the seed point of their (Voronoi) territory.
TOWNS: tuple[tuple[str, str, tuple[float, float]], ...] = (
    (f"{COUNTY_CODE}100000", "城关镇", (17500, 7000)),
    (f"{COUNTY_CODE}101000", "北岭镇", (10500, 13000)),
    (f"{COUNTY_CODE}102000", "东湖镇", (22000, 12500)),
    (f"{COUNTY_CODE}103000", "南湖镇", (23000, 2500)),
    (f"{COUNTY_CODE}104000", "河口镇", (12000, 2000)),
    (f"{COUNTY_CODE}105000", "平原镇", (6500, 3500)),
    (f"{COUNTY_CODE}106000", "中和镇", (10500, 7500)),
    (f"{COUNTY_CODE}201000", "西山乡", (4500, 12000)),
)

#: The mountain (ecological) region lies north-west of this line (local metres).
_ECO_EDGE = [
    (-100, 8000),
    (4000, 9000),
    (8000, 9200),
    (11000, 10500),
    (13000, 12500),
    (14500, 16500),
]

#: River centre line (local metres) and half width.
_RIVER = [
    (8500, 16500),
    (9500, 12000),
    (11500, 8500),
    (13500, 5500),
    (14500, 4200),
    (16000, 3900),
    (20000, 3800),
    (23000, 2500),
    (27000, 1500),
]
_RIVER_HALF_WIDTH_M = 40.0

#: 城镇开发边界 sub-zones: (GHFQDM, GHFQMC, polygon). Straight, axis-parallel edges.
UDB_ZONES: tuple[tuple[str, str, Polygon], ...] = (
    (
        "01",
        "城镇集中建设区",
        Polygon(
            [
                (15000, 5000),
                (20000, 5000),
                (20000, 8500),
                (19000, 8500),
                (19000, 9500),
                (16000, 9500),
                (16000, 8500),
                (15000, 8500),
            ]
        ),
    ),
    ("02", "城镇弹性发展区", box(20000, 5500, 20800, 8000)),
    ("03", "特别用途区", box(15000, 4600, 20000, 5000)),
)

#: Planted test sites (local metres, boxes as (xmin, ymin, xmax, ymax)). See docs/demo_county.md.
SITES: dict[str, tuple[float, float, float, float]] = {
    # the special red line with straight edges, and the parcels planted against it
    "redline": (3000, 11000, 6000, 13000),
    "redline_inside": (4000, 12000, 4120, 12080),
    "redline_straddle": (2900, 11500, 3050, 11600),
    "redline_touch": (6000, 12000, 6100, 12100),
    "redline_sliver": (5000, 13000 - 2.0**-8, 5128, 13100),
    # a permanent-farmland block forced into the plain, and what is planted on it
    "farm_block": (6000, 3000, 6800, 3600),
    "farm_parcel": (6200, 3200, 6350, 3280),
    "farm_change": (6500, 3400, 6560, 3450),
    # urban use across the straight west edge x = 15000 of the development boundary
    "udb_straddle": (14940, 7000, 15140, 7100),
    # quality problems in GHYD (plain, general farmland)
    "bowtie": (22000, 6000, 22100, 6100),
    "overlap_a": (22300, 6000, 22400, 6080),
    "overlap_b": (22380, 6000, 22480, 6080),
    "gap": (22600, 6000, 22650, 6040),
    # uses the development-boundary sub-zones do not admit
    "special_use": (16000, 4700, 16100, 4780),
    "flexible_zone": (20200, 6000, 20300, 6100),
    # declared exemptions: an allowed limited activity in the red line, a State-Council road
    "redline_exempt": (5000, 12200, 5060, 12250),
    "farm_exempt": (6050, 3100, 6750, 3130),
    # one whole detailed-plan unit under a single residential master-plan parcel (传导)
    "transmission_unit": (17000, 6500, 17500, 7000),
    # an unapproved change patch on ordinary land, and a project outside the county
    "change_plain": (21000, 3500, 21080, 3560),
    # unapproved change patches in the special red line and in the flexible development zone
    "change_redline": (3300, 12500, 3360, 12550),
    "change_udb": (20500, 7400, 20560, 7450),
    "project_outside": (25500, 8000, 25650, 8100),
}

#: The highway runs straight through the special red line along y = 11 800 (x 3000–6000).
_HIGHWAY = [(-1000, 11800), (7000, 11800), (10500, 10200), (21000, 10200), (27000, 13000)]
HIGHWAY_WIDTH_M = 60.0
_PIPELINE = [(-500, 6000), (8000, 6000), (15500, 6500)]
PIPELINE_WIDTH_M = 10.0

#: Farmland blocks: a grid aligned on the planted farmland block.
_BLOCK_W, _BLOCK_H = 800.0, 600.0


@dataclass(frozen=True)
class Layout:
    """The zones of the county, in local metres.

    Attributes
    ----------
    county
        Outline.
    towns
        One polygon per entry of :data:`TOWNS`, tiling ``county``.
    eco, plain
        The mountain region and the rest; they tile ``county``.
    river
        River polygon (inside the county).
    redlines
        生态保护红线 patches, non-overlapping, inside ``eco`` and each inside one town;
        index 0 is the special one.
    redline_has_hole
        Whether each red line has a hole.
    farmland
        永久基本农田 blocks (rectangles) in ``plain``, each inside one town; index 0 is the
        planted block.
    villages
        Village footprints (rectangles) in ``plain``.
    consolidation
        Land-consolidation project areas (general farmland blocks).
    highway, pipeline
        Special-plan lines (clipped to the county).
    """

    county: Polygon
    towns: Geoms
    eco: Polygon
    plain: Polygon
    river: Polygon
    redlines: Geoms
    redline_has_hole: npt.NDArray[np.bool_]
    farmland: Geoms
    villages: Geoms
    consolidation: Geoms
    highway: LineString
    pipeline: LineString


def _site(name: str) -> Polygon:
    return box(*SITES[name])


def _town_polygons(county: Polygon) -> Geoms:
    """Voronoi territories of the town seeds, clipped to the county, in :data:`TOWNS` order."""
    seeds = shapely.points([t[2] for t in TOWNS])
    cells = shapely.get_parts(
        shapely.voronoi_polygons(
            shapely.multipoints(seeds), extend_to=county.buffer(5000), ordered=True
        )
    )
    return np.asarray(shapely.intersection(cells, county), dtype=object)


def _star_polygons(
    centres: npt.NDArray[np.float64],
    radius: npt.NDArray[np.float64],
    rng: np.random.Generator,
    vertices: int,
) -> npt.NDArray[np.float64]:
    """Ring coordinates (m, vertices + 1, 2) of star-shaped polygons around ``centres``."""
    m = len(centres)
    step = 2 * np.pi / vertices
    angle = np.arange(vertices) * step + rng.uniform(-0.3, 0.3, (m, vertices)) * step
    r = radius[:, None] * rng.uniform(0.6, 1.0, (m, vertices))
    xy = np.stack(
        [centres[:, 0:1] + r * np.cos(angle), centres[:, 1:2] + r * np.sin(angle)], axis=-1
    )
    return np.concatenate([xy, xy[:, :1]], axis=1)


def _redlines(
    eco: Polygon, keep_out: Polygon, n: int, rng: np.random.Generator
) -> tuple[Geoms, npt.NDArray[np.bool_]]:
    """``n`` red lines: the special rectangle plus ``n - 1`` star patches on a grid of cells.

    Cells are shrunk until enough of them lie fully inside ``eco`` minus ``keep_out``; each
    chosen cell holds one star polygon smaller than the cell, so no two patches overlap.
    One patch in five has a hole.
    """
    room = shapely.difference(eco.buffer(-50), keep_out)
    shapely.prepare(room)
    xmin, ymin, xmax, ymax = room.bounds
    size = float(np.sqrt(room.area / max(1, n - 1)))
    while True:
        xs = np.arange(xmin, xmax - size, size)
        ys = np.arange(ymin, ymax - size, size)
        gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
        cells = shapely.box(gx, gy, gx + size, gy + size)
        ok = np.flatnonzero(shapely.contains(room, cells))
        if len(ok) >= n - 1:
            break
        size *= 0.9
    chosen = np.sort(rng.choice(ok, size=n - 1, replace=False))
    centres = np.column_stack([gx[chosen], gy[chosen]]) + size / 2
    centres += rng.uniform(-0.05, 0.05, centres.shape) * size
    shells = _star_polygons(centres, np.full(n - 1, 0.42 * size), rng, 12)
    holes = _star_polygons(centres, np.full(n - 1, 0.12 * size), rng, 8)
    has_hole = (np.arange(n - 1) % 5) == 2
    stars = np.empty(n - 1, dtype=object)
    stars[~has_hole] = shapely.polygons(shells[~has_hole])
    stars[has_hole] = shapely.polygons(shells[has_hole], holes=holes[has_hole][:, None])
    special = np.array([_site("redline")], dtype=object)
    return np.concatenate([special, stars]), np.concatenate([[False], has_hole])


def _blocks(
    plain: Polygon, keep_out: Polygon, rng: np.random.Generator
) -> tuple[Geoms, Geoms, Geoms]:
    """Farmland blocks (permanent farmland), village footprints and consolidation areas.

    A grid of 800 m × 600 m blocks aligned on the planted farmland block covers the plain;
    blocks fully inside the plain and clear of ``keep_out`` become permanent farmland (62 %),
    hold a village (12 %) or stay general farmland. The planted block is always farmland.
    """
    x0, y0 = SITES["farm_block"][:2]
    xmin, ymin, xmax, ymax = plain.bounds
    xs = x0 + _BLOCK_W * np.arange(
        np.floor((xmin - x0) / _BLOCK_W), np.ceil((xmax - x0) / _BLOCK_W)
    )
    ys = y0 + _BLOCK_H * np.arange(
        np.floor((ymin - y0) / _BLOCK_H), np.ceil((ymax - y0) / _BLOCK_H)
    )
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    blocks = shapely.box(gx, gy, gx + _BLOCK_W, gy + _BLOCK_H)
    inner = plain.buffer(-30)
    shapely.prepare(inner)
    shapely.prepare(keep_out)
    usable = shapely.contains(inner, blocks) & ~shapely.intersects(keep_out, blocks)
    is_planted = (gx == x0) & (gy == y0)
    kind = rng.choice(3, size=len(blocks), p=[0.62, 0.12, 0.26])  # farmland, village, general
    farm = (usable & (kind == 0)) | is_planted
    village = usable & (kind == 1) & ~is_planted
    general = np.flatnonzero(usable & (kind == 2) & ~is_planted)
    order = np.concatenate([np.flatnonzero(is_planted), np.flatnonzero(farm & ~is_planted)])
    # Villages: a rectangle of 45–75 % of the block's sides, placed at random inside it.
    vi = np.flatnonzero(village)
    w = _BLOCK_W * rng.uniform(0.45, 0.75, len(vi))
    h = _BLOCK_H * rng.uniform(0.45, 0.75, len(vi))
    vx = gx[vi] + 40 + rng.uniform(0, 1, len(vi)) * (_BLOCK_W - 80 - w)
    vy = gy[vi] + 40 + rng.uniform(0, 1, len(vi)) * (_BLOCK_H - 80 - h)
    villages = shapely.box(np.round(vx), np.round(vy), np.round(vx + w), np.round(vy + h))
    n_cons = max(4, len(general) // 25)
    cons = np.sort(rng.choice(general, size=min(n_cons, len(general)), replace=False))
    return blocks[order], villages, blocks[cons]


def make_layout(n_redlines: int, rng: np.random.Generator) -> Layout:
    """Build the county's zones.

    Parameters
    ----------
    n_redlines
        Number of 生态保护红线 patches (at least 2).
    rng
        The seeded generator (used for red-line patches and farmland blocks only).

    Returns
    -------
    Layout
        The zones in local metres.

    Examples
    --------
    >>> lay = make_layout(20, np.random.default_rng(1))
    >>> len(lay.redlines), lay.county.is_valid
    (20, True)
    """
    county = Polygon(_OUTLINE)
    towns = _town_polygons(county)
    eco_cut = Polygon([*_ECO_EDGE, (-100, 20000)])
    eco = shapely.intersection(county, eco_cut)
    plain = shapely.difference(county, eco_cut)
    river = shapely.intersection(
        LineString(_RIVER).buffer(_RIVER_HALF_WIDTH_M, cap_style="flat"), county
    )
    highway = shapely.intersection(LineString(_HIGHWAY), county)
    pipeline = shapely.intersection(LineString(_PIPELINE), county)
    sites = shapely.union_all([_site(k) for k in SITES if k != "project_outside"])
    # Zones never cross a town boundary, so no zone leaves a tiny fragment in a town.
    town_edges = shapely.union_all(shapely.boundary(towns))
    redline_keep_out = shapely.union_all(
        [
            town_edges.buffer(30),
            river.buffer(100),
            highway.buffer(HIGHWAY_WIDTH_M / 2 + 150),
            _site("redline").buffer(400),
            sites.buffer(300),
        ]
    )
    redlines, has_hole = _redlines(eco, redline_keep_out, n_redlines, rng)
    udb = shapely.union_all([z[2] for z in UDB_ZONES])
    block_keep_out = shapely.union_all(
        [
            town_edges.buffer(10),
            udb.buffer(100),
            river.buffer(60),
            highway.buffer(HIGHWAY_WIDTH_M / 2 + 50),
            pipeline.buffer(PIPELINE_WIDTH_M / 2 + 30),
            sites.buffer(200),
        ]
    )
    farmland, villages, consolidation = _blocks(plain, block_keep_out, rng)
    return Layout(
        county,
        towns,
        eco,
        plain,
        river,
        redlines,
        has_hole,
        farmland,
        villages,
        consolidation,
        highway,
        pipeline,
    )
