"""Ellipsoidal areas from planar moments (∬ 1, x, x², y by Green's theorem): the areas of
features and of the overlay's intersections, each value depending on its own region only.

:func:`feature_areas` is the ellipsoidal area (椭球面积) of polygonal features as the overlay
measures them, from their rings' moments; :func:`ellipsoidal_from_moments` turns moments
into ∬ k⁻² dA on a Transverse Mercator CRS, as
:func:`guotu.domain.geometry.area.ellipsoidal_area_m2` does ring by ring, but from fixed
footpoint nodes, so a region's area does not depend on the other regions of the call.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
from pyproj import CRS

from guotu.domain.geometry._compiled import HAVE_NUMBA
from guotu.domain.geometry._compiled.tm_moments import (
    centroid_northings,
    ring_moments,
    tm_area,
    tm_moment_areas,
)
from guotu.domain.geometry._rings import Rings, ring_arrays, ring_subset
from guotu.domain.geometry.area import (
    SCALE_FACTOR_MAX_RING_EXTENT_M,
    ellipsoidal_area_m2,
    transverse_mercator,
)
from guotu.domain.geometry.crs import to_geographic

__all__ = [
    "FOOTPOINT_STEP_M",
    "ellipsoidal_from_moments",
    "feature_areas",
    "geometry_moments",
    "tri_moments",
]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


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


def _ring_edge_moments(
    r: Rings, origin: FloatArray
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


#: Northing spacing (m) of the footpoint-latitude nodes :func:`ellipsoidal_from_moments`
#: interpolates between; the nodes are fixed (multiples of it), so a region's area does not
#: depend on which others share the call. Linear interpolation errs by < 1e-11 rad here.
FOOTPOINT_STEP_M = 250.0


def _footpoint_table(
    crs: CRS, false_easting: float, lo: float, hi: float
) -> tuple[float, FloatArray]:
    """First node and latitudes (radians, by PROJ) of the footpoint nodes that span the
    northings ``lo`` … ``hi``: the latitude on the central meridian at each node's northing."""
    first = np.floor(lo / FOOTPOINT_STEP_M) - 1.0
    last = np.ceil(hi / FOOTPOINT_STEP_M) + 1.0
    nodes = np.arange(first, last + 1.0) * FOOTPOINT_STEP_M
    _lon, lat = to_geographic(crs).transform(np.full(len(nodes), false_easting), nodes)
    return float(nodes[0]), np.radians(np.asarray(lat, dtype=np.float64))


def ellipsoidal_from_moments(
    moments: FloatArray, origin: FloatArray, crs: CRS, *, compiled: bool | None = None
) -> FloatArray:
    """Ellipsoidal area ∬ k⁻² dA from planar moments, as in
    :func:`guotu.domain.geometry.area._scale_factor_ring_areas` (second-order expansion of k⁻² about
    the region's centroid, radii at the footpoint latitude of its northing, from fixed
    nodes). ``compiled`` (default: when numba is there) as for
    :func:`~guotu.domain.geometry._clipping.pair_moments`."""
    tm = transverse_mercator(crs)
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
            FOOTPOINT_STEP_M,
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
    t = (org[:, 1] + cdy - n0) / FOOTPOINT_STEP_M
    j = np.clip(np.floor(t).astype(np.int64), 0, len(table) - 2)
    lat = table[j] + (t - j) * (table[j + 1] - table[j])
    out[ok] = tm_area(
        area0, m2c, (org[:, 0] + cdx - tm.false_easting_m) / k0, lat, k0, ell.a_m, ell.e2
    )
    return out


def feature_areas(
    geoms: ObjArray, bounds: FloatArray, crs: CRS, rings: Rings | None = None
) -> FloatArray:
    """Ellipsoidal areas of polygonal features, from their rings' moments with the formula
    of :func:`ellipsoidal_from_moments`: each value depends on its feature only (the area
    module interpolates footpoint latitudes on a table spanning the whole batch, so its last
    bits depend on which other features share the call — and so on chunks and threads).
    Features wider than the formula allows, or CRSs that are not Transverse Mercator, go to
    :func:`~guotu.domain.geometry.area.ellipsoidal_area_m2` one by one. ``rings``: the
    :func:`ring_arrays` of ``geoms``, when the caller has them."""
    out = np.zeros(len(geoms))
    extent = np.maximum(bounds[:, 2] - bounds[:, 0], bounds[:, 3] - bounds[:, 1])
    big = ~(extent <= SCALE_FACTOR_MAX_RING_EXTENT_M)
    if transverse_mercator(crs) is None:
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
    r: Rings, origin: FloatArray, n: int, *, compiled: bool | None = None
) -> FloatArray:
    """Moments (∬ 1, x, x², y relative to ``origin[g]``) of the ``n`` geometries of the rings
    ``r``; ``compiled`` (default: when numba is there) as for
    :func:`~guotu.domain.geometry._clipping.pair_moments`."""
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
