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
"""

from __future__ import annotations

import heapq
import itertools
import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry.polygon import orient

from guotu.domain.geometry.polygons import POLYGONAL_TYPES, repair_polygonal
from guotu.errors import ConfigError, GeometryError

__all__ = ["Detour", "find_detour"]

ObjArray = npt.NDArray[np.object_]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]

#: Metres by which the inflated red lines are shrunk for visibility tests, so that a centre
#: line running exactly along an inflated edge (its buffer touching the red line) is free
#: despite floating-point noise. Far below any survey precision.
TOLERANCE_M = 1e-6

#: Route pieces closer than this (in metres along the line) are merged.
_MERGE_M = 1e-9


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
    exact = _inflated(obstacles, line, corridor_m, radius_m, (x0, y0))
    exact_vis = _shrunk(exact)
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
    n = len(_crossings(line, exact, exact_vis))
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
    simple = _simplified_outward(exact, max_vertices, corridor)
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
    blocked_vis = _shrunk(blocked)
    shapely.prepare(blocked_vis)
    crossings = _crossings(line, blocked, blocked_vis)
    if not crossings:  # pragma: no cover - the caller has found some on the exact polygons
        return None
    free_vis = shapely.difference(shapely.buffer(corridor, TOLERANCE_M), blocked_vis)
    shapely.prepare(free_vis)
    graph = _Graph.build(
        line, crossings, shapely.difference(corridor, blocked), free_vis, departure_m
    )
    paths = _detour_paths(graph, free_vis, len(crossings))
    if paths is None:
        return None
    return graph.path_coords(line, paths)


def _detour_paths(
    graph: _Graph, free_vis: shapely.Geometry, n_crossings: int
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


def _inflated(
    obstacles: ObjArray,
    line: shapely.LineString,
    corridor_m: float,
    radius_m: float,
    origin: tuple[float, float],
) -> shapely.Geometry:
    """The obstacles near the corridor, moved to the local origin, dissolved and inflated.

    Clipping to ``line.buffer(corridor_m + radius_m + 1)`` first keeps huge red lines cheap and
    changes nothing inside the corridor: a corridor point within ``radius_m`` of a red line is
    within ``radius_m`` of its part inside that buffer.
    """
    arr = np.asarray(obstacles, dtype=object).ravel()
    arr = arr[~shapely.is_missing(arr)]
    arr = arr[~shapely.is_empty(arr)]
    arr = arr[np.isin(shapely.get_type_id(arr), POLYGONAL_TYPES)]
    invalid = ~shapely.is_valid(arr)
    if invalid.any():
        arr = arr.copy()
        arr[invalid] = repair_polygonal(arr[invalid])
    arr = shapely.transform(arr, lambda c: c - origin)
    region = shapely.buffer(line, corridor_m + radius_m + 1.0)
    shapely.prepare(region)
    near = arr[shapely.intersects(region, arr)]
    if len(near) == 0:
        return shapely.Polygon()
    clipped = shapely.union_all(shapely.intersection(near, region))
    clipped = _polygonal(clipped)
    if radius_m > 0:
        clipped = shapely.buffer(clipped, radius_m, join_style="mitre")
    return clipped


def _polygonal(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal parts of ``geom`` as one (multi)polygon."""
    if shapely.get_type_id(geom) in POLYGONAL_TYPES:
        return geom
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), POLYGONAL_TYPES)]
    return shapely.union_all(parts) if len(parts) else shapely.Polygon()


def _simplified_outward(
    blocked: shapely.Geometry, max_vertices: int, corridor: shapely.Geometry
) -> shapely.Geometry:
    """``blocked`` with at most about ``max_vertices`` vertices, still covering it.

    ``blocked`` is already clipped to the corridor's neighbourhood, so its vertices are
    counted whole. Returns ``blocked`` itself when it is small enough.
    """
    if int(shapely.get_num_coordinates(blocked)) <= max_vertices:
        return blocked
    xmin, ymin, xmax, ymax = corridor.bounds
    tolerance_m = max(xmax - xmin, ymax - ymin) * 1e-4
    simple = blocked
    shapely.prepare(blocked)
    for _ in range(30):
        grown = shapely.buffer(blocked, 1.5 * tolerance_m, join_style="mitre")
        candidate = _polygonal(
            shapely.make_valid(shapely.simplify(grown, tolerance_m, preserve_topology=True))
        )
        if not shapely.covers(candidate, blocked):
            break  # collapsed parts: keep the last one that still covers everything
        simple = candidate
        if int(shapely.get_num_coordinates(simple)) <= max_vertices:
            break
        tolerance_m *= 2
    return simple


def _shrunk(blocked: shapely.Geometry) -> shapely.Geometry:
    """``blocked`` shrunk by :data:`TOLERANCE_M`, the polygons a centre line may not enter."""
    if blocked.is_empty:
        return blocked
    return shapely.buffer(blocked, -TOLERANCE_M, join_style="mitre")


def _crossings(
    line: shapely.LineString, blocked: shapely.Geometry, blocked_vis: shapely.Geometry
) -> list[tuple[float, float]]:
    """The stretches ``(from_m, to_m)`` along ``line`` inside ``blocked``, merged and sorted,
    that enter its interior (a stretch that only touches it is free)."""
    if blocked.is_empty:
        return []
    xy = np.asarray(line.coords)
    seg_len = np.hypot(*np.diff(xy, axis=0).T)
    keep = seg_len > 0
    starts, ends, seg_len = xy[:-1][keep], xy[1:][keep], seg_len[keep]
    cum = np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])[:-1][keep]
    segments = shapely.linestrings(np.stack([starts, ends], axis=1))
    shapely.prepare(blocked)
    hit = np.flatnonzero(shapely.intersects(blocked, segments))
    if len(hit) == 0:
        return []
    parts, owner = shapely.get_parts(
        shapely.intersection(segments[hit], blocked), return_index=True
    )
    is_line = (shapely.get_type_id(parts) == int(shapely.GeometryType.LINESTRING)) & (
        shapely.length(parts) > 0
    )
    parts, owner = parts[is_line], hit[owner[is_line]]
    if len(parts) == 0:
        return []
    enters = shapely.intersects(blocked_vis, parts)
    a = shapely.get_coordinates(shapely.get_point(parts, 0))
    b = shapely.get_coordinates(shapely.get_point(parts, -1))
    direction = (ends[owner] - starts[owner]) / seg_len[owner, None]
    ta = np.clip(np.einsum("ij,ij->i", a - starts[owner], direction), 0, seg_len[owner])
    tb = np.clip(np.einsum("ij,ij->i", b - starts[owner], direction), 0, seg_len[owner])
    lo = cum[owner] + np.minimum(ta, tb)
    hi = cum[owner] + np.maximum(ta, tb)
    merged: list[list[float]] = []
    flags: list[bool] = []
    for k in np.argsort(lo, kind="stable"):
        if merged and lo[k] <= merged[-1][1] + _MERGE_M:
            merged[-1][1] = max(merged[-1][1], float(hi[k]))
            flags[-1] = flags[-1] or bool(enters[k])
        else:
            merged.append([float(lo[k]), float(hi[k])])
            flags.append(bool(enters[k]))
    return [(lo_m, hi_m) for (lo_m, hi_m), f in zip(merged, flags, strict=True) if f]


def _reflex_vertices(free: shapely.Geometry) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The reflex vertices of the free space with their previous and next ring neighbours."""
    found: list[tuple[FloatArray, FloatArray, FloatArray]] = []
    for poly in shapely.get_parts(_polygonal(free)):
        poly = orient(poly, 1.0)  # exterior CCW, holes CW: the free side is always on the left
        for ring in (poly.exterior, *poly.interiors):
            c = np.asarray(ring.coords)[:-1, :2]
            if len(c) < 3:
                continue
            p, n = np.roll(c, 1, axis=0), np.roll(c, -1, axis=0)
            cross = (c[:, 0] - p[:, 0]) * (n[:, 1] - c[:, 1]) - (c[:, 1] - p[:, 1]) * (
                n[:, 0] - c[:, 0]
            )
            reflex = cross < 0
            found.append((c[reflex], p[reflex], n[reflex]))
    if not found:
        empty = np.empty((0, 2))
        return empty, empty, empty
    xy, prev, nxt = (np.concatenate(x) for x in zip(*found, strict=True))
    order = np.lexsort((xy[:, 1], xy[:, 0]))  # deterministic whatever the input order
    return xy[order], prev[order], nxt[order]


def _cross(o: FloatArray, a: FloatArray, b: FloatArray) -> FloatArray:
    """z of (a - o) × (b - o), row by row."""
    return np.asarray(
        (a[..., 0] - o[..., 0]) * (b[..., 1] - o[..., 1])
        - (a[..., 1] - o[..., 1]) * (b[..., 0] - o[..., 0]),
        dtype=np.float64,
    )


def _tangent(at: FloatArray, other: FloatArray, prev: FloatArray, nxt: FloatArray) -> BoolArray:
    """Whether the line through ``other`` and obstacle vertex ``at`` only touches the obstacle
    there (both ring neighbours on one side): else no shortest path uses that edge."""
    reach = np.hypot(*(at - other).T)
    sides = []
    for neighbour in (prev, nxt):
        # the sine of the turn, so that near-collinear (noise) counts as on the line
        sine = _cross(other, at, neighbour) / np.maximum(
            reach * np.hypot(*(neighbour - at).T), np.finfo(np.float64).tiny
        )
        sides.append(np.where(np.abs(sine) <= 1e-9, 0, np.sign(sine)))
    return np.asarray(sides[0] * sides[1] >= 0, dtype=np.bool_)


@dataclass(frozen=True)
class _Graph:
    """Nodes of the search: route nodes first (leave/rejoin points), then reflex vertices.

    ``gap[i]`` is the free stretch of the route a route node lies on (stretch k ends where
    crossing k begins); ``-1`` for reflex vertices. A detour round crossings i..j leaves from a
    ``can_leave`` node of stretch i and rejoins at a ``can_rejoin`` node of stretch j + 1.
    ``part[i]`` is the polygon of free space a node lies in (-1 outside all).
    """

    xy: FloatArray
    prev: FloatArray
    nxt: FloatArray
    along_m: FloatArray
    gap: IntArray
    can_leave: BoolArray
    can_rejoin: BoolArray
    part: IntArray
    n_route: int

    @classmethod
    def build(
        cls,
        line: shapely.LineString,
        crossings: list[tuple[float, float]],
        free: shapely.Geometry,
        free_vis: shapely.Geometry,
        departure_m: float,
    ) -> _Graph:
        """The graph for ``line`` with its ``crossings`` in ``free`` space.

        On a stretch between two crossings the rejoin window (after the first) and the leave
        window (before the second) are each at most half of it, so that consecutive detours
        never overlap along the line.
        """
        cum = _cumulative_m(line)
        bounds = [0.0, *(v for c in crossings for v in c), float(cum[-1])]
        along: list[float] = []
        gap: list[int] = []
        leave: list[bool] = []
        rejoin: list[bool] = []
        n_gaps = len(crossings) + 1
        for k in range(n_gaps):
            lo, hi = bounds[2 * k], bounds[2 * k + 1]
            mid = (lo + hi) / 2 if 0 < k < n_gaps - 1 else (hi if k > 0 else lo)
            rejoin_to = min(lo + departure_m, mid) if k > 0 else -math.inf
            leave_from = max(hi - departure_m, mid) if k < n_gaps - 1 else math.inf
            marks = {lo, hi, rejoin_to, leave_from}
            marks.update(float(s) for s in cum if lo < s < hi)
            for s in sorted(m for m in marks if lo <= m <= hi):
                if lo < s < hi and rejoin_to < s < leave_from:
                    continue  # a vertex of a kept stretch: path_coords puts it back
                along.append(s)
                gap.append(k)
                leave.append(s >= leave_from)
                rejoin.append(s <= rejoin_to)
        route_xy = shapely.get_coordinates(shapely.line_interpolate_point(line, np.array(along)))
        vxy, vprev, vnxt = _reflex_vertices(free)
        xy = np.concatenate([route_xy, vxy])
        parts = shapely.get_parts(free_vis)
        part = np.full(len(xy), -1, dtype=np.int64)
        if len(parts):
            where, which = shapely.STRtree(parts).query(shapely.points(xy), predicate="covered_by")
            part[where[::-1]] = which[::-1]  # the first part when a point is on two
        return cls(
            xy=xy,
            prev=np.concatenate([route_xy, vprev]),
            nxt=np.concatenate([route_xy, vnxt]),
            along_m=np.concatenate([along, np.full(len(vxy), np.nan)]),
            gap=np.concatenate([np.array(gap, dtype=np.int64), np.full(len(vxy), -1)]),
            can_leave=np.concatenate([leave, np.ones(len(vxy), dtype=bool)]),
            can_rejoin=np.concatenate([rejoin, np.ones(len(vxy), dtype=bool)]),
            part=part,
            n_route=len(along),
        )

    def ends(self, first: int, last: int) -> tuple[int, int]:
        """The first leave node before crossing ``first`` and the last rejoin node after
        crossing ``last``."""
        route = np.arange(self.n_route)
        source = route[(self.gap[route] == first) & self.can_leave[route]][0]
        goal = route[(self.gap[route] == last + 1) & self.can_rejoin[route]][-1]
        return int(source), int(goal)

    def is_connected(self, first: int, last: int) -> bool:
        """Whether the detour round crossings ``first``..``last`` has both ends in one polygon
        of free space (necessary, and with the reflex vertices sufficient, for a path)."""
        source, goal = self.ends(first, last)
        return bool(self.part[source] >= 0 and self.part[source] == self.part[goal])

    def shortest_path(self, free_vis: shapely.Geometry, first: int, last: int) -> list[int] | None:
        """Node indices of the shortest detour round crossings ``first``..``last`` (A*),
        ``None`` if there is none."""
        n = len(self.xy)
        start, goal = self.ends(first, last)
        is_vertex = np.arange(n) >= self.n_route
        leaves = ~is_vertex & (self.gap == first) & self.can_leave
        rejoins = ~is_vertex & (self.gap == last + 1) & self.can_rejoin
        h = np.hypot(*(self.xy - self.xy[goal]).T)
        best = np.full(n, np.inf)
        parent = np.full(n, -1, dtype=np.int64)
        # only nodes of this detour, in the polygon of free space where it starts
        closed = ~(is_vertex | leaves | rejoins) | (self.part != self.part[start])
        best[start] = 0.0
        heap: list[tuple[float, float, int]] = [(float(h[start]), 0.0, start)]

        def relax(u: int, vs: IntArray, cost: FloatArray) -> None:
            for v, c in zip(vs.tolist(), cost.tolist(), strict=True):
                if best[u] + c < best[v]:
                    best[v] = best[u] + c
                    parent[v] = u
                    heapq.heappush(heap, (best[v] + float(h[v]), best[v], v))

        while heap:
            _, g_u, u = heapq.heappop(heap)
            if closed[u] or g_u > best[u]:
                continue
            closed[u] = True
            if u == goal:
                break
            if (
                not is_vertex[u]
                and u + 1 < self.n_route
                and not closed[u + 1]
                and (self.gap[u + 1] == self.gap[u])
            ):  # along the kept line
                relax(u, np.array([u + 1]), np.array([self.along_m[u + 1] - self.along_m[u]]))
            if not (is_vertex[u] or leaves[u]):
                continue
            cand = np.flatnonzero(~closed & (is_vertex | rejoins))
            d = np.hypot(*(self.xy[cand] - self.xy[u]).T)
            better = best[u] + d < best[cand]
            cand, d = cand[better], d[better]
            at_v = is_vertex[cand]
            keep = np.ones(len(cand), dtype=bool)
            keep[at_v] = _tangent(
                self.xy[cand[at_v]], self.xy[u], self.prev[cand[at_v]], self.nxt[cand[at_v]]
            )
            if is_vertex[u]:
                keep &= _tangent(self.xy[u], self.xy[cand], self.prev[u], self.nxt[u])
            cand, d = cand[keep], d[keep]
            if len(cand) == 0:
                continue
            pairs = np.stack([np.broadcast_to(self.xy[u], (len(cand), 2)), self.xy[cand]], axis=1)
            visible = shapely.covered_by(shapely.linestrings(pairs), free_vis)
            relax(u, cand[visible], d[visible])
        if not closed[goal] or best[goal] == np.inf:
            return None
        path = [goal]
        while path[-1] != start:
            path.append(int(parent[path[-1]]))
        return path[::-1]

    def path_coords(self, line: shapely.LineString, paths: list[list[int]]) -> FloatArray:
        """The whole alternative line: the kept stretches of ``line`` (with their vertices)
        joined by the detour ``paths`` (in order along the line)."""
        xy_line = np.asarray(line.coords)[:, :2]
        cum = _cumulative_m(line)
        out: list[FloatArray] = [xy_line[:1]]
        done_m = 0.0

        def keep_line(to_m: float) -> None:
            out.append(xy_line[(cum > done_m) & (cum < to_m)])

        for path in paths:
            for u, v in itertools.pairwise(path):
                if u == path[0] and self.along_m[u] > done_m:
                    keep_line(float(self.along_m[u]))
                    out.append(self.xy[u : u + 1])
                if v < self.n_route and self.gap[u] == self.gap[v] and u < self.n_route:
                    done_m = float(self.along_m[u])
                    keep_line(float(self.along_m[v]))
                out.append(self.xy[v : v + 1])
            done_m = float(self.along_m[path[-1]])
        keep_line(float(cum[-1]))
        out.append(xy_line[-1:])
        coords = np.concatenate(out)
        step = np.hypot(*np.diff(coords, axis=0).T)
        return np.asarray(coords[np.concatenate([[True], step > 0])], dtype=np.float64)


def _cumulative_m(line: shapely.LineString) -> FloatArray:
    """Distance along ``line`` of each of its vertices."""
    xy = np.asarray(line.coords)[:, :2]
    return np.concatenate([[0.0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
