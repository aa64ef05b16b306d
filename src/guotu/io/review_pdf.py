"""The plan-review report as a PDF (A4, reportlab), with the CJK font embedded when found.

The content follows the HTML report: overview and stamp, summary by severity and by rule,
rules with their legal basis, the findings table, then one page per finding with its
message, suggestion, measures and a map drawn with :mod:`reportlab.graphics`.

Chinese text needs a CJK font. :func:`find_cjk_font` takes, in this order:

1. the file named by the environment variable ``GUOTU_PDF_FONT`` (a ``.ttf`` or ``.ttc``;
   an unusable file is a :class:`~guotu.errors.ConfigError`, not a silent fallback);
2. the fonts ``fc-list :lang=zh`` lists, regular weights first;
3. the usual paths of WenQuanYi, Droid Sans Fallback, AR PL, Noto Sans SC, SimSun, 微软雅黑
   and 黑体 on Debian, Fedora, Windows and macOS.

The first one reportlab can load is embedded (as a subset). reportlab reads only TrueType
outlines: OpenType/CFF fonts such as Noto Sans CJK ``.ttc``/``.otf`` and Source Han Sans
are skipped. With no usable file, the report falls back to reportlab's built-in CID font
``STSong-Light`` (Adobe-GB1): it needs no file and is referenced, not embedded, so the PDF
stays small and valid, but a reader must substitute a Chinese font of its own (Adobe
Reader, Foxit, WPS and poppler with poppler-data do). Set ``GUOTU_PDF_FONT`` for a file
that shows the same everywhere.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

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
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from guotu.errors import ConfigError
from guotu.io.review_document import (
    MISSING,
    SEVERITIES,
    MapFrame,
    MapLayer,
    area_ha,
    data_versions,
    features_label,
    findings,
    format_area_ha,
    format_area_m2,
    format_measure,
    format_share,
    is_english,
    label,
    map_layers,
    number,
    parts,
    relation_text,
    rule_rows,
    severity_counts,
    severity_text,
    stamp_rows,
    text,
    unit_text,
    zone_label,
)

__all__ = ["FALLBACK_FONT", "FONT_ENV", "PdfFont", "find_cjk_font", "paragraph_styles",
           "render_review_pdf"]

logger = logging.getLogger(__name__)

#: Environment variable naming the font file to embed.
FONT_ENV = "GUOTU_PDF_FONT"
#: reportlab's built-in Chinese CID font, used when no font file can be loaded.
FALLBACK_FONT = "STSong-Light"

_KNOWN_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/google-droid-sans-fonts/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "C:/Windows/Fonts/simsun.ttc",
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simhei.ttf",
    "/System/Library/Fonts/Supplemental/Songti.ttc",
    "/Library/Fonts/Arial Unicode.ttf",
)

_SEVERITY_COLOUR = {"error": colors.HexColor("#c0392b"), "warning": colors.HexColor("#d68910"),
                    "info": colors.HexColor("#2e86c1")}
_LINE = colors.HexColor("#c8ccd2")
_HEAD = colors.HexColor("#eef2f7")
_BLUE = colors.HexColor("#1d4e89")
_GREEN = colors.HexColor("#2e7d32")
_RED = colors.HexColor("#e53935")


@dataclass(frozen=True)
class PdfFont:
    """The font the PDF uses: its reportlab name, its file (``None`` for the built-in CID
    font) and whether it is embedded."""

    name: str
    path: Path | None

    @property
    def is_embedded(self) -> bool:
        """True for a font file (embedded as a subset), false for the built-in CID font."""
        return self.path is not None


def _fc_list() -> list[str]:
    """Font files ``fc-list :lang=zh`` knows, regular weights first; ``[]`` without it."""
    exe = shutil.which("fc-list")
    if exe is None:
        return []
    try:
        out = subprocess.run([exe, ":lang=zh", "--format=%{file}\\n"], capture_output=True,
                             text=True, timeout=15, check=False).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        logger.info("fc-list failed, looking for CJK fonts at the usual paths: %s", exc)
        return []
    files = sorted({line.strip() for line in out.splitlines() if line.strip()})
    heavy = ("bold", "black", "heavy", "light", "thin", "medium", "semibold")
    return sorted(files, key=lambda f: (any(w in f.lower() for w in heavy),
                                        not f.lower().endswith((".ttf", ".ttc")), f))


def _register(path: Path) -> str:
    """Register a TrueType font file with reportlab (once) and return its name."""
    name = "GuotuCJK-" + hashlib.sha1(str(path.resolve()).encode()).hexdigest()[:10]
    if name not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
    return name


def _candidates() -> Iterator[str]:
    yield from _fc_list()
    yield from _KNOWN_FONTS


def find_cjk_font() -> PdfFont:
    """The CJK font for the PDF (see the module docstring for the search order).

    Raises
    ------
    ConfigError
        ``GUOTU_PDF_FONT`` names a file that does not exist or that reportlab cannot load.

    Examples
    --------
    >>> font = find_cjk_font()
    >>> font.name == FALLBACK_FONT or font.is_embedded
    True
    """
    override = os.environ.get(FONT_ENV)
    if override:
        path = Path(override)
        try:
            return PdfFont(_register(path), path)
        except (TTFError, OSError) as exc:
            raise ConfigError(
                f"{FONT_ENV}={override} is not a TrueType font file reportlab can embed: {exc}.",
                file=override, fix=f"Point {FONT_ENV} to a .ttf or .ttc font with Chinese "
                "glyphs (for example wqy-microhei.ttc), or unset it.",
                message_zh=f"{FONT_ENV}={override} 不是可嵌入的 TrueType 字体文件：{exc}。",
                fix_zh=f"请将 {FONT_ENV} 指向含中文字形的 .ttf 或 .ttc 字体（如 wqy-microhei.ttc），"
                       "或取消该设置。") from exc
    for candidate in _candidates():
        path = Path(candidate)
        if not path.is_file():
            continue
        try:
            return PdfFont(_register(path), path)
        except (TTFError, OSError) as exc:
            logger.info("CJK font %s skipped: %s", path, exc)
    if FALLBACK_FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    logger.info("No CJK TrueType font found; the PDF references the built-in %s "
                "(set %s to embed one).", FALLBACK_FONT, FONT_ENV)
    return PdfFont(FALLBACK_FONT, None)


# -- styles and tables -----------------------------------------------------------------------

@dataclass(frozen=True)
class _Styles:
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    title: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    font: str


def _styles(font: str, cjk: bool) -> _Styles:
    wrap = "CJK" if cjk else None
    body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=14, wordWrap=wrap)
    return _Styles(
        body=body,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=11),
        cell=ParagraphStyle("cell", parent=body, fontSize=7.5, leading=10),
        title=ParagraphStyle("title", parent=body, fontSize=18, leading=24, spaceAfter=8,
                             textColor=_BLUE),
        h2=ParagraphStyle("h2", parent=body, fontSize=13, leading=18, spaceBefore=10, keepWithNext=1,
                          spaceAfter=4, textColor=_BLUE),
        h3=ParagraphStyle("h3", parent=body, fontSize=11, leading=15, spaceBefore=6, keepWithNext=1,
                          spaceAfter=3),
        font=font)


def paragraph_styles(font: str, cjk: bool) -> _Styles:
    """The report styles (body, small, cell, title, h2, h3) in ``font``, for other reports
    that share this one's look (the 体检评估 report)."""
    return _styles(font, cjk)


def _p(value: Any, style: ParagraphStyle) -> Paragraph:
    return Paragraph(escape(str(value)), style)


def _table(st: _Styles, head: Sequence[str], rows: Iterable[Sequence[Any]],
           widths: Sequence[float], *, numeric: Iterable[int] = (),
           colours: Mapping[tuple[int, int], colors.Color] | None = None) -> Table:
    """A grid table; plain values become wrapped paragraphs, ``numeric`` columns align right."""
    right = ParagraphStyle("num", parent=st.cell, alignment=2)
    nums = set(numeric)
    data = [[_p(h, st.cell) for h in head]]
    for row in rows:
        data.append([c if isinstance(c, Flowable) else _p(c, right if i in nums else st.cell)
                     for i, c in enumerate(row)])
    table = Table(data, colWidths=list(widths), repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.5, _LINE), ("BACKGROUND", (0, 0), (-1, 0), _HEAD),
        ("VALIGN", (0, 0), (-1, -1), "TOP"), ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2)]
    for cell, colour in (colours or {}).items():
        commands.append(("BACKGROUND", cell, cell, colour))
    table.setStyle(TableStyle(commands))
    return table


def _sev_colours(severities: Sequence[Any], col: int) -> dict[tuple[int, int], colors.Color]:
    """Light background colours for a severity column (row 0 is the header)."""
    out = {}
    for row, sev in enumerate(severities, start=1):
        colour = _SEVERITY_COLOUR.get(str(sev))
        if colour is not None:
            out[(col, row)] = colors.Color(colour.red, colour.green, colour.blue, alpha=0.18)
    return out


def _measure(doc: Mapping[str, Any], f: Mapping[str, Any], key: str) -> str:
    shown = format_measure(f.get(key), f.get("unit"))
    unit = unit_text(doc, f.get("unit"))
    return f"{shown} {unit}" if unit and shown != MISSING else shown


def _ha_of_m2(value: Any) -> str:
    m2 = number(value)
    return format_area_ha(None if m2 is None else m2 / 1e4)


# -- sections --------------------------------------------------------------------------------

_WIDTH = A4[0] - 30 * mm


def _overview(doc: Mapping[str, Any], st: _Styles) -> list[Flowable]:
    out: list[Flowable] = [_p(text(doc.get("title")), st.title),
                           _p(label(doc, "overview"), st.h2),
                           _table(st, [label(doc, "item"), label(doc, "value")],
                                  stamp_rows(doc), [40 * mm, _WIDTH - 40 * mm])]
    versions = data_versions(doc)
    if versions:
        out += [_p(label(doc, "data_versions"), st.h3),
                _table(st, [label(doc, "data_layer"), label(doc, "data_version")], versions,
                       [40 * mm, _WIDTH - 40 * mm])]
    counts = severity_counts(doc)
    sevs = [*SEVERITIES, *sorted(set(counts) - set(SEVERITIES))]
    total = (doc.get("summary") or {}).get("total", len(findings(doc)))
    rules = rule_rows(doc)
    out += [_p(label(doc, "summary"), st.h2), _p(label(doc, "by_severity"), st.h3),
            _table(st, [label(doc, "severity"), label(doc, "count")],
                   [*([severity_text(doc, s), counts.get(s, 0)] for s in sevs),
                    [label(doc, "total"), total]], [40 * mm, 30 * mm], numeric=[1],
                   colours=_sev_colours(sevs, 0)),
            _p(label(doc, "by_rule"), st.h3),
            _table(st, [label(doc, k) for k in ("rule", "rule_title", "severity", "count",
                                                "area_m2", "area_ha")],
                   ([text(r["id"]), text(r["title"]), severity_text(doc, r["severity"]),
                     r["count"], format_area_m2(r["area_m2"]), _ha_of_m2(r["area_m2"])]
                    for r in rules),
                   [48 * mm, _WIDTH - 136 * mm, 16 * mm, 14 * mm, 30 * mm, 28 * mm],
                   numeric=[3, 4, 5], colours=_sev_colours([r["severity"] for r in rules], 2))]
    return out


def _basis(doc: Mapping[str, Any], st: _Styles) -> list[Flowable]:
    rules = rule_rows(doc)
    out: list[Flowable] = [
        _p(label(doc, "basis"), st.h2),
        _table(st, [label(doc, k) for k in ("rule", "rule_title", "severity", "legal_basis",
                                            "count")],
               ([text(r["id"]), text(r["title"]), severity_text(doc, r["severity"]),
                 text(r["basis"]), r["count"]] for r in rules),
               [44 * mm, 40 * mm, 14 * mm, _WIDTH - 112 * mm, 14 * mm], numeric=[4],
               colours=_sev_colours([r["severity"] for r in rules], 2))]
    skipped = list(doc.get("skipped") or ())
    if skipped:
        out += [_p(label(doc, "skipped"), st.h3),
                _table(st, [label(doc, "rule"), label(doc, "reason")],
                       ([text(s.get("rule")), text(s.get("reason"))] for s in skipped),
                       [60 * mm, _WIDTH - 60 * mm])]
    repairs = list(doc.get("repairs") or ())
    if repairs:
        out += [_p(label(doc, "repairs"), st.h3),
                _table(st, [label(doc, k) for k in ("layer", "feature", "reason", "area_before",
                                                    "area_after")],
                       ([text(r.get("layer")), text(r.get("feature")), text(r.get("reason")),
                         format_area_m2(r.get("area_before_m2")),
                         format_area_m2(r.get("area_after_m2"))] for r in repairs),
                       [20 * mm, 36 * mm, _WIDTH - 112 * mm, 28 * mm, 28 * mm],
                       numeric=[3, 4])]
    return out


def _list(doc: Mapping[str, Any], st: _Styles) -> list[Flowable]:
    items = findings(doc)
    out: list[Flowable] = [_p(label(doc, "list"), st.h2)]
    if not items:
        return [*out, _p(label(doc, "no_findings"), st.body)]
    head = [label(doc, k) for k in ("no", "severity", "rule", "features", "area_m2", "area_ha",
                                    "share_of_feature", "share_of_zone", "measured", "limit")]
    rows = ([i, severity_text(doc, f.get("severity")), text(f.get("rule")),
             features_label(f, with_code=False), format_area_m2(f.get("area_m2")),
             format_area_ha(area_ha(f)), format_share(f.get("share_of_feature")),
             format_share(f.get("share_of_zone")), _measure(doc, f, "measured"),
             _measure(doc, f, "limit")] for i, f in enumerate(items, start=1))
    widths = [7 * mm, 10 * mm, 40 * mm, 30 * mm, 18 * mm, 14 * mm, 14 * mm, 14 * mm]
    widths += [(_WIDTH - sum(widths)) / 2] * 2
    return [*out, _table(st, head, rows, widths, numeric=[0, 4, 5, 6, 7, 8, 9],
                         colours=_sev_colours([f.get("severity") for f in items], 1))]


def _boxed(content: Paragraph, colour: colors.Color) -> Table:
    table = Table([[content]], colWidths=[_WIDTH])
    table.setStyle(TableStyle([
        ("BACKGROUND", (0, 0), (-1, -1), colors.Color(colour.red, colour.green, colour.blue,
                                                      alpha=0.08)),
        ("LINEBEFORE", (0, 0), (0, -1), 3, colour)]))
    return table


def _finding(doc: Mapping[str, Any], no: int, f: Mapping[str, Any], st: _Styles
             ) -> list[Flowable]:
    sep = ": " if is_english(doc) else "："
    facts = [(label(doc, "rule"), text(f.get("rule"))),
             (label(doc, "severity"), severity_text(doc, f.get("severity"))),
             (label(doc, "features"), features_label(f)), (label(doc, "zone"), zone_label(f)),
             (label(doc, "relation"), relation_text(doc, f.get("relation"))),
             (label(doc, "area_m2"), format_area_m2(f.get("area_m2"))),
             (label(doc, "area_ha"), format_area_ha(area_ha(f))),
             (label(doc, "share_of_feature"), format_share(f.get("share_of_feature"))),
             (label(doc, "share_of_zone"), format_share(f.get("share_of_zone"))),
             (label(doc, "measured"), _measure(doc, f, "measured")),
             (label(doc, "limit"), _measure(doc, f, "limit")),
             (label(doc, "legal_basis"), text(f.get("basis")))]
    if f.get("repaired"):
        facts.append((label(doc, "repaired"), label(doc, "yes")))
    out: list[Flowable] = [
        PageBreak(),
        _p(f"{label(doc, 'finding')} {no}{sep}{text(f.get('title'))}", st.h2),
        _boxed(Paragraph(f"<b>{escape(label(doc, 'message'))}{sep}</b>"
                         f"{escape(text(f.get('message')))}", st.body), _RED),
        Spacer(1, 4),
        _boxed(Paragraph(f"<b>{escape(label(doc, 'suggestion'))}{sep}</b>"
                         f"{escape(text(f.get('suggestion')))}", st.body), _GREEN),
        Spacer(1, 6),
        _table(st, [label(doc, "item"), label(doc, "value")], facts,
               [36 * mm, _WIDTH - 36 * mm]),
        Spacer(1, 6)]
    drawing = render_map_drawing(doc, f, st.font)
    if drawing is None:
        out.append(_p(label(doc, "no_map"), st.small))
    else:
        out.append(KeepTogether([_p(label(doc, "map"), st.h3), drawing]))
    return out


# -- maps ------------------------------------------------------------------------------------

#: Map style per role: (fill, stroke, stroke width, dash).
_ROLE_STYLE: dict[str, tuple[colors.Color | None, colors.Color, float, list[float] | None]] = {
    "zone": (colors.HexColor("#e8f5e9"), _GREEN, 1.0, None),
    "feature": (None, colors.HexColor("#1d2329"), 1.2, None),
    "conflict": (colors.Color(0.898, 0.224, 0.208, alpha=0.6), colors.HexColor("#b71c1c"),
                 1.0, None),
    "alternative": (None, colors.HexColor("#1e63d6"), 2.0, [6, 4]),
}
_OTHER_STYLE: tuple[colors.Color | None, colors.Color, float, list[float] | None] = (
    None, colors.HexColor("#7f8c8d"), 0.8, None)
#: A conflict on a line (the part of a route inside a zone): colour and width.
_CONFLICT_LINE = (_RED, 3.0)


def _map_layer(frame: MapFrame, layer: MapLayer, group: Group) -> None:
    fill, stroke, width, dash = _ROLE_STYLE.get(layer.role, _OTHER_STYLE)
    for geom in layer.geometries:
        for kind, rings in parts(geom.simplify(0.3 / frame.scale)):
            pts = [[c for xy in ring for c in frame.point(*xy)] for ring in rings]
            if kind == "polygon":
                path = RLPath(fillColor=fill, strokeColor=stroke, strokeWidth=width,
                              strokeDashArray=dash, fillMode=FILL_EVEN_ODD)
                for ring in pts:
                    path.moveTo(ring[0], ring[1])
                    for i in range(2, len(ring), 2):
                        path.lineTo(ring[i], ring[i + 1])
                    path.closePath()
                group.add(path)
                if layer.role == "zone":
                    group.add(Hatching(spacings=5, angles=45, xyLists=pts, strokeColor=_GREEN,
                                       strokeWidth=0.6))
            elif kind == "line":
                colour, line_width = _CONFLICT_LINE if layer.role == "conflict" else (stroke, width)
                group.add(PolyLine(pts[0], strokeColor=colour, strokeWidth=line_width,
                                   strokeDashArray=dash, strokeLineCap=1, strokeLineJoin=1))
            else:
                group.add(Circle(pts[0][0], pts[0][1], 3, fillColor=fill or stroke,
                                 strokeColor=colors.white, strokeWidth=0.8))


def render_map_drawing(doc: Mapping[str, Any], finding: Mapping[str, Any], font: str,
                       width: float = 300.0, height: float = 230.0) -> Drawing | None:
    """A finding's map as a reportlab drawing (legend below), or ``None`` without geometry.

    Examples
    --------
    >>> f = {"geometry": {"type": "Point", "coordinates": [10.0, 10.0]}}
    >>> render_map_drawing({"lang": "en"}, f, "Helvetica").width
    300.0
    """
    drawn = map_layers(doc, finding)
    if drawn is None:
        return None
    bbox, layers = drawn
    legend_h = 14.0 * len(layers) + 6
    drawing = Drawing(width, height + legend_h)
    frame = MapFrame(bbox, width, height, 10.0, is_y_down=False)
    group = Group(transform=(1, 0, 0, 1, 0, legend_h))
    group.add(Rect(0, 0, width, height, fillColor=colors.HexColor("#fbfbf8"),
                   strokeColor=colors.HexColor("#999999"), strokeWidth=0.6))
    for layer in layers:
        _map_layer(frame, layer, group)
    bar, bar_label = frame.scale_bar()
    group.add(Rect(6, 4, bar + 8, 18, fillColor=colors.Color(1, 1, 1, alpha=0.8),
                   strokeColor=None))
    group.add(PolyLine([10, 14, 10, 10, 10 + bar, 10, 10 + bar, 14], strokeColor=colors.black,
                       strokeWidth=1.2))
    group.add(String(10 + bar / 2, 13, bar_label, fontName=font, fontSize=8, textAnchor="middle"))
    nx, ny = width - 18, height - 10
    arrow = RLPath(fillColor=colors.black, strokeColor=None)
    arrow.moveTo(nx, ny)
    arrow.lineTo(nx - 5, ny - 15)
    arrow.lineTo(nx, ny - 11)
    arrow.lineTo(nx + 5, ny - 15)
    arrow.closePath()
    group.add(arrow)
    group.add(String(nx, ny - 26, label(doc, "north"), fontName=font, fontSize=9,
                     textAnchor="middle"))
    drawing.add(group)
    for i, layer in enumerate(layers):
        y = legend_h - 14.0 * (i + 1)
        fill, stroke, lw, dash = _ROLE_STYLE.get(layer.role, _OTHER_STYLE)
        if layer.kind == "line":
            colour, lw = _CONFLICT_LINE if layer.role == "conflict" else (stroke, lw)
            drawing.add(Line(4, y + 5, 20, y + 5, strokeColor=colour, strokeWidth=lw,
                             strokeDashArray=dash))
        elif layer.kind == "point":
            drawing.add(Circle(12, y + 5, 3, fillColor=fill or stroke, strokeColor=None))
        else:
            drawing.add(Rect(4, y, 16, 10, fillColor=fill, strokeColor=stroke, strokeWidth=lw))
        drawing.add(String(26, y + 1.5, layer.name, fontName=font, fontSize=8))
    return drawing


def render_review_pdf(doc: Mapping[str, Any], font: PdfFont | None = None) -> bytes:
    """The whole report as PDF bytes (A4, page numbers and the rule-pack hash in the footer).

    Parameters
    ----------
    doc
        The report document (see :mod:`guotu.io.review_report`).
    font
        The font to use; :func:`find_cjk_font` when not given.

    Examples
    --------
    >>> pdf = render_review_pdf({"lang": "en", "title": "Review", "findings": []})
    >>> pdf.startswith(b"%PDF")
    True
    """
    font = font or find_cjk_font()
    st = _styles(font.name, cjk=not is_english(doc))
    buffer = BytesIO()
    title = text(doc.get("title"))
    stamp = doc.get("stamp") or {}
    footer = " · ".join(str(v) for v in (title, stamp.get("rule_pack"),
                                         stamp.get("rule_pack_hash")) if v)

    def on_page(canvas: Any, template: Any) -> None:
        canvas.saveState()
        canvas.setFont(font.name, 7.5)
        canvas.setFillColor(colors.HexColor("#666666"))
        canvas.drawString(15 * mm, 9 * mm, footer[:120])
        canvas.drawRightString(A4[0] - 15 * mm, 9 * mm, str(canvas.getPageNumber()))
        canvas.restoreState()

    template = SimpleDocTemplate(buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                                 topMargin=14 * mm, bottomMargin=16 * mm, title=title,
                                 author="guotu", subject=label(doc, "list"), lang=doc.get("lang"),
                                 initialFontName=font.name, initialFontSize=9.5)
    story = [*_overview(doc, st), *_basis(doc, st), *_list(doc, st)]
    for no, f in enumerate(findings(doc), start=1):
        story += _finding(doc, no, f, st)
    template.build(story, onFirstPage=on_page, onLaterPages=on_page)
    return buffer.getvalue()
