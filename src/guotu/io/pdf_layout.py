"""What every PDF report of guotu shares: the A4 page with its header and footer, styles,
tables and the build.

Each page carries a header (the report title on the left, what it is about on the right) and a
footer (what the report was made with: rule pack or catalogue and version, data versions,
date; then ``第 x 页，共 y 页``). The total page count is not known while pages are drawn, so
the footer draws it as a PDF form XObject that is defined once, when the document is saved.
Headings of level 2 and 3 become the PDF's bookmarks. Every text goes through the font's
:meth:`~guotu.io.fonts.PdfFont.fit`, and every font in the file is the embedded CJK font.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    BaseDocTemplate,
    Flowable,
    Frame,
    PageTemplate,
    Paragraph,
    Table,
    TableStyle,
)

from guotu.io.fonts import PdfFont

__all__ = [
    "BLUE",
    "FOOTER_LINES",
    "GREEN",
    "HEAD",
    "LINE",
    "RED",
    "WIDTH",
    "PageFurniture",
    "Styles",
    "box_style",
    "build_pdf",
    "grid_table",
    "lines_cell",
    "make_styles",
    "para",
    "tint",
]

LINE = colors.HexColor("#c8ccd2")
HEAD = colors.HexColor("#eef2f7")
BLUE = colors.HexColor("#1d4e89")
GREEN = colors.HexColor("#2e7d32")
RED = colors.HexColor("#c0392b")
GREY = colors.HexColor("#555555")

_MARGIN_X = 15 * mm
_MARGIN_TOP = 20 * mm
_MARGIN_BOTTOM = 20 * mm
#: The width of the text frame (A4 less the side margins), for column widths.
WIDTH = A4[0] - 2 * _MARGIN_X
_TOTAL_FORM = "guotuPageTotal"
#: Room kept at the right of a table cell's text for a hanging full-width punctuation mark.
_HANG = 4.5


def tint(colour: colors.Color, alpha: float = 0.18) -> colors.Color:
    """``colour`` made transparent, for cell and box backgrounds."""
    return colors.Color(colour.red, colour.green, colour.blue, alpha=alpha)


@dataclass(frozen=True)
class Styles:
    """The paragraph styles of a report, all in the embedded font."""

    font: PdfFont
    body: ParagraphStyle
    small: ParagraphStyle
    cell: ParagraphStyle
    num: ParagraphStyle
    title: ParagraphStyle
    h2: ParagraphStyle
    h3: ParagraphStyle
    lead: ParagraphStyle


def make_styles(font: PdfFont, *, cjk: bool = True) -> Styles:
    """The styles in ``font``: Chinese text wraps between any two characters (``cjk``),
    English text at spaces."""
    wrap = "CJK" if cjk else None
    body = ParagraphStyle("body", fontName=font.name, fontSize=9.5, leading=14, wordWrap=wrap)
    # a punctuation mark that cannot start a line hangs past the line's end: keep room for it
    # inside the cell, so that it never runs into the next column
    cell = ParagraphStyle("cell", parent=body, fontSize=7.5, leading=10, rightIndent=_HANG)
    return Styles(
        font=font,
        body=body,
        cell=cell,
        small=ParagraphStyle("small", parent=body, fontSize=8, leading=11),
        num=ParagraphStyle("num", parent=cell, alignment=2, rightIndent=0),
        title=ParagraphStyle(
            "title", parent=body, fontSize=18, leading=24, spaceAfter=6, textColor=BLUE
        ),
        h2=ParagraphStyle(
            "h2",
            parent=body,
            fontSize=13,
            leading=18,
            spaceBefore=10,
            keepWithNext=1,
            spaceAfter=4,
            textColor=BLUE,
        ),
        h3=ParagraphStyle(
            "h3", parent=body, fontSize=11, leading=15, spaceBefore=6, keepWithNext=1, spaceAfter=3
        ),
        lead=ParagraphStyle("lead", parent=body, fontSize=11, leading=17),
    )


def para(
    st: Styles, value: Any, style: ParagraphStyle | None = None, *, markup: bool = False
) -> Paragraph:
    """A paragraph of ``value`` in ``style`` (body by default): escaped unless ``markup``
    (then ``value`` is reportlab markup whose text the caller escaped), fitted to the font.
    """
    text = str(value) if markup else escape(str(value)).replace("\n", "<br/>")
    return Paragraph(st.font.fit(text), style or st.body)


def box_style(st: Styles, commands: Sequence[tuple[Any, ...]]) -> TableStyle:
    """A table style in the embedded font (a table sets its cells' font even when they hold
    paragraphs; reportlab's default there is Helvetica, which is not embedded)."""
    return TableStyle([("FONTNAME", (0, 0), (-1, -1), st.font.name), *commands])


def lines_cell(
    st: Styles, lines: Sequence[str], width: float, style: ParagraphStyle | None = None
) -> Paragraph:
    """A table cell of short lines, each on a line of its own; a line without spaces (an id
    like ``BSM=GH00028903``) that is wider than the cell is set smaller instead of being
    broken in the middle. ``width`` is the column width (padding included)."""
    cell = style or st.cell
    room = width - 6.5 - cell.rightIndent
    out = []
    for line in lines:
        line = st.font.fit(line)
        shown = escape(line)
        wide = stringWidth(line, st.font.name, cell.fontSize)
        if " " not in line.strip() and wide > room:
            shown = f'<font size="{max(cell.fontSize * room / wide, 4.5):.2f}">{shown}</font>'
        out.append(shown)
    return Paragraph("<br/>".join(out), cell)


def grid_table(
    st: Styles,
    head: Sequence[str],
    rows: Iterable[Sequence[Any]],
    widths: Sequence[float],
    *,
    numeric: Iterable[int] = (),
    colours: Mapping[tuple[int, int], colors.Color] | None = None,
    style: ParagraphStyle | None = None,
) -> Table:
    """A grid table with a shaded header row repeated on every page. Plain values become
    paragraphs (``numeric`` columns right-aligned); flowables are kept as they are."""
    cell = style or st.cell
    right = ParagraphStyle("num-" + cell.name, parent=cell, alignment=2, rightIndent=0)
    nums = set(numeric)
    data: list[list[Any]] = [[para(st, h, cell) for h in head]]
    for row in rows:
        data.append(
            [
                c if isinstance(c, Flowable) else para(st, c, right if i in nums else cell)
                for i, c in enumerate(row)
            ]
        )
    table = Table(data, colWidths=list(widths), repeatRows=1)
    commands: list[tuple[Any, ...]] = [
        ("FONTNAME", (0, 0), (-1, -1), st.font.name),
        ("GRID", (0, 0), (-1, -1), 0.5, LINE),
        ("BACKGROUND", (0, 0), (-1, 0), HEAD),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    for at, colour in (colours or {}).items():
        commands.append(("BACKGROUND", at, at, colour))
    table.setStyle(TableStyle(commands))
    return table


@dataclass(frozen=True)
class PageFurniture:
    """What the header and footer of every page say.

    ``title`` is on the left of the header, ``right`` (what the report is about: the plan
    reviewed, the workspace) on its right. ``footer`` holds the lines saying what the report
    was made with; a line too long for the page wraps, up to :data:`FOOTER_LINES` lines in
    all. The page number is ``page_lead`` (its ``{page}`` filled on each page) followed by
    ``page_total`` (its ``{total}`` filled once, when the document is saved).
    """

    title: str
    right: str
    footer: tuple[str, ...]
    page_lead: str = "第 {page} 页，共 "
    page_total: str = "{total} 页"


#: Lines the footer holds at most (a longer footer is cut with ``…``).
FOOTER_LINES = 3


def _wrapped(
    font: PdfFont, lines: Sequence[str], size: float, width: float, most: int = FOOTER_LINES
) -> list[str]:
    """``lines`` broken to fit ``width`` points, after a ``；``, ``·`` or space where one
    falls in the second half of the line, else between any two characters (CJK names and
    ids); at most ``most`` lines, the last cut with ``…``."""
    out: list[str] = []
    for line in lines:
        rest = font.fit(line)
        while rest:
            n = len(rest)
            while n > 1 and stringWidth(rest[:n], font.name, size) > width:
                n -= 1
            if n < len(rest):
                at = max(rest.rfind(sep, 0, n) for sep in ("；", "; ", "·", " "))
                n = at + 1 if at >= n // 2 else n
            out.append(rest[:n].rstrip())
            rest = rest[n:].lstrip()
    if len(out) > most:
        out = [*out[: most - 1], _fitted(font, "".join(out[most - 1 :]), size, width)]
    return out


def _fitted(font: PdfFont, text: str, size: float, width: float) -> str:
    """``text`` cut with ``…`` to fit ``width`` points."""
    text = font.fit(text)
    if stringWidth(text, font.name, size) <= width:
        return text
    while text and stringWidth(text + "…", font.name, size) > width:
        text = text[:-1]
    return text + "…"


class _Pages:
    """Draws the furniture on each page, bookmarks the headings (``h2`` at level 0, ``h3`` at
    level 1) and, when the document is saved, defines the page-total form."""

    def __init__(self, font: PdfFont, furniture: PageFurniture) -> None:
        self.font = font
        self.furniture = furniture
        self.count = 0
        self.canvas: Any = None
        self._marks = 0

    def draw(self, canvas: Any, _doc: Any) -> None:
        font, f = self.font, self.furniture
        self.count = canvas.getPageNumber()
        left, right = _MARGIN_X, A4[0] - _MARGIN_X
        top = A4[1] - 12 * mm
        canvas.saveState()
        canvas.setStrokeColor(LINE)
        canvas.setLineWidth(0.5)
        canvas.setFont(font.name, 8)
        canvas.setFillColor(BLUE)
        canvas.drawString(left, top, _fitted(font, f.title, 8, WIDTH * 0.6))
        canvas.setFillColor(GREY)
        canvas.drawRightString(right, top, _fitted(font, f.right, 8, WIDTH * 0.38))
        canvas.line(left, top - 2.5 * mm, right, top - 2.5 * mm)
        bottom = 13 * mm
        canvas.line(left, bottom + 3.5 * mm, right, bottom + 3.5 * mm)
        canvas.setFont(font.name, 6.8)
        for i, line in enumerate(_wrapped(font, f.footer, 6.8, WIDTH - 36 * mm)):
            canvas.drawString(left, bottom - i * 3.2 * mm, line)
        lead = font.fit(f.page_lead.format(page=self.count))
        canvas.drawString(right - 32 * mm, bottom, lead)
        canvas.translate(right - 32 * mm + stringWidth(lead, font.name, 6.8), bottom)
        canvas.doForm(_TOTAL_FORM)
        canvas.restoreState()

    def after_flowable(self, flowable: Flowable) -> None:
        if not isinstance(flowable, Paragraph) or self.canvas is None:
            return
        level = {"h2": 0, "h3": 1}.get(flowable.style.name)
        if level is None:
            return
        key = f"h{self._marks}"
        self._marks += 1
        self.canvas.bookmarkPage(key)
        self.canvas.addOutlineEntry(flowable.getPlainText(), key, level=level, closed=True)

    def make_canvas(self, *args: Any, **kwargs: Any) -> Any:
        """A canvas whose ``save`` first defines the page-total form (the total is known
        only then)."""
        canvas = Canvas(*args, **kwargs)
        save = canvas.save

        def save_with_total() -> None:
            canvas.beginForm(_TOTAL_FORM, 0, -3, 40 * mm, 10)
            canvas.setFont(self.font.name, 6.8)
            canvas.setFillColor(GREY)
            canvas.drawString(
                0, 0, self.font.fit(self.furniture.page_total.format(total=self.count))
            )
            canvas.endForm()
            save()

        canvas.save = save_with_total
        self.canvas = canvas
        return canvas


def build_pdf(
    story: list[Flowable],
    font: PdfFont,
    furniture: PageFurniture,
    *,
    lang: str = "zh",
    subject: str = "",
) -> bytes:
    """Lay ``story`` out on A4 pages with ``furniture`` and return the PDF bytes."""
    buffer = BytesIO()
    pages = _Pages(font, furniture)
    doc = BaseDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=_MARGIN_X,
        rightMargin=_MARGIN_X,
        topMargin=_MARGIN_TOP,
        bottomMargin=_MARGIN_BOTTOM,
        initialFontName=font.name,
        initialFontSize=9.5,
        title=furniture.title,
        author="guotu",
        subject=subject,
        lang=lang,
    )
    frame = Frame(doc.leftMargin, doc.bottomMargin, doc.width, doc.height, id="body")
    doc.addPageTemplates([PageTemplate("page", [frame], onPage=pages.draw)])
    doc.afterFlowable = pages.after_flowable
    doc.build(story, canvasmaker=pages.make_canvas)
    return buffer.getvalue()
