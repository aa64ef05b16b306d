"""The plan-review report as a PDF a bureau can file (A4, reportlab, the CJK font embedded).

The content and order follow the HTML report: page 1 is the 审查意见 (the conclusion 通过 /
需修改 / 不通过, the counts by severity, the largest conflicts in 公顷 and 亩 with what must be
changed); then the overview and stamp, the summary by severity and by rule, the rules with
their legal basis (rule ids only there, as an appendix), the findings table, and one page per
finding with its message, suggestion, measures and a map drawn with
:mod:`reportlab.graphics`. Every page has a header (title, workspace) and a footer (rule pack
and version, date, data versions, page x of y); see :mod:`guotu.io.pdf_layout`.

The font is found by :func:`guotu.io.fonts.find_cjk_font` (``GUOTU_PDF_FONT``, then Debian's
``fonts-wqy-microhei`` …); without one, writing fails with
:class:`~guotu.errors.EnvironmentSetupError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    MISSING,
    SEVERITIES,
    area_ha,
    area_mu,
    data_versions,
    feature_lines,
    findings,
    footer_lines,
    format_area_ha,
    format_area_m2,
    format_area_mu,
    format_share,
    is_english,
    kind_text,
    label,
    limit_cell,
    measure_text,
    number,
    relation_text,
    severity_text,
    stamp_rows,
    text,
    zone_lines,
)
from guotu.io.review_map import MapFrame, MapLayer, map_layers, parts
from guotu.io.review_summary import (
    conclusion,
    main_findings,
    rule_basis_rows,
    rule_rows,
    severity_counts,
)

__all__ = ["render_map_drawing", "render_review_pdf", "subject_text"]

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


def _sev_colours(severities: Sequence[Any], col: int) -> dict[tuple[int, int], colors.Color]:
    """Light background colours for a severity column (row 0 is the header)."""
    return {
        (col, row): tint(_SEVERITY_COLOUR[str(sev)])
        for row, sev in enumerate(severities, start=1)
        if str(sev) in _SEVERITY_COLOUR
    }


def _m2_to_ha(value: Any) -> str:
    m2 = number(value)
    return format_area_ha(None if m2 is None else m2 / 1e4)


# -- page 1: 审查意见 ------------------------------------------------------------------------


def _verdict_box(doc: Mapping[str, Any], st: Styles) -> Table:
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


def subject_text(doc: Mapping[str, Any]) -> str:
    """What was reviewed, as the report names it (the plan and version, or the file)."""
    return text(doc.get("source_label") or doc.get("source"))


def _signatures(doc: Mapping[str, Any], st: Styles) -> Flowable:
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


def _opinion(doc: Mapping[str, Any], st: Styles) -> list[Flowable]:
    stamp = doc.get("stamp") or {}
    sep = ", " if is_english(doc) else "，"
    meta = sep.join(
        f"{k} {v}"
        for k, v in (
            (label(doc, "kind"), kind_text(doc, doc.get("kind"))),
            (label(doc, "as_of"), text(stamp.get("as_of"))),
        )
    )
    counts = severity_counts(doc)
    sevs = [*SEVERITIES, *sorted(set(counts) - set(SEVERITIES))]
    total = (doc.get("summary") or {}).get("total", len(findings(doc)))
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
        para(st, text(doc.get("title")), st.title),
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
                para(
                    st,
                    f"{text(f.get('title'))}（{severity_text(doc, f.get('severity'))}）",
                    st.cell,
                ),
                lines_cell(st, feature_lines(f), 33 * mm),
                format_area_ha(area_ha(f)),
                format_area_mu(area_mu(f.get("area_m2"))),
                text(f.get("suggestion")),
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
                colours=_sev_colours([f.get("severity") for _, f in chosen], 1),
            ),
        ]
        if more:
            out.append(para(st, label(doc, "more_findings").format(n=more), st.small))
    out += [Spacer(1, 4), _signatures(doc, st), PageBreak()]
    return out


# -- the other sections ----------------------------------------------------------------------


def _overview(doc: Mapping[str, Any], st: Styles) -> list[Flowable]:
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


def _summary(doc: Mapping[str, Any], st: Styles) -> list[Flowable]:
    counts = severity_counts(doc)
    sevs = [*SEVERITIES, *sorted(set(counts) - set(SEVERITIES))]
    total = (doc.get("summary") or {}).get("total", len(findings(doc)))
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
                    text(r["title"]),
                    severity_text(doc, r["severity"]),
                    r["count"],
                    format_area_m2(r["area_m2"]),
                    _m2_to_ha(r["area_m2"]),
                    format_area_mu(area_mu(r["area_m2"])),
                ]
                for r in rules
            ),
            [WIDTH - 116 * mm, 16 * mm, 16 * mm, 30 * mm, 28 * mm, 26 * mm],
            numeric=[2, 3, 4, 5],
            colours=_sev_colours([r["severity"] for r in rules], 1),
        ),
    ]


def _basis(doc: Mapping[str, Any], st: Styles) -> list[Flowable]:
    rules = rule_basis_rows(doc)
    out: list[Flowable] = [
        para(st, label(doc, "basis"), st.h2),
        grid_table(
            st,
            [label(doc, k) for k in ("rule_title", "severity", "legal_basis", "count", "rule_id")],
            (
                [
                    text(r["title"]),
                    severity_text(doc, r["severity"]),
                    text(r["basis"]),
                    lines_cell(st, r["count_lines"], 15 * mm),
                    text(r["id"]),
                ]
                for r in rules
            ),
            [44 * mm, 15.5 * mm, WIDTH - 128.5 * mm, 15 * mm, 54 * mm],
            colours=_sev_colours([r["severity"] for r in rules], 1),
        ),
    ]
    skipped = list(doc.get("skipped") or ())
    if skipped:
        titles = {str(r["id"]): text(r["title"]) for r in rules}
        out += [
            para(st, label(doc, "skipped"), st.h3),
            grid_table(
                st,
                [label(doc, "rule_title"), label(doc, "reason"), label(doc, "rule_id")],
                (
                    [
                        titles.get(str(s.get("rule")), MISSING),
                        text(s.get("reason")),
                        text(s.get("rule")),
                    ]
                    for s in skipped
                ),
                [50 * mm, WIDTH - 104 * mm, 54 * mm],
            ),
        ]
    repairs = list(doc.get("repairs") or ())
    if repairs:
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
                        text(r.get("layer")),
                        text(r.get("feature")),
                        text(r.get("reason")),
                        format_area_m2(r.get("area_before_m2")),
                        format_area_m2(r.get("area_after_m2")),
                    ]
                    for r in repairs
                ),
                [20 * mm, 36 * mm, WIDTH - 112 * mm, 28 * mm, 28 * mm],
                numeric=[3, 4],
            ),
        ]
    return out


def _list(doc: Mapping[str, Any], st: Styles) -> list[Flowable]:
    items = findings(doc)
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
            severity_text(doc, f.get("severity")),
            text(f.get("title")),
            lines_cell(st, feature_lines(f), 33 * mm),
            lines_cell(st, zone_lines(f), 27 * mm),
            format_area_m2(f.get("area_m2")),
            format_area_ha(area_ha(f)),
            format_area_mu(area_mu(f.get("area_m2"))),
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
            colours=_sev_colours([f.get("severity") for f in items], 1),
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


def _finding(doc: Mapping[str, Any], no: int, f: Mapping[str, Any], st: Styles) -> list[Flowable]:
    # a level-2 bookmark (under 问题详情) that looks like a section heading
    finding_title = ParagraphStyle("h3", parent=st.h2)
    sep = ": " if is_english(doc) else "："
    areas = (
        MISSING
        if number(f.get("area_m2")) is None
        else (
            f"{format_area_m2(f.get('area_m2'))} m² = {format_area_ha(area_ha(f))} "
            f"{label(doc, 'area_ha_short')} = {format_area_mu(area_mu(f.get('area_m2')))} "
            f"{label(doc, 'area_mu_short')}"
        )
    )
    facts: list[tuple[str, Any]] = [
        (label(doc, "rule"), f"{text(f.get('title'))}（{text(f.get('rule'))}）"),
        (label(doc, "severity"), severity_text(doc, f.get("severity"))),
        (label(doc, "features"), lines_cell(st, feature_lines(f), WIDTH - 36 * mm)),
        (label(doc, "zone"), lines_cell(st, zone_lines(f), WIDTH - 36 * mm)),
        (label(doc, "relation"), relation_text(doc, f.get("relation"))),
        (label(doc, "area_m2").split("（")[0].split(" (")[0], areas),
        (label(doc, "share_of_feature"), format_share(f.get("share_of_feature"))),
        (label(doc, "share_of_zone"), format_share(f.get("share_of_zone"))),
        (label(doc, "measured"), measure_text(doc, f, "measured")),
        (label(doc, "limit"), measure_text(doc, f, "limit")),
        (label(doc, "legal_basis"), text(f.get("basis"))),
    ]
    if f.get("repaired"):
        facts.append((label(doc, "repaired"), label(doc, "yes")))
    out: list[Flowable] = [
        PageBreak(),
        *([para(st, label(doc, "details"), st.h2)] if no == 1 else []),
        para(st, f"{label(doc, 'finding')} {no}{sep}{text(f.get('title'))}", finding_title),
        _boxed(
            st,
            para(
                st,
                f"<b>{escape(label(doc, 'message'))}{sep}</b>{escape(text(f.get('message')))}",
                markup=True,
            ),
            RED,
        ),
        Spacer(1, 4),
        _boxed(
            st,
            para(
                st,
                f"<b>{escape(label(doc, 'suggestion'))}{sep}</b>"
                f"{escape(text(f.get('suggestion')))}",
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


# -- maps ------------------------------------------------------------------------------------

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
    doc: Mapping[str, Any],
    finding: Mapping[str, Any],
    font: str,
    width: float = 300.0,
    height: float = 230.0,
) -> Drawing | None:
    """A finding's map as a reportlab drawing, or ``None`` without geometry.

    Below the map is a band with the legend on the left and the scale bar and north arrow
    on the right: they never cover what the map shows.

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


def render_review_pdf(doc: Mapping[str, Any], font: PdfFont | None = None) -> bytes:
    """The whole report as PDF bytes (A4; header, footer and page x of y on every page).

    Parameters
    ----------
    doc
        The report document (see :mod:`guotu.io.review_report`).
    font
        The font to embed; :func:`~guotu.io.fonts.find_cjk_font` when not given.

    Raises
    ------
    EnvironmentSetupError
        No font with Chinese glyphs is installed.
    ConfigError
        ``GUOTU_PDF_FONT`` names an unusable font.

    Examples
    --------
    >>> # render_review_pdf({"lang": "en", "title": "Review"})[:5] → b'%PDF-'
    """
    font = font or find_cjk_font()
    st = make_styles(font, cjk=not is_english(doc))
    furniture = PageFurniture(
        title=text(doc.get("title")),
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
    for no, f in enumerate(findings(doc), start=1):
        story += _finding(doc, no, f, st)
    return build_pdf(
        story, font, furniture, lang=str(doc.get("lang") or "zh"), subject=label(doc, "opinion")
    )
