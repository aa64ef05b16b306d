"""The compiled clipping kernel of the overlay's area-only path: moments of (convex part ∩
cell) for every pair (see :mod:`guotu.domain.geometry._compiled`)."""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt

from guotu.domain.geometry._compiled import njit
from guotu.domain.geometry._compiled.green import add_triangle_moments

__all__ = ["EDGE_SHARE", "clip_pairs"]

FloatArray = npt.NDArray[np.float64]

#: A part's clipped share within this of 0 or 1 is decided by the part's centroid (both
#: kernels): rounding cannot be told from a true 0 or whole there. Real slivers lie above it.
EDGE_SHARE = 1e-12


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
                add_triangle_moments(vx[j], vy[j], vx[jn], vy[jn], whole, 1.0)
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
                add_triangle_moments(xa, ya, xb, yb, acc, 1.0)
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
            add_triangle_moments(px_in, py_in, px_out, py_out, acc, 1.0)
            if not all_a:
                for m in range(4):
                    acc[m] += g[k_in, m]
                add_triangle_moments(vx[k_in], vy[k_in], px_in, py_in, acc, 1.0)
            if not all_b:
                for m in range(4):
                    acc[m] -= g[k_out, m]
                add_triangle_moments(vx[k_out], vy[k_out], px_out, py_out, acc, -1.0)
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
