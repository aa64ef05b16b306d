"""The site query (空间码) over HTTP: what applies to a point, a polygon or a parcel.

* ``GET /query?point=X,Y&crs=…&as_of=…&known_at=…`` (or ``parcel=DKBH``, or ``polygon=`` a
  GeoJSON text): the JSON answer of :class:`guotu.services.site_query.SiteQuery`;
* ``POST /query`` with a GeoJSON body (Polygon, MultiPolygon, Feature or a FeatureCollection of
  one feature; ``crs`` in the query string or the document's ``crs`` member);
* ``GET /query/sheet?…`` the printable sheet (规划条件 style, self-contained HTML) with a QR code
  of its permanent URL, which pins the as-of date, the record time and the data version
  (``dv``).

The indexes live in ``app.state.site_query`` (one :class:`SiteQuery` per app), keyed by the
data version, so a new import or amendment is seen by the next request.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, Response

from guotu.errors import InputError
from guotu.services.site_query import SiteQuery, permalink, sheet_html
from guotu.settings import Settings
from guotu.web.app import open_store

__all__ = ["router", "site_query"]

router = APIRouter(tags=["site query 空间码"])

_LOCK = threading.Lock()


def site_query(request: Request) -> SiteQuery:
    """The app's :class:`SiteQuery` (made on first use, kept in ``app.state``)."""
    state = request.app.state
    found = getattr(state, "site_query", None)
    if found is None:
        with _LOCK:
            found = getattr(state, "site_query", None)
            if found is None:
                settings: Settings = state.settings
                found = SiteQuery(max_vertices=settings.max_query_vertices)
                state.site_query = found
    return found


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh"


def _base(request: Request) -> str:
    return str(request.base_url)


def _answer(request: Request, doc: dict[str, Any]) -> Response:
    """The JSON response, encoded by ``json.dumps`` directly: FastAPI's ``jsonable_encoder``
    walks the whole answer first (about 1 ms of a 1.3 ms request on the demo county); it is
    only asked about values ``json`` cannot encode itself (dates, numpy scalars)."""
    doc["links"] = [{"rel": "alternate", "type": "text/html", "title": "规划条件查询单",
                     "href": permalink(doc, _base(request))}]
    body = json.dumps(doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"),
                      default=jsonable_encoder)
    return Response(body.encode("utf-8"), media_type="application/json")


_JSON_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}}, "description": "The site-query answer."}}


Store = Annotated[Any, Depends(open_store)]
PointParam = Annotated[str | None, Query(description="X,Y in crs (lon,lat in a geographic "
                                                     "CRS such as EPSG:4490 or CRS84)")]
ParcelParam = Annotated[str | None, Query(description="DKBH of a detailed-plan parcel or BSM "
                                                      "of a master-plan parcel")]
PolygonParam = Annotated[str | None, Query(description="A GeoJSON polygon, as text")]
CrsParam = Annotated[str | None, Query(description="CRS of point/polygon (default: the "
                                                   "workspace CRS)")]
AsOfParam = Annotated[date | None, Query(description="Valid time: plans in force on this date "
                                                     "(default today)")]
KnownAtParam = Annotated[datetime | None, Query(description="Record time (UTC; default now)")]
DvParam = Annotated[str | None, Query(description="Data version a permanent link pins")]


@router.get("/query", summary="What applies to a site (空间码)", response_class=Response,
            responses=_JSON_ANSWER)
def get_query(request: Request, store: Store, point: PointParam = None,
              parcel: ParcelParam = None, polygon: PolygonParam = None, crs: CrsParam = None,
              as_of: AsOfParam = None, known_at: KnownAtParam = None,
              dv: DvParam = None) -> Response:
    """Every feature that applies to the site, with shares, plans and versions."""
    report = site_query(request).query(store, point=point, parcel=parcel, polygon=polygon,
                                       crs=crs, as_of=as_of, known_at=known_at, pinned=dv)
    return _answer(request, report.to_dict())


@router.post("/query", summary="What applies to a GeoJSON polygon (空间码)",
             response_class=Response, responses=_JSON_ANSWER)
def post_query(request: Request, store: Store,
               geojson: Annotated[dict[str, Any], Body(
                   description="GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection "
                               "of one feature")],
               crs: CrsParam = None, as_of: AsOfParam = None,
               known_at: KnownAtParam = None) -> Response:
    """The same answer for a polygon sent as the GeoJSON body."""
    settings: Settings = request.app.state.settings
    size = int(request.headers.get("content-length") or 0)
    if size > settings.max_upload_mb * 1024 * 1024:
        raise InputError(f"The GeoJSON body is larger than {settings.max_upload_mb:g} MB.",
                         fix="Simplify the polygon.",
                         message_zh=f"提交的 GeoJSON 超过 {settings.max_upload_mb:g} MB。",
                         fix_zh="请简化多边形。")
    report = site_query(request).query(store, polygon=geojson, crs=crs, as_of=as_of,
                                       known_at=known_at)
    return _answer(request, report.to_dict())


@router.get("/query/sheet", response_class=HTMLResponse,
            summary="Printable sheet of a site query (规划条件)")
def get_sheet(request: Request, store: Store, point: PointParam = None,
              parcel: ParcelParam = None, polygon: PolygonParam = None, crs: CrsParam = None,
              as_of: AsOfParam = None, known_at: KnownAtParam = None,
              dv: DvParam = None) -> HTMLResponse:
    """The sheet: self-contained HTML (no external resource) with a QR code of its link."""
    report = site_query(request).query(store, point=point, parcel=parcel, polygon=polygon,
                                       crs=crs, as_of=as_of, known_at=known_at, pinned=dv)
    doc = report.to_dict()
    if known_at is not None:
        doc["known_at"] = known_at.isoformat()
    if dv is not None and known_at is not None:
        doc["data_version"] = dv  # known_at reproduces the data of that version
    return HTMLResponse(sheet_html(doc, _base(request), lang=_lang(request)))
