"""The monitoring endpoints on the demo county (in process)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import shapely.geometry
from fastapi.testclient import TestClient

from guotu.demo.build import build_demo
from guotu.settings import Settings
from guotu.store.catalog import VersionSpec
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("monitor_http")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=3000, seed=20261122)
    files = base / "files"
    settings = Settings(workspace=str(result.workspace),
                        monitor_targets=str(files / "规划目标.xlsx"),
                        monitor_statistics=str(files / "社会经济统计.xlsx"))
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    with TestClient(create_app(settings)) as client:
        yield {"client": client, "workspace": result.workspace, "manifest": manifest}


def test_indicators_with_targets_from_settings(demo: dict[str, Any]) -> None:
    doc = demo["client"].get("/monitor/indicators.json", params={"as_of": "2025-12-31"}).json()
    status = {r["id"]: r["status"] for r in doc["indicators"]}
    assert status["cultivated_land"] == "yellow" and status["construction_land_total"] == "red"
    assert doc["summary"]["red"] == 1
    english = demo["client"].get("/monitor/indicators.json",
                                 params={"as_of": "2025-12-31", "lang": "en"}).json()
    assert "breached" in english["warnings"][0]["message"]


def test_a_new_survey_version_is_followed_incrementally(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    before = client.get("/monitor/indicators.json").json()
    with GeoPackageStore.open(demo["workspace"]) as store:
        info = store.layer("DLTB")
        frame = store.read_layer("DLTB").reset_index(drop=True)
        row = int((frame["DLBM"].astype(str) == "0103").to_numpy().nonzero()[0][0])
        frame.loc[row, "DLBM"] = "0701"
        store.write_layer("DLTB", info.role, frame, column_types=info.columns,
                          geometry_type=info.geometry_type,
                          version=VersionSpec(info.plan, "2026年度国土变更调查",
                                              valid_from=__import__("datetime").date(2026, 6, 30)))
    engine = client.app.state.monitor_engine  # type: ignore[attr-defined]
    reads_before = list(engine.reads)
    after = client.get("/monitor/indicators.json").json()
    assert engine.reads[0] == reads_before[0]  # no full read again
    assert engine.reads[1] - reads_before[1] == 1  # the one changed patch
    value = {r["id"]: r["value"] for r in after["indicators"]}
    old = {r["id"]: r["value"] for r in before["indicators"]}
    assert value["cultivated_land"] < old["cultivated_land"]
    assert value["construction_land_total"] - old["construction_land_total"] == pytest.approx(
        old["cultivated_land"] - value["cultivated_land"], abs=1e-9)


def test_cases_map_consolidation_and_reports(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    cases = client.get("/monitor/cases.json").json()
    assert len(cases["map"]["features"]) == len(cases["cases"]) == 10
    shape = shapely.geometry.shape(cases["map"]["features"][0]["geometry"])
    lon, lat = shape.representative_point().coords[0]
    assert 116 < lon < 119 and 35 < lat < 38
    cons = client.get("/monitor/consolidation.json").json()
    assert cons["totals"]["balanced"] is False and len(cons["ledger"]) >= 4
    html = client.get("/monitor/report.html")
    assert html.status_code == 200 and "体检评估" in html.text and "<svg" in html.text
    assert str(demo["workspace"].parent) not in html.text  # no server path
    pdf = client.get("/monitor/report.pdf")
    assert pdf.status_code == 200 and pdf.content[:5] == b"%PDF-"
    xlsx = client.get("/monitor/report.xlsx")
    assert xlsx.content[:2] == b"PK" and "attachment" in xlsx.headers["content-disposition"]
    assert client.get("/monitor/report.doc").status_code == 404
    assert client.get("/ui/monitor").status_code in (200, 503)
