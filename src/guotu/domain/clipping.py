"""The exact clipping kernel of the overlay (:mod:`guotu.domain.overlay`): planar moments of
feature ∩ zone-piece by Green's theorem (vectorized in numpy; the compiled version is in
:mod:`guotu.domain.clipping_jit`), the rings of polygons in flat arrays and their moments,
and the ellipsoidal area from moments. Split out of ``overlay.py``, which keeps the zone
index, the pair search and the public API; see its docstring for how the pieces fit.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from guotu.domain.area import (
    SCALE_FACTOR_MAX_RING_EXTENT_M,
    _transverse_mercator,
    ellipsoidal_area_m2,
)
from guotu.domain.clipping_jit import (
    EDGE_SHARE,
    HAVE_NUMBA,
    ccw_open_rings,
    centroid_northings,
    clip_pairs,
    convex_pieces,
    one_ring_runs,
    ring_moments,
    tm_area,
    tm_moment_areas,
)
from guotu.domain.crs import to_geographic

__all__ = [
    "ccw_exteriors",
    "ellipsoidal_from_moments",
    "feature_areas",
    "geometry_moments",
    "pair_moments",
    "polygon_parts",
    "polygonal",
    "ring_arrays",
    "ring_subset",
    "tri_moments",
    "unique_sorted",
]

if TYPE_CHECKING:
    from guotu.domain.zone_index import ZoneIndex

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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


#: Piece edges handled at once by the clipping kernel (bounds its temporary arrays).
_BATCH_EDGES = 400_000


# -- the clipping kernel ---------------------------------------------------------------------
def unique_sorted(
    values: npt.NDArray[np.integer],
) -> tuple[npt.NDArray[np.integer], npt.NDArray[np.intp]]:
    """``np.unique(values, return_inverse=True)``, in one linear pass when ``values`` is
    already sorted (the overlay's keys mostly are), else by ``np.unique``.

    Examples
    --------
    >>> u, inv = unique_sorted(np.array([2, 2, 5, 9, 9]))
    >>> u.tolist(), inv.tolist()
    ([2, 5, 9], [0, 0, 1, 2, 2])
    """
    a = np.asarray(values)
    if len(a) and not bool(np.all(a[1:] >= a[:-1])):
        uniq, inverse = np.unique(a, return_inverse=True)
        return uniq, inverse.astype(np.intp)
    new = np.empty(len(a), dtype=bool)
    if len(a):
        new[0] = True
        np.not_equal(a[1:], a[:-1], out=new[1:])
    return a[new], (np.cumsum(new) - 1).astype(np.intp)


def tri_moments(
    x1: FloatArray, y1: FloatArray, x2: FloatArray, y2: FloatArray
) -> tuple[FloatArray, FloatArray, FloatArray, FloatArray]:
    """∬ 1, x, x², y over the signed triangle (origin, P1, P2): the Green's-theorem terms of
    the edge P1 → P2. Summed over a closed boundary they are the region's moments."""
    cross = x1 * y2 - x2 * y1
    return (
        cross / 2.0,
        (x1 + x2) * cross / 6.0,
        (x1 * x1 + x1 * x2 + x2 * x2) * cross / 12.0,
        (y1 + y2) * cross / 6.0,
    )


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


def _ragged(geoms: ObjArray) -> _Rings:
    """:func:`ring_arrays` by ``to_ragged_array`` (any polygonal geometries)."""
    _kind, xy, offsets = shapely.to_ragged_array(geoms)
    ring_off = offsets[0].astype(np.intp)
    poly_off = offsets[1].astype(np.intp)
    multi_off = (
        offsets[2].astype(np.intp) if len(offsets) > 2 else np.arange(len(geoms) + 1, dtype=np.intp)
    )
    n_rings, n_polys = len(ring_off) - 1, len(poly_off) - 1
    ring_poly = np.repeat(np.arange(n_polys), np.diff(poly_off))
    poly_geom = np.repeat(np.arange(len(geoms)), np.diff(multi_off))
    return _Rings(
        xy=np.asarray(xy, dtype=np.float64)[:, :2],
        start=ring_off,
        ring_poly=ring_poly,
        ring_geom=poly_geom[ring_poly],
        exterior=np.arange(n_rings) == poly_off[ring_poly],
        poly_geom=poly_geom,
        poly_start=poly_off,
    )


def ring_arrays(geoms: ObjArray) -> _Rings:
    """The rings of polygonal geometries in flat arrays (:class:`_Rings`), as
    ``to_ragged_array`` has them; non-polygonal parts are dropped (:func:`polygonal`).

    The coordinates come from one ``get_coordinates`` call, in the order ``to_ragged_array``
    gives them; only the geometries that are not one ring (holes, several polygons, empty,
    or when numba is missing) are read with ``to_ragged_array`` (several times slower), for
    where their rings start."""
    kinds = shapely.get_type_id(geoms)
    if not np.isin(kinds, [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON]).all():
        geoms = polygonal(geoms)
    n = len(geoms)
    if not n:
        z = np.zeros(1, dtype=np.intp)
        e = np.zeros(0, dtype=np.intp)
        return _Rings(np.zeros((0, 2)), z, e, e, np.zeros(0, dtype=bool), e, z)
    xy = np.asarray(shapely.get_coordinates(geoms), dtype=np.float64)
    counts = shapely.get_num_coordinates(geoms).astype(np.intp)
    if HAVE_NUMBA:
        one = one_ring_runs(xy, counts)
    else:  # pragma: no cover - numba is a dependency
        one = (shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON) & (counts > 0)
        one[one] = shapely.get_num_interior_rings(geoms[one]) == 0
    other = np.flatnonzero(~one)
    if not len(other):
        idx = np.arange(n, dtype=np.intp)
        return _Rings(
            xy=xy,
            start=np.concatenate([[0], np.cumsum(counts)]).astype(np.intp),
            ring_poly=idx,
            ring_geom=idx,
            exterior=np.ones(n, dtype=bool),
            poly_geom=idx,
            poly_start=np.arange(n + 1, dtype=np.intp),
        )
    # Polygons per geometry and rings per polygon: one each, except where the ragged
    # arrays of the others say otherwise; ring lengths likewise.
    rr = _ragged(geoms[other])
    n_polys = np.ones(n, dtype=np.intp)
    n_polys[other] = np.bincount(rr.poly_geom, minlength=len(other))
    poly_base = np.cumsum(n_polys) - n_polys
    poly_geom = np.repeat(np.arange(n, dtype=np.intp), n_polys)
    n_rings = np.ones(len(poly_geom), dtype=np.intp)
    first = np.searchsorted(rr.poly_geom, np.arange(len(other)))
    o_poly = poly_base[other[rr.poly_geom]] + np.arange(len(rr.poly_geom)) - first[rr.poly_geom]
    n_rings[o_poly] = np.diff(rr.poly_start)
    poly_start = np.concatenate([[0], np.cumsum(n_rings)]).astype(np.intp)
    lengths = np.empty(int(poly_start[-1]), dtype=np.intp)
    lengths[poly_start[:-1][one[poly_geom]]] = counts[one]
    o_ring = (
        poly_start[o_poly[rr.ring_poly]]
        + np.arange(len(rr.ring_poly))
        - rr.poly_start[rr.ring_poly]
    )
    lengths[o_ring] = np.diff(rr.start)
    ring_poly = np.repeat(np.arange(len(poly_geom), dtype=np.intp), n_rings)
    return _Rings(
        xy=xy,
        start=np.concatenate([[0], np.cumsum(lengths)]).astype(np.intp),
        ring_poly=ring_poly,
        ring_geom=poly_geom[ring_poly],
        exterior=np.arange(len(ring_poly)) == poly_start[ring_poly],
        poly_geom=poly_geom,
        poly_start=poly_start,
    )


def ring_subset(r: _Rings, geoms: npt.NDArray[np.intp]) -> _Rings:
    """The rings of geometries ``geoms`` (sorted positions among those of ``r``), renumbered
    0, 1, … in that order: what :func:`ring_arrays` of those geometries gives, read from
    ``r`` instead of from GEOS."""
    size = max(int(r.poly_geom.max(initial=-1)), int(geoms.max(initial=-1))) + 1
    take = np.zeros(size, dtype=bool)
    take[geoms] = True
    new_geom = np.cumsum(take) - 1
    polys = np.flatnonzero(take[r.poly_geom])
    new_poly = np.full(len(r.poly_geom), -1, dtype=np.intp)
    new_poly[polys] = np.arange(len(polys))
    rings = np.flatnonzero(take[r.ring_geom])
    counts = np.diff(r.start)[rings]
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
    rows = np.repeat(r.start[rings] - start[:-1], counts) + np.arange(int(start[-1]))
    ring_poly = new_poly[r.ring_poly[rings]]
    return _Rings(
        xy=r.xy[rows],
        start=start,
        ring_poly=ring_poly,
        ring_geom=new_geom[r.ring_geom[rings]].astype(np.intp),
        exterior=r.exterior[rings],
        poly_geom=new_geom[r.poly_geom[polys]].astype(np.intp),
        poly_start=np.concatenate(
            [[0], np.cumsum(np.bincount(ring_poly, minlength=len(polys)))]
        ).astype(np.intp),
    )


def _ring_edge_moments(
    r: _Rings, origin: FloatArray
) -> tuple[list[FloatArray], npt.NDArray[np.intp]]:
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
    moments = tri_moments(x1, y1, x2, y2)
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
        halves = [
            shapely.clip_by_rect(simple, x0, y0, x1, ym),
            shapely.clip_by_rect(simple, x0, ym, x1, y1),
        ]
        parts, _idx = polygon_parts(np.asarray(halves, dtype=object))
        return shapely.GeometryCollection(
            [t for p in parts for t in shapely.get_parts(_triangles_of_one(p, depth + 1))]
        )


def ccw_exteriors(
    r: _Rings, *, compiled: bool | None = None
) -> tuple[npt.NDArray[np.intp], FloatArray, npt.NDArray[np.intp], BoolArray]:
    """The exterior rings of at least 3 vertices (their ring numbers), open, without repeated
    vertices (cyclically) and counter-clockwise; their vertex counts and whether they have a
    reflex vertex. ``compiled`` (default: when numba is there) as for :func:`pair_moments`."""
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


def _convex_parts(geoms: ObjArray, rings: _Rings | None = None) -> _ConvexParts:
    """Split polygonal ``geoms`` into convex parts: a convex polygon without holes is its own
    part (read straight from the ragged coordinates); a non-convex one without holes is cut
    into convex pieces (:func:`~guotu.domain.clipping_jit.convex_pieces`: ear clipping, the
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
    return _ConvexParts(
        owner=np.concatenate([owner, ear_owner, tri_owner]).astype(np.intp),
        xy=np.concatenate([np.compress(keep_v, xy, axis=0), ear_xy, tri_xy]),
        offsets=np.concatenate([[0], np.cumsum(all_counts)]).astype(np.intp),
    )


def _clip_moments(
    verts: FloatArray, piece: IntArray, origin: FloatArray, zones: ZoneIndex, cells: ObjArray
) -> FloatArray:
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
    tri = tri_moments(vx, vy, np.roll(vx, -1, axis=1), np.roll(vy, -1, axis=1))
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
        _clip_batch(
            lo,
            hi,
            starts,
            counts,
            origin,
            zones,
            vx,
            vy,
            nx,
            ny,
            dist,
            tie_inside,
            g_cum,
            whole,
            (bx0, bx1, by0, by1),
            exact,
            out,
        )
    # A crossing within rounding of the part's first vertex may be put on the last edge or on
    # the first; the two values of G there differ by the whole part. The true area lies in
    # [0, part area], so such a slip (a whole multiple of the part) is taken back out.
    area = whole[:, 0]
    share = out[:, 0] / np.where(area > 0, area, 1.0)
    slip = np.where(
        share < 0, np.floor(share + 1e-9), np.where(share > 1, np.ceil(share - 1 - 1e-9), 0)
    )
    out -= slip[:, None] * whole
    # The one case that shift cannot be told from the truth: a result of 0 or of the whole
    # part (the piece's boundary through the first vertex, the part touching the piece or
    # inside it). Then the part's centroid, strictly inside it, decides: a line through the
    # centroid of a convex part leaves at least 4/9 of it on each side, so it is never on
    # the piece's boundary when the answer is 0 or the whole part.
    share = out[:, 0] / np.where(area > 0, area, 1.0)
    edge = np.flatnonzero((np.abs(share) < EDGE_SHARE) | (np.abs(share - 1.0) < EDGE_SHARE))
    if len(edge):
        cx = vx[edge].mean(axis=1) + origin[edge, 0]
        cy = vy[edge].mean(axis=1) + origin[edge, 1]
        inside = shapely.contains_xy(cells[piece[edge]], cx, cy)
        out[edge] = np.where(inside[:, None], whole[edge], 0.0)
    return out


def _clip_batch(
    lo: int,
    hi: int,
    starts: IntArray,
    counts: IntArray,
    origin: FloatArray,
    zones: ZoneIndex,
    vx: FloatArray,
    vy: FloatArray,
    nx: FloatArray,
    ny: FloatArray,
    dist: FloatArray,
    tie_inside: BoolArray,
    g_cum: FloatArray,
    whole: FloatArray,
    box: tuple[FloatArray, ...],
    exact: BoolArray,
    out: FloatArray,
) -> None:
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
        orient = (e_xb[straddle] - e_xa[straddle]) * (v0y[straddle] - e_ya[straddle]) - s_dy * (
            v0x[straddle] - e_xa[straddle]
        )
        hits = np.bincount(ep[ex_e][straddle][orient * s_dy > 0], minlength=len(out))
        out += whole * (hits % 2 == 1)[:, None]

    bx0, bx1, by0, by1 = (b[ep] for b in box)
    near = np.flatnonzero(
        ~(
            (np.maximum(xa, xb) < bx0)
            | (np.minimum(xa, xb) > bx1)
            | (np.maximum(ya, yb) < by0)
            | (np.minimum(ya, yb) > by1)
        )
    )
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
    add(inner, tri_moments(xa[inner], ya[inner], xb[inner], yb[inner]), 1.0)
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
    add(cross, tri_moments(px_in, py_in, px_out, py_out), 1.0)
    cp = ep[cross]
    for mask, kk, px, py, sign in (
        (has_entry, k_in, px_in, py_in, 1.0),
        (has_exit, k_out, px_out, py_out, -1.0),
    ):
        sel = np.flatnonzero(mask)
        pp, ks = cp[sel], kk[sel]
        part = tri_moments(vx[pp, ks], vy[pp, ks], px[sel], py[sel])
        for m in range(4):
            out[:, m] += sign * np.bincount(pp, g_cum[pp, ks, m] + part[m], len(out))


def pair_moments(
    feats: ObjArray,
    pair_feature: npt.NDArray[np.intp],
    pair_piece: IntArray,
    origin: FloatArray,
    zones: ZoneIndex,
    cells: ObjArray,
    *,
    compiled: bool | None = None,
    known: tuple[npt.NDArray[np.integer], _Rings] | None = None,
) -> tuple[FloatArray, BoolArray]:
    """Moments (∬ 1, x, x², y relative to the feature's ``origin``) of feature ∩ cell for
    each pair (``pair_piece``: cells of ``zones``), and whether the zone's own boundary may
    pass through the feature's interior there (``False``: it certainly does not; the numpy
    kernel does not tell, and says ``True``). ``origin`` is per feature of ``feats``.
    ``compiled`` (default: when numba is there) runs the compiled kernel of
    :mod:`guotu.domain.clipping_jit`, else the numpy one. ``known``: sorted feature
    positions holding all of ``pair_feature`` and their :func:`ring_arrays`, when the caller
    has read them already."""
    out = np.zeros((len(pair_feature), 4))
    if not len(pair_feature):
        return out, np.zeros(0, dtype=bool)
    used, inverse = unique_sorted(pair_feature)
    rings = None
    if known is not None:  # all of them (positions are sorted and distinct), or a subset
        rings = (
            known[1]
            if len(known[0]) == len(used)
            else ring_subset(known[1], np.searchsorted(known[0], used))
        )
    parts = _convex_parts(feats[used], rings)
    n_parts = np.bincount(parts.owner, minlength=len(used))
    # Expand each pair to (part, piece): parts of one feature are contiguous after sorting.
    order = np.argsort(parts.owner, kind="stable")
    first = np.cumsum(n_parts) - n_parts
    reps = n_parts[inverse]
    pair_of = np.repeat(np.arange(len(pair_feature)), reps)
    part_of = order[
        np.repeat(first[inverse], reps)
        + np.arange(len(pair_of))
        - np.repeat(np.cumsum(reps) - reps, reps)
    ]
    one_each = bool((n_parts == 1).all())  # one part per feature: pair_of is 0, 1, 2 …
    if HAVE_NUMBA if compiled is None else compiled:
        # The kernel sets a part up once for a run of its pairs: pairs of a feature with
        # several parts are taken part by part (sums per pair do not depend on this order).
        if not one_each:
            by_part = np.argsort(part_of, kind="stable")
            pair_of, part_of = pair_of[by_part], part_of[by_part]
        org = origin[used[parts.owner[part_of]]]
        sizes_all = np.diff(parts.offsets)
        moments, crossed = clip_pairs(
            parts.xy,
            parts.offsets.astype(np.int64),
            part_of.astype(np.int64),
            np.asarray(pair_piece, dtype=np.int64)[pair_of],
            np.ascontiguousarray(org[:, 0]),
            np.ascontiguousarray(org[:, 1]),
            zones.xy,
            zones.offsets.astype(np.int64),
            zones.has_edge,
            zones.on_boundary,
            int(sizes_all.max()) if len(sizes_all) else 1,
        )
        if one_each:
            return moments, crossed
        for m in range(4):
            out[:, m] = np.bincount(pair_of, moments[:, m], len(out))
        return out, np.bincount(pair_of, crossed, len(out)) > 0
    sizes = np.diff(parts.offsets)[part_of]
    for k in np.unique(sizes):
        sel = np.flatnonzero(sizes == k)
        rows = parts.offsets[part_of[sel]][:, None] + np.arange(k)
        org = origin[used[parts.owner[part_of[sel]]]]
        verts = parts.xy[rows] - org[:, None, :]
        moments = _clip_moments(verts, pair_piece[pair_of[sel]], org, zones, cells)
        for m in range(4):
            out[:, m] += np.bincount(pair_of[sel], moments[:, m], len(out))
    return out, np.ones(len(out), dtype=bool)


#: Northing spacing (m) of the footpoint-latitude nodes :func:`ellipsoidal_from_moments`
#: interpolates between; the nodes are fixed (multiples of it), so a region's area does not
#: depend on which others share the call. Linear interpolation errs by < 1e-11 rad here.
_FOOTPOINT_STEP_M = 250.0


def _footpoint_table(
    crs: CRS, false_easting: float, lo: float, hi: float
) -> tuple[float, FloatArray]:
    """First node and latitudes (radians, by PROJ) of the footpoint nodes that span the
    northings ``lo`` … ``hi``: the latitude on the central meridian at each node's northing."""
    first = np.floor(lo / _FOOTPOINT_STEP_M) - 1.0
    last = np.ceil(hi / _FOOTPOINT_STEP_M) + 1.0
    nodes = np.arange(first, last + 1.0) * _FOOTPOINT_STEP_M
    _lon, lat = to_geographic(crs).transform(np.full(len(nodes), false_easting), nodes)
    return float(nodes[0]), np.radians(np.asarray(lat, dtype=np.float64))


def ellipsoidal_from_moments(
    moments: FloatArray, origin: FloatArray, crs: CRS, *, compiled: bool | None = None
) -> FloatArray:
    """Ellipsoidal area ∬ k⁻² dA from planar moments, as in
    :func:`guotu.domain.area._scale_factor_ring_areas` (second-order expansion of k⁻² about
    the region's centroid, radii at the footpoint latitude of its northing, from fixed
    nodes). ``compiled`` (default: when numba is there) as for :func:`pair_moments`."""
    tm = _transverse_mercator(crs)
    if tm is None:  # pragma: no cover - the caller sends these pairs to GEOS
        raise ValueError("not a Transverse Mercator CRS")
    moments = np.ascontiguousarray(moments, dtype=np.float64)
    oy = np.ascontiguousarray(origin[:, 1], dtype=np.float64)
    out = np.zeros(len(moments))
    use_jit = HAVE_NUMBA if compiled is None else compiled
    if use_jit:
        lo, hi = centroid_northings(moments, oy)
    else:
        ok = moments[:, 0] > 0
        north = oy[ok] + moments[ok, 3] / moments[ok, 0]
        lo, hi = (float(north.min()), float(north.max())) if len(north) else (np.inf, -np.inf)
    if lo > hi:  # no region with area
        return out
    n0, table = _footpoint_table(crs, tm.false_easting_m, lo, hi)
    ell, k0 = tm.ellipsoid, tm.scale_factor
    if use_jit:
        return tm_moment_areas(
            moments,
            np.ascontiguousarray(origin[:, 0], dtype=np.float64),
            oy,
            n0,
            _FOOTPOINT_STEP_M,
            table,
            tm.false_easting_m,
            k0,
            ell.a_m,
            ell.e2,
        )
    area0, m1, m2, my = moments[ok].T
    org = origin[ok]
    cdx, cdy = m1 / area0, my / area0
    m2c = m2 - cdx * m1
    t = (org[:, 1] + cdy - n0) / _FOOTPOINT_STEP_M
    j = np.clip(np.floor(t).astype(np.int64), 0, len(table) - 2)
    lat = table[j] + (t - j) * (table[j + 1] - table[j])
    out[ok] = tm_area(
        area0, m2c, (org[:, 0] + cdx - tm.false_easting_m) / k0, lat, k0, ell.a_m, ell.e2
    )
    return out


def feature_areas(
    geoms: ObjArray, bounds: FloatArray, crs: CRS, rings: _Rings | None = None
) -> FloatArray:
    """Ellipsoidal areas of polygonal features, from their rings' moments with the formula
    of :func:`ellipsoidal_from_moments`: each value depends on its feature only (the area
    module interpolates footpoint latitudes on a table spanning the whole batch, so its last
    bits depend on which other features share the call — and so on chunks and threads).
    Features wider than the formula allows, or CRSs that are not Transverse Mercator, go to
    :func:`~guotu.domain.area.ellipsoidal_area_m2` one by one. ``rings``: the
    :func:`ring_arrays` of ``geoms``, when the caller has them."""
    out = np.zeros(len(geoms))
    extent = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    big = ~(extent <= SCALE_FACTOR_MAX_RING_EXTENT_M)
    if _transverse_mercator(crs) is None:
        big[:] = True
    for i in np.flatnonzero(big).tolist():
        out[i] = ellipsoidal_area_m2(geoms[i : i + 1], crs)[0]
    small = np.flatnonzero(~big)
    if not len(small):
        return out
    if rings is None:
        r = ring_arrays(geoms[small])
    else:
        r = rings if len(small) == len(geoms) else ring_subset(rings, small)
    m = geometry_moments(r, np.asarray(bounds[small, :2], dtype=np.float64), len(small))
    out[small] = ellipsoidal_from_moments(m, bounds[small, :2], crs)
    return out


def geometry_moments(
    r: _Rings, origin: FloatArray, n: int, *, compiled: bool | None = None
) -> FloatArray:
    """Moments (∬ 1, x, x², y relative to ``origin[g]``) of the ``n`` geometries of the rings
    ``r``; ``compiled`` (default: when numba is there) as for :func:`pair_moments`."""
    if HAVE_NUMBA if compiled is None else compiled:
        return ring_moments(
            r.xy,
            r.start.astype(np.int64),
            r.ring_geom.astype(np.int64),
            r.exterior,
            np.ascontiguousarray(origin[:, 0]),
            np.ascontiguousarray(origin[:, 1]),
            n,
        )
    moments, e_ring = _ring_edge_moments(r, origin)
    edge_geom = r.ring_geom[e_ring]
    return np.stack([np.bincount(edge_geom, mm, n) for mm in moments], axis=1).astype(np.float64)
