"""The PostGIS workspace's own behaviour: opening, schemas, the writer lock, a writer killed
mid-import, and ``open_workspace`` with a DSN. Skips without ``GUOTU_TEST_PG_DSN`` (fails in
CI)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

import geopandas as gpd
import numpy as np
import pytest
import shapely
from pyproj import CRS

from guotu.errors import ConfigError, NotFoundError, StoreError, StoreUnavailableError
from guotu.services.workspace import open_workspace

from ..conftest import X0, Y0
from .conftest import raw_sql

GK39 = CRS.from_epsg(4527)


def _frame(n: int) -> gpd.GeoDataFrame:
    geoms = shapely.box(np.arange(n) * 10.0 + X0, Y0, np.arange(n) * 10.0 + X0 + 10, Y0 + 10)
    return gpd.GeoDataFrame({"BSM": np.arange(n).astype(str)}, geometry=geoms, crs=GK39)


def _write(store: Any, name: str, frame: gpd.GeoDataFrame, **kw: Any) -> None:
    store.write_layer(
        name, "planned_land_use", frame, column_types={"BSM": "text"}, geometry_type="POLYGON", **kw
    )


@pytest.fixture
def pg(pg_schema: tuple[str, str]) -> Any:
    from guotu.store.postgis import PostGISStore

    dsn, schema = pg_schema
    with PostGISStore.open(dsn, create=True, schema=schema) as store:
        store.set_crs(GK39)
        yield store


def test_a_missing_workspace_is_not_created_unless_asked(pg_schema) -> None:
    from guotu.store.postgis import PostGISStore

    dsn, schema = pg_schema
    with pytest.raises(NotFoundError, match="does not exist"):
        PostGISStore.open(dsn, schema=schema)
    with PostGISStore.open(dsn, schema=schema, create=True) as store:
        assert store.layers() == [] and store.meta("schema_version") == "5"
    with PostGISStore.open(dsn, schema=schema) as store:  # and it is there next time
        assert store.crs is None


def test_the_schema_comes_from_the_dsn_options(pg_schema) -> None:
    from guotu.store.postgis import PostGISStore
    from guotu.store.postgis_connection import schema_from_dsn

    dsn, schema = pg_schema
    with_options = f"{dsn}?options={quote(f'-c search_path={schema}')}"
    assert schema_from_dsn(with_options) == schema
    with PostGISStore.open(with_options, create=True) as store:
        assert store.schema == schema
        _write(store, "L", _frame(2), crs=GK39)
    assert raw_sql(store, 'SELECT count(*) FROM "L"') == [(2,)]


def test_a_schema_with_other_tables_is_refused(pg_schema) -> None:
    import psycopg

    from guotu.errors import StoreIntegrityError
    from guotu.store.postgis import PostGISStore

    dsn, schema = pg_schema
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"; CREATE TABLE "{schema}".t (a int)')
    with pytest.raises(StoreIntegrityError, match="not a guotu workspace"):
        PostGISStore.open(dsn, schema=schema, create=True)


def test_an_unreachable_server_is_a_store_unavailable_error() -> None:
    from guotu.store.postgis import PostGISStore

    with pytest.raises(StoreUnavailableError, match="could not be reached") as err:
        PostGISStore.open("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    assert "password" not in str(err.value)


def test_passwords_stay_out_of_messages(pg_schema) -> None:
    from guotu.store.postgis import PostGISStore

    dsn, schema = pg_schema
    with pytest.raises(NotFoundError) as err:
        PostGISStore.open(dsn.replace("postgres@", "postgres:s3cret@"), schema=schema)
    assert "s3cret" not in str(err.value)


def test_the_layer_table_has_a_typed_geometry_and_a_gist_index(pg) -> None:
    _write(pg, "L", _frame(3))
    assert raw_sql(
        pg,
        "SELECT type, srid FROM geometry_columns WHERE f_table_schema = "
        f"'{pg.schema}' AND f_table_name = 'L'",
    ) == [("GEOMETRY", 4527)]
    defs = [
        r[0]
        for r in raw_sql(
            pg,
            f"SELECT indexdef FROM pg_indexes WHERE schemaname = '{pg.schema}' AND tablename = 'L'",
        )
    ]
    assert any("USING gist (geom)" in d for d in defs)


def test_names_longer_than_postgresql_allows_are_refused(pg) -> None:
    with pytest.raises(ConfigError, match="longer than PostgreSQL allows"):
        _write(pg, "规" * 22, _frame(1))


def test_a_second_writer_gets_a_clear_message(pg) -> None:
    from guotu.store.postgis import PostGISStore

    _write(pg, "L", _frame(3))
    other = PostGISStore.open(pg.dsn, schema=pg.schema, lock_timeout_s=0.2)
    try:
        with pg._transaction():
            pg._lock_writer()  # a long write holds the lock
            with pytest.raises(StoreError, match="another process"):
                _write(other, "M", _frame(2))
            assert len(other.read_layer("L")) == 3  # readers are not blocked
    finally:
        other.close()
    _write(other_store := PostGISStore.open(pg.dsn, schema=pg.schema), "M", _frame(2))
    other_store.close()


def test_open_workspace_takes_a_dsn_or_an_environment_reference(pg, monkeypatch) -> None:
    _write(pg, "L", _frame(2))
    dsn = f"{pg.dsn}?options={quote(f'-c search_path={pg.schema}')}"
    with open_workspace(dsn) as store:
        assert [i.name for i in store.layers()] == ["L"]
    monkeypatch.setenv("GUOTU_TEST_WS", dsn)
    with open_workspace("env:GUOTU_TEST_WS") as store:
        assert [i.name for i in store.layers()] == ["L"]
    monkeypatch.delenv("GUOTU_TEST_WS")
    with pytest.raises(ConfigError, match="GUOTU_TEST_WS is not set"):
        open_workspace("env:GUOTU_TEST_WS")


_WRITER = textwrap.dedent("""
    import sys
    import geopandas as gpd, numpy as np, shapely
    from guotu.store.postgis import PostGISStore
    n = int(sys.argv[3])
    geoms = shapely.box(np.arange(n) * 10.0 + 39540000, 4052000, np.arange(n) * 10.0 + 39540010,
                        4052010)
    frame = gpd.GeoDataFrame({"BSM": np.arange(n).astype(str)}, geometry=geoms, crs=4527)
    store = PostGISStore.open(sys.argv[1], schema=sys.argv[2])
    print("ready", flush=True)
    store.write_layer("BIG", "planned_land_use", frame, column_types={"BSM": "text"},
                      geometry_type="POLYGON")
    print("done", flush=True)
""")


def _state(store: Any) -> tuple[Any, ...]:
    tables = raw_sql(
        store,
        f"SELECT tablename FROM pg_tables WHERE schemaname = '{store.schema}' ORDER BY tablename",
    )
    return (
        store.layers(),
        store.versions(),
        store.plans(),
        len(store.audit_log()),
        tables,
        len(store.read_layer("L")),
    )


def _wait_for_stage(store: Any, proc: subprocess.Popen[str], query_prefix: str) -> None:
    """Poll the server until the writer's backend runs (or just ran) ``query_prefix``."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"the writer ended before reaching {query_prefix!r}")
        rows = raw_sql(
            store,
            "SELECT 1 FROM pg_stat_activity WHERE pid <> pg_backend_pid() "
            f"AND query LIKE '{query_prefix}%' AND query LIKE '%{store.schema}%'",
        )
        if rows:
            return
        time.sleep(0.01)
    pytest.fail(f"the writer did not reach {query_prefix!r} in 60 s")


@pytest.mark.parametrize(
    "stage",
    [
        "SELECT t.fid",  # the transaction is open, parent state read, hashes being computed
        "COPY",  # features streaming in
        "CREATE INDEX",  # the new table's indexes being built
    ],
)
def test_writer_killed_mid_import_leaves_the_workspace_as_before(
    pg, tmp_path: Path, stage: str
) -> None:
    _write(pg, "L", _frame(10))
    before = _state(pg)
    script = tmp_path / "writer.py"
    script.write_text(_WRITER)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    proc = subprocess.Popen(
        [sys.executable, str(script), pg.dsn, pg.schema, "300000"],
        stdout=subprocess.PIPE,
        env=env,
        text=True,
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    _wait_for_stage(pg, proc, stage)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    proc.stdout.close()
    assert _state(pg) == before
    _write(pg, "M", _frame(5))  # the writer lock went with the killed connection
    assert [i.name for i in pg.layers()] == ["L", "M"]
