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
    assert set(doc["applies"][0]) >= {
        "layer",
        "role",
        "feature",
        "relation",
        "share_of_site",
        "properties",
        "plan",
        "version",
    }
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
    body = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {}, "geometry": shapely.geometry.mapping(parcel)}
        ],
    }
    r = demo["client"].post("/query", json=body)
    assert r.status_code == 200, r.text
    red = _layer(r.json(), "STBHHX")["HX00001"]
    inside = shapely.from_wkt(item["geometry_wkt"]).area
    assert red["share_of_site"] == pytest.approx(inside / parcel.area, abs=1e-6)


def test_sheet_is_self_contained_with_a_qr_code_of_its_pinned_url(demo: dict[str, Any]) -> None:
    c = _centre(demo, "conflict.redline.inside.1")
    r = demo["client"].get("/query/sheet", params={"point": f"{c.x},{c.y}", "as_of": "2026-06-01"})
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


@pytest.mark.parametrize(
    ("params", "status", "code"),
    [
        ({"point": "a,b"}, 400, "input-error"),  # not numbers
        ({"point": "1,2"}, 404, "not-found"),  # outside every layer
        ({"parcel": "NO-SUCH"}, 404, "not-found"),  # unknown parcel code
        ({"point": "1,2", "crs": "EPSG:0"}, 400, "crs-error"),  # unknown CRS
        ({"polygon": "{"}, 400, "geometry-error"),  # not GeoJSON
        ({}, 400, "input-error"),  # no site at all
    ],
)
def test_errors_map_to_4xx(
    demo: dict[str, Any], params: dict[str, str], status: int, code: str
) -> None:
    r = demo["client"].get("/query", params=params)
    assert r.status_code == status, r.text
    assert r.json()["code"] == code and r.json()["message"]


def test_too_many_vertices_is_400(demo: dict[str, Any]) -> None:
    client = TestClient(
        create_app(Settings(workspace=str(demo["workspace"]), max_query_vertices=10))
    )
    poly = shapely.Point(39_527_060, 4_056_040).buffer(10)
    r = client.post("/query", json=shapely.geometry.mapping(poly))
    assert r.status_code == 400 and "顶点" in r.json()["message"]


def test_invalid_geojson_body_is_400(demo: dict[str, Any]) -> None:
    r = demo["client"].post("/query", json={"type": "LineString", "coordinates": [[0, 0], [1, 1]]})
    assert r.status_code == 400 and r.json()["code"] == "geometry-error"


# -- the printed sheet (QA: 2-character label column, vertical 关系, 11 × the HDLX list, codes) --
def _sheet(demo: dict[str, Any], **params: str) -> str:
    r = demo["client"].get("/query/sheet", params=params)
    assert r.status_code == 200, r.text
    return r.text


def test_answer_names_each_feature(demo: dict[str, Any]) -> None:
    c = _centre(demo, "conflict.redline.inside.1")
    doc = demo["client"].get("/query", params={"point": f"{c.x},{c.y}"}).json()
    county = next(e for e in doc["applies"] if e["layer"] == "XZQ" and len(e["feature"]) == 6)
    assert county["name"] == county["properties"]["XZQMC"]
    assert _layer(doc, "GHYD") and all(e["name"] is None for e in _layer(doc, "GHYD").values())
    assert doc["data_recorded_at"] >= max(e["version"]["recorded_at"] for e in doc["applies"])


def test_sheet_says_each_fact_once_in_words(demo: dict[str, Any]) -> None:
    c = _centre(demo, "conflict.redline.inside.1")
    page = _sheet(demo, point=f"{c.x},{c.y}")
    text = unescape(re.sub(r"<[^>]+>", " ", page.split("</style>")[1]))
    # the red line's rule, its basis and the permitted activities (HDLX) once, not per class
    assert text.count("生态保护红线内不得安排建设用地") == 1
    assert text.count("管护巡护") == 1
    assert text.count("人为活动类型（HDLX）") == 1
    # one row per rule (not per class), then the allowed classes
    uses = page[page.index("用途管制") :]
    uses = uses[: uses.index("</table>")]
    doc = demo["client"].get("/query", params={"point": f"{c.x},{c.y}"}).json()
    rules = {r["rule"] for code in doc["allowed_uses"]["codes"] for r in code["reasons"]}
    assert uses.count("<tr>") == 1 + len(rules) + 1 and len(rules) == 2
    # standard field names and class names, never CODE=value
    assert not re.search(r"\b[A-Z]{2,}=", text)
    assert "用地用海分类：" in text and "示范县（370999）" in text
    assert "行政级别：县级" in text
    # a readable data version and coordinate system
    assert "登记的数据（数据版本校验码" in text
    assert "3度带高斯-克吕格投影" in text and "EPSG:4527" in text
    # the sea classes of an inland county are one entry
    assert "用海类（18、19、20、21、22、24）" in text and "18 渔业用海" not in text
    # each layer's plan and version once, in the sources table
    assert text.count("生态保护红线（STBHHX）") == 1


def test_sheet_is_laid_out_for_a4(demo: dict[str, Any]) -> None:
    c = _centre(demo, "conflict.redline.inside.1")
    page = _sheet(demo, point=f"{c.x},{c.y}")
    assert "@page{size:A4" in page and "table-layout:fixed" in page
    # labels are header cells of their own width; the relation never wraps
    assert "<tr><th>查询位置</th>" in page and ".head th{width:5.5em" in page
    assert '<td class="nowrap">位于其内</td>' in page
    assert "出具单位（盖章）" in page and "经办人" in page


def test_sheet_of_a_parcel_lists_its_indicators_by_name(demo: dict[str, Any]) -> None:
    with open_workspace(demo["workspace"]) as store:
        frame = store.read_layer("XXGHDK", columns=["DKBH", "YDYHFLDM", "RJL"])
    row = frame[frame["RJL"].notna()].iloc[0]
    page = _sheet(demo, parcel=str(row["DKBH"]))
    assert "地块控制指标" in page and "容积率" in page
    from guotu.domain.codes.classification import code_label

    assert f"{row['YDYHFLDM']} {code_label(row['YDYHFLDM'])[0]}" in unescape(page)


def test_english_sheet(demo: dict[str, Any]) -> None:
    c = _centre(demo, "conflict.redline.inside.1")
    page = _sheet(demo, point=f"{c.x},{c.y}", lang="en")
    assert "Site planning conditions" in page and "forbidden" in page
    assert "3-degree Gauss-Kruger zone 39" in page
