"""Monitoring indicators on a hand-built county: values against an independent geodesic
computation, incremental = full, lineage, tables and units, catalogue problems."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from pyproj import CRS, Geod, Transformer

from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.domain.monitoring.indicators import forecast, status
from guotu.errors import ConfigError, LayerError
from guotu.io.year_table import read_year_table
from guotu.services.monitoring import IndicatorEngine
from guotu.services.monitoring_inputs import (
    convert_unit,
    import_table,
    inputs_to_dict,
    load_catalogue,
    load_inputs,
    read_statistics,
    read_targets,
)
from guotu.services.monitoring_report import IndicatorReport, indicator_report
from guotu.store.memory import MemoryStore

GK = CRS.from_epsg(4527)
X0, Y0 = 39_540_000.0, 4_052_000.0
PLAN = "某县年度变更调查"
_TO_LONLAT = Transformer.from_crs(GK, CRS.from_epsg(4490), always_xy=True)
_GEOD = Geod(ellps="GRS80")


def geodesic_m2(geom: shapely.Geometry) -> float:
    """Independent ellipsoidal area: densify to 1 m, to lon/lat, pyproj.Geod."""
    dense = shapely.segmentize(geom, 1.0)
    lonlat = shapely.transform(
        dense, lambda xy: __import__("numpy").column_stack(_TO_LONLAT.transform(xy[:, 0], xy[:, 1]))
    )
    area, _ = _GEOD.geometry_area_perimeter(lonlat)
    return abs(area)


def box(i: int, size: float = 100.0) -> shapely.Polygon:
    return shapely.box(X0 + i * 200, Y0, X0 + i * 200 + size, Y0 + size)


def survey(codes: list[str], keys: list[str], geoms: list[shapely.Geometry]) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"BSM": keys, "DLBM": codes}, geometry=geoms, crs=GK)


def record(store: Any, frame: gpd.GeoDataFrame, label: str, year: int) -> None:
    store.write_layer(
        "DLTB",
        "land_survey",
        frame,
        column_types={"BSM": "text", "DLBM": "code"},
        geometry_type="POLYGON",
        crs=GK,
        version=VersionSpec(PLAN, label, valid_from=date(year, 12, 31)),
    )


@pytest.fixture()
def county() -> Any:
    """DLTB 2021: A 旱地, B 旱地, C 城镇住宅 (100 m squares); 2022: B becomes 工业, D 水浇地
    is added. A red line covers the east half of B; the county outline is a 2 km box."""
    with MemoryStore.open() as store:
        store.create_plan(PLAN, level=PlanLevel.COUNTY, type=PlanType.SURVEY)
        record(
            store,
            survey(["0103", "0103", "0701"], ["A", "B", "C"], [box(0), box(1), box(2)]),
            "2021年度",
            2021,
        )
        record(
            store,
            survey(
                ["0103", "0601", "0701", "0102"],
                ["A", "B", "C", "D"],
                [box(0), box(1), box(2), box(3)],
            ),
            "2022年度",
            2022,
        )
        red = shapely.box(X0 + 250, Y0 - 10, X0 + 400, Y0 + 110)
        store.write_layer(
            "STBHHX",
            "ecological_redline",
            gpd.GeoDataFrame({"BSM": ["R1"]}, geometry=[red], crs=GK),
            column_types={"BSM": "text"},
            geometry_type="POLYGON",
        )
        outline = shapely.box(X0 - 500, Y0 - 500, X0 + 1500, Y0 + 1500)
        store.write_layer(
            "XZQ",
            "admin_boundary",
            gpd.GeoDataFrame({"XZQDM": ["370999"], "JB": ["县级"]}, geometry=[outline], crs=GK),
            column_types={"XZQDM": "text", "JB": "text"},
            geometry_type="POLYGON",
        )
        yield store


def by_id(values: list[Any]) -> dict[str, Any]:
    return {v.indicator.id: v for v in values}


def test_values_match_an_independent_geodesic_computation(county: Any) -> None:
    engine = IndicatorEngine(county, load_catalogue())
    v21 = by_id(engine.compute(date(2021, 12, 31)))
    v22 = by_id(engine.compute(date(2022, 12, 31)))
    a, b, c, d = (geodesic_m2(box(i)) for i in range(4))
    assert v21["cultivated_land"].value == pytest.approx((a + b) / 1e4, abs=1e-6)
    assert v22["cultivated_land"].value == pytest.approx((a + d) / 1e4, abs=1e-6)
    assert v21["construction_land_total"].value == pytest.approx(c / 1e4, abs=1e-6)
    assert v22["construction_land_total"].value == pytest.approx((b + c) / 1e4, abs=1e-6)
    # B is half inside the red line (x from 250 to 300 of its 200..300): only in 2022 is it
    # construction land.
    half = geodesic_m2(shapely.box(X0 + 250, Y0, X0 + 300, Y0 + 100))
    assert v21["redline_construction"].value == 0.0
    assert v22["redline_construction"].value == pytest.approx(half / 1e4, abs=1e-6)
    land = geodesic_m2(shapely.box(X0 - 500, Y0 - 500, X0 + 1500, Y0 + 1500))
    assert v22["development_intensity"].value == pytest.approx(100 * (b + c) / land, rel=1e-9)
    # no plan layer, no statistics: said, not guessed
    assert v22["reserved_land_share"].value is None
    assert "planned_land_use" in (v22["reserved_land_share"].reason or "")
    assert v22["water_use_total"].value is None and "water_use" in v22["water_use_total"].reason


def test_incremental_equals_full_and_reads_only_the_change(county: Any) -> None:
    engine = IndicatorEngine(county, load_catalogue())
    engine.compute(date(2021, 12, 31))
    full_reads = engine.reads[0]
    later = engine.compute(date(2022, 12, 31))
    assert engine.reads[0] == full_reads  # no second full read of DLTB
    assert engine.reads[1] == 2  # B's new revision and D
    fresh = IndicatorEngine(county, load_catalogue()).compute(date(2022, 12, 31))
    for x, y in zip(later, fresh, strict=True):
        assert x.value == y.value, x.indicator.id  # the same bits


def test_lineage_names_layer_version_and_features(county: Any) -> None:
    v = by_id(IndicatorEngine(county, load_catalogue()).compute(date(2022, 12, 31)))
    (term,) = v["cultivated_land"].lineage
    assert (term.layer, term.plan, term.version) == ("DLTB", PLAN, "2022年度")
    assert (term.features, term.features_in_version) == (2, 4)
    (inside,) = v["redline_construction"].lineage
    assert inside.zone_layer == "STBHHX" and inside.features == 1
    assert "ratio" in v["development_intensity"].to_dict()["lineage"]["formula"]
    assert v["development_intensity"].indicator.convention_zh  # a convention, and it says so


def test_no_version_before_the_first_update(county: Any) -> None:
    v = by_id(IndicatorEngine(county, load_catalogue()).compute(date(2020, 6, 1)))
    assert v["cultivated_land"].value is None
    assert "no version of DLTB" in (v["cultivated_land"].reason or "")


def test_targets_statistics_status_and_series(county: Any, tmp_path: Path) -> None:
    cat = load_catalogue()
    pd.DataFrame(
        [
            {"指标名称": "耕地保有量（公顷）", "2022": 1.0, "2035年": 2.0},
            {"指标名称": "建设用地总面积", "单位": "亩", "2022": 45.0, "2035年": 30.0},
            {"指标名称": "不在目录里的指标", "2022": 1.0},
        ]
    ).to_excel(tmp_path / "targets.xlsx", index=False)
    pd.DataFrame(
        [
            {"年份": 2021, "城镇常住人口（万人）": 0.01, "用水总量（亿立方米）": 1.5},
            {"年份": 2022, "城镇常住人口（万人）": 0.02, "用水总量（亿立方米）": 1.6},
        ]
    ).to_csv(tmp_path / "stats.csv", index=False)
    targets = read_targets(tmp_path / "targets.xlsx", cat)
    stats = read_statistics(tmp_path / "stats.csv", cat)
    assert targets.values["construction_land_total"][2022] == pytest.approx(3.0)  # 45 亩 = 3 ha
    assert targets.unmatched == ("不在目录里的指标",)
    assert stats.values["urban_population"] == {2021: 100.0, 2022: 200.0}
    report = indicator_report(
        county, cat, as_of=date(2022, 12, 31), first_year=2021, targets=targets, statistics=stats
    )
    now = by_id(report.current())
    assert now["cultivated_land"].status == "green"  # ~2 ha ≥ 1 ha
    # ~2 ha under a 3 ha cap, but rising 1 ha a year: the trend reaches it within 3 years
    construction = now["construction_land_total"]
    assert construction.status == "yellow"
    assert construction.forecast is not None
    assert construction.forecast.slope_per_year == pytest.approx(1.0, rel=1e-3)
    assert construction.forecast.crossing_year == pytest.approx(2023.99, abs=0.02)
    after = by_id(
        indicator_report(
            county, cat, as_of=date(2023, 6, 30), first_year=2021, targets=targets, statistics=stats
        ).current()
    )
    assert after["construction_land_total"].target_year == 2035
    assert after["construction_land_total"].status == "yellow"  # ~2 ha, cap 2 ha: within 2 %
    assert now["water_use_total"].value == 1.6 and now["water_use_total"].tables == {
        "water_use": (2022, 1.6)
    }
    doc = report.to_dict()
    row = next(r for r in doc["indicators"] if r["id"] == "cultivated_land")
    assert [p["as_of"] for p in row["series"]] == ["2021-12-31", "2022-12-31"]
    assert row["targets"] == {"2022": 1.0, "2035": 2.0}


def test_status_rules() -> None:
    assert status(">=", 100.0, 100.0, 0.02) == "yellow"
    assert status(">=", 103.0, 100.0, 0.02) == "green"
    assert status(">=", 103.0, 100.0, 0.02, crossing_years=1.5) == "yellow"
    assert status("<=", 100.5, 100.0, 0.02) == "red"
    assert status(None, 1.0, 2.0, 0.02) is None


def test_forecast_band_brackets_the_central_crossing() -> None:
    years = [2019, 2020, 2021, 2022, 2023, 2024]
    values = [120.0, 118.5, 117.8, 115.9, 115.1, 113.2]
    f = forecast(years, values, 100.0, ">=")
    assert f is not None and f.slope_per_year < 0
    assert f.crossing_early is not None and f.crossing_year is not None
    assert f.crossing_early <= f.crossing_year <= (f.crossing_late or math.inf)
    exact = (100.0 - f.intercept) / f.slope_per_year
    assert f.crossing_year == pytest.approx(exact)
    rising = forecast(years, values[::-1], 100.0, ">=")  # moving away: never crosses
    assert rising is not None and rising.crossing_year is None


def test_unit_conversion() -> None:
    assert convert_unit(1.0, "平方公里", "ha") == 100.0
    assert convert_unit(15.0, "亩", "ha") == pytest.approx(1.0)
    assert convert_unit(1.0, "万人", "person") == 10_000.0
    assert convert_unit(1.0, "公顷", "%") is None


def test_year_tables_both_ways_and_bad_values(tmp_path: Path) -> None:
    pd.DataFrame({"年份": [2021, 2022], "GDP（万元）": [10, 12]}).to_csv(
        tmp_path / "a.csv", index=False
    )
    (series,) = read_year_table(tmp_path / "a.csv")
    assert (series.name, series.unit, series.values) == ("GDP", "万元", {2021: 10.0, 2022: 12.0})
    pd.DataFrame({"指标": ["人口"], "单位": ["人"], "2021年": ["1,000"]}).to_csv(
        tmp_path / "b.csv", index=False
    )
    (series,) = read_year_table(tmp_path / "b.csv")
    assert series.values == {2021: 1000.0} and series.unit == "人"
    pd.DataFrame({"指标": ["人口"], "2021": ["很多"]}).to_csv(tmp_path / "c.csv", index=False)
    with pytest.raises(LayerError, match="row 2") as err:
        read_year_table(tmp_path / "c.csv")
    assert err.value.field == "2021"
    pd.DataFrame({"指标": ["人口"], "数值": [1]}).to_csv(tmp_path / "d.csv", index=False)
    with pytest.raises(LayerError, match="year"):
        read_year_table(tmp_path / "d.csv")


def test_catalogue_problems_are_listed_together(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """
id: bad
version: "1"
title: {zh: 坏目录, en: Bad}
indicators:
  - id: a
    name: {zh: 甲, en: A}
    unit: furlong
    formula: {area: {role: no_such_role, codes: "@missing"}}
  - id: b
    name: {zh: 乙, en: B}
    unit: ha
    formula: {ratio: [{ref: c}, {table: nothing}]}
  - id: c
    name: {zh: 丙, en: C}
    unit: ha
    formula: {ref: b}
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_catalogue(bad)
    text = str(err.value)
    for needle in ("furlong", "no_such_role", "@missing", "nothing", "itself"):
        assert needle in text
    schema_bad = tmp_path / "schema.yaml"
    schema_bad.write_text(
        """
id: s
version: "1"
title: {zh: 甲, en: A}
indicators:
  - id: a
    name: {zh: 甲, en: A}
    unit: ha
    formula: {area: {role: land_survey, codes: [0103]}}
""",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError, match=r"\$\.indicators\[0\]\.formula\.area\.codes"):
        load_catalogue(schema_bad)
    with pytest.raises(ConfigError, match="no indicator catalogue"):
        load_catalogue("no-such-catalogue")


def test_change_logs_are_trimmed_and_values_stay_exact(county: Any) -> None:
    engine = IndicatorEngine(county, load_catalogue())
    engine.compute(date(2022, 12, 31))
    full_reads = engine.reads[0]
    base = survey(
        ["0103", "0601", "0701", "0102"], ["A", "B", "C", "D"], [box(0), box(1), box(2), box(3)]
    )
    for year in range(2023, 2035):  # twelve yearly versions, D toggling 0102 ↔ 0701
        base.loc[3, "DLBM"] = "0701" if year % 2 else "0102"
        record(county, base, f"{year}年度", year)
        values = by_id(engine.compute(date(year, 12, 31)))
        fresh = by_id(IndicatorEngine(county, load_catalogue()).compute(date(year, 12, 31)))
        assert values["cultivated_land"].value == fresh["cultivated_land"].value
        assert values["construction_land_total"].value == fresh["construction_land_total"].value
    log = engine._layers["DLTB"].log
    assert len(log) <= 8  # folded and trimmed, not one entry per version forever
    assert engine.reads[0] == full_reads  # no layer read whole again: only increments


# -- targets and statistics kept in the workspace (issue 14) -----------------------------------
def _tables(tmp_path: Path, cultivated_2035: float = 2.0) -> tuple[Path, Path]:
    targets = tmp_path / f"targets_{cultivated_2035:g}.xlsx"
    pd.DataFrame(
        [
            {"指标名称": "耕地保有量（公顷）", "2022": 1.0, "2035年": cultivated_2035},
            {"指标名称": "建设用地总面积", "单位": "亩", "2022": 45.0, "2035年": 30.0},
            {"指标名称": "不在目录里的指标", "2022": 1.0},
        ]
    ).to_excel(targets, index=False)
    stats = tmp_path / "stats.csv"
    pd.DataFrame(
        [
            {"年份": 2021, "城镇常住人口（万人）": 0.01, "用水总量（亿立方米）": 1.5},
            {"年份": 2022, "城镇常住人口（万人）": 0.02, "用水总量（亿立方米）": 1.6},
        ]
    ).to_csv(stats, index=False)
    return targets, stats


def test_imported_tables_read_back_as_the_files_do(county: Any, tmp_path: Path) -> None:
    cat = load_catalogue()
    targets_file, stats_file = _tables(tmp_path)
    done = import_table(county, "targets", targets_file, cat, actor="张三")
    import_table(county, "statistics", stats_file, cat)
    assert (done.recorded.plan, done.recorded.version.label, done.recorded.source) == (
        "table:targets",
        "v1",
        targets_file.name,
    )
    assert done.matched == ("cultivated_land", "construction_land_total")
    assert done.unmatched == ("不在目录里的指标",)  # kept as written, not used
    targets, stats = load_inputs(county, cat)
    assert targets.values == read_targets(targets_file, cat).values
    assert targets.unmatched == ("不在目录里的指标",)
    assert stats.values == read_statistics(stats_file, cat).values
    assert targets.origin is not None and targets.origin.origin == "workspace"
    assert targets.source == "table:targets/v1"
    assert "版本 v1" in targets.origin.describe() and targets_file.name in targets.origin.describe()
    with_files = indicator_report(
        county,
        cat,
        as_of=date(2022, 12, 31),
        first_year=2021,
        targets=read_targets(targets_file, cat),
        statistics=read_statistics(stats_file, cat),
    )
    from_workspace = indicator_report(
        county, cat, as_of=date(2022, 12, 31), first_year=2021, targets=targets, statistics=stats
    )
    assert [(v.indicator.id, v.status, v.value) for v in with_files.current()] == [
        (v.indicator.id, v.status, v.value) for v in from_workspace.current()
    ]


def test_a_new_import_is_a_new_version_readable_as_known_before(
    county: Any, tmp_path: Path
) -> None:
    cat = load_catalogue()
    first = import_table(county, "targets", _tables(tmp_path)[0], cat)
    import_table(county, "targets", _tables(tmp_path, 5.0)[0], cat, reason="规划修改")
    now, _ = load_inputs(county, cat)
    assert now.values["cultivated_land"][2035] == 5.0 and now.source == "table:targets/v2"
    then, _ = load_inputs(county, cat, known_at=first.recorded.version.recorded_at)
    assert then.values["cultivated_land"][2035] == 2.0 and then.source == "table:targets/v1"
    assert [
        e.detail["version"]
        for e in county.audit_log(object_prefix="table")
        if e.action == "write_table"
    ] == ["v1", "v2"]


def test_a_file_overrides_the_workspace_and_says_so(county: Any, tmp_path: Path) -> None:
    cat = load_catalogue()
    import_table(county, "targets", _tables(tmp_path)[0], cat)
    other = _tables(tmp_path, 9.0)[0]
    targets, stats = load_inputs(county, cat, targets_file=other)
    assert targets.values["cultivated_land"][2035] == 9.0
    assert targets.origin is not None and targets.origin.origin == "file"
    assert targets.origin.table is not None and targets.origin.table.version.label == "v1"
    assert "本次运行以它代替工作空间的规划目标表（targets）的版本 v1" in targets.origin.describe()
    assert "instead of version v1" in targets.origin.describe("en")
    assert stats.values == {} and stats.origin is not None and stats.origin.origin == "none"
    doc = inputs_to_dict(targets, stats, bare_names=True)
    assert doc["targets"]["from"] == "file" and doc["targets"]["file"] == other.name
    assert doc["targets"]["overridden_table"]["version"] == "v1"
    assert doc["statistics"] == {
        "from": "none",
        "file": None,
        "table": None,
        "overridden_table": None,
    }


@pytest.mark.parametrize(
    ("rows", "error", "where"),
    [
        # a value that is not a number: the reader names the row and the column
        (
            [{"指标名称": "耕地保有量", "单位": "公顷", "2035": "很多"}],
            LayerError,
            ("row 2", "2035"),
        ),
        # a unit that does not convert: the row and 单位
        ([{"指标名称": "耕地保有量", "单位": "万人", "2035": 1.0}], ConfigError, ("row 2", "单位")),
        # nothing matches the catalogue: the wrong file
        ([{"指标名称": "某个别的东西", "单位": "个", "2035": 1.0}], ConfigError, ("matches", None)),
    ],
    ids=["not a number", "unit", "nothing matches"],
)
def test_bad_tables_are_refused_and_nothing_is_recorded(
    county: Any, tmp_path: Path, rows: Any, error: type, where: Any
) -> None:
    path = tmp_path / "bad.xlsx"
    pd.DataFrame(rows).to_excel(path, index=False)
    with pytest.raises(error, match=where[0]) as err:
        import_table(county, "targets", path, load_catalogue())
    assert err.value.file == str(path) and err.value.field == where[1]
    assert county.tables() == []


def test_the_engine_forgets_statuses_when_its_targets_change(county: Any, tmp_path: Path) -> None:
    cat = load_catalogue()
    engine = IndicatorEngine(county, cat, targets=read_targets(_tables(tmp_path, 1.5)[0], cat))
    day = date(2023, 6, 30)  # ~2 ha of 耕地, answering to the 2035 target
    before = by_id(engine.compute(day))["cultivated_land"]
    engine.targets = read_targets(_tables(tmp_path, 9.0)[0], cat)
    after = by_id(engine.compute(day))["cultivated_land"]
    assert (before.target, before.status) == (1.5, "green")
    assert (after.target, after.status) == (9.0, "red")
    engine.targets = engine.targets  # the same object: the memo holds
    assert by_id(engine.compute(day))["cultivated_land"] is after


@pytest.mark.parametrize(
    ("kind", "names", "refused"),
    [
        # a targets table given as statistics: 用水总量 is both an indicator and a statistic
        ("statistics", ["耕地保有量", "国土开发强度", "用水总量"], True),
        # a statistics table given as targets
        ("targets", ["常住人口", "地区生产总值", "用水总量"], True),
        # a targets table with a population target among its indicators is a targets table
        ("targets", ["耕地保有量", "国土开发强度", "常住人口"], False),
    ],
    ids=["targets as statistics", "statistics as targets", "targets with population"],
)
def test_a_table_of_the_other_kind_is_refused(
    county: Any, tmp_path: Path, kind: str, names: list[str], refused: bool
) -> None:
    path = tmp_path / "table.csv"
    pd.DataFrame({"指标名称": names, "2025": [1.0] * len(names)}).to_csv(path, index=False)
    if not refused:
        import_table(county, kind, path, load_catalogue())
        assert [t.name for t in county.tables()] == [kind]
        return
    with pytest.raises(ConfigError, match="looks like a table of") as err:
        import_table(county, kind, path, load_catalogue())
    assert "guotu monitor" in (err.value.fix_zh or "") and county.tables() == []


# -- the crossing, worded once (issue 14) -------------------------------------------------------
def _value(
    status: str | None,
    day: str,
    forecast: Any = None,
    target: float | None = 100.0,
    target_year: int | None = 2035,
) -> Any:
    from types import SimpleNamespace

    return SimpleNamespace(
        status=status,
        as_of=date.fromisoformat(day),
        forecast=forecast,
        target=target,
        target_year=target_year,
    )


@pytest.mark.parametrize(
    ("statuses", "early", "late", "zh", "en"),
    [
        # breached: since the first year-end of the breach the series shows, never a forecast
        (
            ["green", "red", "red"],
            None,
            None,
            "已突破（2024-12-31 起）",
            "breached (since 2024-12-31)",
        ),
        (["yellow", "yellow", "red"], 2025.9, 2025.9, "已突破", "breached"),
        (
            ["red", "red", "red"],
            2026.0,
            2026.0,
            "已突破（2023-12-31 起）",
            "breached (since 2023-12-31)",
        ),
        # a forecast, as years or a quarter, never decimals: a range, one quarter, an open end
        (["green", "green", "yellow"], 2026.4, 2032.2, "2026–2032 年", "2026–2032"),
        (["green", "green", "yellow"], 2026.42, 2026.38, "2026 年第二季度", "Q2 2026"),
        (["green", "green", "yellow"], 2026.1, 2026.8, "2026 年", "2026"),
        (["green", "green", "yellow"], 2026.4, None, "最早 2026 年第二季度", "Q2 2026 or later"),
        # not beyond the plan's target year (2035): a late edge after it leaves the band open,
        # a crossing after it is no forecast at all
        (["green", "green", "yellow"], 2027.8, 2040.2, "最早 2027 年第四季度", "Q4 2027 or later"),
        (
            ["green", "green", "green"],
            2062.0,
            None,
            "规划期内不会突破",
            "Not crossed within the plan period",
        ),
        (
            ["green", "green", "green"],
            None,
            None,
            "规划期内不会突破",
            "Not crossed within the plan period",
        ),
    ],
)
def test_crossing_wording(
    statuses: list[str], early: float | None, late: float | None, zh: str | None, en: str | None
) -> None:
    from types import SimpleNamespace

    fc = SimpleNamespace(crossing_early=early, crossing_late=late)
    series = [
        _value(s, d, fc)
        for s, d in zip(statuses, ["2023-12-31", "2024-12-31", "2025-12-31"], strict=True)
    ]
    report: Any = SimpleNamespace(series={"x": series})
    assert IndicatorReport.crossing(report, "x", "zh") == zh
    assert IndicatorReport.crossing(report, "x", "en") == en


def test_no_forecast_or_no_target_says_nothing() -> None:
    from types import SimpleNamespace

    fc = SimpleNamespace(crossing_early=None, crossing_late=None)
    for last in (_value("green", "2025-12-31", None), _value(None, "2025-12-31", fc, None, None)):
        report: Any = SimpleNamespace(series={"x": [last]})
        assert IndicatorReport.crossing(report, "x", "zh") is None


@pytest.mark.parametrize(
    ("statuses", "early", "late", "zh", "en"),
    [
        (
            ["green", "red", "red"],
            2026.0,
            2026.0,
            "已突破（2024-12-31 起）",
            "Breached (since 2024-12-31)",
        ),
        (
            ["green", "green", "yellow"],
            2026.4,
            2032.2,
            "预计突破 2026–2032 年",
            "Crossing 2026–2032",
        ),
        (
            ["green", "green", "yellow"],
            2026.4,
            None,
            "预计突破 最早 2026 年第二季度",
            "Crossing Q2 2026 or later",
        ),
    ],
)
def test_crossing_on_a_card_says_a_forecast_is_one(
    statuses: list[str], early: float | None, late: float | None, zh: str, en: str
) -> None:
    from types import SimpleNamespace

    fc = SimpleNamespace(crossing_early=early, crossing_late=late)
    series = [
        _value(s, d, fc)
        for s, d in zip(statuses, ["2023-12-31", "2024-12-31", "2025-12-31"], strict=True)
    ]
    report: Any = SimpleNamespace(series={"x": series})
    assert IndicatorReport.crossing(report, "x", "zh", labelled=True) == zh
    assert IndicatorReport.crossing(report, "x", "en", labelled=True) == en


# -- consolidation as of a date (QA: the dashboard took today's progress for 2023) -------------
def _projects(store: Any, progress: float, spec: VersionSpec | None) -> None:
    """One consolidation project over A (旱地 both years: no new farmland) that reports
    ``progress`` % done and plans 5,000 m² of new farmland."""
    frame = gpd.GeoDataFrame(
        {"XMMC": ["甲项目"], "XMDM": ["TZ1"], "XZGDMJ": [5000.0], "JD": [progress]},
        geometry=[box(0, 120)],
        crs=GK,
    )
    store.write_layer(
        "TDZZXM",
        "consolidation_project",
        frame,
        column_types={"XMMC": "text", "XMDM": "text", "XZGDMJ": "real", "JD": "real"},
        geometry_type="POLYGON",
        version=spec,
    )


@pytest.mark.parametrize(
    ("as_of", "progress"),
    [
        (date(2023, 1, 1), None),  # before the first report: the project layer is not in force
        (date(2023, 2, 1), 40.0),  # the report of 2023-01-15
        (date(2023, 6, 30), 100.0),  # the report of that day
        (date(2024, 1, 1), 100.0),
    ],
)
def test_progress_is_read_as_of_the_date(county: Any, as_of: date, progress: float | None) -> None:
    from guotu.services.consolidation import consolidation_report

    record(
        county,
        survey(
            ["0103", "0601", "0701", "0102"], ["A", "B", "C", "D"], [box(0), box(1), box(2), box(3)]
        ),
        "2023年度",
        2023,
    )
    county.create_plan("整治项目", level=PlanLevel.COUNTY, type=PlanType.CONSOLIDATION)
    _projects(county, 40.0, VersionSpec("整治项目", "2023年初", valid_from=date(2023, 1, 15)))
    _projects(county, 100.0, VersionSpec("整治项目", "2023年中", valid_from=date(2023, 6, 30)))
    report = consolidation_report(county, as_of=as_of, from_date=date(2021, 12, 31))
    warned = any("进度 100%" in w for w in report.to_dict()["warnings"])
    if progress is None:
        assert report.projects == () and not warned
        return
    (project,) = report.projects
    assert project.progress_pct == progress
    assert warned is (progress == 100.0)  # done, and the surveys show no new farmland


def test_undated_progress_holds_from_the_latest_survey(county: Any) -> None:
    """A progress table imported without a date reports the state of the latest survey
    (here 2023年度, 2023-12-31): unknown before it, although the layer is always in force."""
    from guotu.services.consolidation import consolidation_report

    record(
        county,
        survey(
            ["0103", "0601", "0701", "0102"], ["A", "B", "C", "D"], [box(0), box(1), box(2), box(3)]
        ),
        "2023年度",
        2023,
    )
    _projects(county, 100.0, None)
    early = consolidation_report(county, as_of=date(2023, 6, 30))
    assert early.to_version == "2022年度"
    assert early.projects[0].progress_pct is None
    assert "按最近一期变更调查计" in early.to_dict()["notes"][0]
    assert not any("进度" in w for w in early.to_dict()["warnings"])
    later = consolidation_report(county, as_of=date(2024, 1, 1))
    assert later.projects[0].progress_pct == 100.0
    assert later.projects[0].progress_date == date(2023, 12, 31)
    assert any("进度 100%" in w for w in later.to_dict()["warnings"])


def test_consolidation_reads_as_known_at(county: Any) -> None:
    """A survey recorded after ``known_at`` is not in the ledger (record time, DESIGN §4)."""
    from datetime import timedelta

    from guotu.errors import NotFoundError
    from guotu.services.consolidation import consolidation_report

    first = county.versions(PLAN)[0]
    before_second = first.recorded_at + timedelta(microseconds=1)
    assert consolidation_report(county, as_of=date(2023, 1, 1)).to_version == "2022年度"
    with pytest.raises(NotFoundError):
        consolidation_report(county, as_of=date(2023, 1, 1), known_at=before_second)
