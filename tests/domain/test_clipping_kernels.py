"""The compiled clipping kernel against the numpy one, and the fast ring arrays against
``to_ragged_array``, including the ties (shared edges, vertices on edges) the demo is full of."""

from __future__ import annotations

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS

from guotu.domain.geometry._clipping import pair_moments
from guotu.domain.geometry._compiled import HAVE_NUMBA
from guotu.domain.geometry._convex_parts import ccw_exteriors
from guotu.domain.geometry._rings import ragged_rings as _ragged
from guotu.domain.geometry._rings import ring_arrays
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.domain.geometry.moments import ellipsoidal_from_moments, geometry_moments
from guotu.domain.geometry.overlay import overlay
from guotu.domain.geometry.zone_index import prepare_zones

GK = CRS.from_epsg(4527)
X0, Y0 = 39_540_000.0, 4_052_000.0

pytestmark = pytest.mark.skipif(not HAVE_NUMBA, reason="numba is not installed")


def arr(*geoms: shapely.Geometry) -> np.ndarray:
    out = np.empty(len(geoms), dtype=object)
    out[:] = geoms
    return out


def _pairs(
    feats: np.ndarray, zones: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, object]:
    index = prepare_zones(zones, GK, max_vertices=64)
    f, c = index.cell_tree.query(feats)
    origin = shapely.bounds(feats)[:, :2]
    return f.astype(np.intp), c.astype(np.int64), origin, index


def _compare(feats: np.ndarray, zones: np.ndarray) -> None:
    f, c, origin, index = _pairs(feats, zones)
    jit = pair_moments(feats, f, c, origin, index, index.cells, compiled=True)[0]
    ref = pair_moments(feats, f, c, origin, index, index.cells, compiled=False)[0]
    np.testing.assert_allclose(jit, ref, rtol=1e-9, atol=1e-7)


def test_grid_sharing_edges_with_the_zones() -> None:
    # parcels on a 10 m grid, zones whose edges run along grid lines, through vertices,
    # and diagonally through grid points: every tie the symbolic shift must break
    step = 10.0
    cells = [
        shapely.box(X0 + i * step, Y0 + j * step, X0 + (i + 1) * step, Y0 + (j + 1) * step)
        for i in range(12)
        for j in range(12)
    ]
    tri = shapely.Polygon([(X0 + 10, Y0 + 10), (X0 + 90, Y0 + 10), (X0 + 10, Y0 + 90)])
    zones = arr(
        shapely.box(X0 + 20, Y0 + 20, X0 + 60, Y0 + 50),
        tri,
        shapely.difference(
            shapely.box(X0, Y0, X0 + 120, Y0 + 120), shapely.box(X0 + 30, Y0 + 30, X0 + 70, Y0 + 70)
        ),
    )
    _compare(arr(*cells), zones)


def test_concave_and_holed_features() -> None:
    ring = shapely.difference(
        shapely.box(X0, Y0, X0 + 50, Y0 + 50), shapely.box(X0 + 10, Y0 + 10, X0 + 40, Y0 + 40)
    )
    ell = shapely.Polygon(
        [
            (X0, Y0),
            (X0 + 60, Y0),
            (X0 + 60, Y0 + 10),
            (X0 + 10, Y0 + 10),
            (X0 + 10, Y0 + 60),
            (X0, Y0 + 60),
        ]
    )
    zones = arr(
        shapely.Point(X0 + 25, Y0 + 25).buffer(22, quad_segs=16),
        shapely.box(X0 + 5, Y0 - 5, X0 + 30, Y0 + 70),
    )
    _compare(arr(ring, ell), zones)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1))
def test_random_polygons(seed: int) -> None:
    rng = np.random.default_rng(seed)
    centres = rng.uniform(0, 200, (40, 2))
    feats = arr(
        *[
            shapely.Point(X0 + x, Y0 + y).buffer(r, quad_segs=int(q))
            for (x, y), r, q in zip(
                centres, rng.uniform(3, 30, 40), rng.integers(1, 4, 40), strict=True
            )
        ]
    )
    theta = np.sort(rng.uniform(0, 2 * np.pi, 90))
    radius = rng.uniform(40, 90, 90)
    star = shapely.make_valid(
        shapely.Polygon(
            np.column_stack([X0 + 100 + radius * np.cos(theta), Y0 + 100 + radius * np.sin(theta)])
        )
    )
    _compare(feats, arr(star, shapely.box(X0 + 50, Y0 + 50, X0 + 150, Y0 + 120)))


def test_area_only_overlay_equals_geometry_path_with_the_compiled_kernel() -> None:
    rng = np.random.default_rng(11)
    feats = arr(
        *[
            shapely.box(X0 + x, Y0 + y, X0 + x + w, Y0 + y + h)
            for x, y, w, h in rng.uniform([0, 0, 3, 3], [300, 300, 40, 40], (400, 4))
        ]
    )
    theta = np.linspace(0, 2 * np.pi, 2_000, endpoint=False)
    r = 120 * (1 + 0.15 * np.sin(7 * theta))
    zone = shapely.Polygon(
        np.column_stack([X0 + 150 + r * np.cos(theta), Y0 + 150 + r * np.sin(theta)])
    )
    index = prepare_zones(arr(zone), GK, max_vertices=128)
    area = overlay(feats, index, geometry=False)
    geom = overlay(feats, index)
    assert area.left.tolist() == geom.left.tolist()
    assert area.relation.tolist() == geom.relation.tolist()
    np.testing.assert_allclose(area.area_m2, geom.area_m2, rtol=1e-9, atol=1e-7)


@settings(max_examples=40, deadline=None)
@given(
    kinds=st.lists(
        st.sampled_from(
            ["box", "holed", "multi", "empty", "touching", "repeated", "multi_touching"]
        ),
        min_size=1,
        max_size=12,
    )
)
def test_ring_arrays_equal_to_ragged_array(kinds: list[str]) -> None:
    shapes = {
        "box": shapely.box(0, 0, 1, 2),
        "holed": shapely.Polygon(
            [(0, 0), (5, 0), (5, 5), (0, 5)], [[(1, 1), (2, 1), (2, 2), (1, 1)]]
        ),
        "multi": shapely.MultiPolygon([shapely.box(6, 6, 7, 7), shapely.box(8, 8, 9, 9)]),
        "empty": shapely.Polygon(),
        # a hole through the exterior's first vertex; a first vertex repeated; two
        # polygons meeting at the first one's first vertex: all read as ragged
        "touching": shapely.Polygon(
            [(0, 0), (5, 0), (5, 5), (0, 5)], [[(0, 0), (2, 1), (1, 2), (0, 0)]]
        ),
        "repeated": shapely.Polygon([(0, 0), (0, 0), (4, 0), (4, 4), (0, 0)]),
        "multi_touching": shapely.MultiPolygon(
            [
                shapely.Polygon([(0, 0), (2, 0), (2, 2), (0, 0)]),
                shapely.Polygon([(2, 2), (0, 0), (0, 2), (2, 2)]),
            ]
        ),
    }
    geoms = arr(*[shapes[k] for k in kinds])
    got, want = ring_arrays(geoms), _ragged(geoms)
    for name in ("xy", "start", "ring_poly", "ring_geom", "exterior", "poly_geom", "poly_start"):
        assert np.array_equal(getattr(got, name), getattr(want, name)), name


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(5, 40))
def test_convex_pieces_partition_simple_polygons(seed: int, n: int) -> None:
    from guotu.domain.geometry._compiled.ring_kernels import convex_pieces

    rng = np.random.default_rng(seed)
    theta = np.sort(rng.uniform(0, 2 * np.pi, n))
    r = rng.uniform(2, 10, n)
    ring = np.column_stack([r * np.cos(theta), r * np.sin(theta)])  # star-shaped: simple
    poly = shapely.Polygon(ring)
    if not poly.is_valid or poly.area == 0:
        return
    poly = shapely.orient_polygons(poly, exterior_cw=False)
    xy = np.asarray(poly.exterior.coords)[:-1]
    out, sizes, owner, ok = convex_pieces(xy, np.array([0]), np.array([len(xy)]))
    assert ok[0] and (owner == 0).all()
    ends = np.cumsum(sizes)
    parts = [shapely.Polygon(out[e - k : e]) for e, k in zip(ends, sizes, strict=True)]
    # counter-clockwise, strictly convex (each piece is its own hull), and a partition
    assert all(p.area > 0 and p.exterior.is_ccw for p in parts)
    assert all(shapely.convex_hull(p).area == pytest.approx(p.area, rel=1e-12) for p in parts)
    assert sum(p.area for p in parts) == pytest.approx(poly.area, rel=1e-12)
    assert shapely.symmetric_difference(shapely.union_all(parts), poly).area < 1e-9 * poly.area
    # merged ears: never more pieces than the n - 2 triangles, and at most one piece when
    # the polygon is convex already
    assert len(parts) <= len(xy) - 2
    if shapely.convex_hull(poly).area == pytest.approx(poly.area, rel=1e-12):
        assert len(parts) == 1


def test_convex_pieces_of_an_l_shape() -> None:
    from guotu.domain.geometry._compiled.ring_kernels import convex_pieces

    # an L: 6 vertices, 4 ear triangles, but 2 convex pieces (one diagonal at the notch)
    ring = np.array([(0, 0), (6, 0), (6, 2), (2, 2), (2, 5), (0, 5)], dtype=float)
    out, sizes, _owner, ok = convex_pieces(ring, np.array([0]), np.array([6]))
    assert ok[0]
    assert sorted(sizes.tolist()) == [4, 4]
    areas = sorted(
        shapely.Polygon(out[e - k : e]).area for e, k in zip(np.cumsum(sizes), sizes, strict=True)
    )
    assert sum(areas) == pytest.approx(6 * 2 + 2 * 3)


def test_convex_pieces_leave_touching_rings_to_the_caller() -> None:
    from guotu.domain.geometry._compiled.ring_kernels import convex_pieces

    # a ring that touches itself at (2, 2): no ear is free of the touching vertex
    ring = np.array([(0, 0), (4, 0), (2, 2), (4, 4), (0, 4), (2, 2)], dtype=float)
    _out, _sizes, _owner, ok = convex_pieces(ring, np.array([0]), np.array([len(ring)]))
    assert not ok[0]


def test_compiled_geometry_moments_equal_numpy_bit_for_bit() -> None:
    # exteriors and holes in either orientation, multipolygons, a ring with repeated vertices
    geoms = arr(
        shapely.Polygon([(X0, Y0), (X0 + 10, Y0), (X0 + 10, Y0 + 7), (X0, Y0 + 7)]),
        shapely.Polygon([(X0, Y0), (X0, Y0 + 7), (X0 + 10, Y0 + 7), (X0 + 10, Y0)]),  # clockwise
        shapely.difference(
            shapely.box(X0, Y0, X0 + 50, Y0 + 50), shapely.box(X0 + 10, Y0 + 10, X0 + 20, Y0 + 30)
        ),
        shapely.MultiPolygon(
            [shapely.box(X0, Y0, X0 + 1, Y0 + 1), shapely.box(X0 + 3, Y0 + 3, X0 + 5, Y0 + 6)]
        ),
        shapely.Polygon([(X0, Y0), (X0 + 4, Y0), (X0 + 4, Y0), (X0 + 4, Y0 + 4), (X0, Y0)]),
    )
    geoms[2] = shapely.Polygon(
        shapely.get_exterior_ring(geoms[2]), [shapely.get_interior_ring(geoms[2], 0).coords[::-1]]
    )
    r = ring_arrays(geoms)
    origin = shapely.bounds(geoms)[:, :2] - 0.5
    jit = geometry_moments(r, origin, len(geoms), compiled=True)
    ref = geometry_moments(r, origin, len(geoms), compiled=False)
    assert np.array_equal(jit, ref)
    np.testing.assert_allclose(jit[:, 0], [70.0, 70.0, 2300.0, 7.0, 8.0])


def test_compiled_ellipsoidal_areas_equal_numpy_and_the_area_module() -> None:
    # parcels across a zone 39 county, some 100 km off the central meridian, and a region
    # with no area (0 by both)
    rng = np.random.default_rng(7)
    x = rng.uniform(-120_000, 120_000, 200) + 39_500_000
    y = rng.uniform(2_000_000, 5_500_000, 200)
    geoms = arr(
        *[
            shapely.box(a, b, a + w, b + h)
            for a, b, w, h in zip(
                x, y, rng.uniform(1, 900, 200), rng.uniform(1, 900, 200), strict=True
            )
        ],
        shapely.Polygon(),
    )
    r = ring_arrays(geoms[:-1])
    origin = shapely.bounds(geoms[:-1])[:, :2]
    m = np.vstack([geometry_moments(r, origin, len(geoms) - 1), np.zeros((1, 4))])
    origin = np.vstack([origin, [[x[0], y[0]]]])
    jit = ellipsoidal_from_moments(m, origin, GK, compiled=True)
    ref = ellipsoidal_from_moments(m, origin, GK, compiled=False)
    np.testing.assert_allclose(jit, ref, rtol=1e-15, atol=0)
    assert jit[-1] == 0.0
    np.testing.assert_allclose(jit[:-1], ellipsoidal_area_m2(geoms[:-1], GK), rtol=1e-11)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_compiled_ccw_exteriors_equal_numpy(seed: int) -> None:
    # random rings in both orientations, with repeated vertices (also across the closing
    # vertex), holes and multipolygons
    rng = np.random.default_rng(seed)
    geoms = []
    for _ in range(20):
        n = int(rng.integers(3, 12))
        theta = np.sort(rng.uniform(0, 2 * np.pi, n))
        r = rng.uniform(1, 10, n)
        ring = np.column_stack([X0 + r * np.cos(theta), Y0 + r * np.sin(theta)])
        ring = np.repeat(ring, rng.integers(1, 3, n), axis=0)
        if rng.random() < 0.5:
            ring = ring[::-1]
        geoms.append(shapely.Polygon(ring))
    geoms.append(
        shapely.difference(
            shapely.box(X0, Y0, X0 + 9, Y0 + 9), shapely.box(X0 + 3, Y0 + 3, X0 + 5, Y0 + 5)
        )
    )
    geoms.append(
        shapely.MultiPolygon(
            [shapely.box(X0, Y0, X0 + 1, Y0 + 1), shapely.box(X0 + 3, Y0, X0 + 4, Y0 + 2)]
        )
    )
    r = ring_arrays(arr(*geoms))
    jit = ccw_exteriors(r, compiled=True)
    ref = ccw_exteriors(r, compiled=False)
    for a, b in zip(jit, ref, strict=True):
        assert np.array_equal(a, b)


def test_convex_clipping_of_the_geometry_path() -> None:
    # What the compiled Sutherland–Hodgman clipping keeps and what it leaves to GEOS: one
    # polygon (kept), nothing (an empty result), a hole inside the feature and a result in
    # two parts (GEOS); every geometry equals GEOS's intersection.
    import guotu.domain.geometry._geometry_path as module

    u_shape = shapely.Polygon(
        [
            (X0, Y0),
            (X0 + 30, Y0),
            (X0 + 30, Y0 + 30),
            (X0 + 20, Y0 + 30),
            (X0 + 20, Y0 + 10),
            (X0 + 10, Y0 + 10),
            (X0 + 10, Y0 + 30),
            (X0, Y0 + 30),
        ]
    )
    holed = shapely.difference(
        shapely.box(X0 + 100, Y0, X0 + 200, Y0 + 100),
        shapely.box(X0 + 140, Y0 + 40, X0 + 160, Y0 + 60),
    )
    zones = arr(u_shape, holed)
    feats = arr(
        shapely.box(X0 + 5, Y0 + 5, X0 + 25, Y0 + 15),  # one polygon (the U's base)
        shapely.box(X0 + 5, Y0 + 20, X0 + 25, Y0 + 25),  # two parts (the U's arms)
        shapely.box(X0 + 130, Y0 + 30, X0 + 170, Y0 + 70),  # the hole inside it
        shapely.box(X0 + 190, Y0 + 90, X0 + 210, Y0 + 110),
    )  # a corner: one polygon
    index = prepare_zones(zones, GK)
    f = np.arange(4, dtype=np.int64)
    source = np.array([0, 0, 1, 1], dtype=np.int64)
    _g, planar, _ell, done = module.convex_intersections(feats, index, f, source, GK)
    assert done.tolist() == [True, False, False, True]
    assert planar[[0, 3]].tolist() == pytest.approx([150.0, 100.0], rel=1e-12)
    r = overlay(feats, index)
    assert shapely.is_valid(r.geometry).all()
    direct = shapely.intersection(feats[r.left], zones[r.right])
    assert shapely.area(shapely.symmetric_difference(r.geometry, direct)).max() < 1e-9
    assert r.planar_area_m2.tolist() == pytest.approx([150.0, 50.0, 1200.0, 100.0], rel=1e-12)
    # a feature only touching a zone gives no pair at all
    touching = overlay(arr(shapely.box(X0 + 30, Y0, X0 + 40, Y0 + 30)), index)
    assert len(touching) == 0


@settings(max_examples=20, deadline=None)
@given(seed=st.integers(0, 2**32 - 1))
def test_convex_clipping_equals_geos_on_a_wiggly_zone(seed: int) -> None:
    # random convex features over a 3,000-vertex wiggly zone with a hole, clipped against
    # the whole zone (most of its ring lies outside each feature's box and is cut to runs)
    import guotu.domain.geometry._geometry_path as module

    rng = np.random.default_rng(seed)
    theta = np.linspace(0, 2 * np.pi, 3_000, endpoint=False)
    r = 200 * (1 + 0.1 * np.sin(7 * theta) + 0.05 * np.sin(31 * theta))
    zone = shapely.Polygon(
        np.column_stack([X0 + r * np.cos(theta), Y0 + r * np.sin(theta)]),
        [shapely.box(X0 - 20, Y0 - 20, X0 + 20, Y0 + 20).exterior.coords],
    )
    index = prepare_zones(arr(zone), GK, max_vertices=100_000)
    centres = rng.uniform(-260, 260, (60, 2))
    feats = arr(
        *[
            shapely.convex_hull(
                shapely.multipoints(np.array([X0 + cx, Y0 + cy]) + rng.uniform(-40, 40, (8, 2)))
            )
            for cx, cy in centres
        ]
    )
    f = np.arange(len(feats), dtype=np.int64)
    geoms, planar, _ell, done = module.convex_intersections(
        feats, index, f, np.zeros(len(feats), dtype=np.int64), GK
    )
    want = shapely.intersection(feats, zone)
    assert done.sum() > len(feats) // 2
    np.testing.assert_allclose(planar[done], shapely.area(want[done]), rtol=1e-9, atol=1e-7)
    assert shapely.area(shapely.symmetric_difference(geoms[done], want[done])).max() < 1e-6
    assert shapely.is_valid(geoms[done]).all()
