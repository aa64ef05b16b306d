"""The contract suite's fixtures: one ``store`` per backend (memory, geopackage, postgis).

PostGIS tests take the server from ``GUOTU_TEST_PG_DSN`` and work in a fresh schema each,
dropped afterwards. Without the variable they skip, except in CI (``CI=true``), where a
missing server is a failure: ``.ci/run`` starts one.
"""

from __future__ import annotations

import os
import sqlite3
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pyproj import CRS

from guotu.store.geopackage import GeoPackageStore
from guotu.store.memory import MemoryStore

GK39 = CRS.from_epsg(4527)
BACKENDS = ["memory", "geopackage", "postgis"]
SQL_BACKENDS = ["geopackage", "postgis"]


def pg_dsn() -> str:
    """The test server's DSN; skips (fails in CI) without one."""
    dsn = os.environ.get("GUOTU_TEST_PG_DSN", "")
    if not dsn:
        if os.environ.get("CI") == "true":
            pytest.fail(
                "GUOTU_TEST_PG_DSN is not set: in CI the PostGIS contract tests must "
                "run (.ci/run starts a server with scripts/pg-throwaway)."
            )
        pytest.skip("GUOTU_TEST_PG_DSN is not set (bash scripts/pg-throwaway start prints one)")
    try:
        import psycopg  # noqa: F401
    except ImportError:  # pragma: no cover - the postgis extra is part of the test setup
        pytest.fail(
            "GUOTU_TEST_PG_DSN is set but psycopg is not installed: pip install -e '.[postgis]'"
        )
    return dsn


@pytest.fixture
def pg_schema() -> Iterator[tuple[str, str]]:
    """(dsn, schema): a schema name no other test uses, dropped after the test."""
    import psycopg
    from psycopg import sql

    dsn = pg_dsn()
    schema = f"test_{uuid.uuid4().hex[:12]}"
    yield dsn, schema
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def open_store(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> Any:
    """A new, empty workspace of ``backend`` (no CRS yet)."""
    if backend == "memory":
        return MemoryStore.open()
    if backend == "geopackage":
        return GeoPackageStore.open(tmp_path / "ws.gpkg", create=True)
    from guotu.store.postgis import PostGISStore

    dsn, schema = request.getfixturevalue("pg_schema")
    return PostGISStore.open(dsn, create=True, schema=schema)


@pytest.fixture(params=BACKENDS)
def empty_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A new workspace without a CRS, of every backend."""
    with open_store(request.param, tmp_path, request) as store:
        yield store


@pytest.fixture
def store(empty_store: Any) -> Any:
    """A new workspace in EPSG:4527, of every backend."""
    empty_store.set_crs(GK39)
    return empty_store


@pytest.fixture(params=SQL_BACKENDS)
def sql_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Any]:
    """A new workspace in EPSG:4527 of each SQL backend (for tests that reach under it)."""
    with open_store(request.param, tmp_path, request) as store:
        store.set_crs(GK39)
        yield store


def backend_of(store: Any) -> str:
    return {"MemoryStore": "memory", "GeoPackageStore": "geopackage", "PostGISStore": "postgis"}[
        type(store).__name__
    ]


def revision_count(store: Any, layer: str) -> int:
    """Feature revisions a layer stores, all versions together."""
    return int(store.revision_count(layer))


def raw_sql(store: Any, text: str) -> list[tuple[Any, ...]]:
    """Run SQL behind the store's back, in its workspace (GeoPackage or PostGIS)."""
    if isinstance(store, GeoPackageStore):
        import sqlite3

        from guotu.store.gpkg_blob import register_functions

        conn = sqlite3.connect(store.path, isolation_level=None)
        register_functions(conn)
        try:
            return conn.execute(text).fetchall()
        finally:
            conn.close()
    import psycopg
    from psycopg import sql

    with psycopg.connect(store.dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("SET search_path TO {}, public").format(sql.Identifier(store.schema)))
        cur = conn.execute(text)
        return cur.fetchall() if cur.description else []


#: What turns a schema-4 workspace back into a schema-3 one: no identity tables, an audit log
#: without departments, addresses and hashes (SQLite and PostgreSQL alike).
SCHEMA_5_PARTS = [
    *(
        f"DROP TABLE guotu_approval_{t}"
        for t in ("cases", "events", "files", "blobs", "visits", "status")
    ),
    "UPDATE guotu_meta SET value = '4' WHERE key = 'schema_version'",
]
SCHEMA_4_PARTS = [
    *(
        f"DROP TABLE guotu_{t}"
        for t in ("departments", "users", "layer_policies", "tokens", "sessions")
    ),
    "DROP INDEX guotu_audit_at",
    "DROP INDEX guotu_audit_actor",
    *(
        f"ALTER TABLE guotu_audit DROP COLUMN {c}"
        for c in ("department", "address", "prev_hash", "hash")
    ),
    "DELETE FROM guotu_meta WHERE key = 'audit_head'",
    "UPDATE guotu_meta SET value = '3' WHERE key = 'schema_version'",
]


def strip_to_schema_3(store: Any) -> None:
    """Make the SQL workspace of ``store`` one that guotu with schema 3 wrote (its audit
    entries kept, unchained)."""
    for statement in SCHEMA_5_PARTS + SCHEMA_4_PARTS:
        raw_sql(store, statement)


def strip_to_schema_4(store: Any) -> None:
    """Make the SQL workspace of ``store`` one that guotu with schema 4 wrote."""
    for statement in SCHEMA_5_PARTS:
        raw_sql(store, statement)


def reopen(store: Any) -> Any:
    """Close ``store`` and open its workspace again (GeoPackage or PostGIS)."""
    store.close()
    if backend_of(store) == "geopackage":
        return GeoPackageStore.open(store.path)
    from guotu.store.postgis import PostGISStore

    return PostGISStore.open(store.dsn, schema=store.schema)


def driver_errors() -> tuple[type[BaseException], ...]:
    """The exception classes of the database drivers."""
    errors: list[type[BaseException]] = [sqlite3.Error]
    try:
        import psycopg

        errors.append(psycopg.Error)
    except ImportError:  # pragma: no cover
        pass
    return tuple(errors)


def index_is_sound(store: Any, layer: str) -> bool:
    """The layer's spatial index passes the backend's own check."""
    if isinstance(store, GeoPackageStore):
        return store._conn.execute(f"SELECT rtreecheck('rtree_{layer}_geom')").fetchone()[0] == "ok"
    if backend_of(store) == "postgis":
        rows = raw_sql(
            store,
            "SELECT indexdef FROM pg_indexes WHERE schemaname = "
            f"'{store.schema}' AND tablename = '{layer}'",
        )
        return any("USING gist (geom)" in r[0] for r in rows)
    return True
