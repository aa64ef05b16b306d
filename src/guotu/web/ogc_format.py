"""How the OGC API - Features routes (:mod:`guotu.web.ogc_features`) answer: the media types,
JSON and GeoJSON bodies (numpy values and dates written as JSON), the small HTML pages of
``f=html`` (or a browser's ``Accept``), links, the OpenAPI responses of a route, and the check
of the query parameters a request may carry (an unknown one is a 400).
"""

from __future__ import annotations

import html
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

import numpy as np
from fastapi import Request
from fastapi.responses import Response

from guotu.domain.core.catalog import LayerInfo
from guotu.errors import InputError
from guotu.web.openapi30 import error_response

__all__ = [
    "GEOJSON",
    "HTML",
    "JSON",
    "OPENAPI",
    "QUERYABLES_REL",
    "SCHEMA_JSON",
    "absolute_url",
    "check_params",
    "html_page",
    "html_table",
    "json_response",
    "ogc_link",
    "openapi_responses",
    "wants_html",
]

GEOJSON = "application/geo+json"
JSON = "application/json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"


def openapi_responses(media: str, schema: str, *, not_found: bool = True) -> dict[int | str, Any]:
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


def wants_html(request: Request) -> bool:
    """Whether to answer with an HTML page: ``f=html``, or no ``f`` and a browser's
    ``Accept`` that puts HTML before JSON; an ``f`` that is neither json nor html is a 400."""
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


def json_response(
    body: Any, media_type: str = JSON, headers: Mapping[str, str] | None = None
) -> Response:
    """``body`` as JSON (Chinese kept readable; numpy values and dates as JSON values)."""
    text = json.dumps(body, ensure_ascii=False, default=_json_value, allow_nan=False)
    return Response(text, media_type=media_type, headers=dict(headers or {}))


def _json_value(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return str(value)


def html_page(title: str, body: str, headers: Mapping[str, str] | None = None) -> Response:
    """A small HTML page: ``title`` (escaped) and ``body`` (HTML), with links home and to
    the collections."""
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


def html_table(header: Iterable[str], rows: Iterable[Iterable[str]]) -> str:
    """An HTML table of cells the caller has escaped.

    Examples
    --------
    >>> html_table(["名称"], [["GHYD"]])
    '<table><tr><th>名称</th></tr><tr><td>GHYD</td></tr></table>'
    """
    head = "".join(f"<th>{h}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def ogc_link(href: str, rel: str, type_: str, title: str = "") -> dict[str, str]:
    """An OGC API link object (``title`` only when given).

    Examples
    --------
    >>> ogc_link("http://gis.example/collections", "data", JSON)
    {'href': 'http://gis.example/collections', 'rel': 'data', 'type': 'application/json'}
    """
    out = {"href": href, "rel": rel, "type": type_}
    if title:
        out["title"] = title
    return out


def absolute_url(request: Request, path: str, **params: Any) -> str:
    """The absolute URL of ``path`` on this server, with the query ``params`` that are not
    ``None``."""
    url = str(request.base_url).rstrip("/") + path
    query = "&".join(f"{k}={v}" for k, v in params.items() if v is not None)
    return f"{url}?{query}" if query else url


def check_params(
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
