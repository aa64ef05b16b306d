"""Alternative alignments around red lines, against lengths worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st

from guotu.domain.review.routing import Detour, find_detour
from guotu.errors import ConfigError, GeometryError

LINE = shapely.LineString([(0, 0), (10_000, 0)])  # 10 km along y = 0
SQUARE = shapely.box(4_000, -1_000, 6_000, 1_000)  # 2 km red line across its middle
WIDTH_M = 60.0  # half-width 30: the inflated square is [3970, 6030] × [-1030, 1030]


def _red(*polygons: shapely.Geometry | None) -> np.ndarray:
    return np.array(list(polygons), dtype=object)


def _overlap_m2(detour: Detour, obstacles: np.ndarray, half_width_m: float) -> float:
    """Area of the detour's flat-capped width inside the red lines."""
    assert detour.route is not None
    band = shapely.buffer(detour.route, half_width_m, cap_style="flat")
    return float(shapely.intersection(band, shapely.union_all(obstacles)).area)


# -- the square across the line ---------------------------------------------------------


def test_square_detour_length_is_the_hand_computed_one() -> None:
    d = find_detour(LINE, _red(SQUARE), width_m=WIDTH_M)
    # kept line to the last free point (3970, 0), straight to the inflated corner (3970, ±1030),
    # along the 2060 m edge to the next corner, back to the line at (6030, 0), kept line to the end
    expected_m = 3_970 + 1_030 + 2_060 + 1_030 + (10_000 - 6_030)
    assert d.is_found and d.is_rerouted
    assert d.length_m == pytest.approx(expected_m, abs=1e-6)
    assert d.extra_length_m == pytest.approx(expected_m - 10_000, abs=1e-6)
    assert d.original_length_m == 10_000


def test_square_detour_keeps_the_original_end_points() -> None:
    d = find_detour(LINE, _red(SQUARE), width_m=WIDTH_M)
    assert d.route is not None
    assert d.route.coords[0] == LINE.coords[0]
    assert d.route.coords[-1] == LINE.coords[-1]


def test_square_detour_width_does_not_overlap_the_red_line() -> None:
    d = find_detour(LINE, _red(SQUARE), width_m=WIDTH_M)
    assert _overlap_m2(d, _red(SQUARE), WIDTH_M / 2) == 0.0


def test_square_detour_stays_in_the_corridor() -> None:
    d = find_detour(LINE, _red(SQUARE), width_m=WIDTH_M, corridor_m=1_500)
    assert d.is_found
    assert shapely.covers(LINE.buffer(1_500), d.route)


def test_clearance_adds_to_the_half_width() -> None:
    d = find_detour(LINE, _red(SQUARE), width_m=WIDTH_M, clearance_m=20)
    assert d.extra_length_m == pytest.approx(2 * 1_050, abs=1e-6)  # inflated by 30 + 20
    assert _overlap_m2(d, _red(SQUARE.buffer(20, join_style="mitre")), WIDTH_M / 2) == 0.0


def test_departure_lets_the_detour_cut_the_corner() -> None:
    d = find_detour(LINE, _red(SQUARE), width_m=WIDTH_M, departure_m=5_000)
    # leave at the start, straight to the corner, along the edge, straight to the end
    expected_m = 2 * math.hypot(3_970, 1_030) + 2_060
    assert d.length_m == pytest.approx(expected_m, abs=1e-6)
    assert _overlap_m2(d, _red(SQUARE), WIDTH_M / 2) == 0.0


def test_partial_departure_leaves_the_line_that_far_before() -> None:
    d = find_detour(LINE, _red(SQUARE), width_m=WIDTH_M, departure_m=1_000)
    expected_m = 2_970 + 2 * math.hypot(1_000, 1_030) + 2_060 + 2_970
    assert d.length_m == pytest.approx(expected_m, abs=1e-6)


# -- no detour needed -------------------------------------------------------------------


def test_clear_route_is_returned_unchanged() -> None:
    d = find_detour(LINE, _red(shapely.box(4_000, 500, 6_000, 1_000)), width_m=WIDTH_M)
    assert (d.is_found, d.is_rerouted, d.extra_length_m) == (True, False, 0.0)
    assert d.route is LINE
    assert d.length_m == d.original_length_m == 10_000


def test_route_whose_width_touches_the_red_line_is_clear() -> None:
    touching = shapely.LineString([(0, 1_030), (10_000, 1_030)])  # its 30 m half-width touches
    d = find_detour(touching, _red(SQUARE), width_m=WIDTH_M)
    assert (d.is_found, d.is_rerouted) == (True, False)


def test_no_obstacles_at_all() -> None:
    d = find_detour(LINE, np.array([], dtype=object), width_m=WIDTH_M)
    assert (d.is_found, d.is_rerouted, d.extra_length_m) == (True, False, 0.0)


def test_missing_and_empty_obstacles_are_ignored() -> None:
    d = find_detour(LINE, _red(None, shapely.Polygon(), SQUARE), width_m=WIDTH_M)
    assert d.extra_length_m == pytest.approx(2_060, abs=1e-6)


# -- no detour exists -------------------------------------------------------------------


def test_red_line_wider_than_the_corridor_has_no_detour() -> None:
    d = find_detour(LINE, _red(shapely.box(4_000, -5_000, 6_000, 5_000)), width_m=WIDTH_M)
    assert not d.is_found
    assert d.route is None and d.length_m is None and d.extra_length_m is None
    assert d.reason_zh == "在 2000 m 走廊范围内不存在避让生态保护红线的线位。"
    assert "2000 m corridor" in d.reason_en


def test_narrow_corridor_has_no_detour() -> None:
    d = find_detour(LINE, _red(SQUARE), width_m=WIDTH_M, corridor_m=1_000)
    assert not d.is_found  # the inflated square reaches 1030 m from the line


@pytest.mark.parametrize(
    ("line", "where"),
    [
        (shapely.LineString([(4_500, 0), (10_000, 0)]), "起点"),
        (shapely.LineString([(0, 0), (3_980, 0)]), "终点"),  # within the 30 m half-width
    ],
)
def test_end_point_inside_the_red_line_has_no_detour(line: shapely.LineString, where: str) -> None:
    d = find_detour(line, _red(SQUARE), width_m=WIDTH_M)
    assert not d.is_found
    assert where in d.reason_zh


# -- shapes -----------------------------------------------------------------------------


def test_route_through_a_hole_goes_round_the_whole_red_line() -> None:
    ring = shapely.Polygon(SQUARE.exterior, [shapely.box(4_300, -700, 5_700, 700).exterior])
    d = find_detour(LINE, _red(ring), width_m=WIDTH_M)
    # the hole is reachable only through the red line: same detour as round the full square
    assert d.length_m == pytest.approx(12_060, abs=1e-6)
    assert _overlap_m2(d, _red(ring), WIDTH_M / 2) == 0.0


def test_two_red_lines_are_each_avoided() -> None:
    red = _red(shapely.box(2_000, -500, 3_000, 500), shapely.box(6_000, -300, 7_000, 300))
    d = find_detour(LINE, red, width_m=WIDTH_M)
    assert d.extra_length_m == pytest.approx(2 * 530 + 2 * 330, abs=1e-6)
    assert _overlap_m2(d, red, WIDTH_M / 2) == 0.0


def test_bent_route_keeps_its_free_stretches() -> None:
    bent = shapely.LineString([(0, 0), (3_000, 0), (5_000, 2_000), (10_000, 2_000)])
    red = _red(shapely.box(8_000, 1_500, 9_000, 2_500))
    d = find_detour(bent, red, width_m=WIDTH_M)
    assert d.route is not None
    assert d.route.coords[:3] == bent.coords[:3]
    assert d.extra_length_m == pytest.approx(2 * 530, abs=1e-6)


def test_detailed_red_line_is_simplified_outward() -> None:
    disc = shapely.Point(5_000, 0).buffer(800, quad_segs=256)  # 1024 vertices
    d = find_detour(LINE, _red(disc), width_m=WIDTH_M, max_vertices=40)
    assert d.is_found
    assert _overlap_m2(d, _red(disc), WIDTH_M / 2) == 0.0
    exact = find_detour(LINE, _red(disc), width_m=WIDTH_M)
    assert exact.length_m is not None and d.length_m is not None
    assert exact.length_m <= d.length_m < exact.length_m + 100


@pytest.mark.parametrize("max_vertices", [2_000, 3])
def test_narrow_gap_is_found_even_when_simplifying_closes_it(max_vertices: int) -> None:
    # a wall across the whole corridor with a 100 m gap, 40 m wide once inflated by 30 m
    wall = shapely.box(4_000, -5_000, 4_200, 5_000).difference(shapely.box(4_000, 300, 4_200, 400))
    d = find_detour(LINE, _red(wall), width_m=WIDTH_M, max_vertices=max_vertices)
    # up the inflated wall face to the gap's lower edge at y = 330, through, and back down
    assert d.extra_length_m == pytest.approx(2 * 330, abs=1e-6)
    assert _overlap_m2(d, _red(wall), WIDTH_M / 2) == 0.0


def test_invalid_red_line_is_repaired() -> None:
    bowtie = shapely.Polygon([(4_000, -1_000), (6_000, 1_000), (6_000, -1_000), (4_000, 1_000)])
    d = find_detour(LINE, _red(bowtie), width_m=WIDTH_M)
    assert d.is_found and d.is_rerouted
    assert _overlap_m2(d, _red(shapely.make_valid(bowtie)), WIDTH_M / 2) == pytest.approx(
        0, abs=1e-6
    )


def test_projected_coordinates_far_from_the_origin() -> None:
    x0, y0 = 39_500_000.0, 4_000_000.0  # a Gauss-Krüger zone 39 position
    line = shapely.transform(LINE, lambda c: c + (x0, y0))
    red = _red(shapely.transform(SQUARE, lambda c: c + (x0, y0)))
    d = find_detour(line, red, width_m=WIDTH_M)
    assert d.extra_length_m == pytest.approx(2_060, abs=1e-6)
    assert d.route is not None and d.route.coords[0] == line.coords[0]


# -- determinism ------------------------------------------------------------------------


def _boxes(seed: int, n: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    x = rng.uniform(1_000, 9_000, n)
    y = rng.uniform(-800, 800, n)
    w = rng.uniform(50, 400, (n, 2))
    return _red(*shapely.box(x - w[:, 0], y - w[:, 1], x + w[:, 0], y + w[:, 1]))


def test_same_input_gives_the_same_detour() -> None:
    red = _boxes(7, 12)
    first = find_detour(LINE, red, width_m=WIDTH_M)
    second = find_detour(LINE, red, width_m=WIDTH_M)
    assert first == second


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 15), shuffle=st.randoms(use_true_random=False))
def test_obstacle_order_does_not_change_the_length(seed: int, n: int, shuffle: object) -> None:
    red = _boxes(seed, n)
    order = list(range(n))
    shuffle.shuffle(order)  # type: ignore[attr-defined]
    a = find_detour(LINE, red, width_m=WIDTH_M)
    b = find_detour(LINE, red[order], width_m=WIDTH_M)
    assert a.is_found == b.is_found
    if a.is_found:
        assert a.length_m == pytest.approx(b.length_m, abs=1e-6)
        assert _overlap_m2(a, red, WIDTH_M / 2) < 1e-3


# -- bad input --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "route",
    [
        shapely.LineString(),
        shapely.LineString([(0, 0), (0, 0)]),
        shapely.MultiLineString([[(0, 0), (1, 0)]]),
        shapely.Point(0, 0),
    ],
)
def test_route_that_is_not_a_line_is_a_geometry_error(route: shapely.Geometry) -> None:
    with pytest.raises(GeometryError):
        find_detour(route, _red(SQUARE), width_m=WIDTH_M)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"width_m": -1.0},
        {"width_m": math.nan},
        {"width_m": 60.0, "clearance_m": -1.0},
        {"width_m": 60.0, "corridor_m": 0.0},
        {"width_m": 60.0, "departure_m": math.inf},
        {"width_m": 60.0, "max_vertices": 2},
    ],
)
def test_out_of_range_parameter_is_a_config_error(kwargs: dict[str, float]) -> None:
    with pytest.raises(ConfigError):
        find_detour(LINE, _red(SQUARE), **kwargs)  # type: ignore[arg-type]
