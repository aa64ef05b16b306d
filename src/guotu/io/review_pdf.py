"""The plan-review report as a PDF a bureau can file (A4, reportlab, the CJK font embedded).

The content and order follow the HTML report: page 1 is the 审查意见 (the conclusion 通过 /
需修改 / 不通过, the counts by severity, the largest conflicts in 公顷 and 亩 with what must be
changed); then the overview and stamp, the summary by severity and by rule, the rules with
their legal basis (rule ids only there, as an appendix), the findings table, and one page per
finding with its message, suggestion, measures and a map (:mod:`guotu.io.review_pdf_map`). Every page has a header (title, workspace) and a footer (rule pack
and version, date, data versions, page x of y); see :mod:`guotu.io.pdf_layout`.

The font is found by :func:`guotu.io.fonts.find_cjk_font` (``GUOTU_PDF_FONT``, then Debian's
``fonts-wqy-microhei`` …); without one, writing fails with
:class:`~guotu.errors.EnvironmentSetupError`.
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import (
    Flowable,
    KeepTogether,
    PageBreak,
    Paragraph,
    Spacer,
    Table,
)

from guotu.domain.core.findings import Severity
from guotu.io.fonts import PdfFont, find_cjk_font
from guotu.io.pdf_layout import (
    GREEN,
    HEAD,
    LINE,
    RED,
    WIDTH,
    PageFurniture,
    Styles,
    box_style,
    build_pdf,
    grid_table,
    lines_cell,
    make_styles,
    para,
    tint,
)
from guotu.io.review_document import (
    area_mu,
    data_versions,
    feature_lines,
    footer_lines,
    format_area_ha,
    format_area_m2,
    format_area_mu,
    format_share,
    limit_cell,
    measure_text,
    stamp_rows,
    text,
    zone_lines,
)
from guotu.io.review_labels import MISSING, kind_text, label, relation_text, severity_text
from guotu.io.review_model import ReportFinding, ReviewDocument
from guotu.io.review_pdf_map import render_map_drawing
from guotu.io.review_summary import conclusion, main_findings, rule_basis_rows, rule_rows

__all__ = ["render_review_pdf", "subject_text"]

_SEVERITY_COLOUR = {
    "error": colors.HexColor("#c0392b"),
    "warning": colors.HexColor("#d68910"),
    "info": colors.HexColor("#2e86c1"),
}
_VERDICT_COLOUR = {
    "fail": _SEVERITY_COLOUR["error"],
    "revise": _SEVERITY_COLOUR["warning"],
    "pass": GREEN,
}


def _sev_colours(
    severities: Sequence[Severity | str], col: int
) -> dict[tuple[int, int], colors.Color]:
    """Light background colours for a severity column (row 0 is the header)."""
    return {
        (col, row): tint(_SEVERITY_COLOUR[str(sev)])
        for row, sev in enumerate(severities, start=1)
        if str(sev) in _SEVERITY_COLOUR
    }


def _m2_to_ha(area_m2: float | None) -> str:
    return format_area_ha(None if area_m2 is None else area_m2 / 1e4)


# -- page 1: 审查意见 ------------------------------------------------------------------------


def _verdict_box(doc: ReviewDocument, st: Styles) -> Table:
    verdict, sentence = conclusion(doc)
    colour = _VERDICT_COLOUR[verdict]
    word = para(
        st,
        f'<font size="18" color="{colour.hexval()}">'
        f"{escape(label(doc, 'verdict_' + verdict))}</font>",
        ParagraphStyle("verdict", parent=st.body, leading=22),
        markup=True,
    )
    said = para(
        st,
        f"<b>{escape(label(doc, 'conclusion'))}</b><br/>{escape(sentence)}",
        st.lead,
        markup=True,
    )
    box = Table([[word, said]], colWidths=[46 * mm, WIDTH - 46 * mm])
    box.setStyle(
        box_style(
            st,
            [
                ("BACKGROUND", (0, 0), (-1, -1), tint(colour, 0.08)),
                ("LINEBEFORE", (0, 0), (0, -1), 4, colour),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 8),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 8),
            ],
        )
    )
    return box


def subject_text(doc: ReviewDocument) -> str:
    """What was reviewed, as the report names it (the plan and version, or the file)."""
    return text(doc.source_label or doc.source)


def _signatures(doc: ReviewDocument, st: Styles) -> Flowable:
    """The block signed by hand on page 1: 审查单位、审查人、审核人、签发、日期 with blank
    fields."""
    blank = ""
    rows = [
        [label(doc, "sign_unit"), blank, blank, blank],
        [label(doc, "sign_reviewer"), blank, label(doc, "sign_checker"), blank],
        [label(doc, "sign_issuer"), blank, label(doc, "sign_date"), label(doc, "sign_date_blank")],
    ]
    cells = [[para(st, c, st.body) for c in row] for row in rows]
    # the font has no ideographic space: the blanks of 年　月　日 are kept as no-break spaces
    cells[2][3] = para(st, escape(rows[2][3]).replace("　", "&nbsp;" * 4), st.body, markup=True)
    side = 24 * mm
    table = Table(
        cells,
        colWidths=[side, WIDTH / 2 - side, side, WIDTH / 2 - side],
        rowHeights=[11 * mm] * len(rows),
    )
    table.setStyle(
        box_style(
            st,
            [
                ("GRID", (0, 0), (-1, -1), 0.5, LINE),
                ("SPAN", (1, 0), (3, 0)),
                ("BACKGROUND", (0, 0), (0, -1), HEAD),
                ("BACKGROUND", (2, 1), (2, -1), HEAD),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("ALIGN", (3, 2), (3, 2), "RIGHT"),
            ],
        )
    )
    return KeepTogether([para(st, label(doc, "signatures"), st.h3), table])


def _opinion(doc: ReviewDocument, st: Styles) -> list[Flowable]:
    sep = ", " if doc.is_english else "，"
    meta = sep.join(
        f"{k} {v}"
        for k, v in (
            (label(doc, "kind"), kind_text(doc, doc.kind)),
            (label(doc, "as_of"), text(doc.stamp.as_of)),
        )
    )
    counts = doc.severity_counts()
    sevs = list(counts)
    total = len(doc.findings)
    count_table = grid_table(
        st,
        [*(severity_text(doc, s) for s in sevs), label(doc, "total")],
        [[*(counts.get(s, 0) for s in sevs), total]],
        [WIDTH / (len(sevs) + 1)] * (len(sevs) + 1),
        colours={
            (i, 0): tint(_SEVERITY_COLOUR[s]) for i, s in enumerate(sevs) if s in _SEVERITY_COLOUR
        },
        style=ParagraphStyle("count", parent=st.body, alignment=1, fontSize=11, leading=15),
    )
    out: list[Flowable] = [
        para(st, text(doc.title), st.title),
        para(st, label(doc, "subject").format(x=subject_text(doc)), st.lead),
        para(st, meta, st.small),
        para(st, label(doc, "opinion"), st.h2),
        _verdict_box(doc, st),
        Spacer(1, 6),
        count_table,
    ]
    chosen, more = main_findings(doc)
    if chosen:
        rows = [
            [
                no,
                para(st, f"{text(f.title)}（{severity_text(doc, f.severity)}）", st.cell),
                lines_cell(st, feature_lines(f), 33 * mm),
                format_area_ha(f.area_ha),
                format_area_mu(area_mu(f.area_m2)),
                text(f.suggestion),
            ]
            for no, f in chosen
        ]
        out += [
            para(st, label(doc, "main_findings"), st.h3),
            grid_table(
                st,
                [
                    label(doc, k)
                    for k in ("finding_no", "issue", "feature_col", "area_ha", "area_mu", "changes")
                ],
                rows,
                [15 * mm, 34 * mm, 33 * mm, 17 * mm, 15 * mm, WIDTH - 114 * mm],
                numeric=[0, 3, 4],
                colours=_sev_colours([f.severity for _, f in chosen], 1),
            ),
        ]
        if more:
            out.append(para(st, label(doc, "more_findings").format(n=more), st.small))
    out += [Spacer(1, 4), _signatures(doc, st), PageBreak()]
    return out


# -- the other sections ----------------------------------------------------------------------


def _overview(doc: ReviewDocument, st: Styles) -> list[Flowable]:
    out: list[Flowable] = [
        para(st, label(doc, "overview"), st.h2),
        grid_table(
            st,
            [label(doc, "item"), label(doc, "value")],
            stamp_rows(doc),
            [36 * mm, WIDTH - 36 * mm],
        ),
    ]
    versions = data_versions(doc)
    if versions:
        out += [
            para(st, label(doc, "data_versions"), st.h3),
            grid_table(
                st,
                [label(doc, "data_layer"), label(doc, "data_version")],
                versions,
                [50 * mm, WIDTH - 50 * mm],
            ),
        ]
    return out


def _summary(doc: ReviewDocument, st: Styles) -> list[Flowable]:
    counts = doc.severity_counts()
    sevs = list(counts)
    total = len(doc.findings)
    rules = rule_rows(doc)
    return [
        para(st, label(doc, "summary"), st.h2),
        para(st, label(doc, "by_severity"), st.h3),
        grid_table(
            st,
            [label(doc, "severity"), label(doc, "count")],
            [
                *([severity_text(doc, s), counts.get(s, 0)] for s in sevs),
                [label(doc, "total"), total],
            ],
            [40 * mm, 30 * mm],
            numeric=[1],
            colours=_sev_colours(sevs, 0),
        ),
        para(st, label(doc, "by_rule"), st.h3),
        grid_table(
            st,
            [
                label(doc, k)
                for k in ("rule_title", "severity", "count", "area_m2", "area_ha", "area_mu")
            ],
            (
                [
                    text(r.title),
                    severity_text(doc, r.severity),
                    r.count,
                    format_area_m2(r.area_m2),
                    _m2_to_ha(r.area_m2),
                    format_area_mu(area_mu(r.area_m2)),
                ]
                for r in rules
            ),
            [WIDTH - 116 * mm, 16 * mm, 16 * mm, 30 * mm, 28 * mm, 26 * mm],
            numeric=[2, 3, 4, 5],
            colours=_sev_colours([r.severity for r in rules], 1),
        ),
    ]


def _basis(doc: ReviewDocument, st: Styles) -> list[Flowable]:
    rules = rule_basis_rows(doc)
    out: list[Flowable] = [
        para(st, label(doc, "basis"), st.h2),
        grid_table(
            st,
            [label(doc, k) for k in ("rule_title", "severity", "legal_basis", "count", "rule_id")],
            (
                [
                    text(r.title),
                    severity_text(doc, r.severity),
                    text(r.basis),
                    lines_cell(st, list(r.count_lines), 15 * mm),
                    text(r.id),
                ]
                for r in rules
            ),
            [44 * mm, 15.5 * mm, WIDTH - 128.5 * mm, 15 * mm, 54 * mm],
            colours=_sev_colours([r.severity for r in rules], 1),
        ),
    ]
    if doc.skipped:
        titles = {r.id: text(r.title) for r in rules}
        out += [
            para(st, label(doc, "skipped"), st.h3),
            grid_table(
                st,
                [label(doc, "rule_title"), label(doc, "reason"), label(doc, "rule_id")],
                ([titles.get(s.rule, MISSING), text(s.reason), text(s.rule)] for s in doc.skipped),
                [50 * mm, WIDTH - 104 * mm, 54 * mm],
            ),
        ]
    if doc.repairs:
        out += [
            para(st, label(doc, "repairs"), st.h3),
            grid_table(
                st,
                [
                    label(doc, k)
                    for k in ("layer", "feature", "reason", "area_before", "area_after")
                ],
                (
                    [
                        text(r.layer),
                        text(r.feature),
                        text(r.reason),
                        format_area_m2(r.area_before_m2),
                        format_area_m2(r.area_after_m2),
                    ]
                    for r in doc.repairs
                ),
                [20 * mm, 36 * mm, WIDTH - 112 * mm, 28 * mm, 28 * mm],
                numeric=[3, 4],
            ),
        ]
    return out


def _list(doc: ReviewDocument, st: Styles) -> list[Flowable]:
    items = doc.findings
    out: list[Flowable] = [para(st, label(doc, "list"), st.h2)]
    if not items:
        return [*out, para(st, label(doc, "no_findings"))]
    head = [
        label(doc, k)
        for k in (
            "no",
            "severity",
            "issue",
            "feature_col",
            "zone",
            "area_m2_short",
            "area_ha_short",
            "area_mu_short",
            "measure_limit",
        )
    ]
    rows = (
        [
            i,
            severity_text(doc, f.severity),
            text(f.title),
            lines_cell(st, feature_lines(f), 33 * mm),
            lines_cell(st, zone_lines(f), 27 * mm),
            format_area_m2(f.area_m2),
            format_area_ha(f.area_ha),
            format_area_mu(area_mu(f.area_m2)),
            limit_cell(doc, f),
        ]
        for i, f in enumerate(items, start=1)
    )
    widths = [9.5 * mm, 14.5 * mm, 27 * mm, 33 * mm, 27 * mm, 18 * mm, 14 * mm, 13 * mm]
    widths.append(WIDTH - sum(widths))
    return [
        *out,
        grid_table(
            st,
            head,
            rows,
            widths,
            numeric=[0, 5, 6, 7],
            colours=_sev_colours([f.severity for f in items], 1),
        ),
    ]


def _boxed(st: Styles, content: Paragraph, colour: colors.Color) -> Table:
    table = Table([[content]], colWidths=[WIDTH])
    table.setStyle(
        box_style(
            st,
            [
                ("BACKGROUND", (0, 0), (-1, -1), tint(colour, 0.08)),
                ("LINEBEFORE", (0, 0), (0, -1), 3, colour),
            ],
        )
    )
    return table


def _finding(doc: ReviewDocument, no: int, f: ReportFinding, st: Styles) -> list[Flowable]:
    # a level-2 bookmark (under 问题详情) that looks like a section heading
    finding_title = ParagraphStyle("h3", parent=st.h2)
    sep = ": " if doc.is_english else "："
    areas = (
        MISSING
        if f.area_m2 is None
        else (
            f"{format_area_m2(f.area_m2)} m² = {format_area_ha(f.area_ha)} "
            f"{label(doc, 'area_ha_short')} = {format_area_mu(area_mu(f.area_m2))} "
            f"{label(doc, 'area_mu_short')}"
        )
    )
    facts: list[tuple[str, str | Flowable]] = [
        (label(doc, "rule"), f"{text(f.title)}（{text(f.rule)}）"),
        (label(doc, "severity"), severity_text(doc, f.severity)),
        (label(doc, "features"), lines_cell(st, feature_lines(f), WIDTH - 36 * mm)),
        (label(doc, "zone"), lines_cell(st, zone_lines(f), WIDTH - 36 * mm)),
        (label(doc, "relation"), relation_text(doc, f.relation)),
        (label(doc, "area_m2").split("（")[0].split(" (")[0], areas),
        (label(doc, "share_of_feature"), format_share(f.share_of_feature)),
        (label(doc, "share_of_zone"), format_share(f.share_of_zone)),
        (label(doc, "measured"), measure_text(doc, f, "measured")),
        (label(doc, "limit"), measure_text(doc, f, "limit")),
        (label(doc, "legal_basis"), text(f.basis)),
    ]
    if f.is_repaired:
        facts.append((label(doc, "repaired"), label(doc, "yes")))
    out: list[Flowable] = [
        PageBreak(),
        *([para(st, label(doc, "details"), st.h2)] if no == 1 else []),
        para(st, f"{label(doc, 'finding')} {no}{sep}{text(f.title)}", finding_title),
        _boxed(
            st,
            para(
                st,
                f"<b>{escape(label(doc, 'message'))}{sep}</b>{escape(text(f.message))}",
                markup=True,
            ),
            RED,
        ),
        Spacer(1, 4),
        _boxed(
            st,
            para(
                st,
                f"<b>{escape(label(doc, 'suggestion'))}{sep}</b>{escape(text(f.suggestion))}",
                markup=True,
            ),
            GREEN,
        ),
        Spacer(1, 6),
        grid_table(
            st, [label(doc, "item"), label(doc, "value")], facts, [36 * mm, WIDTH - 36 * mm]
        ),
        Spacer(1, 6),
    ]
    drawing = render_map_drawing(doc, f, st.font.name)
    if drawing is None:
        out.append(para(st, label(doc, "no_map"), st.small))
    else:
        out.append(KeepTogether([para(st, label(doc, "map"), st.h3), drawing]))
    return out


def render_review_pdf(doc: ReviewDocument, font: PdfFont | None = None) -> bytes:
    """The whole report as PDF bytes (A4; header, footer and page x of y on every page).

    Parameters
    ----------
    doc
        The report document (:class:`~guotu.io.review_model.ReviewDocument`).
    font
        The font to embed; :func:`~guotu.io.fonts.find_cjk_font` when not given.

    Raises
    ------
    EnvironmentSetupError
        No font with Chinese glyphs is installed.
    ConfigError
        ``GUOTU_PDF_FONT`` names an unusable font.
    """
    font = font or find_cjk_font()
    st = make_styles(font, cjk=not doc.is_english)
    furniture = PageFurniture(
        title=text(doc.title),
        right=subject_text(doc),
        footer=footer_lines(doc),
        page_lead=label(doc, "page_lead"),
        page_total=label(doc, "page_total"),
    )
    story = [
        *_opinion(doc, st),
        *_overview(doc, st),
        *_summary(doc, st),
        *_basis(doc, st),
        *_list(doc, st),
    ]
    for no, f in enumerate(doc.findings, start=1):
        story += _finding(doc, no, f, st)
    return build_pdf(story, font, furniture, lang=doc.lang, subject=label(doc, "opinion"))
