"""``guotu check`` through click's runner: exit codes, JSON keys, the errors GeoPackage."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio
import pytest
import shapely
from click.testing import CliRunner
from pyproj import CRS

import guotu.cli
import guotu.cli.check  # noqa: F401  (registers `check` even before guotu.cli imports it)
from guotu.cli.base import root
from guotu.services.importing import import_file
from guotu.store.geopackage import GeoPackageStore

GK = CRS.from_epsg(4527)
X0, Y0 = 39_500_000.0, 4_000_000.0


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def make_workspace(tmp: Path, geoms: list[Any], codes: list[str]) -> Path:
    ws = tmp / "ws.gpkg"
    with GeoPackageStore.open(ws, create=True) as store:
        src = tmp / "ghyd.gpkg"
        gpd.GeoDataFrame({"YDYHFLDM": codes}, geometry=geoms, crs=GK).to_file(src)
        import_file(store, src, role="planned_land_use", layer="规划用地")
    return ws


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    return make_workspace(tmp_path, [box(0, 0, 100, 100), box(100, 0, 200, 100)], ["0701", "0101"])


@pytest.fixture
def overlapping(tmp_path: Path) -> Path:
    return make_workspace(
        tmp_path, [box(0, 0, 100, 100), box(90, 0, 190, 100)], ["0199", "090301"]
    )  # fid 1 has two findings: overlap, unknown code


def invoke(*args: str) -> Any:
    return CliRunner().invoke(root, list(args), catch_exceptions=False)


def test_clean_workspace_exits_0_with_a_chinese_summary(clean: Path) -> None:
    result = invoke("check", "-w", str(clean))
    assert result.exit_code == 0, result.output
    assert "错误 0" in result.output
    assert "topology.gap" in result.output  # skipped: no boundary, and said so


def test_findings_exit_1_and_json_has_the_keys(overlapping: Path) -> None:
    result = invoke("check", "-w", str(overlapping), "--json")
    assert result.exit_code == 1
    doc = json.loads(result.output)
    assert set(doc) == {"workspace", "findings", "summary", "data_versions"}
    assert [v["layer"] for v in doc["data_versions"]] == sorted(
        v["layer"] for v in doc["data_versions"]
    )
    overlap = next(f for f in doc["findings"] if f["check"] == "topology.overlap")
    assert {
        "check",
        "layer",
        "feature",
        "message",
        "message_zh",
        "message_en",
        "severity",
        "field",
        "value",
        "area_m2",
        "location",
        "geometry",
    } <= set(overlap)
    assert overlap["feature"] == {"fid": 1}
    assert overlap["geometry"]["type"] == "Polygon"
    assert overlap["message"] == overlap["message_zh"]
    assert overlap["area_m2"] == pytest.approx(1000.0, abs=2.0)
    checks = [
        (f["check"], f["layer"], (f["feature"] or {}).get("fid", -1)) for f in doc["findings"]
    ]
    assert checks == sorted(checks)


@pytest.mark.parametrize(
    ("fail_on", "code"),
    [
        ("error", 1),  # the overlap is an error
        ("never", 0),
        ("warning", 1),
    ],
)
def test_fail_on_threshold(overlapping: Path, fail_on: str, code: int) -> None:
    assert invoke("check", "-w", str(overlapping), "--fail-on", fail_on).exit_code == code


def test_retired_code_is_a_warning_below_the_default_threshold(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, [box(0, 0, 100, 100)], ["090301"])
    assert invoke("check", "-w", str(ws)).exit_code == 0
    assert invoke("check", "-w", str(ws), "--fail-on", "warning").exit_code == 1


def test_english_messages(overlapping: Path) -> None:
    result = invoke("check", "-w", str(overlapping), "--json", "--lang", "en")
    doc = json.loads(result.output)
    assert all(f["message"] == f["message_en"] for f in doc["findings"])


@pytest.mark.parametrize(
    "args",
    [
        ("--layer", "nope"),  # unknown layer
        ("--checks", "missing.yaml"),  # unreadable check list
    ],
)
def test_input_errors_exit_2(overlapping: Path, args: tuple[str, ...]) -> None:
    assert invoke("check", "-w", str(overlapping), *args).exit_code == 2


def test_missing_workspace_exits_2(tmp_path: Path) -> None:
    assert invoke("check", "-w", str(tmp_path / "none.gpkg")).exit_code == 2


def test_errors_geopackage_opens_with_crs_and_check_column(
    overlapping: Path, tmp_path: Path
) -> None:
    out = tmp_path / "errors.gpkg"
    invoke("check", "-w", str(overlapping), "--errors-gpkg", str(out))
    layers = {name for name, _ in pyogrio.list_layers(out)}
    assert layers == {"finding_points", "finding_areas"}
    areas = gpd.read_file(out, layer="finding_areas")
    assert areas.crs is not None and areas.crs.to_epsg() == 4527
    assert "topology.overlap" in set(areas["check"])
    points = gpd.read_file(out, layer="finding_points")
    assert sorted(points["feature_fid"].tolist()) == [1, 1, 2]


def test_repair_rewrites_and_reports(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])
    ws = make_workspace(tmp_path, [bowtie], ["0701"])
    first = invoke("check", "-w", str(ws), "--repair", "--json")
    doc = json.loads(first.output)
    assert [(r["layer"], r["fid"]) for r in doc["summary"]["repaired"]] == [("规划用地", 1)]
    again = json.loads(invoke("check", "-w", str(ws), "--json").output)
    assert not [f for f in again["findings"] if f["check"] == "geometry.invalid"]
    assert again["summary"]["repaired"] == []


def test_repair_says_why_in_chinese(tmp_path: Path) -> None:
    bowtie = shapely.Polygon([(X0, Y0), (X0 + 10, Y0 + 10), (X0 + 10, Y0), (X0, Y0 + 10)])
    ws = make_workspace(tmp_path, [bowtie], ["0701"])
    shutil.copy(ws, tmp_path / "en.gpkg")
    out = invoke("check", "-w", str(ws), "--repair").output
    assert "已修复 图层 规划用地 要素 1：自相交（位置 " in out and "修复后为多面" in out
    assert "Self-intersection" not in out
    english = invoke("check", "-w", str(tmp_path / "en.gpkg"), "--repair", "--lang", "en").output
    assert "Repaired layer 规划用地 feature 1: Self-intersection at " in english
