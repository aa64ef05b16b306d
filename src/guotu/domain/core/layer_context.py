"""What every rule may look at: the loaded layers, and what rules ask of them, computed once.

The quality checks (:class:`guotu.domain.checks.spec.CheckContext`) and the plan review
(:class:`guotu.domain.review.evaluate.ReviewContext`) build on :class:`LayerContext`: the layers
by name and role, each layer's geometries reduced to their polygonal parts (invalid ones
repaired) and the union of a role's polygons; :func:`feature_at` gives the
:class:`~guotu.domain.core.findings.FeatureRef` a finding names a feature by.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import shapely

from guotu.domain.core.findings import FeatureRef
from guotu.domain.core.layers import LayerData
from guotu.domain.geometry.polygons import polygonal_parts

__all__ = ["LayerContext", "feature_at"]

ObjArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]


class LayerContext:
    """The layers a rule may look at, by name, with cached polygons and unions.

    Parameters
    ----------
    layers
        The loaded layers (the ones examined and the ones they are checked against).

    Examples
    --------
    >>> LayerContext([]).with_role("admin_boundary"), LayerContext([]).union_of_role("x")
    ([], None)
    """

    def __init__(self, layers: Iterable[LayerData]) -> None:
        self.layers: dict[str, LayerData] = {}
        for layer in layers:
            self.layers.setdefault(layer.name, layer)
        self._unions: dict[str, shapely.Geometry | None] = {}
        self._polygons: dict[int, ObjArray] = {}

    def with_role(self, role: str) -> list[LayerData]:
        """The layers of ``role``, by name."""
        return [self.layers[n] for n in sorted(self.layers) if self.layers[n].role == role]

    def polygons(self, layer: LayerData) -> ObjArray:
        """The layer's geometries, invalid ones repaired, reduced to polygonal parts (once per
        layer: rules ask for them per finding)."""
        key = id(layer)
        if key not in self._polygons:
            self._polygons[key] = polygonal_parts(layer.repaired)
        return self._polygons[key]

    def usable(self, layer: LayerData) -> BoolArray:
        """Which features of ``layer`` have a polygon to measure (not missing, not empty)."""
        polys = self.polygons(layer)
        return np.asarray(~(shapely.is_missing(polys) | shapely.is_empty(polys)), dtype=bool)

    def union_of_role(self, role: str) -> shapely.Geometry | None:
        """Union of every (repaired) polygon of every layer of ``role``; ``None`` if there is none."""
        if role not in self._unions:
            parts = [self.polygons(layer) for layer in self.with_role(role)]
            geoms = np.concatenate(parts) if parts else np.empty(0, dtype=object)
            self._unions[role] = shapely.union_all(geoms) if len(geoms) else None
        return self._unions[role]


def feature_at(layer: LayerData, pos: int, code: str | None = None) -> FeatureRef:
    """The :class:`~guotu.domain.core.findings.FeatureRef` of the feature at position ``pos``
    of ``layer`` (with its land-use ``code`` when given): its fid and its human id."""
    name, ident = layer.feature_key(pos)
    return FeatureRef(layer.name, int(layer.fids[pos]), name, ident, code)
