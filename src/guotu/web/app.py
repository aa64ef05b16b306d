"""The app factory: ``create_app(settings)`` → a FastAPI app.

Routers (one module each, handlers thin over :mod:`guotu.services`):

* :mod:`guotu.web.ogc_features`: OGC API - Features (landing page, conformance, collections,
  items), Part 1 core and Part 2 CRS;
* :mod:`guotu.web.tiles`: Mapbox vector tiles and TileJSON per layer;
* :mod:`guotu.web.query`: the site query (空间码), JSON and the printable sheet;
* :mod:`guotu.web.review`: plan review runs for the web UI (``POST /review/{kind}``);
* :mod:`guotu.web.ui`: the Chinese-first web map at ``/ui/`` (MapLibre from npm, no CDN).

Each request opens the workspace (:func:`open_store`); caches that outlive a request live in
``app.state`` and are keyed by the data version, so an amendment never serves stale data.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI, Request

from guotu.services.workspace import open_workspace
from guotu.settings import Settings, load_settings
from guotu.web.errors import install_error_handlers

__all__ = ["create_app", "open_store"]


def open_store(request: Request) -> Iterator[Any]:
    """FastAPI dependency: the workspace, opened for this request and closed after it."""
    settings: Settings = request.app.state.settings
    store = open_workspace(settings.workspace)
    try:
        yield store
    finally:
        store.close()


def create_app(settings: Settings | None = None) -> FastAPI:
    """Build the app for ``settings`` (default :func:`guotu.settings.load_settings`).

    Examples
    --------
    >>> app = create_app(Settings(workspace="demo_county.gpkg"))
    >>> app.title
    'guotu 国土空间规划一张图'
    """
    from guotu.web import ogc_features, query, review, tiles, ui

    settings = settings or load_settings()
    app = FastAPI(title="guotu 国土空间规划一张图", version="1",
                  description="OGC API - Features, vector tiles and site query of a guotu "
                              "workspace.", docs_url="/api.html", openapi_url="/api")
    app.state.settings = settings
    install_error_handlers(app)
    app.include_router(ogc_features.router)
    app.include_router(tiles.router)
    app.include_router(query.router)
    app.include_router(review.router)
    app.include_router(ui.router)
    return app
