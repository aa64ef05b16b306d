"""A plan-review finding's map as a reportlab drawing, for the PDF report.

Drawn like the HTML report's SVG map (:mod:`guotu.io.review_svg`): the zone hatched green, the
feature outlined, the conflict filled red, an alternative route dashed blue; below the map a
band with the legend on the left and the scale bar and north arrow on the right.
"""

from __future__ import annotations

from reportlab.graphics.shapes import (
    FILL_EVEN_ODD,
    Circle,
    Drawing,
    Group,
    Hatching,
    Line,
    PolyLine,
    Rect,
    String,
)
from reportlab.graphics.shapes import Path as RLPath
from reportlab.lib import colors

from guotu.io.pdf_layout import GREEN
from guotu.io.review_labels import label
from guotu.io.review_map import MapFrame, map_layers, parts
from guotu.io.review_model import MapLayer, ReportFinding, ReviewDocument

__all__ = ["render_map_drawing"]

#: Map style per role: (fill, stroke, stroke width, dash).
_ROLE_STYLE: dict[str, tuple[colors.Color | None, colors.Color, float, list[float] | None]] = {
    "zone": (colors.HexColor("#e8f5e9"), GREEN, 1.0, None),
    "feature": (None, colors.HexColor("#1d2329"), 1.2, None),
    "conflict": (
        colors.Color(0.898, 0.224, 0.208, alpha=0.6),
        colors.HexColor("#b71c1c"),
        1.0,
        None,
    ),
    "alternative": (None, colors.HexColor("#1e63d6"), 2.0, [6, 4]),
    "context": (None, colors.HexColor("#9aa3ab"), 0.5, None),
    "zone_context": (colors.HexColor("#f1f8f1"), colors.HexColor("#81c784"), 0.5, None),
}
_OTHER_STYLE: tuple[colors.Color | None, colors.Color, float, list[float] | None] = (
    None,
    colors.HexColor("#7f8c8d"),
    0.8,
    None,
)
#: A conflict on a line (the part of a route inside a zone): colour and width.
_CONFLICT_LINE = (colors.HexColor("#e53935"), 3.0)


def _map_layer(frame: MapFrame, layer: MapLayer, group: Group) -> None:
    fill, stroke, width, dash = _ROLE_STYLE.get(layer.role, _OTHER_STYLE)
    for geom in layer.geometries:
        for kind, rings in parts(geom.simplify(0.3 / frame.scale)):
            pts = [[c for xy in ring for c in frame.point(*xy)] for ring in rings]
            if kind == "polygon":
                path = RLPath(
                    fillColor=fill,
                    strokeColor=stroke,
                    strokeWidth=width,
                    strokeDashArray=dash,
                    fillMode=FILL_EVEN_ODD,
                )
                for ring in pts:
                    path.moveTo(ring[0], ring[1])
                    for i in range(2, len(ring), 2):
                        path.lineTo(ring[i], ring[i + 1])
                    path.closePath()
                group.add(path)
                if layer.role == "zone":
                    group.add(
                        Hatching(
                            spacings=5, angles=45, xyLists=pts, strokeColor=GREEN, strokeWidth=0.6
                        )
                    )
            elif kind == "line":
                colour, line_width = _CONFLICT_LINE if layer.role == "conflict" else (stroke, width)
                group.add(
                    PolyLine(
                        pts[0],
                        strokeColor=colour,
                        strokeWidth=line_width,
                        strokeDashArray=dash,
                        strokeLineCap=1,
                        strokeLineJoin=1,
                    )
                )
            else:
                group.add(
                    Circle(
                        pts[0][0],
                        pts[0][1],
                        3,
                        fillColor=fill or stroke,
                        strokeColor=colors.white,
                        strokeWidth=0.8,
                    )
                )


def _north_arrow(group: Group, x: float, y: float, word: str, font: str) -> None:
    """A north arrow with its tip at (``x``, ``y``) and the word below it."""
    arrow = RLPath(fillColor=colors.black, strokeColor=None)
    arrow.moveTo(x, y)
    arrow.lineTo(x - 5, y - 15)
    arrow.lineTo(x, y - 11)
    arrow.lineTo(x + 5, y - 15)
    arrow.closePath()
    group.add(arrow)
    group.add(String(x, y - 25, word, fontName=font, fontSize=9, textAnchor="middle"))


def render_map_drawing(
    doc: ReviewDocument,
    finding: ReportFinding,
    font: str,
    width: float = 300.0,
    height: float = 230.0,
) -> Drawing | None:
    """A finding's map as a reportlab drawing, or ``None`` without geometry.

    Below the map is a band with the legend on the left and the scale bar and north arrow
    on the right: they never cover what the map shows.

    Examples
    --------
    >>> import shapely
    >>> from guotu.domain.core.findings import Severity
    >>> f = ReportFinding("a.b", Severity.ERROR, geometry=shapely.Point(10.0, 10.0))
    >>> render_map_drawing(ReviewDocument(lang="en"), f, "Helvetica").width
    300.0
    """
    drawn = map_layers(doc, finding)
    if drawn is None:
        return None
    bbox, layers = drawn
    band = max(14.0 * len(layers) + 6, 36.0)
    drawing = Drawing(width, height + band, initialFontName=font, initialFontSize=8)
    frame = MapFrame(bbox, width, height, 10.0, is_y_down=False)
    group = Group(transform=(1, 0, 0, 1, 0, band))
    group.add(
        Rect(
            0,
            0,
            width,
            height,
            fillColor=colors.HexColor("#fbfbf8"),
            strokeColor=colors.HexColor("#999999"),
            strokeWidth=0.6,
        )
    )
    for layer in layers:
        _map_layer(frame, layer, group)
    drawing.add(group)
    furniture = Group()
    bar, bar_label = frame.scale_bar()
    bx = width - 34 - bar
    furniture.add(
        PolyLine(
            [bx, 12, bx, 8, bx + bar, 8, bx + bar, 12], strokeColor=colors.black, strokeWidth=1.2
        )
    )
    furniture.add(
        String(bx + bar / 2, 13, bar_label, fontName=font, fontSize=8, textAnchor="middle")
    )
    _north_arrow(furniture, width - 12, band - 4, label(doc, "north"), font)
    drawing.add(furniture)
    for i, layer in enumerate(layers):
        y = band - 14.0 * (i + 1)
        fill, stroke, lw, dash = _ROLE_STYLE.get(layer.role, _OTHER_STYLE)
        if layer.kind == "line":
            colour, lw = _CONFLICT_LINE if layer.role == "conflict" else (stroke, lw)
            drawing.add(
                Line(4, y + 5, 20, y + 5, strokeColor=colour, strokeWidth=lw, strokeDashArray=dash)
            )
        elif layer.kind == "point":
            drawing.add(Circle(12, y + 5, 3, fillColor=fill or stroke, strokeColor=None))
        else:
            drawing.add(Rect(4, y, 16, 10, fillColor=fill, strokeColor=stroke, strokeWidth=lw))
            if layer.role == "zone":
                drawing.add(
                    Hatching(
                        spacings=4,
                        angles=45,
                        xyLists=[[4, y, 20, y, 20, y + 10, 4, y + 10]],
                        strokeColor=GREEN,
                        strokeWidth=0.5,
                    )
                )
        drawing.add(String(26, y + 1.5, layer.name, fontName=font, fontSize=8))
    return drawing
