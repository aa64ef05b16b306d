"""The web UI's routes and the review endpoint, in process (no browser)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guotu.demo.build import build_demo
from guotu.settings import Settings
from guotu.web import ui
from guotu.web.app import create_app


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("ui_app")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=3000, seed=20261122)
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    client = TestClient(create_app(Settings(workspace=str(result.workspace))))
    return {"client": client, "items": {i["id"]: i for i in manifest["items"]}}


def test_ui_page_or_install_message(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    assert client.get("/ui", follow_redirects=False).headers["location"] == "/ui/"
    r = client.get("/ui/")
    if all(p.is_file() for p in ui.vendor_files().values()):
        assert r.status_code == 200 and "国土空间规划一张图" in r.text
        assert client.get("/ui/vendor/maplibre-gl.js").status_code == 200
    else:
        assert r.status_code == 503 and "npm ci" in r.text
    assert client.get("/ui/static/app.js").status_code == 200
    assert client.get("/ui/static/../ui.py").status_code == 404
    assert client.get("/ui/vendor/package.json").status_code == 404


def test_missing_assets_page_says_how_to_install(demo: dict[str, Any], tmp_path: Path,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ui, "NODE_MODULES", tmp_path / "node_modules")
    r = demo["client"].get("/ui/")
    assert r.status_code == 503
    assert "make ui" in r.text and "npm ci" in r.text and "maplibre-gl" in r.text
    assert demo["client"].get("/collections").status_code == 200  # the API still works


def test_config_lists_layers_bounds_and_colours(demo: dict[str, Any]) -> None:
    doc = demo["client"].get("/ui/config.json").json()
    layers = {entry["name"]: entry for entry in doc["layers"]}
    assert layers["GHYD"]["code_field"] == "YDYHFLDM"
    assert layers["STBHHX"]["role_zh"] == "生态保护红线"
    lon0, lat0, lon1, lat1 = doc["bounds"]
    assert 116 < lon0 < lon1 < 119 and 35 < lat0 < lat1 < 38
    codes = [c["code"] for c in doc["land_use_colours"]]
    assert codes == [f"{n:02d}" for n in range(1, 25)]


def test_balance(demo: dict[str, Any]) -> None:
    doc = demo["client"].get("/ui/balance.json", params={"layer": "GHYD"}).json()
    level1 = [r for r in doc["rows"] if r["level"] == 1]
    assert level1 and abs(sum(r["share"] for r in level1) - 1) < 0.01
    assert demo["client"].get("/ui/balance.json", params={"layer": "NOPE"}).status_code == 404


def test_review_answers_findings_map_and_reports(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    doc = client.post("/review/master-plan").json()
    parcel = demo["items"]["conflict.redline.inside.1"]["features"][0]
    hits = [f for f in doc["findings"] if f["rule"] == "sanqu.redline.construction"
            and any(ref["id_value"] == parcel for ref in f["features"])]
    assert len(hits) == 1
    assert doc["summary"]["total"] == len(doc["findings"])
    lon, lat = doc["map"]["features"][0]["geometry"]["coordinates"][0][0][0]
    assert 116 < lon < 119 and 35 < lat < 38
    html = client.get(f"/review/reports/{doc['report_id']}.html")
    assert html.status_code == 200 and parcel in html.text
    xlsx = client.get(f"/review/reports/{doc['report_id']}.xlsx")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert "attachment" in xlsx.headers["content-disposition"]


def test_review_errors(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    assert client.post("/review/indicators").status_code == 400
    assert client.post("/review/nonsense").status_code == 400
    r = client.post("/review/master-plan", params={"rules": "/etc/passwd"})
    assert r.status_code == 400 and "/etc/passwd" not in r.json().get("fix", "")
    assert client.post("/review/master-plan", params={"source": "/tmp/x.shp"}).status_code == 400
    assert client.get("/review/reports/0000.html").status_code == 404
    assert client.get("/review/reports/0000.pdf").status_code == 404
