"""Convex parts of polygonal features, the parts the overlay's clipping kernels take: a
convex polygon is its own part, a non-convex one is cut into convex pieces (compiled ear
clipping), any other (with holes) into its constrained Delaunay triangles."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from guotu.domain.geometry._compiled import HAVE_NUMBA
from guotu.domain.geometry._compiled.ring_kernels import ccw_open_rings, convex_pieces
from guotu.domain.geometry._rings import Rings, ring_arrays
from guotu.domain.geometry.polygons import polygon_parts

__all__ = ["ConvexParts", "ccw_exteriors", "convex_parts"]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class ConvexParts:
    """Convex parts of features: part i has vertices xy[offsets[i]:offsets[i + 1]]
    (counter-clockwise, not closed) and belongs to feature ``owner[i]``."""

    owner: npt.NDArray[np.intp]
    xy: FloatArray
    offsets: npt.NDArray[np.intp]


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
        halves = [
            shapely.clip_by_rect(simple, x0, y0, x1, ym),
            shapely.clip_by_rect(simple, x0, ym, x1, y1),
        ]
        parts, _idx = polygon_parts(np.asarray(halves, dtype=object))
        return shapely.GeometryCollection(
            [t for p in parts for t in shapely.get_parts(_triangles_of_one(p, depth + 1))]
        )


def ccw_exteriors(
    r: Rings, *, compiled: bool | None = None
) -> tuple[npt.NDArray[np.intp], FloatArray, npt.NDArray[np.intp], BoolArray]:
    """The exterior rings of at least 3 vertices (their ring numbers), open, without repeated
    vertices (cyclically) and counter-clockwise; their vertex counts and whether they have a
    reflex vertex. ``compiled`` (default: when numba is there) as for
    :func:`~guotu.domain.geometry._clipping.pair_moments`."""
    ext = np.flatnonzero(r.exterior)
    counts = np.diff(r.start)[ext] - 1
    ok_ring = counts >= 3
    ext, counts = ext[ok_ring], counts[ok_ring]
    first = r.start[ext]
    if HAVE_NUMBA if compiled is None else compiled:
        xy_c, kept, reflex_c = ccw_open_rings(r.xy, first.astype(np.int64), counts.astype(np.int64))
        return ext, xy_c, kept.astype(np.intp), reflex_c
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


def convex_parts(geoms: ObjArray, rings: Rings | None = None) -> ConvexParts:
    """Split polygonal ``geoms`` into convex parts: a convex polygon without holes is its own
    part (read straight from the ragged coordinates); a non-convex one without holes is cut
    into convex pieces (:func:`~guotu.domain.geometry._compiled.ring_kernels.convex_pieces`: ear clipping, the
    ears merged back while convex; compiled, when numba is there); any other polygon is
    split into its constrained Delaunay triangles. ``rings``: their :func:`ring_arrays`,
    when the caller has them."""
    r = ring_arrays(geoms) if rings is None else rings
    n_polys = len(r.poly_start) - 1
    ext, xy, counts, reflex = ccw_exteriors(r)
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
    ear_owner = np.zeros(0, dtype=np.intp)
    ear_xy = np.zeros((0, 2))
    ear_counts = np.zeros(0, dtype=np.intp)
    if HAVE_NUMBA:
        # Non-convex polygons without holes: cut into convex pieces by ear clipping and
        # merging the ears back while they stay convex (compiled), instead of GEOS's
        # constrained Delaunay (several times slower with its preparation).
        simple = np.flatnonzero(reflex & (n_rings_of[r.ring_poly[ext]] == 1) & (counts >= 3))
        if len(simple):
            begin = (np.cumsum(counts) - counts).astype(np.int64)
            ear_xy, sizes, piece_ring, cut = convex_pieces(
                xy, begin[simple], counts[simple].astype(np.int64)
            )
            ear_counts = sizes.astype(np.intp)
            ear_owner = r.poly_geom[r.ring_poly[ext[simple[piece_ring]]]]
            poly_ok[r.ring_poly[ext[simple[cut]]]] = True
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
        polys = shapely.orient_polygons(shapely.remove_repeated_points(polys), exterior_cw=False)
        tris, t_idx = polygon_parts(_triangles(polys))
        nonzero = shapely.area(tris) > 0
        tris, t_idx = shapely.orient_polygons(tris[nonzero], exterior_cw=False), t_idx[nonzero]
        tri_xy, tri_counts = _open_rings(tris)
        tri_owner = r.poly_geom[p_global[t_idx]]
    all_counts = np.concatenate([counts[convex_ring], ear_counts, tri_counts])
    return ConvexParts(
        owner=np.concatenate([owner, ear_owner, tri_owner]).astype(np.intp),
        xy=np.concatenate([np.compress(keep_v, xy, axis=0), ear_xy, tri_xy]),
        offsets=np.concatenate([[0], np.cumsum(all_counts)]).astype(np.intp),
    )
