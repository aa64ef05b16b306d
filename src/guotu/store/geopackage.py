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
import numpy.typing as npt
import shapely
from pyproj import CRS

from guotu.domain.core.catalog import LayerInfo, VersionSpec
from guotu.domain.core.roles import get_role
from guotu.errors import NotFoundError, StoreIntegrityError
from guotu.store.approvals import ApprovalCatalog
from guotu.store.gpkg_blob import decode_blobs
from guotu.store.gpkg_connection import check_sqlite_header, connect, driver_errors
from guotu.store.gpkg_contents import (
    create_layer_table,
    create_rtree,
    ensure_srs,
    planned_srs_id,
    update_extent,
    write_current_view,
)
from guotu.store.gpkg_schema import (
    APPROVALS_DDL,
    AUDIT_CHAIN_DDL,
    AUDIT_NO_UPDATE,
    GPKG_DDL,
    IDENTITY_DDL,
    REQUIRED_GPKG_TABLES,
    TABLES_DDL,
    VERSIONING_DDL,
    check_workspace_name,
    not_a_workspace_error,
    q,
    rtree_name,
)
from guotu.store.layers import LayerCatalog, LayerContent
from guotu.store.layout import (
    ADDED_IN,
    CONTENT_HASH,
    GEOM,
    SCHEMA_VERSION,
    crs_id,
    now,
    upgrade_reason,
)
from guotu.store.revisions import checked_columns, content_hashes, layer_frame, layer_info

__all__ = ["GeoPackageStore"]

_APPLICATION_ID = 0x47504B47  # "GPKG"
_USER_VERSION = 10300  # GeoPackage 1.3.0


class GeoPackageStore(LayerCatalog, ApprovalCatalog):
    """A workspace in one GeoPackage file.

    Use :meth:`open`; the store is a context manager that closes its connection.

    Every layer belongs to a plan (layers imported without one get an implicit plan of
    their own). A layer table holds feature *revisions*: each row records the version that
    added it (``guotu_added_in``) and a hash of its content; ``guotu_retired`` records which
    revisions a version retires. A version's features are those added along its lineage and
    not retired along it, so an amendment stores only what it changes.
    """

    def __init__(self, path: Path, conn: sqlite3.Connection) -> None:
        self.path: Path = path
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
            check_sqlite_header(p)
        conn = connect(p, busy_timeout_s)
        store = cls(p, conn)
        with driver_errors(p, "opening the workspace", "打开工作空间"):
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

    @property
    def has_open_transaction(self) -> bool:
        """Whether a transaction is open on the store's connection (a store handed back to a
        pool inside one must be closed, not reused)."""
        return self._conn.in_transaction

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
            for statement in (
                *VERSIONING_DDL,
                *TABLES_DDL,
                *AUDIT_CHAIN_DDL,
                *IDENTITY_DDL,
                *APPROVALS_DDL,
            ):
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
        with self._store_errors("upgrading the workspace", "升级工作空间"), self._transaction():
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
                    write_current_view(self._conn, name, plan.id, cols, gtype, int(srs_id))
                self._audit("guotu", "upgrade", "workspace", upgrade_reason(1, 2))
            if version < 3:
                # Schema 3 adds the non-spatial tables (plan targets, statistics …).
                for statement in TABLES_DDL:
                    self._conn.execute(statement)
                self._audit("guotu", "upgrade", "workspace", upgrade_reason(max(version, 2), 3))
            if version < 4:
                # Schema 4 chains the audit log and adds identity and access records.
                self._upgrade_to_4(
                    version,
                    chain_ddl=AUDIT_CHAIN_DDL,
                    identity_ddl=IDENTITY_DDL,
                    lift_guard="DROP TRIGGER guotu_audit_no_update",
                    restore_guard=AUDIT_NO_UPDATE,
                )
            if version < 5:
                # Schema 5 adds approval cases.
                for statement in APPROVALS_DDL:
                    self._conn.execute(statement)
                self._audit("guotu", "upgrade", "workspace", upgrade_reason(max(version, 4), 5))
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

    # -- the backend hooks ------------------------------------------------------------------
    def _store_errors(self, action: str, action_zh: str) -> contextlib.AbstractContextManager[None]:
        return driver_errors(self.path, action, action_zh)

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        return self._conn.execute(sql, tuple(params))

    def _execute_many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._conn.executemany(sql, [tuple(r) for r in rows])

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        """``BEGIN IMMEDIATE``: the file's writer lock is held from the start (which also
        serializes the audit log's appends); a nested call joins the transaction."""
        if self._conn.in_transaction:
            yield
            return
        self._conn.execute("BEGIN IMMEDIATE")
        try:
            with self._audit_flushed():
                yield
            self._conn.execute("COMMIT")
        except BaseException:
            if self._conn.in_transaction:
                self._conn.execute("ROLLBACK")
            raise

    # -- metadata and layers ---------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        """A value of guotu's key/value metadata."""
        row = self._conn.execute("SELECT value FROM guotu_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def layers(self) -> list[LayerInfo]:
        """Every layer, by name."""
        with driver_errors(self.path, "listing layers", "列出图层"):
            rows = self._conn.execute(
                "SELECT l.name, l.role, l.features, l.geometry_type, l.crs, l.columns, l.source,"
                " l.source_layer, l.field_map, l.imported_at, p.name FROM guotu_layers l LEFT "
                "JOIN guotu_plans p ON p.id = l.plan_id ORDER BY l.name"
            ).fetchall()
        return [layer_info(r) for r in rows]

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
        cols = checked_columns(info, columns)
        chain = self._layer_chain(name, as_of, known_at, version_id)
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
        with driver_errors(self.path, f"reading layer {name}", f"读取图层 {name}"):
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
        cols = checked_columns(info, columns)
        select = ", ".join(["fid", GEOM, *(q(c) for c in cols)])
        rows = self._conn.execute(
            f"SELECT {select} FROM {q(name)} WHERE fid IN (SELECT value FROM json_each(?)) "
            "ORDER BY fid",
            (json.dumps([int(f) for f in fids]),),
        ).fetchall()
        return self._frame(rows, cols, info)

    def version_changes(self, name: str, version_id: int) -> tuple[list[int], list[int]]:
        """(fids added, fids retired) by one version in layer ``name``."""
        self.layer(name)
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

    # -- the write path's hooks (see guotu.store.layers) ------------------------------------
    def _content_srid(self, crs: CRS) -> int:
        return planned_srs_id(self._conn, crs)

    def _fix_crs(self, crs: CRS) -> None:
        ensure_srs(self._conn, crs)
        self._conn.execute(
            "INSERT OR REPLACE INTO guotu_meta(key, value) VALUES ('crs', ?)", (crs_id(crs),)
        )

    def _create_layer(self, content: LayerContent, role: str, geometry_type: str) -> None:
        create_layer_table(
            self._conn,
            content.name,
            role,
            content.columns,
            content.types,
            geometry_type,
            content.srid,
        )

    def _add_columns(self, name: str, columns: Sequence[str], types: dict[str, str]) -> None:
        for c in columns:
            self._conn.execute(f"ALTER TABLE {q(name)} ADD COLUMN {q(c)} {types[c]}")

    def _revisions_in(self, name: str, chain: Sequence[int]) -> list[tuple[int, int]]:
        sql, params = self._select_in_versions(name, f"fid, {CONTENT_HASH}", chain)
        return [(int(r[0]), int(r[1])) for r in self._conn.execute(sql, params).fetchall()]

    def _insert_revisions(
        self, content: LayerContent, rows: npt.NDArray[np.intp], version_id: int
    ) -> None:
        colnames = ", ".join([GEOM, *(q(c) for c in content.columns), ADDED_IN, CONTENT_HASH])
        marks = ", ".join("?" * (3 + len(content.columns)))
        self._conn.executemany(
            f"INSERT INTO {q(content.name)} ({colnames}) VALUES ({marks})",
            (
                (content.blobs[i], *(v[i] for v in content.values), version_id, content.hashes[i])
                for i in rows.tolist()
            ),
        )

    def _index_new_layer(self, content: LayerContent, rows: npt.NDArray[np.intp]) -> None:
        # Indexes of a new table are built after its rows: much faster than row by row.
        name = content.name
        self._create_rtree(name, content.geoms[rows])
        self._conn.execute(f"CREATE INDEX {q(f'{name}_{ADDED_IN}')} ON {q(name)} ({ADDED_IN})")

    def _create_rtree(self, name: str, geoms: npt.NDArray[np.object_]) -> None:
        """Build the R-tree of the new layer ``name`` from the geometries just inserted."""
        create_rtree(self._conn, name, geoms)

    def _after_layer_write(self, info: LayerInfo, plan_id: int, srid: int) -> None:
        update_extent(self._conn, info.name)
        write_current_view(
            self._conn, info.name, plan_id, list(info.columns), info.geometry_type, srid
        )
