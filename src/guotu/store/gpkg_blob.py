"""GeoPackage geometry blobs (GeoPackage 1.3 §2.1.3) and the SQL functions GDAL's R-tree
triggers call, so that a plain ``sqlite3`` connection can write a file QGIS and GDAL accept.

A blob is: ``b"GP"``, version 0, a flags byte (bit 0 little-endian, bits 1–3 envelope kind,
bit 4 empty), the srs_id as int32, the envelope, then standard WKB.
"""

from __future__ import annotations

import sqlite3
import struct
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt
import shapely

__all__ = ["decode_blobs", "encode_blobs", "envelope_of_blob", "register_functions"]

_ENVELOPE_BYTES = {0: 0, 1: 32, 2: 48, 3: 48, 4: 64}
_HEADER = np.dtype(
    [
        ("magic", "S2"),
        ("version", "u1"),
        ("flags", "u1"),
        ("srs_id", "<i4"),
        ("envelope", "<f8", (4,)),
    ]
)
_EMPTY_HEADER = np.dtype([("magic", "S2"), ("version", "u1"), ("flags", "u1"), ("srs_id", "<i4")])


def encode_blobs(geoms: npt.ArrayLike, srs_id: int) -> list[bytes | None]:
    """GeoPackage blobs of ``geoms`` (2D, little-endian, xy envelope); ``None`` stays NULL."""
    arr = np.asarray(geoms, dtype=object)
    missing = shapely.is_missing(arr)
    empty = shapely.is_empty(arr) & ~missing
    wkb = shapely.to_wkb(arr, byte_order=1, output_dimension=2, flavor="iso")
    bounds = shapely.bounds(arr)
    header = np.zeros(len(arr), dtype=_HEADER)
    header["magic"] = b"GP"
    header["flags"] = 0b0000_0011  # little-endian, envelope [minx, maxx, miny, maxy]
    header["srs_id"] = srs_id
    header["envelope"] = bounds[:, [0, 2, 1, 3]]
    raw = header.tobytes()
    size = _HEADER.itemsize
    empty_header = np.zeros(1, dtype=_EMPTY_HEADER)
    empty_header["magic"] = b"GP"
    empty_header["flags"] = 0b0001_0001  # little-endian, no envelope, empty
    empty_header["srs_id"] = srs_id
    empty_raw = empty_header.tobytes()
    out: list[bytes | None] = []
    for i, w in enumerate(wkb.tolist()):
        if missing[i]:
            out.append(None)
        elif empty[i]:
            out.append(empty_raw + w)
        else:
            out.append(raw[i * size : (i + 1) * size] + w)
    return out


def _header_length(blob: bytes) -> int:
    return 8 + _ENVELOPE_BYTES[(blob[3] >> 1) & 0b111]


def decode_blobs(blobs: Sequence[bytes | None]) -> npt.NDArray[np.object_]:
    """Shapely geometries of GeoPackage blobs (NULL → ``None``)."""
    wkb = [None if b is None else b[_header_length(b) :] for b in blobs]
    return np.asarray(shapely.from_wkb(wkb), dtype=object)


def envelope_of_blob(blob: bytes | None) -> tuple[float, float, float, float] | None:
    """(minx, maxx, miny, maxy) of a blob, read from its header or, failing that, its WKB."""
    if blob is None or len(blob) < 8 or blob[:2] != b"GP":
        return None
    flags = blob[3]
    if flags & 0b1_0000:
        return None
    if (flags >> 1) & 0b111:
        fmt = "<4d" if flags & 1 else ">4d"
        minx, maxx, miny, maxy = struct.unpack_from(fmt, blob, 8)
        return minx, maxx, miny, maxy
    geom = shapely.from_wkb(blob[_header_length(blob) :])
    if geom.is_empty:
        return None
    x0, y0, x1, y1 = geom.bounds
    return x0, x1, y0, y1


def _envelope_part(i: int):  # type: ignore[no-untyped-def]
    def fn(blob: bytes | None) -> float | None:
        env = envelope_of_blob(blob)
        return None if env is None else env[i]

    return fn


def _is_empty(blob: bytes | None) -> int | None:
    if blob is None:
        return None
    return 1 if envelope_of_blob(blob) is None else 0


def register_functions(conn: sqlite3.Connection) -> None:
    """Register ST_MinX … ST_IsEmpty, which GeoPackage R-tree triggers call on write."""
    for i, name in enumerate(("ST_MinX", "ST_MaxX", "ST_MinY", "ST_MaxY")):
        conn.create_function(name, 1, _envelope_part(i), deterministic=True)
    conn.create_function("ST_IsEmpty", 1, _is_empty, deterministic=True)
