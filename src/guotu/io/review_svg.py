"""A plan-review finding's map as an inline SVG, for the HTML report.

The zone is hatched green, the feature outlined, the conflict filled red, an alternative route
dashed blue; below the map are the legend, a scale bar in metres and a north arrow, so that
nothing covers what the map shows. The layers and their box come from
:func:`guotu.io.review_map.map_layers`; every text is escaped.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from guotu.io.review_labels import label
from guotu.io.review_map import MapFrame, map_layers, parts
from guotu.io.review_model import MapLayer, ReportFinding, ReviewDocument

__all__ = ["render_svg_map"]

#: SVG style per map layer role: (fill, stroke, stroke width, dash).
_ROLE_STYLE: dict[str, tuple[str, str, float, str]] = {
    "zone": ("url(#{hatch})", "#2e7d32", 1.2, ""),
    "feature": ("none", "#1d2329", 1.4, ""),
    "conflict": ("#e53935", "#b71c1c", 1.2, ""),
    "alternative": ("none", "#1e63d6", 2.2, "6 4"),
    "context": ("none", "#9aa3ab", 0.7, ""),
    "zone_context": ("#f1f8f1", "#81c784", 0.7, ""),
}
_OTHER_STYLE = ("none", "#7f8c8d", 1.0, "")
#: A conflict on a line (the part of a route inside a zone): colour and width.
_CONFLICT_LINE = ("#e53935", 4.0)


def _ring_path(frame: MapFrame, ring: Sequence[tuple[float, float]]) -> str:
    pts = [frame.point(x, y) for x, y in ring]
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in pts)


def _svg_layer(frame: MapFrame, layer: MapLayer, hatch: str, simplify_m: float) -> str:
    fill, stroke, width, dash = _ROLE_STYLE.get(layer.role, _OTHER_STYLE)
    fill = fill.format(hatch=hatch)
    is_conflict = layer.role == "conflict"
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    out = []
    for geom in layer.geometries:
        for kind, rings in parts(geom.simplify(simplify_m) if simplify_m > 0 else geom):
            if kind == "polygon":
                d = " ".join(_ring_path(frame, r) + " Z" for r in rings)
                opacity = ' fill-opacity="0.6"' if is_conflict else ""
                out.append(
                    f'<path d="{d}" fill="{fill}"{opacity} fill-rule="evenodd" '
                    f'stroke="{stroke}" stroke-width="{width}"{dash_attr}/>'
                )
            elif kind == "line":
                colour, line_width = _CONFLICT_LINE if is_conflict else (stroke, width)
                out.append(
                    f'<path d="{_ring_path(frame, rings[0])}" fill="none" '
                    f'stroke="{colour}" stroke-width="{line_width}"{dash_attr} '
                    f'stroke-linecap="round" stroke-linejoin="round"/>'
                )
            else:
                x, y = frame.point(*rings[0][0])
                colour = stroke if fill in ("none", f"url(#{hatch})") else fill
                out.append(
                    f'<circle cx="{x:.1f}" cy="{y:.1f}" r="4" fill="{colour}" '
                    f'stroke="#fff" stroke-width="1"/>'
                )
    return "".join(out)


def _legend_swatch(layer: MapLayer, hatch: str, x: float, y: float) -> str:
    fill, stroke, width, dash = _ROLE_STYLE.get(layer.role, _OTHER_STYLE)
    dash_attr = f' stroke-dasharray="{dash}"' if dash else ""
    if layer.kind == "line":
        colour, line_width = _CONFLICT_LINE if layer.role == "conflict" else (stroke, width)
        return (
            f'<line x1="{x}" y1="{y + 6}" x2="{x + 18}" y2="{y + 6}" stroke="{colour}" '
            f'stroke-width="{line_width}"{dash_attr}/>'
        )
    if layer.kind == "point":
        colour = stroke if fill == "none" or layer.role == "zone" else fill
        return f'<circle cx="{x + 9}" cy="{y + 6}" r="4" fill="{colour}"/>'
    opacity = ' fill-opacity="0.6"' if layer.role == "conflict" else ""
    return (
        f'<rect x="{x}" y="{y}" width="18" height="12" fill="{fill.format(hatch=hatch)}"'
        f'{opacity} stroke="{stroke}" stroke-width="{width}"{dash_attr}/>'
    )


def render_svg_map(
    doc: ReviewDocument,
    finding: ReportFinding,
    *,
    key: str = "1",
    width: int = 420,
    height: int = 320,
) -> str:
    """A finding's map as an inline SVG, or ``""`` when it has nothing to draw.

    ``key`` makes the ids inside the SVG (the hatch pattern, the clip) unique on the page.
    The legend is drawn below the map, one row per layer.

    Examples
    --------
    >>> import shapely
    >>> from guotu.domain.core.findings import Severity
    >>> f = ReportFinding("a.b", Severity.ERROR, geometry=shapely.box(0, 0, 50, 50))
    >>> svg = render_svg_map(ReviewDocument(), f)
    >>> svg.startswith("<svg") and "<path" in svg and "北" in svg
    True
    """
    drawn = map_layers(doc, finding)
    if drawn is None:
        return ""
    bbox, layers = drawn
    frame = MapFrame(bbox, float(width), float(height), 14.0, is_y_down=True)
    hatch, clip = f"hatch-{key}", f"clip-{key}"
    # below the map: the legend on the left, scale bar and north arrow on the right (they
    # never cover what the map shows)
    band = max(18 * len(layers) + 8, 48)
    total_h = height + band
    body = "".join(_svg_layer(frame, layer, hatch, 0.5 / frame.scale) for layer in layers)
    bar_px, bar_label = frame.scale_bar()
    bx, by = width - 44.0 - bar_px, total_h - 10.0
    north = label(doc, "north")
    nx, ny = width - 16.0, height + 6.0
    legend = "".join(
        _legend_swatch(layer, hatch, 14.0, height + 6 + 18 * i)
        + f'<text x="40" y="{height + 16 + 18 * i}" font-size="12">{_e(layer.name)}</text>'
        for i, layer in enumerate(layers)
    )
    return (
        f'<svg width="{width}" height="{total_h}" '
        f'viewBox="0 0 {width} {total_h}" role="img" aria-label="{_e(label(doc, "map"))}" '
        f'font-family="sans-serif">'
        f'<defs><pattern id="{hatch}" patternUnits="userSpaceOnUse" width="7" height="7" '
        f'patternTransform="rotate(45)"><rect width="7" height="7" fill="#e8f5e9"/>'
        f'<line x1="0" y1="0" x2="0" y2="7" stroke="#2e7d32" stroke-width="1.4"/></pattern>'
        f'<clipPath id="{clip}"><rect x="0" y="0" width="{width}" height="{height}"/></clipPath>'
        f"</defs>"
        f'<rect x="0.5" y="0.5" width="{width - 1}" height="{height - 1}" fill="#fbfbf8" '
        f'stroke="#999"/>'
        f'<g clip-path="url(#{clip})">{body}</g>'
        f'<g class="scale-bar">'
        f'<path d="M{bx:.1f},{by - 4:.1f} V{by:.1f} H{bx + bar_px:.1f} V{by - 4:.1f}" '
        f'fill="none" stroke="#000" stroke-width="1.5"/>'
        f'<text x="{bx + bar_px / 2:.1f}" y="{by - 6:.1f}" font-size="11" '
        f'text-anchor="middle">{_e(bar_label)}</text></g>'
        f'<g class="north-arrow"><path d="M{nx},{ny} l-7,20 l7,-5 l7,5 Z" fill="#000"/>'
        f'<text x="{nx}" y="{ny + 34}" font-size="12" text-anchor="middle">{_e(north)}</text></g>'
        f"{legend}</svg>"
    )


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)
