"""Generate the demo county: every layer with attributes, plus the manifest items.

:func:`generate_county` is deterministic for a given ``(parcels, seed)``: the same numbers
give the same geometry, attributes and manifest, byte for byte. All layers come out in
EPSG:4527 with the standard field names of :mod:`guotu.domain.core.roles`; :mod:`guotu.demo.files`
turns them into the files a bureau hands over.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from guotu.demo.classes import DLTB_CODES, GHYD_CODES, ZoneClass, draw_codes, ydyh_name
from guotu.demo.detailed import DetailedPlan, make_detailed_plan
from guotu.demo.history import HISTORY_YEARS, History, plan_history, statistics_rows
from guotu.demo.indicator_table import COLUMNS, SHEET, indicator_table
from guotu.demo.layout import (
    COUNTY_CODE,
    COUNTY_NAME,
    HIGHWAY_WIDTH_M,
    PIPELINE_WIDTH_M,
    TOWNS,
    UDB_ZONES,
    Layout,
    make_layout,
)
from guotu.demo.manifest import (
    CRS_EPSG,
    ID_FIELDS,
    Item,
    survey_area_m2,
    to_workspace,
    workspace_frame,
)
from guotu.demo.plans import PLANS
from guotu.demo.planted import DECLARATION_FIELDS, highway_item, plant_dltb, plant_ghyd
from guotu.demo.targets import CountyMeasure, plan_targets
from guotu.demo.tessellate import Pieces, cut_by_zones, finish_pieces, jittered_voronoi
from guotu.demo.transmission import MasterPlan
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.errors import ConfigError
from guotu.services.monitoring_inputs import load_catalogue

__all__ = ["INDICATOR_FILE", "MIN_PARCELS", "County", "generate_county"]

Geoms = npt.NDArray[np.object_]

#: The handover file of the indicator table.
INDICATOR_FILE = "规划指标表.xlsx"
#: Smallest ``parcels`` the layout supports (zones need a few cells each).
MIN_PARCELS = 1000
#: Pieces smaller than this share of the mean parcel are merged into a neighbour.
_SLIVER_SHARE = 0.05
#: Pieces below this area are numerical dust from the overlay and are dropped.
_DUST_M2 = 1e-6
#: Parcel vertices are snapped to this binary grid (about 1 µm) in the local frame, so that
#: adding the integer :data:`~guotu.demo.layout.ORIGIN` is exact and no near-touching ring
#: turns invalid.
GRID_M = 2.0**-20


@dataclass
class County:
    """The generated county.

    Attributes
    ----------
    seed, parcels
        The inputs.
    layers
        Workspace layer name → GeoDataFrame in EPSG:4527 with standard field names.
    items
        Manifest items (known answers), in a stable order.
    planar_area_m2, area_m2
        Planar and ellipsoidal area of the county outline.
    indicators
        Rows of the indicator table (规划指标表), keyed as
        :data:`guotu.demo.indicator_table.COLUMNS`.
    timings_s
        Seconds spent per generation step.
    history
        The planted five-year history (:mod:`guotu.demo.history`).
    """

    seed: int
    parcels: int
    layers: dict[str, gpd.GeoDataFrame]
    items: list[Item]
    planar_area_m2: float
    area_m2: float
    indicators: list[dict[str, Any]] = field(default_factory=list)
    timings_s: dict[str, float] = field(default_factory=dict)
    history: History | None = None

    def manifest(self) -> dict[str, Any]:
        """The manifest as a JSON-ready dict."""
        return {
            "seed": self.seed,
            "parcels": self.parcels,
            "crs": CRS_EPSG,
            "county": {
                "XZQDM": COUNTY_CODE,
                "XZQMC": COUNTY_NAME,
                "planar_area_m2": round(self.planar_area_m2, 6),
                "area_m2": round(self.area_m2, 6),
            },
            "layers": {name: len(frame) for name, frame in self.layers.items()},
            "id_fields": {name: ID_FIELDS[name] for name in self.layers},
            "plans": [p.to_dict() for p in PLANS],
            "indicator_table": {
                "file": INDICATOR_FILE,
                "sheet": SHEET,
                "columns": COLUMNS,
                "rows": self.indicators,
            },
            "items": [item.to_dict() for item in self.items],
            "history": None if self.history is None else self.history.manifest(),
        }


def _seed_count(parcels: int, n_redlines: int) -> int:
    """Voronoi seeds so that about ``parcels`` pieces remain after the zone cuts.

    The cuts add pieces in proportion to zone-boundary length over cell size, i.e. about
    ``c·√seeds``; ``c`` grows with the number of red-line patches (fitted on this layout).
    """
    c = float(np.interp(np.log10(n_redlines), [np.log10(20), 2.3, 3.3], [38.0, 45.0, 69.0]))
    root = (-c + np.sqrt(c * c + 4 * parcels)) / 2
    return max(200, int(root * root))


def _bases(lay: Layout) -> tuple[Geoms, npt.NDArray[np.intp], npt.NDArray[np.bool_]]:
    """Base regions (town × mountain/plain) with their town index and mountain flag."""
    geoms, town, eco = [], [], []
    for i, t in enumerate(lay.towns):
        for is_eco, region in ((True, lay.eco), (False, lay.plain)):
            part = shapely.intersection(t, region)
            if shapely.area(part) > 0:
                geoms.append(part)
                town.append(i)
                eco.append(is_eco)
    return np.array(geoms, dtype=object), np.array(town), np.array(eco)


def _zones(lay: Layout) -> tuple[Geoms, npt.NDArray[np.str_], npt.NDArray[np.intp]]:
    """Non-overlapping zones, their class and their index within their own layer."""
    udb = np.array([z[2] for z in UDB_ZONES], dtype=object)
    parts = [
        (lay.redlines, ZoneClass.RED),
        (np.array([lay.river], dtype=object), ZoneClass.RIVER),
        (udb[:1], ZoneClass.UDB01),
        (udb[1:2], ZoneClass.UDB02),
        (udb[2:], ZoneClass.UDB03),
        (lay.farmland, ZoneClass.FARM),
        (lay.villages, ZoneClass.VILLAGE),
    ]
    geoms = np.concatenate([p for p, _ in parts])
    cls = np.concatenate([np.full(len(p), c, dtype=object) for p, c in parts]).astype(str)
    ref = np.concatenate([np.arange(len(p)) for p, _ in parts])
    return geoms, cls, ref


def _piece_class(
    pieces: Pieces, zone_class: npt.NDArray[np.str_], base_eco: npt.NDArray[np.bool_]
) -> npt.NDArray[np.str_]:
    background = np.where(base_eco[pieces.base], ZoneClass.ECO, ZoneClass.PLAIN)
    return np.where(pieces.zone >= 0, zone_class[np.maximum(pieces.zone, 0)], background)


def _block_codes(
    pieces: Pieces,
    cls: npt.NDArray[np.str_],
    zone_ref: npt.NDArray[np.intp],
    farm_codes: npt.NDArray[np.str_],
) -> npt.NDArray[np.str_]:
    """The code of the farmland block each piece lies in ('' outside farmland)."""
    is_farm = cls == ZoneClass.FARM
    block = np.where(is_farm, zone_ref[np.maximum(pieces.zone, 0)], 0)
    return np.where(is_farm, farm_codes[block], "")


def _codes_by_class(
    cls: npt.NDArray[np.str_],
    tables: dict[str, tuple[tuple[str, float], ...]],
    farm_codes: npt.NDArray[np.str_],
    rng: np.random.Generator,
) -> npt.NDArray[np.object_]:
    """A code for every piece: drawn from its class table, or its farmland block's code."""
    out = np.empty(len(cls), dtype=object)
    for name in sorted(tables):
        sel = np.flatnonzero(cls == name)
        out[sel] = draw_codes(tables[name], len(sel), rng)
    farm = np.flatnonzero(cls == ZoneClass.FARM)
    out[farm] = farm_codes[farm]
    return out


def _zone_layers(
    lay: Layout, rng: np.random.Generator, farm_dlbm: npt.NDArray[np.str_]
) -> dict[str, gpd.GeoDataFrame]:
    """XZQ, STBHHX, YJJBNT, CZKFBJ and ZXGH."""
    town_codes = np.array([t[0] for t in TOWNS])
    county_geom = np.array([lay.county], dtype=object)
    xzq_geoms = np.concatenate([county_geom, lay.towns])
    xzq = workspace_frame(
        xzq_geoms,
        {
            "XZQDM": [COUNTY_CODE, *town_codes],
            "XZQMC": [COUNTY_NAME, *(t[1] for t in TOWNS)],
            "JB": ["县级"] + ["乡级"] * len(TOWNS),
            "MJ": survey_area_m2(xzq_geoms),
        },
    )
    n_red = len(lay.redlines)
    lhlx = np.array(["水源涵养", "生物多样性维护", "水土保持"])[rng.choice(3, size=n_red)]
    stbhhx = workspace_frame(
        lay.redlines,
        {
            "BSM": [f"HX{i + 1:05d}" for i in range(n_red)],
            "XZQDM": COUNTY_CODE,
            "LHLX": lhlx,
            "MJ": survey_area_m2(lay.redlines),
        },
    )
    n_farm = len(lay.farmland)
    town_tree = shapely.STRtree(lay.towns)
    f_idx, f_town = town_tree.query(shapely.point_on_surface(lay.farmland), predicate="within")
    farm_town = np.empty(n_farm, dtype=object)
    farm_town[f_idx] = town_codes[f_town]
    yjjbnt = workspace_frame(
        lay.farmland,
        {
            "BSM": [f"NT{i + 1:05d}" for i in range(n_farm)],
            "XZQDM": farm_town,
            "YJJBNTTBBH": [f"{i + 1:06d}" for i in range(n_farm)],
            "DLBM": farm_dlbm,
            "GDPDJB": np.array(["1", "2"])[rng.choice(2, size=n_farm, p=[0.8, 0.2])],
            "MJ": survey_area_m2(lay.farmland),
        },
    )
    udb = np.array([z[2] for z in UDB_ZONES], dtype=object)
    czkfbj = workspace_frame(
        udb,
        {
            "BSM": [f"KF{i + 1:03d}" for i in range(len(udb))],
            "XZQDM": COUNTY_CODE,
            "GHFQDM": [z[0] for z in UDB_ZONES],
            "GHFQMC": [z[1] for z in UDB_ZONES],
            "MJ": survey_area_m2(udb),
        },
    )
    zxgh = workspace_frame(
        np.array([lay.highway, lay.pipeline], dtype=object),
        {
            "BSM": ["ZX001", "ZX002"],
            "XMMC": ["示范高速公路", "示范县天然气支线管道"],
            "ZXLX": ["交通", "燃气管线"],
            "DLDJ": ["高速公路", None],
            "KD": [HIGHWAY_WIDTH_M, PIPELINE_WIDTH_M],
        },
    )
    return {"XZQ": xzq, "STBHHX": stbhhx, "YJJBNT": yjjbnt, "CZKFBJ": czkfbj, "ZXGH": zxgh}


def _land_layer(
    pieces: Pieces, codes: npt.NDArray[np.object_], base_town: npt.NDArray[np.intp], prefix: str
) -> dict[str, Any]:
    """Columns shared by GHYD and DLTB: BSM, XZQDM and the code."""
    town_codes = np.array([t[0] for t in TOWNS])
    return {
        "BSM": [f"{prefix}{i + 1:08d}" for i in range(len(pieces))],
        "XZQDM": town_codes[base_town[pieces.base]],
        "code": codes,
    }


def generate_county(parcels: int = 30000, seed: int = 20261122) -> County:
    """Generate the demo county.

    Parameters
    ----------
    parcels
        About how many land parcels (GHYD, DLTB) to make; at least :data:`MIN_PARCELS`.
    seed
        Seed of ``numpy.random.default_rng``.

    Returns
    -------
    County
        Layers in EPSG:4527 and the manifest items.

    Raises
    ------
    ConfigError
        If ``parcels`` is below :data:`MIN_PARCELS`.

    Examples
    --------
    >>> county = generate_county(parcels=1000, seed=1)
    >>> sorted(county.layers)[:3]
    ['BHTB', 'CZKFBJ', 'DLTB']
    """
    if parcels < MIN_PARCELS:
        raise ConfigError(
            f"--parcels {parcels} is too few for the demo county.",
            fix=f"Use at least {MIN_PARCELS}.",
        )
    timings: dict[str, float] = {}
    clock = time.perf_counter()

    def lap(step: str) -> None:
        nonlocal clock
        now = time.perf_counter()
        timings[step] = round(now - clock, 3)
        clock = now

    rng = np.random.default_rng(seed)
    n_red = max(20, parcels // 150)
    lay = make_layout(n_red, rng)
    bases, base_town, base_eco = _bases(lay)
    zones, zone_class, zone_ref = _zones(lay)
    farm_dlbm = np.array(["0103", "0102", "0101"])[
        rng.choice(3, size=len(lay.farmland), p=[0.6, 0.35, 0.05])
    ]
    lap("layout")

    cells = jittered_voronoi(lay.county, _seed_count(parcels, n_red), rng)
    pieces = cut_by_zones(cells, bases, zones)
    min_area = _SLIVER_SHARE * lay.county.area / len(pieces)
    pieces = finish_pieces(pieces, min_area, GRID_M, _DUST_M2)
    lap("tessellation")

    # Current survey (DLTB): the background tessellation with 三调 codes.
    cls = _piece_class(pieces, zone_class, base_eco)
    dlbm = _codes_by_class(cls, DLTB_CODES, _block_codes(pieces, cls, zone_ref, farm_dlbm), rng)
    dltb_cols = _land_layer(pieces, dlbm, base_town, "DL")
    dltb_cols["TBBH"] = _per_town_numbers(np.asarray(dltb_cols["XZQDM"]))
    dltb_geoms, dltb_cols, dltb_items = plant_dltb(pieces.geoms, dltb_cols, cls, rng)
    town_of = {t[0]: t[1] for t in TOWNS}
    dltb = workspace_frame(
        dltb_geoms,
        {
            "BSM": dltb_cols["BSM"],
            "TBBH": dltb_cols["TBBH"],
            "DLBM": dltb_cols["code"],
            "DLMC": dltb_cols["name"],
            "XZQDM": dltb_cols["XZQDM"],
            "ZLDWMC": [town_of[c] for c in dltb_cols["XZQDM"]],
            "TBMJ": survey_area_m2(dltb_geoms),
            "SJNF": np.full(len(dltb_geoms), HISTORY_YEARS[-1], dtype=np.int64),  # 数据年份
        },
    )
    lap("DLTB")

    # Master plan (GHYD): the same tessellation with planted parcels cut in.
    ghyd_pieces, ghyd_planted = plant_ghyd(pieces, lay, min_area, GRID_M, _DUST_M2)
    gcls = _piece_class(ghyd_pieces, zone_class, base_eco)
    gcodes = _codes_by_class(
        gcls, GHYD_CODES, _block_codes(ghyd_pieces, gcls, zone_ref, farm_dlbm), rng
    )
    ghyd_cols = _land_layer(ghyd_pieces, gcodes, base_town, "GH")
    ghyd_geoms, ghyd_cols, ghyd_items = ghyd_planted.apply(ghyd_pieces.geoms, ghyd_cols, gcls, rng)
    names = ghyd_cols.pop("name")
    ghyd = workspace_frame(
        ghyd_geoms,
        {
            "BSM": ghyd_cols["BSM"],
            "XZQDM": ghyd_cols["XZQDM"],
            "YDYHFLDM": ghyd_cols["code"],
            "YDYHFLMC": [
                n if n is not None else ydyh_name(c)
                for n, c in zip(names, ghyd_cols["code"], strict=True)
            ],
            "MJ": survey_area_m2(ghyd_geoms),
            **{name: ghyd_cols[name] for name in DECLARATION_FIELDS},
        },
    )
    lap("GHYD")

    layers = _zone_layers(lay, rng, farm_dlbm)
    master = MasterPlan(
        ghyd_geoms,
        np.asarray(ghyd_cols["code"], dtype=object),
        np.asarray(ghyd_cols["BSM"], dtype=object),
    )
    detailed: DetailedPlan = make_detailed_plan(parcels, lay, master, rng)
    layers.update(detailed.layers())
    lap("detailed plan and projects")

    layers["DLTB"], layers["GHYD"] = dltb, ghyd
    county_ws = to_workspace(lay.county)
    county_area = float(ellipsoidal_area_m2([county_ws], CRS.from_user_input(CRS_EPSG))[0])
    dltb_areas = ellipsoidal_area_m2(
        np.asarray(
            shapely.make_valid(np.asarray(dltb.geometry.values, dtype=object)), dtype=object
        ),
        CRS.from_user_input(CRS_EPSG),
    )
    catalogue = load_catalogue()
    measure = CountyMeasure(layers, dltb_areas, county_area, statistics_rows())
    table, table_items = indicator_table(layers, county_area, measure, measure.values(catalogue))
    order = [
        "XZQ",
        "DLTB",
        "STBHHX",
        "YJJBNT",
        "CZKFBJ",
        "GHYD",
        "XXGHDY",
        "XXGHDK",
        "ZXGH",
        "JSXM",
        "TDZZXM",
        "BHTB",
    ]
    items = [*ghyd_items, *dltb_items, *detailed.items, highway_item(), *table_items]
    items.sort(key=lambda it: (not it.id.startswith("qc."), it.id))
    history = plan_history(dltb, layers["TDZZXM"], items, seed, dltb_areas)
    targets = plan_targets(table, measure, catalogue, history.yearly_loss_ha)
    history.targets = targets.rows
    history.expected.update(targets.expected())
    lap("history")
    return County(
        seed,
        parcels,
        {k: layers[k] for k in order},
        items,
        float(shapely.area(county_ws)),
        county_area,
        table,
        timings,
        history,
    )


def _per_town_numbers(town_codes: npt.NDArray[Any]) -> list[str]:
    """图斑编号: 1, 2, 3 … counted within each town, in feature order."""
    codes = np.asarray(town_codes).astype(str)
    order = np.argsort(codes, kind="stable")
    sorted_codes = codes[order]
    start = np.r_[0, np.flatnonzero(sorted_codes[1:] != sorted_codes[:-1]) + 1]
    rank = np.arange(len(codes)) - np.repeat(start, np.diff(np.r_[start, len(codes)]))
    out = np.empty(len(codes), dtype=np.int64)
    out[order] = rank + 1
    return [str(v) for v in out]
