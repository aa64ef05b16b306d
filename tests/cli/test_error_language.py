"""Error messages: Chinese by default, English with ``--lang en``; exit code 2 either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
from click.testing import CliRunner

from guotu.cli import root
from guotu.errors import GuotuError, LayerError, StoreError

from ..conftest import squares


def _import(tmp_path: Path, path: Path | str, role: str, *extra: str) -> tuple[int, str]:
    res = CliRunner().invoke(
        root, ["import", str(path), "--role", role, "-w", str(tmp_path / "W.gpkg"), *extra]
    )
    assert "Traceback" not in res.output
    return res.exit_code, res.output


def test_missing_file_is_reported_in_chinese_by_default(tmp_path: Path) -> None:
    code, out = _import(tmp_path, tmp_path / "nowhere.shp", "规划用地")
    assert code == 2
    assert out.startswith("错误：")
    assert "nowhere.shp" in out and "不存在" in out and "解决办法" in out
    assert "Fix:" not in out and "does not exist" not in out


def test_missing_file_is_reported_in_english_on_request(tmp_path: Path) -> None:
    code, out = _import(tmp_path, tmp_path / "nowhere.shp", "规划用地", "--lang", "en")
    assert code == 2
    assert out.startswith("Error: ")
    assert "does not exist" in out and "Fix:" in out
    assert "解决办法" not in out


def test_shapefile_without_prj_names_the_file_and_suggests_a_crs(tmp_path: Path) -> None:
    shp = tmp_path / "noprj.shp"
    gpd.GeoDataFrame({"YDYHFLDM": ["0701", "0901"]}, geometry=squares(2), crs="EPSG:4527").to_file(
        shp
    )
    shp.with_suffix(".prj").unlink()
    code, out = _import(tmp_path, shp, "规划用地")
    assert code == 2
    assert "noprj.shp" in out and "坐标参考系" in out
    assert "--crs EPSG:4527" in out and "解决办法" in out


def test_text_in_a_number_field_names_feature_and_field_in_chinese(tmp_path: Path) -> None:
    src = tmp_path / "rjl.geojson"
    gpd.GeoDataFrame(
        {"DKBH": ["A1", "A2"], "YDYHFLDM": ["0701", "0701"], "容积率": ["2.0", "两点五"]},
        geometry=squares(2),
        crs="EPSG:4527",
    ).to_file(src)
    code, out = _import(tmp_path, src, "详细规划地块")
    assert code == 2
    assert "要素 #2" in out and "DKBH=A2" in out
    assert "字段 RJL" in out and "两点五" in out and "不是数值" in out
    assert "rjl.geojson" in out and "解决办法" in out


# -- render() -------------------------------------------------------------------------------


def _error(**kw: Any) -> GuotuError:
    base: dict[str, Any] = {
        "file": "a.shp",
        "layer": "b",
        "feature": 3,
        "field": "RJL",
        "fix": "Correct it.",
        "message_zh": "值不对。",
        "fix_zh": "请更正。",
    }
    base.update(kw)
    return LayerError("The value is wrong.", **base)


def test_render_zh_gives_chinese_location_and_fix() -> None:
    assert _error().render() == "值不对（文件 a.shp，图层 b，要素 3，字段 RJL）。解决办法：请更正。"


def test_render_en_equals_str() -> None:
    err = _error()
    expected = "The value is wrong. (file a.shp, layer b, feature 3, field RJL) Fix: Correct it."
    assert err.render("en") == str(err) == expected


@pytest.mark.parametrize(
    ("message_zh", "expected"),
    [
        # parts the sentence already names are left out
        (
            "文件 a.shp 中要素 3 的字段 RJL 不对。",
            "文件 a.shp 中要素 3 的字段 RJL 不对（图层 b）。解决办法：请更正。",
        ),
        (
            "a.shp 图层 b 要素 3 字段 RJL 不对。",
            "a.shp 图层 b 要素 3 字段 RJL 不对。解决办法：请更正。",
        ),
        # a sentence without a final 。 gets the location at its end
        ("值不对", "值不对（文件 a.shp，图层 b，要素 3，字段 RJL）解决办法：请更正。"),
    ],
)
def test_render_zh_does_not_repeat_location_already_in_the_text(
    message_zh: str, expected: str
) -> None:
    assert _error(message_zh=message_zh).render("zh") == expected


def test_render_en_does_not_repeat_location_already_in_the_text() -> None:
    err = LayerError("File a.shp: feature 3 is wrong.", file="a.shp", feature=3, field="RJL")
    assert err.render("en") == "File a.shp: feature 3 is wrong. (field RJL)"


def test_render_zh_does_not_repeat_a_fix_already_in_the_text() -> None:
    err = _error(message_zh="值不对，请更正。", file=None, layer=None, feature=None, field=None)
    assert err.render() == "值不对，请更正。"


def test_render_zh_without_a_chinese_message_falls_back_to_english_whole() -> None:
    err = StoreError("Disk full.", file="w.gpkg", fix="Free some space.")
    assert err.render("zh") == err.render("en") == "Disk full. (file w.gpkg) Fix: Free some space."


def test_chinese_message_without_chinese_fix_keeps_the_english_fix() -> None:
    err = StoreError("Disk full.", fix="Free some space.", message_zh="磁盘已满。")
    assert err.render() == "磁盘已满。解决办法：Free some space."


def test_to_dict_carries_the_chinese_texts_only_when_set() -> None:
    assert {"message_zh": "值不对。", "fix_zh": "请更正。"}.items() <= _error().to_dict().items()
    plain = StoreError("Disk full.").to_dict()
    assert "message_zh" not in plain and "fix_zh" not in plain
    assert plain["message"] == "Disk full."
