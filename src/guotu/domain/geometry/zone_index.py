"""The zone index of the overlay (:mod:`guotu.domain.geometry.overlay`): zones cut into
pieces (like ``ST_Subdivide``) and cells, overlapping blocks of large zones, prepared copies
per thread and the rings every source is clipped from. See the overlay's docstring for how
the parts fit.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from guotu.domain.geometry._rings import Rings, ring_arrays
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.domain.geometry.crs import check_projected
from guotu.domain.geometry.polygons import is_usable, polygon_parts

__all__ = ["PreparedZones", "ZoneIndex", "block_of", "clip_zones", "prepare_zones"]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Largest number of vertices of a cell of the clipping kernel.
_CELL_VERTICES = 64
#: Zones with more vertices than this get overlapping blocks (see :func:`_zone_blocks`).
_BLOCK_MIN_VERTICES = 4_096
#: About this many boundary vertices per block core; cores are at least _BLOCK_MIN_SIZE_M.
_BLOCK_VERTICES = 512
_BLOCK_MIN_SIZE_M = 64.0


@dataclass(frozen=True, eq=False)
class PreparedZones:
    """Prepared copies of the zones and pieces (and the shared cells), for one thread."""

    zones: ObjArray
    pieces: ObjArray
    cells: ObjArray


def _prepared_copy(geoms: ObjArray) -> ObjArray:
    out = np.asarray(shapely.from_wkb(shapely.to_wkb(geoms)), dtype=object)
    shapely.prepare(out)
    _build_prepared_indexes(out)
    return out


@dataclass(frozen=True, eq=False)
class ZoneIndex:
    """Zone polygons indexed for :func:`~guotu.domain.geometry.overlay.overlay`; build it with :func:`prepare_zones`.

    Attributes
    ----------
    crs
        The projected CRS of the zones (and of the features overlaid on them).
    zones
        The original zone geometries, prepared (``None`` where the input was missing/empty).
    zone_area_m2, zone_planar_m2
        Ellipsoidal and planar area of each original zone.
    pieces, piece_zone
        The pieces the zones were cut into, and the original zone position of each.
    """

    crs: CRS
    zones: ObjArray
    zone_area_m2: FloatArray
    zone_planar_m2: FloatArray
    pieces: ObjArray
    piece_zone: IntArray
    piece_area_m2: FloatArray
    pieces_per_zone: IntArray
    tree: shapely.STRtree
    piece_bounds: FloatArray
    zone_bounds: FloatArray
    # The clipping kernel works on cells: the pieces cut further, to at most 32 vertices, so
    # that it reads few edges per feature. Cell boundaries: every ring closed, exteriors
    # counter-clockwise, holes clockwise; the vertices of cell i are xy[offsets[i]:offsets[i+1]];
    # has_edge[j] tells whether vertex j starts an edge (False on each ring's closing vertex);
    # on_boundary[j] whether that edge lies on the zone's own boundary, not on a cut between
    # pieces or cells (see _boundary_edges).
    cells: ObjArray
    cell_piece: IntArray
    cell_tree: shapely.STRtree
    xy: FloatArray
    offsets: IntArray
    has_edge: BoolArray
    on_boundary: BoolArray
    # The rings of every source the geometry path clips convex features against: source s is
    # zone s (s < len(zones)), piece s - len(zones), or block s - len(zones) - len(pieces).
    # Its rings are src_first[s] … src_first[s] + src_count[s] - 1; ring r has the vertices
    # src_xy[ring_start[r]:ring_start[r] + ring_len[r]] (open), is an exterior when
    # ring_ext[r], and has the box ring_box[r] (x0, y0, x1, y1).
    src_first: IntArray
    src_count: IntArray
    ring_start: IntArray
    ring_len: IntArray
    ring_ext: BoolArray
    ring_box: FloatArray
    src_xy: FloatArray
    # Overlapping blocks of the zones with many vertices (see _zone_blocks): zone z has
    # block_shape[z] = (nx, ny) cores of side block_size[z] from block_origin[z]; core (i, j)
    # is blocks[block_first[z] + j * nx + i], the zone clipped to the core grown by one core
    # size towards +x and +y (None where that is empty). block_size 0: no blocks.
    block_size: FloatArray
    block_origin: FloatArray
    block_shape: IntArray
    block_first: IntArray
    blocks: ObjArray
    # GEOS prepared geometries must not be used by two threads at once: one copy of the
    # prepared zones, pieces and cells per thread (the first is the one above).
    replicas: tuple[PreparedZones, ...] = ()

    def __len__(self) -> int:
        return len(self.zones)


# -- zones ---------------------------------------------------------------------------------
def _subdivide(geoms: ObjArray, owner: IntArray, max_vertices: int) -> tuple[ObjArray, IntArray]:
    """Cut polygons in halves across the longer side of their box until each piece has at
    most ``max_vertices`` vertices. The pieces of a polygon partition it; their order depends
    only on that polygon."""
    done_g: list[ObjArray] = []
    done_o: list[IntArray] = []
    for _level in range(64):
        if not len(geoms):
            break
        small = shapely.get_num_coordinates(geoms) <= max_vertices
        done_g.append(geoms[small])
        done_o.append(owner[small])
        geoms, owner = geoms[~small], owner[~small]
        halves: list[Any] = []
        for g, (x0, y0, x1, y1) in zip(geoms, shapely.bounds(geoms).tolist(), strict=True):
            if x1 - x0 >= y1 - y0:
                xm = (x0 + x1) / 2.0
                halves += [
                    shapely.clip_by_rect(g, x0, y0, xm, y1),
                    shapely.clip_by_rect(g, xm, y0, x1, y1),
                ]
            else:
                ym = (y0 + y1) / 2.0
                halves += [
                    shapely.clip_by_rect(g, x0, y0, x1, ym),
                    shapely.clip_by_rect(g, x0, ym, x1, y1),
                ]
        cut = np.empty(len(halves), dtype=object)
        cut[:] = halves
        parts, idx = polygon_parts(cut)
        geoms, owner = parts, np.repeat(owner, 2)[idx]
    if len(geoms):  # pragma: no cover - 64 halvings leave no polygon above any sane limit
        done_g.append(geoms)
        done_o.append(owner)
    order = np.argsort(np.concatenate(done_o), kind="stable")
    return np.concatenate(done_g)[order], np.concatenate(done_o)[order].astype(np.int64)


def _zone_blocks(
    zones: ObjArray, ok: IntArray
) -> tuple[FloatArray, FloatArray, IntArray, IntArray, ObjArray]:
    """Overlapping blocks of the zones with more than ``_BLOCK_MIN_VERTICES`` vertices.

    The geometry path intersects a feature that crosses several pieces of a zone with the
    zone clipped to the feature's box; ``clip_by_rect`` reads every vertex of the zone, which
    for a red line of 30,000 vertices costs more than the intersection. A grid of square
    cores of side b covers the zone's box; block (i, j) is the zone clipped to core (i, j)
    grown by b towards +x and +y. Any box of at most b × b (within the zone's box) fits in the
    block of the core holding its lower-left corner, and clipping that block to the box gives
    the same region as clipping the zone. b is chosen so that a core holds about
    ``_BLOCK_VERTICES`` boundary vertices (at least ``_BLOCK_MIN_SIZE_M``); a block then has
    a few thousand at most, and the blocks together two to three times the zone's vertices
    (three when the boundary is very dense and the cores stay at their minimum). They are
    cut from halves of the grid in turn, so a zone is read O(log blocks) times, not once per
    block."""
    n = len(zones)
    size, origin = np.zeros(n), np.zeros((n, 2))
    shape, first = np.zeros((n, 2), dtype=np.int64), np.zeros(n, dtype=np.int64)
    out: list[Any] = []
    nv = shapely.get_num_coordinates(zones[ok])
    for z in ok[nv > _BLOCK_MIN_VERTICES].tolist():
        g = zones[z]
        density = shapely.get_num_coordinates(g) / max(float(shapely.length(g)), 1e-9)
        b = max(_BLOCK_MIN_SIZE_M, _BLOCK_VERTICES / density)
        x0, y0, x1, y1 = shapely.bounds(g).tolist()
        nx, ny = max(1, int(np.ceil((x1 - x0) / b))), max(1, int(np.ceil((y1 - y0) / b)))
        grid = np.empty((ny, nx), dtype=object)
        _fill_blocks(grid, g, (x0, y0, b), (0, nx, 0, ny))
        size[z], origin[z], shape[z], first[z] = b, (x0, y0), (nx, ny), len(out)
        out.extend(grid.reshape(-1).tolist())
    blocks = np.empty(len(out), dtype=object)
    blocks[:] = out
    return size, origin, shape, first, blocks


def _fill_blocks(
    grid: ObjArray, geom: Any, frame: tuple[float, float, float], cores: tuple[int, int, int, int]
) -> None:
    """Blocks of cores i0 ≤ i < i1, j0 ≤ j < j1 (``cores``) into ``grid[j, i]``, from ``geom``:
    the zone clipped to those cores' region grown by one core (``frame``: grid origin and
    core size). Halves of the range are cut from ``geom`` in turn."""
    if geom is None or geom.is_empty:
        return
    x0, y0, b = frame
    i0, i1, j0, j1 = cores
    if (i1 - i0) * (j1 - j0) == 1:
        grid[j0, i0] = geom
        return
    if i1 - i0 >= j1 - j0:
        im = (i0 + i1) // 2
        halves = [(i0, im, j0, j1), (im, i1, j0, j1)]
    else:
        jm = (j0 + j1) // 2
        halves = [(i0, i1, j0, jm), (i0, i1, jm, j1)]
    for a0, a1, c0, c1 in halves:
        part = shapely.clip_by_rect(
            geom, x0 + a0 * b, y0 + c0 * b, x0 + (a1 + 1) * b, y0 + (c1 + 1) * b
        )
        _fill_blocks(grid, part, frame, (a0, a1, c0, c1))


def _source_rings(
    geoms: ObjArray,
) -> tuple[IntArray, IntArray, IntArray, IntArray, BoolArray, FloatArray, FloatArray]:
    """The rings of polygonal ``geoms`` (``None`` has none) in flat arrays, as
    :class:`ZoneIndex` keeps its sources: first ring and ring count per geometry, start and
    open length per ring, exterior or not, box, and the vertices."""
    geoms = geoms.copy()
    geoms[~is_usable(geoms)] = shapely.Polygon()
    r = ring_arrays(geoms)
    n_rings = len(r.start) - 1
    first = np.searchsorted(r.ring_geom, np.arange(len(geoms))).astype(np.int64)
    count = np.bincount(r.ring_geom, minlength=len(geoms)).astype(np.int64)
    box = np.zeros((n_rings, 4))
    if n_rings:
        starts = r.start[:-1]
        box[:, 0] = np.minimum.reduceat(r.xy[:, 0], starts)
        box[:, 1] = np.minimum.reduceat(r.xy[:, 1], starts)
        box[:, 2] = np.maximum.reduceat(r.xy[:, 0], starts)
        box[:, 3] = np.maximum.reduceat(r.xy[:, 1], starts)
    return (
        first,
        count,
        r.start[:-1].astype(np.int64),
        np.maximum(np.diff(r.start) - 1, 0).astype(np.int64),
        r.exterior.copy(),
        box,
        np.ascontiguousarray(r.xy),
    )


def block_of(zones: ZoneIndex, z: IntArray, boxes: FloatArray) -> IntArray:
    """The block of zone ``z[k]`` that holds ``boxes[k]`` (its position in ``zones.blocks``),
    or -1 when the zone has no blocks, the box is bigger than a core or the block is empty."""
    out = np.full(len(z), -1, dtype=np.int64)
    b = zones.block_size[z]
    has = np.flatnonzero(b > 0)
    if not len(has):
        return out
    zb = zones.zone_bounds[z[has]]
    lo = np.maximum(boxes[has, :2], zb[:, :2])  # the part of the box the zone can reach
    hi = np.minimum(boxes[has, 2:], zb[:, 2:])
    bs = b[has, None]
    shape = zones.block_shape[z[has]]
    core = np.clip(np.floor((lo - zones.block_origin[z[has]]) / bs), 0, shape - 1)
    fits = np.all(hi <= zones.block_origin[z[has]] + (core + 2) * bs, axis=1)
    core = core.astype(np.int64)
    pos = zones.block_first[z[has]] + core[:, 1] * shape[:, 0] + core[:, 0]
    there = np.array([g is not None for g in zones.blocks[pos].tolist()], dtype=bool)
    use = fits & there
    out[has[use]] = pos[use]
    return out


def clip_zones(zones: ZoneIndex, z: IntArray, boxes: FloatArray) -> ObjArray:
    """Zone ``z[k]`` clipped to ``boxes[k]`` (``clip_by_rect``), from the block that holds the
    box when the zone has blocks and the box is small enough, else from the whole zone."""
    out = np.empty(len(z), dtype=object)
    block = block_of(zones, z, boxes)
    src = zones.zones[z].copy()
    got = np.flatnonzero(block >= 0)
    src[got] = zones.blocks[block[got]]
    out[:] = [shapely.clip_by_rect(g, *box) for g, box in zip(src, boxes.tolist(), strict=True)]
    return out


def _axis_edges(
    xy: FloatArray, a: IntArray, zone: IntArray, axis: int
) -> tuple[IntArray, FloatArray, FloatArray, FloatArray, IntArray]:
    """Of the edges ``xy[a] → xy[a + 1]`` (of zones ``zone``), those parallel to axis
    ``1 - axis`` (``axis`` 0: vertical, x constant): their zone, constant coordinate, and
    the low and high end of their extent, and their positions in ``a``."""
    fixed = np.flatnonzero(xy[a, axis] == xy[a + 1, axis])
    p, q = xy[a[fixed], 1 - axis], xy[a[fixed] + 1, 1 - axis]
    return zone[fixed], xy[a[fixed], axis], np.minimum(p, q), np.maximum(p, q), fixed


def _boundary_edges(
    xy: FloatArray, has_edge: BoolArray, vertex_zone: IntArray, rings: Rings, ring_zone: IntArray
) -> BoolArray:
    """Whether each cell edge (vertex j to j + 1, where ``has_edge[j]``) lies, even in part,
    on its zone's own boundary (``rings``: the zones' rings, ``ring_zone`` the zone of
    each), rather than only on a cut. Cuts are axis-parallel; ``clip_by_rect`` may join a
    cut and a zone edge on the same line into one edge, so an axis-parallel cell edge is
    checked against the zone's axis-parallel edges on its line: boundary when one of them
    overlaps it over a positive length. A zone's edges on one line do not overlap each
    other (the zone is valid), so sorted by their low end, only the last one starting
    below the cell edge's high end can reach it."""
    out = has_edge.copy()
    e = np.flatnonzero(has_edge)
    ring_of = np.repeat(np.arange(len(rings.start) - 1), np.diff(rings.start))
    r_a = np.flatnonzero(ring_of[:-1] == ring_of[1:])  # the zones' edges: r → r + 1
    r_zone = ring_zone[ring_of[r_a]]
    for axis in (0, 1):
        cz, cc, clo, chi, c_pos = _axis_edges(xy, e, vertex_zone[e], axis)
        oz, oc, olo, ohi, _ = _axis_edges(rings.xy, r_a, r_zone, axis)
        if not len(cz):
            continue
        out[e[c_pos]] = False
        if not len(oz):
            continue
        order = np.lexsort((olo, oc, oz))
        oz, oc, olo, ohi = oz[order], oc[order], olo[order], ohi[order]
        # Group of each zone edge: (zone, line); complex numbers sort lexicographically.
        line = oz.astype(np.float64) + 1j * oc
        new = np.concatenate([[True], line[1:] != line[:-1]])
        gid = np.cumsum(new) - 1
        heads = line[new]
        g = np.minimum(np.searchsorted(heads, cz.astype(np.float64) + 1j * cc), len(heads) - 1)
        same = heads[g] == cz.astype(np.float64) + 1j * cc
        t = np.searchsorted(gid.astype(np.float64) + 1j * olo, g.astype(np.float64) + 1j * chi)
        last = np.maximum(t - 1, 0)
        hit = same & (t > 0) & (gid[last] == g) & (ohi[last] > clo) & (olo[last] < chi)
        out[e[c_pos[hit]]] = True
    return out


def _build_prepared_indexes(geoms: ObjArray) -> None:
    """Make GEOS build the lazy parts of prepared geometries (point locator and its index,
    segment intersection finder) now, on one thread: building them is not thread-safe, and
    :func:`~guotu.domain.geometry.overlay.overlay` shares them between threads. A line across each box, starting and ending
    outside it, makes ``intersects`` use both; the point predicates then use the locator."""
    ok = np.flatnonzero(is_usable(geoms))
    if not len(ok):
        return
    g = geoms[ok]
    x0, y0, x1, y1 = shapely.bounds(g).T
    ym = (y0 + y1) / 2.0
    pad = np.maximum(x1 - x0, 1.0)
    lines = shapely.linestrings(
        np.stack([np.stack([x0 - pad, ym], axis=1), np.stack([x1 + pad, ym], axis=1)], axis=1)
    )
    shapely.intersects(g, lines)
    shapely.covers(g, lines)
    shapely.contains_xy(g, x0, ym)
    shapely.intersects_xy(g, x0, ym)


def prepare_zones(
    zones: ObjArray, crs: CRS, *, max_vertices: int = 256, threads: int | None = None
) -> ZoneIndex:
    """Index zone polygons once, for many :func:`~guotu.domain.geometry.overlay.overlay` calls.

    Polygons with more than ``max_vertices`` vertices are cut into pieces (like
    ``ST_Subdivide``); this is invisible to callers: results are always reported per original
    zone position. Missing or empty zones are skipped.

    Parameters
    ----------
    zones
        Valid Polygons/MultiPolygons in the projected CRS ``crs``.
    crs
        Their projected CRS (metres); :class:`~guotu.errors.CRSError` otherwise.
    max_vertices
        Largest number of vertices of a piece (at least 8).
    threads
        Most threads :func:`~guotu.domain.geometry.overlay.overlay` will use with this index (``None``: one per CPU); each
        gets its own copy of the prepared geometries.

    Examples
    --------
    >>> idx = prepare_zones(np.array([shapely.box(0, 0, 10, 10), None]), CRS.from_epsg(4527))
    >>> len(idx), idx.pieces_per_zone.tolist()
    (2, [1, 0])
    """
    check_projected(crs, "Overlay", what_zh="叠加分析")
    if max_vertices < 8:
        raise ValueError(f"max_vertices must be at least 8, not {max_vertices}")
    zones = np.asarray(zones, dtype=object).reshape(-1)
    ok = np.flatnonzero(is_usable(zones))
    polys, owner = polygon_parts(zones[ok])
    polys = shapely.orient_polygons(polys, exterior_cw=False)
    pieces, piece_zone = _subdivide(polys, ok[owner].astype(np.int64), max_vertices)
    cells, cell_piece = _subdivide(
        pieces, np.arange(len(pieces), dtype=np.int64), min(max_vertices, _CELL_VERTICES)
    )
    # Deterministic cell boundaries: counter-clockwise exteriors, clockwise holes.
    cells = shapely.orient_polygons(cells, exterior_cw=False)
    rings = shapely.get_rings(cells)
    ring_counts = shapely.get_num_coordinates(rings)
    xy = shapely.get_coordinates(rings)
    ring_last = np.cumsum(ring_counts) - 1
    has_edge = np.ones(len(xy), dtype=bool)
    has_edge[ring_last] = False
    per_cell = shapely.get_num_coordinates(cells)
    offsets = np.concatenate([[0], np.cumsum(per_cell)]).astype(np.int64)

    used = zones.copy()
    used[~is_usable(zones)] = None
    shapely.prepare(used)
    shapely.prepare(pieces)
    # Cells are not prepared: point-in-polygon on at most _CELL_VERTICES vertices is cheap
    # either way, and their prepared indexes would cost more memory than the pieces.
    zone_area = np.zeros(len(zones))
    zone_area[ok] = ellipsoidal_area_m2(zones[ok], crs)
    zone_planar = np.zeros(len(zones))
    zone_planar[ok] = shapely.area(zones[ok])
    piece_area = ellipsoidal_area_m2(pieces, crs)
    for prepared in (used, pieces):
        _build_prepared_indexes(prepared)
    vertex_zone = np.repeat(piece_zone[cell_piece], per_cell)
    zone_rings = ring_arrays(polys)
    on_boundary = _boundary_edges(
        xy, has_edge, vertex_zone, zone_rings, ok[owner][zone_rings.ring_geom]
    )
    n_threads = (os.cpu_count() or 1) if threads is None else max(1, threads)
    # Cells (unprepared, only read) serve all threads. Prepared covers/intersects keep
    # per-call state: the zones and pieces get a prepared copy per thread.
    replicas = [PreparedZones(used, pieces, cells)] + [
        PreparedZones(_prepared_copy(used), _prepared_copy(pieces), cells)
        for _ in range(n_threads - 1)
    ]
    blocks = _zone_blocks(used, ok)
    sources = _source_rings(np.concatenate([used, pieces, blocks[4]]))
    return ZoneIndex(
        crs=crs,
        zones=used,
        zone_area_m2=zone_area,
        zone_planar_m2=zone_planar,
        pieces=pieces,
        piece_zone=piece_zone,
        piece_area_m2=piece_area,
        pieces_per_zone=np.bincount(piece_zone, minlength=len(zones)).astype(np.int64),
        tree=shapely.STRtree(pieces),
        piece_bounds=shapely.bounds(pieces),
        zone_bounds=shapely.bounds(used),
        cells=cells,
        cell_piece=cell_piece,
        cell_tree=shapely.STRtree(cells),
        xy=xy,
        offsets=offsets,
        has_edge=has_edge,
        on_boundary=on_boundary,
        src_first=sources[0],
        src_count=sources[1],
        ring_start=sources[2],
        ring_len=sources[3],
        ring_ext=sources[4],
        ring_box=sources[5],
        src_xy=sources[6],
        block_size=blocks[0],
        block_origin=blocks[1],
        block_shape=blocks[2],
        block_first=blocks[3],
        blocks=blocks[4],
        replicas=tuple(replicas),
    )
