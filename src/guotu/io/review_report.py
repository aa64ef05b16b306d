"""Writing the plan-review report (成果审查报告): HTML, PDF, XLSX and a GeoPackage.

Every writer takes the *report document*: a plain JSON-ready dict built by the review
engine, with all text already in the chosen language (``doc["lang"]``, ``"zh"`` or ``"en"``)
and every geometry a GeoJSON dict in the workspace CRS (projected metres). Its keys are
``lang``, ``title``, ``kind``, ``source``, ``workspace``, ``crs``, ``generated_at``, ``stamp``
(rule pack, version, profile, hash, as-of and known-at dates, data versions), ``rules``,
``summary``, ``skipped``, ``repairs`` and ``findings`` (each with rule, severity, features,
zone, relation, areas, shares, measured and limit with unit, message, suggestion, basis,
geometry and an optional ``map``). Missing keys are shown as "—", never an error.

* :func:`write_review_html`: one self-contained page (inline CSS and SVG maps, no external
  resource) that opens on an offline intranet and prints with one finding per page;
* :func:`write_review_pdf`: the same content with reportlab, a CJK font embedded (see
  :mod:`guotu.io.review_pdf` and :mod:`guotu.io.fonts`);
* :func:`write_review_xlsx`: sheets 概况, 问题清单 and 规则 (and 几何修复 when repairs exist);
* :func:`write_review_gpkg`: the finding geometries for QGIS.

Each writer refuses a path whose folder does not exist (:class:`~guotu.errors.ConfigError`)
and writes atomically: into a temporary file in the same folder, moved over ``path`` with
:func:`os.replace` only once complete, so a failed write leaves no partial file.

Labels, number formats and maps shared by the formats are in
:mod:`guotu.io.review_document`; the HTML and PDF renderers in :mod:`guotu.io.review_html`
and :mod:`guotu.io.review_pdf`.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import shapely
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet
from pyproj import CRS
from pyproj.exceptions import CRSError as ProjCRSError

from guotu.errors import ConfigError, CRSError, EnvironmentSetupError, InputError
from guotu.io import review_html
from guotu.io.findings import check_gdal_file_name
from guotu.io.review_document import (
    MISSING,
    SEVERITIES,
    area_ha,
    data_versions,
    feature_label,
    findings,
    is_english,
    label,
    number,
    relation_text,
    severity_text,
    stamp_rows,
    text,
    unit_text,
    zone_label,
)
from guotu.io.review_map import shape
from guotu.io.review_summary import rule_rows, severity_counts

__all__ = [
    "LINES_LAYER",
    "POINTS_LAYER",
    "POLYGONS_LAYER",
    "write_review_gpkg",
    "write_review_html",
    "write_review_pdf",
    "write_review_xlsx",
]

#: GeoPackage layers: polygonal finding geometries, linear ones (routes), and points.
POLYGONS_LAYER = "审查问题"
LINES_LAYER = "审查问题_线"
POINTS_LAYER = "审查问题_点"

# -- writing -------------------------------------------------------------------------------


def _check_parent(path: Path, what: str) -> None:
    if path.is_dir():
        raise ConfigError(
            f"{path} is a folder; the {what} needs a file name.",
            file=str(path),
            fix="Give a file name inside the folder.",
            message_zh=f"{path} 是文件夹；{what}需要一个文件名。",
            fix_zh="请在该文件夹下给出文件名。",
        )
    if not path.parent.is_dir():
        raise ConfigError(
            f"The folder of {path} does not exist.",
            file=str(path),
            fix="Create the folder or give another path.",
            message_zh=f"{path} 所在的文件夹不存在。",
            fix_zh="请先创建文件夹，或换一个路径。",
        )


def write_atomic(path: Path, what: str, write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a fresh temporary name in ``path``'s folder, then move it over
    ``path``; on any failure the temporary file is removed and ``path`` is left as it was.

    Raises
    ------
    ConfigError
        ``path``'s folder does not exist, or ``path`` is a folder.
    InputError
        ``path`` exists and cannot be replaced (open and locked by another program).

    Examples
    --------
    >>> # write_atomic(Path("报告.html"), "HTML report", lambda tmp: tmp.write_text("…"))
    """
    path = Path(path)
    _check_parent(path, what)
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(6)}.tmp{path.suffix}")
    try:
        write(tmp)
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise InputError(
                f"Cannot replace {path}: {exc.strerror}.",
                file=str(path),
                fix="Close the file in the program that has it open, or give another file name.",
                message_zh=f"无法覆盖 {path}：{exc.strerror}。",
                fix_zh="请在打开该文件的程序中关闭它，或换一个文件名。",
            ) from exc
    except BaseException:
        for leftover in (
            tmp,
            tmp.with_name(tmp.name + "-journal"),
            tmp.with_name(tmp.name + "-wal"),
            tmp.with_name(tmp.name + "-shm"),
        ):
            leftover.unlink(missing_ok=True)
        raise
    return path


def write_review_html(doc: Mapping[str, Any], path: Path) -> Path:
    """Write the report as one self-contained HTML page (inline CSS and SVG maps).

    Parameters
    ----------
    doc
        The report document (see the module docstring).
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

    Examples
    --------
    >>> # write_review_html(doc, Path("审查报告.html"))
    """

    def write(tmp: Path) -> None:
        tmp.write_text(review_html.render_review_html(doc), encoding="utf-8")

    return write_atomic(Path(path), "HTML report", write)


def write_review_pdf(doc: Mapping[str, Any], path: Path) -> Path:
    """Write the report as a PDF (A4) with a Chinese TrueType font embedded.

    The font is ``GUOTU_PDF_FONT`` when set, else Debian's ``fonts-wqy-microhei`` or another
    usable TrueType CJK font at the usual paths or listed by ``fc-list :lang=zh`` (see
    :mod:`guotu.io.fonts`). Without one nothing is written.

    Parameters
    ----------
    doc
        The report document (see the module docstring).
    path
        The file to write; its folder must exist. An existing file is replaced.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ConfigError
        The folder of ``path`` does not exist, or ``GUOTU_PDF_FONT`` names an unusable font.
    EnvironmentSetupError
        No font with Chinese glyphs is installed (``apt-get install fonts-wqy-microhei``).

    Examples
    --------
    >>> # write_review_pdf(doc, Path("审查报告.pdf"))
    """
    from guotu.io import review_pdf  # here, so that reportlab loads only to write a PDF

    def write(tmp: Path) -> None:
        tmp.write_bytes(review_pdf.render_review_pdf(doc))

    return write_atomic(Path(path), "PDF report", write)


# -- XLSX ----------------------------------------------------------------------------------

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


def _overview_sheet(ws: Worksheet, doc: Mapping[str, Any]) -> None:
    ws["A1"] = text(doc.get("title"))
    ws["A1"].font = Font(bold=True, size=14)
    _header(ws, 3, [label(doc, "item"), label(doc, "value")])
    row = 4
    for key, value in stamp_rows(doc):
        row = _put(ws, row, [key, value])
    for layer, version in data_versions(doc):
        row = _put(ws, row, [f"{label(doc, 'data_versions')}：{layer}", version])
    _header(ws, row + 1, [label(doc, "severity"), label(doc, "count")])
    row += 2
    counts = severity_counts(doc)
    for sev in [*SEVERITIES, *sorted(set(counts) - set(SEVERITIES))]:
        row = _put(ws, row, [severity_text(doc, sev), counts.get(sev, 0)])
    total = (doc.get("summary") or {}).get("total")
    row = _put(
        ws, row, [label(doc, "total"), int(total) if total is not None else len(findings(doc))]
    )
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
        m2 = number(r["area_m2"])
        row = _put(
            ws,
            row,
            [
                _cell_value(r["id"]),
                _cell_value(r["title"]),
                r["count"],
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


def _finding_row(doc: Mapping[str, Any], no: int, f: Mapping[str, Any]) -> list[Any]:
    feats = list(f.get("features") or ())

    def joined(key: str) -> str:
        return "；".join(str(x.get(key)) for x in feats if x.get(key) not in (None, ""))

    zone = f.get("zone") or {}
    measured, limit = f.get("measured"), f.get("limit")
    unit = f.get("unit")
    return [
        no,
        _cell_value(f.get("rule")),
        severity_text(doc, f.get("severity")),
        _cell_value(f.get("title")),
        _cell_value(joined("layer")),
        _cell_value("；".join(feature_label(x) for x in feats)),
        _cell_value(joined("fid")),
        _cell_value(joined("code")),
        _cell_value(joined("code_name")),
        _cell_value(zone.get("layer")),
        feature_label(zone),
        relation_text(doc, f.get("relation")),
        _cell_value(number(f.get("area_m2"))),
        _cell_value(area_ha(f)),
        _cell_value(number(f.get("share_of_feature"))),
        _cell_value(number(f.get("share_of_zone"))),
        _cell_value(measured),
        _cell_value(limit),
        _cell_value(unit_text(doc, unit)),
        _cell_value(f.get("message")),
        _cell_value(f.get("suggestion")),
        _cell_value(f.get("basis")),
        label(doc, "yes") if f.get("repaired") else label(doc, "no_"),
    ]


def _findings_sheet(ws: Worksheet, doc: Mapping[str, Any]) -> None:
    _header(ws, 1, [label(doc, key) for key, _, _ in _FINDING_COLUMNS])
    row = 2
    for no, f in enumerate(findings(doc), start=1):
        row = _put(ws, row, _finding_row(doc, no, f), _FINDING_FORMATS, _FINDING_WRAP_FROM)
    _widths(ws, [w for _, w, _ in _FINDING_COLUMNS])
    ws.freeze_panes = "C2"
    ws.auto_filter.ref = f"A1:{get_column_letter(len(_FINDING_COLUMNS))}{max(row - 1, 1)}"


def _rules_sheet(ws: Worksheet, doc: Mapping[str, Any]) -> None:
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
    skipped = {str(s.get("rule")): s.get("reason") for s in doc.get("skipped") or ()}
    row = 2
    for r in rule_rows(doc):
        m2 = number(r["area_m2"])
        reason = skipped.pop(str(r["id"]), None)
        status = label(doc, "run") if reason is None else f"{label(doc, 'not_run')}：{reason}"
        row = _put(
            ws,
            row,
            [
                _cell_value(r["id"]),
                _cell_value(r["title"]),
                severity_text(doc, r["severity"]),
                _cell_value(r["basis"]),
                r["count"],
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


def _repairs_sheet(ws: Worksheet, doc: Mapping[str, Any]) -> None:
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
    for r in doc.get("repairs") or ():
        row = _put(
            ws,
            row,
            [
                _cell_value(r.get("layer")),
                _cell_value(r.get("feature")),
                _cell_value(r.get("reason")),
                _cell_value(number(r.get("area_before_m2"))),
                _cell_value(number(r.get("area_after_m2"))),
            ],
            {4: _M2_FORMAT, 5: _M2_FORMAT},
        )
    _widths(ws, (12, 24, 50, 18, 18))


def write_review_xlsx(doc: Mapping[str, Any], path: Path) -> Path:
    """Write the report as a workbook: 概况 (stamp and summary), 问题清单 (one row per
    finding: every scalar field, areas in m² and 公顷, shares as percentages), 规则 (each
    rule with its basis, count and whether it ran) and, when there are any, 几何修复.

    Sheet names and headers are English when ``doc["lang"] == "en"``. Numbers stay numbers
    with a number format; missing values are ``—``.

    Parameters
    ----------
    doc
        The report document (see the module docstring).
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

    Examples
    --------
    >>> # write_review_xlsx(doc, Path("审查报告.xlsx"))
    """
    en = is_english(doc)
    wb = Workbook()
    overview = wb.active
    assert overview is not None  # a new workbook always has one sheet
    overview.title = "Overview" if en else "概况"
    _overview_sheet(overview, doc)
    _findings_sheet(wb.create_sheet("Findings" if en else "问题清单"), doc)
    _rules_sheet(wb.create_sheet("Rules" if en else "规则"), doc)
    if doc.get("repairs"):
        _repairs_sheet(wb.create_sheet("Repairs" if en else "几何修复"), doc)
    return write_atomic(Path(path), "XLSX report", lambda tmp: wb.save(tmp))


# -- GeoPackage ----------------------------------------------------------------------------

GPKG_COLUMNS = (
    "no",
    "rule",
    "severity",
    "title",
    "layer",
    "feature_ids",
    "zone",
    "relation",
    "area_m2",
    "area_ha",
    "share_of_feature",
    "share_of_zone",
    "measured",
    "limit",
    "unit",
    "message",
    "suggestion",
)
_FLOAT_COLUMNS = ("area_m2", "area_ha", "share_of_feature", "share_of_zone")


def _gpkg_row(no: int, f: Mapping[str, Any]) -> dict[str, Any]:
    feats = list(f.get("features") or ())

    def as_text(value: Any) -> str | None:
        return None if value is None or value == "" else str(value)

    return {
        "no": no,
        "rule": as_text(f.get("rule")),
        "severity": as_text(f.get("severity")),
        "title": as_text(f.get("title")),
        "layer": as_text(
            ",".join(dict.fromkeys(str(x.get("layer")) for x in feats if x.get("layer")))
        ),
        "feature_ids": as_text(";".join(feature_label(x) for x in feats)),
        "zone": None if not f.get("zone") else zone_label(f),
        "relation": as_text(f.get("relation")),
        "area_m2": number(f.get("area_m2")),
        "area_ha": area_ha(f),
        "share_of_feature": number(f.get("share_of_feature")),
        "share_of_zone": number(f.get("share_of_zone")),
        "measured": as_text(f.get("measured")),
        "limit": as_text(f.get("limit")),
        "unit": as_text(f.get("unit")),
        "message": as_text(f.get("message")),
        "suggestion": as_text(f.get("suggestion")),
    }


def _gpkg_frame(
    rows: list[dict[str, Any]], geoms: list[shapely.Geometry], crs: CRS
) -> gpd.GeoDataFrame:
    data = {c: [r[c] for r in rows] for c in GPKG_COLUMNS}
    frame = gpd.GeoDataFrame(data, geometry=gpd.GeoSeries(geoms, crs=crs), crs=crs)
    frame["no"] = frame["no"].astype("int64")
    for column in _FLOAT_COLUMNS:
        frame[column] = frame[column].astype("float64")
    for column in set(GPKG_COLUMNS) - {"no", *_FLOAT_COLUMNS}:
        frame[column] = frame[column].astype("object")
    return frame


def write_review_gpkg(doc: Mapping[str, Any], path: Path, crs: str) -> Path:
    """Write the finding geometries to a new GeoPackage for QGIS.

    Layer ``审查问题`` holds the polygonal geometries (as MultiPolygon), ``审查问题_线`` the
    linear ones (routes, as MultiLineString) and ``审查问题_点`` the points, the last two
    only when there are any. Findings without geometry are skipped; a mixed geometry
    collection is split over the layers. Every layer has the columns ``no`` (the finding's
    number in the report), ``rule``, ``severity``, ``title``, ``layer``, ``feature_ids``
    (``BSM=GH00028903;…``), ``zone``, ``relation``, ``area_m2``, ``area_ha``,
    ``share_of_feature`` and ``share_of_zone`` (fractions), ``measured`` and ``limit`` (as
    text: they may be numbers or words), ``unit``, ``message`` and ``suggestion``.

    Parameters
    ----------
    doc
        The report document (see the module docstring).
    path
        The file to write; its folder must exist. An existing file is replaced.
    crs
        The workspace CRS of the geometries, e.g. ``"EPSG:4527"``.

    Returns
    -------
    Path
        ``path``.

    Raises
    ------
    ConfigError
        The folder of ``path`` does not exist, or the file is open in another program
        (a ``-wal`` file beside it).
    CRSError
        ``crs`` is not a CRS pyproj knows.
    EnvironmentSetupError
        GDAL cannot write the file.

    Examples
    --------
    >>> # write_review_gpkg(doc, Path("审查问题.gpkg"), "EPSG:4527")
    """
    try:
        target_crs = CRS.from_user_input(crs)
    except ProjCRSError as exc:
        raise CRSError(
            f"The report CRS {crs!r} is not a known coordinate reference system.",
            fix="Give an EPSG code such as EPSG:4527.",
            message_zh=f"报告坐标系 {crs!r} 不是可识别的坐标参考系。",
            fix_zh="请给出 EPSG 代码，如 EPSG:4527。",
        ) from exc
    path = Path(path)
    open_by = [
        p.name
        for p in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"))
        if p.exists()
    ]
    if open_by:
        # Replacing a GeoPackage beside its write-ahead log would let SQLite replay the old
        # database's pages into the new file.
        raise ConfigError(
            f"{path} is open in another program (QGIS?): {', '.join(open_by)} exists beside it.",
            file=str(path),
            fix="Close it there and try again, or give another file name. If no "
            "program has it open, delete the -wal and -shm files left by a crash.",
            message_zh=f"{path} 正被其他程序（如 QGIS）打开：旁边有 {'、'.join(open_by)}。",
            fix_zh="请先在该程序中关闭后重试，或换一个文件名；若没有程序打开它，请删除崩溃遗留的 "
            "-wal 和 -shm 文件。",
        )
    by_kind: dict[str, tuple[list[dict[str, Any]], list[shapely.Geometry]]] = {
        "polygon": ([], []),
        "line": ([], []),
        "point": ([], []),
    }
    for no, f in enumerate(findings(doc), start=1):
        geom = shape(f.get("geometry"))
        if geom is None:
            continue
        row = _gpkg_row(no, f)
        pieces = list(_singles(geom))
        for kind, make in (
            ("polygon", shapely.multipolygons),
            ("line", shapely.multilinestrings),
            ("point", shapely.multipoints),
        ):
            mine = [p for p in pieces if _KIND_OF.get(p.geom_type) == kind]
            if mine:
                by_kind[kind][0].append(row)
                by_kind[kind][1].append(make(mine))
    layers = (
        (POLYGONS_LAYER, "polygon", "MultiPolygon"),
        (LINES_LAYER, "line", "MultiLineString"),
        (POINTS_LAYER, "point", "MultiPoint"),
    )

    check_gdal_file_name(Path(path), "--gpkg")

    def write(tmp: Path) -> None:
        try:
            for name, kind, geometry_type in layers:
                rows, geoms = by_kind[kind]
                if rows or kind == "polygon":
                    pyogrio.write_dataframe(
                        _gpkg_frame(rows, geoms, target_crs),
                        tmp,
                        layer=name,
                        driver="GPKG",
                        geometry_type=geometry_type,
                        append=tmp.exists(),
                    )
        except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError) as exc:
            raise EnvironmentSetupError(
                f"GDAL could not write {path}: {exc}.", file=str(path)
            ) from exc

    return write_atomic(Path(path), "GeoPackage of findings", write)


_KIND_OF = {"Polygon": "polygon", "LineString": "line", "LinearRing": "line", "Point": "point"}


def _singles(geom: shapely.Geometry) -> Iterator[shapely.Geometry]:
    for part in shapely.get_parts(geom):
        if part.geom_type in _KIND_OF:
            yield part
        elif not part.is_empty:
            yield from _singles(part)
