"""The one-map excerpt (一张图摘录) of a decision document, as a reportlab drawing.

The site's red line (用地红线) is drawn over the zones around it, each filled in its own
colour with its code at its centre; below the map, a band holds the legend (the red line, then
each zone once) on the left and the scale bar and north arrow on the right, so that nothing
covers the map. The box is the site's bounds with a margin of half its size (at least 50 m)
on every side; the zones are clipped to it. Placing points in the drawing and choosing the
scale bar's length is :class:`guotu.io.review_map.MapFrame`'s work, shared with the review maps.
"""

from __future__ import annotations

import shapely
from reportlab.graphics.shapes import FILL_EVEN_ODD, Drawing, Group, Rect, String
from reportlab.graphics.shapes import Path as RLPath
from reportlab.lib import colors
from reportlab.pdfbase.pdfmetrics import stringWidth

from guotu.io.decision_model import DecisionDocument, ZoneExcerpt
from guotu.io.fonts import PdfFont
from guotu.io.pdf_layout import tint
from guotu.io.review_map import MapFrame, parts

__all__ = ["SITE_RED", "map_box", "site_map"]

#: The colour of the site's red line.
SITE_RED = colors.HexColor("#e3000f")
_EDGE = colors.HexColor("#8a8f96")
_ROW = 12.0
_FURNITURE = 84.0  # the band's right part: scale bar and north arrow
_LABELS = {
    "site": ("用地红线", "Site boundary"),
    "north": ("北", "N"),
}


def map_box(
    doc: DecisionDocument, aspect: float = 1.0, min_margin_m: float = 50.0
) -> tuple[float, float, float, float]:
    """The box the map shows, in metres: the site's bounds (else the zones') with a margin
    of half their larger side, at least ``min_margin_m``, then widened or heightened about
    its centre to the map's ``aspect`` (width / height) so the map is filled.

    Examples
    --------
    >>> from guotu.io.decision_model import DecisionKind
    >>> doc = DecisionDocument(kind=DecisionKind.REFUSAL, serial="1",
    ...                        site=shapely.box(0, 0, 200, 100))
    >>> map_box(doc), map_box(doc, aspect=2.0)
    ((-100.0, -150.0, 300.0, 250.0), (-200.0, -100.0, 400.0, 200.0))
    """
    shapes = [doc.site] if doc.site is not None else [z.geometry for z in doc.zones]
    xmin, ymin, xmax, ymax = (float(v) for v in shapely.total_bounds(shapes))
    pad = max((xmax - xmin) / 2, (ymax - ymin) / 2, min_margin_m)
    xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    grow_x = max((ymax - ymin) * aspect - (xmax - xmin), 0.0) / 2
    grow_y = max((xmax - xmin) / aspect - (ymax - ymin), 0.0) / 2
    return xmin - grow_x, ymin - grow_y, xmax + grow_x, ymax + grow_y


def _polygon_path(
    frame: MapFrame,
    geom: shapely.Geometry,
    fill: colors.Color | None,
    stroke: colors.Color,
    width: float,
) -> list[RLPath]:
    """Each polygon of ``geom`` (holes cut out) as a path in drawing coordinates."""
    out = []
    for kind, rings in parts(geom):
        if kind != "polygon":
            continue
        path = RLPath(fillColor=fill, strokeColor=stroke, strokeWidth=width, fillMode=FILL_EVEN_ODD)
        for ring in rings:
            points = [frame.point(x, y) for x, y in ring]
            path.moveTo(*points[0])
            for point in points[1:]:
                path.lineTo(*point)
            path.closePath()
        out.append(path)
    return out


def _legend_zones(zones: list[tuple[ZoneExcerpt, shapely.Geometry]]) -> list[ZoneExcerpt]:
    """Each zone shown once per (code, label, colour), in the order first met."""
    seen: dict[tuple[str, str, str], ZoneExcerpt] = {}
    for zone, _ in zones:
        seen.setdefault((zone.code, zone.label, zone.colour), zone)
    return list(seen.values())


def _north(group: Group, x: float, top: float, word: str, font: str) -> None:
    """A two-tone north arrow whose tip is at (``x``, ``top``), its letter beneath."""
    for side, fill in ((-1, colors.black), (1, colors.white)):
        half = RLPath(fillColor=fill, strokeColor=colors.black, strokeWidth=0.6)
        half.moveTo(x, top)
        half.lineTo(x + side * 5.5, top - 17)
        half.lineTo(x, top - 13)
        half.closePath()
        group.add(half)
    group.add(String(x, top - 26, word, fontName=font, fontSize=8, textAnchor="middle"))


def _scale_bar(group: Group, frame: MapFrame, right: float, font: str) -> None:
    """A scale bar of a round length, in two halves, ending at ``right``."""
    length, text = frame.scale_bar()
    left = right - length
    for i, fill in enumerate((colors.black, colors.white)):
        group.add(
            Rect(
                left + i * length / 2,
                8,
                length / 2,
                3.2,
                fillColor=fill,
                strokeColor=colors.black,
                strokeWidth=0.5,
            )
        )
    group.add(String(left, 14, "0", fontName=font, fontSize=7, textAnchor="middle"))
    group.add(String(right, 14, text, fontName=font, fontSize=7, textAnchor="middle"))


def site_map(
    doc: DecisionDocument,
    font: PdfFont,
    lang: str = "zh",
    width: float = 480.0,
    height: float = 250.0,
) -> Drawing | None:
    """The excerpt map of ``doc`` as a drawing ``width`` wide (the map ``height`` high, the
    legend band below it), or ``None`` when there is neither a site nor a zone.

    Examples
    --------
    >>> from pathlib import Path
    >>> from guotu.io.decision_model import DecisionKind
    >>> doc = DecisionDocument(kind=DecisionKind.REFUSAL, serial="1")
    >>> site_map(doc, PdfFont("Helvetica", Path("-"))) is None  # nothing to draw
    True
    """
    if doc.site is None and not doc.zones:
        return None
    en = 1 if lang == "en" else 0
    box = map_box(doc, aspect=width / height)
    zones = [
        (zone, clipped)
        for zone in doc.zones
        if not (clipped := shapely.clip_by_rect(zone.geometry, *box)).is_empty
    ]
    legend = _legend_zones(zones)
    per_row = max(int((width - _FURNITURE) // 130), 1)
    rows = -(-(len(legend) + 1) // per_row)
    band = max(rows * _ROW + 8, 40.0)
    drawing = Drawing(width, height + band, initialFontName=font.name, initialFontSize=8)
    frame = MapFrame(box, width, height, 0.0, is_y_down=False)
    shown = Group(transform=(1, 0, 0, 1, 0, band))
    shown.add(Rect(0, 0, width, height, fillColor=colors.HexColor("#fafaf7"), strokeColor=None))
    for zone, clipped in zones:
        fill = tint(colors.HexColor(zone.colour), 0.8)
        for path in _polygon_path(frame, clipped, fill, _EDGE, 0.4):
            shown.add(path)
    for zone, clipped in zones:
        # the code at the zone's inner point, when the zone is big enough to hold it
        # (outside the site when it can be, so the code does not sit on the red line's area)
        free = clipped if doc.site is None else clipped.difference(doc.site)
        free = clipped if free.is_empty else free
        size_pt = (free.area**0.5) * frame.scale
        if zone.code and size_pt > 40:
            x, y = frame.point(*shapely.get_coordinates(free.point_on_surface())[0])
            shown.add(
                String(x, y - 3, font.fit(zone.code), fontName=font.name, fontSize=7.5,
                       textAnchor="middle", fillColor=colors.HexColor("#333333"))
            )  # fmt: skip
    if doc.site is not None:
        for path in _polygon_path(frame, doc.site, None, SITE_RED, 1.8):
            shown.add(path)
    shown.add(Rect(0, 0, width, height, fillColor=None, strokeColor=_EDGE, strokeWidth=0.6))
    drawing.add(shown)
    # the legend band: the red line first, then each zone
    cell = (width - _FURNITURE) / per_row
    items: list[tuple[colors.Color | None, colors.Color, float, str]] = [
        (None, SITE_RED, 1.8, _LABELS["site"][en])
    ]
    items += [
        (tint(colors.HexColor(z.colour), 0.8), _EDGE, 0.4, f"{z.code} {z.label}".strip())
        for z in legend
    ]
    for i, (fill, stroke, line_width, text) in enumerate(items):
        x = (i % per_row) * cell
        y = band - (i // per_row + 1) * _ROW
        drawing.add(
            Rect(x + 2, y + 1, 14, 8, fillColor=fill, strokeColor=stroke, strokeWidth=line_width)
        )
        drawing.add(String(x + 20, y + 2, _fit(font, text, cell - 24, 7.5), fontSize=7.5,
                           fontName=font.name))  # fmt: skip
    furniture = Group()
    _scale_bar(furniture, frame, width - 26, font.name)
    _north(furniture, width - 9, band - 3, _LABELS["north"][en], font.name)
    drawing.add(furniture)
    return drawing


def _fit(font: PdfFont, text: str, width: float, size: float) -> str:
    """``text`` in the font, cut with ``…`` to fit ``width`` points."""
    text = font.fit(text)
    if stringWidth(text, font.name, size) <= width:
        return text
    while text and stringWidth(text + "…", font.name, size) > width:
        text = text[:-1]
    return text + "…"
