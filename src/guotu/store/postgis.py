"""The workspace in PostgreSQL + PostGIS, through psycopg 3 (the ``guotu[postgis]`` extra).

A workspace is one **schema** of a database: ``guotu`` unless told otherwise. The schema is,
in order of precedence, the ``schema`` argument of :meth:`PostGISStore.open`, the first entry
of a ``search_path`` set in the DSN's ``options`` (``postgresql://u@host/db?options=-c%20search_path%3Dcounty_a``
selects schema ``county_a``), or ``guotu``. Several workspaces can share a database.

The tables are those of the GeoPackage workspace (``guotu_meta``, ``guotu_layers``,
``guotu_plans``, ``guotu_versions``, ``guotu_retired``, ``guotu_layer_versions``,
``guotu_audit``, the tables of :mod:`guotu.store.tables` and :mod:`guotu.store.identity`),
with native types (dates, timestamps, JSON, booleans). A layer is a table of
feature revisions: ``fid`` (identity), ``geom geometry(Geometry, <srid>)`` with a GiST index,
the attributes (text, double precision, bigint, date, boolean), ``guotu_added_in`` and
``guotu_hash`` (a 64-bit content hash). Versions and the audit log are append-only: triggers RAISE EXCEPTION on
UPDATE, DELETE and TRUNCATE.

Every write is one transaction holding the workspace's writer lock (an advisory lock; a
second writer waits ``lock_timeout_s`` and then gets a :class:`StoreError`); features go in
with COPY. Audit entries are appended at the end of a transaction under a second advisory
lock (:mod:`guotu.store.audit`), which identity writes take without the writer lock. A killed writer leaves nothing: the server rolls its transaction back. Reads may
run concurrently from a small pool of connections; statements that repeat are prepared
(psycopg's ``prepare_threshold``). Identifiers are quoted with :mod:`psycopg.sql`, values
are always parameters, and every driver exception becomes a :class:`StoreError` (or its
``Unavailable``/``Integrity`` branch) in
:func:`guotu.store.postgis_connection.pg_errors`.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterable, Iterator, Sequence
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import psycopg
import shapely
from psycopg import sql
from pyproj import CRS

from guotu.domain.core.catalog import LayerInfo
from guotu.domain.core.roles import get_role
from guotu.errors import ConfigError, NotFoundError, StoreIntegrityError, StoreUnavailableError
from guotu.store.approvals import ApprovalCatalog
from guotu.store.layers import LayerCatalog, LayerContent
from guotu.store.layout import (
    ADDED_IN,
    CONTENT_HASH,
    GEOM,
    SCHEMA_VERSION,
    crs_id,
    now,
    srid_of,
    upgrade_reason,
)
from guotu.store.postgis_connection import ConnectionPool, display_name, pg_errors, schema_from_dsn
from guotu.store.postgis_schema import (
    DEFAULT_SCHEMA,
    MAX_IDENTIFIER_BYTES,
    PG_APPROVALS_DDL,
    PG_AUDIT_CHAIN_DDL,
    PG_DDL,
    PG_IDENTITY_DDL,
    PG_TABLES_DDL,
    PG_TYPES,
)
from guotu.store.revisions import checked_columns, layer_frame, layer_info, sqlite_values

__all__ = ["PostGISStore"]


class PostGISStore(LayerCatalog, ApprovalCatalog):
    """A workspace in one schema of a PostgreSQL + PostGIS database.

    Use :meth:`open`; the store is a context manager that closes its connections.
    See the module docstring for the tables and the guarantees.
    """

    def __init__(
        self,
        dsn: str,
        schema: str,
        *,
        pool_size: int = 4,
        lock_timeout_s: float = 10.0,
        create: bool = False,
    ) -> None:
        self.dsn = dsn
        self.schema = schema
        self.path: str = display_name(dsn, schema)
        self._lock_timeout_s = lock_timeout_s
        self._create = create
        self._local = threading.local()
        self._pool = ConnectionPool(dsn, self._configure, max_size=pool_size)

    # -- opening ---------------------------------------------------------------------------
    @classmethod
    def open(
        cls,
        dsn: str,
        *,
        create: bool = False,
        schema: str | None = None,
        pool_size: int = 4,
        lock_timeout_s: float = 10.0,
    ) -> PostGISStore:
        """Open the workspace in ``schema`` of the database at ``dsn``; with ``create=True``
        make it (and the PostGIS extension, given the privilege) if it does not exist.

        Raises
        ------
        NotFoundError
            No workspace in that schema and ``create`` is false.
        StoreUnavailableError
            The server cannot be reached, or PostGIS is not installed in the database.
        StoreIntegrityError
            The schema holds other tables, or a newer guotu's.
        """
        name = schema or schema_from_dsn(dsn) or DEFAULT_SCHEMA
        if len(name.encode()) > MAX_IDENTIFIER_BYTES:
            raise ConfigError(
                f"Schema name {name!r} is longer than PostgreSQL allows "
                f"({MAX_IDENTIFIER_BYTES} bytes).",
                fix="Use a shorter name.",
                message_zh=f"模式名 {name!r} 超过 PostgreSQL 的长度上限。",
                fix_zh="请使用更短的名称。",
            )
        store = cls(dsn, name, pool_size=pool_size, lock_timeout_s=lock_timeout_s, create=create)
        try:
            with store._store_errors("opening the workspace", "打开工作空间"):
                state = store._schema_state()
                if state == "workspace":
                    store._check_is_workspace()
                elif not create:
                    raise NotFoundError(
                        f"Workspace {store.path} does not exist.",
                        file=store.path,
                        fix=f"Create it: guotu import FILE --role ROLE -w {store.path.split()[0]}"
                        " (the schema is made on the first import).",
                        message_zh=f"工作空间 {store.path} 不存在。",
                        fix_zh="请先导入一个图层以创建它（首次导入时自动建立模式）。",
                    )
                elif state == "foreign":
                    raise StoreIntegrityError(
                        f"Schema {name!r} of {store.path} holds tables but is not a guotu "
                        "workspace.",
                        file=store.path,
                        fix="Give another schema (options=-c search_path=NAME in the DSN).",
                        message_zh=f"{store.path} 的模式 {name!r} 中已有其他数据表，不是 guotu "
                        "工作空间。",
                        fix_zh="请指定另一个模式（在连接串中用 options=-c search_path=名称）。",
                    )
                else:
                    store._initialise()
        except BaseException:
            store.close()
            raise
        return store

    def _configure(self, conn: psycopg.Connection[Any]) -> None:
        """Put the workspace schema first on the search_path, then PostGIS's schema."""
        found = conn.execute(
            "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = "
            "e.extnamespace WHERE e.extname = 'postgis'"
        ).fetchone()
        if found is None and self._create:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
            found = conn.execute(
                "SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = "
                "e.extnamespace WHERE e.extname = 'postgis'"
            ).fetchone()
        if found is None:
            raise StoreUnavailableError(
                f"Database {self.path} has no PostGIS extension.",
                file=self.path,
                fix="Run CREATE EXTENSION postgis in it (as a user allowed to).",
                message_zh=f"数据库 {self.path} 未安装 PostGIS 扩展。",
                fix_zh="请在该数据库中执行 CREATE EXTENSION postgis（需相应权限）。",
            )
        conn.execute(
            "SELECT set_config('search_path', format('%%I, %%I', %s::text, %s::text), false)",
            (self.schema, found[0]),
        )

    def _schema_state(self) -> str:
        """'workspace', 'empty' (no schema or no table in it) or 'foreign'."""
        row = self._execute(
            "SELECT count(*), count(*) FILTER (WHERE c.relname = 'guotu_meta') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = ? AND "
            "c.relkind IN ('r', 'p', 'v')",
            (self.schema,),
        ).fetchone()
        if row[1]:
            return "workspace"
        return "foreign" if row[0] else "empty"

    def _initialise(self) -> None:
        with self._transaction():
            self._lock_writer()
            if self._schema_state() == "workspace":  # another process made it meanwhile
                return
            self._execute(
                sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(sql.Identifier(self.schema))
            )
            for statement in PG_DDL:
                self._execute(statement)
            self._execute(
                "INSERT INTO guotu_meta (key, value) VALUES ('schema_version', ?), "
                "('created_at', ?)",
                (str(SCHEMA_VERSION), now()),
            )

    def _check_is_workspace(self) -> None:
        version = int(self.meta("schema_version") or 0)
        if 2 <= version < SCHEMA_VERSION:
            self._upgrade(version)
            version = int(self.meta("schema_version") or 0)
        if version != SCHEMA_VERSION:
            newer = version > SCHEMA_VERSION
            raise StoreIntegrityError(
                f"Workspace {self.path} has schema {version}; this guotu knows {SCHEMA_VERSION}.",
                file=self.path,
                fix="Upgrade guotu." if newer else "Recreate the workspace with this guotu.",
                message_zh=f"工作空间 {self.path} 的结构版本为 {version}，本版本支持 "
                f"{SCHEMA_VERSION}。",
                fix_zh="请升级 guotu。" if newer else "请用本版本重建工作空间。",
            )

    def _upgrade(self, version: int) -> None:
        """Upgrade a workspace of schema 2 to 4 in place, in one transaction (what each schema
        adds: :data:`guotu.store.layout.SCHEMA_VERSION`)."""
        with self._store_errors("upgrading the workspace", "升级工作空间"), self._transaction():
            self._lock_writer()
            if self.meta("schema_version") != str(version):  # upgraded by another meanwhile
                return
            if version < 3:
                for statement in PG_TABLES_DDL:
                    self._execute(statement)
                self._audit("guotu", "upgrade", "workspace", upgrade_reason(2, 3))
            if version < 4:
                self._upgrade_to_4(
                    version,
                    chain_ddl=PG_AUDIT_CHAIN_DDL,
                    identity_ddl=PG_IDENTITY_DDL,
                    lift_guard="ALTER TABLE guotu_audit DISABLE TRIGGER guotu_audit_no_update",
                    restore_guard="ALTER TABLE guotu_audit ENABLE TRIGGER guotu_audit_no_update",
                )
            for statement in PG_APPROVALS_DDL:
                self._execute(statement)
            self._audit("guotu", "upgrade", "workspace", upgrade_reason(max(version, 4), 5))
            self._set_meta("schema_version", str(SCHEMA_VERSION))

    def close(self) -> None:
        """Close every connection of the pool."""
        self._pool.close()

    def __enter__(self) -> PostGISStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def has_open_transaction(self) -> bool:
        """Whether this thread has a write transaction open on the store."""
        return getattr(self._local, "conn", None) is not None

    # -- the dialect hooks -----------------------------------------------------------------
    def _store_errors(self, action: str, action_zh: str) -> contextlib.AbstractContextManager[None]:
        return pg_errors(self.path, action, action_zh)

    def _execute(self, query: Any, params: Sequence[Any] = (), *, binary: bool = False) -> Any:
        """Run one statement (``?`` placeholders in plain text; :mod:`psycopg.sql`
        compositions as they are) on the transaction's connection, or a pooled one."""
        if isinstance(query, str):
            query = query.replace("?", "%s")
        args = tuple(params) or None  # no parameters: a % in the text is a plain %
        conn = getattr(self._local, "conn", None)
        if conn is not None:
            return conn.cursor(binary=binary).execute(query, args)
        with self._pool.connection() as conn:
            return conn.cursor(binary=binary).execute(query, args)

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        if getattr(self._local, "conn", None) is not None:
            yield
            return
        with self._pool.connection() as conn:
            self._local.conn = conn
            try:
                with conn.transaction(), self._audit_flushed():
                    yield
            finally:
                self._local.conn = None

    def _lock_for_write(self) -> None:
        self._lock_writer()

    def _execute_many(self, query: str, rows: Sequence[Sequence[Any]]) -> None:
        conn = self._local.conn  # only inside a write transaction
        with conn.cursor() as cur:
            cur.executemany(query.replace("?", "%s"), [tuple(r) for r in rows])

    def _lock_writer(self) -> None:
        """Take the workspace's writer lock until the transaction ends."""
        self._advisory_lock(f"guotu:{self.schema}")

    def _lock_audit(self) -> None:
        """Take the audit log's lock until the transaction ends (a lock of its own: a
        sign-in's entry waits for an import's commit, not for the writer lock)."""
        self._advisory_lock(f"guotu-audit:{self.schema}")

    def _advisory_lock(self, name: str) -> None:
        self._execute(
            "SELECT set_config('lock_timeout', ?, true)", (f"{int(self._lock_timeout_s * 1000)}ms",)
        )
        self._execute("SELECT pg_advisory_xact_lock(hashtextextended(?, 0))", (name,))

    def _table(self, name: str) -> sql.Identifier:
        return sql.Identifier(self.schema, name)

    # -- metadata and layers ---------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        """A value of guotu's key/value metadata."""
        with self._store_errors("reading the metadata", "读取元数据"):
            row = self._execute("SELECT value FROM guotu_meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._execute(
            "INSERT INTO guotu_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO "
            "UPDATE SET value = excluded.value",
            (key, value),
        )

    def layers(self) -> list[LayerInfo]:
        """Every layer, by name."""
        with self._store_errors("listing layers", "列出图层"):
            rows = self._execute(
                "SELECT l.name, l.role, l.features, l.geometry_type, l.crs, l.columns, l.source,"
                " l.source_layer, l.field_map, l.imported_at, p.name FROM guotu_layers l LEFT "
                "JOIN guotu_plans p ON p.id = l.plan_id"
            ).fetchall()
        return sorted((layer_info(r) for r in rows), key=lambda i: i.name)

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
        ``as_of`` as known at ``known_at``; ``bbox`` = (minx, miny, maxx, maxy) uses the GiST
        index (envelopes that intersect it, edges included).
        """
        info = self.layer(name)
        cols = checked_columns(info, columns)
        chain = self._layer_chain(name, as_of, known_at, version_id)
        query, params = self._select_in_versions(name, self._select_list(cols), chain)
        if bbox is not None:
            minx, miny, maxx, maxy = (float(v) for v in bbox)
            query = query + sql.SQL(" AND t.{} && ST_MakeEnvelope(%s, %s, %s, %s, %s)").format(
                sql.Identifier(GEOM)
            )
            params = (*params, minx, miny, maxx, maxy, srid_of(CRS.from_user_input(info.crs)))
        query = query + sql.SQL(" ORDER BY t.fid")
        with self._store_errors(f"reading layer {name}", f"读取图层 {name}"):
            rows = self._execute(query, params, binary=True).fetchall()
        frame = self._frame(rows, cols, info)
        if bbox is not None and len(frame):
            # The index keeps float4 boxes rounded outwards; keep exact envelope hits only.
            env = shapely.bounds(np.asarray(frame.geometry.values, dtype=object))
            hit = (
                (env[:, 2] >= minx)
                & (env[:, 0] <= maxx)
                & (env[:, 3] >= miny)
                & (env[:, 1] <= maxy)
            )
            frame = frame[hit]
        return frame

    def read_revisions(
        self, name: str, fids: Sequence[int], columns: Sequence[str] | None = None
    ) -> gpd.GeoDataFrame:
        """Feature revisions of layer ``name`` by fid, whatever version they belong to."""
        info = self.layer(name)
        cols = checked_columns(info, columns)
        query = sql.SQL(
            "SELECT {} FROM {} t WHERE t.fid = ANY(%s::bigint[]) ORDER BY t.fid"
        ).format(self._select_list(cols), self._table(name))
        with self._store_errors(f"reading layer {name}", f"读取图层 {name}"):
            rows = self._execute(query, ([int(f) for f in fids],), binary=True).fetchall()
        return self._frame(rows, cols, info)

    def version_changes(self, name: str, version_id: int) -> tuple[list[int], list[int]]:
        """(fids added, fids retired) by one version in layer ``name``."""
        self.layer(name)
        with self._store_errors(f"reading layer {name}", f"读取图层 {name}"):
            added = [
                int(r[0])
                for r in self._execute(
                    sql.SQL("SELECT fid FROM {} WHERE {} = %s ORDER BY fid").format(
                        self._table(name), sql.Identifier(ADDED_IN)
                    ),
                    (version_id,),
                ).fetchall()
            ]
            retired = [
                int(r[0])
                for r in self._execute(
                    "SELECT fid FROM guotu_retired WHERE layer = ? AND version_id = ? ORDER BY fid",
                    (name, version_id),
                ).fetchall()
            ]
        return added, retired

    def feature_history(self, name: str, key: str) -> list[dict[str, Any]]:
        """Revisions of the feature whose role id field is ``key``: fid, added_in,
        retired_in (version labels as ``plan/label``)."""
        info = self.layer(name)
        id_field = get_role(info.role).id_field
        if id_field not in info.columns:
            return []
        labels = {v.id: f"{self.plan(v.plan_id).name}/{v.label}" for v in self.versions()}
        out = []
        with self._store_errors(f"reading layer {name}", f"读取图层 {name}"):
            rows = self._execute(
                sql.SQL("SELECT fid, {} FROM {} WHERE {} = %s ORDER BY fid").format(
                    sql.Identifier(ADDED_IN), self._table(name), sql.Identifier(id_field)
                ),
                (key,),
            ).fetchall()
            for fid, added in rows:
                retired = [
                    labels[int(r[0])]
                    for r in self._execute(
                        "SELECT version_id FROM guotu_retired WHERE layer = ? AND fid = ? "
                        "ORDER BY version_id",
                        (name, fid),
                    ).fetchall()
                ]
                out.append({"fid": int(fid), "added_in": labels[int(added)], "retired_in": retired})
        return out

    def revision_count(self, name: str) -> int:
        """How many feature revisions layer ``name`` stores (all versions together)."""
        self.layer(name)
        with self._store_errors(f"reading layer {name}", f"读取图层 {name}"):
            return int(
                self._execute(
                    sql.SQL("SELECT count(*) FROM {}").format(self._table(name))
                ).fetchone()[0]
            )

    def _select_list(self, cols: Sequence[str]) -> sql.Composable:
        return sql.SQL(", ").join(
            [
                sql.SQL("t.fid"),
                sql.SQL("ST_AsBinary(t.{})").format(sql.Identifier(GEOM)),
                *(sql.SQL("t.{}").format(sql.Identifier(c)) for c in cols),
            ]
        )

    def _select_in_versions(
        self, name: str, select: sql.Composable, chain: Sequence[int]
    ) -> tuple[sql.Composed, tuple[Any, ...]]:
        ids = [int(v) for v in chain]
        query = sql.SQL(
            "SELECT {} FROM {} t WHERE t.{} = ANY(%s::bigint[]) AND NOT EXISTS (SELECT 1 FROM "
            "{} r WHERE r.layer = %s AND r.version_id = ANY(%s::bigint[]) AND r.fid = t.fid)"
        ).format(
            select,
            self._table(name),
            sql.Identifier(ADDED_IN),
            sql.Identifier(self.schema, "guotu_retired"),
        )
        return query, (ids, name, ids)

    def _frame(self, rows: list[Any], cols: list[str], info: LayerInfo) -> gpd.GeoDataFrame:
        data = list(zip(*rows, strict=True)) if rows else [()] * (2 + len(cols))
        values = [sqlite_values(v, info.columns[c]) for c, v in zip(cols, data[2:], strict=True)]
        wkb = [None if b is None else bytes(b) for b in data[1]]
        geoms = shapely.from_wkb(wkb) if wkb else np.empty(0, dtype=object)
        return layer_frame(list(data[0]), geoms, cols, values, info.columns, info.crs)

    # -- the write path's hooks (see guotu.store.layers) ------------------------------------
    def _check_names(self, name: str, columns: Sequence[str]) -> None:
        too_long = [n for n in (name, *columns) if len(str(n).encode()) > MAX_IDENTIFIER_BYTES]
        if too_long:
            raise ConfigError(
                f"Name {too_long[0]!r} is longer than PostgreSQL allows "
                f"({MAX_IDENTIFIER_BYTES} bytes).",
                layer=name,
                fix="Import it under a shorter --layer name, or rename the field.",
                message_zh=f"名称 {too_long[0]!r} 超过 PostgreSQL 的长度上限（63 字节）。",
                fix_zh="请用更短的 --layer 名称导入，或重命名该字段。",
            )

    def _content_srid(self, crs: CRS) -> int:
        return srid_of(crs)

    def _fix_crs(self, crs: CRS) -> None:
        self._set_meta("crs", crs_id(crs))

    def _create_layer(self, content: LayerContent, role: str, geometry_type: str) -> None:
        self._create_layer_table(content.name, content.columns, content.types, content.srid)

    def _add_columns(self, name: str, columns: Sequence[str], types: dict[str, str]) -> None:
        for c in columns:
            self._execute(
                sql.SQL("ALTER TABLE {} ADD COLUMN {} {}").format(
                    self._table(name), sql.Identifier(c), sql.SQL(PG_TYPES[types[c]])
                )
            )

    def _revisions_in(self, name: str, chain: Sequence[int]) -> list[tuple[int, int]]:
        query, params = self._select_in_versions(
            name, sql.SQL("t.fid, t.{}").format(sql.Identifier(CONTENT_HASH)), chain
        )
        return [(int(r[0]), int(r[1])) for r in self._execute(query, params).fetchall()]

    def _insert_revisions(
        self, content: LayerContent, rows: npt.NDArray[np.intp], version_id: int
    ) -> None:
        """COPY the new feature revisions (geometry as hex EWKB, 2D like the GeoPackage)."""
        if not len(rows):
            return
        picked = shapely.set_srid(content.geoms[rows], content.srid)
        ewkb = shapely.to_wkb(
            picked, hex=True, output_dimension=2, include_srid=True, flavor="extended"
        ).tolist()
        columns = sql.SQL(", ").join(
            sql.Identifier(c) for c in [GEOM, *content.columns, ADDED_IN, CONTENT_HASH]
        )
        values, hashes = content.values, content.hashes
        self._copy(
            sql.SQL("COPY {} ({}) FROM STDIN").format(self._table(content.name), columns),
            (
                (ewkb[k], *(v[i] for v in values), version_id, hashes[i])
                for k, i in enumerate(rows.tolist())
            ),
        )

    def _retire(self, name: str, version_id: int, fids: Sequence[int]) -> None:
        self._copy(
            sql.SQL("COPY {} (layer, version_id, fid) FROM STDIN").format(
                sql.Identifier(self.schema, "guotu_retired")
            ),
            ((name, version_id, int(f)) for f in fids),
        )

    def _index_new_layer(self, content: LayerContent, rows: npt.NDArray[np.intp]) -> None:
        """GiST on the geometry, B-tree on the version (built after the first COPY: faster)."""
        name = content.name
        self._execute(
            sql.SQL("CREATE INDEX ON {} USING gist ({})").format(
                self._table(name), sql.Identifier(GEOM)
            )
        )
        self._execute(
            sql.SQL("CREATE INDEX ON {} ({})").format(self._table(name), sql.Identifier(ADDED_IN))
        )

    def _create_layer_table(
        self, name: str, cols: list[str], types: dict[str, str], srid: int
    ) -> None:
        coldefs = [
            sql.SQL("{} {}").format(sql.Identifier(c), sql.SQL(PG_TYPES[types[c]])) for c in cols
        ]
        self._execute(
            sql.SQL(
                "CREATE TABLE {} (fid bigint GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, "
                "{} geometry(Geometry, {}){}, {} bigint NOT NULL REFERENCES {}(id), {} bigint NOT NULL)"
            ).format(
                self._table(name),
                sql.Identifier(GEOM),
                sql.Literal(int(srid)),
                sql.SQL("").join(sql.SQL(", ") + d for d in coldefs),
                sql.Identifier(ADDED_IN),
                sql.Identifier(self.schema, "guotu_versions"),
                sql.Identifier(CONTENT_HASH),
            )
        )

    def _copy(self, statement: sql.Composed, rows: Iterable[tuple[Any, ...]]) -> None:
        conn = self._local.conn  # COPY runs only inside a write transaction
        with conn.cursor() as cur, cur.copy(statement) as copy:
            for row in rows:
                copy.write_row(row)
