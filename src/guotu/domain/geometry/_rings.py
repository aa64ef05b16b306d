"""The rings of polygonal geometries in flat arrays (:class:`Rings`), read from GEOS once and
shared by the overlay's kernels, the zone index and the areas from moments."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import shapely

from guotu.domain.geometry._compiled import HAVE_NUMBA
from guotu.domain.geometry._compiled.ring_kernels import one_ring_runs
from guotu.domain.geometry.polygons import polygonal

__all__ = ["Rings", "ragged_rings", "ring_arrays", "ring_subset", "unique_sorted"]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def unique_sorted(
    values: npt.NDArray[np.integer],
) -> tuple[npt.NDArray[np.integer], npt.NDArray[np.intp]]:
    """``np.unique(values, return_inverse=True)``, in one linear pass when ``values`` is
    already sorted (the overlay's keys mostly are), else by ``np.unique``.

    Examples
    --------
    >>> u, inv = unique_sorted(np.array([2, 2, 5, 9, 9]))
    >>> u.tolist(), inv.tolist()
    ([2, 5, 9], [0, 0, 1, 2, 2])
    """
    a = np.asarray(values)
    if len(a) and not bool(np.all(a[1:] >= a[:-1])):
        uniq, inverse = np.unique(a, return_inverse=True)
        return uniq, inverse.astype(np.intp)
    new = np.empty(len(a), dtype=bool)
    if len(a):
        new[0] = True
        np.not_equal(a[1:], a[:-1], out=new[1:])
    return a[new], (np.cumsum(new) - 1).astype(np.intp)


@dataclass(frozen=True)
class Rings:
    """The rings of polygonal geometries in flat arrays (one ``to_ragged_array`` call):
    ring r has the closed vertices xy[start[r]:start[r + 1]], belongs to polygon
    ``ring_poly[r]`` and geometry ``ring_geom[r]``; ``exterior[r]`` marks exterior rings."""

    xy: FloatArray
    start: npt.NDArray[np.intp]
    ring_poly: npt.NDArray[np.intp]
    ring_geom: npt.NDArray[np.intp]
    exterior: BoolArray
    poly_geom: npt.NDArray[np.intp]
    poly_start: npt.NDArray[np.intp]


def ragged_rings(geoms: ObjArray) -> Rings:
    """:func:`ring_arrays` by ``to_ragged_array`` (any polygonal geometries)."""
    _kind, xy, offsets = shapely.to_ragged_array(geoms)
    ring_off = offsets[0].astype(np.intp)
    poly_off = offsets[1].astype(np.intp)
    multi_off = (
        offsets[2].astype(np.intp) if len(offsets) > 2 else np.arange(len(geoms) + 1, dtype=np.intp)
    )
    n_rings, n_polys = len(ring_off) - 1, len(poly_off) - 1
    ring_poly = np.repeat(np.arange(n_polys), np.diff(poly_off))
    poly_geom = np.repeat(np.arange(len(geoms)), np.diff(multi_off))
    return Rings(
        xy=np.asarray(xy, dtype=np.float64)[:, :2],
        start=ring_off,
        ring_poly=ring_poly,
        ring_geom=poly_geom[ring_poly],
        exterior=np.arange(n_rings) == poly_off[ring_poly],
        poly_geom=poly_geom,
        poly_start=poly_off,
    )


def ring_arrays(geoms: ObjArray) -> Rings:
    """The rings of polygonal geometries in flat arrays (:class:`Rings`), as
    ``to_ragged_array`` has them; non-polygonal parts are dropped (:func:`polygonal`).

    The coordinates come from one ``get_coordinates`` call, in the order ``to_ragged_array``
    gives them; only the geometries that are not one ring (holes, several polygons, empty,
    or when numba is missing) are read with ``to_ragged_array`` (several times slower), for
    where their rings start."""
    kinds = shapely.get_type_id(geoms)
    if not np.isin(kinds, [shapely.GeometryType.POLYGON, shapely.GeometryType.MULTIPOLYGON]).all():
        geoms = polygonal(geoms)
    n = len(geoms)
    if not n:
        z = np.zeros(1, dtype=np.intp)
        e = np.zeros(0, dtype=np.intp)
        return Rings(np.zeros((0, 2)), z, e, e, np.zeros(0, dtype=bool), e, z)
    xy = np.asarray(shapely.get_coordinates(geoms), dtype=np.float64)
    counts = shapely.get_num_coordinates(geoms).astype(np.intp)
    if HAVE_NUMBA:
        one = one_ring_runs(xy, counts)
    else:  # pragma: no cover - numba is a dependency
        one = (shapely.get_type_id(geoms) == shapely.GeometryType.POLYGON) & (counts > 0)
        one[one] = shapely.get_num_interior_rings(geoms[one]) == 0
    other = np.flatnonzero(~one)
    if not len(other):
        idx = np.arange(n, dtype=np.intp)
        return Rings(
            xy=xy,
            start=np.concatenate([[0], np.cumsum(counts)]).astype(np.intp),
            ring_poly=idx,
            ring_geom=idx,
            exterior=np.ones(n, dtype=bool),
            poly_geom=idx,
            poly_start=np.arange(n + 1, dtype=np.intp),
        )
    # Polygons per geometry and rings per polygon: one each, except where the ragged
    # arrays of the others say otherwise; ring lengths likewise.
    rr = ragged_rings(geoms[other])
    n_polys = np.ones(n, dtype=np.intp)
    n_polys[other] = np.bincount(rr.poly_geom, minlength=len(other))
    poly_base = np.cumsum(n_polys) - n_polys
    poly_geom = np.repeat(np.arange(n, dtype=np.intp), n_polys)
    n_rings = np.ones(len(poly_geom), dtype=np.intp)
    first = np.searchsorted(rr.poly_geom, np.arange(len(other)))
    o_poly = poly_base[other[rr.poly_geom]] + np.arange(len(rr.poly_geom)) - first[rr.poly_geom]
    n_rings[o_poly] = np.diff(rr.poly_start)
    poly_start = np.concatenate([[0], np.cumsum(n_rings)]).astype(np.intp)
    lengths = np.empty(int(poly_start[-1]), dtype=np.intp)
    lengths[poly_start[:-1][one[poly_geom]]] = counts[one]
    o_ring = (
        poly_start[o_poly[rr.ring_poly]]
        + np.arange(len(rr.ring_poly))
        - rr.poly_start[rr.ring_poly]
    )
    lengths[o_ring] = np.diff(rr.start)
    ring_poly = np.repeat(np.arange(len(poly_geom), dtype=np.intp), n_rings)
    return Rings(
        xy=xy,
        start=np.concatenate([[0], np.cumsum(lengths)]).astype(np.intp),
        ring_poly=ring_poly,
        ring_geom=poly_geom[ring_poly],
        exterior=np.arange(len(ring_poly)) == poly_start[ring_poly],
        poly_geom=poly_geom,
        poly_start=poly_start,
    )


def ring_subset(r: Rings, geoms: npt.NDArray[np.intp]) -> Rings:
    """The rings of geometries ``geoms`` (sorted positions among those of ``r``), renumbered
    0, 1, … in that order: what :func:`ring_arrays` of those geometries gives, read from
    ``r`` instead of from GEOS."""
    size = max(int(r.poly_geom.max(initial=-1)), int(geoms.max(initial=-1))) + 1
    take = np.zeros(size, dtype=bool)
    take[geoms] = True
    new_geom = np.cumsum(take) - 1
    polys = np.flatnonzero(take[r.poly_geom])
    new_poly = np.full(len(r.poly_geom), -1, dtype=np.intp)
    new_poly[polys] = np.arange(len(polys))
    rings = np.flatnonzero(take[r.ring_geom])
    counts = np.diff(r.start)[rings]
    start = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
    rows = np.repeat(r.start[rings] - start[:-1], counts) + np.arange(int(start[-1]))
    ring_poly = new_poly[r.ring_poly[rings]]
    return Rings(
        xy=r.xy[rows],
        start=start,
        ring_poly=ring_poly,
        ring_geom=new_geom[r.ring_geom[rings]].astype(np.intp),
        exterior=r.exterior[rings],
        poly_geom=new_geom[r.poly_geom[polys]].astype(np.intp),
        poly_start=np.concatenate(
            [[0], np.cumsum(np.bincount(ring_poly, minlength=len(polys)))]
        ).astype(np.intp),
    )
