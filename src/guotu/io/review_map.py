"""The map of a plan-review finding, for the SVG (HTML) and PDF maps alike.

:func:`map_layers` reads a finding's :class:`~guotu.io.review_model.FindingMap` (or its own
geometry): its layers clipped to a bounding box in metres. :class:`MapFrame` fits that box
into a drawing, with y growing down (SVG) or up (PDF), and picks a round scale bar.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import shapely

from guotu.io.review_labels import label
from guotu.io.review_model import MapLayer, ReportFinding, ReviewDocument

__all__ = ["ROLE_ORDER", "MapFrame", "map_layers", "parts"]


#: Drawing order of map layer roles (later ones on top); unknown roles go before conflicts.
ROLE_ORDER = {
    "zone_context": 0,
    "zone": 0,
    "context": 1,
    "feature": 2,
    "conflict": 4,
    "alternative": 5,
}


@dataclass(frozen=True)
class MapFrame:
    """Fits a bounding box in metres into a ``width`` × ``height`` drawing.

    ``is_y_down`` is true for SVG (y grows downwards) and false for reportlab.

    Examples
    --------
    >>> frame = MapFrame((0.0, 0.0, 100.0, 50.0), 220.0, 120.0, 10.0, is_y_down=True)
    >>> frame.scale, frame.point(0.0, 50.0), frame.point(100.0, 0.0)
    (2.0, (10.0, 10.0), (210.0, 110.0))
    """

    bbox: tuple[float, float, float, float]
    width: float
    height: float
    margin: float
    is_y_down: bool

    @property
    def scale(self) -> float:
        """Drawing units per metre."""
        xmin, ymin, xmax, ymax = self.bbox
        return min(
            (self.width - 2 * self.margin) / (xmax - xmin),
            (self.height - 2 * self.margin) / (ymax - ymin),
        )

    def point(self, x: float, y: float) -> tuple[float, float]:
        """A point in metres as drawing coordinates (centred in the frame)."""
        xmin, ymin, xmax, ymax = self.bbox
        s = self.scale
        ox = (self.width - (xmax - xmin) * s) / 2
        oy = (self.height - (ymax - ymin) * s) / 2
        px = ox + (x - xmin) * s
        py = oy + ((ymax - y) if self.is_y_down else (y - ymin)) * s
        return px, py

    def scale_bar(self, share: float = 0.25) -> tuple[float, str]:
        """A round scale-bar length (1, 2 or 5 × 10ⁿ m) near ``share`` of the map width:
        its length in drawing units and its label in metres."""
        target = (self.bbox[2] - self.bbox[0]) * share
        step = 10 ** math.floor(math.log10(target)) if target > 0 else 1.0
        metres = max((m * step for m in (1, 2, 5) if m * step <= target), default=step)
        shown = f"{metres:,.0f}" if metres >= 1 else f"{metres:g}"
        return metres * self.scale, f"{shown} m"


def map_layers(
    doc: ReviewDocument, finding: ReportFinding, min_size_m: float = 20.0
) -> tuple[tuple[float, float, float, float], list[MapLayer]] | None:
    """The finding's map as a bounding box (metres, square-ish, never empty) and its layers
    in drawing order, each geometry clipped to the box. ``None`` when there is nothing to
    draw.

    Without a map, the finding's own geometry is drawn as the conflict. Without a box, the
    bounds of every geometry plus a 10% margin are used.

    Examples
    --------
    >>> from guotu.domain.core.findings import Severity
    >>> f = ReportFinding("a.b", Severity.ERROR, geometry=shapely.Point(100.0, 100.0))
    >>> bbox, layers = map_layers(ReviewDocument(), f)
    >>> bbox, [(layer.name, layer.role) for layer in layers]
    ((90.0, 90.0, 110.0, 110.0), [('问题', 'conflict')])
    """
    drawn = list(finding.map.layers) if finding.map is not None else []
    if not drawn and finding.geometry is not None:
        drawn = [MapLayer(label(doc, "finding"), "conflict", (finding.geometry,))]
    parsed = [
        (layer.name or layer.role, layer.role, geoms)
        for layer in drawn
        if (geoms := [g for g in layer.geometries if g is not None and not g.is_empty])
    ]
    if not parsed:
        return None
    bbox = finding.map.bbox if finding.map is not None else None
    if bbox is not None and all(math.isfinite(v) for v in bbox):
        xmin, xmax = sorted((float(bbox[0]), float(bbox[2])))
        ymin, ymax = sorted((float(bbox[1]), float(bbox[3])))
    else:
        xmin, ymin, xmax, ymax = (
            float(v) for v in shapely.total_bounds([g for _, _, gs in parsed for g in gs])
        )
        pad = max(xmax - xmin, ymax - ymin) * 0.1
        xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    grow = max(min_size_m - (xmax - xmin), min_size_m - (ymax - ymin), 0.0) / 2
    xmin, ymin, xmax, ymax = xmin - grow, ymin - grow, xmax + grow, ymax + grow
    box = (xmin, ymin, xmax, ymax)
    layers = []
    for name, role, geoms in sorted(parsed, key=lambda p: ROLE_ORDER.get(p[1], 3)):
        clipped = tuple(c for c in (shapely.clip_by_rect(g, *box) for g in geoms) if not c.is_empty)
        if clipped:
            layers.append(MapLayer(name, role, clipped))
    return box, layers


def parts(geom: shapely.Geometry) -> Iterator[tuple[str, list[list[tuple[float, float]]]]]:
    """The simple parts of a geometry: ``("polygon", rings)``, ``("line", [coords])`` or
    ``("point", [[xy]])``, in metres.

    Examples
    --------
    >>> [kind for kind, _ in parts(shapely.GeometryCollection(
    ...     [shapely.box(0, 0, 1, 1), shapely.LineString([(0, 0), (1, 1)])]))]
    ['polygon', 'line']
    """
    for part in shapely.get_parts(geom):
        kind = part.geom_type
        if kind == "Polygon":
            rings = [part.exterior, *part.interiors]
            yield "polygon", [[(float(x), float(y)) for x, y, *_ in r.coords] for r in rings]
        elif kind in ("LineString", "LinearRing"):
            yield "line", [[(float(x), float(y)) for x, y, *_ in part.coords]]
        elif kind == "Point":
            yield "point", [[(float(part.x), float(part.y))]]
        elif kind.startswith("Multi") or kind == "GeometryCollection":
            yield from parts(part)
