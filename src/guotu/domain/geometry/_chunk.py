"""What one chunk of features gives on either path of the overlay (:class:`Chunk`), the
relation codes and the noise threshold both paths apply."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from guotu.domain.geometry._rings import unique_sorted

__all__ = ["CONTAINS", "NOISE_SHARE", "OVERLAPS", "RELATIONS", "WITHIN", "Chunk", "group"]

ObjArray = npt.NDArray[np.object_]
IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Intersections smaller than this share of the feature's planar area are rounding noise of
#: touching boundaries, not overlaps.
NOISE_SHARE = 1e-11

RELATIONS = np.array(["within", "contains", "overlaps"])
WITHIN, CONTAINS, OVERLAPS = 0, 1, 2


@dataclass(frozen=True)
class Chunk:
    """The (feature, zone) pairs of a chunk, positions offset to the whole input."""

    left: IntArray
    right: IntArray
    relation: npt.NDArray[np.int8]
    area_m2: FloatArray
    planar_area_m2: FloatArray
    feature_area_m2: FloatArray
    geometry: ObjArray | None


def group(keys: IntArray) -> tuple[IntArray, npt.NDArray[np.intp]]:
    """The distinct keys, sorted, and each key's position among them (``np.unique``; in one
    linear pass when the keys come sorted, as they mostly do here)."""
    uniq, inverse = unique_sorted(keys)
    return uniq.astype(np.int64, copy=False), inverse
