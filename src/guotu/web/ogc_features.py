"""OGC API - Features: Part 1 core (GeoJSON, HTML, OpenAPI 3.0) and Part 2 CRS.

Routes: the landing page ``/``, ``/conformance``, ``/collections``,
``/collections/{layer}``, ``/collections/{layer}/queryables`` (Part 3 style JSON Schema of
the property filters), ``/collections/{layer}/items`` and
``/collections/{layer}/items/{fid}``. Each layer of the workspace is a collection; a
feature's id is its fid (revision id). Handlers parse the request and call
:mod:`guotu.services.features`; errors go through :mod:`guotu.web.errors`.

Choices a client can rely on:

* ``limit`` defaults to ``Settings.default_items_limit``; a larger value than
  ``Settings.max_items_limit`` is clamped to it (Part 1 says it must not be an error); the
  OpenAPI document at ``/api`` states both, so GDAL's OAPIF driver pages by them;
* ``bbox`` is four numbers (or six, heights ignored) of any size: the page limit protects
  the server, so a province-wide box is paged, never refused; a box with its corners swapped
  is a 400, and a box outside the area of the workspace CRS matches nothing;
* ``datetime`` picks the version in force on a day: a date or date-time, or an interval's
  end (an open end is today);
* ``crs`` and ``bbox-crs`` take CRS84, EPSG:4490 or the workspace CRS, with the axis order
  of their definitions (EPSG:4490 is latitude, longitude; the CGCS2000 Gauss-Krüger CRSs
  are northing, easting); the answer names its CRS in the ``Content-Crs`` header;
* a query parameter that is neither one of these nor a column of the layer is a 400; the
  OpenAPI document lists each collection's items path with its columns as parameters, so a
  client (GDAL's ``-where YDYHFLDM='0703'``) sends equality filters to the server.

The routes are here; how their answers are written (media types, JSON and HTML pages, links,
the parameters a request may carry) is :mod:`guotu.web.ogc_format`, and how an items request
is read and its features written (bbox, datetime, crs, paging links) is
:mod:`guotu.web.ogc_items`.
"""

from __future__ import annotations

import dataclasses
import html
from typing import Annotated, Any

import numpy as np
import shapely
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pyproj import CRS

from guotu.domain.access.policy import Principal
from guotu.domain.core.catalog import LayerInfo
from guotu.ports import FeatureStore
from guotu.services import features as svc
from guotu.services.access import LayerAccess, access_for, record_restricted_read
from guotu.services.workspace import data_version, workspace_crs
from guotu.settings import Settings
from guotu.web.deps import Who, audit_sink, open_store
from guotu.web.ogc_format import (
    GEOJSON,
    HTML,
    JSON,
    OPENAPI,
    QUERYABLES_REL,
    SCHEMA_JSON,
    absolute_url,
    check_params,
    html_page,
    html_table,
    json_response,
    ogc_link,
    openapi_responses,
    wants_html,
)
from guotu.web.ogc_items import (
    as_of_date,
    bbox_in_workspace,
    features_geojson,
    features_html,
    output_crs,
    page_links,
    parse_bbox,
    timestamp,
)
from guotu.web.openapi30 import column_schema, ogc_parameters, with_ogc

__all__ = ["openapi_document", "router"]

router = APIRouter(tags=["OGC API - Features"])

CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
)

_COMMON = {"f", "lang"}
_ITEMS_PARAMS = _COMMON | {"bbox", "bbox-crs", "limit", "offset", "datetime", "crs"}
_ITEM_PARAMS = _COMMON | {"crs", "datetime"}

Store = Annotated[FeatureStore, Depends(open_store)]
FormatParam = Annotated[
    str | None,
    Query(
        description="Output format: json (GeoJSON for features) or html.", pattern="^(json|html)$"
    ),
]
CrsParam = Annotated[
    str | None,
    Query(
        description="CRS of the coordinates (Part 2): CRS84 (default), EPSG:4490 (lat, lon) or the "
        "workspace CRS (axis order of its EPSG definition)."
    ),
]
DatetimeParam = Annotated[
    str | None,
    Query(
        description="As-of date: a date, a date-time or an interval (its end is used; an open end "
        "is today)."
    ),
]
LayerParam = Annotated[str, Path(description="Layer name (collection id).")]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _shown(info: LayerInfo, access: LayerAccess) -> LayerInfo:
    """``info`` with only the columns the principal may see (hidden fields are absent from
    every answer: properties, queryables, property filters, the OpenAPI document)."""
    columns = access.columns(info.name, info.columns)
    if len(columns) == len(info.columns):
        return info
    return dataclasses.replace(info, columns={c: info.columns[c] for c in columns})


def _address(request: Request) -> str:
    return request.client.host if request.client is not None else ""


# -- landing page and conformance -----------------------------------------------------------
@router.get(
    "/",
    summary="Landing page",
    response_class=Response,
    responses=openapi_responses(JSON, "LandingPage", not_found=False),
)
def landing_page(request: Request, f: FormatParam = None) -> Response:
    """The landing page: links to the API definition, conformance and collections."""
    check_params(request, _COMMON)
    links = [
        ogc_link(absolute_url(request, "/"), "self", JSON, "本页"),
        ogc_link(absolute_url(request, "/", f="html"), "alternate", HTML, "本页（网页）"),
        ogc_link(absolute_url(request, "/api"), "service-desc", OPENAPI, "OpenAPI 3 接口定义"),
        ogc_link(absolute_url(request, "/api.html"), "service-doc", HTML, "接口文档"),
        ogc_link(absolute_url(request, "/ui/"), "related", HTML, "一张图网页地图"),
        ogc_link(absolute_url(request, "/conformance"), "conformance", JSON, "符合的标准类"),
        ogc_link(absolute_url(request, "/collections"), "data", JSON, "要素集合"),
    ]
    title = "国土空间规划一张图 OGC API - Features"
    if wants_html(request):
        items = "".join(
            f'<li><a href="{html.escape(link["href"])}">{html.escape(link["title"])}</a></li>'
            for link in links[2:]
        )
        return html_page(
            title, f"<p>本服务以 OGC API - Features 发布工作空间中的图层。</p><ul>{items}</ul>"
        )
    return json_response(
        {
            "title": title,
            "description": "guotu 工作空间的图层（OGC API - Features）。",
            "links": links,
        }
    )


@router.get(
    "/conformance",
    summary="Conformance classes",
    response_class=Response,
    responses=openapi_responses(JSON, "ConfClasses", not_found=False),
)
def conformance(request: Request, f: FormatParam = None) -> Response:
    """The conformance classes this service implements."""
    check_params(request, _COMMON)
    if wants_html(request):
        rows = "".join(f"<li><code>{c}</code></li>" for c in CONFORMANCE)
        return html_page("符合的标准类", f"<ul>{rows}</ul>")
    return json_response({"conformsTo": list(CONFORMANCE)})


# -- collections ----------------------------------------------------------------------------
def _extent(
    request: Request, store: FeatureStore, name: str, access: LayerAccess
) -> tuple[float, float, float, float] | None:
    """The layer's extent (of the principal's rows), cached by data version and row filter."""
    state = request.app.state
    if not hasattr(state, "ogc_extents"):
        state.ogc_extents = {}
    cache: dict[tuple[str, str, Any], Any] = state.ogc_extents
    rows = access.row_filter(name)
    key = (data_version(store), name, rows)
    if key not in cache:
        if len(cache) > 1000:
            cache.clear()
        cache[key] = svc.layer_extent(store, name, rows)
    return cache[key]  # type: ignore[no-any-return]


def _bbox_in(bbox: tuple[float, float, float, float], source: CRS, target: CRS) -> list[float]:
    """``bbox`` (easting/northing of ``source``) as an extent of ``target`` in its axis order."""
    ring = shapely.segmentize(
        shapely.box(*bbox), (bbox[2] - bbox[0] + bbox[3] - bbox[1]) / 40 or 1.0
    )
    (moved,) = svc.to_output_crs(np.array([ring], dtype=object), source, target)
    return [round(float(v), 9) for v in shapely.bounds(moved)]


def _collection(
    request: Request, store: FeatureStore, info: LayerInfo, ws_crs: CRS, access: LayerAccess
) -> dict[str, Any]:
    base = f"/collections/{info.name}"
    out: dict[str, Any] = {
        "id": info.name,
        "title": info.name,
        "description": f"{info.name}（{info.role}，{info.geometry_type}）",
        "itemType": "feature",
        "links": [
            ogc_link(absolute_url(request, base), "self", JSON, info.name),
            ogc_link(absolute_url(request, base, f="html"), "alternate", HTML, info.name),
            ogc_link(absolute_url(request, base + "/items"), "items", GEOJSON, f"{info.name} 要素"),
            ogc_link(
                absolute_url(request, base + "/items", f="html"), "items", HTML, f"{info.name} 要素"
            ),
            ogc_link(
                absolute_url(request, base + "/queryables"),
                QUERYABLES_REL,
                SCHEMA_JSON,
                f"{info.name} 可筛选字段",
            ),
        ],
        "crs": list(svc.supported_crs(ws_crs)),
        "storageCrs": svc.crs_uri(ws_crs),
    }
    extent = _extent(request, store, info.name, access)
    if extent is not None:
        out["extent"] = {
            "spatial": {
                "bbox": [_bbox_in(extent, ws_crs, svc.CRS84)],
                "crs": svc.CRS84_URI,
                "storageCrsBbox": [_bbox_in(extent, ws_crs, ws_crs)],
            }
        }
    return out


@router.get(
    "/collections",
    summary="Feature collections",
    response_class=Response,
    responses=openapi_responses(JSON, "Collections", not_found=False),
)
def collections(request: Request, store: Store, who: Who, f: FormatParam = None) -> Response:
    """Every layer of the workspace the principal may read as a feature collection (the
    others are absent, as GeoServer's HIDE catalogue mode hides them)."""
    check_params(request, _COMMON)
    access = access_for(store, who)
    infos = [i for i in store.layers() if access.may_read(i.name)]
    ws_crs = workspace_crs(store) if infos else svc.CRS84
    body = {
        "links": [
            ogc_link(absolute_url(request, "/collections"), "self", JSON, "要素集合"),
            ogc_link(
                absolute_url(request, "/collections", f="html"), "alternate", HTML, "要素集合"
            ),
        ],
        "crs": list(svc.supported_crs(ws_crs)),
        "collections": [_collection(request, store, i, ws_crs, access) for i in infos],
    }
    if wants_html(request):
        rows = [
            (
                f'<a href="/collections/{html.escape(i.name)}?f=html">{html.escape(i.name)}</a>',
                html.escape(i.role),
                html.escape(i.geometry_type),
                str(i.features) if access.row_filter(i.name) is None else "—",
            )
            for i in infos
        ]
        return html_page("要素集合", html_table(("名称", "角色", "几何类型", "要素数"), rows))
    return json_response(body)


@router.get(
    "/collections/{layer}",
    summary="One feature collection",
    response_class=Response,
    responses=openapi_responses(JSON, "Collection"),
)
def collection(
    request: Request, store: Store, who: Who, layer: LayerParam, f: FormatParam = None
) -> Response:
    """One layer's description: extent (CRS84 and storage CRS), CRS list, links."""
    check_params(request, _COMMON)
    access = access_for(store, who)
    info = _shown(svc.find_layer(store, layer, access), access)
    body = _collection(request, store, info, workspace_crs(store), access)
    if wants_html(request):
        rows = [(html.escape(c), html.escape(t)) for c, t in info.columns.items()]
        extent = body.get("extent", {}).get("spatial", {}).get("bbox", [["—"]])[0]
        text = (
            f"<p>角色：{html.escape(info.role)}；几何类型：{html.escape(info.geometry_type)}；"
            f"要素数：{info.features if access.row_filter(info.name) is None else '—'}；存储坐标系：<code>{body['storageCrs']}</code></p>"
            f"<p>范围（CRS84）：{html.escape(', '.join(str(v) for v in extent))}</p>"
            f'<p><a href="/collections/{html.escape(info.name)}/items?f=html">浏览要素</a></p>'
            + html_table(("字段", "类型"), rows)
        )
        return html_page(f"要素集合 {info.name}", text)
    return json_response(body)


# -- queryables -----------------------------------------------------------------------------
def _filter_columns(info: LayerInfo) -> dict[str, str]:
    """The columns a request can filter on (a column named like a parameter cannot)."""
    return {c: t for c, t in info.columns.items() if c not in _ITEMS_PARAMS}


@router.get(
    "/collections/{layer}/queryables",
    summary="Property filters of a collection",
    response_class=Response,
    responses=openapi_responses(SCHEMA_JSON, "Queryables"),
)
def queryables(
    request: Request, store: Store, who: Who, layer: LayerParam, f: FormatParam = None
) -> Response:
    """The columns an items request filters on (``?COLUMN=value``, equal values), as a JSON
    Schema (OGC API - Features Part 3 style); hidden fields are not among them."""
    check_params(request, _COMMON)
    access = access_for(store, who)
    info = _shown(svc.find_layer(store, layer, access), access)
    columns = _filter_columns(info)
    if wants_html(request):
        rows = [(html.escape(c), html.escape(t)) for c, t in columns.items()]
        return html_page(
            f"{info.name} 可筛选字段",
            "<p>要素查询可按下列字段的取值相等筛选，"
            f"如 <code>?{html.escape(next(iter(columns), 'BSM'))}=…</code>。</p>"
            + html_table(("字段", "类型"), rows),
        )
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": absolute_url(request, f"/collections/{info.name}/queryables"),
        "type": "object",
        "title": info.name,
        "properties": {c: {"title": c, **column_schema(t)} for c, t in columns.items()},
        "additionalProperties": False,
    }
    return json_response(body, SCHEMA_JSON)


@router.get(
    "/collections/{layer}/items",
    summary="Features of a collection",
    response_class=Response,
    responses=openapi_responses(GEOJSON, "FeatureCollection"),
)
def items(
    request: Request,
    store: Store,
    who: Who,
    layer: LayerParam,
    bbox: Annotated[
        str | None, Query(description="minx,miny,maxx,maxy in the axis order of bbox-crs.")
    ] = None,
    bbox_crs: Annotated[
        str | None, Query(alias="bbox-crs", description="CRS of bbox (default CRS84).")
    ] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, description="Features per page; values above the server maximum are clamped."),
    ] = None,
    offset: Annotated[int, Query(ge=0, description="Features to skip.")] = 0,
    datetime: DatetimeParam = None,
    crs: CrsParam = None,
    f: FormatParam = None,
) -> Response:
    """A page of features, ordered by fid; other parameters filter on equal column values.

    Responses are GeoJSON (``application/geo+json``) or HTML, in the CRS of ``crs``. Only the
    principal's rows count (``numberMatched`` too) and only the fields they may see show.
    """
    settings = _settings(request)
    access = access_for(store, who)
    whole = svc.find_layer(store, layer, access)
    info = _shown(whole, access)
    filters = svc.parse_filters(info, check_params(request, _ITEMS_PARAMS, info))
    shown = None if info is whole else list(info.columns)
    ws_crs = workspace_crs(store)
    crs_uri, out_crs = output_crs(request, ws_crs)
    as_of = as_of_date(datetime)
    box = None
    size = min(limit or settings.default_items_limit, settings.max_items_limit)
    box_crs = (
        svc.CRS84 if bbox_crs is None else svc.parse_crs(bbox_crs, ws_crs, parameter="bbox-crs")[1]
    )
    if bbox is not None:
        box = bbox_in_workspace(parse_bbox(bbox), box_crs, ws_crs)
    if bbox is not None and box is None:  # outside the workspace CRS's area: nothing there
        page = svc.ItemsPage(
            frame=store.read_revisions(info.name, [], shown),
            number_matched=0,
            offset=offset,
            limit=size,
        )
    else:
        page = svc.read_items(
            store,
            svc.ItemsQuery(
                layer=info.name,
                offset=offset,
                limit=size,
                bbox=box,
                filters=filters,
                as_of=as_of,
                columns=shown,
                rows=access.row_filter(info.name),
            ),
        )
    record_restricted_read(
        store, access, info.name, "ogc-items", _address(request), sink=audit_sink(request)
    )
    feats = features_geojson(page.frame, ws_crs, out_crs)
    headers = {"Content-Crs": f"<{crs_uri}>"}
    links = page_links(request, page, size)
    if wants_html(request):
        nav = "".join(
            f' <a href="{html.escape(link["href"])}">{label}</a>'
            for link, label in (
                (lk, {"prev": "上一页", "next": "下一页"}.get(lk["rel"])) for lk in links
            )
            if label
        )
        text = (
            f"<p>共 {page.number_matched} 个要素，本页 {len(feats)} 个（自第 "
            f"{offset + 1} 个起）。{nav}</p>" + features_html(info.name, feats)
        )
        return html_page(f"{info.name} 要素", text, headers)
    body = {
        "type": "FeatureCollection",
        "features": feats,
        "links": links,
        "numberMatched": page.number_matched,
        "numberReturned": len(feats),
        "timeStamp": timestamp(),
    }
    return json_response(body, GEOJSON, headers)


@router.get(
    "/collections/{layer}/items/{fid}",
    summary="One feature",
    response_class=Response,
    responses=openapi_responses(GEOJSON, "Feature"),
)
def item(
    request: Request,
    store: Store,
    who: Who,
    layer: LayerParam,
    fid: Annotated[int, Path(description="Feature id (fid).")],
    datetime: DatetimeParam = None,
    crs: CrsParam = None,
    f: FormatParam = None,
) -> Response:
    """One feature (as in force on ``datetime``), GeoJSON or HTML."""
    check_params(request, _ITEM_PARAMS)
    access = access_for(store, who)
    whole = svc.find_layer(store, layer, access)
    info = _shown(whole, access)
    ws_crs = workspace_crs(store)
    crs_uri, out_crs = output_crs(request, ws_crs)
    frame = svc.read_item(
        store,
        info.name,
        fid,
        as_of_date(datetime),
        columns=None if info is whole else list(info.columns),
        rows=access.row_filter(info.name),
    )
    record_restricted_read(
        store, access, info.name, "ogc-item", _address(request), sink=audit_sink(request)
    )
    (feat,) = features_geojson(frame, ws_crs, out_crs)
    headers = {"Content-Crs": f"<{crs_uri}>"}
    base = f"/collections/{info.name}"
    feat["links"] = [
        ogc_link(str(request.url.remove_query_params("f")), "self", GEOJSON, "本要素"),
        ogc_link(
            str(request.url.include_query_params(f="html")), "alternate", HTML, "本要素（网页）"
        ),
        ogc_link(absolute_url(request, base), "collection", JSON, info.name),
    ]
    if wants_html(request):
        rows = [
            (html.escape(k), html.escape("" if v is None else str(v)))
            for k, v in feat["properties"].items()
        ]
        return html_page(f"{info.name} 要素 {fid}", html_table(("字段", "值"), rows), headers)
    return json_response(feat, GEOJSON, headers)


# -- the OpenAPI document ---------------------------------------------------------------------
#: The OGC routes of the document whose query parameters are the shared ``$ref``s.
_OGC_PATHS = [
    "/",
    "/conformance",
    "/collections",
    "/collections/{layer}",
    "/collections/{layer}/queryables",
    "/collections/{layer}/items",
    "/collections/{layer}/items/{fid}",
]


def openapi_document(
    doc: dict[str, Any],
    store: FeatureStore | None,
    settings: Settings,
    principal: Principal | None = None,
) -> dict[str, Any]:
    """``doc`` (the app's OpenAPI 3.0 document, changed in place) with the OGC parameters,
    ``limit``'s default and maximum, the CRSs of the workspace, and one items path per
    collection listing its property filters (GDAL's OAPIF driver reads both: its page size
    from ``limit``, and which ``-where`` equalities it may send to the server). Without a
    ``store``: no collections, and CRS84 and EPSG:4490 only.

    With ``principal``, only the collections they may read, with the fields they may see
    (a document cached for one principal must not be served to another); without it, every
    collection and field (a local caller's view)."""
    infos = store.layers() if store is not None else []
    if store is not None and principal is not None:
        access = access_for(store, principal)
        infos = [_shown(i, access) for i in infos if access.may_read(i.name)]
    ws_crs = workspace_crs(store) if store is not None and infos else svc.CRS84
    parameters = ogc_parameters(
        default_limit=settings.default_items_limit,
        max_limit=settings.max_items_limit,
        crs_uris=list(svc.supported_crs(ws_crs)),
    )
    collections = {i.name: _filter_columns(i) for i in infos}
    return with_ogc(doc, parameters, _OGC_PATHS, collections, "/collections/{layer}/items")
