"""The one exception-to-response mapping of the web app.

JSON routes answer ``{"code", "message", "status", …details}``; routes under the OGC API
(``/collections``, ``/conformance``, the landing page with ``f=json``) answer the OGC
exception form ``{"code", "description"}``. Messages are guotu's own sentences: no SQL,
paths or tracebacks reach a response (they go to the log).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from guotu.errors import GuotuError

__all__ = ["install_error_handlers", "is_ogc_path", "scrub_text"]

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


def _lang(request: Request) -> str:
    accept = request.headers.get("accept-language", "zh")
    return "en" if request.query_params.get("lang") == "en" or accept.startswith("en") else "zh"


def _respond(request: Request, status: int, code: str, message: str,
             details: dict[str, Any] | None = None) -> JSONResponse:
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
            workspace, "<workspace>")
    return text


def _scrub(request: Request, text: str) -> str:
    """``text`` without the workspace's location (a path or a database URL)."""
    settings = getattr(request.app.state, "settings", None)
    return scrub_text(text, str(getattr(settings, "workspace", "") or ""))


def install_error_handlers(app: FastAPI) -> None:
    """Register the mapping on ``app``."""

    @app.exception_handler(GuotuError)
    async def guotu_error(request: Request, exc: GuotuError) -> JSONResponse:
        details = {k: _scrub(request, str(v)) for k, v in exc.to_dict().items()
                   if k in ("layer", "feature", "field", "fix", "fix_zh")}
        # the file location is the server's business: said in the log, not to the client
        shown = type(exc)(exc.message, layer=exc.layer, feature=exc.feature, field=exc.field,
                          fix=exc.fix, message_zh=exc.message_zh, fix_zh=exc.fix_zh)
        log.info("%s on %s: %s (file %s)", exc.code, request.url.path, exc, exc.file)
        return _respond(request, exc.http_status, exc.code,
                        _scrub(request, shown.render(_lang(request))), details)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(x) for x in err.get("loc", ()) if x not in ("query", "body"))
            parts.append(f"{where}: {err.get('msg', '')}")
        zh = _lang(request) == "zh"
        text = ("请求参数无效：" if zh else "Invalid request parameters: ") + "；".join(parts)
        return _respond(request, 400, "invalid-parameter", text)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = "not-found" if exc.status_code == 404 else "http-error"
        return _respond(request, exc.status_code, code, str(exc.detail))

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> JSONResponse:
        log.exception("Unhandled error on %s", request.url.path)
        zh = _lang(request) == "zh"
        return _respond(request, 500, "internal-error",
                        "服务器内部错误，已记录日志。" if zh else "Internal server error; it was logged.")
