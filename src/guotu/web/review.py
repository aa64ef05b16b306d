"""Plan review (成果审查) over HTTP, for the web UI and scripts.

* ``POST /review/{kind}?as_of=…&known_at=…&rules=…&profile=…&lang=…``: review the workspace's
  layer of ``kind`` (``master-plan``, ``detailed-plan``, ``special-plan``, ``project``) or a
  recorded plan version (``source=PLAN@LABEL``) with a bundled rule pack; the answer is the
  ``guotu review --json`` document plus ``report_id``, ``links`` to the report downloads and
  ``map``, the findings as a GeoJSON FeatureCollection in CRS84 for web maps.
* ``GET /review/reports/{report_id}.{html,xlsx}``: the report of that run, written by the same
  writers as ``guotu review --html/--xlsx``.

Files on the server are never read from a request: ``source`` is only a recorded version and
``rules``/``profile`` only a built-in id. The last few reports are kept in memory
(``app.state``); an expired ``report_id`` answers 404 and the fix is to run the review again.
"""

from __future__ import annotations

import hashlib
import json
import tempfile
import threading
from collections import OrderedDict
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import shapely
from fastapi import APIRouter, Depends, Query, Request, Response
from pyproj import CRS, Transformer

from guotu.domain.rules.pack import KINDS
from guotu.errors import ConfigError, NotFoundError
from guotu.io.review_report import write_review_html, write_review_xlsx
from guotu.services.review import ReviewReport, load_rule_pack, review_plan
from guotu.services.review_output import review_document, review_json
from guotu.web.app import open_store

__all__ = ["REPORTS_KEPT", "router"]

#: How many review reports the app keeps for download (oldest dropped first).
REPORTS_KEPT = 8
#: Review kinds that run on the workspace alone (``indicators`` needs an uploaded table).
WORKSPACE_KINDS = tuple(k for k in KINDS if k != "indicators")

router = APIRouter(tags=["plan review 成果审查"])
_LOCK = threading.Lock()

Store = Annotated[Any, Depends(open_store)]
_FORMATS = {"html": ("text/html; charset=utf-8", write_review_html),
            "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                     write_review_xlsx)}


def _reports(request: Request) -> OrderedDict[str, tuple[ReviewReport, str]]:
    state = request.app.state
    with _LOCK:
        found: OrderedDict[str, tuple[ReviewReport, str]] | None = getattr(
            state, "review_reports", None)
        if found is None:
            found = OrderedDict()
            state.review_reports = found
    return found


def _builtin(name: str | None, what: str) -> str | None:
    """Refuse anything but a built-in rule pack or profile id (no server paths)."""
    if name is None:
        return None
    if not name.replace("-", "").replace("_", "").isalnum():
        raise ConfigError(f"{what} must be a built-in id such as cn-base, not {name!r}.",
                          fix="Run a review of your own pack file with `guotu review`.",
                          message_zh=f"{what} 只能是内置规则包编号（如 cn-base），不能是 {name!r}。",
                          fix_zh="自定义规则包文件请用命令行 guotu review 审查。")
    return name


def _map(doc: dict[str, Any], crs: str) -> dict[str, Any]:
    """The findings as a CRS84 FeatureCollection (``n`` = 1-based finding number)."""
    to_lonlat = Transformer.from_crs(CRS.from_user_input(crs), CRS.from_epsg(4326),
                                     always_xy=True)
    features = []
    for n, f in enumerate(doc["findings"], start=1):
        if f["geometry"] is None:
            continue
        geom = shapely.from_geojson(json.dumps(f["geometry"]))
        lonlat = shapely.transform(geom, lambda xy: _lonlat(to_lonlat, xy))
        features.append({"type": "Feature", "id": n,
                         "geometry": json.loads(shapely.to_geojson(lonlat)),
                         "properties": {"n": n, "rule": f["rule"], "severity": f["severity"],
                                        "title": f["title"]}})
    return {"type": "FeatureCollection", "features": features}


def _lonlat(transformer: Transformer, xy: Any) -> Any:
    x, y = transformer.transform(xy[:, 0], xy[:, 1])
    return np.column_stack([x, y])


@router.post("/review/{kind}", summary="Review the workspace's plan of a kind (成果审查)")
def post_review(
    request: Request,
    store: Store,
    kind: str,
    source: Annotated[str | None, Query(description="A recorded version PLAN@LABEL "
                                                    "(default: the workspace layer)")] = None,
    rules: Annotated[str, Query(description="Built-in rule pack id")] = "cn-base",
    profile: Annotated[str | None, Query(description="Built-in profile id")] = None,
    as_of: Annotated[date | None, Query(description="Plans in force on this date")] = None,
    known_at: Annotated[datetime | None, Query(description="Record time (UTC)")] = None,
    lang: Annotated[str, Query(pattern="^(zh|en)$")] = "zh",
) -> dict[str, Any]:
    """Run the review and answer the ``--json`` document with ``report_id``, ``links``, ``map``.

    Raises
    ------
    ConfigError
        An unknown kind, ``indicators`` (needs a table), or a pack that is not built in.
    """
    if kind not in WORKSPACE_KINDS:
        raise ConfigError(f"Review kind {kind!r} cannot run over HTTP on the workspace alone.",
                          fix=f"Use one of: {', '.join(WORKSPACE_KINDS)}.",
                          message_zh=f"审查类型 {kind!r} 不能仅凭工作空间在网页上运行。",
                          fix_zh=f"请使用：{'、'.join(WORKSPACE_KINDS)}。")
    if source is not None and "@" not in source:
        raise ConfigError("source must be a recorded plan version PLAN@LABEL.",
                          fix="Review files with `guotu review KIND FILE`.",
                          message_zh="source 只能是已登记的规划版本 PLAN@LABEL。",
                          fix_zh="审查文件请用命令行 guotu review 类型 文件。")
    pack = load_rule_pack(_builtin(rules, "rules") or "cn-base", _builtin(profile, "profile"))
    report = review_plan(store, kind, source, pack=pack, as_of=as_of, known_at=known_at)
    doc = review_json(report, lang)
    stamp = repr((kind, source, doc["stamp"], lang, [f["message"] for f in doc["findings"]]))
    report_id = hashlib.sha256(stamp.encode()).hexdigest()[:16]
    reports = _reports(request)
    with _LOCK:
        reports[report_id] = (report, lang)
        reports.move_to_end(report_id)
        while len(reports) > REPORTS_KEPT:
            reports.popitem(last=False)
    doc["report_id"] = report_id
    doc["links"] = [{"rel": "alternate", "type": media, "title": fmt.upper(),
                     "href": f"/review/reports/{report_id}.{fmt}"}
                    for fmt, (media, _) in _FORMATS.items()]
    doc["map"] = _map(doc, report.crs)
    return doc


@router.get("/review/reports/{report_id}.{fmt}", summary="Download a review report",
            response_class=Response)
def get_report(request: Request, report_id: str, fmt: str) -> Response:
    """The HTML page or XLSX workbook of a review run by ``POST /review/{kind}``.

    Raises
    ------
    NotFoundError
        An unknown format, or a report no longer kept (run the review again).
    """
    if fmt not in _FORMATS:
        raise NotFoundError(f"No report format {fmt!r}.", fix="Use .html or .xlsx.",
                            message_zh=f"没有 {fmt!r} 格式的报告。", fix_zh="请用 .html 或 .xlsx。")
    reports = _reports(request)
    with _LOCK:
        kept = reports.get(report_id)
    if kept is None:
        raise NotFoundError(f"Review report {report_id} is no longer kept.",
                            fix="Run the review again (POST /review/KIND).",
                            message_zh=f"审查报告 {report_id} 已不在缓存中。",
                            fix_zh="请重新运行审查。")
    report, lang = kept
    media, write = _FORMATS[fmt]
    doc = review_document(report, lang, report.layers)
    with tempfile.TemporaryDirectory(prefix="guotu-review-") as tmp:
        path = Path(tmp) / f"report.{fmt}"
        write(doc, path)
        body = path.read_bytes()
    name = f"review-{report.kind}-{report_id}.{fmt}"
    return Response(body, media_type=media,
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})
