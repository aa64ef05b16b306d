"""Ellipsoidal area (椭球面积) of polygons, the way the land surveys compute it.

Method (国土调查办发〔2008〕32号 annex, kept by 三调; ../shared/reference/crs.md §3):

1. Boundaries are straight lines in the projected (Gauss-Krüger) plane, so edges are first
   densified in the plane (``max_segment_m``, 50 m by default; the error of the per-edge
   trapezoid falls with the square of the step: 0.004 m² on a 17 ha parcel with 450 m
   diagonal edges at 50 m, against 0.03 m² at 100 m and 0.7 m² with no densification).
2. Vertices are inverse-projected to geodetic latitude B and longitude L on the CRS's own
   ellipsoid (CGCS2000 for the GK zones).
3. Each edge contributes the area of the ellipsoidal trapezoid between it and a reference
   meridian::

       S = 2 b² ΔL [A sin(½ΔB) cos Bm − B sin(3/2 ΔB) cos 3Bm + C sin(5/2 ΔB) cos 5Bm
                    − D sin(7/2 ΔB) cos 7Bm + E sin(9/2 ΔB) cos 9Bm]

   with ΔL the edge's mean longitude relative to the reference meridian, ΔB = B2 − B1 and
   Bm = (B1 + B2)/2; the signed sum over a ring is the ring's area. Exteriors add, holes
   subtract.

Everything is vectorized over all rings of all geometries at once (no Python loop per
feature). Planar area is ``shapely.area``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from guotu.domain.geometry.crs import check_projected, to_geographic

__all__ = [
    "DEFAULT_MAX_SEGMENT_M",
    "SCALE_FACTOR_MAX_RING_EXTENT_M",
    "Ellipsoid",
    "TransverseMercator",
    "ellipsoidal_area_m2",
    "planar_area_m2",
    "transverse_mercator",
    "trapezoid_coefficients",
]

#: Inputs smaller than this are not split over threads.
PARALLEL_MIN_FEATURES = 20_000

#: Default densification step of edges in the projected plane, in metres.
DEFAULT_MAX_SEGMENT_M = 50.0

FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Ellipsoid:
    """An ellipsoid by semi-major axis ``a_m`` and inverse flattening."""

    a_m: float
    inverse_flattening: float

    @property
    def b_m(self) -> float:
        """Semi-minor axis in metres."""
        return self.a_m * (1.0 - 1.0 / self.inverse_flattening)

    @property
    def e2(self) -> float:
        """First eccentricity squared, (a² − b²)/a²."""
        return (self.a_m**2 - self.b_m**2) / self.a_m**2

    @classmethod
    def of_crs(cls, crs: CRS) -> Ellipsoid:
        """The ellipsoid of ``crs`` (CGCS2000 for the Chinese GK zones)."""
        ell = crs.ellipsoid
        if ell is None:  # pragma: no cover - every PROJ CRS with a datum has one
            raise ValueError(f"CRS {crs.name} has no ellipsoid")
        return cls(float(ell.semi_major_metre), float(ell.inverse_flattening))


#: CGCS2000 (numerically equal to GRS80).
CGCS2000 = Ellipsoid(6378137.0, 298.257222101)


def trapezoid_coefficients(e2: float) -> tuple[float, float, float, float, float]:
    """The series coefficients A, B, C, D, E of the trapezoid formula for eccentricity² ``e2``.

    Examples
    --------
    >>> a, b, c, d, e = trapezoid_coefficients(CGCS2000.e2)
    >>> round(a, 8)
    1.00336409
    """
    e4, e6, e8 = e2 * e2, e2**3, e2**4
    a = 1 + 3 / 6 * e2 + 30 / 80 * e4 + 35 / 112 * e6 + 630 / 2304 * e8
    b = 1 / 6 * e2 + 15 / 80 * e4 + 21 / 112 * e6 + 420 / 2304 * e8
    c = 3 / 80 * e4 + 7 / 112 * e6 + 180 / 2304 * e8
    d = 1 / 112 * e6 + 45 / 2304 * e8
    e = 5 / 2304 * e8
    return a, b, c, d, e


def _trapezoid_series(b1: FloatArray, b2: FloatArray, e2: float) -> FloatArray:
    """The bracket of formula (2) times 2, i.e. ∫ cos B / (1 − e² sin² B)² dB from B1 to B2.

    The series A sin(½ΔB) cos Bm − B sin(3/2 ΔB) cos 3Bm + … is the term-by-term integral
    of that area element. For the short edges of densified boundaries (ΔB < 1e-5 rad) each
    sin(kΔB/2) equals kΔB/2 and the series equals ΔB · cos Bm / (1 − e² sin² Bm)² to better
    than 1e-10 relative; long edges (no densification) keep the full series.
    """
    db = b2 - b1
    bm = (b1 + b2) / 2.0
    sin_bm = np.sin(bm)
    out = db * np.cos(bm) / (1.0 - e2 * sin_bm * sin_bm) ** 2
    long_edge = np.abs(db) > 1e-5
    if long_edge.any():
        d, m = db[long_edge], bm[long_edge]
        ca, cb, cc, cd, ce = trapezoid_coefficients(e2)
        out[long_edge] = 2.0 * (
            ca * np.sin(0.5 * d) * np.cos(m)
            - cb * np.sin(1.5 * d) * np.cos(3 * m)
            + cc * np.sin(2.5 * d) * np.cos(5 * m)
            - cd * np.sin(3.5 * d) * np.cos(7 * m)
            + ce * np.sin(4.5 * d) * np.cos(9 * m)
        )
    return out


def planar_area_m2(geoms: npt.ArrayLike) -> FloatArray:
    """Planar (projected) area of each geometry, 0 for empty, lines and points.

    Examples
    --------
    >>> planar_area_m2([shapely.box(0, 0, 100, 50)]).tolist()
    [5000.0]
    """
    out = shapely.area(np.asarray(geoms, dtype=object))
    return np.nan_to_num(np.asarray(out, dtype=np.float64), nan=0.0)


def _polygons_of(
    geoms: npt.NDArray[np.object_],
) -> tuple[npt.NDArray[np.object_], npt.NDArray[np.intp]]:
    """All polygon parts inside geometry collections, with the index of the collection."""
    parts, part_idx = shapely.get_parts(geoms, return_index=True)
    kinds = shapely.get_type_id(parts)
    is_poly = (kinds == shapely.GeometryType.POLYGON) | (kinds == shapely.GeometryType.MULTIPOLYGON)
    is_coll = kinds == shapely.GeometryType.GEOMETRYCOLLECTION
    if is_coll.any():
        sub, sub_idx = _polygons_of(parts[is_coll])
        return (
            np.concatenate([parts[is_poly], sub]),
            np.concatenate([part_idx[is_poly], part_idx[is_coll][sub_idx]]),
        )
    return parts[is_poly], part_idx[is_poly]


def _densify(
    xy: FloatArray, ring_of_pt: npt.NDArray[np.intp], max_segment_m: float
) -> tuple[FloatArray, npt.NDArray[np.intp]]:
    """Insert points on edges longer than ``max_segment_m`` (straight lines in the plane)."""
    d = xy[1:] - xy[:-1]
    len2 = d[:, 0] * d[:, 0] + d[:, 1] * d[:, 1]
    long_edge = np.flatnonzero(
        (len2 > max_segment_m * max_segment_m) & (ring_of_pt[1:] == ring_of_pt[:-1])
    )
    if len(long_edge) == 0:
        return xy, ring_of_pt
    pieces = np.ceil(np.sqrt(len2[long_edge]) / max_segment_m).astype(np.intp)
    extra = pieces - 1
    edge = np.repeat(long_edge, extra)
    # Fractions 1/k, 2/k … (k-1)/k along each long edge.
    step = np.arange(len(edge)) - np.repeat(np.cumsum(extra) - extra, extra) + 1
    frac = step / np.repeat(pieces, extra)
    new = xy[edge] + d[edge] * frac[:, None]
    return (np.insert(xy, edge + 1, new, axis=0), np.insert(ring_of_pt, edge + 1, ring_of_pt[edge]))


def _rings(
    polys: npt.NDArray[np.object_],
) -> tuple[FloatArray, npt.NDArray[np.intp], npt.NDArray[np.bool_], npt.NDArray[np.intp]]:
    """Vertices of every ring: (xy, ring of each vertex, ring is exterior, geometry of ring).

    Geometries made of one ring (most parcels, as Polygon or single-part MultiPolygon) take
    a fast path without ring objects: their coordinates close only at the end, which is
    tested on the flat coordinate array. The rest go through ``to_ragged_array``.
    """
    xy_all, geom_of_pt = shapely.get_coordinates(polys, return_index=True)
    n = len(polys)
    counts = np.bincount(geom_of_pt, minlength=n)
    has = counts > 0
    first = np.cumsum(counts) - counts
    if len(xy_all):
        sx, sy = xy_all[first[has], 0], xy_all[first[has], 1]
        start_x = np.zeros(n)
        start_y = np.zeros(n)
        start_x[has], start_y[has] = sx, sy
        equal_start = (xy_all[:, 0] == start_x[geom_of_pt]) & (xy_all[:, 1] == start_y[geom_of_pt])
    else:
        equal_start = np.zeros(0, dtype=bool)
    closures = np.bincount(geom_of_pt, weights=equal_start, minlength=n)
    ends_closed = np.zeros(n, dtype=bool)
    ends_closed[has] = equal_start[(first + counts - 1)[has]]
    simple = has & ends_closed & (closures == 2) & (counts >= 4)
    simple_idx = np.flatnonzero(simple)
    if len(simple_idx) == int(has.sum()) and len(simple_idx) == n:
        xy_s, ring_s = xy_all, geom_of_pt  # every geometry is one ring: no copies
    else:
        keep = simple[geom_of_pt]
        xy_s = xy_all[keep]
        # Ring number of each vertex of the simple geometries: their rank among them.
        ring_s = (np.cumsum(simple) - 1)[geom_of_pt[keep]]
    rest_idx = np.flatnonzero(has & ~simple)
    if len(rest_idx) == 0:
        return (
            np.asarray(xy_s, dtype=np.float64),
            np.asarray(ring_s, dtype=np.intp),
            np.ones(len(simple_idx), dtype=bool),
            simple_idx.astype(np.intp),
        )
    _kind, coords, offsets = shapely.to_ragged_array(polys[rest_idx], include_z=False)
    ring_offsets, poly_offsets = (np.asarray(o, dtype=np.intp) for o in offsets[:2])
    # Only Polygons: one polygon per geometry; with MultiPolygons a third level of offsets.
    geom_offsets = (
        np.asarray(offsets[2], dtype=np.intp)
        if len(offsets) == 3
        else np.arange(len(rest_idx) + 1, dtype=np.intp)
    )
    n_rings, n_polys = len(ring_offsets) - 1, len(poly_offsets) - 1
    ring_of_pt = np.repeat(np.arange(n_rings), np.diff(ring_offsets)) + len(simple_idx)
    # The first ring of each polygon is its exterior; the others are holes.
    is_exterior = np.zeros(n_rings, dtype=bool)
    is_exterior[poly_offsets[:-1][np.diff(poly_offsets) > 0]] = True
    ring_poly = np.repeat(np.arange(n_polys), np.diff(poly_offsets))
    poly_geom = np.repeat(np.arange(len(rest_idx)), np.diff(geom_offsets))
    return (
        np.concatenate([xy_s, np.asarray(coords, dtype=np.float64)]),
        np.concatenate([ring_s, ring_of_pt]).astype(np.intp),
        np.concatenate([np.ones(len(simple_idx), dtype=bool), is_exterior]),
        np.concatenate([simple_idx, rest_idx[poly_geom[ring_poly]]]).astype(np.intp),
    )


@dataclass(frozen=True)
class TransverseMercator:
    """What the scale-factor method needs of a Transverse Mercator CRS."""

    false_easting_m: float
    scale_factor: float
    ellipsoid: Ellipsoid


def transverse_mercator(crs: CRS) -> TransverseMercator | None:
    """Parameters of ``crs`` if it is a Transverse Mercator projection (every Gauss-Krüger
    and UTM zone), else ``None``.

    Examples
    --------
    >>> transverse_mercator(CRS.from_epsg(4527)).false_easting_m
    39500000.0
    >>> transverse_mercator(CRS.from_epsg(4490)) is None
    True
    """
    op = crs.coordinate_operation
    if op is None or op.method_code != "9807":
        return None
    params = {p.code: float(p.value) for p in op.params}
    if "8806" not in params or "8805" not in params:
        return None
    return TransverseMercator(params["8806"], params["8805"], Ellipsoid.of_crs(crs))


#: Rings taller or wider than this (metres) use the trapezoid formula: the footpoint radius
#: of curvature is taken constant over a ring and k⁻² is expanded to second order.
SCALE_FACTOR_MAX_RING_EXTENT_M = 5_000.0


def _scale_factor_ring_areas(
    xy: FloatArray,
    ring_of_pt: npt.NDArray[np.intp],
    n_rings: int,
    crs: CRS,
    tm: TransverseMercator,
) -> FloatArray:
    """Ellipsoidal area of each ring as ∬ k(x, y)⁻² dx dy over the ring in the plane.

    A conformal projection scales areas by k², so this integral is exactly the ellipsoidal
    area of the region whose edges are straight in the plane — the value the survey's
    densified trapezoid procedure converges to. For Transverse Mercator the point scale in
    grid coordinates is k = k0 [1 + x²/(2ρν) + x⁴(1 + 4η²)/(24ρ²ν²)] with x the easting from
    the central meridian over k0 and ρ, ν, η² at the footpoint latitude of the ring's
    centroid. k⁻² is expanded to second order in x about the ring's centroid and integrated
    exactly with the ring's planar moments (Green's theorem); the dropped terms are below
    1e-11 relative for rings up to several kilometres. Rings taller or wider than
    :data:`SCALE_FACTOR_MAX_RING_EXTENT_M` come back as NaN, for the trapezoid formula.
    """
    start = np.searchsorted(ring_of_pt, np.arange(n_rings))
    ref = xy[start]
    d = xy - ref[ring_of_pt]  # local coordinates keep the products exact
    x, y = np.ascontiguousarray(d[:, 0]), np.ascontiguousarray(d[:, 1])
    x1, y1, x2, y2 = x[:-1], y[:-1], x[1:], y[1:]
    ring = ring_of_pt[1:]
    cross = (x1 * y2 - x2 * y1) * (ring == ring_of_pt[:-1])  # 0 across ring boundaries
    area0 = np.bincount(ring, cross, n_rings) / 2.0  # ∬ dA
    moment1 = np.bincount(ring, (x1 + x2) * cross, n_rings) / 6.0  # ∬ x dA
    moment2 = np.bincount(ring, (x1 * x1 + x1 * x2 + x2 * x2) * cross, n_rings) / 12.0
    moment_y = np.bincount(ring, (y1 + y2) * cross, n_rings) / 6.0  # ∬ y dA
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid_dy = np.where(area0 != 0, moment_y / area0, 0.0)
    height = np.maximum.reduceat(y, start) - np.minimum.reduceat(y, start)
    width = np.maximum.reduceat(x, start) - np.minimum.reduceat(x, start)
    # Expand about the ring's centroid: the first-order term then integrates to zero and
    # the second-order moment is the smallest it can be.
    with np.errstate(invalid="ignore", divide="ignore"):
        centroid_dx = np.where(area0 != 0, moment1 / area0, 0.0)
    moment2 = moment2 - centroid_dx * moment1  # ∬ (x − x̄)² dA

    ell, k0 = tm.ellipsoid, tm.scale_factor
    # Footpoint latitude: the latitude on the central meridian at the northing of the ring's
    # centroid (where the linear change of the radii across the ring integrates to zero).
    # It varies slowly, so PROJ gives it on a fine table of northings, interpolated.
    northing = ref[:, 1] + centroid_dy
    lo, hi = float(northing.min()), float(northing.max())
    table_n = np.linspace(lo, hi, max(2, min(4096, int((hi - lo) / 50.0) + 2)))
    _lon, table_lat = to_geographic(crs).transform(
        np.full(len(table_n), tm.false_easting_m), table_n
    )
    lat = np.interp(northing, table_n, np.asarray(table_lat, dtype=np.float64))
    sin_lat = np.sin(np.radians(np.asarray(lat, dtype=np.float64)))
    w = 1.0 - ell.e2 * sin_lat * sin_lat
    nu = ell.a_m / np.sqrt(w)
    rho = ell.a_m * (1.0 - ell.e2) / w**1.5
    eta2 = nu / rho - 1.0
    x = (ref[:, 0] + centroid_dx - tm.false_easting_m) / k0
    c2 = 1.0 / (2.0 * rho * nu)
    c4 = (1.0 + 4.0 * eta2) / (24.0 * rho * rho * nu * nu)
    m = 1.0 + c2 * x * x + c4 * x**4  # k / k0
    dm = 2.0 * c2 * x + 4.0 * c4 * x**3
    ddm = 2.0 * c2 + 12.0 * c4 * x * x
    g0 = m**-2.0  # (k0/k)² and its derivatives in x
    g2 = 3.0 * m**-4.0 * dm * dm - m**-3.0 * ddm  # half the second derivative
    out = np.abs(g0 * area0 + g2 * moment2 / (k0 * k0)) / (k0 * k0)
    too_big = (height > SCALE_FACTOR_MAX_RING_EXTENT_M) | (width > SCALE_FACTOR_MAX_RING_EXTENT_M)
    out[too_big] = np.nan  # the caller measures these with the trapezoids
    return out


def _polygon_areas(
    polys: npt.NDArray[np.object_], crs: CRS, max_segment_m: float | None, method: str
) -> FloatArray:
    """Areas of an array holding only Polygons, MultiPolygons, empties and missing values."""
    result = np.zeros(len(polys), dtype=np.float64)
    xy, ring_of_pt, is_exterior, ring_geom = _rings(polys)
    n_rings = len(is_exterior)
    if n_rings == 0:
        return result
    tm = transverse_mercator(crs) if method == "auto" else None
    if tm is not None:
        ring_area = _scale_factor_ring_areas(xy, ring_of_pt, n_rings, crs, tm)
        tall = np.flatnonzero(np.isnan(ring_area))
        if len(tall):
            keep = np.isin(ring_of_pt, tall)
            renumber = np.searchsorted(tall, ring_of_pt[keep])
            ring_area[tall] = _trapezoid_ring_areas(
                xy[keep], renumber, len(tall), crs, max_segment_m
            )
    else:
        ring_area = _trapezoid_ring_areas(xy, ring_of_pt, n_rings, crs, max_segment_m)
    np.add.at(result, ring_geom, np.where(is_exterior, ring_area, -ring_area))
    return result


def _trapezoid_ring_areas(
    xy: FloatArray,
    ring_of_pt: npt.NDArray[np.intp],
    n_rings: int,
    crs: CRS,
    max_segment_m: float | None,
) -> FloatArray:
    """The survey's procedure: densify, inverse-project, sum the trapezoids per ring."""
    if max_segment_m:
        xy, ring_of_pt = _densify(xy, ring_of_pt, max_segment_m)
    lon, lat = to_geographic(crs).transform(xy[:, 0], xy[:, 1])
    lon = np.radians(np.asarray(lon, dtype=np.float64))
    lat = np.radians(np.asarray(lat, dtype=np.float64))

    # Edges join consecutive points of the same ring (rings are closed: last == first).
    same_ring = ring_of_pt[1:] == ring_of_pt[:-1]
    b1, b2 = lat[:-1][same_ring], lat[1:][same_ring]
    l1, l2 = lon[:-1][same_ring], lon[1:][same_ring]
    edge_ring = ring_of_pt[1:][same_ring]
    # Reference meridian per ring: its first vertex, which keeps ΔL small.
    ring_start = np.minimum(np.searchsorted(ring_of_pt, np.arange(n_rings)), len(lon) - 1)
    l0 = lon[ring_start][edge_ring]

    ell = Ellipsoid.of_crs(crs)
    dl = (l1 + l2) / 2.0 - l0
    edge_area = ell.b_m**2 * dl * _trapezoid_series(b1, b2, ell.e2)
    return np.abs(np.bincount(edge_ring, weights=edge_area, minlength=n_rings))


def ellipsoidal_area_m2(
    geoms: npt.ArrayLike,
    crs: CRS,
    *,
    max_segment_m: float | None = DEFAULT_MAX_SEGMENT_M,
    method: str = "auto",
    workers: int = 1,
) -> FloatArray:
    """Ellipsoidal area (椭球面积) in m² of each geometry given in projected CRS ``crs``.

    Parameters
    ----------
    geoms
        Shapely geometries (array-like); polygonal parts count, other parts have no area.
        Missing or empty geometries give 0.
    crs
        The projected CRS the coordinates are in; its ellipsoid is used.
    max_segment_m
        For the trapezoid formula: densify edges in the plane to at most this length before
        inverse projection (``None`` = use the vertices as they are).
    method
        ``"trapezoid"``: the survey's procedure step by step (densify, Gauss inverse
        projection, ellipsoidal trapezoids). ``"auto"`` (default): on Transverse Mercator
        CRSs (every Gauss-Krüger and UTM zone) the same area computed as ∬ k⁻² dA from the
        rings' planar moments — no per-vertex projection, several times faster, equal to the
        trapezoid procedure densified to 2 m within 1e-5 m² per parcel — and the trapezoid
        formula elsewhere and for rings taller or wider than 5 km.
    workers
        Threads to split large inputs over (GEOS, PROJ and numpy release the GIL); the
        result does not depend on it.

    Examples
    --------
    A 1 km square on the central meridian of CGCS2000 3° GK zone 39 (EPSG:4527) at 4000 km
    north is slightly smaller on the ellipsoid than in the plane:

    >>> sq = shapely.box(39_500_000, 4_000_000, 39_501_000, 4_001_000)
    >>> a = ellipsoidal_area_m2([sq], CRS.from_epsg(4527))[0]
    >>> bool(abs(a - 999_999.9918) < 0.01)
    True
    >>> t = ellipsoidal_area_m2([sq], CRS.from_epsg(4527), method="trapezoid")[0]
    >>> bool(abs(a - t) < 1e-4)
    True
    """
    if method not in ("auto", "trapezoid"):
        raise ValueError(f"method must be 'auto' or 'trapezoid', not {method!r}")
    arr = np.asarray(geoms, dtype=object)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    check_projected(crs, "Ellipsoidal area", what_zh="椭球面积")
    if workers > 1 and len(arr) >= PARALLEL_MIN_FEATURES:
        with ThreadPoolExecutor(workers) as pool:
            results = pool.map(
                lambda chunk: ellipsoidal_area_m2(
                    chunk, crs, max_segment_m=max_segment_m, method=method
                ),
                np.array_split(arr, workers),
            )
            return np.concatenate(list(results))
    result = np.zeros(len(arr), dtype=np.float64)
    kinds = shapely.get_type_id(arr)
    polygonal = (kinds == shapely.GeometryType.POLYGON) | (
        kinds == shapely.GeometryType.MULTIPOLYGON
    )
    coll = kinds == shapely.GeometryType.GEOMETRYCOLLECTION
    if polygonal.all():
        return _polygon_areas(arr, crs, max_segment_m, method)
    if polygonal.any():
        result[polygonal] = _polygon_areas(arr[polygonal], crs, max_segment_m, method)
    if coll.any():
        parts, owner = _polygons_of(arr[coll])
        if len(parts):
            np.add.at(
                result,
                np.flatnonzero(coll)[owner],
                ellipsoidal_area_m2(parts, crs, max_segment_m=max_segment_m, method=method),
            )
    return result
