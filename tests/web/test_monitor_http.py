"""The monitoring endpoints on the demo county (in process)."""

from __future__ import annotations

import json
from typing import Any

import pytest
import shapely.geometry
from fastapi.testclient import TestClient

from guotu.demo.build import build_demo
from guotu.domain.core.catalog import VersionSpec
from guotu.settings import Settings
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("monitor_http")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=3000, seed=20261122)
    files = base / "files"
    settings = Settings(
        workspace=str(result.workspace),
        monitor_targets=str(files / "规划目标.xlsx"),
        monitor_statistics=str(files / "社会经济统计.xlsx"),
    )
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    with TestClient(create_app(settings)) as client:
        yield {"client": client, "workspace": result.workspace, "manifest": manifest}


def test_indicators_with_targets_from_settings(demo: dict[str, Any]) -> None:
    doc = demo["client"].get("/monitor/indicators.json", params={"as_of": "2025-12-31"}).json()
    status = {r["id"]: r["status"] for r in doc["indicators"]}
    assert status["cultivated_land"] == "yellow" and status["construction_land_total"] == "red"
    assert doc["summary"]["red"] == 1
    english = (
        demo["client"]
        .get("/monitor/indicators.json", params={"as_of": "2025-12-31", "lang": "en"})
        .json()
    )
    assert "breached" in english["warnings"][0]["message"]


def test_the_dashboard_gets_the_crossing_worded(demo: dict[str, Any]) -> None:
    """monitor.js shows ``crossing_text`` as it comes: a breach is 已突破, never a forecast."""
    for lang, breached, forecast in (
        ("zh", "已突破", "预计突破 "),
        ("en", "Breached", "Crossing "),
    ):
        doc = (
            demo["client"]
            .get("/monitor/indicators.json", params={"as_of": "2025-12-31", "lang": lang})
            .json()
        )
        text = {r["id"]: r["crossing_text"] for r in doc["indicators"]}
        assert text["construction_land_total"] == breached
        assert text["cultivated_land"].startswith(forecast)
        for iid in demo["manifest"]["history"]["expected"]["no_target"]:
            assert text[iid] is None, iid  # no target


def test_a_new_survey_version_is_followed_incrementally(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    before = client.get("/monitor/indicators.json").json()
    with GeoPackageStore.open(demo["workspace"]) as store:
        info = store.layer("DLTB")
        frame = store.read_layer("DLTB").reset_index(drop=True)
        row = int((frame["DLBM"].astype(str) == "0103").to_numpy().nonzero()[0][0])
        frame.loc[row, "DLBM"] = "0701"
        store.write_layer(
            "DLTB",
            info.role,
            frame,
            column_types=info.columns,
            geometry_type=info.geometry_type,
            version=VersionSpec(
                info.plan,
                "2026年度国土变更调查",
                valid_from=__import__("datetime").date(2026, 6, 30),
            ),
        )
    engine = client.app.state.monitor_engine  # type: ignore[attr-defined]
    reads_before = list(engine.reads)
    after = client.get("/monitor/indicators.json").json()
    assert engine.reads[0] == reads_before[0]  # no full read again
    assert engine.reads[1] - reads_before[1] == 1  # the one changed patch
    value = {r["id"]: r["value"] for r in after["indicators"]}
    old = {r["id"]: r["value"] for r in before["indicators"]}
    assert value["cultivated_land"] < old["cultivated_land"]
    assert value["construction_land_total"] - old["construction_land_total"] == pytest.approx(
        old["cultivated_land"] - value["cultivated_land"], abs=1e-9
    )


def test_cases_map_consolidation_and_reports(demo: dict[str, Any], cjk_font: object) -> None:
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


# -- targets and statistics from the workspace (issue 14) --------------------------------------
@pytest.fixture(scope="module")
def bare(demo: dict[str, Any]) -> Any:
    """The dashboard as ``guotu serve -w demo_county.gpkg`` serves it: no flags, no settings."""
    with TestClient(create_app(Settings(workspace=str(demo["workspace"])))) as client:
        yield client


@pytest.mark.parametrize("as_of", ["2025-12-31", None], ids=["planted date", "today"])
def test_dashboard_and_cli_give_the_same_statuses(
    demo: dict[str, Any], bare: TestClient, as_of: str | None
) -> None:
    from click.testing import CliRunner

    from guotu.cli import root

    params = {"as_of": as_of} if as_of else {}
    web = bare.get("/monitor/indicators.json", params=params).json()
    args = ["monitor", "indicators", "-w", str(demo["workspace"]), "--json"]
    out = CliRunner().invoke(root, [*args, *(["--as-of", as_of] if as_of else [])])
    assert out.exit_code == 0, out.output
    cli = json.loads(out.stdout)
    statuses = {r["id"]: r["status"] for r in web["indicators"]}
    assert len(statuses) == 19
    assert statuses == {r["id"]: r["status"] for r in cli["indicators"]}
    assert web["summary"] == cli["summary"] and web["summary"]["no_target"] < 19
    for doc in (web, cli):
        assert doc["inputs"]["targets"]["from"] == "workspace"
        assert doc["inputs"]["targets"]["table"]["version"] == "v1"
        assert doc["inputs"]["statistics"]["table"]["source"] == "社会经济统计.xlsx"
    if as_of:
        planted = demo["manifest"]["history"]["expected"]["status_2025"]
        assert {k: statuses[k] for k in planted} == planted
        colours = list(planted.values())
        assert web["summary"]["red"] == colours.count("red") == 1
        assert web["summary"]["yellow"] == colours.count("yellow")


def test_settings_files_override_the_workspace_and_say_so(demo: dict[str, Any]) -> None:
    doc = demo["client"].get("/monitor/indicators.json").json()
    assert doc["inputs"]["targets"]["from"] == "file"
    assert doc["inputs"]["targets"]["file"] == doc["targets"] == "规划目标.xlsx"  # no folders
    assert doc["inputs"]["targets"]["overridden_table"]["version"] == "v1"


def test_a_new_import_reaches_the_running_dashboard(
    demo: dict[str, Any], bare: TestClient, tmp_path: Any
) -> None:
    import pandas as pd

    from guotu.services.monitoring_inputs import import_table, load_catalogue

    first = bare.get("/monitor/indicators.json", params={"as_of": "2025-12-31"}).json()
    assert {r["id"]: r["status"] for r in first["indicators"]}["cultivated_land"] == "yellow"
    files = demo["workspace"].parent / "files"
    table = pd.read_excel(files / "规划目标.xlsx")
    name = table.columns[0]
    row = table.index[table[name] == "耕地保有量"][0]
    for column in table.columns[1:]:
        if str(column).startswith("20"):
            table.loc[row, column] = 1.0  # a floor far below: no longer a warning
    amended = tmp_path / "规划目标_修改.xlsx"
    table.to_excel(amended, index=False)
    with GeoPackageStore.open(demo["workspace"]) as store:
        import_table(store, "targets", amended, load_catalogue(), reason="规划修改")
    after = bare.get("/monitor/indicators.json", params={"as_of": "2025-12-31"}).json()
    assert after["inputs"]["targets"]["table"]["version"] == "v2"
    assert after["inputs"]["targets"]["table"]["source"] == "规划目标_修改.xlsx"
    assert {r["id"]: r["status"] for r in after["indicators"]}["cultivated_land"] == "green"
    report = bare.get("/monitor/report.html", params={"as_of": "2025-12-31"})
    assert report.status_code == 200


# -- the dashboard's date (QA: 2023-06-30 listed the 2025 cases and today's progress) ----------
def test_cases_and_consolidation_follow_the_dashboards_date(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    params = {"as_of": "2023-06-30"}
    cases = client.get("/monitor/cases.json", params=params).json()
    assert cases["as_of"] == "2023-06-30" and cases["cases"] == []
    assert cases["map"]["features"] == [] and cases["later_patches"] == 10
    assert "2023-06-30" in cases["notes"][0]
    cons = client.get("/monitor/consolidation.json", params=params).json()
    assert cons["as_of"] == "2023-06-30" and cons["to"].startswith("2022")
    assert all(p["progress_pct"] is None for p in cons["projects"])
    assert not any("进度" in w for w in cons["warnings"]) and "当日进度未知" in cons["notes"][0]
    today = client.get("/monitor/consolidation.json").json()
    assert any("进度 100%" in w for w in today["warnings"])  # the planted shortfall


def test_cases_and_consolidation_take_the_record_time(demo: dict[str, Any]) -> None:
    """``known_at`` before anything was recorded: nothing is known, said as a 404 / note."""
    client: TestClient = demo["client"]
    early = {"known_at": "2000-01-01T00:00:00Z"}
    assert client.get("/monitor/cases.json", params=early).status_code == 404
    cons = client.get("/monitor/consolidation.json", params=early).json()
    assert cons["note"] and cons["projects"] == []
    now = client.get("/monitor/cases.json", params={"known_at": "2100-01-01T00:00:00+08:00"}).json()
    assert len(now["cases"]) == 10
