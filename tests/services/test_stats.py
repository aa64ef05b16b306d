"""用地平衡表 with hand-computable areas."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from click.testing import CliRunner
from pyproj import CRS

from guotu.cli import root
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.errors import ConfigError, NotFoundError
from guotu.services.importing import import_file
from guotu.services.stats import M2_PER_MU, land_use_balance
from guotu.store.geopackage import GeoPackageStore

from ..conftest import X0, Y0, squares

GK39 = CRS.from_epsg(4527)


@pytest.fixture
def ws(tmp_path: Path) -> Path:
    """Four 100 m squares: 0701, 070102, 0901, 0101; a boundary over the west half."""
    path = tmp_path / "ws.gpkg"
    parcels = gpd.GeoDataFrame(
        {"YDYHFLDM": ["0701", "070102", "0901", "0101"]}, geometry=squares(4), crs="EPSG:4527"
    )
    src = tmp_path / "ghyd.gpkg"
    parcels.to_file(src)
    # Boundary: the first square and the west 40 m of the second.
    xzq = gpd.GeoDataFrame(
        {"XZQDM": ["370101", "370102"]},
        geometry=[
            shapely.box(X0, Y0, X0 + 140, Y0 + 100),
            shapely.box(X0 + 140, Y0, X0 + 400, Y0 + 100),
        ],
        crs="EPSG:4527",
    )
    bsrc = tmp_path / "xzq.gpkg"
    xzq.to_file(bsrc)
    with GeoPackageStore.open(path, create=True) as store:
        import_file(store, src, role="planned_land_use", layer="GHYD")
        import_file(store, bsrc, role="admin_boundary", layer="XZQ")
    return path


def _row(table, code):
    return next(r for r in table.rows if r.code == code)


def test_levels_sum_children_and_shares(ws: Path) -> None:
    with GeoPackageStore.open(ws) as store:
        t = land_use_balance(store, "GHYD")
    sq = ellipsoidal_area_m2(squares(4), GK39)
    assert t.total_area_m2 == pytest.approx(sq.sum(), abs=1e-6)
    assert _row(t, "07").area_m2 == pytest.approx(sq[0] + sq[1], abs=1e-6)
    assert _row(t, "07").features == 2
    assert _row(t, "0701").area_m2 == pytest.approx(sq[0] + sq[1], abs=1e-6)
    assert _row(t, "070102").area_m2 == pytest.approx(sq[1], abs=1e-6)
    assert _row(t, "0901").name_zh == "商业用地"
    assert _row(t, "07").planar_area_m2 == pytest.approx(20_000.0, abs=1e-6)
    assert sum(r.share for r in t.rows if r.level == 1) == pytest.approx(1.0)
    assert _row(t, "01").area_mu == pytest.approx(sq[3] / M2_PER_MU)
    assert [r.code for r in t.rows] == sorted(r.code for r in t.rows)


def test_boundary_clips_crossing_features(ws: Path) -> None:
    with GeoPackageStore.open(ws) as store:
        t = land_use_balance(store, "GHYD", boundary_layer="XZQ", where={"XZQDM": "370101"})
    inside_part = ellipsoidal_area_m2([shapely.box(X0 + 100, Y0, X0 + 140, Y0 + 100)], GK39)[0]
    assert _row(t, "070102").area_m2 == pytest.approx(inside_part, abs=1e-6)
    assert _row(t, "070102").planar_area_m2 == pytest.approx(4000.0, abs=1e-6)
    assert {r.code for r in t.rows} == {"07", "0701", "070102"}


def test_cli_json_csv_and_xlsx(ws: Path, tmp_path: Path) -> None:
    csv, xlsx = tmp_path / "t.csv", tmp_path / "t.xlsx"
    res = CliRunner().invoke(
        root,
        [
            "stats",
            "-w",
            str(ws),
            "--layer",
            "GHYD",
            "--json",
            "--csv",
            str(csv),
            "--xlsx",
            str(xlsx),
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert set(data) >= {"rows", "total_area_m2"}
    assert set(data["rows"][0]) >= {"code", "area_m2", "planar_area_m2", "share"}
    frame = pd.read_csv(csv, dtype={"代码": str})
    assert "07" in frame["代码"].tolist()
    assert pd.read_excel(xlsx).shape[0] == len(data["rows"])


def test_cli_human_output_is_chinese_by_default_and_english_on_request(ws: Path) -> None:
    zh = CliRunner().invoke(root, ["stats", "-w", str(ws), "--layer", "GHYD"])
    en = CliRunner().invoke(root, ["stats", "-w", str(ws), "--layer", "GHYD", "--lang", "en"])
    assert "用地平衡表" in zh.output and "合计" in zh.output
    assert "Land-use balance" in en.output and "Total" in en.output


def test_unknown_layer_and_boundary_value_are_input_errors(ws: Path) -> None:
    r1 = CliRunner().invoke(root, ["stats", "-w", str(ws), "--layer", "NOPE"])
    r2 = CliRunner().invoke(
        root,
        ["stats", "-w", str(ws), "--layer", "GHYD", "--boundary", "XZQ", "--where", "XZQDM=999"],
    )
    assert r1.exit_code == 2 and "GHYD" in r1.output  # lists the layers there are
    assert r2.exit_code == 2 and "999" in r2.output


def test_unknown_and_malformed_codes_do_not_swell_real_classes(tmp_path: Path) -> None:
    path = tmp_path / "ws.gpkg"
    src = tmp_path / "g.gpkg"
    gpd.GeoDataFrame(
        {"YDYHFLDM": ["1001", "101", "0999"]}, geometry=squares(3), crs="EPSG:4527"
    ).to_file(src)
    with GeoPackageStore.open(path, create=True) as store:
        import_file(store, src, role="planned_land_use", layer="GHYD")
        t = land_use_balance(store, "GHYD")
    sq = ellipsoidal_area_m2(squares(3), GK39)
    assert _row(t, "10").area_m2 == pytest.approx(sq[0], abs=1e-6)  # only the real 1001
    assert _row(t, "101").level == 1 and _row(t, "101").name_zh == "格式错误的分类代码"
    assert _row(t, "0999").level == 1 and _row(t, "0999").name_zh == "不存在的分类代码"
    assert "09" not in {r.code for r in t.rows}


# -- --where selects boundary features: never ignored, never an empty table ----------------
def test_where_without_a_boundary_is_refused(ws: Path) -> None:
    with GeoPackageStore.open(ws) as store, pytest.raises(ConfigError) as err:
        land_use_balance(store, "GHYD", where={"XZQDM": "370101"})
    # the fix names a layer that has the field
    assert "--boundary XZQ --where XZQDM=370101" in (err.value.fix_zh or "")
    res = CliRunner().invoke(
        root, ["stats", "-w", str(ws), "--layer", "GHYD", "--where", "XZQDM=370101"]
    )
    assert res.exit_code == 2, res.output
    assert "未给出 --boundary" in res.output and "用地平衡表" not in res.output
    assert "合计" not in res.output


def test_where_matching_no_boundary_feature_lists_the_values_there_are(ws: Path) -> None:
    with GeoPackageStore.open(ws) as store, pytest.raises(NotFoundError) as err:
        land_use_balance(store, "GHYD", boundary_layer="XZQ", where={"XZQDM": "370199"})
    assert err.value.field == "XZQDM"
    assert "行政区代码（XZQDM）为“370199”" in (err.value.message_zh or "")
    assert "370101、370102" in (err.value.fix_zh or "")
    res = CliRunner().invoke(
        root,
        ["stats", "-w", str(ws), "--layer", "GHYD", "--boundary", "XZQ", "--where", "XZQDM=370199"],
    )
    assert res.exit_code == 2 and "370101、370102" in res.output and "合计" not in res.output


def test_where_values_listed_are_capped(tmp_path: Path) -> None:
    path, src = tmp_path / "ws.gpkg", tmp_path / "x.gpkg"
    gpd.GeoDataFrame(
        {"XZQMC": [f"镇{i:02d}" for i in range(12)]}, geometry=squares(12), crs="EPSG:4527"
    ).assign(XZQDM=[str(i) for i in range(12)]).to_file(src)
    with GeoPackageStore.open(path, create=True) as store:
        import_file(store, src, role="admin_boundary", layer="XZQ")
        with pytest.raises(NotFoundError) as err:
            land_use_balance(
                store, "XZQ", code_field="XZQDM", boundary_layer="XZQ", where={"XZQMC": "城关"}
            )
    assert "镇00、镇01" in (err.value.fix_zh or "") and "等 12 个" in (err.value.fix_zh or "")
    assert "镇11" not in (err.value.fix_zh or "")
