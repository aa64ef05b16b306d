"""Spatial overlay kernel of plan review (规划审查叠加分析): features × zones, with areas.

:func:`prepare_zones` indexes zone polygons (红线, 永久基本农田, 城镇开发边界 …) once; :func:`overlay`
then reports every (feature, zone) pair whose intersection has a positive ellipsoidal area,
with the relation, the areas and, unless ``geometry=False``, the intersection itself.

How the work is kept small:

1. Zones are cut into pieces of at most ``max_vertices`` vertices along axis-parallel lines
   (like PostGIS ``ST_Subdivide``); the pieces partition the zone, so areas add up over them.
   An STRtree over the pieces gives the candidate pairs.
2. Geometry path: a feature covered by a piece, or by its whole zone (prepared ``covers``),
   is ``within``: its intersection is the feature itself, nothing is computed. A piece
   covered by the feature contributes the whole piece. Only pieces crossing the feature's
   boundary are left.
3. For those, the geometry path (:mod:`~guotu.domain.geometry._geometry_path`) builds the
   intersection and measures it (ellipsoidal area from its rings' moments, compiled:
   :mod:`guotu.domain.geometry.moments`). A convex feature is clipped by compiled
   Sutherland–Hodgman (:mod:`~guotu.domain.geometry._compiled.sutherland_hodgman`) against
   the one piece it crosses, or else the block of its zone that holds its box (zones of many
   vertices are cut into overlapping blocks, :mod:`guotu.domain.geometry.zone_index`), or
   else the whole zone; the result is kept when it is one valid polygon. The others go to
   GEOS: with the one piece the feature crosses, or with the zone (or its block) clipped to
   the feature's box.
4. The area-only path (``geometry=False``, :mod:`~guotu.domain.geometry._area_path`) never
   builds an intersection and asks GEOS no predicate first: an exact clipping kernel
   (compiled, :mod:`~guotu.domain.geometry._compiled.pair_clip`; the numpy
   :mod:`~guotu.domain.geometry._clipping` is its reference) takes every (feature,
   cell) pair whose boxes meet (cells: the pieces cut further). It splits each feature into
   convex parts (itself when convex, else ear triangles merged back into convex pieces, or
   constrained Delaunay triangles when it has holes), clips each cell edge to each part
   (Cyrus–Beck), and Green's theorem sums the clipped edges, the parts of the feature's
   boundary between where the cell's boundary enters and leaves it, and the feature's
   whole boundary when its first vertex lies in the cell. Ties (a vertex exactly on an
   edge, shared edges) are broken as if the feature were shifted by an infinitesimal
   (ε, ε²) — a symbolic perturbation, so touching pairs give 0 and shared edges count once.
   The same pass gives the planar moments the ellipsoidal area needs (∬ k⁻² dA,
   :mod:`guotu.domain.geometry.area`), and tells whether an edge of the zone's own boundary (not a
   cut) meets the feature in a segment. A feature whose pieces hold all of its area
   (within 1e-9) and that no boundary edge meets is ``within``; where a boundary edge does
   meet it (it runs along the feature's edges) prepared ``covers`` decides, as it does
   whether a zone whose whole area the feature holds lies inside it (``contains``). Areas
   of those relations are the feature's or the zone's own, as on the geometry path. The
   two paths give the same pairs and relations and agree to 1e-9 relative, or to ~1e-7 m²
   on slivers (GEOS rounds the vertices it creates).

Work is split over threads by chunks of features (GEOS and numpy release the GIL); results
are sorted by (feature, zone) and do not depend on the input order or on ``workers``.
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from guotu.domain.geometry._area_path import area_chunk
from guotu.domain.geometry._chunk import RELATIONS, Chunk
from guotu.domain.geometry._geometry_path import geometry_chunk
from guotu.domain.geometry.area import SCALE_FACTOR_MAX_RING_EXTENT_M, transverse_mercator
from guotu.domain.geometry.polygons import is_usable
from guotu.domain.geometry.zone_index import PreparedZones, ZoneIndex, prepare_zones

__all__ = [
    "LineOverlayResult",
    "OverlayResult",
    "ZoneIndex",
    "line_overlay",
    "overlay",
    "prepare_zones",
    "warm_up",
]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Inputs with fewer features than this run on one thread.
PARALLEL_MIN_FEATURES = 4_000


@dataclass(frozen=True)
class OverlayResult:
    """The (feature, zone) pairs of an overlay, sorted by (left, right).

    Attributes
    ----------
    left
        Position of the feature in the ``features`` argument.
    right
        Position of the (original) zone in the array given to :func:`prepare_zones`.
    relation
        ``"within"`` (feature inside zone), ``"contains"`` (zone inside feature) or ``"overlaps"``.
    area_m2, planar_area_m2
        Ellipsoidal (椭球) and planar area of the intersection.
    geometry
        The intersection (valid Polygon/MultiPolygon), or ``None`` when ``geometry=False``.
    feature_area_m2, zone_area_m2
        Ellipsoidal area of the pair's feature and zone.
    """

    left: IntArray
    right: IntArray
    relation: npt.NDArray[np.str_]
    area_m2: FloatArray
    planar_area_m2: FloatArray
    geometry: ObjArray | None
    feature_area_m2: FloatArray
    zone_area_m2: FloatArray

    def __len__(self) -> int:
        return len(self.left)


@dataclass(frozen=True)
class LineOverlayResult:
    """Lines × zones: the part of each line inside each zone (planar length > 0)."""

    left: IntArray
    right: IntArray
    length_m: FloatArray
    geometry: ObjArray

    def __len__(self) -> int:
        return len(self.left)


def _overlay_chunk(
    feats: ObjArray,
    base: int,
    zones: ZoneIndex,
    min_area_m2: float,
    geometry: bool,
    prep: PreparedZones,
) -> Chunk:
    """:func:`overlay` of ``feats`` (positions start at ``base``), with the prepared
    geometries ``prep`` of this thread. The area-only path sends the features the moment
    formula cannot take (too big, or a CRS that is not Transverse Mercator) to the geometry
    path and drops their geometries."""
    if geometry:
        return geometry_chunk(feats, base, zones, min_area_m2, prep)
    use = is_usable(feats)
    fb = shapely.bounds(feats)
    if transverse_mercator(zones.crs) is None:
        use[:] = False
    else:
        use &= (
            np.maximum(fb[:, 2] - fb[:, 0], fb[:, 3] - fb[:, 1]) <= SCALE_FACTOR_MAX_RING_EXTENT_M
        )
    if use.all():
        return area_chunk(feats, fb, base, zones, min_area_m2, prep, np.arange(len(feats)))
    rest = feats.copy()
    rest[use] = None
    parts = [
        area_chunk(feats, fb, base, zones, min_area_m2, prep, np.flatnonzero(use)),
        geometry_chunk(rest, base, zones, min_area_m2, prep),
    ]
    return Chunk(
        **{
            f: np.concatenate([getattr(c, f) for c in parts])
            for f in ("left", "right", "relation", "area_m2", "planar_area_m2", "feature_area_m2")
        },
        geometry=None,
    )


def _chunks(n: int, workers: int | None) -> tuple[int, list[tuple[int, int]]]:
    """Thread count and feature ranges: a few chunks per thread, for balance."""
    threads = (os.cpu_count() or 1) if workers is None else max(1, workers)
    if n < PARALLEL_MIN_FEATURES:
        threads = 1
    pieces = 1 if threads == 1 else threads * 4
    edges = np.linspace(0, n, pieces + 1).astype(int)
    return threads, [(int(a), int(b)) for a, b in itertools.pairwise(edges.tolist())]


def _map(
    threads: int, fn: Callable[[tuple[int, int], int], Chunk], ranges: list[tuple[int, int]]
) -> list[Chunk]:
    """``fn(range, thread)`` over ``ranges``; thread t runs ranges t, t + threads … in turn."""
    if threads == 1:
        return [fn(r, 0) for r in ranges]

    def task(t: int) -> list[Chunk]:
        return [fn(r, t) for r in ranges[t::threads]]

    with ThreadPoolExecutor(threads) as pool:
        done = list(pool.map(task, range(threads)))
    return [done[i % threads][i // threads] for i in range(len(ranges))]


def overlay(
    features: ObjArray,
    zones: ZoneIndex,
    *,
    min_area_m2: float = 0.0,
    geometry: bool = True,
    workers: int | None = None,
) -> OverlayResult:
    """Every (feature, zone) pair whose intersection has ellipsoidal area > ``min_area_m2``.

    Parameters
    ----------
    features
        Valid polygonal geometries in the CRS of ``zones``; missing or empty ones are skipped.
    zones
        The zones, from :func:`prepare_zones`.
    min_area_m2
        Pairs whose intersection is not larger than this (ellipsoidal, m²) are dropped;
        pairs that only touch are always dropped.
    geometry
        ``False``: the area-only path for statistics, the same pairs and areas without the
        intersection geometries (much faster).
    workers
        Threads (``None``: one per CPU; one for small inputs). Results do not depend on it.

    Examples
    --------
    >>> crs = CRS.from_epsg(4527)
    >>> zones = prepare_zones(np.array([shapely.box(39_540_000, 4_052_000, 39_540_100,
    ...                                             4_052_100)]), crs)
    >>> parcels = np.array([shapely.box(39_540_050, 4_052_000, 39_540_150, 4_052_100),
    ...                     shapely.box(39_540_010, 4_052_010, 39_540_020, 4_052_020)])
    >>> r = overlay(parcels, zones)
    >>> r.left.tolist(), r.relation.tolist(), r.planar_area_m2.round(6).tolist()
    ([0, 1], ['overlaps', 'within'], [5000.0, 100.0])
    >>> from guotu.domain.geometry.area import ellipsoidal_area_m2
    >>> bool(abs(r.area_m2[0] - ellipsoidal_area_m2(r.geometry[:1], crs)[0]) < 1e-6)
    True
    """
    feats = np.asarray(features, dtype=object).reshape(-1)
    threads, ranges = _chunks(len(feats), workers)
    threads = min(threads, len(zones.replicas))
    chunks = _map(
        threads,
        lambda r, t: _overlay_chunk(
            feats[r[0] : r[1]], r[0], zones, min_area_m2, geometry, zones.replicas[t]
        ),
        ranges,
    )
    left = np.concatenate([c.left for c in chunks])
    right = np.concatenate([c.right for c in chunks])
    order = np.lexsort((right, left))
    geoms = (
        np.concatenate([c.geometry for c in chunks if c.geometry is not None])[order]
        if geometry
        else None
    )
    return OverlayResult(
        left=left[order],
        right=right[order],
        relation=RELATIONS[np.concatenate([c.relation for c in chunks])[order]],
        area_m2=np.concatenate([c.area_m2 for c in chunks])[order],
        planar_area_m2=np.concatenate([c.planar_area_m2 for c in chunks])[order],
        geometry=geoms,
        feature_area_m2=np.concatenate([c.feature_area_m2 for c in chunks])[order],
        zone_area_m2=zones.zone_area_m2[right[order]],
    )


def line_overlay(lines: ObjArray, zones: ZoneIndex) -> LineOverlayResult:
    """The part of each line inside each zone (planar length > 0), sorted by (left, right).

    For routes of special plans (专项规划): few features, computed directly with GEOS.

    Examples
    --------
    >>> zones = prepare_zones(np.array([shapely.box(0, 0, 10, 10)]), CRS.from_epsg(4527))
    >>> r = line_overlay(np.array([shapely.LineString([(-5, 5), (20, 5)])]), zones)
    >>> r.left.tolist(), r.right.tolist(), r.length_m.tolist()
    ([0], [0], [10.0])
    """
    arr = np.asarray(lines, dtype=object).reshape(-1)
    usable = np.flatnonzero(is_usable(arr))
    q_l, q_p = zones.tree.query(arr[usable], predicate="intersects")
    li, zi = usable[q_l], zones.piece_zone[q_p]
    pairs = np.unique(np.stack([li, zi], axis=1), axis=0).reshape(-1, 2)
    li, zi = pairs[:, 0].astype(np.int64), pairs[:, 1].astype(np.int64)
    inter = shapely.intersection(arr[li], zones.zones[zi])
    parts, idx = shapely.get_parts(inter, return_index=True)
    linear = np.isin(
        shapely.get_type_id(parts),
        [shapely.GeometryType.LINESTRING, shapely.GeometryType.MULTILINESTRING],
    )
    geom = np.empty(len(li), dtype=object)
    geom[:] = [
        shapely.line_merge(shapely.multilinestrings(parts[linear][idx[linear] == i]))
        for i in range(len(li))
    ]
    length = shapely.length(geom)
    keep = length > 0
    return LineOverlayResult(
        left=li[keep], right=zi[keep], length_m=length[keep], geometry=geom[keep]
    )


def warm_up() -> None:
    """Compile the overlay's numba kernels now, with a tiny overlay on both paths (numba
    caches them next to the sources): ``make install`` runs it, so that a bureau's first
    review does not wait some seconds for the compiler.

    >>> warm_up()
    """
    crs = CRS.from_epsg(4527)
    x0, y0 = 39_540_000.0, 4_052_000.0
    zone = shapely.Polygon(
        [(x0, y0), (x0 + 50, y0), (x0 + 50, y0 + 40), (x0 + 25, y0 + 20), (x0, y0 + 40)]
    )
    feats = np.empty(3, dtype=object)
    feats[:] = [
        shapely.box(x0 + 10, y0 - 5, x0 + 40, y0 + 10),  # convex
        shapely.Polygon(
            [
                (x0 - 5, y0 - 5),
                (x0 + 20, y0 - 5),
                (x0 + 20, y0 + 5),
                (x0 + 5, y0 + 5),
                (x0 + 5, y0 + 30),
                (x0 - 5, y0 + 30),
            ]
        ),
        shapely.box(x0 + 30, y0 + 30, x0 + 60, y0 + 60),
    ]
    index = prepare_zones(np.array([zone], dtype=object), crs, threads=1)
    for geometry in (True, False):
        overlay(feats, index, geometry=geometry, workers=1)
