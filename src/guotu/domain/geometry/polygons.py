"""Polygonal parts, repair and anchor points of geometry arrays: the small helpers every
geometry user shares (checks, review, overlay, routing).

A geometry collection (what ``make_valid`` or an intersection may give) is reduced to its
polygonal parts in one of two ways: :func:`polygonal_parts` dissolves them into one polygon
(a repaired feature), :func:`polygonal` keeps them side by side in a MultiPolygon without
noding them (an intersection the overlay measures). :func:`polygon_parts` lists the Polygon
parts of all geometries with the geometry each belongs to.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
import shapely

__all__ = [
    "POLYGONAL_TYPES",
    "anchor_points",
    "is_usable",
    "polygon_parts",
    "polygonal",
    "polygonal_parts",
    "repair_polygonal",
]

ObjArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]

#: Type ids of polygonal geometries.
POLYGONAL_TYPES: tuple[int, ...] = (
    int(shapely.GeometryType.POLYGON),
    int(shapely.GeometryType.MULTIPOLYGON),
)


def polygonal_parts(geoms: ObjArray) -> ObjArray:
    """Each geometry reduced to its polygonal parts (a MultiPolygon, Polygon or empty).

    Examples
    --------
    >>> g = shapely.GeometryCollection([shapely.box(0, 0, 1, 1), shapely.Point(5, 5)])
    >>> polygonal_parts(np.array([g], dtype=object))[0].geom_type
    'Polygon'
    """
    arr = np.asarray(geoms, dtype=object)
    out = arr.copy()
    kinds = shapely.get_type_id(arr)
    odd = ~np.isin(kinds, POLYGONAL_TYPES) & ~shapely.is_missing(arr)
    if odd.any():
        parts, owner = shapely.get_parts(arr[odd], return_index=True)
        keep = np.isin(shapely.get_type_id(parts), POLYGONAL_TYPES)
        polys = shapely.get_parts(parts[keep]) if keep.any() else np.empty(0, dtype=object)
        idx = (
            np.repeat(owner[keep], shapely.get_num_geometries(parts[keep]))
            if keep.any()
            else np.empty(0, dtype=np.int64)
        )
        merged = np.full(int(odd.sum()), shapely.Polygon(), dtype=object)
        if len(polys):
            uniq = np.unique(idx)
            for u in uniq:  # one per odd geometry (few: collections from make_valid)
                merged[u] = shapely.union_all(polys[idx == u])
        out[odd] = merged
    return out


def repair_polygonal(geoms: ObjArray) -> ObjArray:
    """Repair geometries with ``make_valid`` (structure method); polygons keep only polygonal parts.

    Examples
    --------
    >>> bowtie = shapely.Polygon([(0, 0), (2, 2), (2, 0), (0, 2)])
    >>> repair_polygonal(np.array([bowtie], dtype=object))[0].area
    2.0
    """
    arr = np.asarray(geoms, dtype=object)
    was_polygonal = np.isin(shapely.get_type_id(arr), POLYGONAL_TYPES)
    fixed = np.asarray(
        shapely.make_valid(arr, method="structure", keep_collapsed=False), dtype=object
    )
    if was_polygonal.any():
        fixed[was_polygonal] = polygonal_parts(fixed[was_polygonal])
    return fixed


def anchor_points(geoms: ObjArray) -> list[tuple[float, float] | None]:
    """A point on each geometry (point on surface of the repaired geometry), ``None`` if empty.

    Examples
    --------
    >>> anchor_points(np.array([shapely.box(0, 0, 2, 2), None], dtype=object))
    [(1.0, 1.0), None]
    """
    arr = np.asarray(geoms, dtype=object)
    usable = ~(shapely.is_missing(arr) | shapely.is_empty(arr))
    out: list[tuple[float, float] | None] = [None] * len(arr)
    if not usable.any():
        return out
    sub = arr[usable]
    bad = ~shapely.is_valid(sub)
    if bad.any():
        sub = sub.copy()
        sub[bad] = shapely.make_valid(sub[bad])
    pts = shapely.point_on_surface(sub)
    xy = shapely.get_coordinates(pts, return_index=True)
    coords = np.full((len(sub), 2), np.nan)
    coords[xy[1]] = xy[0]
    for pos, (x, y) in zip(np.flatnonzero(usable), coords.tolist(), strict=True):
        if not (math.isnan(x) or math.isnan(y)):
            out[int(pos)] = (round(x, 3), round(y, 3))
    return out


def polygon_parts(geoms: ObjArray) -> tuple[ObjArray, npt.NDArray[np.intp]]:
    """The non-empty Polygon parts of ``geoms`` (collections flattened), with their owner."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    kinds = shapely.get_type_id(parts)
    coll = (kinds == shapely.GeometryType.GEOMETRYCOLLECTION) | (
        kinds == shapely.GeometryType.MULTIPOLYGON
    )
    if coll.any():
        sub, sub_idx = polygon_parts(parts[coll])
        parts = np.concatenate([parts[~coll], sub])
        idx = np.concatenate([idx[~coll], idx[coll][sub_idx]])
        kinds = shapely.get_type_id(parts)
    keep = (kinds == shapely.GeometryType.POLYGON) & ~shapely.is_empty(parts)
    return parts[keep], idx[keep]


def polygonal(geoms: ObjArray) -> ObjArray:
    """The polygonal parts of each geometry, as Polygon/MultiPolygon (empty Polygon if none)."""
    kinds = shapely.get_type_id(geoms)
    bad = np.flatnonzero(
        (kinds != shapely.GeometryType.POLYGON) & (kinds != shapely.GeometryType.MULTIPOLYGON)
    )
    if len(bad):
        geoms = geoms.copy()
        for i in bad.tolist():
            parts, _idx = polygon_parts(np.array([geoms[i]], dtype=object))
            geoms[i] = (
                parts[0]
                if len(parts) == 1
                else shapely.multipolygons(parts)
                if len(parts)
                else shapely.Polygon()
            )
    return geoms


def is_usable(geoms: ObjArray) -> BoolArray:
    """Which geometries are there to measure: not missing and not empty.

    Examples
    --------
    >>> is_usable(np.array([shapely.box(0, 0, 1, 1), shapely.Polygon(), None])).tolist()
    [True, False, False]
    """
    return np.asarray(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)), dtype=bool)
