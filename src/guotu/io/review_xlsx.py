"""The plan-review report as an Excel workbook: 概况 (the stamp and the counts), 问题清单 (one
row per finding, every scalar field), 规则 (each rule with its basis, count and whether it ran)
and, when there are any, 几何修复. Numbers stay numbers, with a number format.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from guotu.io.atomic_write import write_atomic
from guotu.io.review_document import data_versions, feature_label, stamp_rows, text
from guotu.io.review_labels import MISSING, label, relation_text, severity_text, unit_text
from guotu.io.review_model import ReportFinding, ReviewDocument
from guotu.io.review_summary import rule_rows

__all__ = ["write_review_xlsx"]

_HEADER_FONT = Font(bold=True)
_HEADER_FILL = PatternFill("solid", fgColor="DDE5F0")
_M2_FORMAT = "#,##0.00"
_HA_FORMAT = "#,##0.0000"
_SHARE_FORMAT = "0.00%"
_WRAP = Alignment(wrap_text=True, vertical="top")


def _cell_value(value: Any) -> Any:
    """A scalar as stored in a cell: numbers stay numbers, missing becomes ``—``."""
    if value is None or value == "":
        return MISSING
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return value if math.isfinite(value) else MISSING
    return str(value)


def _header(ws: Worksheet, row: int, labels: Sequence[str]) -> None:
    for col, name in enumerate(labels, start=1):
        cell = ws.cell(row=row, column=col, value=name)
        cell.font, cell.fill = _HEADER_FONT, _HEADER_FILL


def _widths(ws: Worksheet, widths: Sequence[float]) -> None:
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = width


def _put(
    ws: Worksheet,
    row: int,
    values: Sequence[Any],
    formats: Mapping[int, str | None] | None = None,
    wrap_from: int | None = None,
) -> int:
    """Write ``values`` into ``row`` (number formats by 1-based column, text wrapped from
    column ``wrap_from`` on) and return the next row. Rows are counted here, not with
    ``ws.max_row``, which scans every cell."""
    for col, value in enumerate(values, start=1):
        cell = ws.cell(row=row, column=col, value=value)
        fmt = (formats or {}).get(col)
        if fmt is not None:
            cell.number_format = fmt
        if wrap_from is not None and col >= wrap_from:
            cell.alignment = _WRAP
    return row + 1


def _overview_sheet(ws: Worksheet, doc: ReviewDocument) -> None:
    ws["A1"] = text(doc.title)
    ws["A1"].font = Font(bold=True, size=14)
    _header(ws, 3, [label(doc, "item"), label(doc, "value")])
    row = 4
    for key, value in stamp_rows(doc):
        row = _put(ws, row, [key, value])
    for layer, version in data_versions(doc):
        row = _put(ws, row, [f"{label(doc, 'data_versions')}：{layer}", version])
    _header(ws, row + 1, [label(doc, "severity"), label(doc, "count")])
    row += 2
    for sev, n in doc.severity_counts().items():
        row = _put(ws, row, [severity_text(doc, sev), n])
    row = _put(ws, row, [label(doc, "total"), len(doc.findings)])
    _header(
        ws,
        row + 1,
        [
            label(doc, "rule"),
            label(doc, "rule_title"),
            label(doc, "count"),
            label(doc, "area_m2"),
            label(doc, "area_ha"),
        ],
    )
    row += 2
    for r in rule_rows(doc):
        m2 = r.area_m2
        row = _put(
            ws,
            row,
            [
                _cell_value(r.id),
                _cell_value(r.title),
                r.count,
                _cell_value(m2),
                _cell_value(None if m2 is None else m2 / 1e4),
            ],
            {4: _M2_FORMAT, 5: _HA_FORMAT},
        )
    _widths(ws, (34, 60, 10, 16, 14))


_FINDING_COLUMNS: tuple[tuple[str, float, str | None], ...] = (
    # (label key, column width, number format)
    ("no", 6, None),
    ("rule", 30, None),
    ("severity", 9, None),
    ("rule_title", 30, None),
    ("layer", 10, None),
    ("feature_ids", 24, None),
    ("fids", 10, None),
    ("code", 10, None),
    ("code_name", 14, None),
    ("zone_layer", 10, None),
    ("zone", 18, None),
    ("relation", 10, None),
    ("area_m2", 14, _M2_FORMAT),
    ("area_ha", 12, _HA_FORMAT),
    ("share_of_feature", 12, _SHARE_FORMAT),
    ("share_of_zone", 12, _SHARE_FORMAT),
    ("measured", 12, None),
    ("limit", 12, None),
    ("unit", 8, None),
    ("message", 60, None),
    ("suggestion", 60, None),
    ("legal_basis", 40, None),
    ("repaired", 10, None),
)
_FINDING_FORMATS = {col: fmt for col, (_, _, fmt) in enumerate(_FINDING_COLUMNS, start=1)}
#: The long texts (message, suggestion, basis) wrap.
_FINDING_WRAP_FROM = 1 + [key for key, _, _ in _FINDING_COLUMNS].index("message")


def _finding_row(doc: ReviewDocument, no: int, f: ReportFinding) -> list[Any]:
    feats = f.features

    def joined(key: str) -> str:
        values = (getattr(x, key) for x in feats)
        return "；".join(str(v) for v in values if v not in (None, ""))

    return [
        no,
        _cell_value(f.rule),
        severity_text(doc, f.severity),
        _cell_value(f.title),
        _cell_value(joined("layer")),
        _cell_value("；".join(feature_label(x) for x in feats)),
        _cell_value(joined("fid")),
        _cell_value(joined("code")),
        _cell_value(joined("code_name")),
        _cell_value(None if f.zone is None else f.zone.layer),
        feature_label(f.zone) if f.zone is not None else MISSING,
        relation_text(doc, f.relation),
        _cell_value(f.area_m2),
        _cell_value(f.area_ha),
        _cell_value(f.share_of_feature),
        _cell_value(f.share_of_zone),
        _cell_value(f.measured),
        _cell_value(f.limit),
        _cell_value(unit_text(doc, f.unit)),
        _cell_value(f.message),
        _cell_value(f.suggestion),
        _cell_value(f.basis),
        label(doc, "yes") if f.is_repaired else label(doc, "no_"),
    ]


def _findings_sheet(ws: Worksheet, doc: ReviewDocument) -> None:
    _header(ws, 1, [label(doc, key) for key, _, _ in _FINDING_COLUMNS])
    row = 2
    for no, f in enumerate(doc.findings, start=1):
        row = _put(ws, row, _finding_row(doc, no, f), _FINDING_FORMATS, _FINDING_WRAP_FROM)
    _widths(ws, [w for _, w, _ in _FINDING_COLUMNS])
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(_FINDING_COLUMNS))}{max(row - 1, 1)}"


def _rules_sheet(ws: Worksheet, doc: ReviewDocument) -> None:
    _header(
        ws,
        1,
        [
            label(doc, "rule"),
            label(doc, "rule_title"),
            label(doc, "severity"),
            label(doc, "legal_basis"),
            label(doc, "count"),
            label(doc, "area_m2"),
            label(doc, "area_ha"),
            label(doc, "status"),
        ],
    )
    skipped = {s.rule: s.reason for s in doc.skipped}
    row = 2
    for r in rule_rows(doc):
        m2 = r.area_m2
        reason = skipped.pop(r.id, None)
        status = label(doc, "run") if reason is None else f"{label(doc, 'not_run')}：{reason}"
        row = _put(
            ws,
            row,
            [
                _cell_value(r.id),
                _cell_value(r.title),
                severity_text(doc, r.severity),
                _cell_value(r.basis),
                r.count,
                _cell_value(m2),
                _cell_value(None if m2 is None else m2 / 1e4),
                status,
            ],
            {6: _M2_FORMAT, 7: _HA_FORMAT},
            wrap_from=4,
        )
    for rule, reason in skipped.items():
        row = _put(
            ws,
            row,
            [
                rule,
                MISSING,
                MISSING,
                MISSING,
                0,
                MISSING,
                MISSING,
                f"{label(doc, 'not_run')}：{text(reason)}",
            ],
        )
    _widths(ws, (34, 40, 9, 60, 8, 14, 12, 30))
    ws.freeze_panes = "B2"


def _repairs_sheet(ws: Worksheet, doc: ReviewDocument) -> None:
    _header(
        ws,
        1,
        [
            label(doc, "layer"),
            label(doc, "feature"),
            label(doc, "reason"),
            label(doc, "area_before"),
            label(doc, "area_after"),
        ],
    )
    row = 2
    for r in doc.repairs:
        row = _put(
            ws,
            row,
            [
                _cell_value(r.layer),
                _cell_value(r.feature),
                _cell_value(r.reason),
                _cell_value(r.area_before_m2),
                _cell_value(r.area_after_m2),
            ],
            {4: _M2_FORMAT, 5: _M2_FORMAT},
        )
    _widths(ws, (12, 24, 50, 18, 18))


def write_review_xlsx(doc: ReviewDocument, path: Path) -> Path:
    """Write the report as a workbook: 概况 (stamp and summary), 问题清单 (one row per
    finding: every scalar field, areas in m² and 公顷, shares as percentages), 规则 (each
    rule with its basis, count and whether it ran) and, when there are any, 几何修复.

    Sheet names and headers are English when ``doc.lang == "en"``. Numbers stay numbers
    with a number format; missing values are ``—``.

    Parameters
    ----------
    doc
        The report document.
    path
        The file to write; its folder must exist. An existing file is replaced.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ConfigError
        The folder of ``path`` does not exist.
    """
    en = doc.is_english
    wb = Workbook()
    overview = wb.active
    assert overview is not None  # a new workbook always has one sheet
    overview.title = "Overview" if en else "概况"
    _overview_sheet(overview, doc)
    _findings_sheet(wb.create_sheet("Findings" if en else "问题清单"), doc)
    _rules_sheet(wb.create_sheet("Rules" if en else "规则"), doc)
    if doc.repairs:
        _repairs_sheet(wb.create_sheet("Repairs" if en else "几何修复"), doc)
    return write_atomic(Path(path), ("XLSX 报告", "XLSX report"), lambda tmp: wb.save(tmp))
