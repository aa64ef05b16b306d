"""Mapbox vector tiles (MVT 2.1) of workspace layers, and their cache.

A tile ``z/x/y`` (XYZ scheme, EPSG:3857) of a layer holds the features in force on an
as-of date: read from the store with a bbox (the tile's bounds in the workspace CRS),
reprojected to Web Mercator, clipped to the tile plus a buffer, moved to tile coordinates
(extent 4096), simplified by a quarter of a 256-pixel tile's pixel, snapped to the integer
grid (valid output) and encoded. Below :data:`FULL_ATTRIBUTE_ZOOM` a feature carries only
its layer's id and code fields; from there on every column.

:class:`TileCache` keeps built tiles in an LRU keyed by :class:`TileKey` (layer, z, x, y,
as-of date and :func:`guotu.services.workspace.data_version`), so recording anything in the
workspace makes the next request rebuild; the strong ETag is a hash of the key. Layers up to
``max_index_features`` features are also kept whole, reprojected, in a small LRU of
STR-tree indexes (same key without z/x/y), so a burst of tiles reads the store once.
"""

from __future__ import annotations

import hashlib
import math
import struct
import threading
from collections import OrderedDict
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer

from guotu.domain.roles import get_role
from guotu.errors import InputError, NotFoundError
from guotu.services.workspace import data_version

__all__ = ["FULL_ATTRIBUTE_ZOOM", "MAX_ZOOM", "TILE_BUFFER", "TILE_EXTENT", "Tile",
           "TileCache", "TileKey", "encode_tile", "tile_bounds"]

#: Tile coordinate extent (MVT default).
TILE_EXTENT = 4096
#: Buffer around a tile, in tile units (1/64 of the tile), so strokes join across tiles.
TILE_BUFFER = 64
#: Simplification tolerance in tile units: a quarter pixel of a 256-pixel tile.
SIMPLIFY_TOLERANCE = 4.0
#: Deepest zoom served (about 0.04 m per tile unit).
MAX_ZOOM = 22
#: From this zoom on, features carry every column (below it only id and code fields).
FULL_ATTRIBUTE_ZOOM = 12
#: Part of every cache key and ETag: bump when the tile content for the same data changes.
TILE_FORMAT = "guotu-mvt-1"
#: Half the side of the Web Mercator square, in metres.
MERCATOR_HALF_M = 20037508.342789244

_WEB_MERCATOR = CRS.from_epsg(3857)
_LONLAT = CRS.from_epsg(4326)

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


# --------------------------------------------------------------------------- tile grid
def tile_bounds(z: int, x: int, y: int) -> tuple[float, float, float, float]:
    """Bounds ``(minx, miny, maxx, maxy)`` in EPSG:3857 of XYZ tile ``z/x/y``.

    Examples
    --------
    >>> tile_bounds(0, 0, 0) == (-MERCATOR_HALF_M, -MERCATOR_HALF_M, MERCATOR_HALF_M,
    ...                          MERCATOR_HALF_M)
    True
    >>> [round(v) for v in tile_bounds(1, 1, 0)]
    [0, 0, 20037508, 20037508]
    """
    size = 2 * MERCATOR_HALF_M / (1 << z)
    minx = -MERCATOR_HALF_M + x * size
    maxy = MERCATOR_HALF_M - y * size
    return (minx, maxy - size, minx + size, maxy)


def check_tile(z: int, x: int, y: int) -> None:
    """Raise :class:`InputError` unless ``z/x/y`` is a tile of the XYZ grid up to MAX_ZOOM.

    Examples
    --------
    >>> check_tile(2, 3, 0)
    >>> check_tile(2, 4, 0)
    Traceback (most recent call last):
    ...
    guotu.errors.InputError: Tile 2/4/0 is outside the tile grid: at zoom 2, x and y run from 0 to 3. Fix: Use XYZ tile numbers (y counted from the north).
    """
    if not 0 <= z <= MAX_ZOOM:
        raise InputError(f"Zoom {z} is outside 0–{MAX_ZOOM}.", fix=f"Ask for z from 0 to {MAX_ZOOM}.",
                         message_zh=f"缩放级别 {z} 超出 0–{MAX_ZOOM}。",
                         fix_zh=f"请使用 0 到 {MAX_ZOOM} 的缩放级别。")
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise InputError(
            f"Tile {z}/{x}/{y} is outside the tile grid: at zoom {z}, x and y run from 0 to {n - 1}.",
            fix="Use XYZ tile numbers (y counted from the north).",
            message_zh=f"瓦片 {z}/{x}/{y} 超出瓦片网格：缩放级别 {z} 时 x、y 取 0 到 {n - 1}。",
            fix_zh="请使用 XYZ 瓦片编号（y 自北向南计）。")


# --------------------------------------------------------------------------- protobuf
def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Varints of non-negative integers (vectorised): the bytes, and each value's length."""
    v = np.asarray(values, dtype=np.uint64).ravel()
    nbytes = np.ones(v.shape, dtype=np.int64)
    for k in range(1, 10):
        nbytes += v >= np.uint64(1 << (7 * k))
    if v.size == 0:
        return b"", nbytes
    width = int(nbytes.max())
    shifts = np.arange(width, dtype=np.uint64) * np.uint64(7)
    groups = ((v[:, None] >> shifts[None, :]) & np.uint64(0x7F)).astype(np.uint8)
    cols = np.arange(width)[None, :]
    groups[cols < nbytes[:, None] - 1] |= 0x80
    return groups[cols < nbytes[:, None]].tobytes(), nbytes


def _packed_rows(values: np.ndarray, row_offsets: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Varints of ``values`` and the byte offset of each row (rows cut at ``row_offsets``)."""
    data, nbytes = _varints(values)
    ends = np.concatenate([[0], np.cumsum(nbytes)])
    return data, ends[row_offsets]


def _field(number: int, payload: bytes) -> bytes:
    """A length-delimited field."""
    return _varint((number << 3) | 2) + _varint(len(payload)) + payload


def _zigzag(values: np.ndarray) -> np.ndarray:
    v = values.astype(np.int64)
    return ((v << 1) ^ (v >> 63)).astype(np.uint64)


def _value(value: Any) -> bytes | None:
    """An MVT ``Value`` message, or None for a missing value.

    Examples
    --------
    >>> _value("A1"), _value(True), _value(-1), _value(float("nan"))
    (b'\\n\\x02A1', b'8\\x01', b'0\\x01', None)
    """
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, bool | np.bool_):
        return _varint(7 << 3) + _varint(int(value))
    if isinstance(value, int | np.integer):
        n = int(value)
        return _varint(6 << 3) + _varint((n << 1) ^ (n >> 63))
    if isinstance(value, float | np.floating):
        if math.isnan(value):
            return None
        return _varint((3 << 3) | 1) + struct.pack("<d", float(value))
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    return _field(1, text.encode())


# --------------------------------------------------------------------------- geometry
_FAMILIES = {"POINT": (0, 4), "LINESTRING": (1, 5), "POLYGON": (3, 6)}  # single, multi type ids
_MVT_TYPES = {"POINT": 1, "LINESTRING": 2, "POLYGON": 3}


def _family(geoms: np.ndarray) -> str:
    """The geometry family most features of ``geoms`` belong to."""
    types = shapely.get_type_id(geoms)
    counts = {name: int(np.isin(types, ids).sum()) for name, ids in _FAMILIES.items()}
    return max(counts, key=lambda k: counts[k])


def _only(geoms: np.ndarray, family: str) -> np.ndarray:
    """``geoms`` with every part not of ``family`` dropped (None when nothing is left)."""
    out = geoms.copy()
    ids = _FAMILIES[family]
    for i in np.flatnonzero(~np.isin(shapely.get_type_id(geoms), ids)):
        parts = shapely.get_parts(geoms[i])
        parts = parts[np.isin(shapely.get_type_id(parts), ids)]
        out[i] = None if len(parts) == 0 else shapely.multipolygons(parts) if family == "POLYGON" \
            else shapely.multilinestrings(parts) if family == "LINESTRING" \
            else shapely.multipoints(parts)
    return out


def _geometry_streams(geoms: np.ndarray, family: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """MVT command integers of integer-grid geometries of one family, all features at once.

    Returns the command stream, the value offset of each feature (length n + 1) and which
    features have a geometry left (rings of fewer than 3 distinct points, lines of fewer
    than 2 are dropped).
    """
    _kind, coords, offsets = shapely.to_ragged_array(geoms)
    n_feat = len(geoms)
    if family == "POINT":  # one MoveTo(n) per feature
        ring_off = offsets[0] if offsets else np.arange(len(coords) + 1)
        feat_ring = np.arange(n_feat + 1)
    elif len(offsets) == 1:  # LineString
        ring_off, feat_ring = offsets[0], np.arange(n_feat + 1)
    elif family == "LINESTRING" or len(offsets) == 2:  # MultiLineString, Polygon
        ring_off, feat_ring = offsets[0], offsets[1]
    else:  # MultiPolygon
        ring_off, feat_ring = offsets[0], offsets[1][offsets[2]]
    closed = family == "POLYGON"
    min_pts = {"POINT": 1, "LINESTRING": 2, "POLYGON": 3}[family]
    pts = np.rint(coords).astype(np.int64)
    n_rings = len(ring_off) - 1
    ring_of = np.repeat(np.arange(n_rings), np.diff(ring_off))
    keep = np.ones(len(pts), dtype=bool)
    if closed:
        keep[ring_off[1:][np.diff(ring_off) > 0] - 1] = False  # the closing point
    if family != "POINT" and len(pts) > 1:
        keep[1:] &= ~((pts[1:] == pts[:-1]).all(axis=1) & (ring_of[1:] == ring_of[:-1]))
    sizes = np.bincount(ring_of[keep], minlength=n_rings)
    good = sizes >= min_pts
    keep &= good[ring_of]
    pts, ring_of = pts[keep], ring_of[keep]
    feat_of_ring = np.repeat(np.arange(n_feat), np.diff(feat_ring))
    sizes = np.where(good, sizes, 0)
    # values per ring: MoveTo + pairs (+ LineTo) (+ ClosePath)
    extra = {"POINT": 1, "LINESTRING": 2, "POLYGON": 3}[family]
    ring_len = np.where(good, 2 * sizes + extra, 0)
    ring_start = np.concatenate([[0], np.cumsum(ring_len)])
    out = np.zeros(int(ring_start[-1]), dtype=np.uint64)
    # deltas: the cursor runs on across a feature's rings and restarts at 0,0 per feature
    feat_of_pt = feat_of_ring[ring_of]
    prev = np.zeros_like(pts)
    prev[1:] = pts[:-1]
    if len(pts):
        first_of_feat = np.ones(len(pts), dtype=bool)
        first_of_feat[1:] = feat_of_pt[1:] != feat_of_pt[:-1]
        prev[first_of_feat] = 0
    zz = _zigzag(pts - prev)
    first_pt = np.concatenate([[0], np.cumsum(sizes)])[:-1]
    k = np.arange(len(pts)) - first_pt[ring_of]
    pos = ring_start[:-1][ring_of] + 1 + 2 * k + (0 if family == "POINT" else (k >= 1))
    out[pos], out[pos + 1] = zz[:, 0], zz[:, 1]
    starts = ring_start[:-1][good]
    if family == "POINT":
        out[starts] = (1 | (sizes[good] << 3)).astype(np.uint64)
    else:
        out[starts] = 1 | (1 << 3)
        out[starts + 3] = (2 | ((sizes[good] - 1) << 3)).astype(np.uint64)
        if closed:
            out[starts + 2 * sizes[good] + 2] = 7 | (1 << 3)
    feat_len = np.bincount(feat_of_ring, weights=ring_len, minlength=n_feat).astype(np.int64)
    feat_off = np.concatenate([[0], np.cumsum(feat_len)])
    return out, feat_off, feat_len > 0


def _to_tile_grid(geoms: np.ndarray, z: int, x: int, y: int) -> np.ndarray:
    """Clip EPSG:3857 geometries to tile ``z/x/y`` plus buffer, move them to tile units,
    simplify and snap them to the integer grid; empty results become None."""
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    scale = TILE_EXTENT / (maxx - minx)
    buf = TILE_BUFFER / scale
    clipped = shapely.clip_by_rect(geoms, minx - buf, miny - buf, maxx + buf, maxy + buf)

    def to_tile(c: np.ndarray) -> np.ndarray:
        return np.column_stack(((c[:, 0] - minx) * scale, (maxy - c[:, 1]) * scale))

    local = shapely.transform(clipped, to_tile)
    local = shapely.simplify(local, SIMPLIFY_TOLERANCE, preserve_topology=True)
    try:
        grid = shapely.set_precision(local, 1.0)
    except shapely.errors.GEOSException:  # an invalid feature: repair the invalid ones
        invalid = ~shapely.is_valid(local) & ~shapely.is_missing(local)
        local[invalid] = shapely.make_valid(local[invalid])
        try:
            grid = shapely.set_precision(local, 1.0)
        except shapely.errors.GEOSException:  # still failing: one by one
            grid = np.array([_snap(g) for g in local], dtype=object)
    # Exterior rings must have positive area in tile coordinates (y down): "ccw" to shapely.
    oriented: np.ndarray = np.asarray(shapely.orient_polygons(grid, exterior_cw=False),
                                      dtype=object)
    oriented[shapely.is_empty(oriented) | shapely.is_missing(oriented)] = None
    return oriented


def _snap(geom: Any) -> Any:
    """Snap one geometry to the integer grid, repairing it first if GEOS needs that."""
    if geom is None:
        return None
    try:
        return shapely.set_precision(geom, 1.0)
    except shapely.errors.GEOSException:
        pass
    try:
        return shapely.set_precision(shapely.make_valid(geom), 1.0)
    except shapely.errors.GEOSException:
        return shapely.transform(geom, np.round)  # last resort: rounded, maybe invalid


def encode_tile(layer: str, geoms: Sequence[Any] | np.ndarray,
                columns: dict[str, Sequence[Any] | np.ndarray] | None = None,
                ids: Sequence[int] | np.ndarray | None = None) -> tuple[bytes, int]:
    """Encode one MVT layer (extent 4096) of integer tile-coordinate geometries.

    Geometries must already be in tile units (y down) with polygon exteriors of positive
    area; they are of one family (the most common one; other parts are dropped). Features
    whose geometry is None or empty are left out, and so are None and NaN values of
    ``columns`` (one array per column, aligned with ``geoms``). Returns the tile and its
    feature count; an empty layer gives ``(b"", 0)``.

    Examples
    --------
    >>> encode_tile("L", [])
    (b'', 0)
    >>> data, n = encode_tile("L", [shapely.Point(1, 2)], {"BSM": ["P1"]}, [7])
    >>> n, len(data)
    (1, 36)
    """
    arr = np.asarray(list(geoms) if not isinstance(geoms, np.ndarray) else geoms, dtype=object)
    present = ~(shapely.is_missing(arr) | shapely.is_empty(arr)) if len(arr) else np.zeros(0, bool)
    rows = np.flatnonzero(present)
    if len(rows) == 0:
        return b"", 0
    family = _family(arr[rows])
    arr = _only(arr[rows], family)
    rows = rows[~shapely.is_missing(arr)]
    arr = arr[~shapely.is_missing(arr)]
    if len(rows) == 0:
        return b"", 0
    stream, feat_off, has_geom = _geometry_streams(arr, family)
    geom_bytes, geom_at = _packed_rows(stream, feat_off)
    # attributes: one key per column, one value per distinct encoded value
    keys: list[str] = []
    values: dict[bytes, int] = {}
    codes: list[np.ndarray] = []
    for name, col in (columns or {}).items():
        labels, uniques = pd.factorize(np.asarray(col, dtype=object)[rows], use_na_sentinel=True)
        table = np.array([-1 if (e := _value(u)) is None else values.setdefault(e, len(values))
                          for u in uniques] + [-1], dtype=np.int64)
        keys.append(name)
        codes.append(table[labels])
    n = len(rows)
    if codes:
        vals = np.column_stack(codes)
        has = vals >= 0
        pairs = np.stack([np.broadcast_to(np.arange(len(keys)), vals.shape), vals], axis=2)
        tag_values = pairs[has].ravel()
        tag_off = np.concatenate([[0], np.cumsum(2 * has.sum(axis=1))])
    else:
        tag_values, tag_off = np.zeros(0, dtype=np.int64), np.zeros(n + 1, dtype=np.int64)
    tag_bytes, tag_at = _packed_rows(tag_values, tag_off)
    fids = None if ids is None else np.asarray(ids)[rows]
    type_field = _varint(3 << 3) + _varint(_MVT_TYPES[family])
    features: list[bytes] = []
    for i in np.flatnonzero(has_geom).tolist():
        body = b"" if fids is None else _varint(1 << 3) + _varint(int(fids[i]))
        if tag_at[i + 1] > tag_at[i]:
            body += _field(2, tag_bytes[tag_at[i]:tag_at[i + 1]])
        body += type_field + _field(4, geom_bytes[geom_at[i]:geom_at[i + 1]])
        features.append(_field(2, body))
    if not features:
        return b"", 0
    out = _varint(15 << 3) + _varint(2) + _field(1, layer.encode()) + b"".join(features)
    out += b"".join(_field(3, k.encode()) for k in keys)
    out += b"".join(_field(4, v) for v in values)
    out += _varint(5 << 3) + _varint(TILE_EXTENT)
    return _field(3, out), len(features)


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


@dataclass(frozen=True)
class TileKey:
    """What a tile's content depends on."""

    layer: str
    z: int
    x: int
    y: int
    as_of: date
    data_version: str

    @property
    def etag(self) -> str:
        """A strong ETag (quoted) derived from the key and :data:`TILE_FORMAT`.

        Examples
        --------
        >>> TileKey("GHYD", 0, 0, 0, date(2024, 1, 1), "ws#1:1").etag[:1]
        '"'
        """
        text = "|".join([TILE_FORMAT, self.layer, str(self.z), str(self.x), str(self.y),
                         self.as_of.isoformat(), self.data_version])
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


class TileCache:
    """Builds tiles of a workspace's layers and keeps them (see the module docstring).

    Parameters
    ----------
    max_tiles
        Tiles kept (``Settings.tile_cache_tiles``); 0 keeps none.
    max_index_features
        Layers with at most this many features are kept whole in memory (reprojected, with
        an STR-tree); larger layers are read from the store per tile with a bbox.
    max_indexes
        Layer indexes kept (one per layer, as-of date and data version).

    Examples
    --------
    >>> cache = TileCache(max_tiles=100)
    >>> # tile = cache.tile(store, "GHYD", 14, 13_510, 6_320)
    """

    def __init__(self, max_tiles: int, *, max_index_features: int = 200_000,
                 max_indexes: int = 8) -> None:
        self.max_index_features = max_index_features
        self._tiles: _LRU[TileKey, Tile] = _LRU(max_tiles)
        self._frames: _LRU[tuple[str, date, str], _LayerFrame] = _LRU(max_indexes)
        self._extents: _LRU[tuple[str, date, str], tuple[float, ...]] = _LRU(64)
        self._layer_names: _LRU[str, frozenset[str]] = _LRU(16)
        self.builds = 0

    def key(self, store: Any, layer: str, z: int, x: int, y: int,
            as_of: date | None = None) -> TileKey:
        """The key of a tile; raises ``NotFoundError`` (unknown layer) or ``InputError``."""
        version = data_version(store)
        # The layer names are read once per data version: any write changes the version, so
        # a cached name list is never stale (and a cached tile costs no catalog read).
        names = self._layer_names.get(version)
        if names is None:
            names = frozenset(info.name for info in store.layers())
            self._layer_names.put(version, names)
        if layer not in names:
            _layer_info(store, layer)  # raises NotFoundError naming the layers
        check_tile(z, x, y)
        return TileKey(layer, z, x, y, as_of or date.today(), version)

    def tile(self, store: Any, layer: str, z: int, x: int, y: int,
             as_of: date | None = None) -> Tile:
        """Tile ``z/x/y`` of ``layer`` as in force on ``as_of`` (default today)."""
        key = self.key(store, layer, z, x, y, as_of)
        cached = self._tiles.get(key)
        if cached is not None:
            return cached
        tile = self._build(store, key)
        self._tiles.put(key, tile)
        return tile

    def tilejson(self, store: Any, layer: str, tiles_url: str,
                 as_of: date | None = None) -> dict[str, Any]:
        """A TileJSON 3.0.0 document of ``layer``; ``tiles_url`` has ``{z}/{x}/{y}``."""
        info = _layer_info(store, layer)
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
                extent = (tuple(geoms.to_crs(_LONLAT).total_bounds) if len(geoms)
                          else (-180.0, -85.0511, 180.0, 85.0511))
            self._extents.put(frame_key, extent)
        w, s, e, n = (float(v) for v in extent)
        if any(math.isnan(v) for v in (w, s, e, n)):
            w, s, e, n = -180.0, -85.0511, 180.0, 85.0511
        span = max(e - w, (n - s) * 1.2, 1e-9)
        center_zoom = int(min(MAX_ZOOM, max(0, math.floor(math.log2(360.0 / span)) + 1)))
        role = get_role(info.role)
        kinds = {"TEXT": "String", "DATE": "String", "DATETIME": "String",
                 "INTEGER": "Number", "REAL": "Number", "BOOLEAN": "Boolean"}
        fields = {c: kinds.get(t.upper(), "String") for c, t in info.columns.items()}
        return {
            "tilejson": "3.0.0", "name": layer, "description": f"{role.name_zh} {role.name_en}",
            "version": "1.0.0", "scheme": "xyz", "tiles": [tiles_url],
            "minzoom": 0, "maxzoom": MAX_ZOOM, "bounds": [w, s, e, n],
            "center": [(w + e) / 2, (s + n) / 2, center_zoom],
            "vector_layers": [{"id": layer, "fields": fields, "minzoom": 0, "maxzoom": MAX_ZOOM,
                               "description": f"{role.name_zh}; every field from zoom "
                                              f"{FULL_ATTRIBUTE_ZOOM}, id and code fields below"}],
        }

    # ------------------------------------------------------------------ building
    def _build(self, store: Any, key: TileKey) -> Tile:
        self.builds += 1
        info = store.layer(key.layer)
        role = get_role(info.role)
        if key.z >= FULL_ATTRIBUTE_ZOOM:
            names = list(info.columns)
        else:
            names = [c for c in dict.fromkeys([role.id_field, role.code_field])
                     if c and c in info.columns]
        minx, miny, maxx, maxy = tile_bounds(key.z, key.x, key.y)
        pad = TILE_BUFFER * (maxx - minx) / TILE_EXTENT
        area = (minx - pad, miny - pad, maxx + pad, maxy + pad)
        if info.features <= self.max_index_features:
            frame = self._frame(store, key)
            hits = np.sort(frame.tree.query(shapely.box(*area)))
            geoms, ids = frame.geoms[hits], frame.ids[hits]
            cols = {c: frame.columns[c][hits] for c in names}
        else:
            crs = store.crs
            bbox = _transformer(_WEB_MERCATOR, crs).transform_bounds(*area, densify_pts=21)
            read = store.read_layer(key.layer, bbox=bbox, columns=names, as_of=key.as_of)
            geoms = read.geometry.to_crs(_WEB_MERCATOR).to_numpy() if len(read) else np.array([])
            ids = read.index.to_numpy()
            cols = {c: read[c].to_numpy(dtype=object) for c in names}
        if len(geoms) == 0:
            return Tile(key, b"", 0)
        grid = _to_tile_grid(np.asarray(geoms, dtype=object), key.z, key.x, key.y)
        content, count = encode_tile(key.layer, grid, cols, ids)
        return Tile(key, content, count)

    def _frame(self, store: Any, key: TileKey) -> _LayerFrame:
        frame_key = (key.layer, key.as_of, key.data_version)
        frame = self._frames.get(frame_key)
        if frame is None:
            read: gpd.GeoDataFrame = store.read_layer(key.layer, as_of=key.as_of)
            if len(read):
                read = read.to_crs(_WEB_MERCATOR)
            geoms = np.asarray(read.geometry.to_numpy(), dtype=object)
            frame = _LayerFrame(geoms, read.index.to_numpy(),
                                {c: read[c].to_numpy(dtype=object)
                                 for c in read.columns if c != read.geometry.name},
                                shapely.STRtree(geoms))
            self._frames.put(frame_key, frame)
        return frame

    def __len__(self) -> int:
        return len(self._tiles)


def _layer_info(store: Any, layer: str) -> Any:
    """The store's ``LayerInfo`` of ``layer``; the error names no workspace path."""
    infos = {info.name: info for info in store.layers()}
    if layer not in infos:
        names = sorted(infos)
        raise NotFoundError(f"There is no layer {layer!r}.", layer=layer,
                            fix=f"Layers: {', '.join(names)}.",
                            message_zh=f"没有图层 {layer!r}。", fix_zh=f"现有图层：{'、'.join(names)}。")
    return infos[layer]


def _transformer(src: CRS, dst: CRS) -> Transformer:
    # A new transformer per call: cheap next to a tile build, and never shared by threads.
    return Transformer.from_crs(src, dst, always_xy=True)
