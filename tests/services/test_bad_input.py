"""Bad input: one clear message naming file, layer, feature and field, exit code 2, and the
workspace left exactly as it was."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from guotu.cli import root

from ..conftest import file_digest, squares


@pytest.fixture
def workspace(tmp_path: Path, parcels_gdf) -> Path:
    """A workspace that already holds one layer, so 'untouched' means something."""
    src = tmp_path / "seed.gpkg"
    parcels_gdf.to_file(src)
    ws = tmp_path / "ws.gpkg"
    res = CliRunner().invoke(
        root, ["import", str(src), "--role", "规划用地", "-w", str(ws), "--layer", "GHYD"]
    )
    assert res.exit_code == 0, res.output
    return ws


def _frame(**columns) -> gpd.GeoDataFrame:
    n = len(next(iter(columns.values())))
    return gpd.GeoDataFrame(columns, geometry=squares(n), crs="EPSG:4527")


def _truncated(d: Path) -> tuple[Path, list[str]]:
    p = d / "cut.gpkg"
    _frame(YDYHFLDM=["0701"] * 50).to_file(p)
    p.write_bytes(p.read_bytes()[:3000])
    return p, ["--role", "规划用地"]


def _corrupt_geojson(d: Path) -> tuple[Path, list[str]]:
    p = d / "bad.geojson"
    p.write_text('{"type": "FeatureCollection", "features": [{"type": "Feat', encoding="utf-8")
    return p, ["--role", "规划用地"]


def _missing_dbf(d: Path) -> tuple[Path, list[str]]:
    p = d / "nodbf.shp"
    _frame(YDYHFLDM=["0701", "0901"]).to_file(p)
    p.with_suffix(".dbf").unlink()
    return p, ["--role", "规划用地"]


def _missing_prj(d: Path) -> tuple[Path, list[str]]:
    p = d / "noprj.shp"
    _frame(YDYHFLDM=["0701", "0901"]).to_file(p)
    p.with_suffix(".prj").unlink()
    return p, ["--role", "规划用地"]


def _wrong_crs(d: Path) -> tuple[Path, list[str]]:
    # GK coordinates with zone prefix, declared as the no-prefix CRS: absurd positions.
    p = d / "wrongcrs.gpkg"
    _frame(YDYHFLDM=["0701", "0901"]).set_crs("EPSG:4548", allow_override=True).to_file(p)
    return p, ["--role", "规划用地"]


def _absurd_coordinates(d: Path) -> tuple[Path, list[str]]:
    p = d / "absurd.geojson"
    gpd.GeoDataFrame(
        {"YDYHFLDM": ["0701"]}, geometry=[shapely.box(500, 500, 501, 501)], crs="EPSG:4490"
    ).to_file(p)
    return p, ["--role", "规划用地"]


def _mixed_geometry(d: Path) -> tuple[Path, list[str]]:
    p = d / "mixed.geojson"
    gpd.GeoDataFrame(
        {"YDYHFLDM": ["0701", "0901"]},
        geometry=[squares(1)[0], shapely.Point(39_540_050, 4_052_050)],
        crs="EPSG:4527",
    ).to_file(p)
    return p, ["--role", "规划用地"]


def _not_a_number(d: Path) -> tuple[Path, list[str]]:
    p = d / "rjl.geojson"
    _frame(DKBH=["A1", "A2"], YDYHFLDM=["0701", "0701"], 容积率=["2.0", "两点五"]).to_file(p)
    return p, ["--role", "详细规划地块"]


def _huge_value(d: Path) -> tuple[Path, list[str]]:
    p = d / "huge.gpkg"
    _frame(DKBH=["A1", "A2"], YDYHFLDM=["0701", "0701"], RJL=[2.0, 1e300]).to_file(p)
    return p, ["--role", "详细规划地块"]


def _bad_date(d: Path) -> tuple[Path, list[str]]:
    p = d / "date.geojson"
    _frame(XMMC=["学校"], PZRQ=["去年"]).to_file(p)
    return p, ["--role", "建设项目"]


def _wrong_encoding(d: Path) -> tuple[Path, list[str]]:
    # A .cpg that says UTF-8 on a GBK file: refused, not mojibake.
    p = d / "enc.shp"
    _frame(DLBM=["0101"], DLMC=["水田"]).to_file(p, encoding="GBK")
    p.with_suffix(".cpg").write_text("UTF-8")
    return p, ["--role", "现状地类图斑"]


def _unknown_role(d: Path) -> tuple[Path, list[str]]:
    p = d / "ok.gpkg"
    _frame(YDYHFLDM=["0701"]).to_file(p)
    return p, ["--role", "规划道路"]


def _unknown_field(d: Path) -> tuple[Path, list[str]]:
    p = d / "ok2.gpkg"
    _frame(YDYHFLDM=["0701"]).to_file(p)
    return p, ["--role", "规划用地", "--map", "规划代码=YDYHFLDM"]


def _unknown_standard_field(d: Path) -> tuple[Path, list[str]]:
    p = d / "ok3.gpkg"
    _frame(YDYHFLDM=["0701"]).to_file(p)
    return p, ["--role", "规划用地", "--map", "YDYHFLDM=GHDM"]


def _missing_file(d: Path) -> tuple[Path, list[str]]:
    return d / "nowhere.shp", ["--role", "规划用地"]


def _existing_layer(d: Path) -> tuple[Path, list[str]]:
    p = d / "again.gpkg"
    _frame(YDYHFLDM=["0701"]).to_file(p)
    return p, ["--role", "规划用地", "--layer", "GHYD"]


CASES: list[tuple[str, Callable[[Path], tuple[Path, list[str]]], list[str]]] = [
    # (case, builder, words the message must contain)
    ("truncated file", _truncated, ["cut.gpkg"]),
    ("corrupt GeoJSON", _corrupt_geojson, ["bad.geojson"]),
    ("Shapefile without .dbf", _missing_dbf, ["nodbf", ".dbf"]),
    ("Shapefile without .prj", _missing_prj, ["noprj.shp", "--crs EPSG:4527"]),
    ("wrong CRS declared", _wrong_crs, ["wrongcrs.gpkg", "Feature #1", "EPSG:4527"]),
    ("absurd coordinates", _absurd_coordinates, ["absurd.geojson", "Feature #1"]),
    ("mixed geometry types", _mixed_geometry, ["mixed.geojson", "Feature #2", "Point"]),
    ("text in a number field", _not_a_number, ["rjl.geojson", "DKBH=A2", "RJL", "两点五"]),
    ("huge value", _huge_value, ["huge.gpkg", "DKBH=A2", "RJL"]),
    ("not a date", _bad_date, ["date.geojson", "PZRQ", "去年"]),
    ("wrong encoding in .cpg", _wrong_encoding, ["enc.shp", ".cpg"]),
    ("unknown role", _unknown_role, ["规划道路", "planned_land_use"]),
    ("--map of a missing column", _unknown_field, ["规划代码"]),
    ("--map to a non-standard field", _unknown_standard_field, ["GHDM"]),
    ("missing file", _missing_file, ["nowhere.shp"]),
    ("layer exists without --replace", _existing_layer, ["GHYD", "--replace"]),
]


@pytest.mark.parametrize(("case", "build", "words"), CASES, ids=[c[0] for c in CASES])
def test_bad_input_exits_2_with_a_clear_message_and_leaves_workspace_untouched(
    tmp_path: Path, workspace: Path, case: str, build, words: list[str]
) -> None:
    before = file_digest(workspace)
    path, args = build(tmp_path)
    res = CliRunner().invoke(
        root, ["--lang", "en", "import", str(path), "-w", str(workspace), *args]
    )
    assert res.exit_code == 2, (case, res.output)
    assert "Traceback" not in res.output
    text = res.output
    for w in words:
        assert w in text, (case, w, text)
    assert "Fix:" in text
    assert file_digest(workspace) == before


def test_failure_inside_the_write_transaction_leaves_workspace_as_before(
    tmp_path: Path, workspace: Path, monkeypatch, parcels_gdf
) -> None:
    from guotu.services.importing import import_file
    from guotu.store.geopackage import GeoPackageStore

    src = tmp_path / "more.gpkg"
    parcels_gdf.to_file(src)
    before = file_digest(workspace)

    def boom(*_a, **_k) -> None:
        raise RuntimeError("disk gone")

    monkeypatch.setattr(GeoPackageStore, "_create_rtree", boom)
    with GeoPackageStore.open(workspace) as store, pytest.raises(RuntimeError):
        import_file(store, src, role="规划用地", layer="GHYD2")
    with GeoPackageStore.open(workspace) as store:
        assert [i.name for i in store.layers()] == ["GHYD"]
    assert file_digest(workspace) == before
