"""Overlay kernel of plan review: known answers, relations, subdivision, invariants."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pyproj import CRS

from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.domain.geometry.overlay import OverlayResult, line_overlay, overlay
from guotu.domain.geometry.zone_index import prepare_zones
from guotu.errors import CRSError

CRS_GK39 = CRS.from_epsg(4527)
X0, Y0 = 39_540_000.0, 4_052_000.0


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A box in metres relative to (X0, Y0)."""
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def arr(*geoms: object) -> np.ndarray:
    out = np.empty(len(geoms), dtype=object)
    out[:] = list(geoms)
    return out


def run(features: list[object], zones: list[object], **kw: object) -> OverlayResult:
    return overlay(arr(*features), prepare_zones(arr(*zones), CRS_GK39), **kw)  # type: ignore[arg-type]


def expected_ell(*geoms: shapely.Geometry) -> list[float]:
    return ellipsoidal_area_m2(arr(*geoms), CRS_GK39).tolist()


# -- known answers -------------------------------------------------------------------------
def test_rectangle_overlap_has_hand_computed_areas() -> None:
    r = run([box(0, 0, 100, 50)], [box(60, 20, 160, 220)])
    assert r.left.tolist() == [0] and r.right.tolist() == [0]
    assert r.relation.tolist() == ["overlaps"]
    assert r.planar_area_m2[0] == pytest.approx(40 * 30, rel=1e-12)
    assert r.area_m2[0] == pytest.approx(expected_ell(box(60, 20, 100, 50))[0], rel=1e-9)
    assert r.feature_area_m2[0] == pytest.approx(expected_ell(box(0, 0, 100, 50))[0], rel=1e-12)
    assert r.zone_area_m2[0] == pytest.approx(expected_ell(box(60, 20, 160, 220))[0], rel=1e-12)
    assert shapely.equals(r.geometry[0], box(60, 20, 100, 50))


@pytest.mark.parametrize(
    ("feature", "zone"),
    [
        # sharing an edge
        (box(0, 0, 10, 10), box(10, 0, 20, 10)),
        # sharing a corner
        (box(0, 0, 10, 10), box(10, 10, 20, 20)),
        # sharing part of an edge, the feature's first vertex on it
        (box(0, 0, 10, 10), box(10, 5, 30, 30)),
        # disjoint
        (box(0, 0, 10, 10), box(11, 0, 20, 10)),
        # a concave (L-shaped) parcel, split into triangles, sharing an edge
        (
            shapely.Polygon(
                [
                    (X0, Y0),
                    (X0 + 60, Y0),
                    (X0 + 60, Y0 + 20),
                    (X0 + 20, Y0 + 20),
                    (X0 + 20, Y0 + 60),
                    (X0, Y0 + 60),
                ]
            ),
            box(60, 0, 100, 20),
        ),
        # the same parcel, a zone in its notch touching two of its edges
        (
            shapely.Polygon(
                [
                    (X0, Y0),
                    (X0 + 60, Y0),
                    (X0 + 60, Y0 + 20),
                    (X0 + 20, Y0 + 20),
                    (X0 + 20, Y0 + 60),
                    (X0, Y0 + 60),
                ]
            ),
            box(20, 20, 60, 60),
        ),
    ],
)
def test_touching_or_disjoint_gives_nothing(
    feature: shapely.Polygon, zone: shapely.Polygon
) -> None:
    assert len(run([feature], [zone])) == 0
    assert len(run([zone], [feature])) == 0


def test_sliver_below_min_area_is_dropped() -> None:
    # 0.5 m² overlap: 100 m × 0.005 m
    feature, zone = box(0, 0, 100, 10), box(0, 9.995, 100, 30)
    assert run([feature], [zone]).planar_area_m2 == pytest.approx([0.5], rel=1e-6)
    assert len(run([feature], [zone], min_area_m2=1.0)) == 0


@pytest.mark.parametrize(
    ("feature", "zone", "relation", "expected"),
    [
        # feature strictly inside
        (box(10, 10, 20, 20), box(0, 0, 100, 100), "within", box(10, 10, 20, 20)),
        # feature inside, touching the zone's boundary from inside
        (box(0, 0, 20, 20), box(0, 0, 100, 100), "within", box(0, 0, 20, 20)),
        # equal geometries count as within
        (box(0, 0, 20, 20), box(0, 0, 20, 20), "within", box(0, 0, 20, 20)),
        # zone inside feature
        (box(0, 0, 100, 100), box(10, 10, 20, 20), "contains", box(10, 10, 20, 20)),
        # zone inside, sharing the feature's corner
        (box(0, 0, 100, 100), box(0, 0, 20, 20), "contains", box(0, 0, 20, 20)),
        # crossing
        (box(0, 0, 50, 50), box(25, 25, 75, 75), "overlaps", box(25, 25, 50, 50)),
    ],
)
@pytest.mark.parametrize("geometry", [True, False])
def test_relation_and_geometry(
    feature: shapely.Polygon,
    zone: shapely.Polygon,
    relation: str,
    expected: shapely.Polygon,
    geometry: bool,
) -> None:
    r = run([feature], [zone], geometry=geometry)
    assert r.relation.tolist() == [relation]
    assert r.planar_area_m2[0] == pytest.approx(expected.area, rel=1e-12)
    assert r.area_m2[0] == pytest.approx(expected_ell(expected)[0], rel=1e-9)
    if geometry:
        assert shapely.equals(r.geometry[0], expected)


# An L-shaped zone whose notch edge (x = 50, y 45…60) lies exactly on the line that cuts it
# in halves (its box is 0…100): that edge is the zone's boundary, not a cut, even where GEOS
# joins it with the cut below it into one edge. Two extra vertices on its bottom edge make
# it too many for one piece of 8.
L_ZONE = shapely.Polygon(
    [
        (X0, Y0),
        (X0 + 25, Y0),
        (X0 + 75, Y0),
        (X0 + 100, Y0),
        (X0 + 100, Y0 + 45),
        (X0 + 50, Y0 + 45),
        (X0 + 50, Y0 + 60),
        (X0, Y0 + 60),
    ]
)


@pytest.mark.parametrize(
    ("feature", "relation", "planar"),
    [
        # inside, across the cut x = 50 (the pieces each hold part of it): within, no GEOS
        (box(40, 5, 60, 25), "within", 400.0),
        # inside, along the notch edge on the cut line (the boundary runs along its edge)
        (box(40, 30, 50, 50), "within", 200.0),
        # outside in the notch, sharing that edge: nothing
        (box(50, 45, 60, 55), None, 0.0),
        # across the notch edge: half in
        (box(45, 48, 55, 58), "overlaps", 50.0),
        # two parts, one inside and one outside: overlaps, the inside part's area
        (shapely.MultiPolygon([box(10, 10, 20, 20), box(70, 50, 80, 58)]), "overlaps", 100.0),
        # the whole zone inside a bigger feature
        (box(-10, -10, 110, 70), "contains", 100 * 45 + 50 * 15),
    ],
)
@pytest.mark.parametrize("geometry", [True, False])
def test_relations_of_a_zone_cut_along_its_own_edge(
    feature: shapely.Geometry, relation: str | None, planar: float, geometry: bool
) -> None:
    index = prepare_zones(arr(L_ZONE), CRS_GK39, max_vertices=8)
    assert len(index.pieces) == 2  # cut at x = 50
    r = overlay(arr(feature), index, geometry=geometry)
    assert r.relation.tolist() == ([] if relation is None else [relation])
    assert r.planar_area_m2.sum() == pytest.approx(planar, rel=1e-12)
    if relation is not None:
        direct = shapely.intersection(feature, L_ZONE)
        assert r.area_m2[0] == pytest.approx(expected_ell(direct)[0], rel=1e-9)


def test_zone_edges_on_a_cut_line_are_boundary() -> None:
    index = prepare_zones(arr(L_ZONE), CRS_GK39, max_vertices=8)
    e = np.flatnonzero(index.has_edge)
    a, b = index.xy[e], index.xy[e + 1]
    on_cut_line = (a[:, 0] == X0 + 50) & (b[:, 0] == X0 + 50)
    assert on_cut_line.sum() == 2  # the left piece's and the right piece's
    # boundary exactly where the edge overlaps the notch edge (y 45…60) over a length
    lo, hi = np.minimum(a[:, 1], b[:, 1]), np.maximum(a[:, 1], b[:, 1])
    overlaps_notch = (lo < Y0 + 60) & (hi > Y0 + 45)
    assert index.on_boundary[e[on_cut_line]].tolist() == overlaps_notch[on_cut_line].tolist()
    assert overlaps_notch[on_cut_line].tolist().count(True) == 1
    assert index.on_boundary[e[~on_cut_line]].all()


def test_zone_with_hole() -> None:
    zone = shapely.Polygon(
        box(0, 0, 100, 100).exterior.coords, [box(40, 40, 60, 60).exterior.coords]
    )
    inside_hole = box(45, 45, 55, 55)
    across_hole = box(30, 45, 70, 55)  # 40 × 10, the middle 20 × 10 in the hole
    r = run([inside_hole, across_hole], [zone])
    assert r.left.tolist() == [1]
    assert r.relation.tolist() == ["overlaps"]
    assert r.planar_area_m2[0] == pytest.approx(200.0, rel=1e-12)
    expected = shapely.difference(across_hole, box(40, 40, 60, 60))
    assert r.area_m2[0] == pytest.approx(expected_ell(expected)[0], rel=1e-9)
    assert shapely.equals(r.geometry[0], expected)


def test_concave_feature_and_multipolygon() -> None:
    # an L-shaped parcel (not convex) and a two-part parcel over one zone
    ell = shapely.Polygon(
        [
            (X0, Y0),
            (X0 + 60, Y0),
            (X0 + 60, Y0 + 20),
            (X0 + 20, Y0 + 20),
            (X0 + 20, Y0 + 60),
            (X0, Y0 + 60),
        ]
    )
    two = shapely.MultiPolygon([box(0, 100, 10, 110), box(40, 100, 50, 110)])
    zone = box(10, 10, 45, 105)
    r = run([ell, two], [zone])
    direct = shapely.intersection(arr(ell, two), zone)
    assert r.planar_area_m2.tolist() == pytest.approx(shapely.area(direct).tolist(), rel=1e-12)
    assert r.area_m2.tolist() == pytest.approx(expected_ell(*direct), rel=1e-9)


def test_missing_and_empty_inputs_are_skipped() -> None:
    r = run(
        [None, shapely.Polygon(), box(0, 0, 10, 10)], [shapely.Polygon(), None, box(5, 0, 20, 10)]
    )
    assert r.left.tolist() == [2] and r.right.tolist() == [2]
    assert r.planar_area_m2.tolist() == pytest.approx([50.0])


def test_geographic_crs_is_refused() -> None:
    with pytest.raises(CRSError):
        prepare_zones(arr(box(0, 0, 1, 1)), CRS.from_epsg(4490))


# -- subdivision ---------------------------------------------------------------------------
def wiggly_zone(n_vertices: int, seed: int = 3) -> shapely.Polygon:
    """A star-shaped red line ~400 m across with a hole: many vertices, wiggly boundary."""
    rng = np.random.default_rng(seed)
    theta = np.linspace(0, 2 * np.pi, n_vertices, endpoint=False)
    k = np.arange(2, 40)
    amp = rng.uniform(0, 0.2, len(k)) / k
    phase = rng.uniform(0, 2 * np.pi, len(k))
    r = 200 * (1 + (amp[:, None] * np.sin(k[:, None] * theta + phase[:, None])).sum(0))
    shell = np.column_stack([X0 + 250 + r * np.cos(theta), Y0 + 250 + r * np.sin(theta)])
    hole = np.column_stack(
        [X0 + 250 + 40 * np.cos(theta[::50]), Y0 + 250 + 40 * np.sin(theta[::50])]
    )
    return shapely.Polygon(shell, [hole])


def parcel_grid(step: float = 37.0, size: float = 500.0) -> np.ndarray:
    xs = np.arange(0.0, size, step)
    return arr(*[box(x, y, x + step, y + step) for x in xs for y in xs])


def test_big_zone_subdivided_equals_undivided() -> None:
    zone = wiggly_zone(30_000)
    parcels = parcel_grid()
    cut = overlay(parcels, prepare_zones(arr(zone), CRS_GK39))
    whole = overlay(parcels, prepare_zones(arr(zone), CRS_GK39, max_vertices=100_000))
    assert cut.left.tolist() == whole.left.tolist()
    assert cut.relation.tolist() == whole.relation.tolist()
    assert cut.area_m2 == pytest.approx(whole.area_m2, rel=1e-9)
    direct = shapely.intersection(parcels[cut.left], zone)
    sym = shapely.area(shapely.symmetric_difference(cut.geometry, direct))
    assert sym.max() < 1e-6
    assert cut.planar_area_m2 == pytest.approx(shapely.area(direct), rel=1e-9, abs=1e-7)
    assert set(cut.relation.tolist()) == {"within", "overlaps"}


def test_blocks_clip_like_the_whole_zone() -> None:
    # a 30,000-vertex red line gets overlapping blocks; clipping a box from its block must
    # give the region clipping the whole zone gives: boxes inside one core, straddling cores,
    # bigger than a core (whole zone used) and reaching outside the zone's box
    import guotu.domain.geometry.zone_index as module

    zone = wiggly_zone(30_000)
    idx = prepare_zones(arr(zone), CRS_GK39)
    assert idx.block_size[0] >= module._BLOCK_MIN_SIZE_M
    nx, ny = idx.block_shape[0].tolist()
    assert nx * ny > 4 and len(idx.blocks) == nx * ny
    blocks = [b for b in idx.blocks.tolist() if b is not None]
    # the blocks hold the zone (their union is it) with about twice its vertices at most
    assert shapely.area(shapely.symmetric_difference(shapely.union_all(blocks), zone)) < 1e-3
    assert sum(shapely.get_num_coordinates(blocks)) < 3 * shapely.get_num_coordinates(zone)
    rng = np.random.default_rng(5)
    lo = rng.uniform(-60, 500, (400, 2))
    size = rng.uniform(1, 150, (400, 2))
    boxes = np.column_stack(
        [X0 + lo[:, 0], Y0 + lo[:, 1], X0 + lo[:, 0] + size[:, 0], Y0 + lo[:, 1] + size[:, 1]]
    )
    got = module.clip_zones(idx, np.zeros(len(boxes), dtype=np.int64), boxes)
    want = arr(*[shapely.clip_by_rect(zone, *b) for b in boxes.tolist()])
    assert shapely.area(shapely.symmetric_difference(got, want)).max() < 1e-6
    assert shapely.area(got).sum() > 0


def test_overlay_with_blocks_equals_without(monkeypatch: pytest.MonkeyPatch) -> None:
    import guotu.domain.geometry.zone_index as module

    zone = wiggly_zone(30_000)
    parcels = np.concatenate([parcel_grid(), parcel_grid(step=90.0)])  # 90 m: bigger than a core
    with_blocks = overlay(parcels, prepare_zones(arr(zone), CRS_GK39))
    monkeypatch.setattr(module, "_BLOCK_MIN_VERTICES", 10**9)
    idx = prepare_zones(arr(zone), CRS_GK39)
    assert idx.block_size[0] == 0
    without = overlay(parcels, idx)
    assert with_blocks.left.tolist() == without.left.tolist()
    assert with_blocks.relation.tolist() == without.relation.tolist()
    np.testing.assert_allclose(with_blocks.area_m2, without.area_m2, rtol=1e-12)
    assert (
        shapely.area(shapely.symmetric_difference(with_blocks.geometry, without.geometry)).max()
        < 1e-6
    )


# -- invariants ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def county() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(7)
    centres = rng.uniform(0, 500, (300, 2))
    parcels = arr(
        *[
            shapely.buffer(shapely.Point(X0 + x, Y0 + y), r, quad_segs=2)
            for (x, y), r in zip(centres, rng.uniform(5, 25, 300), strict=True)
        ]
    )
    zones = arr(
        wiggly_zone(3_000, seed=1),
        box(-10, -10, 120, 90),
        box(300, 300, 520, 420),
        shapely.difference(box(0, 300, 200, 500), box(50, 350, 150, 450)),
    )
    return parcels, zones


def test_area_only_path_equals_geometry_path(county: tuple[np.ndarray, np.ndarray]) -> None:
    parcels, zones = county
    idx = prepare_zones(zones, CRS_GK39, max_vertices=64)
    with_geom = overlay(parcels, idx)
    area_only = overlay(parcels, idx, geometry=False)
    assert area_only.geometry is None
    assert area_only.left.tolist() == with_geom.left.tolist()
    assert area_only.right.tolist() == with_geom.right.tolist()
    assert area_only.relation.tolist() == with_geom.relation.tolist()
    # The geometry path measures GEOS's intersection, the area-only path clips exactly: they
    # agree to 1e-9 relative, or to 1e-7 m² on slivers, where the rounding of the new
    # vertices (coordinates of ~4e7 m, so ~1e-9 m) is what is left.
    np.testing.assert_allclose(area_only.area_m2, with_geom.area_m2, rtol=1e-9, atol=1e-7)
    np.testing.assert_allclose(
        area_only.planar_area_m2, with_geom.planar_area_m2, rtol=1e-9, atol=1e-7
    )
    direct = shapely.intersection(parcels[with_geom.left], zones[with_geom.right])
    np.testing.assert_allclose(
        with_geom.area_m2, ellipsoidal_area_m2(direct, CRS_GK39), rtol=1e-9, atol=1e-6
    )


@pytest.mark.parametrize("parcel_shape", ["convex", "concave"])
def test_geometries_are_valid_and_equal_geos(
    county: tuple[np.ndarray, np.ndarray], parcel_shape: str
) -> None:
    # convex parcels crossing one piece are clipped in numpy, the others by GEOS
    parcels, zones = county
    if parcel_shape == "concave":
        parcels = shapely.difference(parcels, shapely.buffer(shapely.centroid(parcels), 3))
    r = overlay(parcels, prepare_zones(zones, CRS_GK39, max_vertices=64))
    assert shapely.is_valid(r.geometry).all()
    direct = shapely.intersection(parcels[r.left], zones[r.right])
    assert shapely.area(shapely.symmetric_difference(r.geometry, direct)).max() < 1e-6
    np.testing.assert_allclose(r.planar_area_m2, shapely.area(r.geometry), rtol=1e-9, atol=1e-7)


def test_workers_do_not_change_results(
    county: tuple[np.ndarray, np.ndarray], monkeypatch: pytest.MonkeyPatch
) -> None:
    import guotu.domain.geometry.overlay as module

    monkeypatch.setattr(module, "PARALLEL_MIN_FEATURES", 10)
    parcels, zones = county
    idx = prepare_zones(zones, CRS_GK39, max_vertices=64)
    one, two = overlay(parcels, idx, workers=1), overlay(parcels, idx, workers=2)
    assert one.left.tolist() == two.left.tolist() and one.right.tolist() == two.right.tolist()
    assert one.area_m2.tolist() == two.area_m2.tolist()
    assert all(shapely.equals(one.geometry, two.geometry))


@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(seed=st.integers(0, 2**32 - 1))
def test_results_do_not_depend_on_input_order(
    county: tuple[np.ndarray, np.ndarray], seed: int
) -> None:
    parcels, zones = county
    rng = np.random.default_rng(seed)
    fp, zp = rng.permutation(len(parcels)), rng.permutation(len(zones))
    base = overlay(parcels, prepare_zones(zones, CRS_GK39, max_vertices=64), geometry=False)
    shuffled = overlay(
        parcels[fp], prepare_zones(zones[zp], CRS_GK39, max_vertices=64), geometry=False
    )
    back = sorted(
        zip(
            fp[shuffled.left].tolist(),
            zp[shuffled.right].tolist(),
            shuffled.area_m2.tolist(),
            shuffled.relation.tolist(),
            strict=True,
        )
    )
    want = list(
        zip(
            base.left.tolist(),
            base.right.tolist(),
            base.area_m2.tolist(),
            base.relation.tolist(),
            strict=True,
        )
    )
    assert [b[:2] + (b[3],) for b in back] == [w[:2] + (w[3],) for w in want]
    for b, w in zip(back, want, strict=True):
        assert math.isclose(b[2], w[2], rel_tol=1e-12)


def test_areas_add_up_over_a_partition_of_the_feature() -> None:
    zone = wiggly_zone(2_000)
    feature = box(100, 100, 300, 260)
    halves = arr(box(100, 100, 200, 260), box(200, 100, 300, 260))
    idx = prepare_zones(arr(zone), CRS_GK39, max_vertices=64)
    whole = overlay(arr(feature), idx, geometry=False).area_m2.sum()
    assert overlay(halves, idx, geometry=False).area_m2.sum() == pytest.approx(whole, rel=1e-12)


# -- lines ---------------------------------------------------------------------------------
def test_line_overlay_lengths() -> None:
    zones = prepare_zones(arr(box(0, 0, 100, 100), box(200, 0, 300, 100)), CRS_GK39)
    route = shapely.LineString([(X0 - 50, Y0 + 50), (X0 + 350, Y0 + 50)])
    along_edge = shapely.LineString([(X0, Y0 - 10), (X0, Y0 + 10)])  # on the boundary: 10 m
    outside = shapely.LineString([(X0 + 120, Y0), (X0 + 180, Y0)])
    r = line_overlay(arr(route, along_edge, outside), zones)
    assert list(zip(r.left.tolist(), r.right.tolist(), strict=True)) == [(0, 0), (0, 1), (1, 0)]
    assert r.length_m.tolist() == pytest.approx([100.0, 100.0, 10.0])
