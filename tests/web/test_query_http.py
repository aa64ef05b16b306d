"""``/query`` and ``/query/sheet`` on the demo county (3000 parcels), in process."""

from __future__ import annotations

import json
import re
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import segno
import shapely
from fastapi.testclient import TestClient
from pyproj import Transformer

from guotu.demo.build import build_demo
from guotu.services.workspace import open_workspace
from guotu.settings import Settings
from guotu.web.app import create_app


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("query_http")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=3000, seed=20261122)
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    items = {i["id"]: i for i in manifest["items"]}
    client = TestClient(create_app(Settings(workspace=str(result.workspace))))
    return {"client": client, "items": items, "workspace": result.workspace}


def _centre(demo: dict[str, Any], item: str) -> shapely.Point:
    return shapely.from_wkt(demo["items"][item]["geometry_wkt"]).centroid


def _layer(doc: dict[str, Any], layer: str) -> dict[str, Any]:
    return {e["feature"]: e for e in doc["applies"] if e["layer"] == layer}


def test_get_point_reports_the_red_line_and_links_the_sheet(demo: dict[str, Any]) -> None:
    c = _centre(demo, "conflict.redline.inside.1")
    r = demo["client"].get("/query", params={"point": f"{c.x},{c.y}"})
    assert r.status_code == 200, r.text
    doc = r.json()
    assert _layer(doc, "STBHHX")["HX00001"]["share_of_site"] == 1.0
    assert set(doc["applies"][0]) >= {"layer", "role", "feature", "relation", "share_of_site",
                                      "properties", "plan", "version"}
    href = doc["links"][0]["href"]
    assert "/query/sheet?" in href and f"dv={doc['data_version']}" in href


def test_get_lon_lat_with_crs(demo: dict[str, Any]) -> None:
    item = demo["items"]["conflict.redline.inside.1"]
    c = _centre(demo, "conflict.redline.inside.1")
    lon, lat = Transformer.from_crs("EPSG:4527", "EPSG:4490", always_xy=True).transform(c.x, c.y)
    r = demo["client"].get("/query", params={"point": f"{lon},{lat}", "crs": "EPSG:4490"})
    assert item["features"][0] in _layer(r.json(), "GHYD")


def test_post_geojson_polygon_gets_the_exact_share(demo: dict[str, Any]) -> None:
    item = demo["items"]["conflict.redline.straddle.1"]
    with open_workspace(demo["workspace"]) as store:
        frame = store.read_layer("GHYD")
    parcel = frame.geometry[frame["BSM"] == item["features"][0]].iloc[0]
    body = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(parcel)}]}
    r = demo["client"].post("/query", json=body)
    assert r.status_code == 200, r.text
    red = _layer(r.json(), "STBHHX")["HX00001"]
    inside = shapely.from_wkt(item["geometry_wkt"]).area
    assert red["share_of_site"] == pytest.approx(inside / parcel.area, abs=1e-6)


def test_sheet_is_self_contained_with_a_qr_code_of_its_pinned_url(demo: dict[str, Any]) -> None:
    c = _centre(demo, "conflict.redline.inside.1")
    r = demo["client"].get("/query/sheet", params={"point": f"{c.x},{c.y}",
                                                   "as_of": "2026-06-01"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    page = r.text
    assert "规划条件" in page and "生态保护红线" in page and "禁止" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", page)
    link = unescape(re.search(r"<td>(http://testserver/query/sheet\?[^<]+)</td>", page)[1])
    query = parse_qs(urlsplit(link).query)
    assert query["as_of"] == ["2026-06-01"] and query["dv"] and query["known_at"]
    qr = segno.make(link, error="m", micro=False).svg_inline(scale=3, title="永久链接")
    assert qr in page
    again = demo["client"].get(link)
    assert again.status_code == 200 and link in unescape(again.text)


@pytest.mark.parametrize(("params", "status", "code"), [
    ({"point": "a,b"}, 400, "input-error"),  # not numbers
    ({"point": "1,2"}, 404, "not-found"),  # outside every layer
    ({"parcel": "NO-SUCH"}, 404, "not-found"),  # unknown parcel code
    ({"point": "1,2", "crs": "EPSG:0"}, 400, "crs-error"),  # unknown CRS
    ({"polygon": "{"}, 400, "geometry-error"),  # not GeoJSON
    ({}, 400, "input-error"),  # no site at all
])
def test_errors_map_to_4xx(demo: dict[str, Any], params: dict[str, str], status: int,
                           code: str) -> None:
    r = demo["client"].get("/query", params=params)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and r.json()["message"]


def test_too_many_vertices_is_400(demo: dict[str, Any]) -> None:
    client = TestClient(create_app(Settings(workspace=str(demo["workspace"]),
                                            max_query_vertices=10)))
    poly = shapely.Point(39_527_060, 4_056_040).buffer(10)
    r = client.post("/query", json=shapely.geometry.mapping(poly))
    assert r.status_code == 400 and "顶点" in r.json()["message"]


def test_invalid_geojson_body_is_400(demo: dict[str, Any]) -> None:
    r = demo["client"].post("/query", json={"type": "LineString", "coordinates": [[0, 0], [1, 1]]})
    assert r.status_code == 400 and r.json()["code"] == "geometry-error"
