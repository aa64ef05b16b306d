"""Mapbox vector tiles (MVT 2.1) of workspace layers, and their cache.

A tile ``z/x/y`` (XYZ scheme, EPSG:3857) of a layer holds the features in force on an
as-of date: read from the store with a bbox (the tile's bounds in the workspace CRS),
reprojected to Web Mercator, clipped to the tile plus a buffer, moved to tile coordinates
(extent 4096), simplified by a quarter of a 256-pixel tile's pixel, snapped to the integer
grid (valid output) and encoded. Below :data:`FULL_ATTRIBUTE_ZOOM` a feature carries only
its layer's id and code fields; from there on every column.

:class:`TileCache` keeps built tiles in an LRU keyed by :class:`TileKey` (layer, z, x, y,
as-of date, :func:`guotu.services.workspace.data_version`, and what the asking principal may
not see of the layer: its hidden fields and the rows it is limited to), so recording anything
in the workspace makes the next request rebuild, and one user's tile never serves another
who may see less (users who see the same share tiles); the strong ETag is a hash of the key.
A layer the principal may not read is not found, exactly like a layer that does not exist
(:func:`guotu.services.access.layer_not_found`). Layers are
also kept whole, reprojected, in a small LRU of STR-tree indexes (same key without z/x/y)
within a memory budget (:data:`MAX_INDEX_BYTES`), so a burst of tiles reads the store once;
a layer over the budget (or over :data:`MAX_INDEX_FEATURES`) is read per tile with a bbox.
"""

from __future__ import annotations

import hashlib
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Generic, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from guotu.domain.access.policy import Principal, RowFilter
from guotu.domain.core.roles import get_role
from guotu.io.mvt import (
    MAX_ZOOM,
    TILE_BUFFER,
    TILE_EXTENT,
    check_tile,
    encode_tile,
    tile_bounds,
    to_tile_grid,
)
from guotu.ports import FeatureStore
from guotu.services.access import access_for, layer_not_found, row_mask
from guotu.services.workspace import data_version, workspace_crs

__all__ = [
    "FULL_ATTRIBUTE_ZOOM",
    "MAX_ZOOM",
    "TILE_BUFFER",
    "TILE_EXTENT",
    "Tile",
    "TileCache",
    "TileKey",
    "encode_tile",
    "tile_bounds",
]

#: From this zoom on, features carry every column (below it only id and code fields).
FULL_ATTRIBUTE_ZOOM = 12
#: Part of every cache key and ETag: bump when the tile content for the same data changes.
TILE_FORMAT = "guotu-mvt-2"
#: Layers with at most this many features may be kept whole in memory for tiles (within
#: :data:`MAX_INDEX_BYTES`); a larger one is never read whole.
MAX_INDEX_FEATURES = 1_000_000
#: Memory for the layers kept whole in memory for tiles, all together (estimated by
#: ``_LayerFrame.nbytes``; the 297,111 parcels of the demo county's GHYD take 290 MB).
MAX_INDEX_BYTES = 768 * 2**20
#: A layer kept whole but unused for this long may make room for another.
FRAME_IDLE_S = 60.0
#: Memory of one kept geometry beyond its coordinates (GEOS objects, the shapely object and
#: its STR-tree node), measured on the demo county's parcels.
GEOMETRY_OVERHEAD_BYTES = 760

_WEB_MERCATOR = CRS.from_epsg(3857)
_LONLAT = CRS.from_epsg(4326)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


# --------------------------------------------------------------------------- caches
class _LRU(Generic[K, V]):
    """A thread-safe LRU mapping of at most ``size`` items."""

    def __init__(self, size: int) -> None:
        self.size = max(0, size)
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: K, value: V) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


class _FrameCache:
    """Layers kept whole (key: layer, as-of date, data version), within ``max_bytes`` and
    ``size`` items. To make room, layers unused for :data:`FRAME_IDLE_S` go, least recently
    used first; layers in use are never pushed out, so two large layers cannot evict each
    other on every tile: the one that does not fit is read per tile until room is made."""

    def __init__(self, size: int, max_bytes: int) -> None:
        self.size, self.max_bytes, self.nbytes = max(0, size), max_bytes, 0
        self._items: OrderedDict[tuple[str, date, str], tuple[Any, int, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._building: dict[tuple[str, date, str], threading.Lock] = {}

    def get(self, key: tuple[str, date, str]) -> Any:
        with self._lock:
            found = self._items.get(key)
            if found is None:
                return None
            self._items[key] = (found[0], found[1], time.monotonic())
            self._items.move_to_end(key)
            return found[0]

    def _make_room(self, nbytes: int, *, evict: bool) -> bool:
        idle_before = time.monotonic() - FRAME_IDLE_S
        free, count = self.max_bytes - self.nbytes, len(self._items)
        for key, (_, size, used) in list(self._items.items()):
            if free >= nbytes and count < self.size:
                break
            if used <= idle_before:
                free, count = free + size, count - 1
                if evict:
                    del self._items[key]
                    self.nbytes -= size
        return free >= nbytes and count < self.size

    def get_or_build(
        self, key: tuple[str, date, str], at_least_bytes: int, build: Callable[[], Any]
    ) -> Any:
        """The layer for ``key``, built on first use by one thread (the others wait for it)
        and kept if it fits; None when even ``at_least_bytes`` would not fit."""
        found = self.get(key)
        if found is not None:
            return found
        with self._lock:
            for old in [k for k in self._items if k[:2] == key[:2] and k != key]:
                self.nbytes -= self._items.pop(old)[1]  # an older data version: stale
            if not self._make_room(at_least_bytes, evict=False):
                return None
            lock = self._building.setdefault(key, threading.Lock())
        try:
            with lock:
                found = self.get(key)
                if found is not None:
                    return found
                frame = build()
                size = int(frame.nbytes)
                with self._lock:
                    if self._make_room(size, evict=True):  # else: used for this tile only
                        self._items[key] = (frame, size, time.monotonic())
                        self.nbytes += size
                return frame
        finally:
            with self._lock:
                self._building.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(frozen=True)
class TileKey:
    """What a tile's content depends on."""

    layer: str
    z: int
    x: int
    y: int
    as_of: date
    data_version: str
    hidden: frozenset[str] = frozenset()  # fields the principal may not see
    rows: RowFilter | None = None  # the rows the principal is limited to

    @property
    def etag(self) -> str:
        """A strong ETag (quoted) derived from the key and :data:`TILE_FORMAT`.

        Examples
        --------
        >>> TileKey("GHYD", 0, 0, 0, date(2024, 1, 1), "ws#1:1").etag[:1]
        '"'
        """
        text = "|".join(
            [
                TILE_FORMAT,
                self.layer,
                str(self.z),
                str(self.x),
                str(self.y),
                self.as_of.isoformat(),
                self.data_version,
            ]
            + (["-" + ",".join(sorted(self.hidden))] if self.hidden else [])
            + ([f"{self.rows.field}^" + ",".join(self.rows.prefixes)] if self.rows else [])
        )
        return '"' + hashlib.sha256(text.encode()).hexdigest()[:32] + '"'


@dataclass(frozen=True)
class Tile:
    """A built tile: its key, MVT bytes (``b""`` when empty) and feature count."""

    key: TileKey
    content: bytes
    features: int

    @property
    def is_empty(self) -> bool:
        """Whether the tile holds no feature."""
        return self.features == 0


@dataclass(frozen=True)
class _LayerFrame:
    """A layer's features in force on a date, in EPSG:3857, with an STR-tree."""

    geoms: np.ndarray
    ids: np.ndarray
    columns: dict[str, np.ndarray]
    tree: shapely.STRtree
    masks: dict[RowFilter, np.ndarray] = field(default_factory=dict)

    def admitted(self, rows: RowFilter) -> np.ndarray:
        """Which features ``rows`` admits, as a boolean array over the whole layer: worked
        out once per filter (a 乡镇's prefixes) and kept with the frame, so a tile indexes it
        instead of matching the codes of its candidates again."""
        found = self.masks.get(rows)
        if found is None:
            found = row_mask(self.columns[rows.field], rows)
            self.masks[rows] = found  # a race computes the same array twice, harmlessly
        return found

    @property
    def nbytes(self) -> int:
        """Estimated memory: coordinates, per-geometry objects, ids and columns (deep)."""
        coords = int(shapely.get_num_coordinates(self.geoms).sum())
        columns = sum(
            int(pd.Series(v, copy=False).memory_usage(deep=True, index=False))
            for v in self.columns.values()
        )
        return (
            16 * coords
            + GEOMETRY_OVERHEAD_BYTES * len(self.geoms)
            + self.geoms.nbytes
            + self.ids.nbytes
            + columns
        )


class TileCache:
    """Builds tiles of a workspace's layers and keeps them (see the module docstring).

    Parameters
    ----------
    max_tiles
        Tiles kept (``Settings.tile_cache_tiles``); 0 keeps none.
    max_index_features
        Layers with at most this many features are read whole and kept in memory
        (reprojected, with an STR-tree), within ``max_index_bytes``; larger layers are read
        from the store per tile with a bbox.
    max_index_bytes
        Memory for the layers kept whole, all together (:data:`MAX_INDEX_BYTES`): layers
        unused for :data:`FRAME_IDLE_S` make room; a layer that does not fit is read per tile.
    max_indexes
        Layer indexes kept (one per layer, as-of date and data version).

    Examples
    --------
    >>> cache = TileCache(max_tiles=100)
    >>> cache.builds, cache.max_index_features == MAX_INDEX_FEATURES
    (0, True)
    """

    def __init__(
        self,
        max_tiles: int,
        *,
        max_index_features: int = MAX_INDEX_FEATURES,
        max_index_bytes: int = MAX_INDEX_BYTES,
        max_indexes: int = 8,
    ) -> None:
        self.max_index_features = max_index_features
        self._tiles: _LRU[TileKey, Tile] = _LRU(max_tiles)
        self._frames = _FrameCache(max_indexes, max_index_bytes)
        self._extents: _LRU[tuple[str, date, str], tuple[float, ...]] = _LRU(64)
        self._layer_names: _LRU[str, frozenset[str]] = _LRU(16)
        self.builds = 0

    def key(
        self,
        store: FeatureStore,
        layer: str,
        z: int,
        x: int,
        y: int,
        as_of: date | None = None,
        *,
        principal: Principal | None = None,
    ) -> TileKey:
        """The key of a tile as ``principal`` sees it (``None``: all of it); raises
        ``NotFoundError`` (unknown layer, or one the principal may not read: the same error)
        or ``InputError``."""
        version = data_version(store)
        # The layer names are read once per data version: any write changes the version, so
        # a cached name list is never stale (and a cached tile costs no catalog read).
        names = self._layer_names.get(version)
        if names is None:
            names = frozenset(info.name for info in store.layers())
            self._layer_names.put(version, names)
        if principal is None:
            if layer not in names:
                raise layer_not_found(layer, sorted(names))
            check_tile(z, x, y)
            return TileKey(layer, z, x, y, as_of or date.today(), version)
        access = access_for(store, principal, version=version)
        if layer not in names or not access.may_read(layer):
            raise layer_not_found(layer, access.readable(sorted(names)))
        check_tile(z, x, y)
        return TileKey(
            layer,
            z,
            x,
            y,
            as_of or date.today(),
            version,
            access.hidden(layer),
            access.row_filter(layer),
        )

    def tile(
        self,
        store: FeatureStore,
        layer: str,
        z: int,
        x: int,
        y: int,
        as_of: date | None = None,
        *,
        key: TileKey | None = None,
        principal: Principal | None = None,
    ) -> Tile:
        """Tile ``z/x/y`` of ``layer`` as in force on ``as_of`` (default today), as
        ``principal`` sees it; ``key``, if the caller already has it from :meth:`key`, saves
        reading the data version again."""
        key = key or self.key(store, layer, z, x, y, as_of, principal=principal)
        cached = self._tiles.get(key)
        if cached is not None:
            return cached
        tile = self._build(store, key)
        self._tiles.put(key, tile)
        return tile

    def tilejson(
        self,
        store: FeatureStore,
        layer: str,
        tiles_url: str,
        as_of: date | None = None,
        *,
        principal: Principal | None = None,
    ) -> dict[str, Any]:
        """A TileJSON 3.0.0 document of ``layer``; ``tiles_url`` has ``{z}/{x}/{y}``. With
        ``principal``: only for a layer they may read (else not found, as an unknown layer),
        listing the fields they may see."""
        info = _layer_info(store, layer, principal)
        day = as_of or date.today()
        frame_key = (layer, day, data_version(store))
        extent = self._extents.get(frame_key)
        if extent is None:
            frame = self._frames.get(frame_key)
            if frame is not None:
                bounds = shapely.total_bounds(frame.geoms)
                extent = tuple(_transformer(_WEB_MERCATOR, _LONLAT).transform_bounds(*bounds))
            else:
                geoms = store.read_layer(layer, columns=[], as_of=day)
                extent = (
                    tuple(geoms.to_crs(_LONLAT).total_bounds)
                    if len(geoms)
                    else (-180.0, -85.0511, 180.0, 85.0511)
                )
            self._extents.put(frame_key, extent)
        w, s, e, n = (float(v) for v in extent)
        if any(math.isnan(v) for v in (w, s, e, n)):
            w, s, e, n = -180.0, -85.0511, 180.0, 85.0511
        span = max(e - w, (n - s) * 1.2, 1e-9)
        center_zoom = int(min(MAX_ZOOM, max(0, math.floor(math.log2(360.0 / span)) + 1)))
        role = get_role(info.role)
        kinds = {
            "TEXT": "String",
            "DATE": "String",
            "DATETIME": "String",
            "INTEGER": "Number",
            "REAL": "Number",
            "BOOLEAN": "Boolean",
        }
        shown = (
            info.columns
            if principal is None
            else access_for(store, principal).columns(layer, info.columns)
        )
        fields = {c: kinds.get(info.columns[c].upper(), "String") for c in shown}
        return {
            "tilejson": "3.0.0",
            "name": layer,
            "description": f"{role.name_zh} {role.name_en}",
            "version": "1.0.0",
            "scheme": "xyz",
            "tiles": [tiles_url],
            "minzoom": 0,
            "maxzoom": MAX_ZOOM,
            "bounds": [w, s, e, n],
            "center": [(w + e) / 2, (s + n) / 2, center_zoom],
            "vector_layers": [
                {
                    "id": layer,
                    "fields": fields,
                    "minzoom": 0,
                    "maxzoom": MAX_ZOOM,
                    "description": f"{role.name_zh}; every field from zoom "
                    f"{FULL_ATTRIBUTE_ZOOM}, id and code fields below",
                }
            ],
        }

    # ------------------------------------------------------------------ building
    def _build(self, store: FeatureStore, key: TileKey) -> Tile:
        self.builds += 1
        info = store.layer(key.layer)
        role = get_role(info.role)
        if key.z >= FULL_ATTRIBUTE_ZOOM:
            names = list(info.columns)
        else:
            names = [
                c
                for c in dict.fromkeys([role.id_field, role.code_field])
                if c and c in info.columns
            ]
        names = [c for c in names if c not in key.hidden]
        rows = key.rows
        if rows is not None and rows.field not in info.columns:
            return Tile(key, b"", 0)  # no row can be shown to a principal limited by it
        minx, miny, maxx, maxy = tile_bounds(key.z, key.x, key.y)
        pad = TILE_BUFFER * (maxx - minx) / TILE_EXTENT
        area = (minx - pad, miny - pad, maxx + pad, maxy + pad)
        frame = (
            self._frame(store, key, info.features)
            if info.features <= self.max_index_features
            else None
        )
        if frame is not None:
            hits = np.sort(frame.tree.query(shapely.box(*area)))
            if rows is not None:
                hits = hits[frame.admitted(rows)[hits]]
            geoms, ids = frame.geoms[hits], frame.ids[hits]
            cols = {c: frame.columns[c][hits] for c in names}
        else:
            crs = workspace_crs(store)
            bbox = _transformer(_WEB_MERCATOR, crs).transform_bounds(*area, densify_pts=21)
            needs = names if rows is None else list(dict.fromkeys([*names, rows.field]))
            read = store.read_layer(key.layer, bbox=bbox, columns=needs, as_of=key.as_of)
            if rows is not None:
                read = read[row_mask(read[rows.field].to_numpy(), rows)]
            geoms = _to_mercator(read)
            ids = read.index.to_numpy()
            cols = {c: read[c].to_numpy(dtype=object) for c in names}
        if len(geoms) == 0:
            return Tile(key, b"", 0)
        grid = to_tile_grid(np.asarray(geoms, dtype=object), key.z, key.x, key.y)
        content, count = encode_tile(key.layer, grid, cols, ids)
        return Tile(key, content, count)

    def _frame(self, store: FeatureStore, key: TileKey, features: int) -> _LayerFrame | None:
        """The layer kept whole for ``key``'s (layer, date, data version); None when it does
        not fit in the memory budget."""

        def build() -> _LayerFrame:
            read: gpd.GeoDataFrame = store.read_layer(key.layer, as_of=key.as_of)
            geoms = _to_mercator(read)
            return _LayerFrame(
                geoms,
                read.index.to_numpy(),
                {
                    c: read[c].to_numpy(dtype=object)
                    for c in read.columns
                    if c != read.geometry.name
                },
                shapely.STRtree(geoms),
            )

        frame: _LayerFrame | None = self._frames.get_or_build(
            (key.layer, key.as_of, key.data_version), features * GEOMETRY_OVERHEAD_BYTES, build
        )
        return frame

    def __len__(self) -> int:
        return len(self._tiles)


def _layer_info(store: FeatureStore, layer: str, principal: Principal | None = None) -> Any:
    """The store's ``LayerInfo`` of ``layer``; the error names no workspace path, and with
    ``principal`` a layer they may not read is not found either (the same error)."""
    infos = {info.name: info for info in store.layers()}
    names = sorted(infos)
    if principal is None:
        if layer not in infos:
            raise layer_not_found(layer, names)
        return infos[layer]
    access = access_for(store, principal)
    if layer not in infos or not access.may_read(layer):
        raise layer_not_found(layer, access.readable(names))
    return infos[layer]


_THREAD = threading.local()


def _transformer(src: CRS, dst: CRS) -> Transformer:
    """A transformer from ``src`` to ``dst`` (x, y order), one per thread and CRS pair: a
    pyproj transformer is not to be shared by threads, and making one costs tens of
    milliseconds (PROJ's database), as much as a tile at z14."""
    found: dict[tuple[str, str], Transformer] | None = getattr(_THREAD, "transformers", None)
    if found is None:
        found = _THREAD.transformers = {}
    pair = (src.srs, dst.srs)
    transformer = found.get(pair)
    if transformer is None:
        transformer = found[pair] = Transformer.from_crs(src, dst, always_xy=True)
    return transformer


def _to_mercator(frame: gpd.GeoDataFrame) -> np.ndarray:
    """The geometries of ``frame`` in EPSG:3857 (an object array)."""
    geoms = np.asarray(frame.geometry.to_numpy(), dtype=object)
    if len(geoms) == 0:
        return geoms
    transformer = _transformer(CRS.from_user_input(frame.crs), _WEB_MERCATOR)

    def move(c: np.ndarray) -> np.ndarray:
        return np.column_stack(transformer.transform(c[:, 0], c[:, 1]))

    return np.asarray(shapely.transform(geoms, move), dtype=object)
