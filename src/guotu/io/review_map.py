"""The map of a plan-review finding, for the SVG (HTML) and PDF maps alike.

:func:`map_layers` reads a finding's ``map`` (or its own geometry) from the report
document: its layers clipped to a bounding box in metres. :class:`MapFrame` fits that box
into a drawing, with y growing down (SVG) or up (PDF), and picks a round scale bar.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import shapely

from guotu.io.review_document import label, number

__all__ = ["ROLE_ORDER", "MapFrame", "MapLayer", "map_layers", "parts", "shape"]

logger = logging.getLogger(__name__)


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
class MapLayer:
    """One layer of a finding map: its name, role and shapely geometries (clipped)."""

    name: str
    role: str
    geometries: tuple[shapely.Geometry, ...]

    @property
    def kind(self) -> str:
        """``"polygon"``, ``"line"`` or ``"point"``: what the legend shows for this layer
        (polygon when it holds any area, else line when it holds any line)."""
        kinds = {k for g in self.geometries for k, _ in parts(g)}
        return next((k for k in ("polygon", "line") if k in kinds), "point")


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
    doc: Mapping[str, Any], finding: Mapping[str, Any], min_size_m: float = 20.0
) -> tuple[tuple[float, float, float, float], list[MapLayer]] | None:
    """The finding's map as a bounding box (metres, square-ish, never empty) and its layers
    in drawing order, each geometry clipped to the box. ``None`` when there is nothing to
    draw.

    Without a ``map``, the finding's own geometry is drawn as the conflict. Without a
    ``bbox``, the bounds of every geometry plus a 10% margin are used.

    Examples
    --------
    >>> f = {"geometry": {"type": "Point", "coordinates": [100.0, 100.0]}}
    >>> bbox, layers = map_layers({"lang": "zh"}, f)
    >>> bbox, [(layer.name, layer.role) for layer in layers]
    ((90.0, 90.0, 110.0, 110.0), [('问题', 'conflict')])
    """
    spec = finding.get("map") or {}
    raw_layers = list(spec.get("layers") or ())
    if not raw_layers and finding.get("geometry"):
        raw_layers = [
            {"name": label(doc, "finding"), "role": "conflict", "geometries": [finding["geometry"]]}
        ]
    parsed: list[tuple[str, str, list[shapely.Geometry]]] = []
    for layer in raw_layers:
        geoms = [g for g in (shape(d) for d in layer.get("geometries") or ()) if g is not None]
        if geoms:
            parsed.append(
                (
                    str(layer.get("name") or layer.get("role") or ""),
                    str(layer.get("role") or ""),
                    geoms,
                )
            )
    if not parsed:
        return None
    bbox = spec.get("bbox")
    if bbox and len(bbox) == 4 and all(number(v) is not None for v in bbox):
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


def shape(geojson: Any) -> shapely.Geometry | None:
    """A GeoJSON dict as a shapely geometry; ``None`` when missing, empty or invalid.

    Examples
    --------
    >>> shape({"type": "Point", "coordinates": [1.0, 2.0]}).wkt, shape(None)
    ('POINT (1 2)', None)
    """
    if not geojson:
        return None
    try:
        geom = shapely.geometry.shape(geojson)
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        logger.warning("Map geometry skipped, not valid GeoJSON: %s", exc)
        return None
    return None if geom.is_empty else geom


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
