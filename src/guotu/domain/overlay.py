"""Spatial overlay kernel of plan review (规划审查叠加分析): features × zones, with areas.

:func:`prepare_zones` indexes zone polygons (红线, 永久基本农田, 城镇开发边界 …) once; :func:`overlay`
then reports every (feature, zone) pair whose intersection has a positive ellipsoidal area,
with the relation, the areas and, unless ``geometry=False``, the intersection itself.

How the work is kept small:

1. Zones are cut into pieces of at most ``max_vertices`` vertices along axis-parallel lines
   (like PostGIS ``ST_Subdivide``); the pieces partition the zone, so areas add up over them.
   An STRtree over the pieces gives the candidate pairs.
2. A feature covered by a piece, or by its whole zone (prepared ``covers``), is ``within``:
   its intersection is the feature itself, nothing is computed. A piece covered by the
   feature contributes the whole piece. Only pieces crossing the feature's boundary are left.
3. For those, the geometry path builds the intersection and measures it (ellipsoidal area
   from its rings' moments). A convex feature crossing one piece without holes is clipped in
   numpy (vectorized Sutherland–Hodgman, :func:`_clip_convex`); the result is kept when it
   is one valid polygon. The others go to GEOS: with the one piece the feature crosses, or
   with the zone clipped to the feature's box when it crosses several pieces.
4. The area-only path (``geometry=False``) never builds an intersection: an exact
   vectorized clipping kernel (:func:`_clip_moments`) splits each feature into convex parts
   (itself when convex, else constrained Delaunay triangles), clips each cell edge (the
   pieces cut further) to each part (Cyrus–Beck), and Green's theorem sums the clipped
   edges, the parts of the feature's boundary between where the cell's boundary enters and
   leaves it, and the feature's whole boundary when its first vertex lies in the cell. Ties
   (a vertex exactly on an edge, shared edges) are broken as if the feature were shifted by
   an infinitesimal (ε, ε²) — a symbolic perturbation, so touching pairs give 0 and shared
   edges count once. The same pass gives the planar moments the ellipsoidal area needs
   (∬ k⁻² dA, :mod:`guotu.domain.area`). The two paths agree to 1e-9 relative, or to
   ~1e-7 m² on slivers (GEOS rounds the vertices it creates).

Work is split over threads by chunks of features (GEOS and numpy release the GIL); results
are sorted by (feature, zone) and do not depend on the input order or on ``workers``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from guotu.domain.area import (
    SCALE_FACTOR_MAX_RING_EXTENT_M,
    _transverse_mercator,
    ellipsoidal_area_m2,
)
from guotu.domain.crs import check_projected, to_geographic

__all__ = ["LineOverlayResult", "OverlayResult", "ZoneIndex", "line_overlay", "overlay",
           "prepare_zones"]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Inputs with fewer features than this run on one thread.
PARALLEL_MIN_FEATURES = 4_000
#: Piece edges handled at once by the clipping kernel (bounds its temporary arrays).
_BATCH_EDGES = 400_000
#: Intersections smaller than this share of the feature's planar area are rounding noise of
#: touching boundaries, not overlaps.
_NOISE_SHARE = 1e-11
#: Largest number of vertices of a cell of the clipping kernel.
_CELL_VERTICES = 64

_RELATIONS = np.array(["within", "contains", "overlaps"])
_WITHIN, _CONTAINS, _OVERLAPS = 0, 1, 2


@dataclass(frozen=True, eq=False)
class _Prepared:
    """Prepared copies of the zones and pieces (and the shared cells), for one thread."""

    zones: ObjArray
    pieces: ObjArray
    cells: ObjArray


def _prepared_copy(geoms: ObjArray) -> ObjArray:
    out = np.asarray(shapely.from_wkb(shapely.to_wkb(geoms)), dtype=object)
    shapely.prepare(out)
    _build_prepared_indexes(out)
    return out


@dataclass(frozen=True, eq=False)
class ZoneIndex:
    """Zone polygons indexed for :func:`overlay`; build it with :func:`prepare_zones`.

    Attributes
    ----------
    crs
        The projected CRS of the zones (and of the features overlaid on them).
    zones
        The original zone geometries, prepared (``None`` where the input was missing/empty).
    zone_area_m2
        Ellipsoidal area of each original zone.
    pieces, piece_zone
        The pieces the zones were cut into, and the original zone position of each.
    """

    crs: CRS
    zones: ObjArray
    zone_area_m2: FloatArray
    pieces: ObjArray
    piece_zone: IntArray
    piece_area_m2: FloatArray
    pieces_per_zone: IntArray
    tree: shapely.STRtree
    piece_bounds: FloatArray
    zone_bounds: FloatArray
    # The clipping kernel works on cells: the pieces cut further, to at most 32 vertices, so
    # that it reads few edges per feature. Cell boundaries: every ring closed, exteriors
    # counter-clockwise, holes clockwise; the vertices of cell i are xy[offsets[i]:offsets[i+1]];
    # has_edge[j] tells whether vertex j starts an edge (False on each ring's closing vertex).
    cells: ObjArray
    cell_piece: IntArray
    cell_tree: shapely.STRtree
    xy: FloatArray
    offsets: IntArray
    has_edge: BoolArray
    # The pieces' exterior rings, open, for the convex clipping of the geometry path: the
    # vertices of piece i are piece_xy[piece_offsets[i]:piece_offsets[i + 1]].
    piece_xy: FloatArray
    piece_offsets: IntArray
    piece_has_hole: BoolArray
    # GEOS prepared geometries must not be used by two threads at once: one copy of the
    # prepared zones, pieces and cells per thread (the first is the one above).
    replicas: tuple[_Prepared, ...] = ()

    def __len__(self) -> int:
        return len(self.zones)


@dataclass(frozen=True)
class OverlayResult:
    """The (feature, zone) pairs of an overlay, sorted by (left, right).

    Attributes
    ----------
    left
        Position of the feature in the ``features`` argument.
    right
        Position of the (original) zone in the array given to :func:`prepare_zones`.
    relation
        ``"within"`` (feature inside zone), ``"contains"`` (zone inside feature) or ``"overlaps"``.
    area_m2, planar_area_m2
        Ellipsoidal (椭球) and planar area of the intersection.
    geometry
        The intersection (valid Polygon/MultiPolygon), or ``None`` when ``geometry=False``.
    feature_area_m2, zone_area_m2
        Ellipsoidal area of the pair's feature and zone.
    """

    left: IntArray
    right: IntArray
    relation: npt.NDArray[np.str_]
    area_m2: FloatArray
    planar_area_m2: FloatArray
    geometry: ObjArray | None
    feature_area_m2: FloatArray
    zone_area_m2: FloatArray

    def __len__(self) -> int:
        return len(self.left)


@dataclass(frozen=True)
class LineOverlayResult:
    """Lines × zones: the part of each line inside each zone (planar length > 0)."""

    left: IntArray
    right: IntArray
    length_m: FloatArray
    geometry: ObjArray

    def __len__(self) -> int:
        return len(self.left)


# -- zones ---------------------------------------------------------------------------------
def _subdivide(geoms: ObjArray, owner: IntArray, max_vertices: int) -> tuple[ObjArray, IntArray]:
    """Cut polygons in halves across the longer side of their box until each piece has at
    most ``max_vertices`` vertices. The pieces of a polygon partition it; their order depends
    only on that polygon."""
    done_g: list[ObjArray] = []
    done_o: list[IntArray] = []
    for _level in range(64):
        if not len(geoms):
            break
        small = shapely.get_num_coordinates(geoms) <= max_vertices
        done_g.append(geoms[small])
        done_o.append(owner[small])
        geoms, owner = geoms[~small], owner[~small]
        halves: list[Any] = []
        for g, (x0, y0, x1, y1) in zip(geoms, shapely.bounds(geoms).tolist(), strict=True):
            if x1 - x0 >= y1 - y0:
                xm = (x0 + x1) / 2.0
                halves += [shapely.clip_by_rect(g, x0, y0, xm, y1),
                           shapely.clip_by_rect(g, xm, y0, x1, y1)]
            else:
                ym = (y0 + y1) / 2.0
                halves += [shapely.clip_by_rect(g, x0, y0, x1, ym),
                           shapely.clip_by_rect(g, x0, ym, x1, y1)]
        cut = np.empty(len(halves), dtype=object)
        cut[:] = halves
        parts, idx = _polygon_parts(cut)
        geoms, owner = parts, np.repeat(owner, 2)[idx]
    if len(geoms):  # pragma: no cover - 64 halvings leave no polygon above any sane limit
        done_g.append(geoms)
        done_o.append(owner)
    order = np.argsort(np.concatenate(done_o), kind="stable")
    return np.concatenate(done_g)[order], np.concatenate(done_o)[order].astype(np.int64)


def _polygon_parts(geoms: ObjArray) -> tuple[ObjArray, npt.NDArray[np.intp]]:
    """The non-empty Polygon parts of ``geoms`` (collections flattened), with their owner."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    kinds = shapely.get_type_id(parts)
    coll = (kinds == shapely.GeometryType.GEOMETRYCOLLECTION) | (
        kinds == shapely.GeometryType.MULTIPOLYGON)
    if coll.any():
        sub, sub_idx = _polygon_parts(parts[coll])
        parts = np.concatenate([parts[~coll], sub])
        idx = np.concatenate([idx[~coll], idx[coll][sub_idx]])
        kinds = shapely.get_type_id(parts)
    keep = (kinds == shapely.GeometryType.POLYGON) & ~shapely.is_empty(parts)
    return parts[keep], idx[keep]


def _usable(geoms: ObjArray) -> BoolArray:
    """Not missing and not empty."""
    return np.asarray(~(shapely.is_missing(geoms) | shapely.is_empty(geoms)), dtype=bool)


def _build_prepared_indexes(geoms: ObjArray) -> None:
    """Make GEOS build the lazy parts of prepared geometries (point locator and its index,
    segment intersection finder) now, on one thread: building them is not thread-safe, and
    :func:`overlay` shares them between threads. A line across each box, starting and ending
    outside it, makes ``intersects`` use both; the point predicates then use the locator."""
    ok = np.flatnonzero(_usable(geoms))
    if not len(ok):
        return
    g = geoms[ok]
    x0, y0, x1, y1 = shapely.bounds(g).T
    ym = (y0 + y1) / 2.0
    pad = np.maximum(x1 - x0, 1.0)
    lines = shapely.linestrings(np.stack([np.stack([x0 - pad, ym], axis=1),
                                          np.stack([x1 + pad, ym], axis=1)], axis=1))
    shapely.intersects(g, lines)
    shapely.covers(g, lines)
    shapely.contains_xy(g, x0, ym)
    shapely.intersects_xy(g, x0, ym)


def prepare_zones(zones: ObjArray, crs: CRS, *, max_vertices: int = 256,
                  threads: int | None = None) -> ZoneIndex:
    """Index zone polygons once, for many :func:`overlay` calls.

    Polygons with more than ``max_vertices`` vertices are cut into pieces (like
    ``ST_Subdivide``); this is invisible to callers: results are always reported per original
    zone position. Missing or empty zones are skipped.

    Parameters
    ----------
    zones
        Valid Polygons/MultiPolygons in the projected CRS ``crs``.
    crs
        Their projected CRS (metres); :class:`~guotu.errors.CRSError` otherwise.
    max_vertices
        Largest number of vertices of a piece (at least 8).
    threads
        Most threads :func:`overlay` will use with this index (``None``: one per CPU); each
        gets its own copy of the prepared geometries.

    Examples
    --------
    >>> idx = prepare_zones(np.array([shapely.box(0, 0, 10, 10), None]), CRS.from_epsg(4527))
    >>> len(idx), idx.pieces_per_zone.tolist()
    (2, [1, 0])
    """
    check_projected(crs, "Overlay", what_zh="叠加分析")
    if max_vertices < 8:
        raise ValueError(f"max_vertices must be at least 8, not {max_vertices}")
    zones = np.asarray(zones, dtype=object).reshape(-1)
    ok = np.flatnonzero(_usable(zones))
    polys, owner = _polygon_parts(zones[ok])
    polys = shapely.orient_polygons(polys, exterior_cw=False)
    pieces, piece_zone = _subdivide(polys, ok[owner].astype(np.int64), max_vertices)
    cells, cell_piece = _subdivide(pieces, np.arange(len(pieces), dtype=np.int64),
                                   min(max_vertices, _CELL_VERTICES))
    # Deterministic cell boundaries: counter-clockwise exteriors, clockwise holes.
    cells = shapely.orient_polygons(cells, exterior_cw=False)
    rings = shapely.get_rings(cells)
    ring_counts = shapely.get_num_coordinates(rings)
    xy = shapely.get_coordinates(rings)
    ring_last = np.cumsum(ring_counts) - 1
    has_edge = np.ones(len(xy), dtype=bool)
    has_edge[ring_last] = False
    per_cell = shapely.get_num_coordinates(cells)
    offsets = np.concatenate([[0], np.cumsum(per_cell)]).astype(np.int64)

    pr = _rings(pieces)
    p_counts = np.diff(pr.start)[pr.exterior] - 1
    p_rows = np.flatnonzero(np.repeat(pr.exterior, np.diff(pr.start)))
    p_last = np.zeros(len(pr.xy), dtype=bool)
    p_last[pr.start[1:] - 1] = True
    piece_xy = pr.xy[p_rows[~p_last[p_rows]]]
    piece_offsets = np.concatenate([[0], np.cumsum(p_counts)]).astype(np.int64)
    piece_has_hole = np.bincount(pr.ring_poly, minlength=len(pieces)) > 1
    used = zones.copy()
    used[~_usable(zones)] = None
    shapely.prepare(used)
    shapely.prepare(pieces)
    # Cells are not prepared: point-in-polygon on at most _CELL_VERTICES vertices is cheap
    # either way, and their prepared indexes would cost more memory than the pieces.
    zone_area = np.zeros(len(zones))
    zone_area[ok] = ellipsoidal_area_m2(zones[ok], crs)
    piece_area = ellipsoidal_area_m2(pieces, crs)
    for prepared in (used, pieces):
        _build_prepared_indexes(prepared)
    n_threads = (os.cpu_count() or 1) if threads is None else max(1, threads)
    # Cells (unprepared, only read) serve all threads. Prepared covers/intersects keep
    # per-call state: the zones and pieces get a prepared copy per thread.
    replicas = [_Prepared(used, pieces, cells)] + [
        _Prepared(_prepared_copy(used), _prepared_copy(pieces), cells)
        for _ in range(n_threads - 1)]
    return ZoneIndex(
        crs=crs, zones=used, zone_area_m2=zone_area, pieces=pieces,
        piece_zone=piece_zone, piece_area_m2=piece_area,
        pieces_per_zone=np.bincount(piece_zone, minlength=len(zones)).astype(np.int64),
        tree=shapely.STRtree(pieces), piece_bounds=shapely.bounds(pieces),
        zone_bounds=shapely.bounds(used), cells=cells, cell_piece=cell_piece,
        cell_tree=shapely.STRtree(cells), xy=xy, offsets=offsets, has_edge=has_edge,
        piece_xy=piece_xy, piece_offsets=piece_offsets, piece_has_hole=piece_has_hole,
        replicas=tuple(replicas))


# -- the clipping kernel ---------------------------------------------------------------------
def _tri_moments(x1: FloatArray, y1: FloatArray, x2: FloatArray,
                 y2: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """∬ 1, x, x², y over the signed triangle (origin, P1, P2): the Green's-theorem terms of
    the edge P1 → P2. Summed over a closed boundary they are the region's moments."""
    cross = x1 * y2 - x2 * y1
    return (cross / 2.0, (x1 + x2) * cross / 6.0, (x1 * x1 + x1 * x2 + x2 * x2) * cross / 12.0,
            (y1 + y2) * cross / 6.0)


@dataclass(frozen=True)
class _ConvexParts:
    """Convex parts of features: part i has vertices xy[offsets[i]:offsets[i + 1]]
    (counter-clockwise, not closed) and belongs to feature ``owner[i]``."""

    owner: npt.NDArray[np.intp]
    xy: FloatArray
    offsets: npt.NDArray[np.intp]


@dataclass(frozen=True)
class _Rings:
    """The rings of polygonal geometries in flat arrays (one ``to_ragged_array`` call):
    ring r has the closed vertices xy[start[r]:start[r + 1]], belongs to polygon
    ``ring_poly[r]`` and geometry ``ring_geom[r]``; ``exterior[r]`` marks exterior rings."""

    xy: FloatArray
    start: npt.NDArray[np.intp]
    ring_poly: npt.NDArray[np.intp]
    ring_geom: npt.NDArray[np.intp]
    exterior: BoolArray
    poly_geom: npt.NDArray[np.intp]
    poly_start: npt.NDArray[np.intp]


def _rings(geoms: ObjArray) -> _Rings:
    kinds = shapely.get_type_id(geoms)
    if not np.isin(kinds, [shapely.GeometryType.POLYGON,
                           shapely.GeometryType.MULTIPOLYGON]).all():
        geoms = _polygonal(geoms)
    if not len(geoms):
        z = np.zeros(1, dtype=np.intp)
        e = np.zeros(0, dtype=np.intp)
        return _Rings(np.zeros((0, 2)), z, e, e, np.zeros(0, dtype=bool), e, z)
    _kind, xy, offsets = shapely.to_ragged_array(geoms)
    ring_off = offsets[0].astype(np.intp)
    poly_off = offsets[1].astype(np.intp)
    multi_off = (offsets[2].astype(np.intp) if len(offsets) > 2
                 else np.arange(len(geoms) + 1, dtype=np.intp))
    n_rings, n_polys = len(ring_off) - 1, len(poly_off) - 1
    ring_poly = np.repeat(np.arange(n_polys), np.diff(poly_off))
    poly_geom = np.repeat(np.arange(len(geoms)), np.diff(multi_off))
    return _Rings(xy=np.asarray(xy, dtype=np.float64)[:, :2], start=ring_off,
                  ring_poly=ring_poly, ring_geom=poly_geom[ring_poly],
                  exterior=np.arange(n_rings) == poly_off[ring_poly], poly_geom=poly_geom,
                  poly_start=poly_off)


def _ring_edge_moments(r: _Rings, origin: FloatArray) -> tuple[list[FloatArray],
                                                                npt.NDArray[np.intp]]:
    """Green's-theorem moments (∬ 1, x, x², y relative to the geometry's ``origin``) of every
    edge, signed so that exteriors count positive and holes negative whatever their
    orientation, and the ring of each edge."""
    ring_of = np.repeat(np.arange(len(r.start) - 1), np.diff(r.start))
    last = np.zeros(len(r.xy), dtype=bool)
    last[r.start[1:][np.diff(r.start) > 0] - 1] = True
    a = np.flatnonzero(~last)
    e_ring = ring_of[a]
    org = origin[r.ring_geom[e_ring]]
    x1, y1 = r.xy[a, 0] - org[:, 0], r.xy[a, 1] - org[:, 1]
    x2, y2 = r.xy[a + 1, 0] - org[:, 0], r.xy[a + 1, 1] - org[:, 1]
    moments = _tri_moments(x1, y1, x2, y2)
    signed = np.bincount(e_ring, moments[0], len(r.start) - 1)
    flip = np.where((signed < 0) == r.exterior, -1.0, 1.0)[e_ring]
    return [m * flip for m in moments], e_ring


def _open_rings(polys: ObjArray) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Exterior ring vertices of each polygon without the closing vertex, and their counts."""
    xy, idx = shapely.get_coordinates(shapely.get_exterior_ring(polys), return_index=True)
    counts = np.bincount(idx, minlength=len(polys))
    keep = np.ones(len(xy), dtype=bool)
    keep[np.cumsum(counts)[counts > 0] - 1] = False
    return xy[keep], np.maximum(counts - 1, 0)


def _triangles(polys: ObjArray) -> ObjArray:
    """Constrained Delaunay triangles of each polygon. GEOS gives up on some rings with
    collinear runs ("Unable to find a convex corner"); those are retried without their
    collinear vertices, then split along a horizontal line through a vertex."""
    try:
        return np.asarray(shapely.constrained_delaunay_triangles(polys), dtype=object)
    except shapely.errors.GEOSException:
        out = np.empty(len(polys), dtype=object)
        out[:] = [_triangles_of_one(p) for p in polys]
        return out


def _triangles_of_one(poly: shapely.Geometry, depth: int = 0) -> shapely.Geometry:
    simple = shapely.simplify(poly, 0.0)
    try:
        return shapely.constrained_delaunay_triangles(simple)
    except shapely.errors.GEOSException:
        if depth > 8:
            raise
        x0, y0, x1, y1 = simple.bounds
        ym = float(np.median(shapely.get_coordinates(simple)[:, 1]))
        ym = ym if y0 < ym < y1 else (y0 + y1) / 2.0
        halves = [shapely.clip_by_rect(simple, x0, y0, x1, ym),
                  shapely.clip_by_rect(simple, x0, ym, x1, y1)]
        parts, _idx = _polygon_parts(np.asarray(halves, dtype=object))
        return shapely.GeometryCollection(
            [t for p in parts for t in shapely.get_parts(_triangles_of_one(p, depth + 1))])


def _ccw_exteriors(r: _Rings) -> tuple[npt.NDArray[np.intp], FloatArray,
                                         npt.NDArray[np.intp], BoolArray]:
    """The exterior rings of at least 3 vertices (their ring numbers), open, without repeated
    vertices (cyclically) and counter-clockwise; their vertex counts and whether they have a
    reflex vertex."""
    # Open exterior rings without repeated vertices (cyclically), counter-clockwise.
    ext = np.flatnonzero(r.exterior)
    counts = np.diff(r.start)[ext] - 1
    ok_ring = counts >= 3
    ext, counts = ext[ok_ring], counts[ok_ring]
    first = r.start[ext]
    begin = np.cumsum(counts) - counts
    rows = np.arange(int(counts.sum())) + np.repeat(first - begin, counts)
    xy = r.xy[rows]
    ring_id = np.repeat(np.arange(len(ext)), counts)
    prev = np.arange(len(xy)) - 1
    prev[begin[counts > 0]] = (begin + counts - 1)[counts > 0]
    keep = np.any(xy != xy[prev], axis=1)
    xy, ring_id = xy[keep], ring_id[keep]
    counts = np.bincount(ring_id, minlength=len(ext))
    begin = np.cumsum(counts) - counts
    pos = np.arange(len(xy)) - np.repeat(begin, counts)
    nxt = np.arange(len(xy)) + 1
    nxt[(begin + counts - 1)[counts > 0]] = begin[counts > 0]
    prv = np.arange(len(xy)) - 1
    prv[begin[counts > 0]] = (begin + counts - 1)[counts > 0]
    cross = xy[:, 0] * xy[nxt, 1] - xy[nxt, 0] * xy[:, 1]
    cw = np.bincount(ring_id, cross, len(ext)) < 0
    # Reverse clockwise rings (vertex p of a ring becomes vertex count - 1 - p).
    rev = np.repeat(cw, counts)
    src = np.where(rev, np.repeat(begin + counts - 1, counts) - pos, np.arange(len(xy)))
    xy = xy[src]
    e_in = xy - xy[prv]
    e_out = xy[nxt] - xy
    turn = e_in[:, 0] * e_out[:, 1] - e_in[:, 1] * e_out[:, 0]
    reflex = np.bincount(ring_id, turn < 0, len(ext)) > 0
    return ext, xy, counts, reflex


def _convex_parts(geoms: ObjArray) -> _ConvexParts:
    """Split polygonal ``geoms`` into convex parts: a convex polygon without holes is its own
    part (read straight from the ragged coordinates); any other polygon is split into its
    constrained Delaunay triangles."""
    r = _rings(geoms)
    n_polys = len(r.poly_start) - 1
    ext, xy, counts, reflex = _ccw_exteriors(r)
    n_rings_of = np.bincount(r.ring_poly, minlength=n_polys)
    convex_ring = ~reflex & (n_rings_of[r.ring_poly[ext]] == 1) & (counts >= 3)
    poly_ok = np.zeros(n_polys, dtype=bool)
    poly_ok[r.ring_poly[ext[convex_ring]]] = True
    keep_v = np.repeat(convex_ring, counts)
    owner = r.poly_geom[r.ring_poly[ext[convex_ring]]]
    tri_owner = np.zeros(0, dtype=np.intp)
    tri_xy = np.zeros((0, 2))
    tri_counts = np.zeros(0, dtype=np.intp)
    has_area = np.zeros(n_polys, dtype=bool)
    has_area[r.ring_poly[ext]] = True
    bad_poly = np.flatnonzero(~poly_ok & has_area)
    if len(bad_poly):
        bad_geom = np.unique(r.poly_geom[bad_poly])
        polys, p_idx = shapely.get_parts(geoms[bad_geom], return_index=True)
        # get_parts gives a geometry's polygons in order: their global polygon numbers.
        g_first = np.searchsorted(r.poly_geom, bad_geom)
        p_rank = np.arange(len(p_idx)) - np.searchsorted(p_idx, p_idx)
        p_global = g_first[p_idx] + p_rank
        sel = np.isin(p_global, bad_poly)
        polys, p_global = polys[sel], p_global[sel]
        polys = shapely.orient_polygons(shapely.remove_repeated_points(polys),
                                        exterior_cw=False)
        tris, t_idx = _polygon_parts(_triangles(polys))
        nonzero = shapely.area(tris) > 0
        tris, t_idx = shapely.orient_polygons(tris[nonzero], exterior_cw=False), t_idx[nonzero]
        tri_xy, tri_counts = _open_rings(tris)
        tri_owner = r.poly_geom[p_global[t_idx]]
    all_counts = np.concatenate([counts[convex_ring], tri_counts])
    return _ConvexParts(
        owner=np.concatenate([owner, tri_owner]).astype(np.intp),
        xy=np.concatenate([xy[keep_v], tri_xy]),
        offsets=np.concatenate([[0], np.cumsum(all_counts)]).astype(np.intp))


def _clip_moments(verts: FloatArray, piece: IntArray, origin: FloatArray, zones: ZoneIndex,
                  cells: ObjArray) -> FloatArray:
    """Moments (∬ 1, x, x², y, in coordinates relative to ``origin``) of the intersection of
    each convex part ``verts[i]`` (K vertices, counter-clockwise, relative to ``origin[i]``)
    with zone piece ``piece[i]``.

    Green's theorem over the boundary of part ∩ piece: the piece's edges clipped to the part
    (Cyrus–Beck), plus the part's boundary from each point where the piece's boundary leaves
    the part to the next point where it enters — written as cumulative sums G along the
    part's boundary, + G(entry) − G(exit) — plus the whole part when its first vertex lies in
    the piece (crossing parity of a ray). Every in/out decision treats the part as shifted by
    (ε, ε²), so no vertex is ever exactly on an edge.
    """
    n = len(piece)
    out = np.zeros((n, 4))
    if n == 0:
        return out
    vx, vy = verts[:, :, 0], verts[:, :, 1]
    ex = np.roll(vx, -1, axis=1) - vx
    ey = np.roll(vy, -1, axis=1) - vy
    nx, ny = -ey, ex  # inward normals of a counter-clockwise part
    dist = nx * vx + ny * vy
    tie_inside = (nx < 0) | ((nx == 0) & (ny < 0))  # which side a point exactly on it is on
    tri = _tri_moments(vx, vy, np.roll(vx, -1, axis=1), np.roll(vy, -1, axis=1))
    g_cum = np.stack([np.cumsum(m, axis=1) - m for m in tri], axis=-1)  # (n, k, 4)
    whole = np.stack([m.sum(axis=1) for m in tri], axis=-1)  # (n, 4)
    bx0, bx1 = vx.min(axis=1), vx.max(axis=1)
    by0, by1 = vy.min(axis=1), vy.max(axis=1)

    # Where the part's first vertex is, by prepared point-in-polygon; exactly on the cell's
    # boundary, by the perturbed ray parity in _clip_batch (exact=True).
    gx, gy = vx[:, 0] + origin[:, 0], vy[:, 0] + origin[:, 1]
    first_inside = shapely.contains_xy(cells[piece], gx, gy)
    exact = ~first_inside & shapely.intersects_xy(cells[piece], gx, gy)
    out += whole * first_inside[:, None]
    starts = zones.offsets[piece]
    counts = zones.offsets[piece + 1] - starts
    ends = np.cumsum(counts)
    marks = np.arange(_BATCH_EDGES, int(ends[-1]), _BATCH_EDGES)
    cuts = np.unique(np.concatenate([[0, n], np.searchsorted(ends, marks, side="right")]))
    for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        _clip_batch(lo, hi, starts, counts, origin, zones, vx, vy, nx, ny, dist, tie_inside,
                    g_cum, whole, (bx0, bx1, by0, by1), exact, out)
    # A crossing within rounding of the part's first vertex may be put on the last edge or on
    # the first; the two values of G there differ by the whole part. The true area lies in
    # [0, part area], so such a slip (a whole multiple of the part) is taken back out.
    area = whole[:, 0]
    share = out[:, 0] / np.where(area > 0, area, 1.0)
    slip = np.where(share < 0, np.floor(share + 1e-9), np.where(share > 1, np.ceil(share - 1 - 1e-9), 0))
    out -= slip[:, None] * whole
    # The one case that shift cannot be told from the truth: a result of 0 or of the whole
    # part (the piece's boundary through the first vertex, the part touching the piece or
    # inside it). Then the part's centroid, strictly inside it, decides: a line through the
    # centroid of a convex part leaves at least 4/9 of it on each side, so it is never on
    # the piece's boundary when the answer is 0 or the whole part.
    share = out[:, 0] / np.where(area > 0, area, 1.0)
    edge = np.flatnonzero((np.abs(share) < 1e-9) | (np.abs(share - 1.0) < 1e-9))
    if len(edge):
        cx = vx[edge].mean(axis=1) + origin[edge, 0]
        cy = vy[edge].mean(axis=1) + origin[edge, 1]
        inside = shapely.contains_xy(cells[piece[edge]], cx, cy)
        out[edge] = np.where(inside[:, None], whole[edge], 0.0)
    return out


def _clip_batch(lo: int, hi: int, starts: IntArray, counts: IntArray, origin: FloatArray,
                zones: ZoneIndex, vx: FloatArray, vy: FloatArray, nx: FloatArray,
                ny: FloatArray, dist: FloatArray, tie_inside: BoolArray, g_cum: FloatArray,
                whole: FloatArray, box: tuple[FloatArray, ...], exact: BoolArray,
                out: FloatArray) -> None:
    """:func:`_clip_moments` for pairs ``lo:hi``; adds into ``out``."""
    c = counts[lo:hi]
    total = int(c.sum())
    pair = np.repeat(np.arange(lo, hi), c)
    rows = np.arange(total) + np.repeat(starts[lo:hi] - (np.cumsum(c) - c), c)
    e = np.flatnonzero(zones.has_edge[rows])
    ep = pair[e]
    a_row, b_row = rows[e], rows[e] + 1
    xa = zones.xy[a_row, 0] - origin[ep, 0]
    ya = zones.xy[a_row, 1] - origin[ep, 1]
    xb = zones.xy[b_row, 0] - origin[ep, 0]
    yb = zones.xy[b_row, 1] - origin[ep, 1]
    # Is the part's first vertex (shifted by (ε, ε²)) inside the piece? Parity of the edges a
    # ray towards +x crosses; half-open in y, and a vertex exactly on an edge is left of it.
    if exact[lo:hi].any():
        ex_e = np.flatnonzero(exact[ep])
        v0x, v0y = vx[ep[ex_e], 0], vy[ep[ex_e], 0]
        e_xa, e_ya, e_xb, e_yb = xa[ex_e], ya[ex_e], xb[ex_e], yb[ex_e]
        straddle = np.flatnonzero((e_ya > v0y) != (e_yb > v0y))
        s_dy = e_yb[straddle] - e_ya[straddle]
        orient = ((e_xb[straddle] - e_xa[straddle]) * (v0y[straddle] - e_ya[straddle])
                  - s_dy * (v0x[straddle] - e_xa[straddle]))
        hits = np.bincount(ep[ex_e][straddle][orient * s_dy > 0], minlength=len(out))
        out += whole * (hits % 2 == 1)[:, None]

    bx0, bx1, by0, by1 = (b[ep] for b in box)
    near = np.flatnonzero(~((np.maximum(xa, xb) < bx0) | (np.minimum(xa, xb) > bx1)
                            | (np.maximum(ya, yb) < by0) | (np.minimum(ya, yb) > by1)))
    ep, xa, ya, xb, yb = ep[near], xa[near], ya[near], xb[near], yb[near]
    pnx, pny, pd, ptie = nx[ep], ny[ep], dist[ep], tie_inside[ep]
    sa = pnx * xa[:, None] + pny * ya[:, None] - pd
    sb = pnx * xb[:, None] + pny * yb[:, None] - pd
    in_a = (sa > 0) | ((sa == 0) & ptie)
    in_b = (sb > 0) | ((sb == 0) & ptie)
    all_a, all_b = in_a.all(axis=1), in_b.all(axis=1)
    some_out = (~in_a & ~in_b).any(axis=1)

    def add(idx: npt.NDArray[np.intp], moments: tuple[FloatArray, ...], sign: float) -> None:
        for m in range(4):
            out[:, m] += sign * np.bincount(ep[idx], moments[m], len(out))

    inner = np.flatnonzero(all_a & all_b)
    add(inner, _tri_moments(xa[inner], ya[inner], xb[inner], yb[inner]), 1.0)
    cross = np.flatnonzero(~(all_a & all_b) & ~some_out)
    if not len(cross):
        return
    sa, sb, in_a, in_b = sa[cross], sb[cross], in_a[cross], in_b[cross]
    enters, leaves = ~in_a & in_b, in_a & ~in_b
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(enters | leaves, sa / (sa - sb), 0.0)
    t_in = np.where(enters, t, -1.0)
    k_in = t_in.argmax(axis=1)
    t_enter = np.maximum(t_in.max(axis=1), 0.0)
    t_out = np.where(leaves, t, 2.0)
    k_out = t_out.argmin(axis=1)
    t_exit = np.minimum(t_out.min(axis=1), 1.0)
    has_entry, has_exit = ~all_a[cross], ~all_b[cross]
    keep = t_enter <= t_exit
    cross, k_in, k_out = cross[keep], k_in[keep], k_out[keep]
    t_enter, t_exit = t_enter[keep], t_exit[keep]
    has_entry, has_exit = has_entry[keep], has_exit[keep]
    xa, ya, xb, yb = xa[cross], ya[cross], xb[cross], yb[cross]
    dx, dy = xb - xa, yb - ya
    px_in, py_in = xa + t_enter * dx, ya + t_enter * dy
    px_out = np.where(has_exit, xa + t_exit * dx, xb)
    py_out = np.where(has_exit, ya + t_exit * dy, yb)
    add(cross, _tri_moments(px_in, py_in, px_out, py_out), 1.0)
    cp = ep[cross]
    for mask, kk, px, py, sign in ((has_entry, k_in, px_in, py_in, 1.0),
                                   (has_exit, k_out, px_out, py_out, -1.0)):
        sel = np.flatnonzero(mask)
        pp, ks = cp[sel], kk[sel]
        part = _tri_moments(vx[pp, ks], vy[pp, ks], px[sel], py[sel])
        for m in range(4):
            out[:, m] += sign * np.bincount(pp, g_cum[pp, ks, m] + part[m], len(out))


def _pair_moments(feats: ObjArray, pair_feature: npt.NDArray[np.intp], pair_piece: IntArray,
                  origin: FloatArray, zones: ZoneIndex, cells: ObjArray) -> FloatArray:
    """Moments (∬ 1, x, x², y relative to the feature's ``origin``) of feature ∩ piece for
    each pair; ``origin`` is per feature of ``feats``."""
    out = np.zeros((len(pair_feature), 4))
    used, inverse = np.unique(pair_feature, return_inverse=True)
    parts = _convex_parts(feats[used])
    n_parts = np.bincount(parts.owner, minlength=len(used))
    # Expand each pair to (part, piece): parts of one feature are contiguous after sorting.
    order = np.argsort(parts.owner, kind="stable")
    first = np.cumsum(n_parts) - n_parts
    reps = n_parts[inverse]
    pair_of = np.repeat(np.arange(len(pair_feature)), reps)
    part_of = order[np.repeat(first[inverse], reps) + np.arange(len(pair_of))
                    - np.repeat(np.cumsum(reps) - reps, reps)]
    sizes = np.diff(parts.offsets)[part_of]
    for k in np.unique(sizes):
        sel = np.flatnonzero(sizes == k)
        rows = parts.offsets[part_of[sel]][:, None] + np.arange(k)
        org = origin[used[parts.owner[part_of[sel]]]]
        verts = parts.xy[rows] - org[:, None, :]
        moments = _clip_moments(verts, pair_piece[pair_of[sel]], org, zones, cells)
        for m in range(4):
            out[:, m] += np.bincount(pair_of[sel], moments[:, m], len(out))
    return out


def _ellipsoidal_from_moments(moments: FloatArray, origin: FloatArray, crs: CRS) -> FloatArray:
    """Ellipsoidal area ∬ k⁻² dA from planar moments, as in
    :func:`guotu.domain.area._scale_factor_ring_areas` (second-order expansion of k⁻² about
    the region's centroid, radii at the footpoint latitude of its northing)."""
    tm = _transverse_mercator(crs)
    if tm is None:  # pragma: no cover - the caller sends these pairs to GEOS
        raise ValueError("not a Transverse Mercator CRS")
    area0, m1, m2, my = moments.T
    out = np.zeros(len(area0))
    ok = area0 > 0
    if not ok.any():
        return out
    area0, m1, m2, my, org = area0[ok], m1[ok], m2[ok], my[ok], origin[ok]
    cdx, cdy = m1 / area0, my / area0
    m2c = m2 - cdx * m1
    _lon, lat = to_geographic(crs).transform(np.full(len(cdy), tm.false_easting_m),
                                             org[:, 1] + cdy)
    ell, k0 = tm.ellipsoid, tm.scale_factor
    sin_lat = np.sin(np.radians(np.asarray(lat, dtype=np.float64)))
    w = 1.0 - ell.e2 * sin_lat * sin_lat
    nu = ell.a_m / np.sqrt(w)
    rho = ell.a_m * (1.0 - ell.e2) / w**1.5
    eta2 = nu / rho - 1.0
    x = (org[:, 0] + cdx - tm.false_easting_m) / k0
    c2 = 1.0 / (2.0 * rho * nu)
    c4 = (1.0 + 4.0 * eta2) / (24.0 * rho * rho * nu * nu)
    m = 1.0 + c2 * x * x + c4 * x**4
    dm = 2.0 * c2 * x + 4.0 * c4 * x**3
    ddm = 2.0 * c2 + 12.0 * c4 * x * x
    g2 = 3.0 * m**-4.0 * dm * dm - m**-3.0 * ddm
    out[ok] = np.abs(m**-2.0 * area0 + g2 * m2c / (k0 * k0)) / (k0 * k0)
    return out


def _feature_areas(geoms: ObjArray, bounds: FloatArray, crs: CRS) -> FloatArray:
    """Ellipsoidal areas of polygonal features, from their rings' moments with the formula
    of :func:`_ellipsoidal_from_moments`: each value depends on its feature only (the area
    module interpolates footpoint latitudes on a table spanning the whole batch, so its last
    bits depend on which other features share the call — and so on chunks and threads).
    Features wider than the formula allows, or CRSs that are not Transverse Mercator, go to
    :func:`~guotu.domain.area.ellipsoidal_area_m2` one by one."""
    out = np.zeros(len(geoms))
    extent = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    big = ~(extent <= SCALE_FACTOR_MAX_RING_EXTENT_M)
    if _transverse_mercator(crs) is None:
        big[:] = True
    for i in np.flatnonzero(big).tolist():
        out[i] = ellipsoidal_area_m2(geoms[i:i + 1], crs)[0]
    small = np.flatnonzero(~big)
    if not len(small):
        return out
    r = _rings(geoms[small])
    moments, e_ring = _ring_edge_moments(r, np.asarray(bounds[small, :2], dtype=np.float64))
    edge_geom = r.ring_geom[e_ring]
    m: FloatArray = np.stack([np.bincount(edge_geom, mm, len(small)) for mm in moments],
                             axis=1).astype(np.float64)
    out[small] = _ellipsoidal_from_moments(m, bounds[small, :2], crs)
    return out


# -- overlay -------------------------------------------------------------------------------
def _polygonal(geoms: ObjArray) -> ObjArray:
    """The polygonal parts of each geometry, as Polygon/MultiPolygon (empty Polygon if none)."""
    kinds = shapely.get_type_id(geoms)
    bad = np.flatnonzero((kinds != shapely.GeometryType.POLYGON)
                         & (kinds != shapely.GeometryType.MULTIPOLYGON))
    if len(bad):
        geoms = geoms.copy()
        for i in bad.tolist():
            parts, _idx = _polygon_parts(np.array([geoms[i]], dtype=object))
            geoms[i] = (parts[0] if len(parts) == 1 else shapely.multipolygons(parts)
                        if len(parts) else shapely.Polygon())
    return geoms


@dataclass(frozen=True)
class _Chunk:
    left: IntArray
    right: IntArray
    relation: npt.NDArray[np.int8]
    area_m2: FloatArray
    planar_area_m2: FloatArray
    feature_area_m2: FloatArray
    geometry: ObjArray | None


def _group(keys: IntArray) -> tuple[IntArray, npt.NDArray[np.intp]]:
    uniq, inverse = np.unique(keys, return_inverse=True)
    return uniq, inverse.astype(np.intp)


def _overlay_chunk(feats: ObjArray, base: int, zones: ZoneIndex, min_area_m2: float,
                   geometry: bool, prep: _Prepared) -> _Chunk:
    """:func:`overlay` of ``feats`` (positions start at ``base``), with the prepared
    geometries ``prep`` of this thread."""
    nz = np.int64(max(len(zones), 1))
    usable = np.flatnonzero(_usable(feats))
    q_f, q_p = zones.tree.query(feats[usable])
    fi, pi = usable[q_f], q_p.astype(np.int64)
    zi = zones.piece_zone[pi]
    rank = pi - np.searchsorted(zones.piece_zone, zi)  # the piece's rank within its zone
    order = np.lexsort((rank, zi, fi))
    fi, pi, zi = fi[order], pi[order], zi[order]
    fb = shapely.bounds(feats)
    pb = zones.piece_bounds[pi]
    f_box = fb[fi]
    # 1. Features covered by a piece, or by their whole (cut) zone: within, nothing to compute.
    maybe = np.flatnonzero((f_box[:, 0] >= pb[:, 0]) & (f_box[:, 1] >= pb[:, 1])
                           & (f_box[:, 2] <= pb[:, 2]) & (f_box[:, 3] <= pb[:, 3]))
    in_piece = np.zeros(len(fi), dtype=bool)
    in_piece[maybe] = shapely.covers(prep.pieces[pi[maybe]], feats[fi[maybe]])
    keys = fi * nz + zi
    groups, g_of = _group(keys)
    g_f, g_z = groups // nz, groups % nz
    within = np.zeros(len(groups), dtype=bool)
    within[g_of[in_piece]] = True
    cut = np.flatnonzero(~within & (zones.pieces_per_zone[g_z] > 1))
    zb = zones.zone_bounds[g_z[cut]]
    gb = fb[g_f[cut]]
    cut = cut[(gb[:, 0] >= zb[:, 0]) & (gb[:, 1] >= zb[:, 1]) & (gb[:, 2] <= zb[:, 2])
              & (gb[:, 3] <= zb[:, 3])]
    within[cut] = shapely.covers(prep.zones[g_z[cut]], feats[g_f[cut]])
    # 2. The other pairs: drop the disjoint ones; a piece covered by the feature counts whole.
    rest = np.flatnonzero(~within[g_of])
    rest = rest[shapely.intersects(prep.pieces[pi[rest]], feats[fi[rest]])]
    r_box, rp_box = f_box[rest], pb[rest]
    maybe = np.flatnonzero((rp_box[:, 0] >= r_box[:, 0]) & (rp_box[:, 1] >= r_box[:, 1])
                           & (rp_box[:, 2] <= r_box[:, 2]) & (rp_box[:, 3] <= r_box[:, 3]))
    piece_inside = np.zeros(len(rest), dtype=bool)
    piece_inside[maybe] = shapely.covers(feats[fi[rest[maybe]]], zones.pieces[pi[rest[maybe]]])
    whole = rest[piece_inside]
    crossing = rest[~piece_inside]

    # 3. Areas. Features: once each.
    f_used = np.unique(g_f)
    f_ell = np.zeros(len(feats))
    f_planar = np.zeros(len(feats))
    f_ell[f_used] = _feature_areas(feats[f_used], fb[f_used], zones.crs)
    f_planar[f_used] = shapely.area(feats[f_used])
    n_g = len(groups)
    ell: FloatArray = np.where(within, f_ell[g_f], 0.0).astype(np.float64)
    planar: FloatArray = np.where(within, f_planar[g_f], 0.0).astype(np.float64)
    planar += np.bincount(g_of[whole], shapely.area(zones.pieces[pi[whole]]), n_g)
    ell += np.bincount(g_of[whole], zones.piece_area_m2[pi[whole]], n_g)
    n_whole = np.bincount(g_of[whole], minlength=n_g)
    relation = np.full(n_g, _OVERLAPS, dtype=np.int8)
    relation[(n_whole == zones.pieces_per_zone[g_z]) & ~within] = _CONTAINS
    relation[within] = _WITHIN
    n_cross = np.bincount(g_of[crossing], minlength=n_g)
    g_geom: ObjArray | None = None
    if geometry:
        # The intersections by GEOS, their areas from their own rings.
        g_geom = np.empty(n_g, dtype=object)
        g_geom[within] = feats[g_f[within]]
        cont = relation == _CONTAINS
        g_geom[cont] = zones.zones[g_z[cont]]
        over = (relation == _OVERLAPS) & (n_cross > 0)
        # A convex feature crossing one piece of the zone: clipped in numpy.
        single = np.flatnonzero(over & (n_cross == 1) & (n_whole == 0))
        one_piece = np.zeros(n_g, dtype=np.int64)
        one_piece[g_of[crossing]] = pi[crossing]
        c_geom, c_planar, c_ell, c_done = _convex_intersections(
            feats, zones, g_f[single], one_piece[single], zones.crs)
        done = single[c_done]
        g_geom[done] = c_geom[c_done]
        planar[done] = c_planar[c_done]
        ell[done] = c_ell[c_done]
        over[done] = False
        over = np.flatnonzero(over)
        inter = _intersections(feats, zones, g_f[over], g_z[over], over, g_of[crossing],
                               pi[crossing], n_whole)
        g_geom[over] = inter
        planar[over] = shapely.area(inter)
        ell[over] = _polygonal_areas(inter, zones.crs)
        # Groups of only whole pieces (not all of the zone's) keep the pieces' sums.
        part = np.flatnonzero((relation == _OVERLAPS) & (n_cross == 0) & (n_whole > 0))
        if len(part):
            g_geom[part] = _intersections(feats, zones, g_f[part], g_z[part], part,
                                          g_of[crossing], pi[crossing], n_whole)
    else:
        _kernel_areas(feats, fb, zones, prep, fi, pi, g_f, g_of, crossing, ell, planar)
    keep = np.flatnonzero((ell > min_area_m2) & (planar > _NOISE_SHARE * f_planar[g_f]))
    geoms = None if g_geom is None else g_geom[keep]
    return _Chunk(left=(g_f[keep] + base).astype(np.int64), right=g_z[keep].astype(np.int64),
                  relation=relation[keep], area_m2=ell[keep], planar_area_m2=planar[keep],
                  feature_area_m2=f_ell[g_f[keep]], geometry=geoms)


def _polygonal_areas(geoms: ObjArray, crs: CRS) -> FloatArray:
    """Ellipsoidal areas of polygonal geometries (0 for empty ones)."""
    out = np.zeros(len(geoms))
    ok = np.flatnonzero(~shapely.is_empty(geoms))
    if len(ok):
        out[ok] = _feature_areas(geoms[ok], shapely.bounds(geoms[ok]), crs)
    return out


def _kernel_areas(feats: ObjArray, fb: FloatArray, zones: ZoneIndex, prep: _Prepared,
                  fi: IntArray, pi: IntArray, g_f: IntArray, g_of: npt.NDArray[np.intp],
                  crossing: npt.NDArray[np.intp], ell: FloatArray, planar: FloatArray) -> None:
    """Adds the areas of the crossing pairs (feature ``fi``, piece ``pi``) to their groups'
    ``ell`` and ``planar``: the clipping kernel, or GEOS + the area module for features too
    big for the moment formula (or CRSs that are not TM)."""
    n_g = len(ell)
    big = (fb[fi[crossing], 2] - fb[fi[crossing], 0] > SCALE_FACTOR_MAX_RING_EXTENT_M) | (
        fb[fi[crossing], 3] - fb[fi[crossing], 1] > SCALE_FACTOR_MAX_RING_EXTENT_M)
    if _transverse_mercator(zones.crs) is None:
        big[:] = True
    pair_geom: ObjArray | None = None
    if big.any():
        pair_geom = shapely.intersection(feats[fi[crossing[big]]], zones.pieces[pi[crossing[big]]])
    if pair_geom is not None:
        cb = crossing[big]
        planar += np.bincount(g_of[cb], shapely.area(pair_geom), n_g)
        ell += np.bincount(g_of[cb], ellipsoidal_area_m2(pair_geom, zones.crs), n_g)
    small = crossing[~big]
    if len(small):
        origin: FloatArray = np.asarray(fb[:, :2], dtype=np.float64)
        # The cells of each crossing piece that reach the feature's box, in an order that
        # depends on the zone's own geometry only (sums then do not depend on input order).
        sf, sp = fi[small], pi[small]
        u_f = np.unique(sf)
        c_q, c_c = zones.cell_tree.query(feats[u_f])
        c_f = u_f[c_q]
        c_piece = zones.cell_piece[c_c]
        n_pieces = np.int64(len(zones.pieces))
        pair_key = sf * n_pieces + sp
        by_key = np.argsort(pair_key)
        cell_key = c_f * n_pieces + c_piece
        pos = np.minimum(np.searchsorted(pair_key[by_key], cell_key), len(by_key) - 1)
        hit = np.flatnonzero(pair_key[by_key][pos] == cell_key)
        c_f, c_c, slot = c_f[hit], c_c[hit], by_key[pos[hit]]
        c_zone = zones.piece_zone[zones.cell_piece[c_c]]
        c_rank = c_c - np.searchsorted(zones.piece_zone[zones.cell_piece], c_zone)
        order = np.lexsort((c_rank, c_zone, c_f))
        c_f, c_c, slot = c_f[order], c_c[order], slot[order]
        cell_moments = _pair_moments(feats, c_f, c_c, origin, zones, prep.cells)
        moments = np.stack([np.bincount(slot, cell_moments[:, m], len(small))
                            for m in range(4)], axis=1)
        g_small, g_inv = _group(g_of[small])
        g_mom: FloatArray = np.stack(
            [np.bincount(g_inv, moments[:, m], len(g_small)) for m in range(4)], axis=1
        ).astype(np.float64)
        planar[g_small] += g_mom[:, 0]
        ell[g_small] += _ellipsoidal_from_moments(g_mom, origin[g_f[g_small]], zones.crs)


def _clip_convex(s_xy: FloatArray, s_row: npt.NDArray[np.intp], c_xy: FloatArray,
                 c_off: npt.NDArray[np.intp], n: int) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Sutherland–Hodgman: for each row i < n, the subject ring (the vertices ``s_xy`` of row
    i, open, rows contiguous) clipped to the convex counter-clockwise ring
    ``c_xy[c_off[i]:c_off[i + 1]]``. Returns the clipped vertices and their rows. Its
    signed area is that of subject ∩ clip, whatever the subject's shape; its ring is the
    intersection's boundary whenever that intersection is one simple polygon."""
    c_cnt = np.diff(c_off)
    # Rows by decreasing clip size: at stage k the rows still clipped are a prefix, and so
    # are their vertices (rows stay contiguous); the finished rest is set aside.
    order = np.argsort(-c_cnt, kind="stable")
    rank = np.empty(n, dtype=np.intp)
    rank[order] = np.arange(n)
    s_row = rank[s_row]
    by_row = np.argsort(s_row, kind="stable")
    s_xy, s_row = s_xy[by_row], s_row[by_row]
    cnt_sorted = c_cnt[order]
    start = c_off[:-1][order]
    done_xy: list[FloatArray] = []
    done_row: list[npt.NDArray[np.intp]] = []
    for k in range(int(c_cnt.max(initial=0))):
        m = int(np.searchsorted(-cnt_sorted, -k, side="left"))  # rows with more than k
        cut = int(np.searchsorted(s_row, m))
        done_xy.append(s_xy[cut:])
        done_row.append(s_row[cut:])
        s_xy, s_row = s_xy[:cut], s_row[:cut]
        if not cut:
            break
        a = c_xy[start[:m] + k]
        b = c_xy[start[:m] + (k + 1) % cnt_sorted[:m]]
        ex, ey = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
        d = ex * a[:, 1] - ey * a[:, 0]
        side = ex[s_row] * s_xy[:, 1] - ey[s_row] * s_xy[:, 0] - d[s_row]
        last = np.empty(len(s_row), dtype=bool)
        last[:-1] = s_row[1:] != s_row[:-1]
        last[-1] = True
        first = np.empty(len(s_row), dtype=bool)
        first[1:] = last[:-1]
        first[0] = True
        nxt = np.arange(1, len(s_row) + 1)
        nxt[last] = np.flatnonzero(first)
        inside = side >= 0
        cross = inside != inside[nxt]
        emit = inside.astype(np.intp) + cross
        pos = np.cumsum(emit) - emit
        out = np.empty((int(emit.sum()), 2))
        row = np.empty(len(out), dtype=np.intp)
        out[pos[inside]] = s_xy[inside]
        row[pos[inside]] = s_row[inside]
        c = np.flatnonzero(cross)
        t = side[c] / (side[c] - side[nxt[c]])
        at = pos[c] + inside[c]
        out[at] = s_xy[c] + t[:, None] * (s_xy[nxt[c]] - s_xy[c])
        row[at] = s_row[c]
        s_xy, s_row = out, row
    done_xy.append(s_xy)
    done_row.append(s_row)
    xy = np.concatenate(done_xy[::-1])
    rows = order[np.concatenate(done_row[::-1])]
    back = np.argsort(rows, kind="stable")
    return xy[back], rows[back]


def _convex_intersections(feats: ObjArray, zones: ZoneIndex, f: IntArray, piece: IntArray,
                          crs: CRS) -> tuple[ObjArray, FloatArray, FloatArray, BoolArray]:
    """Intersections of convex features ``f`` (Polygons without holes) with zone pieces
    without holes, by :func:`_clip_convex`: geometries, planar and ellipsoidal areas, and
    whether each was done (else the caller asks GEOS: the result was not one valid polygon,
    or the feature is too big for the moment formula)."""
    n = len(f)
    geoms = np.empty(n, dtype=object)
    planar, ell = np.zeros(n), np.zeros(n)
    done = np.zeros(n, dtype=bool)
    fr = _rings(feats[f])
    ext, c_xy, c_counts, reflex = _ccw_exteriors(fr)
    one_ring = np.bincount(fr.ring_geom, minlength=n) == 1
    ok = np.zeros(n, dtype=bool)
    good = ~reflex & (c_counts >= 3)
    ok[fr.ring_geom[ext[good]]] = True
    ok &= one_ring & ~zones.piece_has_hole[piece]
    fb = shapely.bounds(feats[f])
    ok &= np.maximum(fb[:, 2] - fb[:, 0], fb[:, 3] - fb[:, 1]) <= SCALE_FACTOR_MAX_RING_EXTENT_M
    if _transverse_mercator(crs) is None or not ok.any():
        return geoms, planar, ell, done
    rows = np.flatnonzero(ok)
    origin = np.asarray(fb[rows, :2], dtype=np.float64)
    # clip rings of the chosen rows, in row order
    ring_of_geom = np.full(n, -1, dtype=np.intp)
    ring_of_geom[fr.ring_geom[ext]] = np.arange(len(ext))
    r_ids = ring_of_geom[rows]
    c_begin = np.cumsum(c_counts) - c_counts
    cc = c_counts[r_ids]
    c_rows = np.repeat(c_begin[r_ids], cc) + np.arange(int(cc.sum())) - np.repeat(
        np.cumsum(cc) - cc, cc)
    c_off = np.concatenate([[0], np.cumsum(cc)]).astype(np.intp)
    c_loc = c_xy[c_rows] - np.repeat(origin, cc, axis=0)
    p = piece[rows]
    sc = (zones.piece_offsets[p + 1] - zones.piece_offsets[p]).astype(np.intp)
    s_rows = np.repeat(zones.piece_offsets[p], sc) + np.arange(int(sc.sum())) - np.repeat(
        np.cumsum(sc) - sc, sc)
    s_row = np.repeat(np.arange(len(rows)), sc)
    s_loc = zones.piece_xy[s_rows] - origin[s_row]
    xy, row = _clip_convex(s_loc, s_row, c_loc, c_off, len(rows))
    cnt = np.bincount(row, minlength=len(rows))
    begin = np.cumsum(cnt) - cnt
    nxt = np.arange(len(row)) + 1
    nxt[(begin + cnt - 1)[cnt > 0]] = begin[cnt > 0]
    mom = _tri_moments(xy[:, 0], xy[:, 1], xy[nxt, 0], xy[nxt, 1])
    m = np.stack([np.bincount(row, mm, len(rows)) for mm in mom], axis=1)
    m *= np.where(m[:, :1] < 0, -1.0, 1.0)
    f_area = shapely.area(feats[f[rows]])
    empty = m[:, 0] <= _NOISE_SHARE * f_area
    build = np.flatnonzero(~empty & (cnt >= 3))
    keep_v = np.isin(row, build)
    rank = np.full(len(rows), -1, dtype=np.intp)
    rank[build] = np.arange(len(build))
    built = np.empty(len(build), dtype=object)
    if len(build):
        built[:] = shapely.polygons(shapely.linearrings(xy[keep_v] + origin[row[keep_v]],
                                                        indices=rank[row[keep_v]]))
    valid = np.asarray(shapely.is_valid(built), dtype=bool)
    got = rows[build[valid]]
    geoms[got] = built[valid]
    planar[got] = m[build[valid], 0]
    ell[got] = _ellipsoidal_from_moments(m[build[valid]], origin[build[valid]], crs)
    done[got] = True
    gone = rows[empty]
    geoms[gone] = shapely.Polygon()
    done[gone] = True
    return geoms, planar, ell, done


def _intersections(feats: ObjArray, zones: ZoneIndex, g_f: IntArray, g_z: IntArray,
                   groups: IntArray, cross_group: npt.NDArray[np.intp], cross_piece: IntArray,
                   n_whole: IntArray) -> ObjArray:
    """Intersection geometries of (feature, zone) groups: with the one piece the feature
    crosses, or else with the zone clipped to the feature's box (``clip_by_rect``, linear and
    without noding), which equals the union of its pieces' intersections, in one overlay."""
    out = np.empty(len(groups), dtype=object)
    n_cross = np.bincount(cross_group, minlength=len(n_whole))
    single = (n_cross[groups] == 1) & (n_whole[groups] == 0)
    first = np.full(len(n_whole), -1, dtype=np.int64)
    first[cross_group[::-1]] = cross_piece[::-1]
    one = np.flatnonzero(single)
    out[one] = shapely.intersection(feats[g_f[one]], zones.pieces[first[groups[one]]])
    many = np.flatnonzero(~single)
    if len(many):
        boxes = shapely.bounds(feats[g_f[many]]).tolist()
        clipped = np.empty(len(many), dtype=object)
        clipped[:] = [shapely.clip_by_rect(z, *b)
                      for z, b in zip(zones.zones[g_z[many]], boxes, strict=True)]
        out[many] = shapely.intersection(feats[g_f[many]], clipped)
    return _polygonal(out)


def _chunks(n: int, workers: int | None) -> tuple[int, list[tuple[int, int]]]:
    """Thread count and feature ranges: a few chunks per thread, for balance."""
    threads = (os.cpu_count() or 1) if workers is None else max(1, workers)
    if n < PARALLEL_MIN_FEATURES:
        threads = 1
    pieces = 1 if threads == 1 else threads * 4
    edges = np.linspace(0, n, pieces + 1).astype(int)
    return threads, [(int(a), int(b)) for a, b in itertools.pairwise(edges.tolist())]


def _map(threads: int, fn: Callable[[tuple[int, int], int], _Chunk],
         ranges: list[tuple[int, int]]) -> list[_Chunk]:
    """``fn(range, thread)`` over ``ranges``; thread t runs ranges t, t + threads … in turn."""
    if threads == 1:
        return [fn(r, 0) for r in ranges]

    def task(t: int) -> list[_Chunk]:
        return [fn(r, t) for r in ranges[t::threads]]

    with ThreadPoolExecutor(threads) as pool:
        done = list(pool.map(task, range(threads)))
    return [done[i % threads][i // threads] for i in range(len(ranges))]


def overlay(features: ObjArray, zones: ZoneIndex, *, min_area_m2: float = 0.0,
            geometry: bool = True, workers: int | None = None) -> OverlayResult:
    """Every (feature, zone) pair whose intersection has ellipsoidal area > ``min_area_m2``.

    Parameters
    ----------
    features
        Valid polygonal geometries in the CRS of ``zones``; missing or empty ones are skipped.
    zones
        The zones, from :func:`prepare_zones`.
    min_area_m2
        Pairs whose intersection is not larger than this (ellipsoidal, m²) are dropped;
        pairs that only touch are always dropped.
    geometry
        ``False``: the area-only path for statistics, the same pairs and areas without the
        intersection geometries (much faster).
    workers
        Threads (``None``: one per CPU; one for small inputs). Results do not depend on it.

    Examples
    --------
    >>> crs = CRS.from_epsg(4527)
    >>> zones = prepare_zones(np.array([shapely.box(39_540_000, 4_052_000, 39_540_100,
    ...                                             4_052_100)]), crs)
    >>> parcels = np.array([shapely.box(39_540_050, 4_052_000, 39_540_150, 4_052_100),
    ...                     shapely.box(39_540_010, 4_052_010, 39_540_020, 4_052_020)])
    >>> r = overlay(parcels, zones)
    >>> r.left.tolist(), r.relation.tolist(), r.planar_area_m2.round(6).tolist()
    ([0, 1], ['overlaps', 'within'], [5000.0, 100.0])
    >>> bool(abs(r.area_m2[0] - ellipsoidal_area_m2(r.geometry[:1], crs)[0]) < 1e-6)
    True
    """
    feats = np.asarray(features, dtype=object).reshape(-1)
    threads, ranges = _chunks(len(feats), workers)
    threads = min(threads, len(zones.replicas))
    chunks = _map(threads, lambda r, t: _overlay_chunk(feats[r[0]:r[1]], r[0], zones,
                                                       min_area_m2, geometry,
                                                       zones.replicas[t]), ranges)
    left = np.concatenate([c.left for c in chunks])
    right = np.concatenate([c.right for c in chunks])
    order = np.lexsort((right, left))
    geoms = (np.concatenate([c.geometry for c in chunks if c.geometry is not None])[order]
             if geometry else None)
    return OverlayResult(
        left=left[order], right=right[order],
        relation=_RELATIONS[np.concatenate([c.relation for c in chunks])[order]],
        area_m2=np.concatenate([c.area_m2 for c in chunks])[order],
        planar_area_m2=np.concatenate([c.planar_area_m2 for c in chunks])[order],
        geometry=geoms,
        feature_area_m2=np.concatenate([c.feature_area_m2 for c in chunks])[order],
        zone_area_m2=zones.zone_area_m2[right[order]])


def line_overlay(lines: ObjArray, zones: ZoneIndex) -> LineOverlayResult:
    """The part of each line inside each zone (planar length > 0), sorted by (left, right).

    For routes of special plans (专项规划): few features, computed directly with GEOS.

    Examples
    --------
    >>> zones = prepare_zones(np.array([shapely.box(0, 0, 10, 10)]), CRS.from_epsg(4527))
    >>> r = line_overlay(np.array([shapely.LineString([(-5, 5), (20, 5)])]), zones)
    >>> r.left.tolist(), r.right.tolist(), r.length_m.tolist()
    ([0], [0], [10.0])
    """
    arr = np.asarray(lines, dtype=object).reshape(-1)
    usable = np.flatnonzero(_usable(arr))
    q_l, q_p = zones.tree.query(arr[usable], predicate="intersects")
    li, zi = usable[q_l], zones.piece_zone[q_p]
    pairs = np.unique(np.stack([li, zi], axis=1), axis=0).reshape(-1, 2)
    li, zi = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    inter = shapely.intersection(arr[li], zones.zones[zi])
    parts, idx = shapely.get_parts(inter, return_index=True)
    linear = np.isin(shapely.get_type_id(parts), [shapely.GeometryType.LINESTRING,
                                                  shapely.GeometryType.MULTILINESTRING])
    geom = np.empty(len(li), dtype=object)
    geom[:] = [shapely.line_merge(shapely.multilinestrings(parts[linear][idx[linear] == i]))
               for i in range(len(li))]
    length = shapely.length(geom)
    keep = length > 0
    return LineOverlayResult(left=li[keep], right=zi[keep], length_m=length[keep],
                             geometry=geom[keep])
