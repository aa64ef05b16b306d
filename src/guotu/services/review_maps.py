"""The small map of each plan-review finding, for the report document.

:class:`FindingMaps` draws, around each finding, the zones it is about (the red line it
enters, or every zone of the rule it should lie within), the features of its own layer
nearby, the feature itself, the conflict and a suggested route, each clipped to a box round
the finding, as a :class:`~guotu.io.review_model.FindingMap` of shapely geometries.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import shapely

from guotu.domain.core.findings import FeatureRef, Finding
from guotu.domain.core.layers import LayerData, as_text
from guotu.domain.core.roles import ROLES, role_name
from guotu.domain.review.pack import Rule
from guotu.io.review_model import FindingMap, MapLayer

__all__ = ["MAP_CONTEXT_FEATURES", "FindingMaps"]

#: Clips a geometry to a finding's box (its non-empty parts).
Clip = Callable[[shapely.Geometry | None], list[shapely.Geometry]]


def _geometry_of(
    layers: Mapping[str, LayerData], ref: FeatureRef | None
) -> shapely.Geometry | None:
    if ref is None or ref.fid is None or ref.layer not in layers:
        return None
    layer = layers[ref.layer]
    pos = np.flatnonzero(layer.fids == ref.fid)
    return layer.repaired[int(pos[0])] if len(pos) else None


#: Features of the finding's own layer drawn around it, at most (the nearest first).
MAP_CONTEXT_FEATURES = 60


class FindingMaps:
    """The small map of each finding: the zones it is about, the features around it, the
    feature, the conflict and a suggested route, clipped to a box round the finding. Builds
    one spatial index per layer it draws from.

    Parameters
    ----------
    layers
        The layers the review read, by name (:attr:`ReviewReport.layers`).
    lang
        The language of the layer names (``zh`` or ``en``).
    """

    def __init__(self, layers: Mapping[str, LayerData], lang: str) -> None:
        self.layers = layers
        self.zh = lang != "en"
        self._trees: dict[str, shapely.STRtree] = {}

    def _near(self, layer: str, box: shapely.Geometry, focus: shapely.Geometry) -> np.ndarray:
        """Positions of the features of ``layer`` that meet ``box``, nearest to ``focus``
        (what the finding is about) first."""
        if layer not in self._trees:
            self._trees[layer] = shapely.STRtree(self.layers[layer].repaired)
        found = self._trees[layer].query(box, predicate="intersects")
        geoms = self.layers[layer].repaired[found]
        order = np.argsort(shapely.distance(geoms, focus), kind="stable")
        return np.asarray(found[order], dtype=np.intp)

    def _name(self, layer: str) -> str:
        role = self.layers[layer].role if layer in self.layers else ""
        return role_name(role, "zh" if self.zh else "en", default=layer)

    def _zones(
        self,
        f: Finding,
        rule: Rule | None,
        box: shapely.Geometry,
        focus: shapely.Geometry,
        clip: Clip,
    ) -> list[MapLayer]:
        """The zones the finding is about, and the others of its kind around it.

        A finding with a zone of its own (the red line it enters) draws that zone, with the
        other zones of the rule in the box as context (the nearest few). A ``must lie within``
        finding has none of its own: every zone of the rule in the box is the boundary it
        leaves. A rule on a sub-zone (特别用途区) draws that sub-zone only.
        """
        layer = (
            f.zone.layer
            if f.zone is not None
            else next(
                (
                    n
                    for n, d in self.layers.items()
                    if rule is not None and rule.zone_role and d.role == rule.zone_role
                ),
                None,
            )
        )
        if layer is None or layer not in self.layers:
            return []
        data = self.layers[layer]
        near = self._near(layer, box, focus)
        name = self._name(layer)
        if rule is not None and rule.zone_field and rule.zone_field in data.attributes:
            values = data.attributes[rule.zone_field]
            near = np.asarray(
                [p for p in near if as_text(values[p]) in rule.zone_values], dtype=np.intp
            )
            subs = dict(next((r.sub_zones for r in ROLES if r.id == data.role), ()))
            named = [subs[v] for v in rule.zone_values if v in subs]
            if named and self.zh:
                name = "、".join(named)
        if f.zone is None:
            geoms = tuple(g for p in near for g in clip(data.repaired[p]))
            return [MapLayer(name, "zone", geoms)] if geoms else []
        own = [p for p in near if int(data.fids[p]) == f.zone.fid]
        others = [p for p in near if int(data.fids[p]) != f.zone.fid][:MAP_CONTEXT_FEATURES]
        out = []
        context = tuple(g for p in others for g in clip(data.repaired[p]))
        if context:
            other = f"其他{name}" if self.zh else f"Other {name.lower()}"
            out.append(MapLayer(other, "zone_context", context))
        geoms = tuple(g for p in own for g in clip(data.repaired[p]))
        if geoms:
            out.append(MapLayer(name, "zone", geoms))
        return out

    def _context(
        self, ref: FeatureRef, box: shapely.Geometry, focus: shapely.Geometry, clip: Clip
    ) -> MapLayer | None:
        """The other features of the finding's layer in the box (the nearest few)."""
        if ref.layer not in self.layers:
            return None
        data = self.layers[ref.layer]
        near = [p for p in self._near(ref.layer, box, focus) if int(data.fids[p]) != ref.fid]
        geoms = tuple(g for p in near[:MAP_CONTEXT_FEATURES] for g in clip(data.repaired[p]))
        if not geoms:
            return None
        name = self._name(ref.layer)
        return MapLayer(
            f"周边{name}" if self.zh else f"Neighbouring {name.lower()}", "context", geoms
        )

    def of(self, f: Finding, rule: Rule | None) -> FindingMap | None:
        """The map of ``f`` (``None`` when it has no geometry)."""
        conflict = f.geometry
        feature = _geometry_of(self.layers, f.features[0]) if f.features else None
        alt = f.details.get("alternative")
        focus = [g for g in (conflict, feature, alt) if g is not None and not g.is_empty]
        if not focus:
            return None
        x0, y0, x1, y1 = shapely.total_bounds(np.array(focus, dtype=object))
        pad = max(60.0, 0.25 * max(x1 - x0, y1 - y0))
        bbox = (x0 - pad, y0 - pad, x1 + pad, y1 + pad)
        box = shapely.box(*bbox)

        def clip(g: shapely.Geometry | None) -> list[shapely.Geometry]:
            if g is None or g.is_empty:
                return []
            out = shapely.intersection(g, box)
            return [] if out.is_empty else [out]

        layers_out = self._zones(f, rule, box, focus[0], clip)
        if f.features:
            context = self._context(f.features[0], box, focus[0], clip)
            if context is not None:
                layers_out.append(context)
            layers_out.append(
                MapLayer(self._name(f.features[0].layer), "feature", tuple(clip(feature)))
            )
        layers_out.append(
            MapLayer("冲突范围" if self.zh else "Conflict", "conflict", tuple(clip(conflict)))
        )
        if alt is not None:
            name = "建议线位" if self.zh else "Suggested route"
            layers_out.append(MapLayer(name, "alternative", tuple(clip(alt))))
        x0, y0, x1, y1 = (round(v, 3) for v in bbox)
        return FindingMap(tuple(layers_out), (x0, y0, x1, y1))
