"""What every store shares about feature revisions: the layer record, content hashes and
the matching of new content against a parent version's revisions."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import pandas as pd

__all__ = ["LayerInfo", "content_hashes", "layer_frame", "layer_info", "match_revisions"]


@dataclass(frozen=True)
class LayerInfo:
    """What the workspace knows about one layer."""

    name: str
    role: str
    features: int
    geometry_type: str
    crs: str
    columns: dict[str, str] = field(default_factory=dict)
    source: str = ""
    source_layer: str = ""
    field_map: dict[str, str] = field(default_factory=dict)
    imported_at: str = ""
    plan: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable form used by ``guotu layers --json``."""
        return {
            "name": self.name,
            "role": self.role,
            "features": self.features,
            "geometry_type": self.geometry_type,
            "crs": self.crs,
            "columns": self.columns,
            "source": self.source,
            "source_layer": self.source_layer,
            "field_map": self.field_map,
            "imported_at": self.imported_at,
            "plan": self.plan,
        }


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
