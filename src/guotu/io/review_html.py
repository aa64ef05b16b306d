"""The plan-review report as one self-contained HTML page.

Everything is inline: the CSS (with print rules: A4, one finding per page), and each
finding's map as an SVG (zone hatched green, feature outlined, conflict filled red, an
alternative route dashed blue, a scale bar in metres and a north arrow). The page
references no external file, font or script, so it opens on an offline intranet and can be
mailed as it is. Every text from the document is escaped.

The order is the PDF's: 审查意见 (conclusion, counts, the largest conflicts in 公顷 and 亩 and
what must be changed), overview, summary, rules and legal basis (rule ids only there), the
findings table (it fits an A4 page: ids and codes never break, long texts wrap) and the
details of each finding. The maps are drawn by :mod:`guotu.io.review_svg`.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from typing import Any

from guotu.domain.core.findings import SEVERITY_ORDER, Severity
from guotu.io.review_document import (
    area_mu,
    data_versions,
    feature_lines,
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
from guotu.io.review_summary import conclusion, main_findings, rule_basis_rows, rule_rows
from guotu.io.review_svg import render_svg_map

__all__ = ["render_review_html"]

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


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)


def _sev(doc: ReviewDocument, severity: Severity | str) -> str:
    cls = f"sev-{severity}" if severity in SEVERITY_ORDER else "sev-other"
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


def _ha_of_m2(area_m2: float | None) -> str:
    return format_area_ha(None if area_m2 is None else area_m2 / 1e4)


def _signatures(doc: ReviewDocument) -> str:
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


def _opinion(doc: ReviewDocument) -> str:
    verdict, sentence = conclusion(doc)
    colour = {"fail": "var(--error)", "revise": "var(--warning)", "pass": "var(--pass)"}[verdict]
    counts = doc.severity_counts()
    sevs = list(counts)
    total = len(doc.findings)
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
                        f"{_sev(doc, f.severity)} {_e(text(f.title))}",
                        _lines(feature_lines(f)),
                        _e(format_area_ha(f.area_ha)),
                        _e(format_area_mu(area_mu(f.area_m2))),
                        _e(text(f.suggestion)),
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


def _overview(doc: ReviewDocument) -> str:
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


def _summary(doc: ReviewDocument) -> str:
    counts = doc.severity_counts()
    total = len(doc.findings)
    sev_rows = [[_sev(doc, s), _e(n)] for s, n in counts.items()]
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
                        _e(text(r.title)),
                        _sev(doc, r.severity),
                        _e(r.count),
                        _e(format_area_m2(r.area_m2)),
                        _e(_ha_of_m2(r.area_m2)),
                        _e(format_area_mu(area_mu(r.area_m2))),
                    ]
                    for r in rule_rows(doc)
                ),
                numeric=[2, 3, 4, 5],
            ),
        ]
    )


def _basis(doc: ReviewDocument) -> str:
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
                    _e(text(r.title)),
                    _sev(doc, r.severity),
                    _e(text(r.basis)),
                    _lines(r.count_lines),
                    _rule_id(r.id),
                ]
                for r in rules
            ),
        ),
    ]
    if doc.skipped:
        titles = {r.id: text(r.title) for r in rules}
        out += [
            f"<h3>{_e(label(doc, 'skipped'))}</h3>",
            _table(
                [_e(label(doc, "rule_title")), _e(label(doc, "reason")), _e(label(doc, "rule_id"))],
                (
                    [
                        _e(titles.get(s.rule, MISSING)),
                        _e(text(s.reason)),
                        _rule_id(s.rule),
                    ]
                    for s in doc.skipped
                ),
            ),
        ]
    if doc.repairs:
        out += [
            f"<h3>{_e(label(doc, 'repairs'))}</h3>",
            _table(
                [
                    _e(label(doc, k))
                    for k in ("layer", "feature", "reason", "area_before", "area_after")
                ],
                (
                    [
                        _e(text(r.layer)),
                        _e(text(r.feature)),
                        _e(text(r.reason)),
                        _e(format_area_m2(r.area_before_m2)),
                        _e(format_area_m2(r.area_after_m2)),
                    ]
                    for r in doc.repairs
                ),
                numeric=[3, 4],
            ),
        ]
    return "".join(out)


def _list(doc: ReviewDocument) -> str:
    items = doc.findings
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
            _sev(doc, f.severity),
            _e(text(f.title)),
            _lines(feature_lines(f)),
            _lines(zone_lines(f)),
            _e(format_area_m2(f.area_m2)),
            _e(format_area_ha(f.area_ha)),
            _e(format_area_mu(area_mu(f.area_m2))),
            _e(format_share(f.share_of_feature)),
            _e(format_share(f.share_of_zone)),
            _e(limit_cell(doc, f)),
        ]
        for i, f in enumerate(items, start=1)
    )
    return "".join([*out, _table(head, rows, numeric=[0, 5, 6, 7, 8, 9], css="list")])


def _finding(doc: ReviewDocument, no: int, f: ReportFinding) -> str:
    areas = (
        MISSING
        if f.area_m2 is None
        else (
            f"{format_area_m2(f.area_m2)} m² = {format_area_ha(f.area_ha)} "
            f"{label(doc, 'area_ha_short')} = {format_area_mu(area_mu(f.area_m2))} "
            f"{label(doc, 'area_mu_short')}"
        )
    )
    facts = [
        (label(doc, "rule"), f"{_e(text(f.title))}（<code>{_e(text(f.rule))}</code>）"),
        (label(doc, "severity"), _sev(doc, f.severity)),
        (label(doc, "features"), _lines(feature_lines(f))),
        (label(doc, "zone"), _lines(zone_lines(f))),
        (label(doc, "relation"), _e(relation_text(doc, f.relation))),
        (label(doc, "area_m2").split("（")[0].split(" (")[0], _e(areas)),
        (label(doc, "share_of_feature"), _e(format_share(f.share_of_feature))),
        (label(doc, "share_of_zone"), _e(format_share(f.share_of_zone))),
        (label(doc, "measured"), _e(measure_text(doc, f, "measured"))),
        (label(doc, "limit"), _e(measure_text(doc, f, "limit"))),
        (label(doc, "legal_basis"), _e(text(f.basis))),
    ]
    if f.is_repaired:
        facts.append((label(doc, "repaired"), _e(label(doc, "yes"))))
    svg = render_svg_map(doc, f, key=str(no))
    figure = (
        f"<figure>{svg}<figcaption>{_e(label(doc, 'map'))}</figcaption></figure>"
        if svg
        else f'<p class="muted">{_e(label(doc, "no_map"))}</p>'
    )
    title = (
        f"{label(doc, 'finding')} {no}：{text(f.title)}"
        if not doc.is_english
        else f"{label(doc, 'finding')} {no}: {text(f.title)}"
    )
    return "".join(
        [
            f'<section class="finding" id="finding-{no}"><h3>{_e(title)}</h3>',
            f'<p class="message"><strong>{_e(label(doc, "message"))}：</strong>'
            f"{_e(text(f.message))}</p>",
            f'<p class="suggestion"><strong>{_e(label(doc, "suggestion"))}：</strong>'
            f"{_e(text(f.suggestion))}</p>",
            '<div class="body"><div class="facts">',
            _table(
                [_e(label(doc, "item")), _e(label(doc, "value"))],
                ([_e(k), v] for k, v in facts),
                css="kv",
            ),
            f"</div>{figure}</div></section>",
        ]
    )


def render_review_html(doc: ReviewDocument) -> str:
    """The whole report as one self-contained HTML page (a string).

    Examples
    --------
    >>> page = render_review_html(ReviewDocument(title="审查报告"))
    >>> "<h1>审查报告</h1>" in page and "未发现问题" in page and ">通过</div>" in page
    True
    """
    lang = "en" if doc.is_english else "zh-CN"
    title = text(doc.title)
    sep = ", " if doc.is_english else "，"
    meta = sep.join(
        f"{k} {v}"
        for k, v in (
            (label(doc, "kind"), kind_text(doc, doc.kind)),
            (label(doc, "as_of"), text(doc.stamp.as_of)),
        )
    )
    subject = label(doc, "subject").format(x=text(doc.source_label or doc.source))
    details = "".join(_finding(doc, i, f) for i, f in enumerate(doc.findings, start=1))
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
            f'<h2 id="details">{_e(label(doc, "details"))}</h2>' if doc.findings else "",
            details,
            "</body></html>\n",
        ]
    )
