"""Ellipsoidal area against two independent computations and the reference table."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from guotu.domain.geometry.area import (
    CGCS2000,
    ellipsoidal_area_m2,
    planar_area_m2,
    trapezoid_coefficients,
)
from guotu.errors import CRSError

GK39 = CRS.from_epsg(4527)  # CGCS2000 3° GK zone 39, CM 117°E, false easting 39 500 000
GEOD = Geod(a=6378137.0, f=1 / 298.257222101)


def _ring_lonlat(ring: shapely.LinearRing, step_m: float) -> tuple[list[float], list[float]]:
    dense = shapely.segmentize(ring, step_m)
    xs, ys = zip(*dense.coords, strict=True)
    tr = Transformer.from_crs(GK39, GK39.geodetic_crs, always_xy=True)
    lon, lat = tr.transform(xs, ys)
    return list(lon), list(lat)


def _trapezoid_ring(lon: list[float], lat: list[float]) -> float:
    """Formula (2) of the 2008 annex written out plainly, one edge at a time."""
    a, b, c, d, e = trapezoid_coefficients(CGCS2000.e2)
    bb = CGCS2000.b_m
    l0 = math.radians(lon[0])
    total = 0.0
    for i in range(len(lon) - 1):
        b1, b2 = math.radians(lat[i]), math.radians(lat[i + 1])
        dl = (math.radians(lon[i]) + math.radians(lon[i + 1])) / 2 - l0
        db, bm = b2 - b1, (b1 + b2) / 2
        total += (
            2
            * bb
            * bb
            * dl
            * (
                a * math.sin(db / 2) * math.cos(bm)
                - b * math.sin(1.5 * db) * math.cos(3 * bm)
                + c * math.sin(2.5 * db) * math.cos(5 * bm)
                - d * math.sin(3.5 * db) * math.cos(7 * bm)
                + e * math.sin(4.5 * db) * math.cos(9 * bm)
            )
        )
    return abs(total)


def _independent(poly: shapely.Polygon, step_m: float = 1.0) -> tuple[float, float]:
    """(trapezoid formula, pyproj.Geod) on edges densified every ``step_m`` metres."""
    trap = geod = 0.0
    for k, ring in enumerate([poly.exterior, *poly.interiors]):
        lon, lat = _ring_lonlat(ring, step_m)
        sign = 1 if k == 0 else -1
        trap += sign * _trapezoid_ring(lon, lat)
        geod += sign * abs(GEOD.polygon_area_perimeter(lon, lat)[0])
    return trap, geod


PARCELS = [
    # (what, polygon in EPSG:4527)
    (
        "100 m × 50 m, 40 km east of the CM",
        shapely.box(39_540_000, 4_052_000, 39_540_100, 4_052_050),
    ),
    ("1 km square on the CM", shapely.box(39_500_000, 4_000_000, 39_501_000, 4_001_000)),
    ("1 km square 150 km east", shapely.box(39_650_000, 4_000_000, 39_651_000, 4_001_000)),
    (
        "skewed quadrilateral",
        shapely.Polygon(
            [
                (39_530_000, 4_050_000),
                (39_530_420, 4_050_030),
                (39_530_380, 4_050_510),
                (39_529_950, 4_050_300),
            ]
        ),
    ),
    (
        "parcel with a hole",
        shapely.box(39_545_000, 4_053_000, 39_545_300, 4_053_200).difference(
            shapely.box(39_545_100, 4_053_050, 39_545_150, 4_053_120)
        ),
    ),
    ("long thin road strip", shapely.box(39_520_000, 4_040_000, 39_526_000, 4_040_030)),
]


@pytest.mark.parametrize(("what", "poly"), PARCELS, ids=[p[0] for p in PARCELS])
def test_equals_independent_trapezoid_and_geod_within_a_hundredth(what: str, poly) -> None:
    ours = ellipsoidal_area_m2([poly], GK39)[0]
    trap, geod = _independent(poly)
    assert ours == pytest.approx(trap, abs=0.01)
    assert ours == pytest.approx(geod, abs=0.01)


def test_reference_table_values() -> None:
    # ../shared/reference/crs.md §4, densified 1 m column.
    got = ellipsoidal_area_m2([PARCELS[1][1], PARCELS[2][1]], GK39)
    assert got[0] == pytest.approx(999_999.9918, abs=0.001)
    assert got[1] == pytest.approx(999_442.2770, abs=0.001)


def test_planar_area_is_larger_away_from_the_central_meridian() -> None:
    sq = PARCELS[2][1]
    assert planar_area_m2([sq])[0] == 1_000_000.0
    assert ellipsoidal_area_m2([sq], GK39)[0] < 999_500


def test_multipolygon_equals_sum_of_parts_and_empty_is_zero() -> None:
    a, b = PARCELS[0][1], PARCELS[3][1]
    parts = ellipsoidal_area_m2([a, b], GK39)
    multi = ellipsoidal_area_m2([shapely.MultiPolygon([a, b])], GK39)
    assert multi[0] == pytest.approx(parts.sum(), abs=1e-6)
    out = ellipsoidal_area_m2(
        [
            None,
            shapely.Polygon(),
            shapely.LineString([(0, 0), (1, 1)]),
            shapely.GeometryCollection([a, shapely.Point(0, 0)]),
        ],
        GK39,
    )
    assert out[:3].tolist() == [0.0, 0.0, 0.0]
    assert out[3] == pytest.approx(parts[0], abs=1e-9)


def test_result_does_not_depend_on_ring_orientation() -> None:
    poly = PARCELS[3][1]
    assert ellipsoidal_area_m2([shapely.orient_polygons(poly, exterior_cw=True)], GK39)[
        0
    ] == pytest.approx(ellipsoidal_area_m2([poly], GK39)[0], abs=1e-9)


def test_without_zone_prefix_gives_the_same_area() -> None:
    poly = PARCELS[0][1]
    shifted = shapely.affinity.translate(poly, xoff=-39_000_000)
    plain = ellipsoidal_area_m2([shifted], CRS.from_epsg(4548))[0]  # CM 117E, no prefix
    assert plain == pytest.approx(ellipsoidal_area_m2([poly], GK39)[0], abs=1e-6)


def test_other_projected_crs_uses_its_own_ellipsoid() -> None:
    # A 1 km square in UTM 31N (WGS 84) near Paris: areas on the WGS 84 ellipsoid.
    utm = CRS.from_epsg(32631)
    sq = shapely.box(450_000, 5_410_000, 451_000, 5_411_000)
    ours = ellipsoidal_area_m2([sq], utm)[0]
    tr = Transformer.from_crs(utm, 4326, always_xy=True)
    lon, lat = tr.transform(*zip(*shapely.segmentize(sq, 1).exterior.coords, strict=True))
    expected = abs(Geod(ellps="WGS84").polygon_area_perimeter(lon, lat)[0])
    assert ours == pytest.approx(expected, abs=0.01)


def test_geographic_crs_is_refused() -> None:
    with pytest.raises(CRSError):
        ellipsoidal_area_m2([shapely.box(117, 36, 117.01, 36.01)], CRS.from_epsg(4490))


def test_many_parcels_vectorized_match_one_by_one() -> None:
    rng = np.random.default_rng(7)
    xy = rng.uniform(0, 20_000, size=(200, 2)) + [39_530_000, 4_040_000]
    polys = [
        shapely.box(x, y, x + w, y + h)
        for (x, y), (w, h) in zip(xy, rng.uniform(5, 300, size=(200, 2)), strict=True)
    ]
    together = ellipsoidal_area_m2(polys, GK39)
    alone = np.array([ellipsoidal_area_m2([p], GK39)[0] for p in polys])
    np.testing.assert_allclose(together, alone, rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("epsg", "x0", "y0"),
    [
        # (CRS, where): GK zone 39 near the CM, 150 km east and west, far north and south; UTM.
        (4527, 39_500_000, 4_050_000),
        (4527, 39_650_000, 3_000_000),
        (4527, 39_350_000, 5_300_000),
        (4548, 640_000, 2_400_000),  # same zone without the prefix, 140 km east, 21.7°N
        (32650, 400_000, 4_400_000),  # WGS 84 / UTM 50N
    ],
)
def test_scale_factor_method_equals_the_densified_trapezoid_procedure(epsg, x0, y0) -> None:
    crs = CRS.from_epsg(epsg)
    rng = np.random.default_rng(epsg + x0)
    centres = rng.uniform(0, 20_000, size=(300, 2)) + [x0, y0]
    sizes = rng.uniform(5, 1200, size=(300, 2))
    angles = rng.uniform(0, 90, size=300)
    polys = [
        shapely.affinity.rotate(shapely.box(cx, cy, cx + w, cy + h), a, origin="centroid")
        for (cx, cy), (w, h), a in zip(centres, sizes, angles, strict=True)
    ]
    polys[0] = polys[0].difference(polys[0].centroid.buffer(2))  # a hole
    polys[1] = shapely.MultiPolygon([polys[1], polys[2]])
    polys[3] = shapely.box(x0, y0, x0 + 800, y0 + 8_000)  # taller than 5 km: trapezoid path
    polys[4] = shapely.box(x0, y0, x0 + 100_000, y0 + 2_000)  # a long east–west strip
    polys[5] = shapely.box(x0, y0, x0 + 4_900, y0 + 4_900)  # just under the limit
    auto = ellipsoidal_area_m2(polys, crs)
    reference = ellipsoidal_area_m2(polys, crs, method="trapezoid", max_segment_m=2)
    np.testing.assert_allclose(auto, reference, rtol=1e-10, atol=1e-3)
    small = np.array([p.area < 200_000 for p in polys])
    np.testing.assert_allclose(auto[small], reference[small], rtol=0, atol=1e-4)


def test_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="trapezoid"):
        ellipsoidal_area_m2([PARCELS[0][1]], GK39, method="fast")


def test_threads_give_the_same_result() -> None:
    rng = np.random.default_rng(11)
    xy = rng.uniform(0, 30_000, size=(25_000, 2)) + [39_520_000, 4_030_000]
    polys = shapely.box(xy[:, 0], xy[:, 1], xy[:, 0] + 40, xy[:, 1] + 25)
    np.testing.assert_array_equal(
        ellipsoidal_area_m2(polys, GK39, workers=2), ellipsoidal_area_m2(polys, GK39)
    )
