"""The compiled (numba) kernels of the overlay.

* :func:`clip_pairs`: the clipping kernel of the area-only path. The same mathematics as
  :func:`guotu.domain.clipping._clip_moments` — Green's theorem over the boundary of (convex
  part ∩ cell): the cell's edges clipped to the part (Cyrus–Beck), the part's boundary
  between where the cell's boundary leaves it and enters it again (cumulative sums G), the
  whole part when its first vertex lies in the cell, every in/out decision taken as if the
  part were shifted by (ε, ε²) — written as one loop per (part, cell) pair instead of numpy
  arrays over all pairs. It runs without the GIL, so the overlay's threads run it in
  parallel. The numpy kernel stays as the reference (and the fallback without numba);
  tests compare the two.
* :func:`clip_rings_convex`: the geometry path's Sutherland–Hodgman clipping of zone rings to
  convex features (without numba the geometry path asks GEOS instead).
* :func:`ring_moments`, :func:`ccw_open_rings`: moments of rings and normalized exterior
  rings; each has a numpy counterpart the tests compare it with bit for bit.
* :func:`convex_pieces`: convex pieces of simple rings (ear clipping, the ears merged back
  while they stay convex), the parts the area kernel clips.
* :func:`one_ring_runs`: which polygonal geometries are one closed ring (read from their
  coordinates alone, for :func:`guotu.domain.clipping.ring_arrays`).
* :func:`tm_moment_areas`: ellipsoidal areas from planar moments in a Transverse Mercator
  CRS (the formula of :func:`guotu.domain.clipping.ellipsoidal_from_moments`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

try:  # pragma: no cover - numba is a dependency; the fallback is for odd platforms
    from numba import njit

    HAVE_NUMBA = True
except ImportError:  # pragma: no cover
    HAVE_NUMBA = False

    def njit(*_a: Any, **_k: Any) -> Any:  # type: ignore[no-redef]
        return lambda f: f


__all__ = [
    "EDGE_SHARE",
    "HAVE_NUMBA",
    "ccw_open_rings",
    "centroid_northings",
    "clip_pairs",
    "clip_rings_convex",
    "convex_pieces",
    "one_ring_runs",
    "ring_moments",
    "tm_area",
    "tm_moment_areas",
]

FloatArray = npt.NDArray[np.float64]

#: A part's clipped share within this of 0 or 1 is decided by the part's centroid (both
#: kernels): rounding cannot be told from a true 0 or whole there. Real slivers lie above it.
EDGE_SHARE = 1e-12


@njit(cache=True, nogil=True, inline="always")
def _tri(x1: float, y1: float, x2: float, y2: float, out: FloatArray, sign: float) -> None:
    """Add ``sign`` × the Green's terms (∬ 1, x, x², y over the triangle (0, P1, P2))."""
    cross = x1 * y2 - x2 * y1
    out[0] += sign * cross / 2.0
    out[1] += sign * (x1 + x2) * cross / 6.0
    out[2] += sign * (x1 * x1 + x1 * x2 + x2 * x2) * cross / 12.0
    out[3] += sign * (y1 + y2) * cross / 6.0


@njit(cache=True, nogil=True, inline="always")
def _crosses_ray(xa: float, ya: float, xb: float, yb: float, px: float, py: float) -> bool:
    """Whether the edge (xa, ya) → (xb, yb) crosses the ray from (px, py) towards +x:
    half-open in y, and a point exactly on the edge counts as left of it."""
    if (ya > py) == (yb > py):
        return False
    dy = yb - ya
    return ((xb - xa) * (py - ya) - dy * (px - xa)) * dy > 0


@njit(cache=True, nogil=True)
def _inside_parity(
    px: float, py: float, cell_xy: FloatArray, has_edge: Any, c0: int, c1: int, ox: float, oy: float
) -> bool:
    """Whether (px, py) (relative to (ox, oy)) lies in the cell: parity of the edges a ray
    towards +x crosses, half-open in y; a point exactly on an edge counts as left of it."""
    hits = 0
    for r in range(c0, c1):
        if not has_edge[r]:
            continue
        xa = cell_xy[r, 0] - ox
        ya = cell_xy[r, 1] - oy
        xb = cell_xy[r + 1, 0] - ox
        yb = cell_xy[r + 1, 1] - oy
        if _crosses_ray(xa, ya, xb, yb, px, py):
            hits += 1
    return hits % 2 == 1


@njit(cache=True, nogil=True)
def clip_pairs(
    part_xy: FloatArray,
    part_off: Any,
    pair_part: Any,
    pair_cell: Any,
    pair_ox: FloatArray,
    pair_oy: FloatArray,
    cell_xy: FloatArray,
    cell_off: Any,
    has_edge: Any,
    on_boundary: Any,
    max_k: int,
) -> tuple[FloatArray, Any]:  # pragma: no cover - compiled
    """Moments (∬ 1, x, x², y relative to the pair's origin) of part ∩ cell for each pair,
    and whether an edge of the zone's own boundary (``on_boundary[r]``; not a cut between
    pieces or cells) meets the part in a segment of positive length (``False``: none passes
    through the part's interior).

    ``part_xy[part_off[p]:part_off[p + 1]]`` are part p's vertices (absolute, open,
    counter-clockwise, convex); ``cell_xy[cell_off[c]:cell_off[c + 1]]`` cell c's closed rings
    (``has_edge[r]``: vertex r starts an edge). Pairs of one part should come together: the
    part's edges and sums are set up once for a run of pairs.
    """
    n = pair_part.shape[0]
    out = np.zeros((n, 4))
    crossed = np.zeros(n, dtype=np.bool_)
    last_p = -1
    last_ox = 0.0
    last_oy = 0.0
    k = 0
    bx0 = bx1 = by0 = by1 = 0.0
    vx = np.empty(max_k)
    vy = np.empty(max_k)
    nx = np.empty(max_k)
    ny = np.empty(max_k)
    dist = np.empty(max_k)
    tie = np.zeros(max_k, dtype=np.bool_)
    g = np.zeros((max_k, 4))
    whole = np.zeros(4)
    acc = np.zeros(4)
    for i in range(n):
        p = pair_part[i]
        c = pair_cell[i]
        ox = pair_ox[i]
        oy = pair_oy[i]
        if p != last_p or ox != last_ox or oy != last_oy:
            last_p = p
            last_ox = ox
            last_oy = oy
            p0 = part_off[p]
            k = part_off[p + 1] - p0
            for j in range(k):
                vx[j] = part_xy[p0 + j, 0] - ox
                vy[j] = part_xy[p0 + j, 1] - oy
            whole[:] = 0.0
            bx0 = vx[0]
            bx1 = vx[0]
            by0 = vy[0]
            by1 = vy[0]
            for j in range(k):
                jn = j + 1 if j + 1 < k else 0
                ex = vx[jn] - vx[j]
                ey = vy[jn] - vy[j]
                nx[j] = -ey
                ny[j] = ex
                dist[j] = nx[j] * vx[j] + ny[j] * vy[j]
                tie[j] = (nx[j] < 0) or (nx[j] == 0 and ny[j] < 0)
                g[j, :] = whole  # cumulative Green's sums before edge j
                _tri(vx[j], vy[j], vx[jn], vy[jn], whole, 1.0)
                bx0 = min(bx0, vx[j])
                bx1 = max(bx1, vx[j])
                by0 = min(by0, vy[j])
                by1 = max(by1, vy[j])
        acc[:] = 0.0
        c0 = cell_off[c]
        c1 = cell_off[c + 1]
        # One pass over the cell's edges: the crossing parity of a ray from the part's first
        # vertex towards +x (as _inside_parity), and each edge near the part clipped to it.
        px = vx[0]
        py = vy[0]
        hits = 0
        near = False
        for r in range(c0, c1):
            if not has_edge[r]:
                continue
            xa = cell_xy[r, 0] - ox
            ya = cell_xy[r, 1] - oy
            xb = cell_xy[r + 1, 0] - ox
            yb = cell_xy[r + 1, 1] - oy
            if _crosses_ray(xa, ya, xb, yb, px, py):
                hits += 1
            if max(xa, xb) < bx0 or min(xa, xb) > bx1 or max(ya, yb) < by0 or min(ya, yb) > by1:
                continue
            near = True
            all_a = True
            all_b = True
            some_out = False
            t_enter = 0.0
            k_in = -1
            best_in = -1.0
            t_exit = 1.0
            k_out = -1
            best_out = 2.0
            for j in range(k):
                sa = nx[j] * xa + ny[j] * ya - dist[j]
                sb = nx[j] * xb + ny[j] * yb - dist[j]
                in_a = sa > 0 or (sa == 0 and tie[j])
                in_b = sb > 0 or (sb == 0 and tie[j])
                if not in_a:
                    all_a = False
                if not in_b:
                    all_b = False
                if not in_a and not in_b:
                    some_out = True
                    break
                if not in_a and in_b:  # enters through edge j
                    t = sa / (sa - sb)
                    if t > best_in:
                        best_in = t
                        k_in = j
                elif in_a and not in_b:  # leaves through edge j
                    t = sa / (sa - sb)
                    if t < best_out:
                        best_out = t
                        k_out = j
            if some_out:
                continue
            if all_a and all_b:
                _tri(xa, ya, xb, yb, acc, 1.0)
                if on_boundary[r]:
                    crossed[i] = True
                continue
            if k_in >= 0:
                t_enter = max(best_in, 0.0)
            if k_out >= 0:
                t_exit = min(best_out, 1.0)
            if t_enter > t_exit:
                continue
            if t_enter < t_exit and on_boundary[r]:
                crossed[i] = True
            dx = xb - xa
            dy = yb - ya
            px_in = xa + t_enter * dx
            py_in = ya + t_enter * dy
            if not all_b:
                px_out = xa + t_exit * dx
                py_out = ya + t_exit * dy
            else:
                px_out = xb
                py_out = yb
            _tri(px_in, py_in, px_out, py_out, acc, 1.0)
            if not all_a:
                for m in range(4):
                    acc[m] += g[k_in, m]
                _tri(vx[k_in], vy[k_in], px_in, py_in, acc, 1.0)
            if not all_b:
                for m in range(4):
                    acc[m] -= g[k_out, m]
                _tri(vx[k_out], vy[k_out], px_out, py_out, acc, -1.0)
        if hits % 2 == 1:  # the first vertex is inside the cell: the whole part counts
            for m in range(4):
                acc[m] += whole[m]
        if not near:
            # No edge of the cell reaches the part's box: the first vertex is off every
            # edge, and its parity alone is the answer (0 or the whole part, exactly).
            for m in range(4):
                out[i, m] = acc[m]
            continue
        # A crossing within rounding of the first vertex may count the whole part once too
        # often or too few: the true area lies in [0, part area].
        area = whole[0]
        share = acc[0] / area if area > 0 else 0.0
        slip = 0.0
        if share < 0:
            slip = np.floor(share + 1e-9)
        elif share > 1:
            slip = np.ceil(share - 1 - 1e-9)
        if slip != 0.0:
            for m in range(4):
                acc[m] -= slip * whole[m]
            share = acc[0] / area if area > 0 else 0.0
        # 0 or the whole part: the part's centroid (strictly inside it, and off the cell's
        # boundary in these cases) decides.
        if abs(share) < EDGE_SHARE or abs(share - 1.0) < EDGE_SHARE:
            cx = 0.0
            cy = 0.0
            for j in range(k):
                cx += vx[j]
                cy += vy[j]
            inside = _inside_parity(cx / k, cy / k, cell_xy, has_edge, c0, c1, ox, oy)
            for m in range(4):
                acc[m] = whole[m] if inside else 0.0
        for m in range(4):
            out[i, m] = acc[m]
    return out, crossed


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
def centroid_northings(
    moments: FloatArray, oy: FloatArray
) -> tuple[float, float]:  # pragma: no cover - compiled
    """Least and greatest northing of the centroids of the regions with positive area
    (moments as for :func:`tm_moment_areas`); (inf, -inf) when there is none."""
    lo = np.inf
    hi = -np.inf
    for i in range(moments.shape[0]):
        if moments[i, 0] > 0:
            y = oy[i] + moments[i, 3] / moments[i, 0]
            lo = min(lo, y)
            hi = max(hi, y)
    return lo, hi


@njit(cache=True, nogil=True)
def tm_moment_areas(
    moments: FloatArray,
    ox: FloatArray,
    oy: FloatArray,
    n0: float,
    step: float,
    table_lat: FloatArray,
    false_easting: float,
    k0: float,
    a: float,
    e2: float,
) -> FloatArray:  # pragma: no cover - compiled
    """Ellipsoidal area ∬ k⁻² dA of each region from its planar moments (∬ 1, x, x², y
    relative to (``ox``, ``oy``)): k⁻² expanded to second order about the region's centroid,
    radii at the footpoint latitude of the centroid's northing, interpolated linearly in
    ``table_lat`` (radians at northings n0, n0 + step, …). The same arithmetic, in the same
    order, as the numpy fallback of :func:`~guotu.domain.clipping.ellipsoidal_from_moments`."""
    n = moments.shape[0]
    out = np.zeros(n)
    last = table_lat.shape[0] - 2
    for i in range(n):
        area0 = moments[i, 0]
        if not area0 > 0:
            continue
        cdx = moments[i, 1] / area0
        cdy = moments[i, 3] / area0
        m2c = moments[i, 2] - cdx * moments[i, 1]
        t = (oy[i] + cdy - n0) / step
        j = min(max(int(np.floor(t)), 0), last)
        lat = table_lat[j] + (t - j) * (table_lat[j + 1] - table_lat[j])
        out[i] = tm_area(area0, m2c, (ox[i] + cdx - false_easting) / k0, lat, k0, a, e2)
    return out


@njit(cache=True, nogil=True, inline="always")
def tm_area(
    area0: Any, m2c: Any, x: Any, lat: Any, k0: float, a: float, e2: float
) -> Any:  # pragma: no cover - compiled
    """∬ k⁻² dA of regions of planar area ``area0`` and second central moment in x ``m2c``
    whose centroid lies ``x`` (easting from the central meridian over k0) off it, at
    footpoint latitude ``lat`` (radians): k = k0 [1 + x²/(2ρν) + x⁴(1 + 4η²)/(24ρ²ν²)],
    k⁻² expanded to second order in x. Scalars (in :func:`tm_moment_areas`) or arrays (the
    numpy fallback of :func:`~guotu.domain.clipping.ellipsoidal_from_moments`)."""
    sin_lat = np.sin(lat)
    w = 1.0 - e2 * sin_lat * sin_lat
    nu = a / np.sqrt(w)
    rho = a * (1.0 - e2) / (w * np.sqrt(w))
    eta2 = nu / rho - 1.0
    c2 = 1.0 / (2.0 * rho * nu)
    c4 = (1.0 + 4.0 * eta2) / (24.0 * rho * rho * nu * nu)
    x2 = x * x
    m = 1.0 + c2 * x2 + c4 * x2 * x2
    dm = 2.0 * c2 * x + 4.0 * c4 * x2 * x
    ddm = 2.0 * c2 + 12.0 * c4 * x2
    g0 = 1.0 / (m * m)  # (k0/k)² and half its second derivative in x
    g2 = 3.0 * g0 * g0 * dm * dm - g0 / m * ddm
    return np.abs(g0 * area0 + g2 * m2c / (k0 * k0)) / (k0 * k0)


@njit(cache=True, nogil=True)
def ring_moments(
    xy: FloatArray,
    start: Any,
    ring_geom: Any,
    exterior: Any,
    ox: FloatArray,
    oy: FloatArray,
    n_geoms: int,
) -> FloatArray:
    """Moments (∬ 1, x, x², y relative to the geometry's origin (ox, oy)) of polygonal
    geometries from their closed rings (ring r: ``xy[start[r]:start[r + 1]]``, of geometry
    ``ring_geom[r]``): exteriors count positive and holes negative whatever their
    orientation. Each edge's terms are added in ring order, as
    :func:`guotu.domain.clipping._ring_edge_moments` and ``np.bincount`` add them."""
    out = np.zeros((n_geoms, 4))
    for r in range(len(start) - 1):
        g = ring_geom[r]
        x0, y0 = ox[g], oy[g]
        signed = 0.0
        for v in range(start[r], start[r + 1] - 1):
            x1, y1 = xy[v, 0] - x0, xy[v, 1] - y0
            x2, y2 = xy[v + 1, 0] - x0, xy[v + 1, 1] - y0
            signed += (x1 * y2 - x2 * y1) / 2.0
        sign = -1.0 if (signed < 0) == exterior[r] else 1.0
        acc = out[g]
        for v in range(start[r], start[r + 1] - 1):
            x1, y1 = xy[v, 0] - x0, xy[v, 1] - y0
            x2, y2 = xy[v + 1, 0] - x0, xy[v + 1, 1] - y0
            _tri(x1, y1, x2, y2, acc, sign)
    return out


@njit(cache=True, nogil=True)
def ccw_open_rings(xy: FloatArray, first: Any, counts: Any) -> tuple[FloatArray, Any, Any]:
    """Ring i is ``xy[first[i]:first[i] + counts[i]]`` (open: without its closing vertex).
    Returns the rings without repeated vertices (cyclically), counter-clockwise, one after
    the other; their vertex counts; and whether each has a reflex vertex — as
    :func:`guotu.domain.clipping.ccw_exteriors` computes them with numpy."""
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
                _tri(a[j, 0], a[j, 1], a[q, 0], a[q, 1], acc, 1.0)
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
