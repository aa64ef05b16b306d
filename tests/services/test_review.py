"""Plan review on a hand-built county: every conflict with its hand-computed area, nothing else.

Coordinates are offsets (metres) from a point in CGCS2000 GK zone 39 (EPSG:4527). Areas are
checked against the ellipsoidal area of the hand-built expected geometry (±0.01 m²) and the
planar area against the exact product.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from pyproj import CRS

from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.services.importing import import_file
from guotu.services.review import ReviewOptions, ReviewReport, load_rule_pack, review_plan
from guotu.services.review_output import review_json
from guotu.services.review_source import RecordedVersion, SourceFile, WorkspaceLayer
from guotu.store.geopackage import GeoPackageStore
from guotu.store.memory import MemoryStore

GK = CRS.from_epsg(4527)
X0, Y0 = 39_540_000.0, 4_052_000.0
AS_OF = __import__("datetime").date(2026, 1, 1)


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def ell(geom: shapely.Geometry) -> float:
    return float(ellipsoidal_area_m2([geom], GK)[0])


REDLINE = shapely.Polygon(
    [(X0, Y0), (X0 + 1000, Y0), (X0 + 1000, Y0 + 1000), (X0, Y0 + 1000)],
    [[(X0 + 400, Y0 + 400), (X0 + 600, Y0 + 400), (X0 + 600, Y0 + 600), (X0 + 400, Y0 + 600)]],
)

#: GHYD parcels: BSM → (geometry, code, extra columns).
PARCELS: dict[str, tuple[shapely.Polygon, str, dict[str, str]]] = {
    "A-inside": (box(100, 100, 220, 180), "0703", {}),
    "B-straddle": (box(-50, 500, 100, 600), "060202", {}),
    "C-in-hole": (box(450, 450, 550, 550), "0703", {}),
    "D-touch": (box(1000, 0, 1100, 100), "0703", {}),
    "E-sliver": (box(500, 1000 - 2.0**-8, 628, 1100), "060101", {}),
    "F-exempt": (box(700, 100, 760, 150), "0703", {"HDLX": "原住居民生产生活设施"}),
    "G-farm": (box(2100, 100, 2250, 180), "0703", {}),
    "H-farm-exempt": (box(2500, 100, 2600, 200), "1202", {"ZDXMLX": "交通类", "PZJG": "国务院"}),
    "I-udb-straddle": (box(3950, 500, 4150, 600), "090101", {}),
    "J-special": (box(4500, 1050, 4600, 1100), "0901", {}),
    "K-flexible": (box(6100, 100, 6200, 200), "0701", {}),
    "L-crop": (box(2300, 300, 2400, 400), "0103", {}),
    "M-orchard": (box(2700, 700, 2800, 800), "0201", {}),
    "N-urban-in": (box(4200, 100, 4300, 200), "070102", {}),
}

#: (rule, BSM, zone BSM, expected conflict geometry, planar area, severity).
EXPECTED: list[tuple[str, str, str | None, shapely.Geometry, float, str]] = [
    ("sanqu.farmland.construction", "G-farm", "NT1", box(2100, 100, 2250, 180), 12000.0, "error"),
    (
        "sanqu.farmland.construction",
        "H-farm-exempt",
        "NT1",
        box(2500, 100, 2600, 200),
        10000.0,
        "info",
    ),
    (
        "sanqu.farmland.forestry_fishpond",
        "M-orchard",
        "NT1",
        box(2700, 700, 2800, 800),
        10000.0,
        "warning",
    ),
    ("sanqu.redline.construction", "A-inside", "HX1", box(100, 100, 220, 180), 9600.0, "error"),
    ("sanqu.redline.construction", "B-straddle", "HX1", box(0, 500, 100, 600), 10000.0, "error"),
    ("sanqu.redline.construction", "F-exempt", "HX1", box(700, 100, 760, 150), 3000.0, "info"),
    (
        "sanqu.udb.flexible_zone",
        "K-flexible",
        "KF02",
        box(6100, 100, 6200, 200),
        10000.0,
        "warning",
    ),
    (
        "sanqu.udb.special_use_zone",
        "J-special",
        "KF03",
        box(4500, 1050, 4600, 1100),
        5000.0,
        "error",
    ),
    ("sanqu.udb.urban_outside", "I-udb-straddle", None, box(3950, 500, 4000, 600), 5000.0, "error"),
]


def _add(store: Any, tmp: Path, name: str, role: str, frame: gpd.GeoDataFrame) -> None:
    path = tmp / f"src_{name}.gpkg"
    if not path.exists():
        frame.to_file(path, layer=name)
    import_file(store, path, role=role, layer=name)


def _ghyd(
    order: list[str] | None = None, parcels: dict[str, Any] | None = None
) -> gpd.GeoDataFrame:
    parcels = parcels or PARCELS
    keys = order or list(parcels)
    cols: dict[str, list[Any]] = {"BSM": [], "YDYHFLDM": [], "HDLX": [], "ZDXMLX": [], "PZJG": []}
    for k in keys:
        _, code, extra = parcels[k]
        cols["BSM"].append(k)
        cols["YDYHFLDM"].append(code)
        for f in ("HDLX", "ZDXMLX", "PZJG"):
            cols[f].append(extra.get(f))
    return gpd.GeoDataFrame(cols, geometry=[parcels[k][0] for k in keys], crs=GK)


def build(store: Any, tmp: Path, ghyd: gpd.GeoDataFrame | None = None) -> Any:
    _add(
        store,
        tmp,
        "STBHHX",
        "ecological_redline",
        gpd.GeoDataFrame({"BSM": ["HX1"]}, geometry=[REDLINE], crs=GK),
    )
    _add(
        store,
        tmp,
        "YJJBNT",
        "permanent_farmland",
        gpd.GeoDataFrame({"BSM": ["NT1"]}, geometry=[box(2000, 0, 3000, 1000)], crs=GK),
    )
    _add(
        store,
        tmp,
        "CZKFBJ",
        "urban_boundary",
        gpd.GeoDataFrame(
            {"BSM": ["KF01", "KF03", "KF02"], "GHFQDM": ["01", "03", "02"]},
            geometry=[
                box(4000, 0, 6000, 1000),
                box(4000, 1000, 6000, 1200),
                box(6000, 0, 6500, 1000),
            ],
            crs=GK,
        ),
    )
    frame = ghyd if ghyd is not None else _ghyd()
    path = tmp / f"src_GHYD_{abs(hash(tuple(frame['BSM'])))}.gpkg"
    frame.to_file(path, layer="GHYD")
    import_file(store, path, role="planned_land_use", layer="GHYD")
    return store


@pytest.fixture
def store(tmp_path: Path) -> Any:
    s = GeoPackageStore.open(tmp_path / "ws.gpkg", create=True)
    build(s, tmp_path)
    yield s
    s.close()


def _keyed(report: ReviewReport) -> list[tuple[str, str, str | None, float, str]]:
    return [
        (
            f.rule,
            f.features[0].id_value or "",
            f.zone.id_value if f.zone else None,
            float(f.area_m2 or 0),
            f.severity.value,
        )
        for f in report.findings
    ]


def test_master_plan_review_finds_exactly_the_planted_conflicts(store: Any) -> None:
    report = review_plan(store, "master-plan", options=ReviewOptions(as_of=AS_OF))
    got = [f for f in report.findings if f.rule != "data.code_valid"]
    assert [(f.rule, f.features[0].id_value) for f in got] == [(r, b) for r, b, *_ in EXPECTED]
    for f, (rule, _, zone, geom, planar, sev) in zip(got, EXPECTED, strict=True):
        assert f.severity.value == sev, rule
        assert (f.zone.id_value if f.zone else None) == zone
        assert f.area_m2 == pytest.approx(ell(geom), abs=0.01)
        assert f.geometry is not None
        assert shapely.area(f.geometry) == pytest.approx(planar, abs=1e-6)
        assert shapely.area(shapely.symmetric_difference(f.geometry, geom)) < 1e-6
    # touching, a sub-tolerance sliver, a parcel in the red line's hole, cropland on farmland
    # and urban land inside the boundary give nothing
    named = {f.features[0].id_value for f in report.findings}
    assert not named & {"C-in-hole", "D-touch", "E-sliver", "L-crop", "N-urban-in"}


def test_finding_fields_shares_relation_and_suggestion(store: Any) -> None:
    report = review_plan(store, "master-plan", options=ReviewOptions(as_of=AS_OF))
    doc = review_json(report)
    inside = next(f for f in doc["findings"] if f["features"][0]["id_value"] == "A-inside")
    assert inside["relation"] == "within"
    assert inside["share_of_feature"] == pytest.approx(1.0, abs=1e-6)
    assert inside["share_of_zone"] == pytest.approx(
        ell(box(100, 100, 220, 180)) / ell(REDLINE), rel=1e-5
    )
    assert inside["geometry"]["type"] in ("Polygon", "MultiPolygon")
    assert "9600" in inside["message"] and "HX1" in inside["message"]
    assert "0301" in inside["suggestion"]
    straddle = next(f for f in doc["findings"] if f["features"][0]["id_value"] == "B-straddle")
    assert straddle["relation"] == "overlaps"
    assert straddle["share_of_feature"] == pytest.approx(100 / 150, abs=1e-4)
    exempt = next(f for f in doc["findings"] if f["features"][0]["id_value"] == "F-exempt")
    assert (
        exempt["severity"] == "info"
        and "人为活动类型（HDLX）为“原住居民生产生活设施”" in exempt["message"]
    )
    assert set(doc["stamp"]) >= {"rule_pack", "rule_pack_hash", "as_of", "data_versions"}
    assert doc["stamp"]["as_of"] == "2026-01-01"
    assert set(doc["stamp"]["data_versions"]) == {"STBHHX", "YJJBNT", "CZKFBJ", "GHYD"}
    assert not report.reaches("never") and report.reaches("error")


def test_profile_changes_the_answer(store: Any) -> None:
    options = ReviewOptions(pack=load_rule_pack("cn-base", "sd-example"), as_of=AS_OF)
    report = review_plan(store, "master-plan", options=options)
    rules = {(f.rule, f.features[0].id_value): f.severity.value for f in report.findings}
    assert rules[("sanqu.udb.flexible_zone", "K-flexible")] == "error"
    assert ("sd.farmland.forestry_fishpond", "M-orchard") in rules
    assert ("sanqu.farmland.forestry_fishpond", "M-orchard") not in rules


@settings(max_examples=5, deadline=None)
@given(st.permutations(list(PARCELS)))
def test_findings_do_not_depend_on_feature_order(
    tmp_path_factory: pytest.TempPathFactory, order: list[str]
) -> None:
    tmp = tmp_path_factory.mktemp("order")
    with MemoryStore.open() as a, MemoryStore.open() as b:
        build(a, tmp)
        build(b, tmp, _ghyd(order))
        assert _keyed(review_plan(a, "master-plan", options=ReviewOptions(as_of=AS_OF))) == _keyed(
            review_plan(b, "master-plan", options=ReviewOptions(as_of=AS_OF))
        )


def test_areas_add_up_over_a_partition(tmp_path: Path) -> None:
    split = dict(PARCELS)
    _, code, extra = split.pop("B-straddle")
    split["B1"] = (box(-50, 500, 30, 600), code, extra)
    split["B2"] = (box(30, 500, 100, 600), code, extra)
    with MemoryStore.open() as whole, MemoryStore.open() as parts:
        build(whole, tmp_path)
        build(parts, tmp_path, _ghyd(parcels=split))
        a = {
            f.features[0].id_value: f.area_m2
            for f in review_plan(whole, "master-plan", options=ReviewOptions(as_of=AS_OF)).findings
            if f.rule == "sanqu.redline.construction"
        }
        b = {
            f.features[0].id_value: f.area_m2
            for f in review_plan(parts, "master-plan", options=ReviewOptions(as_of=AS_OF)).findings
            if f.rule == "sanqu.redline.construction"
        }
    assert b["B1"] + b["B2"] == pytest.approx(a["B-straddle"], abs=0.02)
    assert b["B1"] == pytest.approx(ell(box(0, 500, 30, 600)), abs=0.01)


def test_memory_and_geopackage_give_the_same_findings(store: Any, tmp_path: Path) -> None:
    with MemoryStore.open() as mem:
        build(mem, tmp_path)
        a = review_json(review_plan(mem, "master-plan", options=ReviewOptions(as_of=AS_OF)))
    b = review_json(review_plan(store, "master-plan", options=ReviewOptions(as_of=AS_OF)))
    strip = [{k: v for k, v in f.items() if k not in ("features", "zone")} for f in a["findings"]]
    assert strip == [
        {k: v for k, v in f.items() if k not in ("features", "zone")} for f in b["findings"]
    ]
    assert [[r["id_value"] for r in f["features"]] for f in a["findings"]] == [
        [r["id_value"] for r in f["features"]] for f in b["findings"]
    ]


def test_a_file_under_review_leaves_the_workspace_alone(store: Any, tmp_path: Path) -> None:
    path = tmp_path / "新方案.gpkg"
    frame = _ghyd(parcels={"X-new": (box(300, 300, 350, 350), "0901", {})})
    frame.to_file(path, layer="方案")
    before = [i.name for i in store.layers()]
    report = review_plan(store, "master-plan", SourceFile(path), ReviewOptions(as_of=AS_OF))
    assert [i.name for i in store.layers()] == before
    # commercial land (09) in the red line, which is also outside the development boundary
    assert [(f.rule, f.features[0].id_value) for f in report.findings] == [
        ("sanqu.redline.construction", "X-new"),
        ("sanqu.udb.urban_outside", "X-new"),
    ]
    for f in report.findings:
        assert f.area_m2 == pytest.approx(ell(box(300, 300, 350, 350)), abs=0.01)
    assert report.source == str(path)


def test_invalid_geometry_is_repaired_and_reported(tmp_path: Path) -> None:
    bowtie = shapely.Polygon(
        [(X0 + 100, Y0 + 100), (X0 + 200, Y0 + 100), (X0 + 100, Y0 + 200), (X0 + 200, Y0 + 200)]
    )
    with MemoryStore.open() as mem:
        build(mem, tmp_path, _ghyd(parcels={"Z-bowtie": (bowtie, "0703", {})}))
        report = review_plan(mem, "master-plan", options=ReviewOptions(as_of=AS_OF))
    (f,) = [f for f in report.findings if f.rule == "sanqu.redline.construction"]
    assert f.is_repaired
    assert f.area_m2 == pytest.approx(ell(shapely.make_valid(bowtie)), abs=0.01)
    assert report.repairs and report.repairs[0].feature.label() == "BSM=Z-bowtie"
    assert np.isclose(report.repairs[0].area_after_m2, 5000.0)


def test_recorded_versions_and_as_of(tmp_path: Path) -> None:
    """A plan amended in 2024 moves a homestead out of the red line: the review as of 2023
    finds it, as of 2025 it does not, and PLAN@LABEL reviews a version whatever the date."""
    from datetime import date

    from guotu.domain.core.catalog import VersionSpec
    from guotu.domain.core.model import PlanLevel, PlanType

    with MemoryStore.open() as mem:
        build(mem, tmp_path, _ghyd(parcels={"A-inside": PARCELS["A-inside"]}))
        mem.create_plan("示范县总体规划", level=PlanLevel.COUNTY, type=PlanType.MASTER)
        old = _ghyd(parcels={"P1": (box(100, 100, 220, 180), "0703", {})})
        new = _ghyd(parcels={"P1": (box(1100, 100, 1220, 180), "0703", {})})
        for frame, label, start in (
            (old, "2021版", date(2021, 1, 1)),
            (new, "2024修改", date(2024, 6, 1)),
        ):
            mem.write_layer(
                "总规用地",
                "planned_land_use",
                frame,
                column_types={
                    "BSM": "text",
                    "YDYHFLDM": "code",
                    "HDLX": "text",
                    "ZDXMLX": "text",
                    "PZJG": "text",
                },
                geometry_type="MULTIPOLYGON",
                version=VersionSpec("示范县总体规划", label, valid_from=start),
            )

        def found(**kw: Any) -> set[str]:
            report = review_plan(
                mem, "master-plan", WorkspaceLayer("总规用地"), ReviewOptions(**kw)
            )
            return {f.features[0].id_value or "" for f in report.findings}

        assert found(as_of=date(2023, 1, 1)) == {"P1"}
        assert found(as_of=date(2025, 1, 1)) == set()
        pinned = review_plan(
            mem,
            "master-plan",
            RecordedVersion("示范县总体规划", "2021版"),
            ReviewOptions(as_of=date(2025, 1, 1)),
        )
        assert {f.features[0].id_value for f in pinned.findings} == {"P1"}
        assert "2021版" in pinned.stamp()["data_versions"]["总规用地"]
        stamped = review_plan(
            mem, "master-plan", WorkspaceLayer("总规用地"), ReviewOptions(as_of=date(2025, 1, 1))
        )
        assert "2024修改" in stamped.stamp()["data_versions"]["总规用地"]


def test_detailed_plan_transmission_rules(tmp_path: Path) -> None:
    """传导 on hand numbers: a unit of four 100 m × 100 m parcels under the master plan."""
    with MemoryStore.open() as mem:
        build(
            mem,
            tmp_path,
            _ghyd(
                parcels={
                    # the west half is residential in two polygons, the east half industrial
                    "G1": (box(4000, 0, 4100, 200), "070102", {}),
                    "G2": (box(4100, 0, 4140, 200), "0701", {}),
                    "G3": (box(4140, 0, 4400, 200), "100101", {}),
                }
            ),
        )
        # U2 has no parcel in this plan: its allocations are not this plan's business
        _add(
            mem,
            tmp_path,
            "XXGHDY",
            "detailed_unit",
            gpd.GeoDataFrame(
                {
                    "DYBH": ["U1", "U2"],
                    "JSYDGM": [30000.0, 1.0],
                    "JZYDGM": [15000.0, 1.0],
                    "GGFWYDGM": [12000.0, 9e9],
                    "LDKJYDGM": [0.0, 9e9],
                    "RJL": [2.5, 1.0],
                    "JZMD": [40.0, 1.0],
                    "LDL": [30.0, 1.0],
                    "JZXG": [60.0, 1.0],
                },
                geometry=[box(4000, 0, 4200, 200), box(4200, 0, 4400, 200)],
                crs=GK,
            ),
        )
        _add(
            mem,
            tmp_path,
            "XXGHDK",
            "detailed_parcel",
            gpd.GeoDataFrame(
                {
                    "DKBH": ["K1", "K2", "K3", "K4"],
                    "DYBH": ["U1"] * 4,
                    "YDYHFLDM": ["070102", "0801", "100101", "1401"],
                    "RJL": [2.8, 1.0, 1.2, None],
                    "JZMD": [30.0, 30.0, 50.0, None],
                    "LDL": [35.0, 35.0, 20.0, 80.0],
                    "JZXG": [54.0, 24.0, 24.0, None],
                },
                geometry=[
                    box(4000, 0, 4100, 100),
                    box(4000, 100, 4100, 200),
                    box(4100, 0, 4200, 100),
                    box(4100, 100, 4200, 200),
                ],
                crs=GK,
            ),
        )
        report = review_plan(mem, "detailed-plan", options=ReviewOptions(as_of=AS_OF))
    got = {(f.rule, f.features[0].id_value, f.details.get("field")): f for f in report.findings}
    # K3 (industrial) lies 40 % on residential (two polygons) and 60 % on industrial: agrees.
    # K2 (public service) lies on residential: admitted. K1 on residential: same branch.
    assert not [k for k in got if k[0] == "transmission.use_compatibility"]
    # residential 10 000 m² ≤ 15 000; construction 30 000 ≤ 30 000 (green excluded);
    # public service 10 000 < 12 000 by 2 000 m².
    (pub,) = [f for k, f in got.items() if k[0] == "transmission.unit_totals"]
    assert pub.details["field"] == "GGFWYDGM"
    assert pub.area_m2 == pytest.approx(12000.0 - ell(box(4000, 100, 4100, 200)), abs=0.01)
    assert pub.limit == 12000.0
    # K1's RJL 2.8 > 2.5, K3's JZMD 50 > 40 and LDL 20 < 30
    caps = sorted((k[1], k[2]) for k in got if k[0] == "transmission.indicator_caps")
    assert caps == [("K1", "RJL"), ("K3", "JZMD"), ("K3", "LDL")]
    k1 = got[("transmission.indicator_caps", "K1", "RJL")]
    assert (k1.measured, k1.limit) == (2.8, 2.5) and "容积率" in k1.message_zh

    # the same parcel under a park: K3's use is not admitted, the suggestion is the park
    park = tmp_path / "park"
    park.mkdir()
    with MemoryStore.open() as mem:
        build(mem, park, _ghyd(parcels={"P": (box(4000, 0, 4400, 200), "1401", {})}))
        _add(
            mem,
            park,
            "XXGHDK",
            "detailed_parcel",
            gpd.GeoDataFrame(
                {"DKBH": ["K3"], "YDYHFLDM": ["100101"]}, geometry=[box(4100, 0, 4200, 100)], crs=GK
            ),
        )
        (f,) = [
            f
            for f in review_plan(mem, "detailed-plan", options=ReviewOptions(as_of=AS_OF)).findings
            if f.rule == "transmission.use_compatibility"
        ]
    assert f.area_m2 == pytest.approx(ell(box(4100, 0, 4200, 100)), abs=0.01)
    assert f.details["suggested_code"] == "1401" and "1401 公园绿地" in f.suggestion_zh


def test_indicator_table_review(store: Any, tmp_path: Path) -> None:
    """Allocation directions, units, 图数一致性 within 1 公顷, and a bad cell named."""
    from guotu.errors import LayerError

    red_ha = ell(REDLINE) / 1e4
    farm_ha = ell(box(2000, 0, 3000, 1000)) / 1e4
    table = tmp_path / "指标.csv"
    table.write_text(
        "指标名称,指标属性,单位,规划目标值,上级下达值\n"
        f"生态保护红线面积,约束性,平方公里,{(red_ha + 1.5) / 100:.8f},0.5\n"  # map: +1.5 ha
        f"永久基本农田保护面积,约束性,公顷,{farm_ha + 0.5:.4f},{farm_ha + 3:.4f}\n"  # < allocation
        "城乡建设用地规模,约束性,公顷,120,100\n"  # > allocation
        "用水总量,约束性,亿立方米,1.2,1.5\n",
        encoding="utf-8",
    )  # fine
    report = review_plan(store, "indicators", SourceFile(table), ReviewOptions(as_of=AS_OF))
    got = {(f.rule, f.details["indicator"]): f for f in report.findings}
    assert sorted(got) == [
        ("indicators.allocation", "城乡建设用地规模"),
        ("indicators.allocation", "永久基本农田保护面积"),
        ("indicators.map_consistency", "生态保护红线面积"),
    ]
    farm = got[("indicators.allocation", "永久基本农田保护面积")]
    assert farm.measured == pytest.approx(farm_ha + 0.5, abs=1e-4) and "低于" in farm.message_zh
    red = got[("indicators.map_consistency", "生态保护红线面积")]
    assert red.limit == pytest.approx(red_ha + 1.5, abs=1e-4)
    assert red.measured == pytest.approx(red_ha, abs=1e-4)
    bad = tmp_path / "坏表.csv"
    bad.write_text("指标名称,单位,规划目标值\n耕地保有量,公顷,约100\n", encoding="utf-8")
    with pytest.raises(LayerError, match="row 2, column 规划目标值"):
        review_plan(store, "indicators", SourceFile(bad), ReviewOptions(as_of=AS_OF))
