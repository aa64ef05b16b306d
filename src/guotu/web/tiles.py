"""Mapbox vector tiles and TileJSON per layer.

* ``GET /tiles/{layer}/{z}/{x}/{y}.mvt``: an MVT tile (XYZ scheme, EPSG:3857, extent 4096)
  of the features in force on ``as_of`` (default today). A tile with no feature answers
  **204 No Content** (with the same ETag and caching headers).
* ``GET /tiles/{layer}.json``: the layer's TileJSON 3.0.0 document; ``as_of`` carries into
  its tile URL template.

Tiles carry a strong ETag derived from (layer, z, x, y, as-of date, data version, and what
the principal may not see of the layer), so ``If-None-Match`` answers 304 without building,
and recording anything in the workspace changes every ETag. A layer the principal may not
read answers the same 404 as a layer that does not exist, tiles and TileJSON alike; hidden
fields are not in tiles or TileJSON, and a 乡镇 user's tiles hold their own 行政区's features
only. Errors go through :mod:`guotu.web.errors` (JSON envelope).
"""

from __future__ import annotations

import threading
from datetime import date
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse

from guotu.domain.access.grades import Grade
from guotu.ports import FeatureStore
from guotu.services.access import access_for, record_restricted_read
from guotu.services.tiles import TileCache
from guotu.settings import Settings
from guotu.web.deps import Who, audit_sink, open_store

__all__ = ["MVT_MEDIA_TYPE", "router", "tile_cache"]

#: The registered media type of Mapbox vector tiles.
MVT_MEDIA_TYPE = "application/vnd.mapbox-vector-tile"
#: Browsers may reuse a tile for a minute, then revalidate with its ETag; shared caches
#: (proxies) may keep only tiles of 公开 layers that the principal sees whole.
TILE_CACHE_CONTROL = "public, max-age=60"
PRIVATE_TILE_CACHE_CONTROL = "private, max-age=60"

router = APIRouter(tags=["tiles"])
_cache_lock = threading.Lock()

Store = Annotated[FeatureStore, Depends(open_store)]
AsOf = Annotated[date | None, Query(description="Date the features are in force (default today).")]
Layer = Annotated[str, Path(description="Layer name.")]
#: Zoom 0-22; x and y within the zoom's grid (0 … 2^z - 1), else 400 (checked by the tile
#: service, so the bounds are stated in the document only).
Zoom = Annotated[
    int, Path(description="Zoom level, 0 to 22.", json_schema_extra={"minimum": 0, "maximum": 22})
]
Column = Annotated[
    int,
    Path(
        description="Tile column, 0 to 2^z - 1.",
        json_schema_extra={"minimum": 0, "maximum": 2**22 - 1},
    ),
]
Row = Annotated[
    int,
    Path(
        description="Tile row (XYZ: from the north), 0 to 2^z - 1.",
        json_schema_extra={"minimum": 0, "maximum": 2**22 - 1},
    ),
]
_HEADERS = {
    "ETag": {
        "description": "Derived from layer, tile, as-of date and data version.",
        "schema": {"type": "string"},
    },
    "Cache-Control": {"schema": {"type": "string"}},
}
_NOT_FOUND = {"description": "No such layer."}
_TILEJSON = {
    "type": "object",
    "required": ["tilejson", "tiles"],
    "properties": {
        "tilejson": {"type": "string"},
        "tiles": {"type": "array", "items": {"type": "string"}},
        "minzoom": {"type": "integer"},
        "maxzoom": {"type": "integer"},
        "bounds": {"type": "array", "items": {"type": "number"}},
        "vector_layers": {"type": "array", "items": {"type": "object"}},
    },
}


def tile_cache(request: Request) -> TileCache:
    """The app's tile cache (made on first use, sized by ``Settings.tile_cache_tiles``)."""
    state = request.app.state
    with _cache_lock:
        cache: TileCache | None = getattr(state, "tile_cache", None)
        if cache is None:
            settings: Settings = state.settings
            cache = TileCache(settings.tile_cache_tiles)
            state.tile_cache = cache
    return cache


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return etag in tags


@router.get(
    "/tiles/{layer}.json",
    summary="TileJSON 3.0 of a layer",
    response_class=JSONResponse,
    responses={
        200: {
            "description": "The TileJSON document.",
            "content": {"application/json": {"schema": _TILEJSON}},
        },
        400: {"description": "A bad as_of."},
        404: _NOT_FOUND,
    },
)
def get_tilejson(
    layer: Layer, request: Request, store: Store, who: Who, as_of: AsOf = None
) -> JSONResponse:
    """The TileJSON document of ``layer``: tile URL template, zooms, bounds and fields."""
    url = str(request.base_url) + f"tiles/{quote(layer, safe='')}/{{z}}/{{x}}/{{y}}.mvt"
    if as_of is not None:
        url += f"?as_of={as_of.isoformat()}"
    doc = tile_cache(request).tilejson(store, layer, url, as_of, principal=who)
    address = request.client.host if request.client is not None else ""
    record_restricted_read(store, who, layer, "tilejson", address, sink=audit_sink(request))
    return JSONResponse(doc, headers={"Cache-Control": "no-cache"})


@router.get(
    "/tiles/{layer}/{z}/{x}/{y}.mvt",
    summary="Vector tile of a layer",
    response_class=Response,
    responses={
        200: {
            "description": "The tile.",
            "headers": _HEADERS,
            "content": {MVT_MEDIA_TYPE: {"schema": {"type": "string", "format": "binary"}}},
        },
        204: {"description": "No feature in this tile.", "headers": _HEADERS},
        304: {"description": "Not modified (If-None-Match).", "headers": _HEADERS},
        400: {"description": "A zoom beyond 0-22, x or y outside the zoom's grid, or a bad as_of."},
        404: _NOT_FOUND,
    },
)
def get_tile(
    layer: Layer,
    z: Zoom,
    x: Column,
    y: Row,
    request: Request,
    store: Store,
    who: Who,
    as_of: AsOf = None,
) -> Response:
    """Tile ``z/x/y`` of ``layer`` (MVT), 204 when it holds no feature."""
    cache = tile_cache(request)
    key = cache.key(store, layer, z, x, y, as_of, principal=who)
    is_public = (
        access_for(store, who, version=key.data_version).policy(layer).grade is Grade.PUBLIC
        and not key.hidden
        and key.rows is None
    )
    control = TILE_CACHE_CONTROL if is_public else PRIVATE_TILE_CACHE_CONTROL
    headers = {"ETag": key.etag, "Cache-Control": control}
    if _etag_matches(request.headers.get("if-none-match"), key.etag):
        return Response(status_code=304, headers=headers)
    tile = cache.tile(store, layer, z, x, y, as_of, key=key)
    if tile.is_empty:
        return Response(status_code=204, headers=headers)
    return Response(tile.content, media_type=MVT_MEDIA_TYPE, headers=headers)
