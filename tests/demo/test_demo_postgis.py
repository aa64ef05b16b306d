"""``guotu demo -w postgresql://…``: the demo county built into PostGIS, the same as into a
GeoPackage, its follow-up steps run on the database, and an existing workspace refused
without ``--force`` and emptied with it. Skips without ``GUOTU_TEST_PG_DSN``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from guotu.cli import root
from guotu.demo.county import MIN_PARCELS
from guotu.demo.plans import MASTER_PLAN
from guotu.services.workspace import open_workspace

from ..store.conftest import pg_schema  # noqa: F401  (the fixture)

pytestmark = pytest.mark.postgis

SEED = 20261122


def _demo(workspace: str, out: Path, *extra: str) -> Result:
    return CliRunner().invoke(
        root,
        [
            "demo",
            "-w",
            workspace,
            "--out",
            str(out),
            "--parcels",
            str(MIN_PARCELS),
            "--seed",
            str(SEED),
            "--json",
            *extra,
        ],
    )


def _location(pg: tuple[str, str]) -> str:
    dsn, schema = pg
    return f"{dsn}{'&' if '?' in dsn else '?'}options=-c%20search_path%3D{schema}"


def test_the_demo_builds_into_postgis_as_into_a_geopackage(
    pg_schema: tuple[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    pg = _demo(_location(pg_schema), tmp_path / "pg_files")
    assert pg.exit_code == 0, pg.output
    gpkg = _demo(str(tmp_path / "demo.gpkg"), tmp_path / "gpkg_files")
    assert gpkg.exit_code == 0, gpkg.output
    got, want = json.loads(pg.output), json.loads(gpkg.output)
    assert got["layers"] == want["layers"] and len(got["layers"]) == 12
    assert f"schema {pg_schema[1]}" in got["workspace"] and "postgresql://" in got["workspace"]
    # 质检, 用地平衡表 and 成果审查 ran on the database, with the GeoPackage's results
    assert got["check"]["summary"] == want["check"]["summary"]
    # the same figures from the same version (recorded at a different moment in each store)
    got_version, want_version = (
        got["balance"].pop("data_version"),
        want["balance"].pop("data_version"),
    )
    assert got["balance"] == want["balance"]
    assert got_version["version"] == want_version["version"] == MASTER_PLAN.label
    assert got["review"]["summary"] == want["review"]["summary"]
    with open_workspace(_location(pg_schema)) as store:
        counts = {i.name: i.features for i in store.layers()}
    assert counts == want["layers"]


def test_an_existing_postgis_workspace_needs_force(
    pg_schema: tuple[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    location = _location(pg_schema)
    assert _demo(location, tmp_path / "a", "--no-check").exit_code == 0
    again = _demo(location, tmp_path / "b", "--no-check")
    assert again.exit_code == 2 and "不是空的" in again.output and "--force" in again.output
    assert "Traceback" not in again.output and not (tmp_path / "b").exists()
    forced = _demo(location, tmp_path / "c", "--no-check", "--force")
    assert forced.exit_code == 0, forced.output
    with open_workspace(location) as store:
        assert len(store.layers()) == 12
        assert len(store.versions(MASTER_PLAN.name)) == 1  # made anew, not a second version
        assert store.audit_log()[0].action == "reset"


def test_force_refuses_a_schema_holding_other_tables(
    pg_schema: tuple[str, str],  # noqa: F811
    tmp_path: Path,
) -> None:
    import psycopg

    location = _location(pg_schema)
    assert _demo(location, tmp_path / "a", "--no-check").exit_code == 0
    dsn, schema = pg_schema
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE TABLE "{schema}".keep_me (a int)')
    res = _demo(location, tmp_path / "b", "--no-check", "--force")
    assert res.exit_code == 2 and "keep_me" in res.output and "未清空" in res.output
    with psycopg.connect(dsn, autocommit=True) as conn:
        assert conn.execute(f'SELECT count(*) FROM "{schema}"."GHYD"').fetchone()[0] > 0


def test_the_handover_files_default_to_the_current_folder(
    pg_schema: tuple[str, str],  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    res = CliRunner().invoke(
        root,
        ["demo", "-w", _location(pg_schema), "--parcels", str(MIN_PARCELS), "--no-check", "--json"],
    )
    assert res.exit_code == 0, res.output
    data: dict[str, Any] = json.loads(res.output)
    assert data["out_dir"] == "demo_county_files"
    assert (tmp_path / "demo_county_files" / "manifest.json").exists()
    assert not any(p.name.startswith("postgres") for p in tmp_path.iterdir())
