"""Writing the plan-review report (成果审查报告): HTML, PDF, XLSX and a GeoPackage.

Every writer takes the report document, a :class:`~guotu.io.review_model.ReviewDocument`
(:func:`guotu.services.review_output.review_document` builds it): its text is already in the
document's language, its geometries are shapely geometries in the workspace CRS (projected
metres) and its CRS a :class:`pyproj.CRS`. A value it leaves out is shown as "—".

* :func:`write_review_html`: one self-contained page (inline CSS and SVG maps, no external
  resource) that opens on an offline intranet and prints with one finding per page
  (:mod:`guotu.io.review_html`);
* :func:`write_review_pdf`: the same content with reportlab, a CJK font embedded (see
  :mod:`guotu.io.review_pdf` and :mod:`guotu.io.fonts`);
* :func:`write_review_xlsx`: sheets 概况, 问题清单 and 规则 (and 几何修复 when repairs exist;
  :mod:`guotu.io.review_xlsx`);
* :func:`write_review_gpkg`: the finding geometries for QGIS, through the one GeoPackage
  writer of findings (:func:`guotu.io.findings.write_finding_tables`).

Each writer refuses a path whose folder does not exist (:class:`~guotu.errors.ConfigError`)
and writes atomically (:func:`guotu.io.atomic_write.write_atomic`), so a failed write leaves
no partial file. Labels and number formats shared by the formats are in
:mod:`guotu.io.review_labels` and :mod:`guotu.io.review_document`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import shapely

from guotu.io import review_html
from guotu.io.atomic_write import write_atomic
from guotu.io.findings import FindingTable, split_by_kind, write_finding_tables
from guotu.io.review_document import feature_label, zone_label
from guotu.io.review_model import ReportFinding, ReviewDocument
from guotu.io.review_xlsx import write_review_xlsx

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


def write_review_html(doc: ReviewDocument, path: Path) -> Path:
    """Write the report as one self-contained HTML page (inline CSS and SVG maps).

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

    def write(tmp: Path) -> None:
        tmp.write_text(review_html.render_review_html(doc), encoding="utf-8")

    return write_atomic(Path(path), ("HTML 报告", "HTML report"), write)


def write_review_pdf(doc: ReviewDocument, path: Path) -> Path:
    """Write the report as a PDF (A4) with a Chinese TrueType font embedded.

    The font is ``GUOTU_PDF_FONT`` when set, else Debian's ``fonts-wqy-microhei`` or another
    usable TrueType CJK font at the usual paths or listed by ``fc-list :lang=zh`` (see
    :mod:`guotu.io.fonts`). Without one nothing is written.

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
        The folder of ``path`` does not exist, or ``GUOTU_PDF_FONT`` names an unusable font.
    EnvironmentSetupError
        No font with Chinese glyphs is installed (``apt-get install fonts-wqy-microhei``).
    """
    from guotu.io import review_pdf  # here, so that reportlab loads only to write a PDF

    def write(tmp: Path) -> None:
        tmp.write_bytes(review_pdf.render_review_pdf(doc))

    return write_atomic(Path(path), ("PDF 报告", "PDF report"), write)


# -- GeoPackage ----------------------------------------------------------------------------

#: The columns of every layer and their types.
GPKG_COLUMNS = {
    "no": "int64",
    "rule": "object",
    "severity": "object",
    "title": "object",
    "layer": "object",
    "feature_ids": "object",
    "zone": "object",
    "relation": "object",
    "area_m2": "float64",
    "area_ha": "float64",
    "share_of_feature": "float64",
    "share_of_zone": "float64",
    "measured": "object",
    "limit": "object",
    "unit": "object",
    "message": "object",
    "suggestion": "object",
}


def _gpkg_row(no: int, f: ReportFinding) -> dict[str, Any]:
    def as_text(value: Any) -> str | None:
        return None if value is None or value == "" else str(value)

    return {
        "no": no,
        "rule": as_text(f.rule),
        "severity": as_text(f.severity.value),
        "title": as_text(f.title),
        "layer": as_text(",".join(dict.fromkeys(x.layer for x in f.features if x.layer))),
        "feature_ids": as_text(";".join(feature_label(x) for x in f.features)),
        "zone": None if f.zone is None else zone_label(f),
        "relation": as_text(f.relation),
        "area_m2": f.area_m2,
        "area_ha": f.area_ha,
        "share_of_feature": f.share_of_feature,
        "share_of_zone": f.share_of_zone,
        "measured": as_text(f.measured),
        "limit": as_text(f.limit),
        "unit": as_text(f.unit),
        "message": as_text(f.message),
        "suggestion": as_text(f.suggestion),
    }


def write_review_gpkg(doc: ReviewDocument, path: Path) -> Path:
    """Write the finding geometries to a new GeoPackage for QGIS, in the document's CRS.

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
        The folder of ``path`` does not exist, or the file is open in another program
        (a ``-wal`` file beside it).
    CRSError
        The document has no CRS.
    EnvironmentSetupError
        GDAL cannot write the file.
    """
    by_kind: dict[str, tuple[list[dict[str, Any]], list[shapely.Geometry]]] = {
        "polygon": ([], []),
        "line": ([], []),
        "point": ([], []),
    }
    for no, f in enumerate(doc.findings, start=1):
        if f.geometry is None or f.geometry.is_empty:
            continue
        row = _gpkg_row(no, f)
        for kind, geom in split_by_kind(f.geometry).items():
            by_kind[kind][0].append(row)
            by_kind[kind][1].append(geom)
    tables = [
        FindingTable(name, geometry_type, GPKG_COLUMNS, *by_kind[kind])
        for name, kind, geometry_type in (
            (POLYGONS_LAYER, "polygon", "MultiPolygon"),
            (LINES_LAYER, "line", "MultiLineString"),
            (POINTS_LAYER, "point", "MultiPoint"),
        )
        if by_kind[kind][0] or kind == "polygon"
    ]
    return write_finding_tables(path, tables, doc.crs, option="--gpkg")
