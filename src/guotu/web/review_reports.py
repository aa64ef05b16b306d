"""Review reports over HTTP: the document a review answers, the reports the app keeps, and
their downloads.

* :func:`publish` turns a finished review (of ``POST /review/{kind}``, :mod:`guotu.web.review`,
  or of a job, :mod:`guotu.web.review_jobs`) into the ``guotu review --json`` document plus
  ``report_id``, ``links`` to the report downloads and ``map``, the findings as a GeoJSON
  FeatureCollection in CRS84 for web maps; the report is kept for download.
* ``GET /review/reports/{report_id}.{html,pdf,xlsx}``: the report of that run, written by the
  same writers as ``guotu review --html/--pdf/--xlsx``. HTML and PDF are served inline (the
  browser opens them; its own save keeps the file name), XLSX as a download.

A download needs export on every layer the review read (a report holding an unreadable layer
is not found, as an expired one; 403 without export); exports of 受限 layers are audited. The
last :data:`REPORTS_KEPT` reports are kept in memory (``app.state``); an expired
``report_id`` answers 404 and the fix is to run the review again. What the app keeps of
reviews (reports, jobs) changes under :data:`LOCK` only.
"""

from __future__ import annotations

import dataclasses
import hashlib
import tempfile
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi import Path as PathParam

from guotu.errors import NotFoundError
from guotu.io.review_report import write_review_html, write_review_pdf, write_review_xlsx
from guotu.ports import FeatureStore
from guotu.services.access import access_for, require_export
from guotu.services.features import lonlat_collection
from guotu.services.review import ReviewReport
from guotu.services.review_output import review_document, review_json
from guotu.web.deps import Who, open_store

__all__ = ["LOCK", "REPORTS_KEPT", "HexId", "kept", "publish", "router"]

#: How many review reports the app keeps for download (oldest dropped first).
REPORTS_KEPT = 8
#: Guards what the app keeps of reviews: the reports, the jobs and each job's fields.
LOCK = threading.Lock()

router = APIRouter(tags=["plan review 成果审查"])

Store = Annotated[FeatureStore, Depends(open_store)]
#: Report and job ids are 16 hexadecimal digits.
HexId = Annotated[str, PathParam(json_schema_extra={"pattern": "^[0-9a-f]{16}$"})]
_FORMATS = {
    "html": ("text/html; charset=utf-8", write_review_html),
    "pdf": ("application/pdf", write_review_pdf),
    "xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        write_review_xlsx,
    ),
}
#: Formats a browser shows itself: served inline, so the link opens them.
_INLINE = ("html", "pdf")


def kept(state: Any, name: str) -> OrderedDict[str, Any]:
    """The dictionary ``name`` of ``state`` (``app.state``) the review routes keep things in,
    made on first use; read and change it under :data:`LOCK`."""
    with LOCK:
        found: OrderedDict[str, Any] | None = getattr(state, name, None)
        if found is None:
            found = OrderedDict()
            setattr(state, name, found)
    return found


def _reports(request: Request) -> OrderedDict[str, tuple[ReviewReport, str]]:
    return kept(request.app.state, "review_reports")


def _map(doc: dict[str, Any], report: ReviewReport) -> dict[str, Any]:
    """The findings as a CRS84 FeatureCollection (``n`` = 1-based finding number)."""
    drawn = [
        (n, f, out)
        for n, (f, out) in enumerate(zip(report.findings, doc["findings"], strict=True), start=1)
        if f.geometry is not None and not f.geometry.is_empty
    ]
    return lonlat_collection(
        [f.geometry for _n, f, _out in drawn],
        [
            {"n": n, "rule": out["rule"], "severity": out["severity"], "title": out["title"]}
            for n, _f, out in drawn
        ],
        report.crs,
        ids=[n for n, _f, _out in drawn],
    )


def publish(state: Any, report: ReviewReport, lang: str) -> dict[str, Any]:
    """The ``--json`` document of ``report`` with ``report_id``, ``links`` and ``map``; the
    report is kept for download. The workspace is named by its file name only (a response
    never shows a server path or a database URL)."""
    where = report.workspace
    shown = "PostGIS" if "://" in where or where.startswith("env:") else Path(where).name
    report = dataclasses.replace(report, workspace=shown)
    doc = review_json(report, lang)
    stamp = repr(
        (report.kind, report.source, doc["stamp"], lang, [f["message"] for f in doc["findings"]])
    )
    report_id = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    reports: OrderedDict[str, tuple[ReviewReport, str]] = kept(state, "review_reports")
    with LOCK:
        reports[report_id] = (report, lang)
        reports.move_to_end(report_id)
        while len(reports) > REPORTS_KEPT:
            reports.popitem(last=False)
    doc["report_id"] = report_id
    doc["links"] = [
        {
            "rel": "alternate",
            "type": media,
            "title": fmt.upper(),
            "href": f"/review/reports/{report_id}.{fmt}",
        }
        for fmt, (media, _) in _FORMATS.items()
    ]
    doc["map"] = _map(doc, report)
    return doc


@router.get(
    "/review/reports/{report_id}.{fmt}",
    summary="A review report (HTML, PDF or XLSX)",
    response_class=Response,
    responses={
        200: {
            "description": "The report.",
            "content": {
                media: {"schema": {"type": "string", "format": "binary"}}
                for media, _write in _FORMATS.values()
            },
        },
        404: {"description": "An unknown format, or a report no longer kept."},
    },
)
def get_report(
    request: Request,
    store: Store,
    who: Who,
    report_id: HexId,
    fmt: Annotated[str, PathParam(json_schema_extra={"enum": list(_FORMATS)})],
) -> Response:
    """The HTML page (inline), PDF (inline) or XLSX workbook (a download) of a review run
    by ``POST /review/{kind}`` (export needed on every layer it read).

    Raises
    ------
    NotFoundError
        An unknown format, a report no longer kept (run the review again) or holding a
        layer the user may not read (the same answer); 403 without export on one.
    """
    if fmt not in _FORMATS:
        raise NotFoundError(
            f"No report format {fmt!r}.",
            fix="Use .html, .pdf or .xlsx.",
            message_zh=f"没有 {fmt!r} 格式的报告。",
            fix_zh="请用 .html、.pdf 或 .xlsx。",
        )
    reports = _reports(request)
    with LOCK:
        found = reports.get(report_id)
    access = access_for(store, who)
    layers = sorted({r.layer for r in found[0].reads}) if found is not None else []
    if found is None or not all(access.is_whole(name) for name in layers):
        raise NotFoundError(
            f"Review report {report_id} is no longer kept.",
            fix="Run the review again (POST /review/KIND).",
            message_zh=f"审查报告 {report_id} 已不在缓存中。",
            fix_zh="请重新运行审查。",
        )
    address = request.client.host if request.client is not None else ""
    require_export(store, access, layers, f"review-report.{fmt}", address)
    report, lang = found
    media, write = _FORMATS[fmt]
    doc = review_document(report, lang, report.layers)
    with tempfile.TemporaryDirectory(prefix="guotu-review-") as tmp:
        path = Path(tmp) / f"report.{fmt}"
        write(doc, path)
        body = path.read_bytes()
    name = f"review-{report.kind}-{report_id}.{fmt}"
    how = "inline" if fmt in _INLINE else "attachment"
    return Response(
        body, media_type=media, headers={"Content-Disposition": f'{how}; filename="{name}"'}
    )
