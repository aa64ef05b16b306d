"""check_workspace on small GeoPackage workspaces built in tmp_path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from pyproj import CRS

from guotu.domain.checks.engine import check_order
from guotu.domain.geometry.area import ellipsoidal_area_m2
from guotu.errors import ConfigError, NotFoundError
from guotu.services.checking import QualityReport, check_workspace, load_check_list
from guotu.services.importing import import_file
from guotu.store.geopackage import GeoPackageStore

GK = CRS.from_epsg(4527)
X0, Y0 = 39_500_000.0, 4_000_000.0


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    return shapely.box(X0 + x0, Y0 + y0, X0 + x1, Y0 + y1)


def ell(geom: shapely.Geometry) -> float:
    return float(ellipsoidal_area_m2([geom], GK)[0])


BOWTIE = shapely.Polygon(
    [(X0 + 250, Y0 + 10), (X0 + 260, Y0 + 20), (X0 + 260, Y0 + 10), (X0 + 250, Y0 + 20)]
)


def add(
    store: GeoPackageStore, tmp: Path, name: str, role: str, geoms: list[Any], **cols: list[Any]
) -> None:
    path = tmp / f"src_{name}.gpkg"
    gpd.GeoDataFrame(cols, geometry=geoms, crs=GK).to_file(path, layer=name)
    import_file(store, path, role=role, layer=name)


@pytest.fixture
def county(tmp_path: Path) -> GeoPackageStore:
    """A 300 m × 100 m plan with one problem of each kind."""
    store = GeoPackageStore.open(tmp_path / "ws.gpkg", create=True)
    add(store, tmp_path, "范围", "admin_boundary", [box(0, 0, 300, 100)], XZQDM=["360100"])
    add(
        store,
        tmp_path,
        "规划用地",
        "planned_land_use",
        [box(0, 0, 100, 100), box(90, 0, 190, 100), box(200, 0, 320, 100), BOWTIE],
        YDYHFLDM=["0701", "090301", "0101", "0701"],
        YDYHFLMC=["城镇住宅用地", None, None, None],
    )
    add(store, tmp_path, "单元", "detailed_unit", [box(0, 0, 200, 100)], DYBH=["U1"])
    add(
        store,
        tmp_path,
        "地块",
        "detailed_parcel",
        [box(0, 0, 100, 100), box(100, 0, 200, 100), box(150, 0, 220, 50)],
        DYBH=["U1", "U1", "U1"],
        DKBH=["A1", "A2", "A3"],
        YDYHFLDM=["0701", "0701", "0801"],
        RJL=[0.0, 2.0, 1.5],
        LDL=[120.0, 30.0, 35.0],
    )
    yield store
    store.close()


def by_check(report: QualityReport, check: str, layer: str | None = None) -> list[Any]:
    return [f for f in report.findings if f.rule == check and layer in (None, f.layer)]


def test_every_planted_problem_is_found(county: GeoPackageStore) -> None:
    report = check_workspace(county)
    overlap, with_bowtie = by_check(report, "topology.overlap", "规划用地")
    assert (overlap.fid, overlap.related_fids, with_bowtie.is_repaired) == (1, (2,), True)
    assert overlap.area_m2 == pytest.approx(ell(box(90, 0, 100, 100)), abs=1e-6)
    (outside,) = by_check(report, "topology.outside_boundary", "规划用地")
    assert outside.area_m2 == pytest.approx(ell(box(300, 0, 320, 100)), abs=1e-6)
    (stick,) = by_check(report, "topology.parcel_outside_unit")
    assert (stick.id_field, stick.id_value) == ("DKBH", "A3")
    assert stick.area_m2 == pytest.approx(ell(box(200, 0, 220, 50)), abs=1e-6)
    (invalid,) = by_check(report, "geometry.invalid")
    assert invalid.location == (X0 + 255, Y0 + 15)
    assert [f.measured for f in by_check(report, "code.retired")] == ["090301"]
    assert {(f.field, f.measured) for f in by_check(report, "attribute.out_of_range")} == {
        ("RJL", 0.0),
        ("LDL", 120.0),
    }


def test_gap_area_is_exact_where_no_invalid_feature_touches_it(county: GeoPackageStore) -> None:
    (gap,) = by_check(check_workspace(county), "topology.gap")
    assert gap.geometry is not None
    assert gap.geometry.equals(box(190, 0, 200, 100))
    assert gap.area_m2 == pytest.approx(ell(box(190, 0, 200, 100)), abs=1e-6)


def test_findings_are_sorted_by_check_layer_feature(county: GeoPackageStore) -> None:
    findings = check_workspace(county).findings
    keys = [check_order(f) for f in findings]
    assert keys == sorted(keys)


def test_only_the_chosen_layer_is_checked(county: GeoPackageStore) -> None:
    report = check_workspace(county, layers=["地块"])
    assert {f.layer for f in report.findings} == {"地块"}
    assert by_check(report, "topology.parcel_outside_unit")  # the unit layer was still read


def test_unknown_layer_is_an_input_error(county: GeoPackageStore) -> None:
    with pytest.raises(NotFoundError, match="no layer"):
        check_workspace(county, layers=["nope"])


def test_gap_check_without_boundary_is_skipped_and_said(tmp_path: Path) -> None:
    with GeoPackageStore.open(tmp_path / "w.gpkg", create=True) as store:
        add(
            store,
            tmp_path,
            "规划用地",
            "planned_land_use",
            [box(0, 0, 100, 100), box(200, 0, 300, 100)],
            YDYHFLDM=["0701", "0701"],
        )
        report = check_workspace(store)
    assert not by_check(report, "topology.gap")
    assert [(s.rule, s.layer) for s in report.skipped if s.rule == "topology.gap"] == [
        ("topology.gap", "规划用地")
    ]


def test_repair_rewrites_invalid_geometries_and_reports_each(county: GeoPackageStore) -> None:
    report = check_workspace(county, repair=True)
    assert [(r.layer, r.fid) for r in report.repairs] == [("规划用地", 4)]
    assert report.repairs[0].reason.startswith("Self-intersection")
    assert report.repairs[0].area_after_m2 == pytest.approx(50.0)
    assert not by_check(report, "geometry.invalid")
    frame = county.read_layer("规划用地")
    # The repair is a new version: the repaired feature is a new revision (fid 5), the
    # others are shared, and the invalid original stays in the history.
    assert list(frame.index) == [1, 2, 3, 5]
    assert frame.geometry.is_valid.all()
    assert frame.loc[5, "YDYHFLDM"] == "0701"
    assert not county.read_revisions("规划用地", [4]).geometry.iloc[0].is_valid


def test_check_list_breaking_the_schema_lists_every_problem(tmp_path: Path) -> None:
    bad = tmp_path / "checks.yaml"
    bad.write_text(
        "schema_version: 1\nchecks:\n  - id: x.y\n    name_zh: x\n    name_en: x\n"
        "    severity: fatal\n    operator: overlaps\n    params: {tolerance: 1}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_check_list(bad)
    text = str(info.value)
    assert "severity" in text and "tolerance" in text


def test_shipped_check_list_loads() -> None:
    ids = [c.id for c in load_check_list()]
    assert "topology.overlap" in ids and len(ids) == len(set(ids))


# -- the demo county's planted problems --------------------------------------------------
_KIND_TO_CHECK = {
    "self_intersection": "geometry.invalid",
    "overlap": "topology.overlap",
    "gap": "topology.gap",
    "duplicate": "geometry.duplicate",
    "unknown_code": "code.unknown",
    "retired_code": "code.retired",
    "code_name_mismatch": "code.name_mismatch",
    "empty_geometry": "geometry.empty",
    "outside_boundary": "topology.outside_boundary",
    "out_of_range": "attribute.out_of_range",
    "missing_required": "attribute.required_missing",
    "outside_parent": "topology.parcel_outside_unit",
}


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[QualityReport, list[dict[str, Any]]]:
    from guotu.demo import build

    out = tmp_path_factory.mktemp("demo")
    result = build.build_demo(out / "demo.gpkg", parcels=3000)
    manifest = getattr(result, "manifest", None)
    if manifest is None or isinstance(manifest, str | Path):
        path = Path(manifest) if manifest else next(out.rglob("manifest.json"))
        manifest = json.loads(path.read_text(encoding="utf-8"))
    items = [i for i in manifest["items"] if str(i["id"]).startswith("qc.")]
    with GeoPackageStore.open(out / "demo.gpkg") as store:
        return check_workspace(store), items


def _matches(item: dict[str, Any], finding: Any) -> bool:
    if finding.layer != item["layer"]:
        return False
    if item["features"]:
        return finding.id_value in item["features"]
    geometry = shapely.from_wkt(item["geometry_wkt"])
    return finding.geometry is not None and finding.geometry.intersects(geometry)


def test_demo_county_planted_quality_items_are_found(
    demo: tuple[QualityReport, list[dict[str, Any]]],
) -> None:
    report, items = demo
    assert items, "the demo manifest has no qc. items"
    for item in items:
        check = _KIND_TO_CHECK[item["kind"]]
        found = [f for f in report.findings if f.rule == check and _matches(item, f)]
        assert found, f"{item['id']} ({check}) not found"
        if item.get("area_m2") and any(f.area_m2 is not None for f in found):
            assert min(abs((f.area_m2 or 0) - item["area_m2"]) for f in found) < 0.01, item["id"]
