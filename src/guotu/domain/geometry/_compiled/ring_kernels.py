"""Compiled ring kernels: convex pieces of simple rings (ear clipping, the ears merged back
while convex), which geometries are one closed ring, and normalized exterior rings."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from guotu.domain.geometry._compiled import njit

__all__ = ["ccw_open_rings", "convex_pieces", "one_ring_runs"]

FloatArray = npt.NDArray[np.float64]


@njit(cache=True, nogil=True)
def _ears(xy: FloatArray, s: int, n: int, tri: Any) -> int:  # pragma: no cover - compiled
    """Ear clipping of the simple counter-clockwise ring ``xy[s:s + n]`` (open, no holes):
    writes each triangle's vertices (ring-local, counter-clockwise) to ``tri`` in the order
    the ears are cut, and returns their number, or -1 when the ears run out (a touching or
    degenerate ring). A vertex on a straight run is dropped without a triangle."""
    nxt = np.empty(n, dtype=np.int64)
    prv = np.empty(n, dtype=np.int64)
    for j in range(n):
        nxt[j] = j + 1 if j + 1 < n else 0
        prv[j] = j - 1 if j > 0 else n - 1
    alive = n
    cur = 0
    stall = 0
    m = 0
    while alive > 3:
        a = prv[cur]
        c = nxt[cur]
        ax, ay = xy[s + a, 0], xy[s + a, 1]
        bx, by = xy[s + cur, 0], xy[s + cur, 1]
        cx, cy = xy[s + c, 0], xy[s + c, 1]
        cross = (bx - ax) * (cy - ay) - (by - ay) * (cx - ax)
        ear = False
        if cross == 0.0:  # straight (or a zero-width spike): drop the vertex
            nxt[a] = c
            prv[c] = a
            alive -= 1
            cur = a
            stall = 0
            continue
        if cross > 0:
            ear = True
            p = nxt[c]
            while p != a:
                px, py = xy[s + p, 0], xy[s + p, 1]
                d1 = (bx - ax) * (py - ay) - (by - ay) * (px - ax)
                d2 = (cx - bx) * (py - by) - (cy - by) * (px - bx)
                d3 = (ax - cx) * (py - cy) - (ay - cy) * (px - cx)
                if d1 >= 0 and d2 >= 0 and d3 >= 0:  # inside or on the ear: not an ear
                    ear = False
                    break
                p = nxt[p]
        if ear:
            tri[m, 0], tri[m, 1], tri[m, 2] = a, cur, c
            m += 1
            nxt[a] = c
            prv[c] = a
            alive -= 1
            cur = a
            stall = 0
        else:
            cur = c
            stall += 1
            if stall > alive:
                return -1
    a = prv[cur]
    c = nxt[cur]
    ax, ay = xy[s + a, 0], xy[s + a, 1]
    bx, by = xy[s + cur, 0], xy[s + cur, 1]
    cx, cy = xy[s + c, 0], xy[s + c, 1]
    if (bx - ax) * (cy - ay) - (by - ay) * (cx - ax) > 0:
        tri[m, 0], tri[m, 1], tri[m, 2] = a, cur, c
        m += 1
    return m


@njit(cache=True, nogil=True)
def convex_pieces(
    xy: FloatArray, start: Any, count: Any
) -> tuple[FloatArray, Any, Any, Any]:  # pragma: no cover - compiled
    """Convex pieces of simple counter-clockwise rings (no holes): ring i is
    ``xy[start[i]:start[i] + count[i]]`` (open). The ear triangles (:func:`_ears`), each merged into the piece before it while they share an edge and
    the union stays strictly convex (a greedy Hertel–Mehlhorn: far fewer pieces than
    triangles, so the area kernel clips fewer parts). Returns the pieces' vertices
    (counter-clockwise, open, one piece after the other), their vertex counts, each piece's
    ring, and whether each ring was cut."""
    n_rings = start.shape[0]
    total = 0
    widest = 3
    for i in range(n_rings):
        total += max(count[i] - 2, 0)
        widest = max(widest, count[i])
    out = np.empty((total * 3, 2))
    sizes = np.empty(max(total, 1), dtype=np.int64)
    owner = np.empty(max(total, 1), dtype=np.int64)
    ok = np.zeros(n_rings, dtype=np.bool_)
    tri = np.empty((max(widest - 2, 1), 3), dtype=np.int64)
    piece = np.empty(widest, dtype=np.int64)  # the piece being grown (ring-local vertices)
    w = 0
    n_out = 0
    for i in range(n_rings):
        n, s = count[i], start[i]
        got = _ears(xy, s, n, tri) if n >= 3 else -1
        if got < 0:
            continue
        ok[i] = True
        size = 0
        for t in range(got + 1):
            merged = False
            if t < got and size > 0:
                # An edge u → v of the piece that the triangle has as v → u, third vertex x.
                for e in range(size):
                    u = piece[e]
                    v = piece[e + 1 if e + 1 < size else 0]
                    x = -1
                    for q in range(3):
                        if tri[t, q] == v and tri[t, q + 1 if q < 2 else 0] == u:
                            x = tri[t, q + 2 if q < 1 else q - 1]
                    if x < 0:
                        continue
                    pu = piece[e - 1 if e > 0 else size - 1]
                    nv = piece[e + 2 if e + 2 < size else e + 2 - size]
                    turn_u = (xy[s + u, 0] - xy[s + pu, 0]) * (xy[s + x, 1] - xy[s + u, 1]) - (
                        xy[s + u, 1] - xy[s + pu, 1]
                    ) * (xy[s + x, 0] - xy[s + u, 0])
                    turn_v = (xy[s + v, 0] - xy[s + x, 0]) * (xy[s + nv, 1] - xy[s + v, 1]) - (
                        xy[s + v, 1] - xy[s + x, 1]
                    ) * (xy[s + nv, 0] - xy[s + v, 0])
                    if turn_u > 0 and turn_v > 0:
                        for f in range(size, e + 1, -1):
                            piece[f] = piece[f - 1]
                        piece[e + 1] = x
                        size += 1
                        merged = True
                    break
            if merged:
                continue
            if size > 0:  # the piece is done
                for f in range(size):
                    out[w, 0] = xy[s + piece[f], 0]
                    out[w, 1] = xy[s + piece[f], 1]
                    w += 1
                sizes[n_out] = size
                owner[n_out] = i
                n_out += 1
            if t < got:
                for q in range(3):
                    piece[q] = tri[t, q]
                size = 3
    return out[:w], sizes[:n_out], owner[:n_out], ok


@njit(cache=True, nogil=True)
def one_ring_runs(xy: FloatArray, counts: Any) -> Any:  # pragma: no cover - compiled
    """Whether the coordinates of each polygonal geometry (``counts[g]`` of them, in turn,
    as ``get_coordinates`` gives them) are one closed ring: at least 4, the last equal to
    the first and no other equal to it. A Polygon with holes or a MultiPolygon ends with a
    ring that starts elsewhere, or passes the first point again where its first ring
    closes. False is the safe answer (the caller then reads the rings the slow way), so a
    ring that repeats its first vertex is simply not taken."""
    n = counts.shape[0]
    out = np.zeros(n, dtype=np.bool_)
    a = 0
    for g in range(n):
        c = counts[g]
        b = a + c - 1
        if c >= 4 and xy[b, 0] == xy[a, 0] and xy[b, 1] == xy[a, 1]:
            ok = True
            for e in range(a + 1, b):
                if xy[e, 0] == xy[a, 0] and xy[e, 1] == xy[a, 1]:
                    ok = False
                    break
            out[g] = ok
        a += c
    return out


@njit(cache=True, nogil=True)
def ccw_open_rings(xy: FloatArray, first: Any, counts: Any) -> tuple[FloatArray, Any, Any]:
    """Ring i is ``xy[first[i]:first[i] + counts[i]]`` (open: without its closing vertex).
    Returns the rings without repeated vertices (cyclically), counter-clockwise, one after
    the other; their vertex counts; and whether each has a reflex vertex — as
    :func:`guotu.domain.geometry._convex_parts.ccw_exteriors` computes them with numpy."""
    n = len(first)
    kept = np.zeros(n, dtype=np.int64)
    for i in range(n):
        s, m = first[i], counts[i]
        for k in range(m):
            v = s + k
            p = s + m - 1 if k == 0 else v - 1
            if xy[v, 0] != xy[p, 0] or xy[v, 1] != xy[p, 1]:
                kept[i] += 1
    out = np.empty((kept.sum(), 2))
    reflex = np.zeros(n, dtype=np.bool_)
    at = 0
    for i in range(n):
        s, m, c = first[i], counts[i], kept[i]
        w = at
        for k in range(m):
            v = s + k
            p = s + m - 1 if k == 0 else v - 1
            if xy[v, 0] != xy[p, 0] or xy[v, 1] != xy[p, 1]:
                out[w, 0] = xy[v, 0]
                out[w, 1] = xy[v, 1]
                w += 1
        cross = 0.0
        for k in range(c):
            a = at + k
            b = a + 1 if k + 1 < c else at
            cross += out[a, 0] * out[b, 1] - out[b, 0] * out[a, 1]
        if cross < 0:  # clockwise: reverse (vertex k becomes c - 1 - k)
            for k in range(c // 2):
                a, b = at + k, at + c - 1 - k
                tx, ty = out[a, 0], out[a, 1]
                out[a, 0], out[a, 1] = out[b, 0], out[b, 1]
                out[b, 0], out[b, 1] = tx, ty
        for k in range(c):
            v = at + k
            p = v - 1 if k > 0 else at + c - 1
            q = v + 1 if k + 1 < c else at
            turn = (out[v, 0] - out[p, 0]) * (out[q, 1] - out[v, 1]) - (out[v, 1] - out[p, 1]) * (
                out[q, 0] - out[v, 0]
            )
            if turn < 0:
                reflex[i] = True
        at += c
    return out, kept, reflex
