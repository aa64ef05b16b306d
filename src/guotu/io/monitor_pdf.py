"""The 体检评估 report as a PDF (A4, reportlab, the CJK font embedded).

It renders the sections of :func:`guotu.io.monitor_sections.report_sections`, the same the HTML
renders, so both have the same content in the same order: the overview, the indicator cards
(two a row, each with its chart: value axis, years, values and the dashed target), the
indicator table, warnings, monitoring cases, the 占补平衡 ledger and projects, and the notes
with every convention. Header, footer and page x of y come from :mod:`guotu.io.pdf_layout`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import PurePath
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.shapes import Circle, Drawing, Line, PolyLine, String
from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.platypus import Flowable, Spacer, Table

from guotu.io.fonts import PdfFont, find_cjk_font
from guotu.io.monitor_chart import chart_model
from guotu.io.monitor_sections import (
    Block,
    Bullets,
    Card,
    Cards,
    Grid,
    Text,
    footer_lines,
    label,
    meta_line,
    report_sections,
)
from guotu.io.pdf_layout import (
    LINE,
    WIDTH,
    PageFurniture,
    Styles,
    box_style,
    build_pdf,
    grid_table,
    make_styles,
    para,
)

__all__ = ["chart_drawing", "render_monitor_pdf"]

_GREY = colors.HexColor("#888888")
_GRID = colors.HexColor("#e3e6ea")


def chart_drawing(
    card: Card, font: PdfFont, width: float = 245.0, height: float = 112.0
) -> Drawing | None:
    """The card's chart as a reportlab drawing (the HTML's chart, y flipped); ``None``
    without values."""
    m = chart_model(card.series, card.target, width=width, height=height, char_width=3.3)
    if m is None:
        return None
    left, top, right, bottom = m.plot
    colour = colors.HexColor(card.colour)
    d = Drawing(width, height, initialFontName=font.name, initialFontSize=6)

    def y(v: float) -> float:
        return height - v

    for ty, tick in m.ticks:
        d.add(Line(left - 2, y(ty), right, y(ty), strokeColor=_GRID, strokeWidth=0.5))
        d.add(
            String(
                left - 4,
                y(ty) - 2,
                tick,
                fontName=font.name,
                fontSize=6,
                fillColor=colors.HexColor("#555555"),
                textAnchor="end",
            )
        )
    d.add(Line(left, y(top - 4), left, y(bottom), strokeColor=_GREY, strokeWidth=0.7))
    d.add(Line(left, y(bottom), right, y(bottom), strokeColor=_GREY, strokeWidth=0.7))
    if m.target is not None:
        d.add(
            Line(
                left,
                y(m.target[0]),
                right,
                y(m.target[0]),
                strokeColor=colors.HexColor("#c0392b"),
                strokeWidth=0.8,
                strokeDashArray=[3, 2],
            )
        )
    d.add(
        PolyLine(
            [c for x, py, _, _ in m.points for c in (x, y(py))], strokeColor=colour, strokeWidth=1.3
        )
    )
    for x, py, year, value in m.points:
        d.add(Circle(x, y(py), 1.8, fillColor=colour, strokeColor=None))
        d.add(
            String(
                x,
                y(bottom) - 8,
                year,
                fontName=font.name,
                fontSize=6,
                fillColor=colors.HexColor("#555555"),
                textAnchor="middle",
            )
        )
        if value is not None:
            d.add(
                String(
                    x,
                    y(py) + 3.5,
                    value,
                    fontName=font.name,
                    fontSize=5.6,
                    fillColor=colors.HexColor("#222222"),
                    textAnchor="middle",
                )
            )
    return d


def _card_cell(doc: Mapping[str, Any], card: Card, st: Styles) -> list[Flowable]:
    head = (
        f"<b>{escape(card.name)}</b>　<font size=11>{escape(card.value)}</font> "
        f'{escape(card.unit)} <font color="{card.colour}">【{escape(card.status)}】</font>'
    )
    out: list[Flowable] = [para(st, head, st.body, markup=True)]
    if card.lines:
        out.append(para(st, "　".join(card.lines), st.small))
    drawing = chart_drawing(card, st.font)
    out.append(drawing if drawing is not None else para(st, label(doc, "no_data"), st.small))
    return out


def _cards(doc: Mapping[str, Any], block: Cards, st: Styles) -> list[Table]:
    """Two cards a row, one table per row (so that a page break falls between rows and the
    section heading stays with the first row)."""
    out = []
    for k in range(0, len(block.cards), 2):
        pair = block.cards[k : k + 2]
        cells: list[Any] = [_card_cell(doc, c, st) for c in pair] + [[]] * (2 - len(pair))
        table = Table([cells], colWidths=[WIDTH / 2] * 2)
        commands: list[tuple[Any, ...]] = [
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BOX", (0, 0), (-1, -1), 0.5, LINE),
            ("INNERGRID", (0, 0), (-1, -1), 0.5, LINE),
        ]
        for i, card in enumerate(pair):
            commands.append(("LINEBEFORE", (i, 0), (i, 0), 3, colors.HexColor(card.colour)))
        table.setStyle(box_style(st, commands))
        out.append(table)
    return out


def _flowables(doc: Mapping[str, Any], block: Block, st: Styles) -> list[Flowable]:
    if isinstance(block, Text):
        return [para(st, block.text, st.small if block.style == "small" else st.body)]
    if isinstance(block, Bullets):
        item = ParagraphStyle(
            "item", parent=st.body, leftIndent=10, firstLineIndent=-10, spaceAfter=2
        )
        return [para(st, f"● {text}", item) for text in block.items]
    if isinstance(block, Grid):
        total = sum(block.widths) or len(block.head)
        widths = [WIDTH * w / total for w in (block.widths or [1] * len(block.head))]
        return [grid_table(st, block.head, block.rows, widths, numeric=block.numeric), Spacer(1, 6)]
    return [*_cards(doc, block, st), Spacer(1, 6)]


def render_monitor_pdf(doc: Mapping[str, Any], font: PdfFont | None = None) -> bytes:
    """The report as a PDF (A4) with the same sections as the HTML.

    Raises
    ------
    EnvironmentSetupError
        No font with Chinese glyphs is installed (``apt-get install fonts-wqy-microhei``).
    """
    font = font or find_cjk_font()
    st = make_styles(font, cjk=doc.get("lang") != "en")
    story: list[Flowable] = [
        para(st, label(doc, "title"), st.title),
        para(st, meta_line(doc), st.small),
    ]
    for heading, blocks in report_sections(doc):
        story.append(para(st, heading, st.h2))
        for block in blocks:
            story += _flowables(doc, block, st)
    workspace = PurePath(str(doc.get("workspace") or "—").replace("\\", "/")).name
    furniture = PageFurniture(
        title=label(doc, "title"),
        right=f"{label(doc, 'workspace')} {workspace}",
        footer=footer_lines(doc),
        page_lead=label(doc, "page_lead"),
        page_total=label(doc, "page_total"),
    )
    return build_pdf(
        story, font, furniture, lang=str(doc.get("lang") or "zh"), subject=label(doc, "title")
    )
