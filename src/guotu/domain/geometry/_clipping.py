"""The exact clipping kernel of the overlay's area-only path, in numpy: planar moments of
feature ∩ zone cell by Green's theorem (:func:`pair_moments`; :func:`clip_moments` is the
reference of the compiled :func:`~guotu.domain.geometry._compiled.pair_clip.clip_pairs`, and
the fallback without numba). See :mod:`guotu.domain.geometry.overlay` for how the pieces fit.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

from guotu.domain.geometry._compiled import HAVE_NUMBA
from guotu.domain.geometry._compiled.pair_clip import EDGE_SHARE, clip_pairs
from guotu.domain.geometry._convex_parts import convex_parts
from guotu.domain.geometry._rings import Rings, ring_subset, unique_sorted
from guotu.domain.geometry.moments import tri_moments
from guotu.domain.geometry.zone_index import ZoneIndex

__all__ = ["clip_batch", "clip_moments", "pair_moments"]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Piece edges handled at once by the clipping kernel (bounds its temporary arrays).
_BATCH_EDGES = 400_000


def clip_moments(
    verts: FloatArray, piece: IntArray, origin: FloatArray, zones: ZoneIndex, cells: ObjArray
) -> FloatArray:
    """Moments (∬ 1, x, x², y, in coordinates relative to ``origin``) of the intersection of
    each convex part ``verts[i]`` (K vertices, counter-clockwise, relative to ``origin[i]``)
    with zone piece ``piece[i]``.

    Green's theorem over the boundary of part ∩ piece: the piece's edges clipped to the part
    (Cyrus–Beck), plus the part's boundary from each point where the piece's boundary leaves
    the part to the next point where it enters — written as cumulative sums G along the
    part's boundary, + G(entry) − G(exit) — plus the whole part when its first vertex lies in
    the piece (crossing parity of a ray). Every in/out decision treats the part as shifted by
    (ε, ε²), so no vertex is ever exactly on an edge.
    """
    n = len(piece)
    out = np.zeros((n, 4))
    if n == 0:
        return out
    vx, vy = verts[:, :, 0], verts[:, :, 1]
    ex = np.roll(vx, -1, axis=1) - vx
    ey = np.roll(vy, -1, axis=1) - vy
    nx, ny = -ey, ex  # inward normals of a counter-clockwise part
    dist = nx * vx + ny * vy
    tie_inside = (nx < 0) | ((nx == 0) & (ny < 0))  # which side a point exactly on it is on
    tri = tri_moments(vx, vy, np.roll(vx, -1, axis=1), np.roll(vy, -1, axis=1))
    g_cum = np.stack([np.cumsum(m, axis=1) - m for m in tri], axis=-1)  # (n, k, 4)
    whole = np.stack([m.sum(axis=1) for m in tri], axis=-1)  # (n, 4)
    bx0, bx1 = vx.min(axis=1), vx.max(axis=1)
    by0, by1 = vy.min(axis=1), vy.max(axis=1)

    # Where the part's first vertex is, by prepared point-in-polygon; exactly on the cell's
    # boundary, by the perturbed ray parity in clip_batch (exact=True).
    gx, gy = vx[:, 0] + origin[:, 0], vy[:, 0] + origin[:, 1]
    first_inside = shapely.contains_xy(cells[piece], gx, gy)
    exact = ~first_inside & shapely.intersects_xy(cells[piece], gx, gy)
    out += whole * first_inside[:, None]
    starts = zones.offsets[piece]
    counts = zones.offsets[piece + 1] - starts
    ends = np.cumsum(counts)
    marks = np.arange(_BATCH_EDGES, int(ends[-1]), _BATCH_EDGES)
    cuts = np.unique(np.concatenate([[0, n], np.searchsorted(ends, marks, side="right")]))
    for lo, hi in zip(cuts[:-1].tolist(), cuts[1:].tolist(), strict=True):
        clip_batch(
            lo,
            hi,
            starts,
            counts,
            origin,
            zones,
            vx,
            vy,
            nx,
            ny,
            dist,
            tie_inside,
            g_cum,
            whole,
            (bx0, bx1, by0, by1),
            exact,
            out,
        )
    # A crossing within rounding of the part's first vertex may be put on the last edge or on
    # the first; the two values of G there differ by the whole part. The true area lies in
    # [0, part area], so such a slip (a whole multiple of the part) is taken back out.
    area = whole[:, 0]
    share = out[:, 0] / np.where(area > 0, area, 1.0)
    slip = np.where(
        share < 0, np.floor(share + 1e-9), np.where(share > 1, np.ceil(share - 1 - 1e-9), 0)
    )
    out -= slip[:, None] * whole
    # The one case that shift cannot be told from the truth: a result of 0 or of the whole
    # part (the piece's boundary through the first vertex, the part touching the piece or
    # inside it). Then the part's centroid, strictly inside it, decides: a line through the
    # centroid of a convex part leaves at least 4/9 of it on each side, so it is never on
    # the piece's boundary when the answer is 0 or the whole part.
    share = out[:, 0] / np.where(area > 0, area, 1.0)
    edge = np.flatnonzero((np.abs(share) < EDGE_SHARE) | (np.abs(share - 1.0) < EDGE_SHARE))
    if len(edge):
        cx = vx[edge].mean(axis=1) + origin[edge, 0]
        cy = vy[edge].mean(axis=1) + origin[edge, 1]
        inside = shapely.contains_xy(cells[piece[edge]], cx, cy)
        out[edge] = np.where(inside[:, None], whole[edge], 0.0)
    return out


def clip_batch(
    lo: int,
    hi: int,
    starts: IntArray,
    counts: IntArray,
    origin: FloatArray,
    zones: ZoneIndex,
    vx: FloatArray,
    vy: FloatArray,
    nx: FloatArray,
    ny: FloatArray,
    dist: FloatArray,
    tie_inside: BoolArray,
    g_cum: FloatArray,
    whole: FloatArray,
    box: tuple[FloatArray, ...],
    exact: BoolArray,
    out: FloatArray,
) -> None:
    """:func:`clip_moments` for pairs ``lo:hi``; adds into ``out``."""
    c = counts[lo:hi]
    total = int(c.sum())
    pair = np.repeat(np.arange(lo, hi), c)
    rows = np.arange(total) + np.repeat(starts[lo:hi] - (np.cumsum(c) - c), c)
    e = np.flatnonzero(zones.has_edge[rows])
    ep = pair[e]
    a_row, b_row = rows[e], rows[e] + 1
    xa = zones.xy[a_row, 0] - origin[ep, 0]
    ya = zones.xy[a_row, 1] - origin[ep, 1]
    xb = zones.xy[b_row, 0] - origin[ep, 0]
    yb = zones.xy[b_row, 1] - origin[ep, 1]
    # Is the part's first vertex (shifted by (ε, ε²)) inside the piece? Parity of the edges a
    # ray towards +x crosses; half-open in y, and a vertex exactly on an edge is left of it.
    if exact[lo:hi].any():
        ex_e = np.flatnonzero(exact[ep])
        v0x, v0y = vx[ep[ex_e], 0], vy[ep[ex_e], 0]
        e_xa, e_ya, e_xb, e_yb = xa[ex_e], ya[ex_e], xb[ex_e], yb[ex_e]
        straddle = np.flatnonzero((e_ya > v0y) != (e_yb > v0y))
        s_dy = e_yb[straddle] - e_ya[straddle]
        orient = (e_xb[straddle] - e_xa[straddle]) * (v0y[straddle] - e_ya[straddle]) - s_dy * (
            v0x[straddle] - e_xa[straddle]
        )
        hits = np.bincount(ep[ex_e][straddle][orient * s_dy > 0], minlength=len(out))
        out += whole * (hits % 2 == 1)[:, None]

    bx0, bx1, by0, by1 = (b[ep] for b in box)
    near = np.flatnonzero(
        ~(
            (np.maximum(xa, xb) < bx0)
            | (np.minimum(xa, xb) > bx1)
            | (np.maximum(ya, yb) < by0)
            | (np.minimum(ya, yb) > by1)
        )
    )
    ep, xa, ya, xb, yb = ep[near], xa[near], ya[near], xb[near], yb[near]
    pnx, pny, pd, ptie = nx[ep], ny[ep], dist[ep], tie_inside[ep]
    sa = pnx * xa[:, None] + pny * ya[:, None] - pd
    sb = pnx * xb[:, None] + pny * yb[:, None] - pd
    in_a = (sa > 0) | ((sa == 0) & ptie)
    in_b = (sb > 0) | ((sb == 0) & ptie)
    all_a, all_b = in_a.all(axis=1), in_b.all(axis=1)
    some_out = (~in_a & ~in_b).any(axis=1)

    def add(idx: npt.NDArray[np.intp], moments: tuple[FloatArray, ...], sign: float) -> None:
        for m in range(4):
            out[:, m] += sign * np.bincount(ep[idx], moments[m], len(out))

    inner = np.flatnonzero(all_a & all_b)
    add(inner, tri_moments(xa[inner], ya[inner], xb[inner], yb[inner]), 1.0)
    cross = np.flatnonzero(~(all_a & all_b) & ~some_out)
    if not len(cross):
        return
    sa, sb, in_a, in_b = sa[cross], sb[cross], in_a[cross], in_b[cross]
    enters, leaves = ~in_a & in_b, in_a & ~in_b
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(enters | leaves, sa / (sa - sb), 0.0)
    t_in = np.where(enters, t, -1.0)
    k_in = t_in.argmax(axis=1)
    t_enter = np.maximum(t_in.max(axis=1), 0.0)
    t_out = np.where(leaves, t, 2.0)
    k_out = t_out.argmin(axis=1)
    t_exit = np.minimum(t_out.min(axis=1), 1.0)
    has_entry, has_exit = ~all_a[cross], ~all_b[cross]
    keep = t_enter <= t_exit
    cross, k_in, k_out = cross[keep], k_in[keep], k_out[keep]
    t_enter, t_exit = t_enter[keep], t_exit[keep]
    has_entry, has_exit = has_entry[keep], has_exit[keep]
    xa, ya, xb, yb = xa[cross], ya[cross], xb[cross], yb[cross]
    dx, dy = xb - xa, yb - ya
    px_in, py_in = xa + t_enter * dx, ya + t_enter * dy
    px_out = np.where(has_exit, xa + t_exit * dx, xb)
    py_out = np.where(has_exit, ya + t_exit * dy, yb)
    add(cross, tri_moments(px_in, py_in, px_out, py_out), 1.0)
    cp = ep[cross]
    for mask, kk, px, py, sign in (
        (has_entry, k_in, px_in, py_in, 1.0),
        (has_exit, k_out, px_out, py_out, -1.0),
    ):
        sel = np.flatnonzero(mask)
        pp, ks = cp[sel], kk[sel]
        part = tri_moments(vx[pp, ks], vy[pp, ks], px[sel], py[sel])
        for m in range(4):
            out[:, m] += sign * np.bincount(pp, g_cum[pp, ks, m] + part[m], len(out))


def pair_moments(
    feats: ObjArray,
    pair_feature: npt.NDArray[np.intp],
    pair_piece: IntArray,
    origin: FloatArray,
    zones: ZoneIndex,
    cells: ObjArray,
    *,
    compiled: bool | None = None,
    known: tuple[npt.NDArray[np.integer], Rings] | None = None,
) -> tuple[FloatArray, BoolArray]:
    """Moments (∬ 1, x, x², y relative to the feature's ``origin``) of feature ∩ cell for
    each pair (``pair_piece``: cells of ``zones``), and whether the zone's own boundary may
    pass through the feature's interior there (``False``: it certainly does not; the numpy
    kernel does not tell, and says ``True``). ``origin`` is per feature of ``feats``.
    ``compiled`` (default: when numba is there) runs the compiled kernel of
    :mod:`guotu.domain.geometry._compiled`, else the numpy one. ``known``: sorted feature
    positions holding all of ``pair_feature`` and their
    :func:`~guotu.domain.geometry._rings.ring_arrays`, when the caller has read them already."""
    out = np.zeros((len(pair_feature), 4))
    if not len(pair_feature):
        return out, np.zeros(0, dtype=bool)
    used, inverse = unique_sorted(pair_feature)
    rings = None
    if known is not None:  # all of them (positions are sorted and distinct), or a subset
        rings = (
            known[1]
            if len(known[0]) == len(used)
            else ring_subset(known[1], np.searchsorted(known[0], used))
        )
    parts = convex_parts(feats[used], rings)
    n_parts = np.bincount(parts.owner, minlength=len(used))
    # Expand each pair to (part, piece): parts of one feature are contiguous after sorting.
    order = np.argsort(parts.owner, kind="stable")
    first = np.cumsum(n_parts) - n_parts
    reps = n_parts[inverse]
    pair_of = np.repeat(np.arange(len(pair_feature)), reps)
    part_of = order[
        np.repeat(first[inverse], reps)
        + np.arange(len(pair_of))
        - np.repeat(np.cumsum(reps) - reps, reps)
    ]
    one_each = bool((n_parts == 1).all())  # one part per feature: pair_of is 0, 1, 2 …
    if HAVE_NUMBA if compiled is None else compiled:
        # The kernel sets a part up once for a run of its pairs: pairs of a feature with
        # several parts are taken part by part (sums per pair do not depend on this order).
        if not one_each:
            by_part = np.argsort(part_of, kind="stable")
            pair_of, part_of = pair_of[by_part], part_of[by_part]
        org = origin[used[parts.owner[part_of]]]
        sizes_all = np.diff(parts.offsets)
        moments, crossed = clip_pairs(
            parts.xy,
            parts.offsets.astype(np.int64),
            part_of.astype(np.int64),
            np.asarray(pair_piece, dtype=np.int64)[pair_of],
            np.ascontiguousarray(org[:, 0]),
            np.ascontiguousarray(org[:, 1]),
            zones.xy,
            zones.offsets.astype(np.int64),
            zones.has_edge,
            zones.on_boundary,
            int(sizes_all.max()) if len(sizes_all) else 1,
        )
        if one_each:
            return moments, crossed
        for m in range(4):
            out[:, m] = np.bincount(pair_of, moments[:, m], len(out))
        return out, np.bincount(pair_of, crossed, len(out)) > 0
    sizes = np.diff(parts.offsets)[part_of]
    for k in np.unique(sizes):
        sel = np.flatnonzero(sizes == k)
        rows = parts.offsets[part_of[sel]][:, None] + np.arange(k)
        org = origin[used[parts.owner[part_of[sel]]]]
        verts = parts.xy[rows] - org[:, None, :]
        moments = clip_moments(verts, pair_piece[pair_of[sel]], org, zones, cells)
        for m in range(4):
            out[:, m] += np.bincount(pair_of[sel], moments[:, m], len(out))
    return out, np.ones(len(out), dtype=bool)
