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
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import shapely
from pyproj import CRS
from pyproj.enums import WktVersion

from guotu.domain.core.model import DECIDING, VersionStatus
from guotu.domain.core.roles import get_role
from guotu.errors import (
    NotFoundError,
    StoreError,
    StoreIntegrityError,
    StoreUnavailableError,
)
from guotu.store.catalog import (
    VersionSpec,
    layer_case_clash_error,
    layer_exists_error,
    no_crs_error,
    other_crs_error,
)
from guotu.store.gpkg_blob import decode_blobs, encode_blobs, register_functions
from guotu.store.gpkg_schema import (
    ADDED_IN,
    CONTENT_HASH,
    GEOM,
    GPKG_DDL,
    REQUIRED_GPKG_TABLES,
    SQL_TYPES,
    SQLITE_HEADER,
    TABLES_DDL,
    VERSIONING_DDL,
    check_workspace_name,
    column_values,
    crs_id,
    not_a_workspace_error,
    now,
    q,
    rtree_name,
    rtree_triggers,
)
from guotu.store.revisions import (
    LayerInfo,
    content_hashes,
    layer_frame,
    layer_info,
    match_revisions,
)
from guotu.store.rtree_bulk import bulk_load_rtree
from guotu.store.tables import TableCatalog

__all__ = ["SCHEMA_VERSION", "GeoPackageStore", "LayerInfo", "upgrade_reason"]

#: Version of guotu's own tables in the file; bumped by each migration (2: plans and
#: versions; 3: non-spatial tables, :mod:`guotu.store.tables`).
SCHEMA_VERSION = 3
_APPLICATION_ID = 0x47504B47  # "GPKG"
_USER_VERSION = 10300  # GeoPackage 1.3.0


def upgrade_reason(old: int, new: int) -> str:
    """The audit log's reason for upgrading a workspace's tables from schema ``old`` to
    ``new``, in Chinese like everything the bureau's staff read in the log.

    Examples
    --------
    >>> upgrade_reason(2, 3)
    '工作空间结构版本 2 → 3'
    """
    return f"工作空间结构版本 {old} → {new}"


def current_view_name(layer: str) -> str:
    """Name of the view showing ``layer`` as in force today (``GHYD`` → ``GHYD_现行``)."""
    return f"{layer}_现行"


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
                file=str(path),
                fix="Wait for the other import to finish and run it again.",
                message_zh=f"工作空间 {path} 正被另一个进程写入，未能{action_zh}。",
                fix_zh="请等另一个导入完成后再运行一次。",
            ) from exc
        raise StoreError(
            f"Workspace {path}: {action} failed: {text}.",
            file=str(path),
            message_zh=f"工作空间 {path}：{action_zh}失败：{text}。",
        ) from exc
    except sqlite3.IntegrityError as exc:
        raise StoreIntegrityError(
            f"Workspace {path}: {action} was refused: {exc}.",
            file=str(path),
            message_zh=f"工作空间 {path}：{action_zh}被拒绝：{exc}。",
        ) from exc
    except sqlite3.DatabaseError as exc:
        raise StoreIntegrityError(
            f"{path} is not a readable GeoPackage ({exc}); {action} was not done.",
            file=str(path),
            fix="Give a workspace created by guotu, or a new file name.",
            message_zh=f"{path} 不是可读取的 GeoPackage（{exc}），未能{action_zh}。",
            fix_zh="请指定由 guotu 创建的工作空间，或一个新的文件名。",
        ) from exc


def _check_sqlite_header(path: Path) -> None:
    """Refuse a file that is not an SQLite database at all (before SQLite reads it)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreUnavailableError(
            f"Cannot read workspace {path}: {exc}.",
            file=str(path),
            message_zh=f"无法读取工作空间 {path}：{exc}。",
        ) from exc
    if head != SQLITE_HEADER:
        raise not_a_workspace_error(
            path,
            "it is not a GeoPackage (not even an SQLite file)",
            "它不是 GeoPackage 文件（也不是 SQLite 数据库）",
        )


class _GuardedConnection(sqlite3.Connection):
    """A sqlite3 connection whose statements raise guotu's store errors, never sqlite3's."""

    workspace_path: Path = Path("?")

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        with _driver_errors(self.workspace_path, "accessing the workspace", "访问工作空间"):
            return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        with _driver_errors(self.workspace_path, "writing to the workspace", "写入工作空间"):
            return super().executemany(sql, parameters)


class GeoPackageStore(TableCatalog):
    """A workspace in one GeoPackage file.

    Use :meth:`open`; the store is a context manager that closes its connection.

    Every layer belongs to a plan (layers imported without one get an implicit plan of
    their own). A layer table holds feature *revisions*: each row records the version that
    added it (``guotu_added_in``) and a hash of its content; ``guotu_retired`` records which
    revisions a version retires. A version's features are those added along its lineage and
    not retired along it, so an amendment stores only what it changes.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path = path
        self._conn = conn

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(
        cls, path: str | Path, *, create: bool = False, busy_timeout_s: float = 10.0
    ) -> GeoPackageStore:
        """Open the workspace at ``path``; with ``create=True`` make it if it does not exist.

        Raises
        ------
        NotFoundError
            No file and ``create`` is false.
        ConfigError
            The name is not UTF-8, the path is a folder, or a file that is not a guotu
            workspace (not SQLite, not a GeoPackage, a GeoPackage of other data, or one
            missing its GeoPackage tables).
        StoreIntegrityError
            The workspace was written by a newer guotu, or SQLite cannot read it.
        """
        p = Path(path)
        check_workspace_name(p)
        if not p.exists() and not create:
            raise NotFoundError(
                f"Workspace {p} does not exist.",
                file=str(p),
                fix=f"Create one with `guotu demo` or `guotu import FILE --role ROLE -w {p}`.",
                message_zh=f"工作空间 {p} 不存在。",
                fix_zh=f"请用 `guotu demo` 或 `guotu import 文件 --role 图层类型 -w {p}` 创建。",
            )
        if p.is_dir():
            raise not_a_workspace_error(
                p,
                "it is a folder, not a GeoPackage file",
                "它是文件夹，不是 GeoPackage 文件",
                fix="Give a file name ending in .gpkg.",
                fix_zh="请指定以 .gpkg 结尾的文件名。",
            )
        is_new = not p.exists() or p.stat().st_size == 0
        if not is_new:
            _check_sqlite_header(p)
        try:
            conn = sqlite3.connect(
                str(p),
                isolation_level=None,
                timeout=busy_timeout_s,
                check_same_thread=False,
                factory=_GuardedConnection,
            )
            conn.workspace_path = p
        except sqlite3.Error as exc:
            raise StoreUnavailableError(
                f"Cannot open workspace {p}: {exc}.",
                file=str(p),
                message_zh=f"无法打开工作空间 {p}：{exc}。",
            ) from exc
        register_functions(conn)
        store = cls(p, conn)
        with _driver_errors(p, "opening the workspace", "打开工作空间"):
            # WAL with synchronous=NORMAL keeps every commit atomic and the file consistent
            # when a process is killed; only a power cut can lose the last commits. A large
            # page cache keeps bulk imports from thrashing.
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA cache_size = -262144")
            conn.execute("PRAGMA temp_store = MEMORY")
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
            for statement in GPKG_DDL.split(";\n"):
                if statement.strip():
                    c.execute(statement)
            for statement in (*VERSIONING_DDL, *TABLES_DDL):
                c.execute(statement)
            c.execute(
                "INSERT INTO guotu_meta(key, value) VALUES ('schema_version', ?)",
                (str(SCHEMA_VERSION),),
            )
            c.execute("INSERT INTO guotu_meta(key, value) VALUES ('created_at', ?)", (now(),))
            c.execute("COMMIT")
        except BaseException:
            c.execute("ROLLBACK")
            raise
        c.execute("PRAGMA journal_mode = WAL")

    def _check_is_workspace(self) -> None:
        (app_id,) = self._conn.execute("PRAGMA application_id").fetchone()
        tables = {
            str(r[0])
            for r in self._conn.execute(
                "SELECT name FROM sqlite_master WHERE type IN ('table', 'view')"
            ).fetchall()
        }
        if app_id != _APPLICATION_ID:
            raise not_a_workspace_error(
                self.path,
                "it is an SQLite file but not a GeoPackage",
                "它是 SQLite 文件，但不是 GeoPackage",
            )
        if "guotu_meta" not in tables:
            raise not_a_workspace_error(
                self.path,
                "it is a GeoPackage of other data",
                "它是存放其他数据的 GeoPackage",
                fix="Import its layers into a workspace: guotu import "
                f"{self.path} --role ROLE -w WORKSPACE.gpkg",
                fix_zh=f"请把其中的图层导入工作空间：guotu import {self.path} --role 图层类型 "
                "-w 工作空间.gpkg",
            )
        missing = [t for t in REQUIRED_GPKG_TABLES if t not in tables]
        if missing:
            raise not_a_workspace_error(
                self.path,
                f"it is not a valid GeoPackage (table {', '.join(missing)} is "
                "missing; QGIS and GDAL cannot open it either)",
                f"它不是有效的 GeoPackage（缺少 {'、'.join(missing)} 表，QGIS、GDAL 也无法打开）",
                fix="Restore the workspace from a backup, or give another -w.",
                fix_zh="请从备份恢复该工作空间，或用 -w 指定另一个工作空间。",
            )
        version = int(self.meta("schema_version") or 0)
        if version > SCHEMA_VERSION:
            raise StoreIntegrityError(
                f"Workspace {self.path} was written by a newer guotu (schema {version}, "
                f"this one knows {SCHEMA_VERSION}).",
                file=str(self.path),
                fix="Upgrade guotu.",
                message_zh=f"工作空间 {self.path} 由更新版本的 guotu 写入（结构版本 {version}，"
                f"本版本只支持到 {SCHEMA_VERSION}）。",
                fix_zh="请升级 guotu。",
            )
        self._conn.execute("PRAGMA journal_mode = WAL")
        if version < SCHEMA_VERSION:
            self._migrate(version)

    def _migrate(self, version: int) -> None:
        """Upgrade an older workspace in place, in one transaction."""
        with (
            _driver_errors(self.path, "upgrading the workspace", "升级工作空间"),
            self._transaction(),
        ):
            if version == 1:
                # Schema 1 had unversioned layers: each becomes version v1 of a plan of its own.
                for statement in VERSIONING_DDL:
                    self._conn.execute(statement)
                for (name,) in self._conn.execute(
                    "SELECT name FROM guotu_layers ORDER BY name"
                ).fetchall():
                    self._conn.execute(f"ALTER TABLE {q(name)} ADD COLUMN {ADDED_IN} INTEGER")
                    self._conn.execute(f"ALTER TABLE {q(name)} ADD COLUMN {CONTENT_HASH} INTEGER")
                    plan = self._implicit_plan(name, self.layer_role(name))
                    v = self._insert_version(
                        plan, VersionSpec(plan.name, "v1", reason=upgrade_reason(1, 2)), None
                    )
                    self._conn.execute(f"UPDATE {q(name)} SET {ADDED_IN} = ?", (v.id,))
                    self._conn.execute(
                        f"CREATE INDEX {q(f'{name}_{ADDED_IN}')} ON {q(name)} ({ADDED_IN})"
                    )
                    self._hash_existing_rows(name)
                    self._conn.execute(
                        "UPDATE guotu_layers SET plan_id = ? WHERE name = ?", (plan.id, name)
                    )
                    n = self._conn.execute(f"SELECT count(*) FROM {q(name)}").fetchone()[0]
                    self._conn.execute(
                        "INSERT INTO guotu_layer_versions VALUES (?, ?, ?, ?, 0)",
                        (name, v.id, n, n),
                    )
                    gtype, srs_id = self._conn.execute(
                        "SELECT geometry_type_name, srs_id FROM gpkg_geometry_columns "
                        "WHERE table_name = ?",
                        (name,),
                    ).fetchone()
                    cols = list(
                        json.loads(
                            self._conn.execute(
                                "SELECT columns FROM guotu_layers WHERE name = ?", (name,)
                            ).fetchone()[0]
                        )
                    )
                    self._write_current_view(name, plan.id, cols, gtype, int(srs_id))
                self._audit("guotu", "upgrade", "workspace", upgrade_reason(1, 2))
            if version < 3:
                # Schema 3 adds the non-spatial tables (plan targets, statistics …).
                for statement in TABLES_DDL:
                    self._conn.execute(statement)
                self._audit("guotu", "upgrade", "workspace", upgrade_reason(max(version, 2), 3))
            self._conn.execute(
                "UPDATE guotu_meta SET value = ? WHERE key = 'schema_version'",
                (str(SCHEMA_VERSION),),
            )

    def _hash_existing_rows(self, name: str) -> None:
        """Fill the content hash of rows written before hashes existed."""
        cols = list(
            json.loads(
                self._conn.execute(
                    "SELECT columns FROM guotu_layers WHERE name = ?", (name,)
                ).fetchone()[0]
            )
        )
        select = ", ".join(["fid", GEOM, *(q(c) for c in cols)])
        rows = self._conn.execute(f"SELECT {select} FROM {q(name)}").fetchall()
        if not rows:
            return
        fids, blobs, *values = (list(v) for v in zip(*rows, strict=True))
        hashes = content_hashes(blobs, values, cols)
        self._conn.executemany(
            f"UPDATE {q(name)} SET {CONTENT_HASH} = ? WHERE fid = ?",
            list(zip(hashes, fids, strict=True)),
        )

    def layer_role(self, name: str) -> str:
        """The role id of layer ``name``."""
        row = self._conn.execute("SELECT role FROM guotu_layers WHERE name = ?", (name,)).fetchone()
        if row is None:
            self.layer(name)  # raises the helpful NotFoundError
        return str(row[0])

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
                "SELECT l.name, l.role, l.features, l.geometry_type, l.crs, l.columns, l.source,"
                " l.source_layer, l.field_map, l.imported_at, p.name FROM guotu_layers l LEFT "
                "JOIN guotu_plans p ON p.id = l.plan_id ORDER BY l.name"
            ).fetchall()
        return [layer_info(r) for r in rows]

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
        raise NotFoundError(
            f"Workspace {self.path} has no layer {name!r}.",
            layer=name,
            fix=f"Layers in it: {names}.",
            message_zh=f"工作空间 {self.path} 中没有图层 {name!r}。",
            fix_zh=f"其中的图层有：{names_zh}。",
        )

    # -- reading ---------------------------------------------------------------------------
    def read_layer(
        self,
        name: str,
        *,
        bbox: Sequence[float] | None = None,
        columns: Sequence[str] | None = None,
        as_of: date | None = None,
        known_at: datetime | None = None,
        version_id: int | None = None,
    ) -> gpd.GeoDataFrame:
        """Read a layer as a GeoDataFrame indexed by ``fid``, in the workspace CRS.

        The features are those of ``version_id`` if given, else of the version in force on
        ``as_of`` as known at ``known_at`` (see :meth:`layer_version`); none if no version
        applies. ``bbox`` = (minx, miny, maxx, maxy) uses the R-tree index.
        """
        info = self.layer(name)
        cols = list(info.columns) if columns is None else list(columns)
        unknown = [c for c in cols if c not in info.columns]
        if unknown:
            raise NotFoundError(
                f"Layer {name!r} has no column {unknown[0]!r}.",
                layer=name,
                field=unknown[0],
                fix=f"Columns: {', '.join(info.columns)}.",
                message_zh=f"图层 {name!r} 中没有字段 {unknown[0]!r}。",
                fix_zh=f"现有字段：{'、'.join(info.columns)}。",
            )
        if version_id is None:
            version = self.layer_version(name, as_of=as_of, known_at=known_at)
            chain = [] if version is None else self.lineage_of(version.id)
        else:
            chain = self.lineage_of(version_id)
        select = ", ".join(["fid", GEOM, *(q(c) for c in cols)])
        sql, params = self._select_in_versions(name, select, chain)
        if bbox is not None:
            minx, miny, maxx, maxy = (float(v) for v in bbox)
            sql += (
                f" AND fid IN (SELECT id FROM {q(rtree_name(name))} WHERE maxx >= ? AND "
                "minx <= ? AND maxy >= ? AND miny <= ?)"
            )
            params += (minx, maxx, miny, maxy)
        sql += " ORDER BY fid"
        with _driver_errors(self.path, f"reading layer {name}", f"读取图层 {name}"):
            rows = self._conn.execute(sql, params).fetchall()
        if bbox is not None and rows:
            # The R-tree holds float32 bounds rounded outwards; keep exact envelope hits only.
            env = shapely.bounds(decode_blobs([r[1] for r in rows]))
            hit = (
                (env[:, 2] >= minx)
                & (env[:, 0] <= maxx)
                & (env[:, 3] >= miny)
                & (env[:, 1] <= maxy)
            )
            rows = [r for r, h in zip(rows, hit.tolist(), strict=True) if h]
        return self._frame(rows, cols, info)

    def read_revisions(
        self, name: str, fids: Sequence[int], columns: Sequence[str] | None = None
    ) -> gpd.GeoDataFrame:
        """Feature revisions of layer ``name`` by fid, whatever version they belong to."""
        info = self.layer(name)
        cols = list(info.columns) if columns is None else list(columns)
        select = ", ".join(["fid", GEOM, *(q(c) for c in cols)])
        rows = self._conn.execute(
            f"SELECT {select} FROM {q(name)} WHERE fid IN (SELECT value FROM json_each(?)) "
            "ORDER BY fid",
            (json.dumps([int(f) for f in fids]),),
        ).fetchall()
        return self._frame(rows, cols, info)

    def version_changes(self, name: str, version_id: int) -> tuple[list[int], list[int]]:
        """(fids added, fids retired) by one version in layer ``name``."""
        added = [
            int(r[0])
            for r in self._conn.execute(
                f"SELECT fid FROM {q(name)} WHERE {ADDED_IN} = ? ORDER BY fid", (version_id,)
            )
        ]
        retired = [
            int(r[0])
            for r in self._conn.execute(
                "SELECT fid FROM guotu_retired WHERE layer = ? AND version_id = ? ORDER BY fid",
                (name, version_id),
            )
        ]
        return added, retired

    def revision_count(self, name: str) -> int:
        """How many feature revisions layer ``name`` stores (all versions together)."""
        self.layer(name)
        return int(self._conn.execute(f"SELECT count(*) FROM {q(name)}").fetchone()[0])

    def feature_history(self, name: str, key: str) -> list[dict[str, Any]]:
        """Every revision of the feature whose id field (the role's, e.g. DKBH) is ``key``:
        fid, the version that added it and the versions that retired it."""
        id_field = get_role(self.layer_role(name)).id_field
        if id_field not in self.layer(name).columns:
            return []
        labels = {v.id: f"{self.plan(v.plan_id).name}/{v.label}" for v in self.versions()}
        out = []
        for fid, added_in in self._conn.execute(
            f"SELECT fid, {ADDED_IN} FROM {q(name)} WHERE {q(id_field)} = ? ORDER BY fid", (key,)
        ).fetchall():
            retired = [
                labels[int(r[0])]
                for r in self._conn.execute(
                    "SELECT version_id FROM guotu_retired WHERE layer = ? AND fid = ? "
                    "ORDER BY version_id",
                    (name, fid),
                )
            ]
            out.append({"fid": int(fid), "added_in": labels[int(added_in)], "retired_in": retired})
        return out

    def _select_in_versions(
        self, name: str, select: str, chain: Sequence[int]
    ) -> tuple[str, tuple[Any, ...]]:
        ids = json.dumps([int(v) for v in chain])
        sql = (
            f"SELECT {select} FROM {q(name)} WHERE {ADDED_IN} IN (SELECT value FROM "
            "json_each(?)) AND fid NOT IN (SELECT fid FROM guotu_retired WHERE layer = ? "
            "AND version_id IN (SELECT value FROM json_each(?)))"
        )
        return sql, (ids, name, ids)

    def _frame(self, rows: list[Any], cols: list[str], info: LayerInfo) -> gpd.GeoDataFrame:
        data = list(zip(*rows, strict=True)) if rows else [()] * (2 + len(cols))
        return layer_frame(
            data[0], decode_blobs(list(data[1])), cols, data[2:], info.columns, info.crs
        )

    # -- writing ---------------------------------------------------------------------------
    def set_crs(self, crs: CRS) -> None:
        """Fix the workspace CRS; allowed only while the workspace has no layer."""
        current = self.crs
        if current is not None and current != crs:
            raise StoreError(
                f"Workspace {self.path} already uses {current.to_string()}.",
                file=str(self.path),
                message_zh=f"工作空间 {self.path} 已使用坐标参考系 {current.to_string()}。",
            )
        with _driver_errors(self.path, "setting the CRS", "设置坐标参考系"), self._transaction():
            self._ensure_srs(crs)
            self._conn.execute(
                "INSERT OR REPLACE INTO guotu_meta(key, value) VALUES ('crs', ?)", (crs_id(crs),)
            )

    def write_layer(
        self,
        name: str,
        role: str,
        frame: gpd.GeoDataFrame,
        *,
        column_types: dict[str, str],
        geometry_type: str,
        source: str = "",
        source_layer: str = "",
        field_map: dict[str, str] | None = None,
        replace: bool = False,
        version: VersionSpec | None = None,
        actor: str = "",
        reason: str = "",
        crs: CRS | None = None,
    ) -> LayerInfo:
        """Record ``frame`` as the content of layer ``name`` in a version, in one transaction.

        Without ``version`` the layer has an implicit plan of its own: the first write is
        its version v1, and a write with ``replace`` records v2, v3 … (nothing is
        overwritten). With ``version`` the content is recorded in that version of a plan
        (created if the label is new, amending ``version.parent`` or the plan's latest
        version). Features whose geometry and attributes are unchanged from the parent are
        shared, not copied: storage grows with the change. ``crs`` fixes the CRS of a
        workspace that has none yet, in the same transaction.
        """
        fixed = self.crs
        if fixed is None and crs is None:
            raise no_crs_error()
        if fixed is not None and crs is not None and not fixed.equals(crs):
            raise other_crs_error(self.path, fixed.name)
        crs = fixed or crs
        assert crs is not None
        existing = {i.name: i for i in self.layers()}
        clash = next((n for n in existing if n != name and n.casefold() == name.casefold()), None)
        if clash is not None:
            raise layer_case_clash_error(self.path, name, clash)
        exists = name in existing
        if exists and not replace and version is None:
            raise layer_exists_error(self.path, name)
        cols = [c for c in frame.columns if c != frame.geometry.name]
        old_types = existing[name].columns if exists else {}
        types = {c: old_types.get(c) or SQL_TYPES[column_types.get(c, "text")] for c in cols}
        geoms = np.asarray(frame.geometry.values, dtype=object)
        srs_id = self._srs_id(crs) if fixed is not None else self._planned_srs_id(crs)
        blobs = encode_blobs(geoms, srs_id)
        values = [column_values(frame[c], types[c]) for c in cols]
        hashes = content_hashes(blobs, values, cols)
        with (
            _driver_errors(self.path, f"writing layer {name}", f"写入图层 {name}"),
            self._transaction(),
        ):
            self._recheck_for_write(name, exists, fixed, crs)
            if fixed is None:
                srs_id = self._ensure_srs(crs)
                self._conn.execute(
                    "INSERT OR REPLACE INTO guotu_meta(key, value) VALUES ('crs', ?)",
                    (crs_id(crs),),
                )
            plan_id = self._plan_for_write(name, role, version, existing.get(name))
            target, parent_chain = self._version_for_write(name, plan_id, version, actor, reason)
            if not exists:
                self._create_layer_table(name, role, cols, types, geometry_type, srs_id)
            else:
                self._add_columns(name, [c for c in cols if c not in old_types], types)
            old = self._conn.execute(
                *self._select_in_versions(name, f"fid, {CONTENT_HASH}", parent_chain)
            ).fetchall()
            keep, retire, add = match_revisions(old, hashes)
            rows = [
                (*r, target.id, h)
                for i, (r, h) in enumerate(
                    zip(zip(blobs, *values, strict=True), hashes, strict=True)
                )
                if add[i]
            ]
            colnames = ", ".join([GEOM, *(q(c) for c in cols), ADDED_IN, CONTENT_HASH])
            marks = ", ".join("?" * (3 + len(cols)))
            self._conn.executemany(f"INSERT INTO {q(name)} ({colnames}) VALUES ({marks})", rows)
            self._conn.executemany(
                "INSERT INTO guotu_retired VALUES (?, ?, ?)", [(name, target.id, f) for f in retire]
            )
            if not exists:
                # Indexes of a new table are built after its rows: much faster than row by row.
                inserted = np.flatnonzero(add)
                self._create_rtree(name, geoms[inserted])
                self._conn.execute(
                    f"CREATE INDEX {q(f'{name}_{ADDED_IN}')} ON {q(name)} ({ADDED_IN})"
                )
            features = keep + int(add.sum())
            self._conn.execute(
                "INSERT INTO guotu_layer_versions VALUES (?, ?, ?, ?, ?)",
                (name, target.id, features, int(add.sum()), len(retire)),
            )
            meta = (
                role,
                features,
                geometry_type,
                crs_id(crs),
                json.dumps(
                    types | {c: t for c, t in old_types.items() if c not in types},
                    ensure_ascii=False,
                ),
                source,
                source_layer,
                json.dumps(field_map or {}, ensure_ascii=False),
                now(),
                plan_id,
            )
            self._conn.execute(
                "INSERT OR REPLACE INTO guotu_layers (role, features, geometry_type, crs, columns,"
                " source, source_layer, field_map, imported_at, plan_id, name) VALUES "
                "(?,?,?,?,?,?,?,?,?,?,?)",
                (*meta, name),
            )
            self._update_extent(name)
            self._write_current_view(
                name, plan_id, [c for c in json.loads(meta[4])], geometry_type, srs_id
            )
            self._audit(
                actor,
                "write_layer",
                f"layer:{name}",
                reason or target.reason,
                {
                    "version_id": target.id,
                    "version": target.label,
                    "added": int(add.sum()),
                    "retired": len(retire),
                    "unchanged": keep,
                    "source": source,
                },
            )
        return self.layer(name)

    def _recheck_for_write(self, name: str, exists: bool, fixed: CRS | None, crs: CRS) -> None:
        """Inside the write transaction (the file's writer lock held): refuse a write whose
        checks another process has made stale since, by creating the new layer (or one whose
        name differs only in case) or fixing the CRS of a workspace that had none."""
        if not exists:
            row = self._conn.execute(
                "SELECT name FROM guotu_layers WHERE lower(name) = lower(?)", (name,)
            ).fetchone()
            if row is not None and row[0] == name:
                raise layer_exists_error(self.path, name, just_created=True)
            if row is not None:
                raise layer_case_clash_error(self.path, name, str(row[0]))
        if fixed is None:
            now_fixed = self.crs
            if now_fixed is not None and not now_fixed.equals(crs):
                raise other_crs_error(self.path, now_fixed.name)

    def _create_layer_table(
        self,
        name: str,
        role: str,
        cols: list[str],
        types: dict[str, str],
        geometry_type: str,
        srs_id: int,
    ) -> None:
        coldefs = "".join(f", {q(c)} {types[c]}" for c in cols)
        self._conn.execute(
            f"CREATE TABLE {q(name)} (fid INTEGER PRIMARY KEY AUTOINCREMENT, "
            f"{GEOM} {geometry_type}{coldefs}, {ADDED_IN} INTEGER NOT NULL, "
            f"{CONTENT_HASH} INTEGER NOT NULL)"
        )
        self._conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description,"
            " last_change, srs_id) VALUES (?, 'features', ?, ?, ?, ?)",
            (name, name, role, now(), srs_id),
        )
        self._conn.execute(
            "INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
            (name, GEOM, geometry_type, srs_id),
        )

    def _add_columns(self, name: str, new: list[str], types: dict[str, str]) -> None:
        for c in new:
            self._conn.execute(f"ALTER TABLE {q(name)} ADD COLUMN {q(c)} {types[c]}")

    def _write_current_view(
        self, name: str, plan_id: int, cols: list[str], geometry_type: str, srs_id: int
    ) -> None:
        """(Re)create the view ``<layer>_现行`` that QGIS and GDAL open: the layer as the
        version of its plan in force today (as recorded now), resolved by SQLite at read time
        with the same rule as :func:`guotu.domain.core.model.version_in_force` (a repeal in force
        shows nothing); a plan with no approved version at all yet shows its latest draft."""
        view = current_view_name(name)
        literal = "'" + name.replace("'", "''") + "'"
        select = ", ".join(["fid", GEOM, *(q(c) for c in cols)])
        deciding = ", ".join(f"'{v.value}'" for v in DECIDING)
        repealed = f"'{VersionStatus.REPEALED.value}'"
        today = "date('now', 'localtime')"  # the same calendar day as date.today()
        self._conn.execute(f"DROP VIEW IF EXISTS {q(view)}")
        self._conn.execute(f"""CREATE VIEW {q(view)} AS
WITH RECURSIVE
  winner(id, status) AS (SELECT id, status FROM guotu_versions WHERE plan_id = {int(plan_id)}
    AND status IN ({deciding}) AND (valid_from IS NULL OR valid_from <= {today})
    AND (valid_to IS NULL OR {today} < valid_to)
    ORDER BY coalesce(valid_from, '0000-00-00') DESC, recorded_at DESC, id DESC LIMIT 1),
  head(id) AS (SELECT id FROM winner WHERE status != {repealed} UNION ALL
    SELECT max(id) FROM guotu_versions WHERE plan_id = {int(plan_id)}
    AND NOT EXISTS (SELECT 1 FROM guotu_versions WHERE plan_id = {int(plan_id)}
                    AND status IN ({deciding}))),
  chain(id) AS (SELECT id FROM head UNION ALL
    SELECT v.parent_id FROM guotu_versions v JOIN chain c ON v.id = c.id
    WHERE v.parent_id IS NOT NULL)
SELECT {select} FROM {q(name)} WHERE {ADDED_IN} IN (SELECT id FROM chain)
  AND fid NOT IN (SELECT fid FROM guotu_retired WHERE layer = {literal}
                  AND version_id IN (SELECT id FROM chain))""")
        if not self._conn.execute(
            "SELECT 1 FROM gpkg_contents WHERE table_name = ?", (view,)
        ).fetchone():
            self._conn.execute(
                "INSERT INTO gpkg_contents (table_name, data_type, identifier, description,"
                " last_change, srs_id) VALUES (?, 'features', ?, ?, ?, ?)",
                (view, view, f"{name}: the version in force today", now(), srs_id),
            )
            self._conn.execute(
                "INSERT INTO gpkg_geometry_columns VALUES (?, ?, ?, ?, 0, 0)",
                (view, GEOM, geometry_type, srs_id),
            )
        self._conn.execute(
            "UPDATE gpkg_contents SET min_x = (SELECT min_x FROM gpkg_contents WHERE "
            "table_name = ?), min_y = (SELECT min_y FROM gpkg_contents WHERE table_name = ?), "
            "max_x = (SELECT max_x FROM gpkg_contents WHERE table_name = ?), max_y = (SELECT "
            "max_y FROM gpkg_contents WHERE table_name = ?), last_change = ? "
            "WHERE table_name = ?",
            (name, name, name, name, now(), view),
        )

    def _update_extent(self, name: str) -> None:
        row = self._conn.execute(
            f"SELECT min(minx), min(miny), max(maxx), max(maxy) FROM {q(rtree_name(name))}"
        ).fetchone()
        self._conn.execute(
            "UPDATE gpkg_contents SET min_x = ?, min_y = ?, max_x = ?, max_y = ?,"
            " last_change = ? WHERE table_name = ?",
            (*row, now(), name),
        )

    # -- internals -------------------------------------------------------------------------
    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            yield
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise

    def _create_rtree(self, name: str, geoms: np.ndarray) -> None:
        """Build a new layer's R-tree (bulk-packed) from the geometries just inserted into
        it, in fid order, then its triggers."""
        rt = rtree_name(name)
        c = self._conn
        c.execute(f"CREATE VIRTUAL TABLE {q(rt)} USING rtree(id, minx, maxx, miny, maxy)")
        ids = np.fromiter(
            (r[0] for r in c.execute(f"SELECT fid FROM {q(name)} ORDER BY fid")), dtype=np.int64
        )
        ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
        bulk_load_rtree(c, rt, ids[ok], shapely.bounds(geoms)[ok][:, [0, 2, 1, 3]])
        for trigger in rtree_triggers(name):
            c.execute(trigger)
        c.execute(
            "INSERT INTO gpkg_extensions VALUES (?, ?, 'gpkg_rtree_index', "
            "'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            (name, GEOM),
        )

    def _ensure_srs(self, crs: CRS) -> int:
        srs_id = self._srs_id(crs, missing_ok=True)
        if srs_id is not None:
            return int(srs_id)
        auth = crs.to_authority()
        org, code = (auth[0], int(auth[1])) if auth else ("NONE", None)
        if code is None:
            code = 100000 + int(
                self._conn.execute("SELECT COUNT(*) FROM gpkg_spatial_ref_sys").fetchone()[0]
            )
        self._conn.execute(
            "INSERT INTO gpkg_spatial_ref_sys (srs_name, srs_id, organization,"
            " organization_coordsys_id, definition, description) VALUES (?, ?, ?, ?, ?, ?)",
            (crs.name, code, org, code, crs.to_wkt(WktVersion.WKT1_GDAL), crs.name),
        )
        return code

    def _planned_srs_id(self, crs: CRS) -> int:
        """The srs_id :meth:`_ensure_srs` will give ``crs`` (it is not registered yet)."""
        found = self._srs_id(crs, missing_ok=True)
        if found is not None:
            return int(found)
        auth = crs.to_authority()
        if auth:
            return int(auth[1])
        return 100000 + int(
            self._conn.execute("SELECT COUNT(*) FROM gpkg_spatial_ref_sys").fetchone()[0]
        )

    def _srs_id(self, crs: CRS, missing_ok: bool = False) -> Any:
        auth = crs.to_authority()
        if auth:
            row = self._conn.execute(
                "SELECT srs_id FROM gpkg_spatial_ref_sys WHERE upper(organization) = ? AND "
                "organization_coordsys_id = ?",
                (auth[0].upper(), int(auth[1])),
            ).fetchone()
            if row:
                return int(row[0])
        else:  # a CRS without an authority code (城市独立坐标系): match its definition
            for srs_id, definition in self._conn.execute(
                "SELECT srs_id, definition FROM gpkg_spatial_ref_sys WHERE srs_id > 0"
            ):
                with contextlib.suppress(Exception):
                    if CRS.from_wkt(definition).equals(crs):
                        return int(srs_id)
        if missing_ok:
            return None
        raise StoreError(
            f"CRS {crs.name} is not registered in {self.path}.",
            message_zh=f"坐标参考系 {crs.name} 未在 {self.path} 中登记。",
        )
