"""``guotu monitor cases`` / ``guotu monitor case`` on the demo county's planted change patches."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pyogrio
import pytest
from click.testing import CliRunner

from guotu.cli import root
from guotu.demo.build import build_demo
from guotu.domain.monitoring.cases import PatchFacts, classify

#: Planted manifest items → the case class each patch must get.
PLANTED = {
    "compliant.change.approved.1": "approved_built",
    "compliant.change.approved.background": "approved_built",
    "conflict.change.unapproved.1": "outside_urban_boundary",
    "conflict.change.unapproved_farmland.1": "farmland_occupation",
    "conflict.change.before_approval.1": "built_before_approval",
    "conflict.change.redline.1": "redline_construction",
    "conflict.change.compliant_unapproved.1": "compliant_unapproved",
}
#: The overlap each planted patch must show, equal to its own (ellipsoidal) area.
WHOLE_OVERLAP = {
    "conflict.change.unapproved.1": "outside_urban_boundary",
    "conflict.change.unapproved_farmland.1": "permanent_farmland",
    "conflict.change.before_approval.1": "approved_later",
    "conflict.change.redline.1": "redline",
    "compliant.change.approved.1": "approved",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("cases_demo")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=3000, seed=20261122)
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    out = CliRunner().invoke(root, ["monitor", "cases", "-w", str(result.workspace), "--json"])
    assert out.exit_code == 0, out.output
    return {
        "base": base,
        "workspace": result.workspace,
        "doc": json.loads(out.stdout),
        "items": {i["id"]: i for i in manifest["items"]},
    }


def test_every_patch_gets_its_planted_class(demo: dict[str, Any]) -> None:
    cases = {c["tbbh"]: c for c in demo["doc"]["cases"]}
    expected = {f: cls for item, cls in PLANTED.items() for f in demo["items"][item]["features"]}
    assert {t: c["class"] for t, c in cases.items()} == expected  # every patch, nothing else
    counts = demo["doc"]["summary"]["by_class"]
    assert counts["approved_built"] == len(expected) - 5
    assert all(
        counts[k] == 1
        for k in (
            "redline_construction",
            "farmland_occupation",
            "outside_urban_boundary",
            "built_before_approval",
            "compliant_unapproved",
        )
    )


def test_overlap_areas_equal_the_planted_areas(demo: dict[str, Any]) -> None:
    cases = {c["tbbh"]: c for c in demo["doc"]["cases"]}
    for item_id, key in WHOLE_OVERLAP.items():
        item = demo["items"][item_id]
        case = cases[item["features"][0]]
        assert case["area_m2"] == pytest.approx(item["area_m2"], abs=0.01), item_id
        assert case["overlaps_m2"][key] == pytest.approx(item["area_m2"], abs=0.01), item_id
    late = cases[demo["items"]["conflict.change.before_approval.1"]["features"][0]]
    (project,) = late["projects"]
    assert (
        project["xmdm"] == demo["items"]["conflict.change.before_approval.1"]["other_features"][0]
    )
    assert project["pzrq"] == "2025-08-15" and project["approved_before_image"] is False
    compliant = cases[demo["items"]["conflict.change.compliant_unapproved.1"]["features"][0]]
    assert all(v == 0 for v in compliant["overlaps_m2"].values())


def test_record_check_and_feed_the_indicators(demo: dict[str, Any], tmp_path: Path) -> None:
    ws = tmp_path / "ws.gpkg"
    shutil.copy(demo["workspace"], ws)
    runner = CliRunner()
    farm = demo["items"]["conflict.change.unapproved_farmland.1"]
    patch = farm["features"][0]
    assert (
        runner.invoke(
            root, ["monitor", "cases", "-w", str(ws), "--record", "--by", "张三"]
        ).exit_code
        == 0
    )
    out = runner.invoke(
        root,
        [
            "monitor",
            "case",
            patch,
            "-w",
            str(ws),
            "--status",
            "核查属实",
            "--by",
            "李四",
            "--date",
            "2026-05-06",
            "--note",
            "现场已硬化",
            "--json",
        ],
    )
    assert out.exit_code == 0, out.output
    row = json.loads(out.stdout)
    assert (row["ZT"], row["HCR"], row["HCRQ"], row["HCJL"]) == (
        "核查属实",
        "李四",
        "2026-05-06",
        "现场已硬化",
    )
    # a second comparison keeps the check record
    assert runner.invoke(root, ["monitor", "cases", "-w", str(ws), "--record"]).exit_code == 0
    doc = json.loads(runner.invoke(root, ["monitor", "cases", "-w", str(ws), "--json"]).stdout)
    checked = next(c for c in doc["cases"] if c["tbbh"] == patch)
    assert checked["status"] == "confirmed" and checked["check"]["HCR"] == "李四"
    ind = json.loads(runner.invoke(root, ["monitor", "indicators", "-w", str(ws), "--json"]).stdout)
    values = {r["id"]: r["value"] for r in ind["indicators"]}
    assert values["violation_cases"] == 1
    assert values["farmland_occupied_by_cases"] == pytest.approx(farm["area_m2"] / 1e4, abs=1e-6)
    rectified = runner.invoke(
        root,
        [
            "monitor",
            "case",
            patch,
            "-w",
            str(ws),
            "--status",
            "rectified",
            "--rectification",
            "已拆除复耕",
        ],
    )
    assert rectified.exit_code == 0
    ind = json.loads(runner.invoke(root, ["monitor", "indicators", "-w", str(ws), "--json"]).stdout)
    values = {r["id"]: r["value"] for r in ind["indicators"]}
    assert values["violation_cases"] == 1 and values["farmland_occupied_by_cases"] == 0
    history = runner.invoke(root, ["history", f"JCAJ:{patch}", "-w", str(ws)])
    assert history.exit_code == 0 and "核查属实" in history.output and "已整改" in history.output


def test_errors_gpkg_and_fail_on(demo: dict[str, Any], tmp_path: Path) -> None:
    runner = CliRunner()
    ws = str(demo["workspace"])
    no_cases = runner.invoke(
        root, ["monitor", "case", "BH20250002", "-w", ws, "--status", "核查属实"]
    )
    assert no_cases.exit_code == 2 and "monitor cases --record" in no_cases.output
    copy = tmp_path / "c.gpkg"
    shutil.copy(ws, copy)
    assert runner.invoke(root, ["monitor", "cases", "-w", str(copy), "--record"]).exit_code == 0
    bad = runner.invoke(
        root, ["monitor", "case", "BH20250002", "-w", str(copy), "--status", "done"]
    )
    assert bad.exit_code == 2 and "核查属实" in bad.output
    missing = runner.invoke(
        root, ["monitor", "case", "NO-SUCH", "-w", str(copy), "--status", "误报"]
    )
    assert missing.exit_code == 2 and "NO-SUCH" in missing.output
    gpkg = tmp_path / "cases.gpkg"
    out = runner.invoke(
        root, ["monitor", "cases", "-w", ws, "--gpkg", str(gpkg), "--fail-on", "error"]
    )
    assert out.exit_code == 1 and "未批先建" in out.output
    frame = pyogrio.read_dataframe(gpkg)
    assert len(frame) == len(demo["doc"]["cases"]) and "AJLXMC" in frame.columns


def test_classification_rules() -> None:
    # 80 % approved and 10 % approved later: together 90 % → built before approval
    assert classify(PatchFacts(100.0, 80.0, 10.0, 0.0, 0.0, 0.0)) == "built_before_approval"
    # 80 % approved only: the rest is unapproved, off every line → compliant but unapproved
    assert classify(PatchFacts(100.0, 80.0, 0.0, 0.0, 0.0, 0.0)) == "compliant_unapproved"
    # a sliver on the red line's edge is not an overlap
    assert classify(PatchFacts(100.0, 0.0, 0.0, 0.5, 0.0, 100.0)) == "outside_urban_boundary"
    assert classify(PatchFacts(100.0, 0.0, 0.0, 2.0, 50.0, 100.0)) == "redline_construction"
    # no development boundary layer: nothing is "outside" it
    assert (
        classify(PatchFacts(100.0, 0.0, 0.0, 0.0, 0.0, 100.0, has_udb=False))
        == "compliant_unapproved"
    )
    assert (
        classify(PatchFacts(100.0, 0.0, 0.0, 0.0, 0.0, 0.0, is_construction=False))
        == "not_construction"
    )


def test_overlapping_and_undated_projects(tmp_path: Path) -> None:
    from datetime import date

    import geopandas as gpd
    import shapely
    from pyproj import CRS

    from guotu.services.cases import classify_patches, record_cases, update_case
    from guotu.store.geopackage import GeoPackageStore

    gk = CRS.from_epsg(4527)
    x0, y0 = 39_540_000.0, 4_052_000.0
    ws = tmp_path / "w.gpkg"
    with GeoPackageStore.open(ws, create=True) as store:
        patches = gpd.GeoDataFrame(
            {"TBBH": ["P1", "P2"], "HSXRQ": [date(2025, 4, 20)] * 2, "BHLX": ["新增建设用地"] * 2},
            geometry=[
                shapely.box(x0, y0, x0 + 100, y0 + 100),
                shapely.box(x0 + 500, y0, x0 + 600, y0 + 100),
            ],
            crs=gk,
        )
        store.write_layer(
            "BHTB",
            "change_patch",
            patches,
            column_types={"TBBH": "text", "HSXRQ": "date", "BHLX": "text"},
            geometry_type="POLYGON",
            crs=gk,
        )
        # two projects over the same west half of P1; a project without a date over P2
        projects = gpd.GeoDataFrame(
            {
                "XMMC": ["甲", "乙", "丙"],
                "XMDM": ["J1", "J2", "J3"],
                "PZRQ": ["2024-01-01", "2024-02-01", None],
            },
            geometry=[
                shapely.box(x0, y0, x0 + 50, y0 + 100),
                shapely.box(x0, y0, x0 + 50, y0 + 100),
                shapely.box(x0 + 500, y0, x0 + 600, y0 + 100),
            ],
            crs=gk,
        )
        store.write_layer(
            "JSXM",
            "construction_project",
            projects,
            column_types={"XMMC": "text", "XMDM": "text", "PZRQ": "date"},
            geometry_type="POLYGON",
        )
        report = classify_patches(store, as_of=date(2026, 1, 1))
        cases = {c.tbbh: c for c in report.cases}
        p1 = cases["P1"]
        assert p1.facts.approved_m2 == pytest.approx(p1.facts.area_m2 / 2, rel=1e-6)
        assert p1.case_class != "approved_built"  # half a patch approved twice is still half
        assert cases["P2"].case_class == "compliant_unapproved"  # no date: not approved
        assert cases["P2"].projects[0].approved_before is False
        record_cases(store, report)
        update_case(store, "P1", "核查属实", checker="李四", check_date=date(2026, 2, 1))
        # the next delivery no longer has P1: its case and check stay
        store.write_layer(
            "BHTB",
            "change_patch",
            patches.iloc[[1]],
            column_types={"TBBH": "text", "HSXRQ": "date", "BHLX": "text"},
            geometry_type="POLYGON",
            replace=True,
        )
        record_cases(store, classify_patches(store, as_of=date(2026, 3, 1)))
        frame = store.read_layer("JCAJ")
        kept = frame[frame["TBBH"] == "P1"]
        assert len(kept) == 1 and kept["ZT"].iloc[0] == "核查属实"


# -- as of a date (QA: the dashboard listed 2025 patches for 2023-06-30) ------------------------
def test_cli_reads_cases_and_consolidation_as_of_the_date(demo: dict[str, Any]) -> None:
    runner = CliRunner()
    ws = str(demo["workspace"])
    image = min(c["image_date"] for c in demo["doc"]["cases"])  # 2025-04-20
    out = runner.invoke(root, ["monitor", "cases", "-w", ws, "--as-of", "2023-06-30", "--json"])
    assert out.exit_code == 0, out.output
    doc = json.loads(out.stdout)
    assert doc["cases"] == [] and doc["later_patches"] == len(demo["doc"]["cases"])
    assert "2023-06-30" in doc["notes"][0]
    on_the_day = json.loads(
        runner.invoke(root, ["monitor", "cases", "-w", ws, "--as-of", image, "--json"]).stdout
    )
    assert len(on_the_day["cases"]) == len(demo["doc"]["cases"])
    # the project approved on 2025-08-15 was not approved yet on 2025-06-01: the patch it
    # covers is unapproved then, built before approval only once the approval exists
    late = demo["items"]["conflict.change.before_approval.1"]["features"][0]
    june = json.loads(
        runner.invoke(
            root, ["monitor", "cases", "-w", ws, "--as-of", "2025-06-01", "--json"]
        ).stdout
    )
    case = next(c for c in june["cases"] if c["tbbh"] == late)
    assert case["class"] != "built_before_approval" and case["projects"] == []
    cons = runner.invoke(
        root, ["monitor", "consolidation", "-w", ws, "--as-of", "2023-06-30", "--json"]
    )
    assert cons.exit_code == 0, cons.output
    ledger = json.loads(cons.stdout)
    assert ledger["to"].startswith("2022")
    assert all(p["progress_pct"] is None for p in ledger["projects"])  # reported later
    assert not any("进度" in w for w in ledger["warnings"]) and ledger["notes"]


def test_case_status_is_read_as_of_the_date(tmp_path: Path) -> None:
    """A check recorded on 2026-02-01 is not the case's status on 2026-01-15."""
    from datetime import date

    import geopandas as gpd
    import shapely
    from pyproj import CRS

    from guotu.services.cases import classify_patches, record_cases, update_case
    from guotu.store.geopackage import GeoPackageStore

    gk = CRS.from_epsg(4527)
    x0, y0 = 39_540_000.0, 4_052_000.0
    with GeoPackageStore.open(tmp_path / "w.gpkg", create=True) as store:
        patches = gpd.GeoDataFrame(
            {"TBBH": ["P1"], "HSXRQ": [date(2025, 4, 20)], "BHLX": ["新增建设用地"]},
            geometry=[shapely.box(x0, y0, x0 + 100, y0 + 100)],
            crs=gk,
        )
        store.write_layer(
            "BHTB",
            "change_patch",
            patches,
            column_types={"TBBH": "text", "HSXRQ": "date", "BHLX": "text"},
            geometry_type="POLYGON",
            crs=gk,
        )
        record_cases(store, classify_patches(store, as_of=date(2026, 1, 1)))
        update_case(store, "P1", "核查属实", checker="李四", check_date=date(2026, 2, 1))
        before = classify_patches(store, as_of=date(2026, 1, 15)).cases[0]
        after = classify_patches(store, as_of=date(2026, 2, 1)).cases[0]
        assert (before.status, before.check) == ("pending", {})
        assert after.status == "confirmed" and after.check["HCR"] == "李四"
