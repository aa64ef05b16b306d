"""Cut a jittered Voronoi tessellation along zone boundaries, vectorized.

The result is a set of parcels that tiles the county and never crosses a zone boundary: each
parcel lies entirely inside or entirely outside every zone. Tiny or needle-thin pieces left by
the cuts are merged into a neighbour of the same zone, so the background holds no slivers for
the quality checks to find.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from shapely.geometry import Polygon

__all__ = [
    "Pieces",
    "cut_by_zones",
    "difference_all",
    "finish_pieces",
    "jittered_voronoi",
    "merge_slivers",
    "polygon_parts",
]

Geoms = npt.NDArray[np.object_]
Index = npt.NDArray[np.intp]


@dataclass
class Pieces:
    """Polygons with the index of the base region and of the zone (-1: none) they lie in."""

    geoms: Geoms
    base: Index
    zone: Index

    def take(self, idx: npt.ArrayLike) -> Pieces:
        """The pieces at ``idx``."""
        i = np.asarray(idx)
        return Pieces(self.geoms[i], self.base[i], self.zone[i])

    def __len__(self) -> int:
        return len(self.geoms)


def jittered_voronoi(region: Polygon, n: int, rng: np.random.Generator) -> Geoms:
    """About ``n`` Voronoi cells of seeds on a jittered square grid inside ``region``.

    The cells cover ``region`` (they extend beyond it; clip them afterwards).

    Examples
    --------
    >>> from shapely.geometry import box
    >>> cells = jittered_voronoi(box(0, 0, 1000, 1000), 100, np.random.default_rng(0))
    >>> 90 <= len(cells) <= 110
    True
    """
    xmin, ymin, xmax, ymax = region.bounds
    step = float(np.sqrt(region.area / n))
    xs = np.arange(xmin + step / 2, xmax, step)
    ys = np.arange(ymin + step / 2, ymax, step)
    gx, gy = (a.ravel() for a in np.meshgrid(xs, ys))
    gx = gx + rng.uniform(-0.4, 0.4, len(gx)) * step
    gy = gy + rng.uniform(-0.4, 0.4, len(gy)) * step
    inside = shapely.contains_xy(region, gx, gy)
    seeds = shapely.multipoints(np.column_stack([gx[inside], gy[inside]]))
    envelope = shapely.box(xmin - step, ymin - step, xmax + step, ymax + step)
    cells = shapely.voronoi_polygons(seeds, extend_to=envelope, ordered=True)
    return np.asarray(shapely.get_parts(cells), dtype=object)


def polygon_parts(geoms: Geoms, owner: Index) -> tuple[Geoms, Index]:
    """Explode results of overlay operations into polygons with area, keeping their owner."""
    parts, idx = shapely.get_parts(geoms, return_index=True)
    # GeometryCollections (polygon + line from a touching boundary) need a second pass.
    is_coll = shapely.get_type_id(parts) == shapely.GeometryType.GEOMETRYCOLLECTION
    if is_coll.any():
        sub, sub_idx = shapely.get_parts(parts[is_coll], return_index=True)
        parts = np.concatenate([parts[~is_coll], sub])
        idx = np.concatenate([idx[~is_coll], idx[is_coll][sub_idx]])
    keep = (shapely.get_type_id(parts) == shapely.GeometryType.POLYGON) & (shapely.area(parts) > 0)
    order = np.argsort(idx[keep], kind="stable")
    return parts[keep][order], owner[idx[keep][order]]


def difference_all(geoms: Geoms, cutters: Geoms, pairs_a: Index, pairs_b: Index) -> Geoms:
    """Subtract ``cutters[pairs_b]`` from ``geoms[pairs_a]`` for every pair, grouped by ``a``.

    Pairs are applied in rounds (the k-th cutter of every geometry in round k), so the work is
    a handful of vectorized ``shapely.difference`` calls.
    """
    out = geoms.copy()
    if len(pairs_a) == 0:
        return out
    order = np.lexsort((pairs_b, pairs_a))
    a, b = pairs_a[order], pairs_b[order]
    start = np.r_[0, np.flatnonzero(np.diff(a)) + 1]
    rank = np.arange(len(a)) - np.repeat(start, np.diff(np.r_[start, len(a)]))
    for k in range(int(rank.max()) + 1):
        sel = rank == k
        out[a[sel]] = shapely.difference(out[a[sel]], cutters[b[sel]])
    return out


def _clip_to_regions(geoms: Geoms, regions: Geoms) -> tuple[Geoms, Index, Index]:
    """Pieces of ``geoms`` inside each of the non-overlapping ``regions``.

    Returns the polygon pieces with the index of their geometry and of their region; what
    lies outside every region is dropped.
    """
    tree = shapely.STRtree(regions)
    g_i, r_i = tree.query(geoms, predicate="intersects")
    w_g, w_r = tree.query(geoms, predicate="within")
    is_within = np.zeros(len(geoms), dtype=bool)
    is_within[w_g] = True
    crossing = ~is_within[g_i]
    cg, cr = g_i[crossing], r_i[crossing]
    parts, pidx = polygon_parts(shapely.intersection(geoms[cg], regions[cr]), np.arange(len(cg)))
    return (
        np.concatenate([geoms[w_g], parts]),
        np.concatenate([w_g, cg[pidx]]),
        np.concatenate([w_r, cr[pidx]]),
    )


def cut_by_zones(cells: Geoms, bases: Geoms, zones: Geoms) -> Pieces:
    """Cut ``cells`` by the base regions (which tile the area) and then by ``zones``.

    Parameters
    ----------
    cells
        Polygons covering the union of ``bases``.
    bases
        Non-overlapping regions that tile the area (towns × mountain/plain); every output
        piece lies in exactly one.
    zones
        Non-overlapping zones (red lines, farmland blocks …); every output piece lies entirely
        inside one zone or outside all of them (``zone == -1``).

    Returns
    -------
    Pieces
        Polygons, sorted by cell, base and zone.
    """
    base_geoms, base_cell, base_idx = _clip_to_regions(cells, bases)
    tree = shapely.STRtree(zones)
    p_i, z_i = tree.query(base_geoms, predicate="intersects")
    w_p, w_z = tree.query(base_geoms, predicate="within")
    is_within = np.zeros(len(base_geoms), dtype=bool)
    is_within[w_p] = True
    crossing = ~is_within[p_i]
    cp, cz = p_i[crossing], z_i[crossing]
    inter_parts, inter_pair = polygon_parts(
        shapely.intersection(base_geoms[cp], zones[cz]), np.arange(len(cp))
    )
    rest = difference_all(base_geoms, zones, cp, cz)
    rest_idx = np.flatnonzero(~is_within)
    rest_parts, rest_pos = polygon_parts(rest[rest_idx], rest_idx)
    geoms = np.concatenate([base_geoms[w_p], inter_parts, rest_parts])
    src = np.concatenate([w_p, cp[inter_pair], rest_pos])
    zone = np.concatenate([w_z, cz[inter_pair], np.full(len(rest_parts), -1)]).astype(np.intp)
    order = np.lexsort((zone, base_idx[src], base_cell[src]))
    return Pieces(geoms[order], base_idx[src][order], zone[order])


def _shared_length(a: Geoms, b: Geoms) -> npt.NDArray[np.float64]:
    """Length of the common boundary of each pair."""
    common = shapely.intersection(shapely.boundary(a), shapely.boundary(b))
    return np.asarray(shapely.length(common), dtype=np.float64)


def merge_slivers(
    pieces: Pieces,
    min_area_m2: float,
    min_compactness: float = 0.03,
    frozen: npt.NDArray[np.bool_] | None = None,
    rounds: int = 8,
) -> Pieces:
    """Merge tiny or needle-thin pieces into a neighbour of the same base and zone.

    A piece is a sliver when its area is below ``min_area_m2`` or its Polsby-Popper
    compactness ``4πA/P²`` is below ``min_compactness`` (and its area below ten times
    ``min_area_m2``). It joins the neighbour with which it shares the longest boundary,
    preferring neighbours that are not slivers themselves; among two slivers the smaller joins
    the larger. ``frozen`` pieces are never treated as slivers (they may absorb some).
    Slivers without a neighbour of the same base and zone stay as they are.
    """
    geoms, base, zone = pieces.geoms.copy(), pieces.base, pieces.zone
    fixed = np.zeros(len(geoms), bool) if frozen is None else frozen.copy()
    alive = np.ones(len(geoms), dtype=bool)
    for _ in range(rounds):
        area = shapely.area(geoms)
        compact = 4 * np.pi * area / np.maximum(shapely.length(geoms), 1e-9) ** 2
        small = (
            alive
            & ~fixed
            & ((area < min_area_m2) | ((compact < min_compactness) & (area < 10 * min_area_m2)))
        )
        small_idx = np.flatnonzero(small)
        if len(small_idx) == 0:
            break
        live_idx = np.flatnonzero(alive)
        tree = shapely.STRtree(geoms[live_idx])
        s, n = tree.query(geoms[small_idx], predicate="intersects")
        s, n = small_idx[s], live_idx[n]
        bigger = (area[n] > area[s]) | ((area[n] == area[s]) & (n > s))
        ok = (s != n) & (base[s] == base[n]) & (zone[s] == zone[n]) & (~small[n] | bigger)
        s, n = s[ok], n[ok]
        shared = _shared_length(geoms[s], geoms[n])
        ok = shared > 1e-6
        s, n, shared = s[ok], n[ok], shared[ok]
        if len(s) == 0:
            break
        # The best neighbour of each sliver: a non-sliver first, then the longest boundary.
        order = np.lexsort((n, -shared, small[n], s))
        s, n = s[order], n[order]
        first = np.r_[True, s[1:] != s[:-1]]
        s, n = s[first], n[first]
        # A sliver that absorbs another in this round does not move itself until the next.
        moving = np.zeros(len(geoms), dtype=bool)
        moving[s] = True
        ok = ~moving[n]
        s, n = s[ok], n[ok]
        # A neighbour may absorb several slivers: one per pass, each pass vectorized.
        while len(s):
            _, take = np.unique(n, return_index=True)
            geoms[n[take]] = shapely.union(geoms[n[take]], geoms[s[take]])
            alive[s[take]] = False
            rest = np.ones(len(s), dtype=bool)
            rest[take] = False
            s, n = s[rest], n[rest]
    keep = np.flatnonzero(alive)
    return Pieces(geoms[keep], base[keep], zone[keep])


def finish_pieces(
    pieces: Pieces,
    min_area_m2: float,
    grid_m: float,
    dust_m2: float,
    frozen: npt.NDArray[np.bool_] | None = None,
) -> Pieces:
    """Merge slivers, drop dust and snap to ``grid_m``, keeping every piece one polygon.

    Snapping can split a piece pinched at a point into two parts; such parts are made pieces
    of their own and the slivers among them merged again (then snapped again).
    """
    fixed = frozen
    for _ in range(3):
        pieces = merge_slivers(pieces, min_area_m2, frozen=fixed)
        pieces = pieces.take(np.flatnonzero(shapely.area(pieces.geoms) >= dust_m2))
        pieces.geoms = shapely.set_precision(pieces.geoms, grid_m)
        is_multi = shapely.get_num_geometries(pieces.geoms) > 1
        if not is_multi.any():
            break
        parts, owner = polygon_parts(pieces.geoms, np.arange(len(pieces)))
        fixed = ~is_multi[owner]
        pieces = Pieces(parts, pieces.base[owner], pieces.zone[owner])
    return pieces.take(np.flatnonzero(shapely.area(pieces.geoms) >= dust_m2))
