"""Spatial overlay kernel of plan review (规划审查叠加分析): features × zones, with areas.

:func:`prepare_zones` indexes zone polygons (红线, 永久基本农田, 城镇开发边界 …) once; :func:`overlay`
then reports every (feature, zone) pair whose intersection has a positive ellipsoidal area,
with the relation, the areas and, unless ``geometry=False``, the intersection itself.

How the work is kept small:

1. Zones are cut into pieces of at most ``max_vertices`` vertices along axis-parallel lines
   (like PostGIS ``ST_Subdivide``); the pieces partition the zone, so areas add up over them.
   An STRtree over the pieces gives the candidate pairs.
2. Geometry path: a feature covered by a piece, or by its whole zone (prepared ``covers``),
   is ``within``: its intersection is the feature itself, nothing is computed. A piece
   covered by the feature contributes the whole piece. Only pieces crossing the feature's
   boundary are left.
3. For those, the geometry path builds the intersection and measures it (ellipsoidal area
   from its rings' moments, compiled). A convex feature is clipped by compiled
   Sutherland–Hodgman (:func:`~guotu.domain.clipping_jit.clip_rings_convex`) against the
   one piece it crosses, or else the block of its zone that holds its box (zones of many
   vertices are cut into overlapping blocks, :func:`_zone_blocks`), or else the whole zone;
   the result is kept when it is one valid polygon. The others go to GEOS: with the one
   piece the feature crosses, or with the zone (or its block) clipped to the feature's box.
4. The area-only path (``geometry=False``) never builds an intersection and asks GEOS no
   predicate first: an exact clipping kernel (compiled,
   :func:`~guotu.domain.clipping_jit.clip_pairs`; the numpy
   :func:`~guotu.domain.clipping._clip_moments` is its reference) takes every (feature,
   cell) pair whose boxes meet (cells: the pieces cut further). It splits each feature into
   convex parts (itself when convex, else ear triangles merged back into convex pieces, or
   constrained Delaunay triangles when it has holes), clips each cell edge to each part
   (Cyrus–Beck), and Green's theorem sums the clipped edges, the parts of the feature's
   boundary between where the cell's boundary enters and leaves it, and the feature's
   whole boundary when its first vertex lies in the cell. Ties (a vertex exactly on an
   edge, shared edges) are broken as if the feature were shifted by an infinitesimal
   (ε, ε²) — a symbolic perturbation, so touching pairs give 0 and shared edges count once.
   The same pass gives the planar moments the ellipsoidal area needs (∬ k⁻² dA,
   :mod:`guotu.domain.area`), and tells whether an edge of the zone's own boundary (not a
   cut) meets the feature in a segment. A feature whose pieces hold all of its area
   (within 1e-9) and that no boundary edge meets is ``within``; where a boundary edge does
   meet it (it runs along the feature's edges) prepared ``covers`` decides, as it does
   whether a zone whose whole area the feature holds lies inside it (``contains``). Areas
   of those relations are the feature's or the zone's own, as on the geometry path. The
   two paths give the same pairs and relations and agree to 1e-9 relative, or to ~1e-7 m²
   on slivers (GEOS rounds the vertices it creates).

Work is split over threads by chunks of features (GEOS and numpy release the GIL); results
are sorted by (feature, zone) and do not depend on the input order or on ``workers``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from guotu.domain.area import (
    SCALE_FACTOR_MAX_RING_EXTENT_M,
    _transverse_mercator,
)
from guotu.domain.clipping import (
    _Rings,
    ccw_exteriors,
    ellipsoidal_from_moments,
    feature_areas,
    geometry_moments,
    pair_moments,
    polygonal,
    ring_arrays,
    ring_subset,
    unique_sorted,
)
from guotu.domain.clipping_jit import HAVE_NUMBA, clip_rings_convex
from guotu.domain.zone_index import (
    ZoneIndex,
    _block_of,
    _clip_zones,
    _Prepared,
    _usable,
    prepare_zones,
)

__all__ = [
    "LineOverlayResult",
    "OverlayResult",
    "ZoneIndex",
    "line_overlay",
    "overlay",
    "prepare_zones",
    "warm_up",
]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Inputs with fewer features than this run on one thread.
PARALLEL_MIN_FEATURES = 4_000
#: Intersections smaller than this share of the feature's planar area are rounding noise of
#: touching boundaries, not overlaps.
_NOISE_SHARE = 1e-11
#: The area-only path takes the kernel's area of a (feature, zone) pair as the whole feature
#: (or zone) within this share of it; then it decides whether the feature is within.
_SAME_AREA = 1e-9

_RELATIONS = np.array(["within", "contains", "overlaps"])
_WITHIN, _CONTAINS, _OVERLAPS = 0, 1, 2


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


# -- overlay -------------------------------------------------------------------------------


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
    """The distinct keys, sorted, and each key's position among them (``np.unique``; in one
    linear pass when the keys come sorted, as they mostly do here)."""
    uniq, inverse = unique_sorted(keys)
    return uniq.astype(np.int64, copy=False), inverse


def _overlay_chunk(
    feats: ObjArray,
    base: int,
    zones: ZoneIndex,
    min_area_m2: float,
    geometry: bool,
    prep: _Prepared,
) -> _Chunk:
    """:func:`overlay` of ``feats`` (positions start at ``base``), with the prepared
    geometries ``prep`` of this thread. The area-only path sends the features the moment
    formula cannot take (too big, or a CRS that is not Transverse Mercator) to the geometry
    path and drops their geometries."""
    if geometry:
        return _geometry_chunk(feats, base, zones, min_area_m2, prep)
    use = _usable(feats)
    fb = shapely.bounds(feats)
    if _transverse_mercator(zones.crs) is None:
        use[:] = False
    else:
        use &= (
            np.maximum(fb[:, 2] - fb[:, 0], fb[:, 3] - fb[:, 1]) <= SCALE_FACTOR_MAX_RING_EXTENT_M
        )
    if use.all():
        return _area_chunk(feats, fb, base, zones, min_area_m2, prep, np.arange(len(feats)))
    rest = feats.copy()
    rest[use] = None
    parts = [
        _area_chunk(feats, fb, base, zones, min_area_m2, prep, np.flatnonzero(use)),
        _geometry_chunk(rest, base, zones, min_area_m2, prep),
    ]
    return _Chunk(
        **{
            f: np.concatenate([getattr(c, f) for c in parts])
            for f in ("left", "right", "relation", "area_m2", "planar_area_m2", "feature_area_m2")
        },
        geometry=None,
    )


def _geometry_chunk(
    feats: ObjArray, base: int, zones: ZoneIndex, min_area_m2: float, prep: _Prepared
) -> _Chunk:
    """The geometry path of :func:`_overlay_chunk`."""
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
    maybe = np.flatnonzero(
        (f_box[:, 0] >= pb[:, 0])
        & (f_box[:, 1] >= pb[:, 1])
        & (f_box[:, 2] <= pb[:, 2])
        & (f_box[:, 3] <= pb[:, 3])
    )
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
    cut = cut[
        (gb[:, 0] >= zb[:, 0])
        & (gb[:, 1] >= zb[:, 1])
        & (gb[:, 2] <= zb[:, 2])
        & (gb[:, 3] <= zb[:, 3])
    ]
    within[cut] = shapely.covers(prep.zones[g_z[cut]], feats[g_f[cut]])
    # 2. The other pairs: drop the disjoint ones; a piece covered by the feature counts whole.
    rest = np.flatnonzero(~within[g_of])
    rest = rest[shapely.intersects(prep.pieces[pi[rest]], feats[fi[rest]])]
    r_box, rp_box = f_box[rest], pb[rest]
    maybe = np.flatnonzero(
        (rp_box[:, 0] >= r_box[:, 0])
        & (rp_box[:, 1] >= r_box[:, 1])
        & (rp_box[:, 2] <= r_box[:, 2])
        & (rp_box[:, 3] <= r_box[:, 3])
    )
    piece_inside = np.zeros(len(rest), dtype=bool)
    piece_inside[maybe] = shapely.covers(feats[fi[rest[maybe]]], zones.pieces[pi[rest[maybe]]])
    whole = rest[piece_inside]
    crossing = rest[~piece_inside]

    # 3. Areas. Features: once each.
    f_used = unique_sorted(g_f)[0]
    f_ell = np.zeros(len(feats))
    f_planar = np.zeros(len(feats))
    f_rings = ring_arrays(feats[f_used])
    f_ell[f_used] = feature_areas(feats[f_used], fb[f_used], zones.crs, f_rings)
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
    # The intersections by GEOS, their areas from their own rings.
    g_geom = np.empty(n_g, dtype=object)
    g_geom[within] = feats[g_f[within]]
    cont = relation == _CONTAINS
    g_geom[cont] = zones.zones[g_z[cont]]
    # The rest: a convex feature is clipped (compiled) against the one piece it crosses,
    # or the block holding its box, or the whole zone; GEOS does what that leaves.
    todo = np.flatnonzero((relation == _OVERLAPS) & ((n_cross > 0) | (n_whole > 0)))
    single = (n_cross[todo] == 1) & (n_whole[todo] == 0)
    one_piece = np.zeros(n_g, dtype=np.int64)
    one_piece[g_of[crossing]] = pi[crossing]
    t_z = g_z[todo]
    source = t_z.copy()
    block = _block_of(zones, t_z, fb[g_f[todo]])
    n_zones, n_pieces = len(zones.zones), len(zones.pieces)
    source[block >= 0] = n_zones + n_pieces + block[block >= 0]
    source[single] = n_zones + one_piece[todo[single]]
    c_geom, c_planar, c_ell, c_done = _convex_intersections(
        feats, zones, g_f[todo], source, zones.crs, (f_used, f_rings)
    )
    done = todo[c_done]
    g_geom[done] = c_geom[c_done]
    planar[done] = c_planar[c_done]
    ell[done] = c_ell[c_done]
    left = todo[~c_done]
    inter = _intersections(
        feats, zones, g_f[left], g_z[left], left, g_of[crossing], pi[crossing], n_whole
    )
    g_geom[left] = inter
    planar[left] = shapely.area(inter)
    ell[left] = _polygonal_areas(inter, zones.crs)
    keep = np.flatnonzero((ell > min_area_m2) & (planar > _NOISE_SHARE * f_planar[g_f]))
    return _Chunk(
        left=(g_f[keep] + base).astype(np.int64),
        right=g_z[keep].astype(np.int64),
        relation=relation[keep],
        area_m2=ell[keep],
        planar_area_m2=planar[keep],
        feature_area_m2=f_ell[g_f[keep]],
        geometry=g_geom[keep],
    )


def _polygonal_areas(geoms: ObjArray, crs: CRS) -> FloatArray:
    """Ellipsoidal areas of polygonal geometries (0 for empty ones)."""
    out = np.zeros(len(geoms))
    ok = np.flatnonzero(~shapely.is_empty(geoms))
    if len(ok):
        out[ok] = feature_areas(geoms[ok], shapely.bounds(geoms[ok]), crs)
    return out


def _area_chunk(
    feats: ObjArray,
    fb: FloatArray,
    base: int,
    zones: ZoneIndex,
    min_area_m2: float,
    prep: _Prepared,
    use: IntArray,
) -> _Chunk:
    """The area-only path of :func:`_overlay_chunk` for the features ``use`` (usable, and
    small enough for the moment formula): no predicate first, the clipping kernel takes
    every (feature, cell) pair whose boxes meet. A feature is within its zone when the
    zone's own boundary passes through none of its parts and the cells hold all of its
    area; it may be within when the boundary only runs along its edges, and GEOS
    (prepared ``covers``) decides those, as it does whether a zone that the feature holds
    all of is inside it. ``fb``: the features' bounds."""
    nz = np.int64(max(len(zones), 1))
    q_f, c_c = zones.cell_tree.query(feats[use])
    # Cells are numbered zone by zone: sorted by (feature, cell), the pairs come grouped by
    # (feature, zone), and each group's sum runs in an order fixed by the zone alone.
    key = use[q_f].astype(np.int64) * np.int64(len(zones.cells)) + c_c
    key.sort()
    c_f, c_c = key // len(zones.cells), key % len(zones.cells)
    c_z = zones.piece_zone[zones.cell_piece[c_c]]
    origin: FloatArray = np.ascontiguousarray(fb[:, :2], dtype=np.float64)
    f_used = unique_sorted(c_f)[0]
    f_rings = ring_arrays(feats[f_used])
    moments, crossed = pair_moments(
        feats, c_f, c_c, origin, zones, prep.cells, known=(f_used, f_rings)
    )
    groups, g_of = _group(c_f * nz + c_z)
    g_f, g_z = groups // nz, groups % nz
    n_g = len(groups)
    g_mom: FloatArray = np.stack(
        [np.bincount(g_of, moments[:, m], n_g) for m in range(4)], axis=1
    ).astype(np.float64)
    g_crossed = np.bincount(g_of, crossed, n_g) > 0
    # The features' own areas from their rings, as feature_areas has them.
    f_mom = geometry_moments(f_rings, origin[f_used], len(f_used))
    f_ell = np.zeros(len(feats))
    f_planar = np.zeros(len(feats))
    f_ell[f_used] = ellipsoidal_from_moments(f_mom, origin[f_used], zones.crs)
    f_planar[f_used] = f_mom[:, 0]
    planar = g_mom[:, 0].copy()
    ell = ellipsoidal_from_moments(g_mom, origin[g_f], zones.crs)
    fp = f_planar[g_f]
    full = np.abs(planar - fp) <= _SAME_AREA * fp
    within = full & ~g_crossed
    ask = np.flatnonzero(full & g_crossed)
    within[ask] = shapely.covers(prep.zones[g_z[ask]], feats[g_f[ask]])
    zp = zones.zone_planar_m2[g_z]
    contains = np.zeros(n_g, dtype=bool)
    ask = np.flatnonzero(~within & (np.abs(planar - zp) <= _SAME_AREA * zp))
    contains[ask] = shapely.covers(feats[g_f[ask]], prep.zones[g_z[ask]])
    relation = np.full(n_g, _OVERLAPS, dtype=np.int8)
    relation[contains] = _CONTAINS
    relation[within] = _WITHIN
    # As the geometry path has them: a feature within counts whole, a zone inside whole.
    ell[within], planar[within] = f_ell[g_f[within]], fp[within]
    ell[contains] = zones.zone_area_m2[g_z[contains]]
    planar[contains] = zp[contains]
    keep = np.flatnonzero((ell > min_area_m2) & (planar > _NOISE_SHARE * fp))
    return _Chunk(
        left=(g_f[keep] + base).astype(np.int64),
        right=g_z[keep].astype(np.int64),
        relation=relation[keep],
        area_m2=ell[keep],
        planar_area_m2=planar[keep],
        feature_area_m2=f_ell[g_f[keep]],
        geometry=None,
    )


def _convex_intersections(
    feats: ObjArray,
    zones: ZoneIndex,
    f: IntArray,
    source: IntArray,
    crs: CRS,
    known: tuple[npt.NDArray[np.integer], _Rings] | None = None,
) -> tuple[ObjArray, FloatArray, FloatArray, BoolArray]:
    """Intersections of features ``f`` with zone sources ``source`` (see :class:`ZoneIndex`)
    by the compiled Sutherland–Hodgman clipping (:func:`clip_rings_convex`) of the source's
    rings to the feature, for convex features (Polygons without holes): geometries, planar
    and ellipsoidal areas, and whether each was done — else the caller asks GEOS (the result
    was not one valid polygon without holes, the feature is not convex or too big for the
    moment formula, or numba is missing). ``known``: sorted feature positions holding all of
    ``f`` and their :func:`ring_arrays`, when the caller has read them already."""
    n = len(f)
    geoms = np.empty(n, dtype=object)
    planar, ell = np.zeros(n), np.zeros(n)
    done = np.zeros(n, dtype=bool)
    if not n or not HAVE_NUMBA or _transverse_mercator(crs) is None:
        return geoms, planar, ell, done
    # Each feature once (one may meet several zones), its exterior ring normalized.
    u, inv = unique_sorted(f)
    fr = (
        ring_arrays(feats[u])
        if known is None
        else ring_subset(known[1], np.searchsorted(known[0], u))
    )
    ext, c_xy, c_counts, reflex = ccw_exteriors(fr)
    ok_u = np.zeros(len(u), dtype=bool)
    ok_u[fr.ring_geom[ext[~reflex & (c_counts >= 3)]]] = True
    ok_u &= np.bincount(fr.ring_geom, minlength=len(u)) == 1
    ub = shapely.bounds(feats[u])
    ok_u &= np.maximum(ub[:, 2] - ub[:, 0], ub[:, 3] - ub[:, 1]) <= SCALE_FACTOR_MAX_RING_EXTENT_M
    rows = np.flatnonzero(ok_u[inv])
    if not len(rows):
        return geoms, planar, ell, done
    origin = np.asarray(ub[inv[rows], :2], dtype=np.float64)
    # The clip rings of the chosen rows, in row order, relative to their origin.
    ring_of_geom = np.full(len(u), -1, dtype=np.intp)
    ring_of_geom[fr.ring_geom[ext]] = np.arange(len(ext))
    r_ids = ring_of_geom[inv[rows]]
    c_begin = np.cumsum(c_counts) - c_counts
    cc = c_counts[r_ids]
    c_rows = np.repeat(c_begin[r_ids] - (np.cumsum(cc) - cc), cc) + np.arange(int(cc.sum()))
    c_off = np.concatenate([[0], np.cumsum(cc)]).astype(np.int64)
    c_loc = c_xy[c_rows] - np.repeat(origin, cc, axis=0)
    tiny = _NOISE_SHARE * shapely.area(feats[u])[inv[rows]]
    status, xy, start, m = clip_rings_convex(
        c_loc,
        c_off,
        np.ascontiguousarray(origin[:, 0]),
        np.ascontiguousarray(origin[:, 1]),
        source[rows].astype(np.int64),
        zones.src_first,
        zones.src_count,
        zones.ring_start,
        zones.ring_len,
        zones.ring_ext,
        zones.ring_box,
        zones.src_xy,
        tiny,
    )
    one = np.flatnonzero(status == 1)
    counts = np.diff(start)[one]
    built = np.empty(len(one), dtype=object)
    if len(one):
        idx = np.repeat(np.arange(len(one)), counts)
        built[:] = shapely.polygons(shapely.linearrings(xy + origin[one][idx], indices=idx))
    valid = np.asarray(shapely.is_valid(built), dtype=bool)
    got = rows[one[valid]]
    geoms[got] = built[valid]
    planar[got] = m[one[valid], 0]
    ell[got] = ellipsoidal_from_moments(m[one[valid]], origin[one[valid]], crs)
    done[got] = True
    gone = rows[status == 0]
    geoms[gone] = shapely.Polygon()
    done[gone] = True
    return geoms, planar, ell, done


def _intersections(
    feats: ObjArray,
    zones: ZoneIndex,
    g_f: IntArray,
    g_z: IntArray,
    groups: IntArray,
    cross_group: npt.NDArray[np.intp],
    cross_piece: IntArray,
    n_whole: IntArray,
) -> ObjArray:
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
        clipped = _clip_zones(zones, g_z[many], shapely.bounds(feats[g_f[many]]))
        out[many] = shapely.intersection(feats[g_f[many]], clipped)
    return polygonal(out)


def _chunks(n: int, workers: int | None) -> tuple[int, list[tuple[int, int]]]:
    """Thread count and feature ranges: a few chunks per thread, for balance."""
    threads = (os.cpu_count() or 1) if workers is None else max(1, workers)
    if n < PARALLEL_MIN_FEATURES:
        threads = 1
    pieces = 1 if threads == 1 else threads * 4
    edges = np.linspace(0, n, pieces + 1).astype(int)
    return threads, [(int(a), int(b)) for a, b in itertools.pairwise(edges.tolist())]


def _map(
    threads: int, fn: Callable[[tuple[int, int], int], _Chunk], ranges: list[tuple[int, int]]
) -> list[_Chunk]:
    """``fn(range, thread)`` over ``ranges``; thread t runs ranges t, t + threads … in turn."""
    if threads == 1:
        return [fn(r, 0) for r in ranges]

    def task(t: int) -> list[_Chunk]:
        return [fn(r, t) for r in ranges[t::threads]]

    with ThreadPoolExecutor(threads) as pool:
        done = list(pool.map(task, range(threads)))
    return [done[i % threads][i // threads] for i in range(len(ranges))]


def overlay(
    features: ObjArray,
    zones: ZoneIndex,
    *,
    min_area_m2: float = 0.0,
    geometry: bool = True,
    workers: int | None = None,
) -> OverlayResult:
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
    >>> from guotu.domain.area import ellipsoidal_area_m2
    >>> bool(abs(r.area_m2[0] - ellipsoidal_area_m2(r.geometry[:1], crs)[0]) < 1e-6)
    True
    """
    feats = np.asarray(features, dtype=object).reshape(-1)
    threads, ranges = _chunks(len(feats), workers)
    threads = min(threads, len(zones.replicas))
    chunks = _map(
        threads,
        lambda r, t: _overlay_chunk(
            feats[r[0] : r[1]], r[0], zones, min_area_m2, geometry, zones.replicas[t]
        ),
        ranges,
    )
    left = np.concatenate([c.left for c in chunks])
    right = np.concatenate([c.right for c in chunks])
    order = np.lexsort((right, left))
    geoms = (
        np.concatenate([c.geometry for c in chunks if c.geometry is not None])[order]
        if geometry
        else None
    )
    return OverlayResult(
        left=left[order],
        right=right[order],
        relation=_RELATIONS[np.concatenate([c.relation for c in chunks])[order]],
        area_m2=np.concatenate([c.area_m2 for c in chunks])[order],
        planar_area_m2=np.concatenate([c.planar_area_m2 for c in chunks])[order],
        geometry=geoms,
        feature_area_m2=np.concatenate([c.feature_area_m2 for c in chunks])[order],
        zone_area_m2=zones.zone_area_m2[right[order]],
    )


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
    linear = np.isin(
        shapely.get_type_id(parts),
        [shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING],
    )
    geom = np.empty(len(li), dtype=object)
    geom[:] = [
        shapely.line_merge(shapely.multilinestrings(parts[linear][idx[linear] == i]))
        for i in range(len(li))
    ]
    length = shapely.length(geom)
    keep = length > 0
    return LineOverlayResult(
        left=li[keep], right=zi[keep], length_m=length[keep], geometry=geom[keep]
    )


def warm_up() -> None:
    """Compile the overlay's numba kernels now, with a tiny overlay on both paths (numba
    caches them next to the sources): ``make install`` runs it, so that a bureau's first
    review does not wait some seconds for the compiler.

    >>> warm_up()
    """
    crs = CRS.from_epsg(4527)
    x0, y0 = 39_540_000.0, 4_052_000.0
    zone = shapely.Polygon(
        [(x0, y0), (x0 + 50, y0), (x0 + 50, y0 + 40), (x0 + 25, y0 + 20), (x0, y0 + 40)]
    )
    feats = np.empty(3, dtype=object)
    feats[:] = [
        shapely.box(x0 + 10, y0 - 5, x0 + 40, y0 + 10),  # convex
        shapely.Polygon(
            [
                (x0 - 5, y0 - 5),
                (x0 + 20, y0 - 5),
                (x0 + 20, y0 + 5),
                (x0 + 5, y0 + 5),
                (x0 + 5, y0 + 30),
                (x0 - 5, y0 + 30),
            ]
        ),
        shapely.box(x0 + 30, y0 + 30, x0 + 60, y0 + 60),
    ]
    index = prepare_zones(np.array([zone], dtype=object), crs, threads=1)
    for geometry in (True, False):
        overlay(feats, index, geometry=geometry, workers=1)
