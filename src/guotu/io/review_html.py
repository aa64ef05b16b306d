"""The plan-review report as one self-contained HTML page.

Everything is inline: the CSS (with print rules: A4, one finding per page), and each
finding's map as an SVG (zone hatched green, feature outlined, conflict filled red, an
alternative route dashed blue, a scale bar in metres and a north arrow). The page
references no external file, font or script, so it opens on an offline intranet and can be
mailed as it is. Every text from the document is escaped.

The order is the PDF's: 审查意见 (conclusion, counts, the largest conflicts in 公顷 and 亩 and
what must be changed), overview, summary, rules and legal basis (rule ids only there), the
findings table (it fits an A4 page: ids and codes never break, long texts wrap) and the
details of each finding.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from guotu.io.review_document import (
    MISSING,
    SEVERITIES,
    area_ha,
    area_mu,
    data_versions,
    feature_lines,
    findings,
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

__all__ = ["render_review_html", "render_svg_map"]

_CSS = """
:root { --error: #c0392b; --warning: #d68910; --info: #2e86c1; --pass: #2e7d32;
  --line: #c8ccd2; }
* { box-sizing: border-box; }
body { font-family: "Microsoft YaHei", "PingFang SC", "Noto Sans CJK SC", "Source Han Sans SC",
  "WenQuanYi Micro Hei", SimSun, sans-serif; color: #1d2329; margin: 0 auto; max-width: 1100px;
  padding: 24px; line-height: 1.55; font-size: 14px; }
h1 { font-size: 24px; border-bottom: 3px solid #1d4e89; padding-bottom: 6px; }
h2 { font-size: 19px; color: #1d4e89; margin-top: 28px; border-left: 5px solid #1d4e89;
  padding-left: 8px; }
h3 { font-size: 16px; margin: 18px 0 8px; }
table { border-collapse: collapse; width: 100%; margin: 8px 0 16px; }
th, td { border: 1px solid var(--line); padding: 4px 6px; vertical-align: top; text-align: left;
  overflow-wrap: anywhere; }
th { background: #eef2f7; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
table.kv th { width: 11em; }
table.list { font-size: 12.5px; }
table.list td, table.list th { padding: 3px 4px; }
table.sign { table-layout: fixed; } table.sign col.head { width: 7em; }
table.sign th { background: #eef2f7; } table.sign td { height: 2.6em; }
table.sign td.date { text-align: right; white-space: pre; }
.subject { font-size: 17px; margin: 0 0 4px; }
.nb { white-space: nowrap; overflow-wrap: normal; }
.sev { display: inline-block; padding: 0 6px; border-radius: 3px; color: #fff;
  font-size: 12px; white-space: nowrap; }
.sev-error { background: var(--error); } .sev-warning { background: var(--warning); }
.sev-info { background: var(--info); } .sev-other { background: #7f8c8d; }
.verdict { display: flex; gap: 18px; align-items: center; padding: 10px 14px;
  border-left: 6px solid var(--c); background: #f7f8fa; }
.verdict .word { font-size: 28px; font-weight: bold; color: var(--c); white-space: nowrap; }
.finding { border-top: 1px solid var(--line); padding-top: 6px; }
.finding .body { display: flex; gap: 18px; flex-wrap: wrap; }
.finding .facts { flex: 1 1 460px; }
.finding figure { flex: 0 0 auto; margin: 0; }
.finding figcaption { font-size: 12px; color: #555; }
.message { background: #fdf2f0; border-left: 4px solid var(--error); padding: 6px 10px; }
.suggestion { background: #eef7ee; border-left: 4px solid #2e7d32; padding: 6px 10px; }
.muted { color: #666; }
code { font-family: Consolas, "DejaVu Sans Mono", monospace; font-size: 11px; }
@page { size: A4; margin: 14mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 11pt; }
  table.list { font-size: 8pt; }
  a { color: inherit; text-decoration: none; }
  .finding { break-before: page; page-break-before: always; border-top: none; }
  table, figure, .message, .suggestion { break-inside: avoid; page-break-inside: avoid; }
  table.list { break-inside: auto; page-break-inside: auto; }
  h2, h3 { break-after: avoid; page-break-after: avoid; }
}
"""

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


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _sev(doc: Mapping[str, Any], severity: Any) -> str:
    cls = f"sev-{severity}" if severity in SEVERITIES else "sev-other"
    return f'<span class="sev {cls}">{_e(severity_text(doc, severity))}</span>'


def _lines(lines: Sequence[str]) -> str:
    """Short lines for one cell; each stays whole (an id never breaks mid-code)."""
    return "<br>".join(
        f'<span class="nb">{_e(line)}</span>' if " " not in line or line.isascii() else _e(line)
        for line in lines
    )


def _rule_id(rule: Any) -> str:
    """A rule id, kept on one line."""
    return f'<code class="nb">{_e(rule)}</code>' if rule else _e(MISSING)


def _table(
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    *,
    numeric: Iterable[int] = (),
    css: str = "",
) -> str:
    """A table; cells are already-escaped HTML; columns in ``numeric`` are right-aligned."""
    nums = set(numeric)
    out = [
        f'<table class="{css}">' if css else "<table>",
        "<thead><tr>",
        *(
            f'<th class="num">{h}</th>' if i in nums else f"<th>{h}</th>"
            for i, h in enumerate(head)
        ),
        "</tr></thead><tbody>",
    ]
    for row in rows:
        out.append(
            "<tr>"
            + "".join(
                f'<td class="num">{c}</td>' if i in nums else f"<td>{c}</td>"
                for i, c in enumerate(row)
            )
            + "</tr>"
        )
    out.append("</tbody></table>")
    return "".join(out)


def _ha_of_m2(area_m2: Any) -> str:
    m2 = number(area_m2)
    return format_area_ha(None if m2 is None else m2 / 1e4)


def _signatures(doc: Mapping[str, Any]) -> str:
    """The block signed by hand: 审查单位、审查人、审核人、签发、日期 with blank fields."""

    def th(key: str) -> str:
        return f"<th>{_e(label(doc, key))}</th>"

    return (
        f'<h3>{_e(label(doc, "signatures"))}</h3><table class="sign">'
        '<colgroup><col class="head"><col><col class="head"><col></colgroup>'
        f'<tr>{th("sign_unit")}<td colspan="3"></td></tr>'
        f"<tr>{th('sign_reviewer')}<td></td>{th('sign_checker')}<td></td></tr>"
        f"<tr>{th('sign_issuer')}<td></td>{th('sign_date')}"
        f'<td class="date">{_e(label(doc, "sign_date_blank"))}</td></tr></table>'
    )


def _opinion(doc: Mapping[str, Any]) -> str:
    verdict, sentence = conclusion(doc)
    colour = {"fail": "var(--error)", "revise": "var(--warning)", "pass": "var(--pass)"}[verdict]
    counts = severity_counts(doc)
    sevs = [*SEVERITIES, *sorted(set(counts) - set(SEVERITIES))]
    total = (doc.get("summary") or {}).get("total", len(findings(doc)))
    out = [
        f'<h2 id="opinion">{_e(label(doc, "opinion"))}</h2>',
        f'<div class="verdict" style="--c: {colour}"><div class="word">'
        f"{_e(label(doc, 'verdict_' + verdict))}</div><div><strong>"
        f"{_e(label(doc, 'conclusion'))}</strong><br>{_e(sentence)}</div></div>",
        _table(
            [*(_sev(doc, s) for s in sevs), _e(label(doc, "total"))],
            [[*(_e(counts.get(s, 0)) for s in sevs), _e(total)]],
            numeric=range(len(sevs) + 1),
        ),
    ]
    chosen, more = main_findings(doc)
    if chosen:
        out += [
            f"<h3>{_e(label(doc, 'main_findings'))}</h3>",
            _table(
                [
                    _e(label(doc, k))
                    for k in ("finding_no", "issue", "feature_col", "area_ha", "area_mu", "changes")
                ],
                (
                    [
                        f'<a href="#finding-{no}">{no}</a>',
                        f"{_sev(doc, f.get('severity'))} {_e(text(f.get('title')))}",
                        _lines(feature_lines(f)),
                        _e(format_area_ha(area_ha(f))),
                        _e(format_area_mu(area_mu(f.get("area_m2")))),
                        _e(text(f.get("suggestion"))),
                    ]
                    for no, f in chosen
                ),
                numeric=[0, 3, 4],
            ),
        ]
        if more:
            out.append(f'<p class="muted">{_e(label(doc, "more_findings").format(n=more))}</p>')
    out.append(_signatures(doc))
    return "".join(out)


def _overview(doc: Mapping[str, Any]) -> str:
    rows = [
        [_e(k), f"<code>{_e(v)}</code>" if k == label(doc, "rule_pack_hash") else _e(v)]
        for k, v in stamp_rows(doc)
    ]
    out = [
        f'<h2 id="overview">{_e(label(doc, "overview"))}</h2>',
        _table([_e(label(doc, "item")), _e(label(doc, "value"))], rows, css="kv"),
    ]
    versions = data_versions(doc)
    if versions:
        out += [
            f"<h3>{_e(label(doc, 'data_versions'))}</h3>",
            _table(
                [_e(label(doc, "data_layer")), _e(label(doc, "data_version"))],
                ([_e(a), _e(b)] for a, b in versions),
            ),
        ]
    return "".join(out)


def _summary(doc: Mapping[str, Any]) -> str:
    counts = severity_counts(doc)
    total = (doc.get("summary") or {}).get("total", len(findings(doc)))
    sev_rows = [
        [_sev(doc, s), _e(counts.get(s, 0))]
        for s in [*SEVERITIES, *sorted(set(counts) - set(SEVERITIES))]
    ]
    sev_rows.append([f"<strong>{_e(label(doc, 'total'))}</strong>", _e(total)])
    return "".join(
        [
            f'<h2 id="summary">{_e(label(doc, "summary"))}</h2>',
            f"<h3>{_e(label(doc, 'by_severity'))}</h3>",
            _table([_e(label(doc, "severity")), _e(label(doc, "count"))], sev_rows, numeric=[1]),
            f"<h3>{_e(label(doc, 'by_rule'))}</h3>",
            _table(
                [
                    _e(label(doc, k))
                    for k in ("rule_title", "severity", "count", "area_m2", "area_ha", "area_mu")
                ],
                (
                    [
                        _e(text(r["title"])),
                        _sev(doc, r["severity"]),
                        _e(r["count"]),
                        _e(format_area_m2(r["area_m2"])),
                        _e(_ha_of_m2(r["area_m2"])),
                        _e(format_area_mu(area_mu(r["area_m2"]))),
                    ]
                    for r in rule_rows(doc)
                ),
                numeric=[2, 3, 4, 5],
            ),
        ]
    )


def _basis(doc: Mapping[str, Any]) -> str:
    rules = rule_basis_rows(doc)
    out = [
        f'<h2 id="basis">{_e(label(doc, "basis"))}</h2>',
        _table(
            [
                _e(label(doc, k))
                for k in ("rule_title", "severity", "legal_basis", "count", "rule_id")
            ],
            (
                [
                    _e(text(r["title"])),
                    _sev(doc, r["severity"]),
                    _e(text(r["basis"])),
                    _lines(r["count_lines"]),
                    _rule_id(r["id"]),
                ]
                for r in rules
            ),
        ),
    ]
    skipped = list(doc.get("skipped") or ())
    if skipped:
        titles = {str(r["id"]): text(r["title"]) for r in rules}
        out += [
            f"<h3>{_e(label(doc, 'skipped'))}</h3>",
            _table(
                [_e(label(doc, "rule_title")), _e(label(doc, "reason")), _e(label(doc, "rule_id"))],
                (
                    [
                        _e(titles.get(str(s.get("rule")), MISSING)),
                        _e(text(s.get("reason"))),
                        _rule_id(s.get("rule")),
                    ]
                    for s in skipped
                ),
            ),
        ]
    repairs = list(doc.get("repairs") or ())
    if repairs:
        out += [
            f"<h3>{_e(label(doc, 'repairs'))}</h3>",
            _table(
                [
                    _e(label(doc, k))
                    for k in ("layer", "feature", "reason", "area_before", "area_after")
                ],
                (
                    [
                        _e(text(r.get("layer"))),
                        _e(text(r.get("feature"))),
                        _e(text(r.get("reason"))),
                        _e(format_area_m2(r.get("area_before_m2"))),
                        _e(format_area_m2(r.get("area_after_m2"))),
                    ]
                    for r in repairs
                ),
                numeric=[3, 4],
            ),
        ]
    return "".join(out)


def _list(doc: Mapping[str, Any]) -> str:
    items = findings(doc)
    out = [f'<h2 id="findings">{_e(label(doc, "list"))}</h2>']
    if not items:
        return "".join([*out, f"<p>{_e(label(doc, 'no_findings'))}</p>"])
    head = [
        _e(label(doc, k))
        for k in (
            "no",
            "severity",
            "issue",
            "feature_col",
            "zone",
            "area_m2_short",
            "area_ha_short",
            "area_mu_short",
            "share_short",
            "zone_share_short",
            "measure_limit",
        )
    ]
    rows = (
        [
            f'<a href="#finding-{i}">{i}</a>',
            _sev(doc, f.get("severity")),
            _e(text(f.get("title"))),
            _lines(feature_lines(f)),
            _lines(zone_lines(f)),
            _e(format_area_m2(f.get("area_m2"))),
            _e(format_area_ha(area_ha(f))),
            _e(format_area_mu(area_mu(f.get("area_m2")))),
            _e(format_share(f.get("share_of_feature"))),
            _e(format_share(f.get("share_of_zone"))),
            _e(limit_cell(doc, f)),
        ]
        for i, f in enumerate(items, start=1)
    )
    return "".join([*out, _table(head, rows, numeric=[0, 5, 6, 7, 8, 9], css="list")])


def _finding(doc: Mapping[str, Any], no: int, f: Mapping[str, Any]) -> str:
    areas = (
        MISSING
        if number(f.get("area_m2")) is None
        else (
            f"{format_area_m2(f.get('area_m2'))} m² = {format_area_ha(area_ha(f))} "
            f"{label(doc, 'area_ha_short')} = {format_area_mu(area_mu(f.get('area_m2')))} "
            f"{label(doc, 'area_mu_short')}"
        )
    )
    facts = [
        (
            label(doc, "rule"),
            f"{_e(text(f.get('title')))}（<code>{_e(text(f.get('rule')))}</code>）",
        ),
        (label(doc, "severity"), _sev(doc, f.get("severity"))),
        (label(doc, "features"), _lines(feature_lines(f))),
        (label(doc, "zone"), _lines(zone_lines(f))),
        (label(doc, "relation"), _e(relation_text(doc, f.get("relation")))),
        (label(doc, "area_m2").split("（")[0].split(" (")[0], _e(areas)),
        (label(doc, "share_of_feature"), _e(format_share(f.get("share_of_feature")))),
        (label(doc, "share_of_zone"), _e(format_share(f.get("share_of_zone")))),
        (label(doc, "measured"), _e(measure_text(doc, f, "measured"))),
        (label(doc, "limit"), _e(measure_text(doc, f, "limit"))),
        (label(doc, "legal_basis"), _e(text(f.get("basis")))),
    ]
    if f.get("repaired"):
        facts.append((label(doc, "repaired"), _e(label(doc, "yes"))))
    svg = render_svg_map(doc, f, key=str(no))
    figure = (
        f"<figure>{svg}<figcaption>{_e(label(doc, 'map'))}</figcaption></figure>"
        if svg
        else f'<p class="muted">{_e(label(doc, "no_map"))}</p>'
    )
    title = (
        f"{label(doc, 'finding')} {no}：{text(f.get('title'))}"
        if not is_english(doc)
        else f"{label(doc, 'finding')} {no}: {text(f.get('title'))}"
    )
    return "".join(
        [
            f'<section class="finding" id="finding-{no}"><h3>{_e(title)}</h3>',
            f'<p class="message"><strong>{_e(label(doc, "message"))}：</strong>'
            f"{_e(text(f.get('message')))}</p>",
            f'<p class="suggestion"><strong>{_e(label(doc, "suggestion"))}：</strong>'
            f"{_e(text(f.get('suggestion')))}</p>",
            '<div class="body"><div class="facts">',
            _table(
                [_e(label(doc, "item")), _e(label(doc, "value"))],
                ([_e(k), v] for k, v in facts),
                css="kv",
            ),
            f"</div>{figure}</div></section>",
        ]
    )


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
    doc: Mapping[str, Any],
    finding: Mapping[str, Any],
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
    >>> f = {"geometry": {"type": "Polygon",
    ...      "coordinates": [[[0, 0], [50, 0], [50, 50], [0, 50], [0, 0]]]}}
    >>> svg = render_svg_map({"lang": "zh"}, f)
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


def render_review_html(doc: Mapping[str, Any]) -> str:
    """The whole report as one self-contained HTML page (a string).

    Examples
    --------
    >>> page = render_review_html({"lang": "zh", "title": "审查报告", "findings": []})
    >>> "<h1>审查报告</h1>" in page and "未发现问题" in page and ">通过</div>" in page
    True
    """
    lang = "en" if is_english(doc) else "zh-CN"
    title = text(doc.get("title"))
    stamp = doc.get("stamp") or {}
    sep = ", " if is_english(doc) else "，"
    meta = sep.join(
        f"{k} {v}"
        for k, v in (
            (label(doc, "kind"), kind_text(doc, doc.get("kind"))),
            (label(doc, "as_of"), text(stamp.get("as_of"))),
        )
    )
    subject = label(doc, "subject").format(x=text(doc.get("source_label") or doc.get("source")))
    details = "".join(_finding(doc, i, f) for i, f in enumerate(findings(doc), start=1))
    nav = " · ".join(
        f'<a href="#{anchor}">{_e(label(doc, key))}</a>'
        for anchor, key in (
            ("opinion", "opinion"),
            ("overview", "overview"),
            ("summary", "summary"),
            ("basis", "basis"),
            ("findings", "list"),
            ("details", "details"),
        )
    )
    return "".join(
        [
            f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>",
            f'<h1>{_e(title)}</h1><p class="subject">{_e(subject)}</p>'
            f'<p class="muted">{_e(meta)}</p><nav>{nav}</nav>',
            _opinion(doc),
            _overview(doc),
            _summary(doc),
            _basis(doc),
            _list(doc),
            f'<h2 id="details">{_e(label(doc, "details"))}</h2>' if findings(doc) else "",
            details,
            "</body></html>\n",
        ]
    )
