"""Review on the inputs counties really have: partial layers, blank values, odd tables."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner

from guotu.cli.base import root
from guotu.errors import ConfigError, NotFoundError
from guotu.services.importing import import_file
from guotu.services.review import ReviewOptions, read_indicator_table, review_plan
from guotu.services.review_source import (
    RecordedVersion,
    SourceFile,
    WorkspaceLayer,
    parse_review_source,
)
from guotu.store.memory import MemoryStore

from .test_review import AS_OF, GK, PARCELS, REDLINE, _add, _ghyd, box, build, ell


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        # nothing: the workspace layer; PLAN@LABEL: a recorded version
        (None, "master-plan", WorkspaceLayer("GHYD")),
        (
            "示范县总体规划@2021版",
            "master-plan",
            RecordedVersion("示范县总体规划", "2021版", "GHYD"),
        ),
        # a name with a suffix, or an indicator table, is a file
        ("a@b.gpkg", "master-plan", SourceFile(Path("a@b.gpkg"))),
        ("表@1", "indicators", SourceFile(Path("表@1"))),
    ],
)
def test_the_source_is_decided_once(text: str | None, kind: str, expected: object) -> None:
    assert parse_review_source(text, kind=kind, layer="GHYD") == expected


def test_the_web_names_only_recorded_versions() -> None:
    assert parse_review_source("规划@v1", kind="master-plan", files_allowed=False) == (
        RecordedVersion("规划", "v1")
    )
    with pytest.raises(ConfigError, match="PLAN@LABEL"):
        parse_review_source("/etc/passwd", kind="master-plan", files_allowed=False)


def test_development_boundary_without_sub_zones(tmp_path: Path) -> None:
    """A CZKFBJ with only 集中建设区 (no 03/02 zones, as most counties have)."""
    with MemoryStore.open() as mem:
        _add(
            mem,
            tmp_path,
            "STBHHX",
            "ecological_redline",
            gpd.GeoDataFrame({"BSM": ["HX1"]}, geometry=[REDLINE], crs=GK),
        )
        _add(
            mem,
            tmp_path,
            "CZKFBJ",
            "urban_boundary",
            gpd.GeoDataFrame(
                {"BSM": ["KF01"], "GHFQDM": ["01"]}, geometry=[box(4000, 0, 6000, 1000)], crs=GK
            ),
        )
        frame = _ghyd(parcels={k: PARCELS[k] for k in ("A-inside", "J-special", "K-flexible")})
        frame.to_file(tmp_path / "g.gpkg", layer="GHYD")
        import_file(mem, tmp_path / "g.gpkg", role="planned_land_use", layer="GHYD")
        report = review_plan(mem, "master-plan", options=ReviewOptions(as_of=AS_OF))
    got = sorted((f.rule, f.features[0].id_value) for f in report.findings)
    assert got == [
        ("sanqu.redline.construction", "A-inside"),
        ("sanqu.udb.urban_outside", "J-special"),
        ("sanqu.udb.urban_outside", "K-flexible"),
    ]
    # the farmland rules could not run: said, not silently passed
    assert {s.rule for s in report.skipped} == {
        "sanqu.farmland.construction",
        "sanqu.farmland.forestry_fishpond",
    }


def test_blank_code_is_reported_not_skipped(tmp_path: Path) -> None:
    with MemoryStore.open() as mem:
        build(mem, tmp_path, _ghyd(parcels={"T1": (box(100, 100, 200, 200), "0703", {})}))
        frame = gpd.GeoDataFrame(
            {"BSM": ["T1"], "YDYHFLDM": [None]}, geometry=[box(100, 100, 200, 200)], crs=GK
        )
        frame.to_file(tmp_path / "blank.gpkg", layer="x")
        report = review_plan(
            mem, "master-plan", SourceFile(tmp_path / "blank.gpkg"), ReviewOptions(as_of=AS_OF)
        )
    (f,) = report.findings
    assert f.rule == "data.code_valid" and f.details["kind"] == "missing"
    assert f.area_m2 == pytest.approx(ell(box(100, 100, 200, 200)), abs=0.01)


def test_nothing_to_review_against_is_an_input_error(tmp_path: Path) -> None:
    with MemoryStore.open() as mem:
        frame = _ghyd(parcels={"A": PARCELS["A-inside"]})
        frame.to_file(tmp_path / "g.gpkg", layer="GHYD")
        import_file(mem, tmp_path / "g.gpkg", role="planned_land_use", layer="GHYD")
        line = gpd.GeoDataFrame(
            {"BSM": ["ZX1"], "KD": [20.0]},
            crs=GK,
            geometry=[
                shapely.LineString([(39_540_000.0, 4_052_500.0), (39_541_500.0, 4_052_500.0)])
            ],
        )
        line.to_file(tmp_path / "route.gpkg", layer="route")
        with pytest.raises(NotFoundError, match=r"special-plan.*ecological_redline"):
            review_plan(
                mem, "special-plan", SourceFile(tmp_path / "route.gpkg"), ReviewOptions(as_of=AS_OF)
            )


def test_route_width_and_missing_width(tmp_path: Path) -> None:
    with MemoryStore.open() as mem:
        build(mem, tmp_path)
        y = 4_052_000.0 + 700
        geoms = [shapely.LineString([(39_540_000.0 - 500, y), (39_540_000.0 + 1500, y)])] * 2
        gpd.GeoDataFrame({"BSM": ["R1", "R2"], "KD": [20.0, None]}, geometry=geoms, crs=GK).to_file(
            tmp_path / "r.gpkg", layer="r"
        )
        report = review_plan(
            mem, "special-plan", SourceFile(tmp_path / "r.gpkg"), ReviewOptions(as_of=AS_OF)
        )
    by = {f.features[0].id_value: f for f in report.findings}
    r1 = by["R1"]  # 1000 m inside the red line, 20 m wide
    assert r1.measured == pytest.approx(1000.0, abs=1e-6)
    assert r1.area_m2 == pytest.approx(ell(box(0, 690, 1000, 710)), abs=0.01)
    assert by["R2"].details.get("width_missing") and "KD" in by["R2"].message_zh


def test_declared_activity_may_name_one_item_of_a_list(tmp_path: Path) -> None:
    parcels = {"S": (box(100, 100, 160, 150), "1306", {"HDLX": "科学研究"})}
    with MemoryStore.open() as mem:
        build(mem, tmp_path, _ghyd(parcels=parcels))
        (f,) = [
            f
            for f in review_plan(mem, "master-plan", options=ReviewOptions(as_of=AS_OF)).findings
            if f.rule == "sanqu.redline.construction"
        ]
    assert f.severity.value == "info"


def test_indicator_table_with_title_row_and_unit_in_name(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["示范县国土空间总体规划指标表"])
    ws.append(["指标名称", "规划目标值", "上级下达指标"])
    ws.append(["生态保护红线面积（平方公里）", 17.47, 17.0])
    ws.append(["耕地保护目标", 100.0, 120.0])
    book.save(tmp_path / "t.xlsx")
    rows = read_indicator_table(tmp_path / "t.xlsx")
    assert [(r.name, r.unit, r.planned, r.allocated, r.row) for r in rows] == [
        ("生态保护红线面积（平方公里）", "平方公里", 17.47, 17.0, 3),
        ("耕地保护目标", "", 100.0, 120.0, 4),
    ]


def test_indicator_alias_and_unknown_rows(store: Any, tmp_path: Path) -> None:
    table = tmp_path / "t.csv"
    table.write_text(
        "指标名称,单位,规划目标值,上级下达值\n耕地保护目标,公顷,100,120\n某自定义指标,公顷,5,6\n",
        encoding="utf-8",
    )
    report = review_plan(store, "indicators", SourceFile(table), ReviewOptions(as_of=AS_OF))
    got = {(f.rule, f.details["indicator"], f.severity.value) for f in report.findings}
    # the alias makes it 耕地保有量: below its allocation, and more than the map's 1 ha of 耕地
    assert got == {
        ("indicators.allocation", "耕地保护目标", "error"),
        ("indicators.map_consistency", "耕地保护目标", "error"),
        ("indicators.allocation", "某自定义指标", "info"),
    }


@pytest.fixture
def store(tmp_path: Path) -> Any:
    with MemoryStore.open() as mem:
        build(mem, tmp_path)
        yield mem


def test_unexpected_errors_exit_3_without_traceback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import guotu.cli.review as cli_review

    def broken(*_a: Any, **_k: Any) -> None:
        raise ZeroDivisionError("boom")

    from guotu.store.geopackage import GeoPackageStore

    GeoPackageStore.open(tmp_path / "x.gpkg", create=True).close()
    monkeypatch.setattr(cli_review, "review_plan", broken)
    out = CliRunner().invoke(root, ["review", "master-plan", "-w", str(tmp_path / "x.gpkg")])
    assert out.exit_code == 3
    assert "ZeroDivisionError" in out.output and "Traceback" not in out.output
