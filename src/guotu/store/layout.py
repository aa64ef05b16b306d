"""What every backend's workspace shares, whichever database holds it: the schema version,
the columns a layer table carries besides its attributes, the column types, and how values,
CRSs and times are written.

GeoPackage, PostGIS and memory stores import these from here (and from nowhere else), so the
three cannot drift apart on them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pandas as pd
from pyproj import CRS

__all__ = [
    "ADDED_IN",
    "CONTENT_HASH",
    "GEOM",
    "SCHEMA_VERSION",
    "SQL_TYPES",
    "as_timestamp",
    "column_values",
    "crs_id",
    "now",
    "record_time",
    "srid_of",
    "upgrade_reason",
]

#: Version of guotu's own tables in a workspace; bumped by each migration (2: plans and
#: versions; 3: non-spatial tables, :mod:`guotu.store.tables`; 4: the hash-chained audit
#: log, :mod:`guotu.store.audit`, and identity, :mod:`guotu.store.identity`; 5: approval
#: cases, :mod:`guotu.store.approvals`).
SCHEMA_VERSION = 5

#: The geometry column of every layer table.
GEOM = "geom"
#: Columns every layer table carries besides fid, geom and the attributes: the version that
#: added the feature revision and a hash of its content (geometry and attributes).
ADDED_IN = "guotu_added_in"
CONTENT_HASH = "guotu_hash"

#: Column types of layer tables (as recorded in ``guotu_layers.columns``), by the kind a
#: caller gives in ``write_layer(column_types=…)``.
SQL_TYPES = {
    "text": "TEXT",
    "real": "REAL",
    "integer": "INTEGER",
    "date": "DATE",
    "boolean": "BOOLEAN",
    "code": "TEXT",
}


def upgrade_reason(old: int, new: int) -> str:
    """The audit log's reason for upgrading a workspace's tables from schema ``old`` to
    ``new``, in Chinese like everything the bureau's staff read in the log.

    Examples
    --------
    >>> upgrade_reason(2, 3)
    '工作空间结构版本 2 → 3'
    """
    return f"工作空间结构版本 {old} → {new}"


def column_values(series: pd.Series, sql_type: str) -> list[Any]:
    """A column's values as they are written (and hashed): floats or ``None`` for REAL,
    ints for INTEGER, 0/1 for BOOLEAN, ISO dates for DATE, text otherwise.

    Examples
    --------
    >>> column_values(pd.Series([1.5, None]), "REAL")
    [1.5, None]
    >>> column_values(pd.Series([True, None], dtype=object), "BOOLEAN")
    [1, None]
    """
    if sql_type == "REAL":
        arr = pd.to_numeric(series, errors="coerce").astype("float64").to_numpy()
        return [None if v != v else float(v) for v in arr.tolist()]
    if sql_type == "INTEGER":
        return [None if pd.isna(v) else int(v) for v in series.tolist()]
    if sql_type == "BOOLEAN":
        return [None if pd.isna(v) else int(bool(v)) for v in series.tolist()]
    arr = series.to_numpy(dtype=object)
    if sql_type == "TEXT" and pd.api.types.infer_dtype(arr, skipna=True) in ("string", "empty"):
        missing = pd.isna(arr)
        if missing.any():
            arr = arr.copy()
            arr[missing] = None
        return list(arr.tolist())
    return [
        None
        if v is None or (isinstance(v, float) and v != v) or v is pd.NaT
        else (v.isoformat()[:10] if sql_type == "DATE" and hasattr(v, "isoformat") else str(v))
        for v in series.tolist()
    ]


def crs_id(crs: CRS) -> str:
    """How a workspace records its CRS: ``AUTHORITY:CODE``, else the WKT.

    Examples
    --------
    >>> crs_id(CRS.from_epsg(4527))
    'EPSG:4527'
    """
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.to_wkt()


def srid_of(crs: CRS) -> int:
    """The numeric id a database gives ``crs``: its EPSG code, else 0 (undefined).

    Examples
    --------
    >>> srid_of(CRS.from_epsg(4527))
    4527
    """
    auth = crs.to_authority()
    return int(auth[1]) if auth and auth[0].upper() == "EPSG" else 0


def now() -> str:
    """The time a layer is written, as recorded in ``guotu_layers.imported_at`` (UTC, ISO,
    to the second)."""
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_time() -> datetime:
    """Now, as the catalogue records it: UTC without a time zone (record times of versions,
    times of audit entries)."""
    return datetime.now(UTC).replace(tzinfo=None)


def as_timestamp(value: str | datetime) -> datetime:
    """A record time read back as text (SQLite, the memory store) or as a timestamp
    (PostgreSQL).

    Examples
    --------
    >>> as_timestamp("2026-12-07T08:00:00.5")
    datetime.datetime(2026, 12, 7, 8, 0, 0, 500000)
    """
    return value if isinstance(value, datetime) else datetime.fromisoformat(value)
