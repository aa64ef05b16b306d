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

Each answer is the principal's: only the layers they may read, without hidden fields, their
own 行政区's rows where a layer limits them; ``restricted_layers_omitted`` (with
``restricted_note``, "有受限图层未显示") says that layers were left out, never which. Reads of
受限 layers are recorded in the audit log.
"""

from __future__ import annotations

import json
import threading
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, Response

from guotu.domain.access.policy import Principal
from guotu.errors import InputError
from guotu.ports import FeatureStore
from guotu.services.access import record_restricted_read
from guotu.services.site_permalink import permalink, sheet_html
from guotu.services.site_query import SiteQuery, SiteReport
from guotu.settings import Settings
from guotu.web.deps import Who, audit_sink, open_store

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
                found = SiteQuery(max_vertices=settings.max_query_vertices, crs_parameter="crs")
                state.site_query = found
    return found


def _audited(
    request: Request, store: FeatureStore, who: Principal, report: SiteReport, what: str
) -> SiteReport:
    """``report``, its reads of 受限 layers recorded in the audit log."""
    address = request.client.host if request.client is not None else ""
    sink = audit_sink(request)
    for layer in report.restricted_layers:
        record_restricted_read(store, who, layer, what, address, sink=sink)
    return report


def _lang(request: Request) -> str:
    return "en" if request.query_params.get("lang") == "en" else "zh"


def _base(request: Request) -> str:
    return str(request.base_url)


def _answer(request: Request, doc: dict[str, Any]) -> Response:
    """The JSON response, encoded by ``json.dumps`` directly: FastAPI's ``jsonable_encoder``
    walks the whole answer first (about 1 ms of a 1.3 ms request on the demo county); it is
    only asked about values ``json`` cannot encode itself (dates, numpy scalars)."""
    doc["links"] = [
        {
            "rel": "alternate",
            "type": "text/html",
            "title": "规划条件查询单",
            "href": permalink(doc, _base(request)),
        }
    ]
    body = json.dumps(
        doc, ensure_ascii=False, allow_nan=False, separators=(",", ":"), default=jsonable_encoder
    )
    return Response(body.encode("utf-8"), media_type="application/json")


_ANSWER_SCHEMA = {
    "type": "object",
    "required": ["site", "applies"],
    "properties": {
        "site": {"type": "object"},
        "applies": {"type": "array", "items": {"type": "object"}},
        "touching": {"type": "array"},
        "pending": {"type": "array"},
        "allowed_uses": {"type": "object"},
        "restricted_layers_omitted": {"type": "boolean"},
        "restricted_note": {"type": "object"},
        "region_limited": {"type": "boolean"},
        "region_note": {"type": "object"},
        "links": {"type": "array"},
    },
}
_NOT_FOUND = {"description": "An unknown parcel code, or a site outside every layer."}
_JSON_ANSWER: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {"application/json": {"schema": _ANSWER_SCHEMA}},
        "description": "The site-query answer.",
    },
    400: {
        "description": "Not exactly one site; bad coordinates, CRS or GeoJSON; too many vertices."
    },
    404: _NOT_FOUND,
}

#: ``point`` is two decimal numbers (X,Y; the server also takes spaces and a full-width
#: comma); the CRS names a query may give (any EPSG code PROJ knows is
#: accepted; these are the ones a Chinese plan uses: WGS 84 and the CGCS2000 family).
_POINT_PATTERN = r"^[-+]?[0-9]{1,10}(\.[0-9]{1,12})?,[-+]?[0-9]{1,10}(\.[0-9]{1,12})?$"
_QUERY_CRS = ["CRS84", "EPSG:4326", *(f"EPSG:{code}" for code in range(4490, 4555))]

#: Exactly one of point, parcel or polygon, as OpenAPI 3.0 can say it: one exploded object
#: parameter (``?point=…``, ``?parcel=…`` or ``?polygon=…``) with a ``oneOf`` of its forms.
SITE_PARAMETER: dict[str, Any] = {
    "name": "site",
    "in": "query",
    "required": True,
    "style": "form",
    "explode": True,
    "description": "Exactly one site: point=X,Y (in crs), parcel=DKBH/BSM, or polygon= a "
    "GeoJSON Polygon or MultiPolygon as text.",
    "schema": {
        "oneOf": [
            {
                "type": "object",
                "title": "point",
                "required": ["point"],
                "additionalProperties": False,
                "properties": {
                    "point": {
                        "type": "string",
                        "pattern": _POINT_PATTERN,
                        "description": "X,Y in crs (lon,lat in a geographic CRS)",
                        "example": "39527060,4056040",
                    }
                },
            },
            {
                "type": "object",
                "title": "parcel",
                "required": ["parcel"],
                "additionalProperties": False,
                "properties": {
                    "parcel": {
                        "type": "string",
                        "minLength": 1,
                        "description": "DKBH of "
                        "a detailed-plan parcel or BSM of a master-plan parcel",
                    }
                },
            },
            {
                "type": "object",
                "title": "polygon",
                "required": ["polygon"],
                "additionalProperties": False,
                "properties": {
                    "polygon": {
                        "type": "string",
                        "minLength": 2,
                        "description": "A GeoJSON Polygon or MultiPolygon, as text",
                    }
                },
            },
        ]
    },
}
_SITE_EXTRA = {"parameters": [SITE_PARAMETER]}

#: The GeoJSON a POST may send: a polygon geometry, a Feature of one, or a FeatureCollection
#: of one such Feature (its coordinates in crs, else the document's crs member).
_POLYGON = {
    "type": "object",
    "required": ["type", "coordinates"],
    "properties": {
        "type": {"type": "string", "enum": ["Polygon", "MultiPolygon"]},
        "coordinates": {"type": "array", "minItems": 1, "items": {"type": "array"}},
    },
}
_FEATURE = {
    "type": "object",
    "required": ["type", "geometry"],
    "properties": {
        "type": {"type": "string", "enum": ["Feature"]},
        "geometry": _POLYGON,
        "properties": {"type": "object", "nullable": True},
    },
}
GEOJSON_BODY: dict[str, Any] = {
    "oneOf": [
        _POLYGON,
        _FEATURE,
        {
            "type": "object",
            "required": ["type", "features"],
            "properties": {
                "type": {"type": "string", "enum": ["FeatureCollection"]},
                "features": {"type": "array", "minItems": 1, "maxItems": 1, "items": _FEATURE},
            },
        },
    ]
}


Store = Annotated[FeatureStore, Depends(open_store)]
PointParam = Annotated[str | None, Query(include_in_schema=False)]  # the site parameter
ParcelParam = Annotated[str | None, Query(include_in_schema=False)]  # says these three
PolygonParam = Annotated[str | None, Query(include_in_schema=False)]
CrsParam = Annotated[
    str | None,
    Query(
        description="CRS of point/polygon (default: the workspace CRS)",
        json_schema_extra={"enum": _QUERY_CRS},
    ),
]
AsOfParam = Annotated[
    date | None, Query(description="Valid time: plans in force on this date (default today)")
]
KnownAtParam = Annotated[datetime | None, Query(description="Record time (UTC; default now)")]
DvParam = Annotated[str | None, Query(description="Data version a permanent link pins")]


@router.get(
    "/query",
    summary="What applies to a site (空间码)",
    response_class=Response,
    responses=_JSON_ANSWER,
    openapi_extra=_SITE_EXTRA,
)
def get_query(
    request: Request,
    store: Store,
    who: Who,
    point: PointParam = None,
    parcel: ParcelParam = None,
    polygon: PolygonParam = None,
    crs: CrsParam = None,
    as_of: AsOfParam = None,
    known_at: KnownAtParam = None,
    dv: DvParam = None,
) -> Response:
    """Every feature that applies to the site, with shares, plans and versions."""
    report = site_query(request).query(
        store,
        point=point,
        parcel=parcel,
        polygon=polygon,
        crs=crs,
        as_of=as_of,
        known_at=known_at,
        pinned=dv,
        principal=who,
    )
    return _answer(request, _audited(request, store, who, report, "site-query").to_dict())


@router.post(
    "/query",
    summary="What applies to a GeoJSON polygon (空间码)",
    response_class=Response,
    responses={**_JSON_ANSWER, 413: {"description": "The body is larger than max_upload_mb."}},
)
def post_query(
    request: Request,
    store: Store,
    who: Who,
    geojson: Annotated[
        dict[str, Any],
        Body(
            description="GeoJSON Polygon, MultiPolygon, Feature or FeatureCollection "
            "of one feature",
            json_schema_extra=GEOJSON_BODY,
        ),
    ],
    crs: CrsParam = None,
    as_of: AsOfParam = None,
    known_at: KnownAtParam = None,
) -> Response:
    """The same answer for a polygon sent as the GeoJSON body."""
    settings: Settings = request.app.state.settings
    size = int(request.headers.get("content-length") or 0)
    if size > settings.max_upload_mb * 1024 * 1024:
        raise InputError(
            f"The GeoJSON body is larger than {settings.max_upload_mb:g} MB.",
            fix="Simplify the polygon.",
            message_zh=f"提交的 GeoJSON 超过 {settings.max_upload_mb:g} MB。",
            fix_zh="请简化多边形。",
        )
    report = site_query(request).query(
        store, polygon=geojson, crs=crs, as_of=as_of, known_at=known_at, principal=who
    )
    return _answer(request, _audited(request, store, who, report, "site-query").to_dict())


@router.get(
    "/query/sheet",
    response_class=HTMLResponse,
    summary="Printable sheet of a site query (规划条件)",
    responses={400: _JSON_ANSWER[400], 404: _NOT_FOUND},
    openapi_extra=_SITE_EXTRA,
)
def get_sheet(
    request: Request,
    store: Store,
    who: Who,
    point: PointParam = None,
    parcel: ParcelParam = None,
    polygon: PolygonParam = None,
    crs: CrsParam = None,
    as_of: AsOfParam = None,
    known_at: KnownAtParam = None,
    dv: DvParam = None,
) -> HTMLResponse:
    """The sheet: self-contained HTML (no external resource) with a QR code of its link."""
    report = site_query(request).query(
        store,
        point=point,
        parcel=parcel,
        polygon=polygon,
        crs=crs,
        as_of=as_of,
        known_at=known_at,
        pinned=dv,
        principal=who,
    )
    doc = _audited(request, store, who, report, "site-sheet").to_dict()
    if known_at is not None:
        doc["known_at"] = known_at.isoformat()
    if dv is not None and known_at is not None:
        doc["data_version"] = dv  # known_at reproduces the data of that version
    return HTMLResponse(sheet_html(doc, _base(request), lang=_lang(request)))
