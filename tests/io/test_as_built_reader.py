"""Reading an as-built survey (``guotu.io.as_built``) from small files written under tmp_path:
Chinese field names and pinyin codes, the green layer and the surveyed green total, and every
refusal naming the file, layer, feature and field (exit code 2)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS

from guotu.domain.workflow.as_built import PermitConditions, verify_as_built
from guotu.errors import CRSError, GeometryError, InputError, LayerError
from guotu.io.as_built import read_as_built

from ..conftest import X0, Y0

WORKSPACE = "EPSG:4527"


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def write(
    path: Path,
    columns: dict[str, list[Any]],
    geoms: list[Any] | None = None,
    *,
    crs: str = WORKSPACE,
    layer: str | None = None,
) -> Path:
    """A layer of buildings (by default 1号楼 20 × 40 m and 2号楼 20 × 30 m) in ``path``."""
    geoms = geoms if geoms is not None else [box(10, 10, 30, 50), box(60, 20, 80, 50)]
    frame = gpd.GeoDataFrame(columns, geometry=geoms, crs=crs)
    frame.to_file(path, layer=layer) if layer else frame.to_file(path)
    return path


CHINESE = {
    "编号": ["1号楼", "2号楼"],
    "层数": [12, 11],
    "高度": [39.6, 36.3],
    "建筑面积": [9600.0, 6600.0],
}
PINYIN = {"BH": ["1号楼", "2号楼"], "cs": [12, 11], "JZGD": [39.6, 36.3], "JZMJ": [9600.0, 6600.0]}


def refusal(exc: InputError) -> str:
    """The Chinese line the user reads; and every refusal is bad input (exit code 2)."""
    assert exc.exit_code == 2
    return exc.render()


# --- read ------------------------------------------------------------------------------------


def test_a_geojson_with_chinese_field_names(tmp_path: Path) -> None:
    path = write(tmp_path / "竣工测量.geojson", CHINESE)
    survey = read_as_built(path, crs=WORKSPACE, surveyor="某测绘院")
    assert [(b.id, b.floors, b.height_m, b.floor_area_m2, b.fid) for b in survey.buildings] == [
        ("1号楼", 12, 39.6, 9600.0, 1),
        ("2号楼", 11, 36.3, 6600.0, 2),
    ]
    assert survey.buildings[0].footprint.area == pytest.approx(800.0)
    assert survey.crs.equals(CRS.from_epsg(4527)) and survey.surveyor == "某测绘院"
    assert survey.source == str(path) and survey.layer == "竣工测量"
    assert survey.green_area_m2 is None and survey.green_areas == ()


def test_a_geopackage_with_pinyin_codes_and_a_green_layer(tmp_path: Path) -> None:
    path = write(tmp_path / "jgcl.gpkg", PINYIN, layer="JZ")
    # A layer 绿地 beside the buildings: 0–100 × 60–80 = 2,000 m².
    write(path, {"MC": ["北侧绿地"]}, [box(0, 60, 100, 80)], layer="绿地")
    survey = read_as_built(path, crs=WORKSPACE)
    assert [b.id for b in survey.buildings] == ["1号楼", "2号楼"] and survey.layer == "JZ"
    assert [g.area for g in survey.green_areas] == [pytest.approx(2000.0)]
    # Verified on the 100 × 80 m site: 2,000 / 8,000 = 25 % green.
    permit = PermitConditions(box(0, 0, 100, 80), CRS.from_epsg(4527), min_green_pct=35.0)
    green = verify_as_built(permit, survey).items[0]
    assert green.measured == pytest.approx(25.0) and not green.passed


def test_a_green_layer_in_another_file(tmp_path: Path) -> None:
    path = write(tmp_path / "jz.geojson", PINYIN)
    greens = write(
        tmp_path / "ld.geojson", {"MC": ["a", "b"]}, [box(0, 60, 50, 80), box(50, 60, 100, 80)]
    )
    survey = read_as_built(path, crs=WORKSPACE, green_path=greens)
    assert sum(g.area for g in survey.green_areas) == pytest.approx(2000.0)


def test_an_empty_green_layer_means_no_green(tmp_path: Path) -> None:
    path = write(tmp_path / "jgcl.gpkg", PINYIN, layer="JZ")
    write(path, {"MC": []}, [], layer="LD")
    assert read_as_built(path, crs=WORKSPACE).green_area_m2 == 0.0


def test_the_surveyed_green_total_of_an_ldmj_column(tmp_path: Path) -> None:
    path = write(tmp_path / "jz.geojson", {**PINYIN, "LDMJ": [3000.0, None]})
    assert read_as_built(path, crs=WORKSPACE).green_area_m2 == 3000.0


def test_the_floor_area_counted_toward_the_far_is_read_first(tmp_path: Path) -> None:
    path = write(tmp_path / "jz.geojson", {**CHINESE, "计容建筑面积": [9200.0, 6400.0]})
    assert [b.floor_area_m2 for b in read_as_built(path, crs=WORKSPACE).buildings] == [
        9200.0,
        6400.0,
    ]


def test_numbers_written_as_text_and_a_missing_id_column(tmp_path: Path) -> None:
    columns = {"CS": ["12", "11"], "GD": ["39.6", " 36.3 "], "JZMJ": ["9600", "6600"]}
    survey = read_as_built(write(tmp_path / "jz.geojson", columns), crs=WORKSPACE)
    assert [(b.id, b.floors, b.height_m) for b in survey.buildings] == [
        ("#1", 12, 39.6),
        ("#2", 11, 36.3),
    ]


def test_a_shapefile_with_its_prj(tmp_path: Path) -> None:
    path = write(tmp_path / "jz.shp", PINYIN)
    assert len(read_as_built(path, crs=4527).buildings) == 2


# --- refused: CRS ----------------------------------------------------------------------------


def test_a_geographic_crs_is_refused(tmp_path: Path) -> None:
    lonlat = [
        shapely.box(117.4, 36.6, 117.4002, 36.6004),
        shapely.box(117.5, 36.6, 117.5002, 36.6003),
    ]
    path = write(tmp_path / "jz.geojson", PINYIN, lonlat, crs="EPSG:4490")
    with pytest.raises(CRSError) as err:
        read_as_built(path, crs=WORKSPACE)
    text = refusal(err.value)
    assert str(path) in text and "以度为单位" in text and "Gauss-Kruger zone 39" in text
    assert err.value.layer == "jz"


def test_another_projected_crs_is_refused_not_reprojected(tmp_path: Path) -> None:
    path = write(tmp_path / "jz.geojson", PINYIN, crs="EPSG:4528")
    with pytest.raises(CRSError) as err:
        read_as_built(path, crs=WORKSPACE)
    text = refusal(err.value)
    assert "不是工作空间坐标系" in text and "zone 40" in text and "zone 39" in text


# --- refused: fields -------------------------------------------------------------------------


def test_a_missing_floors_field_is_refused_naming_the_names_it_takes(tmp_path: Path) -> None:
    columns = {k: v for k, v in PINYIN.items() if k != "cs"}
    path = write(tmp_path / "jz.geojson", columns)
    with pytest.raises(LayerError) as err:
        read_as_built(path, crs=WORKSPACE)
    assert err.value.field == "层数" and err.value.file == str(path)
    text = refusal(err.value)
    assert (
        "缺少层数字段" in text
        and "层数、建筑层数、CS" in text
        and "现有字段：BH、JZGD、JZMJ" in text
    )


@pytest.mark.parametrize(
    ("column", "value", "said"),
    [
        ("JZGD", None, "为空"),  # blank
        ("JZMJ", "约6600", "不是数值"),  # text
        ("cs", 11.5, "不是整数"),  # half a floor
        ("JZGD", 0.0, "必须大于 0"),  # not positive
    ],
)
def test_a_bad_value_is_refused_naming_feature_and_field(
    tmp_path: Path, column: str, value: Any, said: str
) -> None:
    columns = {k: list(v) for k, v in PINYIN.items()}
    if column == "JZMJ":
        columns[column] = ["9600", value]
    else:
        columns[column][1] = value
    path = write(tmp_path / "jz.geojson", columns)
    with pytest.raises(LayerError) as err:
        read_as_built(path, crs=WORKSPACE)
    assert (err.value.feature, err.value.field, err.value.layer) == (2, column, "jz")
    text = refusal(err.value)
    assert f"要素 #2 (BH=2号楼) 的字段 {column}" in text and said in text


def test_two_columns_for_the_height_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "jz.geojson", {**PINYIN, "GD": [39.6, 36.3]})
    with pytest.raises(LayerError) as err:
        read_as_built(path, crs=WORKSPACE)
    assert "都表示高度" in refusal(err.value)


def test_two_buildings_with_one_id_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "jz.geojson", {**PINYIN, "BH": ["1号楼", "1号楼"]})
    with pytest.raises(LayerError) as err:
        read_as_built(path, crs=WORKSPACE)
    assert (err.value.feature, err.value.field) == (2, "BH")
    assert "要素 #1 与 #2 的编号（字段 BH）都是 '1号楼'" in refusal(err.value)


def test_green_totals_that_differ_are_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "jz.geojson", {**PINYIN, "LDMJ": [3000.0, 2900.0]})
    with pytest.raises(LayerError) as err:
        read_as_built(path, crs=WORKSPACE)
    assert (err.value.feature, err.value.field) == (2, "LDMJ")


# --- refused: geometry and layers ------------------------------------------------------------


@pytest.mark.parametrize(
    ("geometry", "said"),
    [
        (shapely.Point(X0 + 70, Y0 + 30), "的几何为 Point"),
        (
            shapely.Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)]),
            "的面无效：Self-intersection",
        ),
        (None, "没有几何"),
    ],
)
def test_a_footprint_that_is_not_a_valid_polygon_is_refused(
    tmp_path: Path, geometry: Any, said: str
) -> None:
    path = write(tmp_path / "jz.geojson", PINYIN, [box(10, 10, 30, 50), geometry])
    with pytest.raises(GeometryError) as err:
        read_as_built(path, crs=WORKSPACE)
    assert err.value.feature == 2 and err.value.file == str(path)
    assert f"要素 #2 (BH=2号楼){said}" in refusal(err.value)


def test_a_file_with_two_candidate_building_layers_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "jgcl.gpkg", PINYIN, layer="JZ")
    write(path, PINYIN, layer="FW")
    with pytest.raises(LayerError) as err:
        read_as_built(path, crs=WORKSPACE)
    assert "请指定建筑图层（现有图层：JZ、FW）" in refusal(err.value)
    assert [b.id for b in read_as_built(path, crs=WORKSPACE, layer="FW").buildings] == [
        "1号楼",
        "2号楼",
    ]


def test_a_named_green_layer_that_is_not_there_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "jgcl.gpkg", PINYIN, layer="JZ")
    with pytest.raises(LayerError) as err:
        read_as_built(path, crs=WORKSPACE, green_layer="绿化")
    assert err.value.layer == "绿化" and "没有图层 '绿化'" in refusal(err.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LayerError) as err:
        read_as_built(tmp_path / "nowhere.geojson", crs=WORKSPACE)
    assert "不存在" in refusal(err.value)
