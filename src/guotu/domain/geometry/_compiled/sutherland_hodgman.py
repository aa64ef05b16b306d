"""The compiled Sutherland–Hodgman clipping of the overlay's geometry path: zone rings
clipped to convex features."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from guotu.domain.geometry._compiled import njit
from guotu.domain.geometry._compiled.green import add_triangle_moments

__all__ = ["clip_rings_convex"]

FloatArray = npt.NDArray[np.float64]


@njit(cache=True, nogil=True)
def _grow(buf: FloatArray, need: int) -> FloatArray:
    """``buf`` with room for ``need`` rows (its rows kept)."""
    if need <= len(buf):
        return buf
    out = np.empty((max(need, 2 * len(buf)), 2))
    out[: len(buf)] = buf
    return out


@njit(cache=True, nogil=True, inline="always")
def _outcode(x: float, y: float, bx0: float, by0: float, bx1: float, by1: float) -> int:
    """Which sides of the box (x0, y0, x1, y1) the point lies strictly beyond (4 bits)."""
    return ((x < bx0) * 1) | ((x > bx1) * 2) | ((y < by0) * 4) | ((y > by1) * 8)


@njit(cache=True, nogil=True)
def _outside_runs_cut(
    xy: FloatArray,
    first: int,
    count: int,
    ox: float,
    oy: float,
    bx0: float,
    by0: float,
    bx1: float,
    by1: float,
    out: FloatArray,
) -> int:
    """Ring ``xy[first:first + count]`` relative to (ox, oy) into ``out``, with every run of
    consecutive vertices that all lie beyond one side of the clip's box cut to its first and
    last vertex. The run and the segment that replaces it lie in that half-plane, which the
    clip polygon does not enter, so winding numbers inside the clip polygon — and hence
    Sutherland–Hodgman's result — do not change. Returns the number of vertices (when more
    than ``out`` holds, only the count: the caller grows ``out`` and calls again)."""
    w = 0
    run = 0  # the sides shared by every vertex from the last-but-one kept to the last kept
    last_code = 0
    for j in range(count):
        x = xy[first + j, 0] - ox
        y = xy[first + j, 1] - oy
        code = _outcode(x, y, bx0, by0, bx1, by1)
        if w >= 2 and (run & code) != 0:
            w -= 1  # the last kept vertex is inside the run: replaced by this one
            run &= code
        else:
            run = last_code & code
        if w < len(out):
            out[w, 0] = x
            out[w, 1] = y
        w += 1
        last_code = code
    return w


@njit(cache=True, nogil=True)
def clip_rings_convex(
    c_xy: FloatArray,
    c_off: Any,
    ox: FloatArray,
    oy: FloatArray,
    src: Any,
    src_first: Any,
    src_count: Any,
    ring_start: Any,
    ring_len: Any,
    ring_ext: Any,
    ring_box: FloatArray,
    xy: FloatArray,
    tiny: FloatArray,
) -> tuple[Any, FloatArray, Any, FloatArray]:
    """Intersections of convex polygons with polygonal sources, by Sutherland–Hodgman.

    Pair i clips every ring of source ``src[i]`` (rings ``src_first[s]`` … ``+ src_count[s]``;
    ring r is ``xy[ring_start[r]:ring_start[r] + ring_len[r]]``, open, an exterior when
    ``ring_ext[r]``, boxed by ``ring_box[r]``) to the convex counter-clockwise polygon
    ``c_xy[c_off[i]:c_off[i + 1]]`` (relative to (ox[i], oy[i]), as the output is). Rings
    whose clipped area is at most ``tiny[i]`` are dropped. Status per pair: 0 nothing left
    (the intersection is empty); 1 one exterior ring left — the intersection's boundary
    whenever the intersection is one polygon without holes, which the caller checks
    (validity) — written to the vertices returned, rows ``start[i]:start[i + 1]``, with its
    moments (∬ 1, x, x², y); 2 anything else (a hole or several rings left), for GEOS."""
    n = len(src)
    status = np.zeros(n, dtype=np.int8)
    start = np.zeros(n + 1, dtype=np.int64)
    moments = np.zeros((n, 4))
    out = np.empty((1024, 2))
    a = np.empty((256, 2))
    b = np.empty((256, 2))
    side = np.empty(256)
    used = 0
    for i in range(n):
        k0, k = c_off[i], c_off[i + 1] - c_off[i]
        bx0, by0 = c_xy[k0, 0], c_xy[k0, 1]
        bx1, by1 = bx0, by0
        for e in range(k0 + 1, k0 + k):
            bx0, bx1 = min(bx0, c_xy[e, 0]), max(bx1, c_xy[e, 0])
            by0, by1 = min(by0, c_xy[e, 1]), max(by1, c_xy[e, 1])
        s = src[i]
        found, st = 0, 1
        for r in range(src_first[s], src_first[s] + src_count[s]):
            if (
                ring_box[r, 0] - ox[i] > bx1
                or ring_box[r, 2] - ox[i] < bx0
                or ring_box[r, 1] - oy[i] > by1
                or ring_box[r, 3] - oy[i] < by0
            ):
                continue
            m = _outside_runs_cut(
                xy, ring_start[r], ring_len[r], ox[i], oy[i], bx0, by0, bx1, by1, a
            )
            if m > len(a):  # a was too small: grow it and read the ring again
                a = _grow(a, m)
                m = _outside_runs_cut(
                    xy, ring_start[r], ring_len[r], ox[i], oy[i], bx0, by0, bx1, by1, a
                )
            for e in range(k):
                if m == 0:
                    break
                ax, ay = c_xy[k0 + e, 0], c_xy[k0 + e, 1]
                ex = c_xy[k0 + (e + 1) % k, 0] - ax
                ey = c_xy[k0 + (e + 1) % k, 1] - ay
                d = ex * ay - ey * ax
                if len(side) < m:
                    side = np.empty(2 * m)
                for j in range(m):
                    side[j] = ex * a[j, 1] - ey * a[j, 0] - d
                b = _grow(b, 2 * m)
                w = 0
                for j in range(m):
                    q = j + 1 if j + 1 < m else 0
                    if side[j] >= 0:
                        b[w, 0], b[w, 1] = a[j, 0], a[j, 1]
                        w += 1
                    if (side[j] >= 0) != (side[q] >= 0):
                        t = side[j] / (side[j] - side[q])
                        b[w, 0] = a[j, 0] + t * (a[q, 0] - a[j, 0])
                        b[w, 1] = a[j, 1] + t * (a[q, 1] - a[j, 1])
                        w += 1
                a, b = b, a
                m = w
            if m < 3:
                continue
            acc = np.zeros(4)
            for j in range(m):
                q = j + 1 if j + 1 < m else 0
                add_triangle_moments(a[j, 0], a[j, 1], a[q, 0], a[q, 1], acc, 1.0)
            if abs(acc[0]) <= tiny[i]:
                continue
            if not ring_ext[r] or found:
                st = 2
                break
            found = 1
            out = _grow(out, used + m)
            out[used : used + m] = a[:m]
            sign = -1.0 if acc[0] < 0 else 1.0
            for c in range(4):
                moments[i, c] = sign * acc[c]
            used += m
        if st == 2 or not found:
            used = start[i]
            moments[i, :] = 0.0
            status[i] = st if st == 2 else 0
        else:
            status[i] = 1
        start[i + 1] = used
    return status, out[:used], start, moments
