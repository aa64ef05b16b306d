"""The geometry path of the overlay: intersections built, then measured (see
:mod:`guotu.domain.geometry.overlay`, steps 1–3)."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from guotu.domain.geometry._chunk import CONTAINS, NOISE_SHARE, OVERLAPS, WITHIN, Chunk, group
from guotu.domain.geometry._compiled import HAVE_NUMBA
from guotu.domain.geometry._compiled.sutherland_hodgman import clip_rings_convex
from guotu.domain.geometry._convex_parts import ccw_exteriors
from guotu.domain.geometry._rings import Rings, ring_arrays, ring_subset, unique_sorted
from guotu.domain.geometry.area import SCALE_FACTOR_MAX_RING_EXTENT_M, transverse_mercator
from guotu.domain.geometry.moments import ellipsoidal_from_moments, feature_areas
from guotu.domain.geometry.polygons import is_usable, polygonal
from guotu.domain.geometry.zone_index import PreparedZones, ZoneIndex, block_of, clip_zones

__all__ = ["convex_intersections", "geometry_chunk"]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def geometry_chunk(
    feats: ObjArray, base: int, zones: ZoneIndex, min_area_m2: float, prep: PreparedZones
) -> Chunk:
    """The geometry path of the overlay for the features ``feats`` (positions start at
    ``base``), with the prepared geometries ``prep`` of this thread."""
    nz = np.int64(max(len(zones), 1))
    usable = np.flatnonzero(is_usable(feats))
    q_f, q_p = zones.tree.query(feats[usable])
    fi, pi = usable[q_f], q_p.astype(np.int64)
    zi = zones.piece_zone[pi]
    rank = pi - np.searchsorted(zones.piece_zone, zi)  # the piece's rank within its zone
    order = np.lexsort((rank, zi, fi))
    fi, pi, zi = fi[order], pi[order], zi[order]
    fb = shapely.bounds(feats)
    pb = zones.piece_bounds[pi]
    f_box = fb[fi]
    # 1. Features covered by a piece, or by their whole (cut) zone: within, nothing to compute.
    maybe = np.flatnonzero(
        (f_box[:, 0] >= pb[:, 0])
        & (f_box[:, 1] >= pb[:, 1])
        & (f_box[:, 2] <= pb[:, 2])
        & (f_box[:, 3] <= pb[:, 3])
    )
    in_piece = np.zeros(len(fi), dtype=bool)
    in_piece[maybe] = shapely.covers(prep.pieces[pi[maybe]], feats[fi[maybe]])
    keys = fi * nz + zi
    groups, g_of = group(keys)
    g_f, g_z = groups // nz, groups % nz
    within = np.zeros(len(groups), dtype=bool)
    within[g_of[in_piece]] = True
    cut = np.flatnonzero(~within & (zones.pieces_per_zone[g_z] > 1))
    zb = zones.zone_bounds[g_z[cut]]
    gb = fb[g_f[cut]]
    cut = cut[
        (gb[:, 0] >= zb[:, 0])
        & (gb[:, 1] >= zb[:, 1])
        & (gb[:, 2] <= zb[:, 2])
        & (gb[:, 3] <= zb[:, 3])
    ]
    within[cut] = shapely.covers(prep.zones[g_z[cut]], feats[g_f[cut]])
    # 2. The other pairs: drop the disjoint ones; a piece covered by the feature counts whole.
    rest = np.flatnonzero(~within[g_of])
    rest = rest[shapely.intersects(prep.pieces[pi[rest]], feats[fi[rest]])]
    r_box, rp_box = f_box[rest], pb[rest]
    maybe = np.flatnonzero(
        (rp_box[:, 0] >= r_box[:, 0])
        & (rp_box[:, 1] >= r_box[:, 1])
        & (rp_box[:, 2] <= r_box[:, 2])
        & (rp_box[:, 3] <= r_box[:, 3])
    )
    piece_inside = np.zeros(len(rest), dtype=bool)
    piece_inside[maybe] = shapely.covers(feats[fi[rest[maybe]]], zones.pieces[pi[rest[maybe]]])
    whole = rest[piece_inside]
    crossing = rest[~piece_inside]

    # 3. Areas. Features: once each.
    f_used = unique_sorted(g_f)[0]
    f_ell = np.zeros(len(feats))
    f_planar = np.zeros(len(feats))
    f_rings = ring_arrays(feats[f_used])
    f_ell[f_used] = feature_areas(feats[f_used], fb[f_used], zones.crs, f_rings)
    f_planar[f_used] = shapely.area(feats[f_used])
    n_g = len(groups)
    ell: FloatArray = np.where(within, f_ell[g_f], 0.0).astype(np.float64)
    planar: FloatArray = np.where(within, f_planar[g_f], 0.0).astype(np.float64)
    planar += np.bincount(g_of[whole], shapely.area(zones.pieces[pi[whole]]), n_g)
    ell += np.bincount(g_of[whole], zones.piece_area_m2[pi[whole]], n_g)
    n_whole = np.bincount(g_of[whole], minlength=n_g)
    relation = np.full(n_g, OVERLAPS, dtype=np.int8)
    relation[(n_whole == zones.pieces_per_zone[g_z]) & ~within] = CONTAINS
    relation[within] = WITHIN
    n_cross = np.bincount(g_of[crossing], minlength=n_g)
    # The intersections by GEOS, their areas from their own rings.
    g_geom = np.empty(n_g, dtype=object)
    g_geom[within] = feats[g_f[within]]
    cont = relation == CONTAINS
    g_geom[cont] = zones.zones[g_z[cont]]
    # The rest: a convex feature is clipped (compiled) against the one piece it crosses,
    # or the block holding its box, or the whole zone; GEOS does what that leaves.
    todo = np.flatnonzero((relation == OVERLAPS) & ((n_cross > 0) | (n_whole > 0)))
    single = (n_cross[todo] == 1) & (n_whole[todo] == 0)
    one_piece = np.zeros(n_g, dtype=np.int64)
    one_piece[g_of[crossing]] = pi[crossing]
    t_z = g_z[todo]
    source = t_z.copy()
    block = block_of(zones, t_z, fb[g_f[todo]])
    n_zones, n_pieces = len(zones.zones), len(zones.pieces)
    source[block >= 0] = n_zones + n_pieces + block[block >= 0]
    source[single] = n_zones + one_piece[todo[single]]
    c_geom, c_planar, c_ell, c_done = convex_intersections(
        feats, zones, g_f[todo], source, zones.crs, (f_used, f_rings)
    )
    done = todo[c_done]
    g_geom[done] = c_geom[c_done]
    planar[done] = c_planar[c_done]
    ell[done] = c_ell[c_done]
    left = todo[~c_done]
    inter = _intersections(
        feats, zones, g_f[left], g_z[left], left, g_of[crossing], pi[crossing], n_whole
    )
    g_geom[left] = inter
    planar[left] = shapely.area(inter)
    ell[left] = _polygonal_areas(inter, zones.crs)
    keep = np.flatnonzero((ell > min_area_m2) & (planar > NOISE_SHARE * f_planar[g_f]))
    return Chunk(
        left=(g_f[keep] + base).astype(np.int64),
        right=g_z[keep].astype(np.int64),
        relation=relation[keep],
        area_m2=ell[keep],
        planar_area_m2=planar[keep],
        feature_area_m2=f_ell[g_f[keep]],
        geometry=g_geom[keep],
    )


def _polygonal_areas(geoms: ObjArray, crs: CRS) -> FloatArray:
    """Ellipsoidal areas of polygonal geometries (0 for empty ones)."""
    out = np.zeros(len(geoms))
    ok = np.flatnonzero(~shapely.is_empty(geoms))
    if len(ok):
        out[ok] = feature_areas(geoms[ok], shapely.bounds(geoms[ok]), crs)
    return out


def convex_intersections(
    feats: ObjArray,
    zones: ZoneIndex,
    f: IntArray,
    source: IntArray,
    crs: CRS,
    known: tuple[npt.NDArray[np.integer], Rings] | None = None,
) -> tuple[ObjArray, FloatArray, FloatArray, BoolArray]:
    """Intersections of features ``f`` with zone sources ``source`` (see :class:`ZoneIndex`)
    by the compiled Sutherland–Hodgman clipping (:func:`clip_rings_convex`) of the source's
    rings to the feature, for convex features (Polygons without holes): geometries, planar
    and ellipsoidal areas, and whether each was done — else the caller asks GEOS (the result
    was not one valid polygon without holes, the feature is not convex or too big for the
    moment formula, or numba is missing). ``known``: sorted feature positions holding all of
    ``f`` and their :func:`ring_arrays`, when the caller has read them already."""
    n = len(f)
    geoms = np.empty(n, dtype=object)
    planar, ell = np.zeros(n), np.zeros(n)
    done = np.zeros(n, dtype=bool)
    if not n or not HAVE_NUMBA or transverse_mercator(crs) is None:
        return geoms, planar, ell, done
    # Each feature once (one may meet several zones), its exterior ring normalized.
    u, inv = unique_sorted(f)
    fr = (
        ring_arrays(feats[u])
        if known is None
        else ring_subset(known[1], np.searchsorted(known[0], u))
    )
    ext, c_xy, c_counts, reflex = ccw_exteriors(fr)
    ok_u = np.zeros(len(u), dtype=bool)
    ok_u[fr.ring_geom[ext[~reflex & (c_counts >= 3)]]] = True
    ok_u &= np.bincount(fr.ring_geom, minlength=len(u)) == 1
    ub = shapely.bounds(feats[u])
    ok_u &= np.maximum(ub[:, 2] - ub[:, 0], ub[:, 3] - ub[:, 1]) <= SCALE_FACTOR_MAX_RING_EXTENT_M
    rows = np.flatnonzero(ok_u[inv])
    if not len(rows):
        return geoms, planar, ell, done
    origin = np.asarray(ub[inv[rows], :2], dtype=np.float64)
    # The clip rings of the chosen rows, in row order, relative to their origin.
    ring_of_geom = np.full(len(u), -1, dtype=np.intp)
    ring_of_geom[fr.ring_geom[ext]] = np.arange(len(ext))
    r_ids = ring_of_geom[inv[rows]]
    c_begin = np.cumsum(c_counts) - c_counts
    cc = c_counts[r_ids]
    c_rows = np.repeat(c_begin[r_ids] - (np.cumsum(cc) - cc), cc) + np.arange(int(cc.sum()))
    c_off = np.concatenate([[0], np.cumsum(cc)]).astype(np.int64)
    c_loc = c_xy[c_rows] - np.repeat(origin, cc, axis=0)
    tiny = NOISE_SHARE * shapely.area(feats[u])[inv[rows]]
    status, xy, start, m = clip_rings_convex(
        c_loc,
        c_off,
        np.ascontiguousarray(origin[:, 0]),
        np.ascontiguousarray(origin[:, 1]),
        source[rows].astype(np.int64),
        zones.src_first,
        zones.src_count,
        zones.ring_start,
        zones.ring_len,
        zones.ring_ext,
        zones.ring_box,
        zones.src_xy,
        tiny,
    )
    one = np.flatnonzero(status == 1)
    counts = np.diff(start)[one]
    built = np.empty(len(one), dtype=object)
    if len(one):
        idx = np.repeat(np.arange(len(one)), counts)
        built[:] = shapely.polygons(shapely.linearrings(xy + origin[one][idx], indices=idx))
    valid = np.asarray(shapely.is_valid(built), dtype=bool)
    got = rows[one[valid]]
    geoms[got] = built[valid]
    planar[got] = m[one[valid], 0]
    ell[got] = ellipsoidal_from_moments(m[one[valid]], origin[one[valid]], crs)
    done[got] = True
    gone = rows[status == 0]
    geoms[gone] = shapely.Polygon()
    done[gone] = True
    return geoms, planar, ell, done


def _intersections(
    feats: ObjArray,
    zones: ZoneIndex,
    g_f: IntArray,
    g_z: IntArray,
    groups: IntArray,
    cross_group: npt.NDArray[np.intp],
    cross_piece: IntArray,
    n_whole: IntArray,
) -> ObjArray:
    """Intersection geometries of (feature, zone) groups: with the one piece the feature
    crosses, or else with the zone clipped to the feature's box (``clip_by_rect``, linear and
    without noding), which equals the union of its pieces' intersections, in one overlay."""
    out = np.empty(len(groups), dtype=object)
    n_cross = np.bincount(cross_group, minlength=len(n_whole))
    single = (n_cross[groups] == 1) & (n_whole[groups] == 0)
    first = np.full(len(n_whole), -1, dtype=np.int64)
    first[cross_group[::-1]] = cross_piece[::-1]
    one = np.flatnonzero(single)
    out[one] = shapely.intersection(feats[g_f[one]], zones.pieces[first[groups[one]]])
    many = np.flatnonzero(~single)
    if len(many):
        clipped = clip_zones(zones, g_z[many], shapely.bounds(feats[g_f[many]]))
        out[many] = shapely.intersection(feats[g_f[many]], clipped)
    return polygonal(out)
