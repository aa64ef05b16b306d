"""The red lines as the detour search sees them (:func:`guotu.domain.review.routing.find_detour`,
steps 1-3 of its method): clipped to the corridor's neighbourhood, dissolved and inflated by
the half-width plus clearance (:func:`inflate`), simplified outward when they hold too many
vertices (:func:`simplify_outward`), shrunk by :data:`TOLERANCE_M` for visibility tests
(:func:`shrink`), and the stretches of the route that enter them (:func:`find_crossings`).

Geometries are in coordinates relative to the route's start point, in metres.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

from guotu.domain.geometry.polygons import POLYGONAL_TYPES, repair_polygonal

__all__ = [
    "TOLERANCE_M",
    "find_crossings",
    "inflate",
    "polygonal_part",
    "shrink",
    "simplify_outward",
]

ObjArray = npt.NDArray[np.object_]

#: Metres by which the inflated red lines are shrunk for visibility tests, so that a centre
#: line running exactly along an inflated edge (its buffer touching the red line) is free
#: despite floating-point noise. Far below any survey precision.
TOLERANCE_M = 1e-6

#: Route pieces closer than this (in metres along the line) are merged.
_MERGE_M = 1e-9


def inflate(
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
    clipped = polygonal_part(clipped)
    if radius_m > 0:
        clipped = shapely.buffer(clipped, radius_m, join_style="mitre")
    return clipped


def polygonal_part(geom: shapely.Geometry) -> shapely.Geometry:
    """The polygonal parts of ``geom`` as one (multi)polygon."""
    if shapely.get_type_id(geom) in POLYGONAL_TYPES:
        return geom
    parts = shapely.get_parts(geom)
    parts = parts[np.isin(shapely.get_type_id(parts), POLYGONAL_TYPES)]
    return shapely.union_all(parts) if len(parts) else shapely.Polygon()


def simplify_outward(
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
        candidate = polygonal_part(
            shapely.make_valid(shapely.simplify(grown, tolerance_m, preserve_topology=True))
        )
        if not shapely.covers(candidate, blocked):
            break  # collapsed parts: keep the last one that still covers everything
        simple = candidate
        if int(shapely.get_num_coordinates(simple)) <= max_vertices:
            break
        tolerance_m *= 2
    return simple


def shrink(blocked: shapely.Geometry) -> shapely.Geometry:
    """``blocked`` shrunk by :data:`TOLERANCE_M`, the polygons a centre line may not enter."""
    if blocked.is_empty:
        return blocked
    return shapely.buffer(blocked, -TOLERANCE_M, join_style="mitre")


def find_crossings(
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
