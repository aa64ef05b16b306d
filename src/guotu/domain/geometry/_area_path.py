"""The area-only path of the overlay: no intersection is built, the exact clipping kernel
measures every pair (see :mod:`guotu.domain.geometry.overlay`, step 4)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely

from guotu.domain.geometry._chunk import CONTAINS, NOISE_SHARE, OVERLAPS, WITHIN, Chunk, group
from guotu.domain.geometry._clipping import pair_moments
from guotu.domain.geometry._rings import ring_arrays, unique_sorted
from guotu.domain.geometry.moments import ellipsoidal_from_moments, geometry_moments
from guotu.domain.geometry.zone_index import PreparedZones, ZoneIndex

__all__ = ["area_chunk"]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: The area-only path takes the kernel's area of a (feature, zone) pair as the whole feature
#: (or zone) within this share of it; then it decides whether the feature is within.
_SAME_AREA = 1e-9


def area_chunk(
    feats: ObjArray,
    fb: FloatArray,
    base: int,
    zones: ZoneIndex,
    min_area_m2: float,
    prep: PreparedZones,
    use: IntArray,
) -> Chunk:
    """The area-only path of the overlay for the features ``use`` (usable, and
    small enough for the moment formula): no predicate first, the clipping kernel takes
    every (feature, cell) pair whose boxes meet. A feature is within its zone when the
    zone's own boundary passes through none of its parts and the cells hold all of its
    area; it may be within when the boundary only runs along its edges, and GEOS
    (prepared ``covers``) decides those, as it does whether a zone that the feature holds
    all of is inside it. ``fb``: the features' bounds."""
    nz = np.int64(max(len(zones), 1))
    q_f, c_c = zones.cell_tree.query(feats[use])
    # Cells are numbered zone by zone: sorted by (feature, cell), the pairs come grouped by
    # (feature, zone), and each group's sum runs in an order fixed by the zone alone.
    key = use[q_f].astype(np.int64) * np.int64(len(zones.cells)) + c_c
    key.sort()
    c_f, c_c = key // len(zones.cells), key % len(zones.cells)
    c_z = zones.piece_zone[zones.cell_piece[c_c]]
    origin: FloatArray = np.ascontiguousarray(fb[:, :2], dtype=np.float64)
    f_used = unique_sorted(c_f)[0]
    f_rings = ring_arrays(feats[f_used])
    moments, crossed = pair_moments(
        feats, c_f, c_c, origin, zones, prep.cells, known=(f_used, f_rings)
    )
    groups, g_of = group(c_f * nz + c_z)
    g_f, g_z = groups // nz, groups % nz
    n_g = len(groups)
    g_mom: FloatArray = np.stack(
        [np.bincount(g_of, moments[:, m], n_g) for m in range(4)], axis=1
    ).astype(np.float64)
    g_crossed = np.bincount(g_of, crossed, n_g) > 0
    # The features' own areas from their rings, as feature_areas has them.
    f_mom = geometry_moments(f_rings, origin[f_used], len(f_used))
    f_ell = np.zeros(len(feats))
    f_planar = np.zeros(len(feats))
    f_ell[f_used] = ellipsoidal_from_moments(f_mom, origin[f_used], zones.crs)
    f_planar[f_used] = f_mom[:, 0]
    planar = g_mom[:, 0].copy()
    ell = ellipsoidal_from_moments(g_mom, origin[g_f], zones.crs)
    fp = f_planar[g_f]
    full = np.abs(planar - fp) <= _SAME_AREA * fp
    within = full & ~g_crossed
    ask = np.flatnonzero(full & g_crossed)
    within[ask] = shapely.covers(prep.zones[g_z[ask]], feats[g_f[ask]])
    zp = zones.zone_planar_m2[g_z]
    contains = np.zeros(n_g, dtype=bool)
    ask = np.flatnonzero(~within & (np.abs(planar - zp) <= _SAME_AREA * zp))
    contains[ask] = shapely.covers(feats[g_f[ask]], prep.zones[g_z[ask]])
    relation = np.full(n_g, OVERLAPS, dtype=np.int8)
    relation[contains] = CONTAINS
    relation[within] = WITHIN
    # As the geometry path has them: a feature within counts whole, a zone inside whole.
    ell[within], planar[within] = f_ell[g_f[within]], fp[within]
    ell[contains] = zones.zone_area_m2[g_z[contains]]
    planar[contains] = zp[contains]
    keep = np.flatnonzero((ell > min_area_m2) & (planar > NOISE_SHARE * fp))
    return Chunk(
        left=(g_f[keep] + base).astype(np.int64),
        right=g_z[keep].astype(np.int64),
        relation=relation[keep],
        area_m2=ell[keep],
        planar_area_m2=planar[keep],
        feature_area_m2=f_ell[g_f[keep]],
        geometry=None,
    )
