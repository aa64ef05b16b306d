"""The decision document of an approval case (审批决定文书) as a PDF a bureau signs and files.

A4 portrait, reportlab, the CJK font embedded (:mod:`guotu.io.fonts`); page header, footer
and ``第 x 页，共 y 页`` come from :mod:`guotu.io.pdf_layout`. Page 1 opens with the title and
the serial number (文号) beside the QR code of the verification URL, the URL printed beneath
it. Then, each section only when the document has something for it, numbered as shown:

* the decision, sealed: 基本情况 (the applicant named as the kind names it: 用地单位, 建设单位
  …; project, location, site area in m² and 公顷, case, authority, date), 决定内容 (the
  statement, then the conditions attached or, for 不予许可, the reasons), 规划条件, for a
  规划核实 the as-built comparison (超出 in red), 法律依据 (a basis not checked against the
  official text is marked 〔依据条文未经核对〕 where it is cited, so nothing unverified reads
  as verified), 告知事项, and the block the authority seals and dates;
* what it rests on: 用地位置图, the one-map excerpt (:mod:`guotu.io.decision_pdf_map`), the
  部门意见 of the co-review and the 智能审查摘要.

Every page's footer names the rule pack, the generated time and the data versions used.
Tables repeat their header row and flow onto as many pages as they need.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, KeepTogether, Spacer, Table

from guotu.errors import ConfigError
from guotu.io.atomic_write import write_atomic
from guotu.io.decision_model import (
    AsBuiltCheck,
    Bound,
    DecisionDocument,
    Opinion,
    RuleOutcome,
)
from guotu.io.decision_pdf_labels import APPLICANT, ISSUED, label
from guotu.io.decision_pdf_map import site_map
from guotu.io.decision_pdf_qr import QrCode
from guotu.io.fonts import PdfFont, find_cjk_font
from guotu.io.pdf_layout import (
    GREEN,
    RED,
    WIDTH,
    PageFurniture,
    Styles,
    box_style,
    build_pdf,
    grid_table,
    make_styles,
    para,
    tint,
)
from guotu.io.review_document import format_area_ha, format_area_m2, text
from guotu.io.review_labels import MISSING
from guotu.io.site_sheet import crs_label

__all__ = ["LANGS", "render_decision_pdf", "write_decision_pdf"]

logger = logging.getLogger(__name__)

#: The languages the document's labels come in.
LANGS = ("zh", "en")
_AMBER = colors.HexColor("#d68910")
_QR_COLUMN = 38 * mm
_QR_SIZE = 28 * mm

_OPINION_COLOUR = {Opinion.AGREE: GREEN, Opinion.CONDITIONAL: _AMBER, Opinion.DISAGREE: RED}
_OUTCOME_COLOUR = {RuleOutcome.PASSED: GREEN, RuleOutcome.WARNING: _AMBER, RuleOutcome.FAILED: RED}
_NUMERALS = "一二三四五六七八九十"


class _Page:
    """What the sections share: the document, the language, the styles."""

    def __init__(self, doc: DecisionDocument, lang: str, st: Styles) -> None:
        self.doc = doc
        self.lang = lang
        self.st = st
        self.en = lang == "en"
        self._sections = 0

    def label(self, key: str, **values: object) -> str:
        """The label ``key`` in the page's language (:func:`~guotu.io.decision_pdf_labels.label`)."""
        return label(key, self.lang, **values)

    def heading(self, key: str) -> Flowable:
        """The next numbered section heading (``一、基本情况`` / ``1. Particulars``)."""
        self._sections += 1
        n = self._sections
        lead = f"{n}. " if self.en else f"{_NUMERALS[n - 1] if n <= 10 else n}、"
        return para(self.st, lead + self.label(key), self.st.h2)

    def date(self, value: date | None) -> str:
        """A day as the page writes it (``2026年3月5日`` / ``2026-03-05``)."""
        if value is None:
            return MISSING
        return value.isoformat() if self.en else f"{value.year}年{value.month}月{value.day}日"

    @property
    def title(self) -> str:
        """The document's title; its kind's English name in English unless a title was given."""
        doc = self.doc
        return doc.kind.name_en if self.en and doc.title == doc.kind.name_zh else doc.title


# -- page 1: the head ------------------------------------------------------------------------


def _head(p: _Page) -> list[Flowable]:
    st, doc = p.st, p.doc
    title = ParagraphStyle("doc-title", parent=st.title, fontSize=20, leading=28, alignment=1)
    serial = ParagraphStyle("serial", parent=st.lead, alignment=1, fontSize=12, leading=18)
    left: list[Flowable] = [
        Spacer(1, 6 * mm),
        para(st, p.title, title),
        para(st, doc.serial, serial),
    ]
    url_style = ParagraphStyle(
        "url", parent=st.cell, fontSize=6, leading=7.5, alignment=1, wordWrap="CJK", rightIndent=0
    )
    right: list[Flowable]
    if doc.verification_url:
        right = [
            QrCode(doc.verification_url, _QR_SIZE),
            para(st, p.label("scan"), ParagraphStyle("scan", parent=url_style, fontSize=7.5)),
            para(st, doc.verification_url, url_style),
        ]
    else:
        right = [para(st, p.label("no_url"), url_style)]
    head = Table([[left, right]], colWidths=[WIDTH - _QR_COLUMN, _QR_COLUMN])
    head.setStyle(
        box_style(
            st,
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("ALIGN", (1, 0), (1, 0), "CENTER"),
                ("LINEBELOW", (0, 0), (-1, 0), 1.2, RED),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 6),
            ],
        )
    )
    return [head, Spacer(1, 4)]


def _facts(p: _Page) -> list[Flowable]:
    doc = p.doc
    lang = 1 if p.en else 0
    applicant = APPLICANT[doc.kind][lang]
    authority, issued_on = ISSUED[doc.kind]
    area = MISSING
    if doc.site_area_m2 is not None:
        area = (
            f"{format_area_m2(doc.site_area_m2)} m²"
            f"（{format_area_ha(doc.site_area_ha)} {p.label('ha')}）"
        )
        if p.en:
            area = area.replace("（", " (").replace("）", ")")
    rows = [
        (applicant, text(doc.applicant)),
        (p.label("project"), text(doc.project)),
        (p.label("location"), text(doc.location)),
        (p.label("site_area"), area),
        (p.label("case_ref"), text(doc.case_ref)),
        (authority[lang], text(doc.authority)),
        (issued_on[lang], p.date(doc.issued_on)),
    ]
    shown = [(k, v) for k, v in rows if v != MISSING or k == applicant]
    return [
        p.heading("facts"),
        grid_table(p.st, [p.label("item"), p.label("value")], shown, [34 * mm, WIDTH - 34 * mm]),
    ]


def _numbered(p: _Page, items: Sequence[str]) -> list[Flowable]:
    style = ParagraphStyle("item", parent=p.st.body, leftIndent=14, firstLineIndent=-14)
    return [para(p.st, f"{i}. {item}" if p.en else f"{i}．{item}", style)
            for i, item in enumerate(items, start=1)]  # fmt: skip


def _decision(p: _Page) -> list[Flowable]:
    doc = p.doc
    if not (doc.statement or doc.conditions or doc.reasons):
        return []
    out: list[Flowable] = [p.heading("decision")]
    if doc.statement:
        out.append(para(p.st, doc.statement, p.st.lead))
    for key, items in (("reasons", doc.reasons), ("conditions", doc.conditions)):
        if items:
            out += [para(p.st, p.label(key), p.st.h3), *_numbered(p, items)]
    return out


def _planning(p: _Page) -> list[Flowable]:
    rows = p.doc.planning_conditions
    if not rows:
        return []
    head = [p.label(k) for k in ("indicator", "planned", "unit", "source")]
    return [
        p.heading("planning"),
        grid_table(
            p.st,
            head,
            ([r.indicator, r.value, text(r.unit), text(r.source)] for r in rows),
            [40 * mm, 28 * mm, 18 * mm, WIDTH - 86 * mm],
        ),
    ]


def _half_up(value: float, places: int) -> str:
    """``value`` rounded half up to ``places`` (as the verification's record rounds: 2.025 →
    2.03, where float formatting would print 2.02), with thousands separators."""
    step = Decimal(1).scaleb(-places)
    return f"{Decimal(repr(float(value))).quantize(step, rounding=ROUND_HALF_UP):,.{places}f}"


def _shown(row: AsBuiltCheck, value: float) -> str:
    """``value`` with the row's decimals, or as many more (up to 6) as a failing measure
    needs not to look equal to its limit."""
    places = row.decimals
    while (
        not row.is_within
        and row.measured is not None
        and places < 6
        and _half_up(row.measured, places) == _half_up(row.permitted, places)
    ):
        places += 1
    return f"{_half_up(value, places)} {row.unit}".strip()


def _as_built(p: _Page) -> list[Flowable]:
    rows = p.doc.as_built
    if not rows:
        return []
    sign = {Bound.MAX: "≤ ", Bound.MIN: "≥ ", Bound.EQUAL: ""}
    head = [p.label(k) for k in ("indicator", "permitted", "measured", "tolerance", "result")]
    data = [
        [
            r.indicator,
            sign[r.bound] + _shown(r, r.permitted),
            p.label("not_measured") if r.measured is None else _shown(r, r.measured),
            "±" + _shown(r, r.tolerance),
            p.label("within" if r.is_within else "exceeded"),
        ]
        for r in rows
    ]
    colours = {(4, i): tint(GREEN if r.is_within else RED, 0.25) for i, r in enumerate(rows, 1)}
    return [
        p.heading("as_built"),
        grid_table(
            p.st,
            head,
            data,
            [WIDTH - 128 * mm, 32 * mm, 32 * mm, 32 * mm, 32 * mm],
            numeric=[1, 2, 3],
            colours=colours,
        ),
    ]


def _map(p: _Page) -> list[Flowable]:
    drawing = site_map(p.doc, p.st.font, p.lang, width=WIDTH, height=95 * mm)
    if drawing is None:
        return []
    out: list[Flowable] = [p.heading("map"), drawing]
    if p.doc.crs is not None:
        crs = crs_label(p.doc.crs.to_string(), p.lang)
        out.append(para(p.st, p.label("map_crs", crs=crs), p.st.small))
    return [KeepTogether(out)]


def _opinions(p: _Page) -> list[Flowable]:
    rows = p.doc.opinions
    if not rows:
        return []
    head = [p.label(k) for k in ("department", "opinion", "opinion_conditions", "date")]
    data = [
        [
            r.department,
            r.opinion.name_en if p.en else r.opinion.name_zh,
            text(r.conditions),
            p.date(r.given_on),
        ]
        for r in rows
    ]
    colours = {(1, i): tint(_OPINION_COLOUR[r.opinion]) for i, r in enumerate(rows, 1)}
    return [
        p.heading("opinions"),
        grid_table(
            p.st,
            head,
            data,
            [40 * mm, 26 * mm, WIDTH - 94 * mm, 28 * mm],
            colours=colours,
        ),
    ]


def _review(p: _Page) -> list[Flowable]:
    rows = p.doc.review_results
    if not rows:
        return []
    head = [p.label(k) for k in ("rule", "outcome", "finding")]
    data = [
        [r.rule, r.outcome.name_en if p.en else r.outcome.name_zh, text(r.finding)] for r in rows
    ]
    colours = {
        (1, i): tint(_OUTCOME_COLOUR[r.outcome])
        for i, r in enumerate(rows, 1)
        if r.outcome in _OUTCOME_COLOUR
    }
    out: list[Flowable] = [p.heading("review")]
    pack = p.doc.rule_pack
    if pack is not None:
        out.append(para(p.st, p.label("rule_pack", id=pack.id, version=pack.version), p.st.small))
    widths = [56 * mm, 20 * mm, WIDTH - 76 * mm]
    return [*out, grid_table(p.st, head, data, widths, colours=colours)]


def _basis(p: _Page) -> list[Flowable]:
    rows = p.doc.legal_basis
    if not rows:
        return []
    st = p.st
    marker = p.label("unverified")
    cells = []
    for i, basis in enumerate(rows, start=1):
        cited = basis.document + (f" {basis.article}" if basis.article and p.en else basis.article)
        shown = escape(st.font.fit(cited))
        if not basis.verified:
            shown += f'<font color="{RED.hexval()}">{escape(st.font.fit(marker))}</font>'
        cells.append(
            [
                i,
                para(st, shown, st.cell, markup=True),
                p.label("verified" if basis.verified else "not_verified"),
            ]
        )
    colours = {(2, i): tint(RED) for i, b in enumerate(rows, 1) if not b.verified}
    head = [p.label(k) for k in ("no", "document", "checked")]
    out: list[Flowable] = [
        p.heading("basis"),
        grid_table(
            st, head, cells, [12 * mm, WIDTH - 34 * mm, 22 * mm], numeric=[0], colours=colours
        ),
    ]
    if not all(b.verified for b in rows):
        out.append(para(st, p.label("unverified_note"), st.small))
    return out


def _closing(p: _Page) -> list[Flowable]:
    doc = p.doc
    out: list[Flowable] = []
    if doc.notices:
        out += [p.heading("notices"), *_numbered(p, doc.notices)]
    right = ParagraphStyle("seal", parent=p.st.lead, alignment=2)
    seal = [
        Spacer(1, 12 * mm),
        para(p.st, p.label("seal", authority=text(doc.authority)), right),
        Spacer(1, 3 * mm),
        para(p.st, p.date(doc.issued_on), right),
    ]
    return [*out, KeepTogether(seal)]


def _footer(p: _Page) -> tuple[str, ...]:
    doc = p.doc
    first = [f"{p.title} {doc.serial}"]
    if doc.rule_pack is not None:
        first.append(p.label("rule_pack", id=doc.rule_pack.id, version=doc.rule_pack.version))
    if doc.generated_at is not None:
        first.append(p.label("generated", at=doc.generated_at.strftime("%Y-%m-%d %H:%M")))
    sep = "; " if p.en else "；"
    data = sep.join(f"{d.name} {d.version}".strip() for d in doc.data_versions) or MISSING
    return " · ".join(first), p.label("data", data=data)


def render_decision_pdf(
    doc: DecisionDocument, lang: str = "zh", *, font: PdfFont | None = None
) -> bytes:
    """The decision document as PDF bytes (A4 portrait; header, footer and page x of y on
    every page; the font embedded as a subset).

    Parameters
    ----------
    doc
        The decision (:class:`~guotu.io.decision_model.DecisionDocument`).
    lang
        ``"zh"`` or ``"en"``: the language of the labels; the document's own text (names,
        conditions, findings) is printed as given.
    font
        The font to embed; :func:`~guotu.io.fonts.find_cjk_font` when not given.

    Raises
    ------
    ConfigError
        ``lang`` is not one of :data:`LANGS`, or ``GUOTU_PDF_FONT`` names an unusable font.
    InputError
        The verification URL is too long for a QR code.
    EnvironmentSetupError
        No font with Chinese glyphs is installed.

    Examples
    --------
    >>> from guotu.io.decision_model import DecisionKind
    >>> doc = DecisionDocument(kind=DecisionKind.REFUSAL, serial="不予许字〔2026〕1号")
    >>> render_decision_pdf(doc, lang="fr")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    guotu.errors.ConfigError: Unknown language 'fr'. Fix: Use zh or en.
    """
    if lang not in LANGS:
        raise ConfigError(
            f"Unknown language {lang!r}.",
            fix="Use zh or en.",
            message_zh=f"不支持的语言“{lang}”。",
            fix_zh="请用 zh 或 en。",
        )
    font = font or find_cjk_font()
    # CJK wrapping in English too: names and conditions stay Chinese (Latin words stay whole)
    st = make_styles(font, cjk=True)
    page = _Page(doc, lang, st)
    story: list[Flowable] = _head(page)
    # the decision itself, sealed; then what it rests on: the map, opinions and review
    for section in (_facts, _decision, _planning, _as_built, _basis, _closing):
        story += section(page)
    for section in (_map, _opinions, _review):
        story += section(page)
    furniture = PageFurniture(
        title=page.title,
        right=doc.serial,
        footer=_footer(page),
        page_lead=page.label("page_lead"),
        page_total=page.label("page_total"),
    )
    return build_pdf(story, font, furniture, lang=lang, subject=doc.serial)


def write_decision_pdf(
    doc: DecisionDocument,
    target: str | Path | BinaryIO,
    lang: str = "zh",
    *,
    font: PdfFont | None = None,
) -> None:
    """Write the decision document as a PDF to ``target``: a file path (written whole or not
    at all, an existing file replaced) or a binary stream (written to, not closed).

    The bytes themselves come from :func:`render_decision_pdf`, for a caller that wants them.

    Raises
    ------
    ConfigError
        ``lang`` is unknown, ``target``'s folder does not exist, or ``GUOTU_PDF_FONT`` names
        an unusable font.
    InputError
        The verification URL is too long for a QR code, or the file cannot be replaced.
    EnvironmentSetupError
        No font with Chinese glyphs is installed (``apt-get install fonts-wqy-microhei``).

    Examples
    --------
    >>> from guotu.io.decision_model import DecisionKind
    >>> doc = DecisionDocument(kind=DecisionKind.LAND_USE_PERMIT, serial="地字第1号")
    >>> write_decision_pdf(doc, "/no/such/folder/许可证.pdf")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    guotu.errors.ConfigError: The folder of /no/such/folder/许可证.pdf does not exist. ...
    """
    if isinstance(target, str | Path):

        def write(tmp: Path) -> None:
            tmp.write_bytes(render_decision_pdf(doc, lang, font=font))

        write_atomic(Path(target), ("审批决定文书 PDF", "decision PDF"), write)
        logger.info("Wrote the decision %s to %s.", doc.serial, target)
    else:
        target.write(render_decision_pdf(doc, lang, font=font))
