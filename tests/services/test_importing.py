"""Importing the files bureaus send: formats, encodings, field mapping, CRS, joins."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from pyproj import CRS, Transformer

from guotu.services.importing import import_file, normalise_code
from guotu.store.geopackage import GeoPackageStore

from ..conftest import X0, Y0, gdal_read, squares


@pytest.fixture
def store(tmp_path: Path) -> GeoPackageStore:
    with GeoPackageStore.open(tmp_path / "ws.gpkg", create=True) as s:
        yield s


def _shapefile(
    tmp_path: Path, frame: gpd.GeoDataFrame, name: str, encoding: str, keep_cpg: bool
) -> Path:
    path = tmp_path / f"{name}.shp"
    frame.to_file(path, encoding=encoding)
    if not keep_cpg:
        path.with_suffix(".cpg").unlink(missing_ok=True)
    return path


@pytest.mark.parametrize(
    ("encoding", "keep_cpg"),
    [
        ("GBK", False),  # ArcGIS-era 三调 file: GBK, no .cpg → detected
        ("GBK", True),  # .cpg says GBK
        ("UTF-8", True),
        ("UTF-8", False),
    ],
)
def test_shapefile_chinese_text_reads_back_without_mojibake(
    tmp_path: Path, store, encoding, keep_cpg
) -> None:
    frame = gpd.GeoDataFrame(
        {
            "DLBM": ["0101", "0301"],
            "DLMC": ["水田", "乔木林地"],
            "QSDWMC": ["东关村民委员会", "西山林场"],
        },
        geometry=squares(2),
        crs="EPSG:4527",
    )
    path = _shapefile(tmp_path, frame, "DLTB", encoding, keep_cpg)
    result = import_file(store, path, role="现状地类图斑", layer="DLTB")
    back = store.read_layer("DLTB")
    assert back["DLMC"].tolist() == ["水田", "乔木林地"]
    assert back["QSDWMC"].tolist() == ["东关村民委员会", "西山林场"]
    assert result.source.encoding.upper().replace("GB18030", "GBK") in {"GBK", "UTF-8"}


def test_geojson_lonlat_is_reprojected_with_easting_first(tmp_path: Path, store) -> None:
    # A parcel given in lon/lat must land at the right GK easting/northing (not swapped).
    to_ll = Transformer.from_crs(4527, 4490, always_xy=True)
    sq = squares(1)[0]
    lon, lat = to_ll.transform(*zip(*sq.exterior.coords, strict=True))
    path = tmp_path / "p.geojson"
    gpd.GeoDataFrame(
        {"用地用海代码": ["0701"]},
        geometry=[shapely.Polygon(zip(lon, lat, strict=True))],
        crs="EPSG:4490",
    ).to_file(path)
    result = import_file(store, path, role="planned_land_use", layer="GHYD")
    assert result.workspace_crs == "EPSG:4527" and result.workspace_crs_chosen
    got = store.read_layer("GHYD").geometry.iloc[0]
    minx, miny, maxx, maxy = got.bounds
    assert (minx, miny) == pytest.approx((X0, Y0), abs=1e-4)
    assert (maxx, maxy) == pytest.approx((X0 + 100, Y0 + 100), abs=1e-4)


def test_field_names_are_detected_and_overridable_and_saved(
    tmp_path: Path, store, parcels_gdf
) -> None:
    path = tmp_path / "ghyd.gpkg"
    parcels_gdf.rename(columns={"用地用海代码": "规划代码"}).to_file(path, layer="GHYD")
    with pytest.raises(Exception, match="YDYHFLDM"):
        import_file(store, path, role="planned_land_use", layer="GHYD")
    r = import_file(
        store, path, role="planned_land_use", layer="GHYD", field_map={"规划代码": "YDYHFLDM"}
    )
    assert r.field_map == {"规划代码": "YDYHFLDM", "用地用海名称": "YDYHFLMC"}
    assert store.read_layer("GHYD")["YDYHFLDM"].tolist() == ["0701", "1401"]
    assert "备注" in store.layer("GHYD").columns  # unmapped columns are kept
    # Re-importing the same layer reuses the saved override.
    r2 = import_file(store, path, role="planned_land_use", layer="GHYD", replace=True)
    assert r2.field_map["规划代码"] == "YDYHFLDM"


def test_multi_layer_source_needs_a_source_layer(tmp_path: Path, store, parcels_gdf) -> None:
    path = tmp_path / "三区三线.gpkg"
    parcels_gdf.to_file(path, layer="STBHHX")
    parcels_gdf.to_file(path, layer="YJJBNT")
    with pytest.raises(Exception, match="--source-layer"):
        import_file(store, path, role="ecological_redline", layer="红线")
    r = import_file(store, path, role="ecological_redline", layer="STBHHX")  # name matches
    assert r.source.layer == "STBHHX"
    r = import_file(store, path, role="永久基本农田", source_layer="YJJBNT")
    assert r.layer.name == "permanent_farmland" and r.layer.features == 2


def test_filegdb_in_gk_without_zone_prefix(tmp_path: Path, store, parcels_gdf) -> None:
    path = tmp_path / "规划用地.gdb"
    plain = parcels_gdf.copy()
    plain.geometry = plain.geometry.translate(xoff=-39_000_000)
    plain = plain.set_crs("EPSG:4548", allow_override=True)
    pyogrio.write_dataframe(plain, path, layer="GHYD", driver="OpenFileGDB")
    import_file(store, path, role="planned_land_use", layer="GHYD")
    got = store.read_layer("GHYD")
    assert got.crs.to_epsg() == 4527
    assert got.geometry.iloc[0].bounds[0] == pytest.approx(X0, abs=1e-6)


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_attribute_table_is_joined_by_key(tmp_path: Path, store, suffix: str) -> None:
    layer = tmp_path / "dk.geojson"
    gpd.GeoDataFrame(
        {"地块编号": ["A-01", "A-02", "A-03"], "用地性质": ["0701", "0901", "1401"]},
        geometry=squares(3),
        crs="EPSG:4527",
    ).to_file(layer)
    table = pd.DataFrame(
        {
            "地块编号": ["A-02", "A-01"],
            "容积率": [2.5, 1.8],
            "绿地率": [30, 35],
            "建筑限高": ["60", "24"],
        }
    )
    tpath = tmp_path / f"指标{suffix}"
    if suffix == ".csv":
        table.to_csv(tpath, index=False, encoding="gbk")
    else:
        table.to_excel(tpath, index=False)
    r = import_file(
        store, layer, role="detailed_parcel", layer="XXGHDK", table=tpath, table_key="DKBH"
    )
    assert r.table_rows_joined == 2
    assert any("1 of 3" in w for w in r.warnings)
    got = store.read_layer("XXGHDK").set_index("DKBH")
    assert got.loc["A-01", "RJL"] == 1.8 and got.loc["A-02", "JZXG"] == 60.0
    assert np.isnan(got.loc["A-03", "RJL"])


def test_workspace_crs_follows_the_data_longitude(tmp_path: Path) -> None:
    # Data around 120.1°E → CGCS2000 3° GK zone 40 (EPSG:4528).
    frame = gpd.GeoDataFrame(
        {"XZQDM": ["330100"]}, geometry=[shapely.box(120.1, 30.2, 120.11, 30.21)], crs="EPSG:4490"
    )
    path = tmp_path / "xzq.geojson"
    frame.to_file(path)
    with GeoPackageStore.open(tmp_path / "ws.gpkg", create=True) as s:
        assert import_file(s, path, role="admin_boundary").workspace_crs == "EPSG:4528"


def test_data_outside_china_keeps_working_with_utm(tmp_path: Path) -> None:
    frame = gpd.GeoDataFrame(
        {"XZQDM": ["75056"]}, geometry=[shapely.box(2.34, 48.85, 2.35, 48.86)], crs="EPSG:4326"
    )
    path = tmp_path / "paris.geojson"
    frame.to_file(path)
    with GeoPackageStore.open(tmp_path / "ws.gpkg", create=True) as s:
        r = import_file(s, path, role="admin_boundary")
        assert r.workspace_crs == "EPSG:32631"
        assert s.read_layer("admin_boundary").crs == CRS.from_epsg(32631)


def test_workspace_written_is_a_geopackage_gdal_reads_with_spatial_index(
    tmp_path: Path, store, parcels_gdf
) -> None:
    path = tmp_path / "p.gpkg"
    parcels_gdf.to_file(path)
    import_file(store, path, role="planned_land_use", layer="GHYD")
    info = gdal_read(store.path, "GHYD", bbox=(X0 + 150, Y0, X0 + 160, Y0 + 10), column="YDYHFLDM")
    assert info["features"] == 2 and info["geometry_type"] == "MultiPolygon"
    assert CRS.from_user_input(info["crs"]).to_epsg() == 4527
    assert info["values"] == ["1401"]  # bbox query through GDAL uses our R-tree


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (101.0, "0101"),
        (701, "0701"),
        ("0701 ", "0701"),
        (None, None),
        (float("nan"), None),
        ("1104A", "1104A"),
        (70101, "070101"),
    ],
)
def test_normalise_code(value, expected) -> None:
    assert normalise_code(value) == expected


def test_import_json_output_of_cli(tmp_path: Path, parcels_gdf) -> None:
    from click.testing import CliRunner

    from guotu.cli import root

    path = tmp_path / "p.gpkg"
    parcels_gdf.to_file(path)
    res = CliRunner().invoke(
        root,
        [
            "import",
            str(path),
            "--role",
            "规划用地",
            "-w",
            str(tmp_path / "w.gpkg"),
            "--layer",
            "GHYD",
            "--json",
        ],
    )
    assert res.exit_code == 0, res.output
    data = json.loads(res.output)
    assert data["layer"]["name"] == "GHYD" and data["layer"]["role"] == "planned_land_use"
