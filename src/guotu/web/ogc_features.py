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
"""

from __future__ import annotations

import html
import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any

import numpy as np
import shapely
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from pyproj import CRS

from guotu.errors import CRSError, InputError
from guotu.services import features as svc
from guotu.services.workspace import data_version
from guotu.settings import Settings
from guotu.store.revisions import LayerInfo
from guotu.web.deps import open_store
from guotu.web.openapi30 import (
    DATETIME_PATTERN,
    column_schema,
    error_response,
    ogc_parameters,
    with_ogc,
)

__all__ = ["openapi_document", "router"]

router = APIRouter(tags=["OGC API - Features"])

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"

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

Store = Annotated[Any, Depends(open_store)]
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


def _answers(media: str, schema: str, *, not_found: bool = True) -> dict[int | str, Any]:
    """The responses of an OGC route: ``schema`` in ``media`` or an HTML page; 400; 404."""
    out: dict[int | str, Any] = {
        200: {
            "description": "The answer (JSON by default; HTML for f=html or a browser).",
            "content": {
                media: {"schema": {"$ref": f"#/components/schemas/{schema}"}},
                HTML: {"schema": {"type": "string"}},
            },
        },
        400: error_response(400, ogc=True),
    }
    if not_found:
        out[404] = error_response(
            404,
            ogc=True,
            description="No such collection or feature (or none in force on datetime).",
        )
    return out


# -- format ---------------------------------------------------------------------------------
def _wants_html(request: Request) -> bool:
    fmt = request.query_params.get("f")
    if fmt is not None:
        if fmt not in ("json", "html"):
            raise InputError(
                f"Parameter f={fmt!r} is not an output format of this service.",
                field="f",
                fix="Use f=json or f=html.",
                message_zh=f"参数 f={fmt!r} 不是本服务的输出格式。",
                fix_zh="请用 f=json 或 f=html。",
            )
        return fmt == "html"
    accept = request.headers.get("accept", "")
    if HTML not in accept:
        return False
    json_at = min((accept.find(t) for t in ("json",) if t in accept), default=len(accept))
    return accept.find(HTML) < json_at


def _json(body: Any, media_type: str = JSON, headers: Mapping[str, str] | None = None) -> Response:
    text = json.dumps(body, ensure_ascii=False, default=_json_value, allow_nan=False)
    return Response(text, media_type=media_type, headers=dict(headers or {}))


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def _html(title: str, body: str, headers: Mapping[str, str] | None = None) -> Response:
    page = (
        '<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8">'
        f"<title>{html.escape(title)}</title><style>"
        "body{font-family:sans-serif;margin:2em;max-width:70em}"
        "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:.2em .5em}"
        "th{background:#f3f3f3}code{background:#f6f6f6}</style></head><body>"
        f'<p><a href="/">首页</a> · <a href="/collections?f=html">要素集合</a></p>'
        f"<h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return Response(page, media_type="text/html; charset=utf-8", headers=dict(headers or {}))


def _table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def _url(request: Request, path: str, **params: Any) -> str:
    url = str(request.base_url).rstrip("/") + path
    query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"{url}?{query}" if query else url


def _check_params(
    request: Request, allowed: set[str], info: LayerInfo | None = None
) -> dict[str, str]:
    """The query parameters that are not in ``allowed``: property filters when ``info`` is
    given (unknown names are a 400), else a 400 at once. ``lang`` must be zh or en."""
    lang = request.query_params.get("lang")
    if lang is not None and lang not in ("zh", "en"):
        raise InputError(
            f"Parameter lang={lang!r} is not a language of this service.",
            field="lang",
            fix="Use lang=zh or lang=en.",
            message_zh=f"参数 lang={lang!r} 不是本服务支持的语言。",
            fix_zh="请用 lang=zh 或 lang=en。",
        )
    extra = {k: v for k, v in request.query_params.items() if k not in allowed}
    if info is None and extra:
        name = next(iter(extra))
        raise InputError(
            f"Parameter {name!r} is not a parameter of this request.",
            field=name,
            fix=f"Parameters: {', '.join(sorted(allowed))}.",
            message_zh=f"参数 {name!r} 不是本请求的参数。",
            fix_zh=f"可用参数：{'、'.join(sorted(allowed))}。",
        )
    return extra


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _workspace_crs(store: Any) -> CRS:
    crs = store.crs
    if crs is None:
        raise CRSError(
            "The workspace has no CRS yet: it holds no layer.",
            fix="Import a layer first.",
            message_zh="工作空间尚无坐标参考系：其中还没有图层。",
            fix_zh="请先导入图层。",
        )
    return crs  # type: ignore[no-any-return]


# -- landing page and conformance -----------------------------------------------------------
@router.get(
    "/",
    summary="Landing page",
    response_class=Response,
    responses=_answers(JSON, "LandingPage", not_found=False),
)
def landing_page(request: Request, f: FormatParam = None) -> Response:
    """The landing page: links to the API definition, conformance and collections."""
    _check_params(request, _COMMON)
    links = [
        _link(_url(request, "/"), "self", JSON, "本页"),
        _link(_url(request, "/", f="html"), "alternate", HTML, "本页（网页）"),
        _link(_url(request, "/api"), "service-desc", OPENAPI, "OpenAPI 3 接口定义"),
        _link(_url(request, "/api.html"), "service-doc", HTML, "接口文档"),
        _link(_url(request, "/ui/"), "related", HTML, "一张图网页地图"),
        _link(_url(request, "/conformance"), "conformance", JSON, "符合的标准类"),
        _link(_url(request, "/collections"), "data", JSON, "要素集合"),
    ]
    title = "国土空间规划一张图 OGC API - Features"
    if _wants_html(request):
        items = "".join(
            f'<li><a href="{html.escape(link["href"])}">{html.escape(link["title"])}</a></li>'
            for link in links[2:]
        )
        return _html(
            title, f"<p>本服务以 OGC API - Features 发布工作空间中的图层。</p><ul>{items}</ul>"
        )
    return _json(
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
    responses=_answers(JSON, "ConfClasses", not_found=False),
)
def conformance(request: Request, f: FormatParam = None) -> Response:
    """The conformance classes this service implements."""
    _check_params(request, _COMMON)
    if _wants_html(request):
        rows = "".join(f"<li><code>{c}</code></li>" for c in CONFORMANCE)
        return _html("符合的标准类", f"<ul>{rows}</ul>")
    return _json({"conformsTo": list(CONFORMANCE)})


# -- collections ----------------------------------------------------------------------------
def _extent(request: Request, store: Any, name: str) -> tuple[float, float, float, float] | None:
    state = request.app.state
    if not hasattr(state, "ogc_extents"):
        state.ogc_extents = {}
    cache: dict[tuple[str, str], Any] = state.ogc_extents
    key = (data_version(store), name)
    if key not in cache:
        if len(cache) > 1000:
            cache.clear()
        cache[key] = svc.layer_extent(store, name)
    return cache[key]  # type: ignore[no-any-return]


def _bbox_in(bbox: tuple[float, float, float, float], source: CRS, target: CRS) -> list[float]:
    """``bbox`` (easting/northing of ``source``) as an extent of ``target`` in its axis order."""
    ring = shapely.segmentize(
        shapely.box(*bbox), (bbox[2] - bbox[0] + bbox[3] - bbox[1]) / 40 or 1.0
    )
    (moved,) = svc.to_output_crs(np.array([ring], dtype=object), source, target)
    return [round(float(v), 9) for v in shapely.bounds(moved)]


def _collection(request: Request, store: Any, info: LayerInfo, ws_crs: CRS) -> dict[str, Any]:
    base = f"/collections/{info.name}"
    out: dict[str, Any] = {
        "id": info.name,
        "title": info.name,
        "description": f"{info.name}（{info.role}，{info.geometry_type}）",
        "itemType": "feature",
        "links": [
            _link(_url(request, base), "self", JSON, info.name),
            _link(_url(request, base, f="html"), "alternate", HTML, info.name),
            _link(_url(request, base + "/items"), "items", GEOJSON, f"{info.name} 要素"),
            _link(_url(request, base + "/items", f="html"), "items", HTML, f"{info.name} 要素"),
            _link(
                _url(request, base + "/queryables"),
                QUERYABLES_REL,
                SCHEMA_JSON,
                f"{info.name} 可筛选字段",
            ),
        ],
        "crs": list(svc.supported_crs(ws_crs)),
        "storageCrs": svc.crs_uri(ws_crs),
    }
    extent = _extent(request, store, info.name)
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
    responses=_answers(JSON, "Collections", not_found=False),
)
def collections(request: Request, store: Store, f: FormatParam = None) -> Response:
    """Every layer of the workspace as a feature collection."""
    _check_params(request, _COMMON)
    infos = store.layers()
    ws_crs = _workspace_crs(store) if infos else svc.CRS84
    body = {
        "links": [
            _link(_url(request, "/collections"), "self", JSON, "要素集合"),
            _link(_url(request, "/collections", f="html"), "alternate", HTML, "要素集合"),
        ],
        "crs": list(svc.supported_crs(ws_crs)),
        "collections": [_collection(request, store, i, ws_crs) for i in infos],
    }
    if _wants_html(request):
        rows = [
            (
                f'<a href="/collections/{html.escape(i.name)}?f=html">{html.escape(i.name)}</a>',
                html.escape(i.role),
                html.escape(i.geometry_type),
                str(i.features),
            )
            for i in infos
        ]
        return _html("要素集合", _table(("名称", "角色", "几何类型", "要素数"), rows))
    return _json(body)


@router.get(
    "/collections/{layer}",
    summary="One feature collection",
    response_class=Response,
    responses=_answers(JSON, "Collection"),
)
def collection(
    request: Request, store: Store, layer: LayerParam, f: FormatParam = None
) -> Response:
    """One layer's description: extent (CRS84 and storage CRS), CRS list, links."""
    _check_params(request, _COMMON)
    info = svc.find_layer(store, layer)
    body = _collection(request, store, info, _workspace_crs(store))
    if _wants_html(request):
        rows = [(html.escape(c), html.escape(t)) for c, t in info.columns.items()]
        extent = body.get("extent", {}).get("spatial", {}).get("bbox", [["—"]])[0]
        text = (
            f"<p>角色：{html.escape(info.role)}；几何类型：{html.escape(info.geometry_type)}；"
            f"要素数：{info.features}；存储坐标系：<code>{body['storageCrs']}</code></p>"
            f"<p>范围（CRS84）：{html.escape(', '.join(str(v) for v in extent))}</p>"
            f'<p><a href="/collections/{html.escape(info.name)}/items?f=html">浏览要素</a></p>'
            + _table(("字段", "类型"), rows)
        )
        return _html(f"要素集合 {info.name}", text)
    return _json(body)


# -- queryables -----------------------------------------------------------------------------
def _filter_columns(info: LayerInfo) -> dict[str, str]:
    """The columns a request can filter on (a column named like a parameter cannot)."""
    return {c: t for c, t in info.columns.items() if c not in _ITEMS_PARAMS}


@router.get(
    "/collections/{layer}/queryables",
    summary="Property filters of a collection",
    response_class=Response,
    responses=_answers(SCHEMA_JSON, "Queryables"),
)
def queryables(
    request: Request, store: Store, layer: LayerParam, f: FormatParam = None
) -> Response:
    """The columns an items request filters on (``?COLUMN=value``, equal values), as a JSON
    Schema (OGC API - Features Part 3 style)."""
    _check_params(request, _COMMON)
    info = svc.find_layer(store, layer)
    columns = _filter_columns(info)
    if _wants_html(request):
        rows = [(html.escape(c), html.escape(t)) for c, t in columns.items()]
        return _html(
            f"{info.name} 可筛选字段",
            "<p>要素查询可按下列字段的取值相等筛选，"
            f"如 <code>?{html.escape(next(iter(columns), 'BSM'))}=…</code>。</p>"
            + _table(("字段", "类型"), rows),
        )
    body = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _url(request, f"/collections/{info.name}/queryables"),
        "type": "object",
        "title": info.name,
        "properties": {c: {"title": c, **column_schema(t)} for c, t in columns.items()},
        "additionalProperties": False,
    }
    return _json(body, SCHEMA_JSON)


# -- items ----------------------------------------------------------------------------------
def _parse_bbox(text: str) -> list[float]:
    """Four numbers, lower corner first (six: heights dropped)."""
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        values = []
    if len(values) == 6:
        values = [values[0], values[1], values[3], values[4]]
    if (
        len(values) != 4
        or not all(math.isfinite(v) for v in values)
        or (values[0] > values[2] or values[1] > values[3])
    ):
        raise InputError(
            f"Parameter bbox={text!r} is not four numbers, lower corner first.",
            field="bbox",
            fix="Give bbox=minx,miny,maxx,maxy in the axis order of bbox-crs (CRS84: lon,lat).",
            message_zh=f"参数 bbox={text!r} 不是先左下角的四个数。",
            fix_zh="请按 bbox-crs 的坐标轴顺序写 bbox=最小1,最小2,最大1,最大2（CRS84 为经度,纬度）。",
        )
    return values


#: How far beyond the area of use of the workspace CRS a bbox still selects features
#: (degrees): a county may reach a little past its Gauss-Krüger zone.
_AREA_MARGIN_DEG = 5.0


def _bbox_in_workspace(
    values: list[float], box_crs: CRS, ws_crs: CRS
) -> tuple[float, float, float, float] | None:
    """``values`` (axis order of ``box_crs``) as a box of the workspace CRS; ``None`` when
    the box lies outside the area the workspace CRS covers (so nothing matches). A box in
    longitude/latitude is first cut to the valid ranges and to that area (plus a margin), so
    a continent-sized box never projects to infinities."""
    if box_crs == ws_crs or not box_crs.is_geographic:
        return svc.bbox_to_workspace(values, box_crs, ws_crs)
    lat_first = box_crs.axis_info[0].direction.lower() in ("north", "south")
    lon0, lat0, lon1, lat1 = (
        (values[1], values[0], values[3], values[2]) if lat_first else tuple(values)
    )
    west, south, east, north = -180.0, -90.0, 180.0, 90.0
    area = ws_crs.area_of_use
    if area is not None and not ws_crs.is_geographic:
        m = _AREA_MARGIN_DEG
        west, south = max(west, area.west - m), max(south, area.south - m)
        east, north = min(east, area.east + m), min(north, area.north + m)
    lon0, lon1 = max(lon0, west), min(lon1, east)
    lat0, lat1 = max(lat0, south), min(lat1, north)
    if lon0 > lon1 or lat0 > lat1:
        return None
    cut = [lat0, lon0, lat1, lon1] if lat_first else [lon0, lat0, lon1, lat1]
    return svc.bbox_to_workspace(cut, box_crs, ws_crs)


def _as_of(text: str | None) -> date | None:
    """The as-of date of ``datetime``: exactly what the OpenAPI document's pattern admits."""
    if text is not None and not re.match(DATETIME_PATTERN, text):
        raise InputError(
            f"Parameter datetime={text!r} is not an RFC 3339 date, date-time or interval.",
            field="datetime",
            fix="Give e.g. 2024-05-01, 2024-05-01T00:00:00Z or ../2024-05-01.",
            message_zh=f"参数 datetime={text!r} 不是 RFC 3339 日期、时刻或区间。",
            fix_zh="请写成 2024-05-01、2024-05-01T00:00:00Z 或 ../2024-05-01。",
        )
    return svc.parse_datetime(text)


def _out_crs(request: Request, ws_crs: CRS) -> tuple[str, CRS]:
    text = request.query_params.get("crs")
    return (svc.CRS84_URI, svc.CRS84) if text is None else svc.parse_crs(text, ws_crs)


def _features(frame: Any, source: CRS, target: CRS) -> list[dict[str, Any]]:
    geoms = svc.to_output_crs(np.asarray(frame.geometry.values, dtype=object), source, target)
    cols = [c for c in frame.columns if c != frame.geometry.name]
    values = {c: frame[c].astype(object).where(frame[c].notna(), None).tolist() for c in cols}
    out = []
    for i, (fid, geom) in enumerate(zip(frame.index.tolist(), geoms, strict=True)):
        shape = (
            None
            if geom is None or shapely.is_missing(geom)
            else json.loads(shapely.to_geojson(geom))
        )
        out.append(
            {
                "type": "Feature",
                "id": int(fid),
                "geometry": shape,
                "properties": {c: values[c][i] for c in cols},
            }
        )
    return out


def _features_html(layer: str, feats: list[dict[str, Any]]) -> str:
    cols: list[str] = list(feats[0]["properties"]) if feats else []
    rows = []
    for feat in feats:
        fid = feat["id"]
        link = f'<a href="/collections/{html.escape(layer)}/items/{fid}?f=html">{fid}</a>'
        rows.append(
            [link]
            + [
                html.escape("" if feat["properties"][c] is None else str(feat["properties"][c]))
                for c in cols
            ]
        )
    return _table(["fid", *map(html.escape, cols)], rows)


@router.get(
    "/collections/{layer}/items",
    summary="Features of a collection",
    response_class=Response,
    responses=_answers(GEOJSON, "FeatureCollection"),
)
def items(
    request: Request,
    store: Store,
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

    Responses are GeoJSON (``application/geo+json``) or HTML, in the CRS of ``crs``.
    """
    settings = _settings(request)
    info = svc.find_layer(store, layer)
    filters = svc.parse_filters(info, _check_params(request, _ITEMS_PARAMS, info))
    ws_crs = _workspace_crs(store)
    crs_uri, out_crs = _out_crs(request, ws_crs)
    as_of = _as_of(datetime)
    box = None
    size = min(limit or settings.default_items_limit, settings.max_items_limit)
    box_crs = (
        svc.CRS84 if bbox_crs is None else svc.parse_crs(bbox_crs, ws_crs, parameter="bbox-crs")[1]
    )
    if bbox is not None:
        box = _bbox_in_workspace(_parse_bbox(bbox), box_crs, ws_crs)
    if bbox is not None and box is None:  # outside the workspace CRS's area: nothing there
        page = svc.ItemsPage(
            frame=store.read_revisions(info.name, []), number_matched=0, offset=offset, limit=size
        )
    else:
        page = svc.read_items(
            store,
            svc.ItemsQuery(
                layer=info.name, offset=offset, limit=size, bbox=box, filters=filters, as_of=as_of
            ),
        )
    feats = _features(page.frame, ws_crs, out_crs)
    headers = {"Content-Crs": f"<{crs_uri}>"}
    links = _page_links(request, page, size)
    if _wants_html(request):
        nav = "".join(
            f' <a href="{html.escape(link["href"])}">{label}</a>'
            for link, label in (
                (lk, {"prev": "上一页", "next": "下一页"}.get(lk["rel"])) for lk in links
            )
            if label
        )
        text = (
            f"<p>共 {page.number_matched} 个要素，本页 {len(feats)} 个（自第 "
            f"{offset + 1} 个起）。{nav}</p>" + _features_html(info.name, feats)
        )
        return _html(f"{info.name} 要素", text, headers)
    body = {
        "type": "FeatureCollection",
        "features": feats,
        "links": links,
        "numberMatched": page.number_matched,
        "numberReturned": len(feats),
        "timeStamp": _now(),
    }
    return _json(body, GEOJSON, headers)


def _page_links(request: Request, page: svc.ItemsPage, size: int) -> list[dict[str, str]]:
    """``self``, ``alternate`` and, where there are features, ``next`` and ``prev``: a page
    past the end has no ``next``, and its ``prev`` is the last page that holds features (never
    a page past the end again)."""
    url = request.url
    json_url = url.remove_query_params("f")
    links = [
        _link(str(json_url), "self", GEOJSON, "本页"),
        _link(str(json_url.include_query_params(f="html")), "alternate", HTML, "本页（网页）"),
    ]
    if page.has_next:
        links.append(
            _link(
                str(json_url.include_query_params(offset=page.offset + size, limit=size)),
                "next",
                GEOJSON,
                "下一页",
            )
        )
    if page.offset > 0 and page.number_matched > 0:
        start = max(0, min(page.offset, page.number_matched) - size)
        links.append(
            _link(
                str(json_url.include_query_params(offset=start, limit=size)),
                "prev",
                GEOJSON,
                "上一页",
            )
        )
    return links


def _now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@router.get(
    "/collections/{layer}/items/{fid}",
    summary="One feature",
    response_class=Response,
    responses=_answers(GEOJSON, "Feature"),
)
def item(
    request: Request,
    store: Store,
    layer: LayerParam,
    fid: Annotated[int, Path(description="Feature id (fid).")],
    datetime: DatetimeParam = None,
    crs: CrsParam = None,
    f: FormatParam = None,
) -> Response:
    """One feature (as in force on ``datetime``), GeoJSON or HTML."""
    _check_params(request, _ITEM_PARAMS)
    info = svc.find_layer(store, layer)
    ws_crs = _workspace_crs(store)
    crs_uri, out_crs = _out_crs(request, ws_crs)
    frame = svc.read_item(store, info.name, fid, _as_of(datetime))
    (feat,) = _features(frame, ws_crs, out_crs)
    headers = {"Content-Crs": f"<{crs_uri}>"}
    base = f"/collections/{info.name}"
    feat["links"] = [
        _link(str(request.url.remove_query_params("f")), "self", GEOJSON, "本要素"),
        _link(str(request.url.include_query_params(f="html")), "alternate", HTML, "本要素（网页）"),
        _link(_url(request, base), "collection", JSON, info.name),
    ]
    if _wants_html(request):
        rows = [
            (html.escape(k), html.escape("" if v is None else str(v)))
            for k, v in feat["properties"].items()
        ]
        return _html(f"{info.name} 要素 {fid}", _table(("字段", "值"), rows), headers)
    return _json(feat, GEOJSON, headers)


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


def openapi_document(doc: dict[str, Any], store: Any | None, settings: Settings) -> dict[str, Any]:
    """``doc`` (the app's OpenAPI 3.0 document, changed in place) with the OGC parameters,
    ``limit``'s default and maximum, the CRSs of the workspace, and one items path per
    collection listing its property filters (GDAL's OAPIF driver reads both: its page size
    from ``limit``, and which ``-where`` equalities it may send to the server). Without a
    ``store``: no collections, and CRS84 and EPSG:4490 only."""
    infos = store.layers() if store is not None else []
    ws_crs = _workspace_crs(store) if infos else svc.CRS84
    parameters = ogc_parameters(
        default_limit=settings.default_items_limit,
        max_limit=settings.max_items_limit,
        crs_uris=list(svc.supported_crs(ws_crs)),
    )
    collections = {i.name: _filter_columns(i) for i in infos}
    return with_ogc(doc, parameters, _OGC_PATHS, collections, "/collections/{layer}/items")
