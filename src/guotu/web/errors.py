"""The one exception-to-response mapping of the web app.

JSON routes answer ``{"code", "message", "status", …details}``; routes under the OGC API
(``/collections``, ``/conformance``, the landing page with ``f=json``) answer the OGC
exception form ``{"code", "description"}``. Messages are guotu's own sentences: no SQL,
paths or tracebacks reach a response (they go to the log).

The language of a message is the request's explicit ``lang`` parameter (``zh`` or ``en``)
when it has one, else its ``Accept-Language`` header, else Chinese: ``lang=zh`` gives a
Chinese message even to a browser that says ``Accept-Language: en``. A 405 carries the
``Allow`` header of the route (RFC 9110).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from http import HTTPStatus
from pathlib import Path
from typing import Any

import fastapi.routing
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from guotu.errors import GuotuError

__all__ = [
    "choose_lang",
    "error_response",
    "install_error_handlers",
    "is_ogc_path",
    "routes_of",
    "scrub_text",
    "status_response",
]

log = logging.getLogger(__name__)

_OGC_PREFIXES = ("/collections", "/conformance", "/api")


def _is_landing(request: Request) -> bool:
    return request.url.path == "/" and request.query_params.get("f", "json") != "html"


def is_ogc_path(path: str) -> bool:
    """Whether a request path is under the OGC API routes.

    Examples
    --------
    >>> is_ogc_path("/collections/GHYD/items"), is_ogc_path("/query")
    (True, False)
    """
    return path.startswith(_OGC_PREFIXES)


def choose_lang(lang: str | None, accept_language: str | None) -> str:
    """The language of a message: an explicit ``lang`` (``zh``/``en``) wins over the
    ``Accept-Language`` header; Chinese by default.

    Examples
    --------
    >>> choose_lang("zh", "en-US,en;q=0.9"), choose_lang(None, "en-GB"), choose_lang(None, None)
    ('zh', 'en', 'zh')
    """
    if lang in ("zh", "en"):
        return lang
    return "en" if (accept_language or "zh").strip().lower().startswith("en") else "zh"


def _lang(request: Request) -> str:
    return choose_lang(request.query_params.get("lang"), request.headers.get("accept-language"))


#: Chinese texts of the HTTP errors the router itself raises (no route, wrong method).
_HTTP_ZH = {404: "没有这个地址。", 405: "此地址不支持该请求方法。"}

#: Chinese phrases of the request-validation errors FastAPI reports (by pydantic error type).
_VALIDATION_ZH = {
    "missing": "缺少必填参数",
    "int_parsing": "应为整数",
    "int_type": "应为整数",
    "float_parsing": "应为数值",
    "float_type": "应为数值",
    "bool_parsing": "应为布尔值",
    "date_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_parsing": "应为日期（YYYY-MM-DD）",
    "date_from_datetime_inexact": "应为日期（YYYY-MM-DD）",
    "datetime_parsing": "应为时刻（RFC 3339）",
    "datetime_from_date_parsing": "应为时刻（RFC 3339）",
    "greater_than_equal": "数值过小",
    "greater_than": "数值过小",
    "less_than_equal": "数值过大",
    "less_than": "数值过大",
    "string_pattern_mismatch": "取值不在允许范围内",
    "json_invalid": "不是有效的 JSON",
    "dict_type": "应为 JSON 对象",
    "model_attributes_type": "应为 JSON 对象",
    "string_type": "应为文本",
    "int_from_float": "应为整数",
    "literal_error": "取值不在允许范围内",
    "extra_forbidden": "不允许的参数（请删去）",
    "list_type": "应为列表",
    "string_too_long": "文本过长",
    "string_too_short": "文本过短",
}


def _respond(
    request: Request, status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> JSONResponse:
    if is_ogc_path(request.url.path) or _is_landing(request):
        return JSONResponse({"code": code, "description": message}, status_code=status)
    body: dict[str, Any] = {"code": code, "message": message, "status": status}
    body.update(details or {})
    return JSONResponse(body, status_code=status)


def scrub_text(text: str, workspace: str) -> str:
    """``text`` without the workspace's location (a path or a database URL).

    Examples
    --------
    >>> scrub_text("Workspace /srv/w.gpkg is locked.", "/srv/w.gpkg")
    'Workspace <workspace> is locked.'
    """
    if workspace:
        text = text.replace(str(Path(workspace).resolve()), "<workspace>").replace(
            workspace, "<workspace>"
        )
    return text


def _scrub(request: Request, text: str) -> str:
    """``text`` without the workspace's location (a path or a database URL)."""
    settings = getattr(request.app.state, "settings", None)
    return scrub_text(text, str(getattr(settings, "workspace", "") or ""))


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return ""


def routes_of(app: Any) -> Iterator[Any]:
    """Every route of ``app`` (with ``path_format``, ``path_regex``, ``methods`` and
    ``dependant``), the routes of included routers too."""
    # newer FastAPI keeps included routers whole; iter_route_contexts lists their routes
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    yield from (contexts(app.router.routes) if contexts else app.router.routes)


def _allowed_methods(request: Request) -> str:
    """Every method some route answers at this path (``/query`` has two routes: GET and
    POST, and the router names only the first one's)."""
    path = request.scope.get("path", request.url.path)
    methods: set[str] = set()
    for route in routes_of(request.app):
        regex = getattr(route, "path_regex", None)
        if regex is not None and regex.match(path):
            methods |= set(getattr(route, "methods", None) or ())
    return ", ".join(sorted(methods))


def error_response(
    request: Request, exc: GuotuError, headers: Mapping[str, str] | None = None
) -> JSONResponse:
    """The answer to ``exc`` (its status, the JSON envelope or the OGC form, in the request's
    language, the file location left out): what the exception handler answers, and what the
    security middlewares answer for a refusal before any route runs.
    """
    details = {
        k: _scrub(request, str(v))
        for k, v in exc.to_dict().items()
        if k in ("layer", "feature", "field", "fix", "fix_zh")
    }
    # the file location is the server's business: said in the log, not to the client
    shown = type(exc)(
        exc.message,
        layer=exc.layer,
        feature=exc.feature,
        field=exc.field,
        fix=exc.fix,
        message_zh=exc.message_zh,
        fix_zh=exc.fix_zh,
    )
    log.info("%s on %s: %s (file %s)", exc.code, request.url.path, exc, exc.file)
    response = _respond(
        request,
        exc.http_status,
        exc.code,
        _scrub(request, shown.render(_lang(request))),
        details,
    )
    response.headers.update(headers or {})
    return response


def status_response(
    request: Request,
    status: int,
    code: str,
    message_zh: str,
    message_en: str,
    headers: Mapping[str, str] | None = None,
) -> JSONResponse:
    """An answer with no exception class behind it (429 Too Many Requests), in the request's
    language and form."""
    message = message_zh if _lang(request) == "zh" else message_en
    response = _respond(request, status, code, message)
    response.headers.update(headers or {})
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping on ``app``."""

    @app.exception_handler(GuotuError)
    async def guotu_error(request: Request, exc: GuotuError) -> JSONResponse:
        return error_response(request, exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        zh = _lang(request) == "zh"
        parts = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "body"))
            why = _VALIDATION_ZH.get(str(err.get("type")), "") if zh else ""
            parts.append(f"{where}: {why or err.get('msg', '')}")
        text = (
            "请求参数无效：" + "；".join(parts)
            if zh
            else "Invalid request parameters: " + "; ".join(parts)
        )
        return _respond(request, 400, "invalid-parameter", text)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "not-found" if exc.status_code == 404 else "http-error"
        message = str(exc.detail)
        if message == _phrase(exc.status_code) and _lang(request) == "zh":
            message = _HTTP_ZH.get(exc.status_code, message)
        response = _respond(request, exc.status_code, code, message)
        response.headers.update(exc.headers or {})
        if exc.status_code == 405:
            response.headers["Allow"] = _allowed_methods(request)
        return response

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("Unhandled error on %s", request.url.path)
        zh = _lang(request) == "zh"
        return _respond(
            request,
            500,
            "internal-error",
            "服务器内部错误，已记录日志。" if zh else "Internal server error; it was logged.",
        )
