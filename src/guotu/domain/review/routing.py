"""Suggested alternative alignment (避让线位) for a special-plan route crossing a red line.

A special plan (专项规划: a highway, a pipeline …) is a centre line with a width ``width_m``
(KD). Where it runs inside 生态保护红线 polygons, plan review suggests the shortest alternative
centre line that keeps its whole width (plus a clearance) outside every red line and stays
within a corridor around the original line, or states that none exists.

Method:

1. The red lines are clipped to the neighbourhood of the corridor, dissolved and *inflated*
   by ``r = width_m / 2 + clearance_m`` with mitred joins (a square stays a square). A mitred
   offset contains the exact offset, so a centre line outside the inflated polygons keeps its
   whole buffer (flat or round caps) outside the red lines; it may touch them. Free space is
   ``route.buffer(corridor_m)`` minus the inflated polygons.
2. When the inflated polygons hold more than ``max_vertices`` vertices they are simplified
   *outward*: buffered by 1.5 × the tolerance, then Douglas-Peucker simplified by the
   tolerance (its Hausdorff error), so the result still covers them. The tolerance doubles
   until the count fits; the detour may then be longer than the exact one (a gap narrower
   than about three tolerances closes). When no detour exists round the simplified polygons
   the search is repeated on the exact ones, so "none exists" is never due to simplifying.
3. The route is cut where it crosses an inflated polygon (touching is not crossing). The
   free pieces are kept as they are; the detour leaves the line at the last free point before
   a crossing (the entry point, or with ``departure_m`` anywhere up to that far before it) and
   rejoins it at the first free point after a crossing (or up to ``departure_m`` after).
4. Shortest path: A* (Euclidean heuristic, heapq) over a lazily built visibility graph whose
   nodes are those leave/rejoin points and the reflex vertices of the free space (the only
   places a shortest path bends). From each node popped, the candidate segments are filtered
   with numpy (tangency at obstacle vertices, can it improve the best length) and tested in
   one vectorised ``shapely.covered_by`` call against the prepared free space. Leaving at one
   crossing and rejoining after a later one, so going round several red lines at once, is a
   candidate like any other.

Everything runs in coordinates relative to the route's start point (precision), and the
result is moved back. Geometries are in a projected CRS, in metres; nothing is rounded.

Steps 1-3 (the red lines as the search sees them, and where the route crosses them) are
:mod:`guotu.domain.review.detour_obstacles`; step 4 (the visibility graph and its A*) is
:mod:`guotu.domain.review.detour_graph`. This module checks the arguments, runs them and words
the answer (:class:`Detour`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from guotu.domain.review.detour_graph import VisibilityGraph
from guotu.domain.review.detour_obstacles import (
    TOLERANCE_M,
    find_crossings,
    inflate,
    shrink,
    simplify_outward,
)
from guotu.errors import ConfigError, GeometryError

__all__ = ["Detour", "find_detour"]

ObjArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Detour:
    """The alternative alignment of a route around the red lines, or why there is none.

    Attributes
    ----------
    is_found
        An alignment clear of every red line exists in the corridor (also true when the
        route needs no detour; see ``is_rerouted``).
    route
        The whole alternative centre line, from the original start point to the original end
        point; the original line itself when it crosses nothing; ``None`` when not found.
    original_length_m
        Length of the original centre line.
    length_m, extra_length_m
        Length of the alternative and ``length_m - original_length_m``; ``None`` when not found.
    reason_zh, reason_en
        Why none was found, or a one-line description of the detour.
    is_rerouted
        The alternative differs from the original (the route crosses a red line). ``False``
        with ``is_found`` means the original line is already clear: ``route`` is the original
        and ``extra_length_m`` is 0.
    """

    is_found: bool
    route: shapely.LineString | None
    original_length_m: float
    length_m: float | None
    extra_length_m: float | None
    reason_zh: str
    reason_en: str
    is_rerouted: bool = False


def find_detour(
    route: shapely.LineString,
    obstacles: ObjArray,
    *,
    width_m: float,
    corridor_m: float = 2000.0,
    clearance_m: float = 0.0,
    max_vertices: int = 2000,
    departure_m: float = 0.0,
) -> Detour:
    """The shortest alternative centre line that keeps ``route``'s width clear of ``obstacles``.

    Parameters
    ----------
    route
        The centre line of the special plan, in a projected CRS (metres).
    obstacles
        Red-line polygons (生态保护红线) in the same CRS; holes, multipolygons, ``None`` and
        empty geometries are allowed, invalid ones are repaired (``make_valid``).
    width_m
        Width of the planned line (KD); half of it must stay outside the red lines.
    corridor_m
        The alternative stays within ``route.buffer(corridor_m)``.
    clearance_m
        Extra distance to keep from the red lines, beyond the half-width.
    max_vertices
        Most vertices of inflated red lines in the search; more are simplified outward.
    departure_m
        How far before a crossing the detour may leave the original line, and how far after
        it may rejoin it (0: at the last free point before and the first free point after).

    Returns
    -------
    Detour
        ``is_found`` is false, with the reason, when the start or end point lies within the
        inflated red lines or no path exists within the corridor.

    Raises
    ------
    GeometryError
        ``route`` is not a non-empty LineString of positive length.
    ConfigError
        A width, clearance, corridor or vertex limit out of range.

    Examples
    --------
    >>> line = shapely.LineString([(0, 0), (10_000, 0)])
    >>> red = np.array([shapely.box(4_000, -1_000, 6_000, 1_000)], dtype=object)
    >>> d = find_detour(line, red, width_m=60)
    >>> d.is_found, d.extra_length_m
    (True, 2060.0)
    >>> find_detour(line, red, width_m=60, corridor_m=500).reason_en
    'No alignment within the 500 m corridor avoids the ecological red line.'
    """
    _check_arguments(route, width_m, corridor_m, clearance_m, max_vertices, departure_m)
    original_length_m = float(route.length)
    x0, y0 = route.coords[0][:2]
    line = shapely.transform(shapely.force_2d(route), lambda c: c - (x0, y0))
    radius_m = width_m / 2 + clearance_m
    corridor = shapely.buffer(line, corridor_m)
    exact = inflate(obstacles, line, corridor_m, radius_m, (x0, y0))
    exact_vis = shrink(exact)
    shapely.prepare(exact_vis)

    def not_found(zh: str, en: str) -> Detour:
        return Detour(False, None, original_length_m, None, None, zh, en)

    inside = shapely.contains(exact_vis, shapely.points(np.asarray(line.coords)[[0, -1]]))
    if inside.any():
        which_zh, which_en = ("起点", "start") if inside[0] else ("终点", "end")
        return not_found(
            f"线位{which_zh}位于生态保护红线（含 {radius_m:g} m 半宽与净距）内，不存在避让线位。",
            f"The {which_en} point of the alignment lies within the ecological red line "
            f"(with {radius_m:g} m half-width and clearance); no avoiding alignment exists.",
        )
    n = len(find_crossings(line, exact, exact_vis))
    if n == 0:
        return Detour(
            True,
            route,
            original_length_m,
            original_length_m,
            0.0,
            "线位未穿越生态保护红线（含半宽与净距），无需避让。",
            "The alignment does not cross the ecological red line (with its "
            "half-width and clearance); no detour is needed.",
        )
    simple = simplify_outward(exact, max_vertices, corridor)
    found = _search(line, corridor, simple, departure_m)
    if found is None and simple is not exact:
        # simplifying outward may close a narrow gap: never say "none" on its account
        found = _search(line, corridor, exact, departure_m)
    if found is None:
        return not_found(
            f"在 {corridor_m:g} m 走廊范围内不存在避让生态保护红线的线位。",
            f"No alignment within the {corridor_m:g} m corridor avoids the ecological red line.",
        )
    coords = found + np.array([x0, y0])
    coords[0], coords[-1] = route.coords[0][:2], route.coords[-1][:2]
    detour = shapely.LineString(coords)
    length_m = float(detour.length)
    extra_m = length_m - original_length_m
    return Detour(
        True,
        detour,
        original_length_m,
        length_m,
        extra_m,
        f"替代线位绕避 {n} 处穿越生态保护红线的路段，长 {length_m:.1f} m，"
        f"比原线位增加 {extra_m:.1f} m。",
        f"The alternative alignment avoids {n} crossing(s) of the ecological red line; "
        f"it is {length_m:.1f} m long, {extra_m:.1f} m longer than the original.",
        is_rerouted=True,
    )


def _search(
    line: shapely.LineString,
    corridor: shapely.Geometry,
    blocked: shapely.Geometry,
    departure_m: float,
) -> FloatArray | None:
    """The coordinates of the alternative line round ``blocked``, ``None`` when there is none."""
    blocked_vis = shrink(blocked)
    shapely.prepare(blocked_vis)
    crossings = find_crossings(line, blocked, blocked_vis)
    if not crossings:  # pragma: no cover - the caller has found some on the exact polygons
        return None
    free_vis = shapely.difference(shapely.buffer(corridor, TOLERANCE_M), blocked_vis)
    shapely.prepare(free_vis)
    graph = VisibilityGraph.build(
        line, crossings, shapely.difference(corridor, blocked), free_vis, departure_m
    )
    paths = _detour_paths(graph, free_vis, len(crossings))
    if paths is None:
        return None
    return graph.path_coords(line, paths)


def _detour_paths(
    graph: VisibilityGraph, free_vis: shapely.Geometry, n_crossings: int
) -> list[list[int]] | None:
    """One path per group of crossings, in order, or ``None`` when some crossing cannot be
    avoided. Each crossing is avoided on its own, rejoining the line before the next one,
    unless it cannot be (the line runs on through a hole in the red line, or into a pocket of
    free space closed by the next red line): then it is grouped with the next ones."""
    paths: list[list[int]] = []
    first = 0
    while first < n_crossings:
        last = first
        while True:
            path = (
                graph.shortest_path(free_vis, first, last)
                if graph.is_connected(first, last)
                else None
            )
            if path is not None:
                break
            last += 1
            if last == n_crossings:
                return None
        paths.append(path)
        first = last + 1
    return paths


def _check_arguments(
    route: shapely.LineString,
    width_m: float,
    corridor_m: float,
    clearance_m: float,
    max_vertices: int,
    departure_m: float,
) -> None:
    """Raise for a route or parameter the search cannot use."""
    if (
        not isinstance(route, shapely.LineString)
        or route.is_empty
        or not math.isfinite(route.length)
        or route.length <= 0
    ):
        kind = getattr(route, "geom_type", type(route).__name__)
        raise GeometryError(
            f"The route must be a LineString of positive length, not {kind}.",
            fix="Pass the centre line of one special-plan feature.",
            message_zh=f"线位必须是长度大于 0 的 LineString，而不是 {kind}。",
            fix_zh="请传入一条专项规划中心线。",
        )
    for name, value, least in (
        ("width_m", width_m, 0.0),
        ("clearance_m", clearance_m, 0.0),
        ("departure_m", departure_m, 0.0),
    ):
        if not (math.isfinite(value) and value >= least):
            raise ConfigError(
                f"{name} must be a finite number of metres >= 0, not {value!r}.",
                fix=f"Give {name} in metres.",
            )
    if not (math.isfinite(corridor_m) and corridor_m > 0):
        raise ConfigError(
            f"corridor_m must be a finite number of metres > 0, not {corridor_m!r}.",
            fix="Give the corridor half-width in metres.",
        )
    if max_vertices < 3:
        raise ConfigError(
            f"max_vertices must be at least 3, not {max_vertices!r}.",
            fix="Allow at least a triangle's worth of vertices.",
        )
