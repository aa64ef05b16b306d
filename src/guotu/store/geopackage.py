"""The workspace as one GeoPackage file, written through the standard library's sqlite3.

What QGIS and GDAL need is written by hand: ``gpkg_spatial_ref_sys``, ``gpkg_contents``,
``gpkg_geometry_columns``, ``gpkg_extensions``, GeoPackage geometry blobs and an R-tree
index with the spec's triggers (whose SQL functions are registered on every connection).
guotu's own bookkeeping lives in ``guotu_meta`` and ``guotu_layers``.

Never open a workspace with GDAL (pyogrio) inside a process that holds it open here: GDAL
brings its own SQLite library, and two SQLite libraries in one process release each other's
POSIX locks, which can corrupt a WAL database. GDAL and QGIS in other processes are fine.

Every write is one SQLite transaction: a layer import completes, or the file is exactly as
it was (a killed process leaves a journal that SQLite rolls back on the next open). The
file runs in WAL mode so readers keep reading while one writer writes; a second writer
waits ``busy_timeout_s`` and then gets a :class:`StoreError` saying another writer holds it.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS
from pyproj.enums import WktVersion

from guotu.errors import NotFoundError, StoreError, StoreIntegrityError, StoreUnavailableError
from guotu.store.gpkg_blob import decode_blobs, encode_blobs, register_functions
from guotu.store.rtree_bulk import bulk_load_rtree

__all__ = ["SCHEMA_VERSION", "GeoPackageStore", "LayerInfo"]

#: Version of guotu's own tables in the file; bumped by each migration.
SCHEMA_VERSION = 1
_APPLICATION_ID = 0x47504B47  # "GPKG"
_USER_VERSION = 10300  # GeoPackage 1.3.0
_GEOM = "geom"

_SQL_TYPES = {"text": "TEXT", "real": "REAL", "integer": "INTEGER", "date": "DATE",
              "boolean": "BOOLEAN", "code": "TEXT"}


def _q(name: str) -> str:
    """Quote an SQL identifier (layer and column names come from users' files)."""
    return '"' + name.replace('"', '""') + '"'


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

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable form used by ``guotu layers --json``."""
        return {"name": self.name, "role": self.role, "features": self.features,
                "geometry_type": self.geometry_type, "crs": self.crs, "columns": self.columns,
                "source": self.source, "source_layer": self.source_layer,
                "field_map": self.field_map, "imported_at": self.imported_at}


@contextlib.contextmanager
def _driver_errors(path: Path, action: str, action_zh: str) -> Iterator[None]:
    """Turn sqlite3 exceptions into guotu's store errors (``action`` in English and Chinese)."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise StoreError(
                f"Workspace {path} is being written by another process; {action} was not done.",
                file=str(path), fix="Wait for the other import to finish and run it again.",
                message_zh=f"工作空间 {path} 正被另一个进程写入，未能{action_zh}。",
                fix_zh="请等另一个导入完成后再运行一次。",
            ) from exc
        raise StoreError(f"Workspace {path}: {action} failed: {text}.", file=str(path),
                         message_zh=f"工作空间 {path}：{action_zh}失败：{text}。") from exc
    except sqlite3.DatabaseError as exc:
        raise StoreIntegrityError(
            f"{path} is not a readable GeoPackage ({exc}); {action} was not done.",
            file=str(path), fix="Give a workspace created by guotu, or a new file name.",
            message_zh=f"{path} 不是可读取的 GeoPackage（{exc}），未能{action_zh}。",
            fix_zh="请指定由 guotu 创建的工作空间，或一个新的文件名。",
        ) from exc


class GeoPackageStore:
    """A workspace in one GeoPackage file.

    Use :meth:`open`; the store is a context manager that closes its connection.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(cls, path: str | Path, *, create: bool = False, busy_timeout_s: float = 10.0
             ) -> GeoPackageStore:
        """Open the workspace at ``path``; with ``create=True`` make it if it does not exist.

        Raises
        ------
        NotFoundError
            No file and ``create`` is false.
        StoreIntegrityError
            The file exists but is not a GeoPackage.
        """
        p = Path(path)
        if not p.exists() and not create:
            raise NotFoundError(
                f"Workspace {p} does not exist.", file=str(p),
                fix="Create one with `guotu demo` or `guotu import FILE --role ROLE -w "
                f"{p}`.",
                message_zh=f"工作空间 {p} 不存在。",
                fix_zh=f"请用 `guotu demo` 或 `guotu import 文件 --role 图层类型 -w {p}` 创建。",
            )
        if p.is_dir():
            raise StoreIntegrityError(f"Workspace {p} is a folder, not a GeoPackage file.",
                                      file=str(p), fix="Give a file name ending in .gpkg.",
                                      message_zh=f"工作空间 {p} 是文件夹，不是 GeoPackage 文件。",
                                      fix_zh="请指定以 .gpkg 结尾的文件名。")
        is_new = not p.exists() or p.stat().st_size == 0
        try:
            conn = sqlite3.connect(str(p), isolation_level=None, timeout=busy_timeout_s,
                                   check_same_thread=False)
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"Cannot open workspace {p}: {exc}.", file=str(p),
                                        message_zh=f"无法打开工作空间 {p}：{exc}。") from exc
        register_functions(conn)
        store = cls(p, conn)
        with _driver_errors(p, "opening the workspace", "打开工作空间"):
            if is_new:
                store._initialise()
            else:
                store._check_is_workspace()
            conn.execute("PRAGMA foreign_keys = ON")
        return store

    def close(self) -> None:
        """Close the connection."""
        self._conn.close()

    def __enter__(self) -> GeoPackageStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _initialise(self) -> None:
        c = self._conn
        # The header fields go straight into the main file (GDAL reads them from its first
        # page, not from the WAL), so they are written before WAL mode is switched on.
        c.execute(f"PRAGMA application_id = {_APPLICATION_ID}")
        c.execute(f"PRAGMA user_version = {_USER_VERSION}")
        c.execute("BEGIN IMMEDIATE")
        try:
            for statement in _GPKG_DDL.split(";\n"):
                if statement.strip():
                    c.execute(statement)
            c.execute("INSERT INTO guotu_meta(key, value) VALUES ('schema_version', ?)",
                      (str(SCHEMA_VERSION),))
            c.execute("INSERT INTO guotu_meta(key, value) VALUES ('created_at', ?)",
                      (_now(),))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("PRAGMA journal_mode = WAL")

    def _check_is_workspace(self) -> None:
        (app_id,) = self._conn.execute("PRAGMA application_id").fetchone()
        if app_id != _APPLICATION_ID:
            raise StoreIntegrityError(
                f"{self.path} is not a GeoPackage.", file=str(self.path),
                fix="Give a workspace created by guotu, or a new file name.",
                message_zh=f"{self.path} 不是 GeoPackage 文件。",
                fix_zh="请指定由 guotu 创建的工作空间，或一个新的文件名。")
        has_meta = self._conn.execute(
            "SELECT 1 FROM sqlite_master WHERE name = 'guotu_meta'").fetchone()
        if not has_meta:
            raise StoreIntegrityError(
                f"{self.path} is a GeoPackage but not a guotu workspace.", file=str(self.path),
                fix="Import its layers into a workspace: guotu import "
                f"{self.path} --role ROLE -w WORKSPACE.gpkg",
                message_zh=f"{self.path} 是 GeoPackage 文件，但不是 guotu 工作空间。",
                fix_zh=f"请把其中的图层导入工作空间：guotu import {self.path} --role 图层类型 "
                "-w 工作空间.gpkg")
        version = int(self.meta("schema_version") or 0)
        if version > SCHEMA_VERSION:
            raise StoreIntegrityError(
                f"Workspace {self.path} was written by a newer guotu (schema {version}, "
                f"this one knows {SCHEMA_VERSION}).", file=str(self.path),
                fix="Upgrade guotu.",
                message_zh=f"工作空间 {self.path} 由更新版本的 guotu 写入（结构版本 {version}，"
                f"本版本只支持到 {SCHEMA_VERSION}）。",
                fix_zh="请升级 guotu。")
        self._conn.execute("PRAGMA journal_mode = WAL")

    # -- metadata --------------------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        """A value of guotu's key/value metadata."""
        row = self._conn.execute("SELECT value FROM guotu_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    @property
    def crs(self) -> CRS | None:
        """The workspace CRS, or ``None`` while it holds no layer."""
        epsg = self.meta("crs")
        return None if epsg is None else CRS.from_user_input(epsg)

    def layers(self) -> list[LayerInfo]:
        """Every layer, by name."""
        with _driver_errors(self.path, "listing layers", "列出图层"):
            rows = self._conn.execute(
                "SELECT name, role, features, geometry_type, crs, columns, source, source_layer,"
                " field_map, imported_at FROM guotu_layers ORDER BY name").fetchall()
        return [_layer_info(r) for r in rows]

    def layer(self, name: str) -> LayerInfo:
        """The layer called ``name``.

        Raises
        ------
        NotFoundError
            Listing the layers there are.
        """
        for info in self.layers():
            if info.name == name:
                return info
        names = ", ".join(i.name for i in self.layers()) or "none yet"
        names_zh = "、".join(i.name for i in self.layers()) or "暂无"
        raise NotFoundError(f"Workspace {self.path} has no layer {name!r}.", layer=name,
                            fix=f"Layers in it: {names}.",
                            message_zh=f"工作空间 {self.path} 中没有图层 {name!r}。",
                            fix_zh=f"其中的图层有：{names_zh}。")

    def layers_with_role(self, role: str) -> list[LayerInfo]:
        """Every layer of role ``role`` (by role id)."""
        return [i for i in self.layers() if i.role == role]

    # -- reading ---------------------------------------------------------------------------
    def read_layer(self, name: str, *, bbox: Sequence[float] | None = None,
                   columns: Sequence[str] | None = None) -> gpd.GeoDataFrame:
        """Read a layer as a GeoDataFrame indexed by ``fid``, in the workspace CRS.

        ``bbox`` = (minx, miny, maxx, maxy) uses the R-tree index.
        """
        info = self.layer(name)
        cols = list(info.columns) if columns is None else list(columns)
        unknown = [c for c in cols if c not in info.columns]
        if unknown:
            raise NotFoundError(f"Layer {name!r} has no column {unknown[0]!r}.", layer=name,
                                field=unknown[0], fix=f"Columns: {', '.join(info.columns)}.",
                                message_zh=f"图层 {name!r} 中没有字段 {unknown[0]!r}。",
                                fix_zh=f"现有字段：{'、'.join(info.columns)}。")
        select = ", ".join(["fid", _GEOM, *(_q(c) for c in cols)])
        sql = f"SELECT {select} FROM {_q(name)}"
        params: tuple[float, ...] = ()
        if bbox is not None:
            minx, miny, maxx, maxy = (float(v) for v in bbox)
            sql += (f" WHERE fid IN (SELECT id FROM {_q(_rtree(name))} WHERE maxx >= ? AND "
                    "minx <= ? AND maxy >= ? AND miny <= ?)")
            params = (minx, maxx, miny, maxy)
        sql += " ORDER BY fid"
        with _driver_errors(self.path, f"reading layer {name}", f"读取图层 {name}"):
            rows = self._conn.execute(sql, params).fetchall()
        if bbox is not None and rows:
            # The R-tree holds float32 bounds rounded outwards; keep exact envelope hits only.
            env = shapely.bounds(decode_blobs([r[1] for r in rows]))
            hit = ((env[:, 2] >= params[0]) & (env[:, 0] <= params[1])
                   & (env[:, 3] >= params[2]) & (env[:, 1] <= params[3]))
            rows = [r for r, h in zip(rows, hit.tolist(), strict=True) if h]
        data = list(zip(*rows, strict=True)) if rows else [()] * (2 + len(cols))
        frame = pd.DataFrame({c: list(v) for c, v in zip(cols, data[2:], strict=True)},
                             index=pd.Index(np.asarray(data[0], dtype=np.int64), name="fid"))
        for c in cols:
            if info.columns[c] == "REAL":
                frame[c] = pd.to_numeric(frame[c], errors="coerce").astype("float64")
        return gpd.GeoDataFrame(frame, geometry=decode_blobs(list(data[1])), crs=info.crs)

    # -- writing ---------------------------------------------------------------------------
    def set_crs(self, crs: CRS) -> None:
        """Fix the workspace CRS; allowed only while the workspace has no layer."""
        current = self.crs
        if current is not None and current != crs:
            raise StoreError(f"Workspace {self.path} already uses {current.to_string()}.",
                             file=str(self.path),
                             message_zh=f"工作空间 {self.path} 已使用坐标参考系 "
                             f"{current.to_string()}。")
        with _driver_errors(self.path, "setting the CRS", "设置坐标参考系"), self._transaction():
            self._ensure_srs(crs)
            self._conn.execute("INSERT OR REPLACE INTO guotu_meta(key, value) VALUES ('crs', ?)",
                               (_crs_id(crs),))

    def write_layer(self, name: str, role: str, frame: gpd.GeoDataFrame, *,
                    column_types: dict[str, str], geometry_type: str, source: str = "",
                    source_layer: str = "", field_map: dict[str, str] | None = None,
                    replace: bool = False) -> LayerInfo:
        """Write ``frame`` as layer ``name`` in one transaction.

        ``column_types`` maps each attribute column to text/real/integer/date/boolean; the
        geometries must already be in the workspace CRS. With ``replace`` an existing layer of
        that name is dropped in the same transaction; without it, an existing name is an error.
        """
        crs = self.crs
        if crs is None:
            raise StoreError("The workspace has no CRS yet; call set_crs first.",
                             message_zh="工作空间尚未设置坐标参考系；请先调用 set_crs。")
        srs_id = self._srs_id(crs)
        exists = any(i.name == name for i in self.layers())
        if exists and not replace:
            raise StoreError(
                f"Workspace {self.path} already has a layer {name!r}.", layer=name,
                fix="Choose another --layer name, or add --replace to overwrite it.",
                message_zh=f"工作空间 {self.path} 中已有图层 {name!r}。",
                fix_zh="请用 --layer 换一个图层名，或加上 --replace 覆盖原图层。")
        cols = [c for c in frame.columns if c != frame.geometry.name]
        types = {c: _SQL_TYPES[column_types.get(c, "text")] for c in cols}
        geoms = np.asarray(frame.geometry.values, dtype=object)
        blobs = encode_blobs(geoms, srs_id)
        values = [_column_values(frame[c], types[c]) for c in cols]
        rows = list(zip(blobs, *values, strict=True))
        bounds = shapely.bounds(geoms)
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        with _driver_errors(self.path, f"writing layer {name}", f"写入图层 {name}"), self._transaction():
            if exists:
                self._drop_layer(name)
            coldefs = ", ".join(f"{_q(c)} {types[c]}" for c in cols)
            self._conn.execute(
                f"CREATE TABLE {_q(name)} (fid INTEGER PRIMARY KEY AUTOINCREMENT, "
                f"{_GEOM} {geometry_type}{', ' if cols else ''}{coldefs})")
            marks = ", ".join("?" * (1 + len(cols)))
            colnames = ", ".join([_GEOM, *(_q(c) for c in cols)])
            self._conn.executemany(f"INSERT INTO {_q(name)} ({colnames}) VALUES ({marks})", rows)
            self._create_rtree(name, bounds, ok)
            extent = bounds[ok]
            env = ((float(extent[:, 0].min()), float(extent[:, 1].min()),
                    float(extent[:, 2].max()), float(extent[:, 3].max()))
                   if len(extent) else (None, None, None, None))
            self._conn.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description,"
                " last_change, min_x, min_y, max_x, max_y, srs_id) "
                "VALUES (?, 'features', ?, ?, ?, ?, ?, ?, ?, ?)",
                (name, name, role, _now(), *env, srs_id))
            self._conn.execute(
                "INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
                (name, _GEOM, geometry_type, srs_id))
            self._conn.execute(
                "INSERT INTO guotu_layers (name, role, features, geometry_type, crs, columns,"
                " source, source_layer, field_map, imported_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                (name, role, len(frame), geometry_type, _crs_id(crs),
                 json.dumps(types, ensure_ascii=False), source, source_layer,
                 json.dumps(field_map or {}, ensure_ascii=False), _now()))
        return self.layer(name)

    def drop_layer(self, name: str) -> None:
        """Remove a layer (one transaction)."""
        self.layer(name)
        with _driver_errors(self.path, f"removing layer {name}", f"删除图层 {name}"), self._transaction():
            self._drop_layer(name)

    # -- internals -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._conn.execute("ROLLBACK")
            raise
        self._conn.execute("COMMIT")

    def _drop_layer(self, name: str) -> None:
        c = self._conn
        for trig in c.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND "
                              "tbl_name = ?", (name,)).fetchall():
            c.execute(f"DROP TRIGGER {_q(trig[0])}")
        c.execute(f"DROP TABLE IF EXISTS {_q(_rtree(name))}")
        c.execute(f"DROP TABLE IF EXISTS {_q(name)}")
        for table in ("gpkg_extensions", "gpkg_geometry_columns", "gpkg_contents"):
            c.execute(f"DELETE FROM {table} WHERE table_name = ?", (name,))
        c.execute("DELETE FROM guotu_layers WHERE name = ?", (name,))

    def _create_rtree(self, name: str, bounds: np.ndarray, ok: np.ndarray) -> None:
        rt = _rtree(name)
        c = self._conn
        c.execute(f"CREATE VIRTUAL TABLE {_q(rt)} USING rtree(id, minx, maxx, miny, maxy)")
        fids = c.execute(f"SELECT fid FROM {_q(name)} ORDER BY fid").fetchall()
        ids = np.fromiter((f[0] for f in fids), dtype=np.int64, count=len(fids))
        bulk_load_rtree(c, rt, ids[ok], bounds[ok][:, [0, 2, 1, 3]])
        for trigger in _rtree_triggers(name):
            c.execute(trigger)
        c.execute("INSERT INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', "
                  "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
                  (name, _GEOM))

    def _ensure_srs(self, crs: CRS) -> int:
        srs_id = self._srs_id(crs, missing_ok=True)
        if srs_id is not None:
            return int(srs_id)
        auth = crs.to_authority()
        org, code = (auth[0], int(auth[1])) if auth else ("NONE", None)
        if code is None:
            code = 100000 + int(self._conn.execute(
                "SELECT COUNT(*) FROM gpkg_spatial_ref_sys").fetchone()[0])
        self._conn.execute(
            "INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization,"
            " organization_coordsys_id, definition, description) VALUES (?, ?, ?, ?, ?, ?)",
            (crs.name, code, org, code, crs.to_wkt(WktVersion.WKT1_GDAL), crs.name))
        return code

    def _srs_id(self, crs: CRS, missing_ok: bool = False) -> Any:
        auth = crs.to_authority()
        if auth:
            row = self._conn.execute(
                "SELECT srs_id FROM gpkg_spatial_ref_sys WHERE upper(organization) = ? AND "
                "organization_coordsys_id = ?", (auth[0].upper(), int(auth[1]))).fetchone()
            if row:
                return int(row[0])
        if missing_ok:
            return None
        raise StoreError(f"CRS {crs.name} is not registered in {self.path}.",
                         message_zh=f"坐标参考系 {crs.name} 未在 {self.path} 中登记。")


def _rtree(name: str) -> str:
    return f"rtree_{name}_{_GEOM}"


def _rtree_triggers(name: str) -> list[str]:
    t, rt, g = _q(name), _q(_rtree(name)), _GEOM
    p = f"rtree_{name}_{g}"
    ins = (f"INSERT OR REPLACE INTO {rt} VALUES (NEW.fid, ST_MinX(NEW.{g}), ST_MaxX(NEW.{g}), "
           f"ST_MinY(NEW.{g}), ST_MaxY(NEW.{g}))")
    ok = f"(NEW.{g} NOT NULL AND NOT ST_IsEmpty(NEW.{g}))"
    gone = f"(NEW.{g} ISNULL OR ST_IsEmpty(NEW.{g}))"
    return [
        f"CREATE TRIGGER {_q(p + '_insert')} AFTER INSERT ON {t} WHEN {ok} BEGIN {ins}; END",
        f"CREATE TRIGGER {_q(p + '_update1')} AFTER UPDATE OF {g} ON {t} "
        f"WHEN OLD.fid = NEW.fid AND {ok} BEGIN {ins}; END",
        f"CREATE TRIGGER {_q(p + '_update2')} AFTER UPDATE OF {g} ON {t} "
        f"WHEN OLD.fid = NEW.fid AND {gone} BEGIN DELETE FROM {rt} WHERE id = OLD.fid; END",
        f"CREATE TRIGGER {_q(p + '_update3')} AFTER UPDATE ON {t} "
        f"WHEN OLD.fid != NEW.fid AND {ok} BEGIN DELETE FROM {rt} WHERE id = OLD.fid; {ins}; END",
        f"CREATE TRIGGER {_q(p + '_update4')} AFTER UPDATE ON {t} "
        f"WHEN OLD.fid != NEW.fid AND {gone} "
        f"BEGIN DELETE FROM {rt} WHERE id IN (OLD.fid, NEW.fid); END",
        f"CREATE TRIGGER {_q(p + '_delete')} AFTER DELETE ON {t} WHEN OLD.{g} NOT NULL "
        f"BEGIN DELETE FROM {rt} WHERE id = OLD.fid; END",
    ]


def _column_values(series: pd.Series, sql_type: str) -> list[Any]:
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
    return [None if v is None or (isinstance(v, float) and v != v) or v is pd.NaT
            else (v.isoformat()[:10] if sql_type == "DATE" and hasattr(v, "isoformat")
                  else str(v)) for v in series.tolist()]


def _layer_info(row: Sequence[Any]) -> LayerInfo:
    return LayerInfo(name=row[0], role=row[1], features=int(row[2]), geometry_type=row[3],
                     crs=row[4], columns=json.loads(row[5]), source=row[6] or "",
                     source_layer=row[7] or "", field_map=json.loads(row[8] or "{}"),
                     imported_at=row[9] or "")


def _crs_id(crs: CRS) -> str:
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.to_wkt()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


_GPKG_DDL = """
CREATE TABLE gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL, srs_id INTEGER NOT NULL PRIMARY KEY, organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL, definition TEXT NOT NULL, description TEXT);
INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined cartesian SRS', -1, 'NONE', -1, 'undefined',
  'undefined cartesian coordinate reference system');
INSERT INTO gpkg_spatial_ref_sys VALUES ('Undefined geographic SRS', 0, 'NONE', 0, 'undefined',
  'undefined geographic coordinate reference system');
INSERT INTO gpkg_spatial_ref_sys VALUES ('WGS 84 geodetic', 4326, 'EPSG', 4326,
  'GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4326"]]',
  'longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid');
CREATE TABLE gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY, data_type TEXT NOT NULL, identifier TEXT UNIQUE,
  description TEXT DEFAULT '', last_change DATETIME NOT NULL DEFAULT
  (strftime('%Y-%m-%dT%H:%M:%fZ','now')), min_x DOUBLE, min_y DOUBLE, max_x DOUBLE,
  max_y DOUBLE, srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id));
CREATE TABLE gpkg_geometry_columns (
  table_name TEXT NOT NULL, column_name TEXT NOT NULL, geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL, z TINYINT NOT NULL, m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id));
CREATE TABLE gpkg_extensions (
  table_name TEXT, column_name TEXT, extension_name TEXT NOT NULL, definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name));
CREATE TABLE guotu_meta (key TEXT PRIMARY KEY, value TEXT);
CREATE TABLE guotu_layers (
  name TEXT PRIMARY KEY, role TEXT NOT NULL, features INTEGER NOT NULL,
  geometry_type TEXT NOT NULL, crs TEXT NOT NULL, columns TEXT NOT NULL, source TEXT,
  source_layer TEXT, field_map TEXT, imported_at TEXT NOT NULL);
"""
