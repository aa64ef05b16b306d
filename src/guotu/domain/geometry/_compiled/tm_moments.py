"""Compiled moments of rings and ellipsoidal areas from planar moments in a Transverse
Mercator CRS (∬ k⁻² dA; the formula of :func:`guotu.domain.geometry.moments.ellipsoidal_from_moments`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from guotu.domain.geometry._compiled import njit
from guotu.domain.geometry._compiled.green import add_triangle_moments

__all__ = ["centroid_northings", "ring_moments", "tm_area", "tm_moment_areas"]

FloatArray = npt.NDArray[np.float64]


@njit(cache=True, nogil=True)
def centroid_northings(
    moments: FloatArray, oy: FloatArray
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Least and greatest northing of the centroids of the regions with positive area
    (moments as for :func:`tm_moment_areas`); (inf, -inf) when there is none."""
    lo = np.inf
    hi = -np.inf
    for i in range(moments.shape[0]):
        if moments[i, 0] > 0:
            y = oy[i] + moments[i, 3] / moments[i, 0]
            lo = min(lo, y)
            hi = max(hi, y)
    return lo, hi


@njit(cache=True, nogil=True)
def tm_moment_areas(
    moments: FloatArray,
    ox: FloatArray,
    oy: FloatArray,
    n0: float,
    step: float,
    table_lat: FloatArray,
    false_easting: float,
    k0: float,
    a: float,
    e2: float,
) -> FloatArray:  # pragma: no cover - compiled
    """Ellipsoidal area ∬ k⁻² dA of each region from its planar moments (∬ 1, x, x², y
    relative to (``ox``, ``oy``)): k⁻² expanded to second order about the region's centroid,
    radii at the footpoint latitude of the centroid's northing, interpolated linearly in
    ``table_lat`` (radians at northings n0, n0 + step, …). The same arithmetic, in the same
    order, as the numpy fallback of :func:`~guotu.domain.geometry.moments.ellipsoidal_from_moments`."""
    n = moments.shape[0]
    out = np.zeros(n)
    last = table_lat.shape[0] - 2
    for i in range(n):
        area0 = moments[i, 0]
        if not area0 > 0:
            continue
        cdx = moments[i, 1] / area0
        cdy = moments[i, 3] / area0
        m2c = moments[i, 2] - cdx * moments[i, 1]
        t = (oy[i] + cdy - n0) / step
        j = min(max(int(np.floor(t)), 0), last)
        lat = table_lat[j] + (t - j) * (table_lat[j + 1] - table_lat[j])
        out[i] = tm_area(area0, m2c, (ox[i] + cdx - false_easting) / k0, lat, k0, a, e2)
    return out


@njit(cache=True, nogil=True, inline="always")
def tm_area(
    area0: Any, m2c: Any, x: Any, lat: Any, k0: float, a: float, e2: float
) -> Any:  # pragma: no cover - compiled
    """∬ k⁻² dA of regions of planar area ``area0`` and second central moment in x ``m2c``
    whose centroid lies ``x`` (easting from the central meridian over k0) off it, at
    footpoint latitude ``lat`` (radians): k = k0 [1 + x²/(2ρν) + x⁴(1 + 4η²)/(24ρ²ν²)],
    k⁻² expanded to second order in x. Scalars (in :func:`tm_moment_areas`) or arrays (the
    numpy fallback of :func:`~guotu.domain.geometry.moments.ellipsoidal_from_moments`)."""
    sin_lat = np.sin(lat)
    w = 1.0 - e2 * sin_lat * sin_lat
    nu = a / np.sqrt(w)
    rho = a * (1.0 - e2) / (w * np.sqrt(w))
    eta2 = nu / rho - 1.0
    c2 = 1.0 / (2.0 * rho * nu)
    c4 = (1.0 + 4.0 * eta2) / (24.0 * rho * rho * nu * nu)
    x2 = x * x
    m = 1.0 + c2 * x2 + c4 * x2 * x2
    dm = 2.0 * c2 * x + 4.0 * c4 * x2 * x
    ddm = 2.0 * c2 + 12.0 * c4 * x2
    g0 = 1.0 / (m * m)  # (k0/k)² and half its second derivative in x
    g2 = 3.0 * g0 * g0 * dm * dm - g0 / m * ddm
    return np.abs(g0 * area0 + g2 * m2c / (k0 * k0)) / (k0 * k0)


@njit(cache=True, nogil=True)
def ring_moments(
    xy: FloatArray,
    start: Any,
    ring_geom: Any,
    exterior: Any,
    ox: FloatArray,
    oy: FloatArray,
    n_geoms: int,
) -> FloatArray:
    """Moments (∬ 1, x, x², y relative to the geometry's origin (ox, oy)) of polygonal
    geometries from their closed rings (ring r: ``xy[start[r]:start[r + 1]]``, of geometry
    ``ring_geom[r]``): exteriors count positive and holes negative whatever their
    orientation. Each edge's terms are added in ring order, as
    :func:`guotu.domain.geometry.moments._ring_edge_moments` and ``np.bincount`` add them."""
    out = np.zeros((n_geoms, 4))
    for r in range(len(start) - 1):
        g = ring_geom[r]
        x0, y0 = ox[g], oy[g]
        signed = 0.0
        for v in range(start[r], start[r + 1] - 1):
            x1, y1 = xy[v, 0] - x0, xy[v, 1] - y0
            x2, y2 = xy[v + 1, 0] - x0, xy[v + 1, 1] - y0
            signed += (x1 * y2 - x2 * y1) / 2.0
        sign = -1.0 if (signed < 0) == exterior[r] else 1.0
        acc = out[g]
        for v in range(start[r], start[r + 1] - 1):
            x1, y1 = xy[v, 0] - x0, xy[v, 1] - y0
            x2, y2 = xy[v + 1, 0] - x0, xy[v + 1, 1] - y0
            add_triangle_moments(x1, y1, x2, y2, acc, sign)
    return out
