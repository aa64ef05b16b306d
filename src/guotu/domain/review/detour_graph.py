"""The visibility graph of the detour search and its shortest paths
(:func:`guotu.domain.review.routing.find_detour`, step 4 of its method).

:class:`VisibilityGraph` holds the leave and rejoin points on the route and the reflex
vertices of the free space (the only places a shortest path bends); its A*
(:meth:`VisibilityGraph.shortest_path`) builds the edges lazily, filtering candidates with
numpy (tangency at obstacle vertices, can it improve the best length) and testing them in one
vectorised ``shapely.covered_by`` call against the prepared free space;
:meth:`VisibilityGraph.path_coords` joins the detours and the kept stretches of the route.
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

from guotu.domain.review.detour_obstacles import polygonal_part

__all__ = ["VisibilityGraph"]

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
IntArray = npt.NDArray[np.int64]


def _reflex_vertices(free: shapely.Geometry) -> tuple[FloatArray, FloatArray, FloatArray]:
    """The reflex vertices of the free space with their previous and next ring neighbours."""
    found: list[tuple[FloatArray, FloatArray, FloatArray]] = []
    for poly in shapely.get_parts(polygonal_part(free)):
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
class VisibilityGraph:
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
    ) -> VisibilityGraph:
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
