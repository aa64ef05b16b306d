"""What every store shares about feature revisions: content hashes, the matching of new
content against a parent version's revisions, the layer record read back from its row, and the
frame every read returns."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from datetime import date
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

from guotu.domain.core.catalog import LayerInfo
from guotu.store.messages import no_column_error

__all__ = [
    "checked_columns",
    "content_hashes",
    "layer_frame",
    "layer_info",
    "match_revisions",
    "sqlite_values",
]


def content_hashes(
    blobs: Sequence[bytes | None], values: Sequence[Sequence[Any]], names: Sequence[str]
) -> list[int]:
    """A 64-bit hash (as a signed SQLite integer) of each feature's geometry and attributes.

    Each column is hashed on its own, keyed by its name (pandas' keyed SipHash: stable
    across runs and machines), and the column hashes are added, so the result does not
    depend on the order of the columns, and an empty (null) value contributes nothing: a
    re-import with columns reordered, or with a new empty column, shares every feature.
    """
    n = len(blobs)
    total = np.zeros(n, dtype=np.uint64)
    for name, column in (("\x00geometry", blobs), *zip(names, values, strict=True)):
        arr = np.asarray(list(column), dtype=object)
        present = ~pd.isna(arr)
        if not present.any():
            continue
        key = hashlib.md5(name.encode()).hexdigest()[:16]
        values_present = arr[present]
        kind = pd.api.types.infer_dtype(values_present, skipna=False)
        if kind in ("floating", "integer", "mixed-integer-float", "decimal"):
            # Numbers hash as float64 in C; the object path would format each one as text.
            key_salt = np.uint64(int(key, 16) & 0xFFFFFFFFFFFFFFFF)
            hashed = pd.util.hash_array(np.asarray(values_present, dtype=np.float64)) ^ key_salt
        elif kind in ("string", "bytes"):
            hashed = pd.util.hash_array(values_present, hash_key=key, categorize=False)
        else:
            hashed = pd.util.hash_array(
                values_present.astype(str).astype(object), hash_key=key, categorize=False
            )
        total[present] += hashed.astype(np.uint64)
    return [int(h) for h in total.view(np.int64).tolist()]


def match_revisions(
    old: Sequence[Sequence[Any]], hashes: Sequence[int]
) -> tuple[int, list[int], np.ndarray]:
    """Compare the parent's revisions (fid, hash) with the new content's hashes.

    Returns (number of unchanged revisions kept, fids to retire, mask of new rows to add).
    Identical features are matched one to one, so duplicates are counted, not merged.
    """
    available: dict[int, list[int]] = {}
    for fid, h in old:
        available.setdefault(h, []).append(int(fid))
    add = np.ones(len(hashes), dtype=bool)
    kept = 0
    for i, h in enumerate(hashes):
        fids = available.get(h)
        if fids:
            fids.pop()
            add[i] = False
            kept += 1
    retire = sorted(f for fids in available.values() for f in fids)
    return kept, retire, add


def layer_info(row: Sequence[Any]) -> LayerInfo:
    """A layer's record from its ``guotu_layers`` row (name, role, features, geometry type,
    CRS, columns and field map as JSON, source, source layer, import time, plan name)."""
    return LayerInfo(
        name=row[0],
        role=row[1],
        features=int(row[2]),
        geometry_type=row[3],
        crs=row[4],
        columns=json.loads(row[5]),
        source=row[6] or "",
        source_layer=row[7] or "",
        field_map=json.loads(row[8] or "{}"),
        imported_at=row[9] or "",
        plan=row[10] or "",
    )


def layer_frame(
    fids: Sequence[int],
    geoms: npt.ArrayLike,
    cols: Sequence[str],
    data: Sequence[Sequence[Any]],
    types: dict[str, str],
    crs: Any,
) -> gpd.GeoDataFrame:
    """The frame every store returns: index ``fid`` (int64), the columns in order as the
    Python values SQLite gives back (REAL as float64, missing as ``None``/NaN), then the
    geometry column ``geometry`` in the layer's CRS."""
    frame = pd.DataFrame(
        {c: list(v) for c, v in zip(cols, data, strict=True)},
        index=pd.Index(np.asarray(fids, dtype=np.int64), name="fid"),
    )
    for c in cols:
        if types[c] == "REAL":
            frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
    return gpd.GeoDataFrame(frame, geometry=np.asarray(geoms, dtype=object), crs=crs)


def checked_columns(info: LayerInfo, columns: Sequence[str] | None) -> list[str]:
    """The columns a read of layer ``info`` asks for (all by default); an unknown one is a
    :class:`~guotu.errors.NotFoundError` listing the layer's columns."""
    cols = list(info.columns) if columns is None else list(columns)
    unknown = [c for c in cols if c not in info.columns]
    if unknown:
        raise no_column_error(info.name, unknown[0], list(info.columns))
    return cols


def sqlite_values(values: Sequence[Any], sql_type: str) -> list[Any]:
    """Column values read from another database as the GeoPackage store gives them back:
    dates as ISO text, booleans as 0/1, the rest as they come.

    Examples
    --------
    >>> sqlite_values([date(2024, 1, 2), None], "DATE"), sqlite_values([True, None], "BOOLEAN")
    (['2024-01-02', None], [1, None])
    """
    if sql_type == "DATE":
        return [v.isoformat() if isinstance(v, date) else v for v in values]
    if sql_type == "BOOLEAN":
        return [None if v is None else int(v) for v in values]
    return list(values)
