"""Import edge cases found in review: encodings, identifiers, joins, names, CRS."""

from __future__ import annotations

import zipfile
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
import pytest
import shapely

from guotu.errors import ConfigError, CRSError, LayerError
from guotu.services.importing import import_file
from guotu.store.geopackage import GeoPackageStore

from ..conftest import squares


@pytest.fixture
def store(tmp_path: Path) -> GeoPackageStore:
    with GeoPackageStore.open(tmp_path / "ws.gpkg", create=True) as s:
        yield s


def test_utf8_shapefile_with_a_wide_text_field_and_no_cpg(tmp_path: Path, store) -> None:
    # A 254-wide field puts bytes ≥ 0x80 in the field descriptor: that is not text.
    frame = gpd.GeoDataFrame({"BZ": ["耕地保护区"]}, geometry=squares(1), crs="EPSG:4527")
    path = tmp_path / "wide.shp"
    pyogrio.write_dataframe(frame, path, encoding="UTF-8", layer_options={"RESIZE": "NO"})
    dbf = bytearray(path.with_suffix(".dbf").read_bytes())
    header_len = int.from_bytes(dbf[8:10], "little")
    assert header_len > 64
    path.with_suffix(".cpg").unlink()
    from guotu.io.encodings import shapefile_encoding

    widened = tmp_path / "widened.dbf"
    widened.write_bytes(bytes(dbf[: 32 + 16]) + bytes([254]) + bytes(dbf[32 + 17 :]))
    # the width byte does not make it "not UTF-8"
    assert shapefile_encoding(path, widened, None) == ("UTF-8", "detected")
    import_file(store, path, role="ecological_redline", layer="L")
    assert store.read_layer("L")["BZ"].tolist() == ["耕地保护区"]


def test_gb2312_cpg_reads_characters_outside_gb2312(tmp_path: Path, store) -> None:
    frame = gpd.GeoDataFrame(
        {"XMMC": ["王堃住宅项目", "喆园小区"]}, geometry=squares(2), crs="EPSG:4527"
    )
    path = tmp_path / "p.shp"
    frame.to_file(path, encoding="GB18030")
    path.with_suffix(".cpg").write_text("GB2312")
    import_file(store, path, role="construction_project", layer="JSXM")
    assert store.read_layer("JSXM")["XMMC"].tolist() == ["王堃住宅项目", "喆园小区"]


@pytest.mark.parametrize("cpg", ["936", "ANSI 936", "GBK", "CP936"])
def test_common_cpg_spellings_of_gbk(tmp_path: Path, store, cpg: str) -> None:
    frame = gpd.GeoDataFrame(
        {"DLMC": ["水田"], "DLBM": ["0101"]}, geometry=squares(1), crs="EPSG:4527"
    )
    path = tmp_path / "d.shp"
    frame.to_file(path, encoding="GBK")
    path.with_suffix(".cpg").write_text(cpg)
    import_file(store, path, role="land_survey", layer="DLTB")
    assert store.read_layer("DLTB")["DLMC"].tolist() == ["水田"]


def test_unknown_cpg_is_a_clear_error(tmp_path: Path, store) -> None:
    path = tmp_path / "d.shp"
    gpd.GeoDataFrame({"DLBM": ["0101"]}, geometry=squares(1), crs="EPSG:4527").to_file(path)
    path.with_suffix(".cpg").write_text("KLINGON-8")
    with pytest.raises(LayerError, match="KLINGON-8"):
        import_file(store, path, role="land_survey", layer="DLTB")


def test_long_integer_ids_with_nulls_keep_every_digit(tmp_path: Path, store) -> None:
    path = tmp_path / "ids.gpkg"
    frame = gpd.GeoDataFrame(
        {
            "BSM": pd.array([370102000000123456, None], dtype="Int64"),
            "XZQDM": [370100101000.0, 370100102000.0],
            "DLBM": ["0101"] * 2,
        },
        geometry=squares(2),
        crs="EPSG:4527",
    )
    frame.to_file(path)
    import_file(store, path, role="land_survey", layer="DLTB")
    got = store.read_layer("DLTB")
    assert got["BSM"].iloc[0] == "370102000000123456" and pd.isna(got["BSM"].iloc[1])
    assert got["XZQDM"].tolist() == ["370100101000", "370100102000"]


def test_blank_join_keys_join_nothing(tmp_path: Path, store) -> None:
    layer = tmp_path / "dk.geojson"
    gpd.GeoDataFrame(
        {"DKBH": ["A1", None], "YDYHFLDM": ["0701", "0701"]}, geometry=squares(2), crs="EPSG:4527"
    ).to_file(layer)
    table = tmp_path / "t.csv"
    pd.DataFrame({"DKBH": ["A1", "", "1002.0"], "RJL": [1.5, 2.0, 3.0]}).to_csv(table, index=False)
    r = import_file(
        store, layer, role="detailed_parcel", layer="XXGHDK", table=table, table_key="DKBH"
    )
    got = store.read_layer("XXGHDK")
    assert r.table_rows_joined == 1
    assert got["RJL"].tolist()[0] == 1.5 and pd.isna(got["RJL"].tolist()[1])


@pytest.mark.parametrize("column", ["fid", "FID", "geom", "guotu_hash"])
def test_reserved_column_names_are_input_errors(tmp_path: Path, store, column: str) -> None:
    path = tmp_path / "r.geojson"
    gpd.GeoDataFrame(
        {column: ["x"], "YDYHFLDM": ["0701"]}, geometry=squares(1), crs="EPSG:4527"
    ).to_file(path)
    with pytest.raises(LayerError, match="reserves"):
        import_file(store, path, role="planned_land_use", layer="GHYD")
    assert store.crs is None  # a failed first import fixes nothing


def test_map_onto_an_existing_column_is_refused(tmp_path: Path, store) -> None:
    path = tmp_path / "m.geojson"
    gpd.GeoDataFrame({"面积": [1.0], "MJ": [2.0]}, geometry=squares(1), crs="EPSG:4527").to_file(
        path
    )
    with pytest.raises(ConfigError, match="already has a column MJ"):
        import_file(store, path, role="ecological_redline", field_map={"面积": "MJ"})


def test_layer_names_differing_only_in_case_are_one_layer(tmp_path: Path, store) -> None:
    path = tmp_path / "p.gpkg"
    gpd.GeoDataFrame({"YDYHFLDM": ["0701"]}, geometry=squares(1), crs="EPSG:4527").to_file(path)
    import_file(store, path, role="planned_land_use", layer="Parcels")
    with pytest.raises(LayerError, match="already has a layer 'Parcels'"):
        import_file(store, path, role="planned_land_use", layer="parcels")
    r = import_file(store, path, role="planned_land_use", layer="parcels", replace=True)
    assert r.layer.name == "Parcels"


def test_crs_without_authority_code_works(tmp_path: Path, store) -> None:
    local = "+proj=tmerc +lon_0=117.5 +k=1 +x_0=500000 +y_0=0 +ellps=GRS80 +units=m +no_defs"
    path = tmp_path / "local.geojson"
    gpd.GeoDataFrame(
        {"YDYHFLDM": ["0701"]}, geometry=[shapely.box(117.4, 36.6, 117.41, 36.61)], crs="EPSG:4490"
    ).to_file(path)
    import_file(store, path, role="planned_land_use", layer="GHYD", workspace_crs=local)
    import_file(store, path, role="planned_land_use", layer="GHYD2")
    assert len(store.read_layer("GHYD2")) == 1
    with pytest.raises(CRSError, match="already uses"):
        import_file(store, path, role="planned_land_use", layer="GHYD3", workspace_crs="EPSG:4527")


def test_zipped_gbk_shapefile_without_cpg(tmp_path: Path, store) -> None:
    shp = tmp_path / "a.shp"
    gpd.GeoDataFrame({"XMMC": ["某某项目"]}, geometry=squares(1), crs="EPSG:4527").to_file(
        shp, encoding="GBK"
    )
    zpath = tmp_path / "a.zip"
    with zipfile.ZipFile(zpath, "w") as z:
        for suffix in (".shp", ".shx", ".dbf", ".prj"):
            z.write(shp.with_suffix(suffix), "a" + suffix)
    import_file(store, zpath, role="construction_project", layer="JSXM")
    assert store.read_layer("JSXM")["XMMC"].tolist() == ["某某项目"]


def test_first_layer_without_geometry_asks_for_the_workspace_crs(tmp_path: Path, store) -> None:
    path = tmp_path / "empty.geojson"
    gpd.GeoDataFrame({"YDYHFLDM": ["0701"]}, geometry=[None], crs="EPSG:4527").to_file(path)
    with pytest.raises(LayerError, match="--allow-empty-geometry"):
        import_file(store, path, role="planned_land_use")
    with pytest.raises(CRSError, match="--workspace-crs"):
        import_file(store, path, role="planned_land_use", allow_empty_geometry=True)
