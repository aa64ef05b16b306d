"""The app factory: ``create_app(settings)`` → a FastAPI app.

Routers (one module each, handlers thin over :mod:`guotu.services`):

* :mod:`guotu.web.ogc_features`: OGC API - Features (landing page, conformance, collections,
  items), Part 1 core and Part 2 CRS;
* :mod:`guotu.web.tiles`: Mapbox vector tiles and TileJSON per layer;
* :mod:`guotu.web.query`: the site query (空间码), JSON and the printable sheet;
* :mod:`guotu.web.review`: plan review runs for the web UI (``POST /review/{kind}``);
* :mod:`guotu.web.monitor`: the monitoring dashboard's data and the 体检评估 report;
* :mod:`guotu.web.ui`: the Chinese-first web map at ``/ui/`` and the monitoring dashboard at
  ``/ui/monitor`` (MapLibre and ECharts from npm, no CDN).

The OpenAPI document at ``/api`` is OpenAPI 3.0 (:mod:`guotu.web.openapi30`), the version the
OGC API's ``oas30`` conformance class names.

Each request borrows an open store of the workspace from ``app.state.stores`` (a
:class:`guotu.services.workspace.StorePool`, see :func:`open_store`): a store serves one
request at a time, is reused by the next, is closed instead when its request failed, and every
idle store is closed when the app shuts down. Caches that outlive a request live in
``app.state`` and are keyed by the data version (read by each request), so an amendment
recorded by any process never serves stale data.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from guotu.services.workspace import StorePool
from guotu.settings import Settings, load_settings
from guotu.web.errors import install_error_handlers
from guotu.web.limits import BodyLimit

__all__ = ["api_html", "create_app", "open_store"]


def open_store(request: Request) -> Iterator[Any]:
    """FastAPI dependency: an open store of the workspace, for this request alone.

    It is borrowed from the app's :class:`StorePool` and given back after the request (or
    closed, when the request raised), so a request does not pay for opening the workspace.
    """
    with request.app.state.stores.borrow() as store:
        yield store


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    app.state.stores.start()
    try:
        yield
    finally:
        app.state.stores.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (default :func:`guotu.settings.load_settings`).

    Examples
    --------
    >>> app = create_app(Settings(workspace="demo_county.gpkg"))
    >>> app.title
    'guotu 国土空间规划一张图'
    """
    from guotu.web import monitor, ogc_features, query, review, tiles, ui
    from guotu.web.openapi30 import as_openapi30

    settings = settings or load_settings()
    app = FastAPI(title="guotu 国土空间规划一张图", version="1",
                  description="OGC API - Features, vector tiles and site query of a guotu "
                              "workspace.", docs_url=None, redoc_url=None, openapi_url="/api",
                  lifespan=_lifespan)
    app.state.settings = settings
    app.state.stores = StorePool(settings.workspace)
    install_error_handlers(app)
    app.add_middleware(BodyLimit, max_bytes=int(settings.max_upload_mb * 1024 * 1024))
    app.include_router(ogc_features.router)
    app.include_router(tiles.router)
    app.include_router(query.router)
    app.include_router(review.router)
    app.include_router(monitor.router)
    app.include_router(ui.router)
    default_openapi = app.openapi

    def openapi30() -> dict[str, Any]:
        if app.openapi_schema is None or app.openapi_schema.get("openapi") != "3.0.3":
            app.openapi_schema = as_openapi30(default_openapi())
        return app.openapi_schema

    app.openapi = openapi30  # type: ignore[method-assign]

    @app.get("/api.html", include_in_schema=False)
    def api_page() -> HTMLResponse:
        """The API's routes as one self-contained page (FastAPI's Swagger UI loads its
        scripts from a CDN, which a government intranet cannot reach)."""
        return HTMLResponse(api_html(app.openapi()))

    return app


def api_html(doc: dict[str, Any]) -> str:
    """A plain HTML page listing every path of an OpenAPI document with its methods,
    summaries and parameters, and a link to the JSON document.

    Examples
    --------
    >>> "<td>/x</td>" in api_html({"info": {"title": "t"}, "paths": {"/x": {"get": {}}}})
    True
    """
    e = html.escape
    rows = []
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            params = ", ".join(p.get("name", "") for p in op.get("parameters", []))
            rows.append(f"<tr><td>{e(method.upper())}</td><td>{e(path)}</td>"
                        f"<td>{e(op.get('summary', ''))}</td><td>{e(params)}</td></tr>")
    title = e(doc.get("info", {}).get("title", "API"))
    return ("<!doctype html><html lang='zh-CN'><head><meta charset='utf-8'>"
            f"<title>{title} 接口文档</title><style>body{{font-family:sans-serif;margin:2em}}"
            "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:3px 8px;"
            "text-align:left}</style></head><body>"
            f"<h1>{title} 接口文档</h1><p>OpenAPI 3.0: <a href='/api'>/api</a>（JSON）</p>"
            "<table><tr><th>方法</th><th>路径</th><th>说明</th><th>参数</th></tr>"
            + "".join(rows) + "</table></body></html>")
