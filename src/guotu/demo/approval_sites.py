"""Where the demo's approval cases stand (:mod:`guotu.demo.approvals`), and the as-built
survey of its 规划核实.

A site is a real feature of the demo county shrunk by :data:`SHRINK_M` (inside it, clear of its
neighbours), with the planning conditions it carries: a detailed-plan parcel (the layer of role
``detailed_parcel``: its ``YDYHFLDM``, ``RJL``, ``JZMD``, ``LDL``, ``JZXG``), an approved
building project (role ``construction_project``, with its permit number ``PZWH`` as ``XKZH``),
a 16 × 12 m house plot on the master plan's village land (0703) of 北岭镇, or a stretch of
西山乡 for a land-consolidation project. Features with a condition missing or out of range
(planted quality problems) are never used.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import shapely
from shapely.geometry.base import BaseGeometry

from guotu.demo.layout import COUNTY_NAME, TOWNS
from guotu.ports import FeatureStore

__all__ = [
    "CONSOLIDATION_TOWN",
    "RURAL_TOWN",
    "SHRINK_M",
    "Site",
    "as_built_survey",
    "choose_sites",
]

#: How far a feature is shrunk to make a site (m).
SHRINK_M = 2.0
#: The 乡镇 of the rural permits and of the consolidation project.
RURAL_TOWN, CONSOLIDATION_TOWN = TOWNS[1][1], "西山乡"
#: The as-built survey's floor area, as a multiple of what the 容积率 allows.
_EXCESS = 1.18
_STOREY_M = 3.0


@dataclass(frozen=True)
class Site:
    """A case's site (workspace CRS), the indicators asked on it, where it is in words, the
    id of the feature it stands on (DKBH, XMDM, BSM or the 乡镇) and that project's name."""

    geometry: BaseGeometry
    indicators: dict[str, Any]
    location: str
    ref: str
    project: str = ""


def _one_polygon(geom: BaseGeometry) -> BaseGeometry | None:
    """The largest polygon of ``geom`` shrunk by :data:`SHRINK_M`, or ``None``."""
    if geom is None or geom.is_empty:
        return None
    shrunk = shapely.make_valid(geom).buffer(-SHRINK_M, join_style="mitre")
    parts = [p for p in getattr(shrunk, "geoms", [shrunk]) if p.geom_type == "Polygon"]
    best = max(parts, key=lambda p: p.area, default=None)
    return None if best is None or best.area < 500.0 else shapely.set_precision(best, 0.001)


def _indicators(row: Any) -> dict[str, float] | None:
    """The four planning conditions of a row, or ``None`` when one is missing or out of
    range (a planted quality problem)."""
    out = {}
    for key in ("RJL", "JZMD", "LDL", "JZXG"):
        value = row.get(key)
        if value is None or value != value or not 0 < float(value) < 100:
            return None
        out[key] = float(value)
    return out


def _towns(store: FeatureStore) -> gpd.GeoDataFrame:
    xzq = store.read_layer(store.layers_with_role("admin_boundary")[0].name)
    return xzq[xzq["XZQDM"].str.len() > 6]


def _town_of(towns: gpd.GeoDataFrame, geom: BaseGeometry) -> str:
    hit = towns[towns.intersects(geom.representative_point())]
    return str(hit["XZQMC"].iloc[0]) if len(hit) else COUNTY_NAME


def _parcel_rows(store: FeatureStore, avoid: set[str]) -> gpd.GeoDataFrame:
    """The detailed-plan parcels with all four indicators in range, nothing planted on them
    or their unit and no approved project (JSXM) on them yet, by parcel number."""
    frame = store.read_layer(store.layers_with_role("detailed_parcel")[0].name)
    projects = store.read_layer(store.layers_with_role("construction_project")[0].name)
    taken = shapely.union_all(projects.geometry.buffer(-SHRINK_M).values)
    keep = ~frame["DKBH"].isin(avoid) & ~frame["DYBH"].isin(avoid) & ~frame.intersects(taken)
    for key in ("RJL", "JZMD", "LDL", "JZXG"):
        keep &= (frame[key] > 0) & (frame[key] < 100)
    return frame[keep].sort_values("DKBH")


def _parcel_site(row: Any, towns: gpd.GeoDataFrame) -> Site | None:
    site = _one_polygon(row.geometry)
    values = _indicators(row)
    if site is None or values is None:
        return None
    code = str(row["YDYHFLDM"])
    where = f"{_town_of(towns, site)}{row['DYBH']}单元 {row['DKBH']} 地块"
    return Site(site, {"YDYHFLDM": code, **values}, where, str(row["DKBH"]))


def _parcel_for(
    rows: gpd.GeoDataFrame, codes: list[str], used: set[str], towns: gpd.GeoDataFrame
) -> Site | None:
    """The first free parcel of the first of ``codes`` the plan has (else of any code)."""
    rank = rows["YDYHFLDM"].map(lambda c: codes.index(c) if c in codes else len(codes))
    for _, row in rows.assign(_rank=rank).sort_values("_rank", kind="stable").iterrows():
        site = None if row["DKBH"] in used else _parcel_site(row, towns)
        if site is not None:
            return site
    return None


def _project_sites(store: FeatureStore, avoid: set[str], towns: gpd.GeoDataFrame) -> list[Site]:
    """Approved building projects (建设工程规划许可) with all four conditions, by code."""
    layer = store.layers_with_role("construction_project")[0].name
    frame = store.read_layer(layer).sort_values("XMDM")
    out = []
    for _, row in frame.iterrows():
        values = _indicators(row)
        site = _one_polygon(row.geometry)
        if str(row["XMDM"]) in avoid or row.get("PZLX") != "建设工程规划许可" or site is None:
            continue
        if values is None:
            continue
        ind = {"YDYHFLDM": str(row["YDYHFLDM"]), **values, "XKZH": str(row.get("PZWH") or "")}
        where = f"{_town_of(towns, site)}（项目代码 {row['XMDM']}）"
        out.append(Site(site, ind, where, str(row["XMDM"]), str(row["XMMC"])))
    return out


def _village_sites(store: FeatureStore, avoid: set[str], towns: gpd.GeoDataFrame) -> list[Site]:
    """House plots (16 × 12 m) on the master plan's village land (0703) of 北岭镇."""
    town = towns[towns["XZQMC"] == RURAL_TOWN].geometry.iloc[0]
    layer = store.layers_with_role("planned_land_use")[0].name
    frame = store.read_layer(layer, bbox=town.bounds, columns=["BSM", "YDYHFLDM"])
    frame = frame[(frame["YDYHFLDM"] == "0703") & frame.within(town)].sort_values("BSM")
    out = []
    for _, row in frame.iterrows():
        inner = _one_polygon(row.geometry)
        if str(row["BSM"]) in avoid or inner is None:
            continue
        p = inner.representative_point()
        plot = shapely.box(p.x - 8, p.y - 6, p.x + 8, p.y + 6)
        if inner.contains(plot):
            ind = {"YDYHFLDM": "0703", "JZXG": 9.0}
            out.append(
                Site(plot, ind, f"{RURAL_TOWN}村庄建设用地（{row['BSM']}）", str(row["BSM"]))
            )
    return out


def _consolidation_site(towns: gpd.GeoDataFrame) -> Site:
    """A 1.2 km × 0.9 km stretch of 西山乡 around its centre, within the 乡."""
    town = towns[towns["XZQMC"] == CONSOLIDATION_TOWN].geometry.iloc[0]
    c = town.representative_point()
    area = shapely.box(c.x - 600, c.y - 450, c.x + 600, c.y + 450).intersection(town)
    site = _one_polygon(area)
    assert site is not None
    return Site(site, {"YDYHFLDM": "0101"}, f"{CONSOLIDATION_TOWN}", CONSOLIDATION_TOWN)


def choose_sites(
    store: FeatureStore, avoid: set[str], wanted: Sequence[tuple[str, str]]
) -> dict[str, Site]:
    """A site for each ``(name, kind)`` of ``wanted``, none used twice, none on a feature
    whose id is in ``avoid``. ``kind``: ``parcel:<codes>`` (a detailed-plan parcel, of the
    first of the codes the plan has), ``project`` (an approved building project on which an
    over-built survey fits), ``village`` (a house plot) or ``consolidation``.

    Raises
    ------
    AssertionError
        The county has no site of a kind asked (a generator bug).
    """
    towns = _towns(store)
    parcels = _parcel_rows(store, avoid)
    villages = _village_sites(store, avoid, towns)
    used: set[str] = set()
    out: dict[str, Site] = {}
    for name, kind in wanted:
        if kind == "project":
            fits = [p for p in _project_sites(store, avoid, towns) if as_built_survey(p, 0)]
            # a small county may have no approved project the survey fits: a free parcel of
            # the detailed plan stands in (its conditions are a permit's)
            stand_ins = (
                p
                for _, row in parcels.iterrows()
                if row["DKBH"] not in used
                and (p := _parcel_site(row, towns)) is not None
                and as_built_survey(p, 0)
            )
            site = next(iter(fits), None) or next(stand_ins, None)
            if site is not None and not site.project:
                site = Site(
                    site.geometry, site.indicators, site.location, site.ref, f"{site.ref}地块综合楼"
                )
        elif kind == "consolidation":
            site = _consolidation_site(towns)
        elif kind == "village":
            site = next((s for s in villages if s.ref not in used), None)
        else:
            site = _parcel_for(parcels, kind.split(":", 1)[1].split(","), used, towns)
        if site is None:
            raise AssertionError(f"The demo county has no site for the case {name} ({kind}).")
        out[name] = site
        used.add(site.ref)
    return out


def _slabs(site: Site) -> tuple[list[BaseGeometry], int] | None:
    """The fewest slabs (24 × 60 m, else smaller), set back 6 m, and their floors, that keep
    within the height and density limits while their floor area is :data:`_EXCESS` times what
    the 容积率 allows."""
    ind = site.indicators
    area = float(site.geometry.area)
    inner = site.geometry.buffer(-6.0)
    x0, y0, x1, y1 = (int(v) for v in inner.bounds)
    for w, h in ((24, 60), (18, 45), (15, 36), (12, 30)):
        spots = [
            shapely.box(x, y, x + w, y + h)
            for y in range(y0, y1 - h, h + 15)
            for x in range(x0, x1 - w, w + 12)
            if inner.contains(shapely.box(x, y, x + w, y + h))
        ]
        for n in range(1, len(spots) + 1):
            floors = math.ceil(area * ind["RJL"] * _EXCESS / (n * w * h))
            fits = floors * _STOREY_M + 0.6 <= ind["JZXG"]
            if fits and n * w * h / area * 100.0 <= ind["JZMD"]:
                return spots[:n], floors
    return None


def as_built_survey(site: Site, crs_epsg: int) -> bytes | None:
    """An as-built survey (竣工测量成果, GeoJSON in the workspace CRS) of slabs within the
    height, density and green limits of ``site`` but with :data:`_EXCESS` times the floor area
    its 容积率 allows; ``None`` when none fit."""
    found = _slabs(site)
    if found is None:
        return None
    slabs, floors = found
    area = float(site.geometry.area)
    height = round(floors * _STOREY_M + 0.6, 2)
    ind = site.indicators
    green = round(area * (ind["LDL"] + 5.0) / 100.0, 2)
    features = [
        {
            "type": "Feature",
            "properties": {
                "编号": f"{i}号楼",
                "层数": floors,
                "高度": height,
                "建筑面积": round(s.area * floors, 2),
                "绿地面积": green,
            },
            "geometry": json.loads(shapely.to_geojson(s)),
        }
        for i, s in enumerate(slabs, start=1)
    ]
    doc = {
        "type": "FeatureCollection",
        "name": "竣工测量成果",
        "crs": {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{crs_epsg}"}},
        "features": features,
    }
    return json.dumps(doc, ensure_ascii=False).encode("utf-8")
