"""Mapbox vector tile (MVT 2.1) encoding: the XYZ tile grid in EPSG:3857, geometry moved to
tile units, clipped, simplified and snapped to the integer grid, and the protobuf written
with numpy for all features at once. :mod:`guotu.services.tiles` reads the features and
caches the tiles.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely

from guotu.errors import InputError

__all__ = [
    "MAX_ZOOM",
    "MERCATOR_HALF_M",
    "SIMPLIFY_TOLERANCE",
    "TILE_BUFFER",
    "TILE_EXTENT",
    "check_tile",
    "encode_tile",
    "tile_bounds",
    "to_tile_grid",
]

#: Tile coordinate extent (MVT default).
TILE_EXTENT = 4096
#: Buffer around a tile, in tile units (1/64 of the tile), so strokes join across tiles.
TILE_BUFFER = 64
#: Simplification tolerance in tile units: a quarter pixel of a 256-pixel tile.
SIMPLIFY_TOLERANCE = 4.0
#: Deepest zoom served (about 0.04 m per tile unit).
MAX_ZOOM = 22
#: Half the side of the Web Mercator square, in metres.
MERCATOR_HALF_M = 20037508.342789244


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
        raise InputError(
            f"Zoom {z} is outside 0–{MAX_ZOOM}.",
            fix=f"Ask for z from 0 to {MAX_ZOOM}.",
            message_zh=f"缩放级别 {z} 超出 0–{MAX_ZOOM}。",
            fix_zh=f"请使用 0 到 {MAX_ZOOM} 的缩放级别。",
        )
    n = 1 << z
    if not (0 <= x < n and 0 <= y < n):
        raise InputError(
            f"Tile {z}/{x}/{y} is outside the tile grid: at zoom {z}, x and y run from 0 to {n - 1}.",
            fix="Use XYZ tile numbers (y counted from the north).",
            message_zh=f"瓦片 {z}/{x}/{y} 超出瓦片网格：缩放级别 {z} 时 x、y 取 0 到 {n - 1}。",
            fix_zh="请使用 XYZ 瓦片编号（y 自北向南计）。",
        )


# --------------------------------------------------------------------------- protobuf
def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_VARINT_LIMITS = np.array([1 << (7 * k) for k in range(1, 10)], dtype=np.uint64)


def _varints(values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """Varints of non-negative integers (vectorised): the bytes, and each value's length."""
    v = np.asarray(values, dtype=np.uint64).ravel()
    nbytes = 1 + np.searchsorted(_VARINT_LIMITS, v, side="right").astype(np.int64)
    if v.size == 0:
        return b"", nbytes
    out = np.empty(int(nbytes.sum()), dtype=np.uint8)
    at = np.cumsum(nbytes) - nbytes
    for k in range(int(nbytes.max())):  # the k-th byte of every value that has one
        has = nbytes > k
        if has.all():
            part, more, where = v >> np.uint64(7 * k), nbytes > k + 1, at + k
        else:
            part, more, where = v[has] >> np.uint64(7 * k), nbytes[has] > k + 1, at[has] + k
        out[where] = (part & np.uint64(0x7F)).astype(np.uint8) | (more.astype(np.uint8) << 7)
    return out.tobytes(), nbytes


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
        out[i] = (
            None
            if len(parts) == 0
            else shapely.multipolygons(parts)
            if family == "POLYGON"
            else shapely.multilinestrings(parts)
            if family == "LINESTRING"
            else shapely.multipoints(parts)
        )
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


def to_tile_grid(geoms: np.ndarray, z: int, x: int, y: int) -> np.ndarray:
    """Clip EPSG:3857 geometries to tile ``z/x/y`` plus buffer, simplify them (in metres,
    the tolerance scaled), move them to tile units and snap them to the integer grid; empty
    results become None. The snap is rounding; only the few features that rounding makes
    invalid (collapsed or crossing rings) go through GEOS's precision reducer (about 20
    times slower), which repairs them and drops what collapses."""
    minx, miny, maxx, maxy = tile_bounds(z, x, y)
    scale = TILE_EXTENT / (maxx - minx)
    buf = TILE_BUFFER / scale
    clipped = shapely.clip_by_rect(geoms, minx - buf, miny - buf, maxx + buf, maxy + buf)
    simple = shapely.simplify(clipped, SIMPLIFY_TOLERANCE / scale, preserve_topology=True)

    def to_tile(c: np.ndarray) -> np.ndarray:
        return np.column_stack(((c[:, 0] - minx) * scale, (maxy - c[:, 1]) * scale))

    grid = shapely.transform(simple, lambda c: np.rint(to_tile(c)))
    broken = ~shapely.is_valid(grid) & ~shapely.is_missing(grid)
    if broken.any():
        grid[broken] = np.array(
            [_snap(g) for g in shapely.transform(simple[broken], to_tile)], dtype=object
        )
    # Exterior rings must have positive area in tile coordinates (y down): "ccw" to shapely.
    oriented: np.ndarray = np.asarray(
        shapely.orient_polygons(grid, exterior_cw=False), dtype=object
    )
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


def encode_tile(
    layer: str,
    geoms: Sequence[Any] | np.ndarray,
    columns: dict[str, Sequence[Any] | np.ndarray] | None = None,
    ids: Sequence[int] | np.ndarray | None = None,
) -> tuple[bytes, int]:
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
        table = np.array(
            [
                -1 if e is None else values.setdefault(e, len(values))
                for e in _encode_values(uniques)
            ]
            + [-1],
            dtype=np.int64,
        )
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
    kept = np.flatnonzero(has_geom)
    if len(kept) == 0:
        return b"", 0
    features = _features(kept, fids, _MVT_TYPES[family], tag_bytes, tag_at, geom_bytes, geom_at)
    out = _varint(15 << 3) + _varint(2) + _field(1, layer.encode()) + features
    out += b"".join(_field(3, k.encode()) for k in keys)
    out += _delimited(0x22, b"".join(values), np.fromiter(map(len, values), np.int64))
    out += _varint(5 << 3) + _varint(TILE_EXTENT)
    return _field(3, out), len(kept)


def _gather(src: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> bytes:
    """The slices ``src[start:start + length]`` (row by row), joined: one numpy gather."""
    lengths = np.asarray(lengths, dtype=np.int64).ravel()
    total = int(lengths.sum())
    index = np.repeat(np.asarray(starts, dtype=np.int64).ravel() - _starts(lengths), lengths)
    return bytes(src[index + np.arange(total, dtype=np.int64)].tobytes())


def _starts(sizes: np.ndarray) -> np.ndarray:
    return np.asarray(np.cumsum(sizes) - sizes)


def _delimited(key: int, data: bytes, sizes: np.ndarray) -> bytes:
    """``data`` cut into pieces of ``sizes`` bytes, each a length-delimited field with the
    one-byte ``key``."""
    size_bytes, size_n = _varints(sizes)
    src = np.frombuffer(bytes([key]) + size_bytes + data, dtype=np.uint8)
    zero = np.zeros(len(sizes), dtype=np.int64)
    starts = np.column_stack([zero, 1 + _starts(size_n), 1 + len(size_bytes) + _starts(sizes)])
    return _gather(src, starts, np.column_stack([zero + 1, size_n, sizes]))


def _features(
    kept: np.ndarray,
    fids: np.ndarray | None,
    geom_type: int,
    tag_bytes: bytes,
    tag_at: np.ndarray,
    geom_bytes: bytes,
    geom_at: np.ndarray,
) -> bytes:
    """The ``Feature`` messages (layer field 2) of rows ``kept``, all at once from the packed
    tag and geometry streams: ``{1: id, 2: [tags] (if any), 3: type, 4: [geometry]}``."""
    m = len(kept)
    tag_len, geom_len = tag_at[kept + 1] - tag_at[kept], geom_at[kept + 1] - geom_at[kept]
    has_tags = (tag_len > 0).astype(np.int64)
    id_bytes, id_n = _varints(fids[kept]) if fids is not None else (b"", np.zeros(m, np.int64))
    has_id = np.full(m, fids is not None, dtype=np.int64)
    tlen_bytes, tlen_n = _varints(tag_len)
    glen_bytes, glen_n = _varints(geom_len)
    # one source buffer: the constant keys, then each stream (at its base offset)
    parts = [
        bytes([0x08, 0x12, 0x18, geom_type, 0x22]),
        id_bytes,
        tlen_bytes,
        tag_bytes,
        glen_bytes,
        geom_bytes,
    ]
    base = np.cumsum([0] + [len(p) for p in parts])
    src = np.frombuffer(b"".join(parts), dtype=np.uint8)
    zero = np.zeros(m, dtype=np.int64)
    starts = np.column_stack(
        [
            zero,
            base[1] + _starts(id_n),  # id
            zero + 1,
            base[2] + _starts(tlen_n),
            base[3] + tag_at[kept],  # tags
            zero + 2,  # type
            zero + 4,
            base[4] + _starts(glen_n),
            base[5] + geom_at[kept],
        ]
    )  # geometry
    lengths = np.column_stack(
        [
            has_id,
            has_id * id_n,
            has_tags,
            has_tags * tlen_n,
            tag_len,
            zero + 2,
            zero + 1,
            glen_n,
            geom_len,
        ]
    )
    return _delimited(0x12, _gather(src, starts, lengths), lengths.sum(axis=1))


_SHORT_LENGTHS = [bytes([i]) for i in range(128)]


def _encode_values(uniques: np.ndarray) -> list[bytes | None]:
    """:func:`_value` of each distinct value of a column, fast for text and float columns."""
    kind = pd.api.types.infer_dtype(uniques, skipna=False)
    if kind == "string":
        encoded = [u.encode() for u in uniques]
        return [
            b"\n" + (_SHORT_LENGTHS[len(e)] if len(e) < 128 else _varint(len(e))) + e
            for e in encoded
        ]
    if kind == "floating":
        numbers = np.asarray(uniques, dtype="<f8")
        block = np.empty((len(numbers), 9), dtype=np.uint8)
        block[:, 0] = (3 << 3) | 1  # double_value
        block[:, 1:] = numbers.view(np.uint8).reshape(-1, 8)
        data = block.tobytes()
        return [
            None if math.isnan(v) else data[9 * i : 9 * i + 9]
            for i, v in enumerate(numbers.tolist())
        ]
    return [_value(u) for u in uniques]
