"""OGC API - Features on a small GeoPackage workspace built in tmp_path: known answers
in-process, then GDAL's OAPIF driver against a real uvicorn server (in subprocesses)."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import httpx2 as httpx
import pytest
import shapely
from fastapi.testclient import TestClient
from pyproj import CRS, Transformer

from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.services.importing import import_file
from guotu.settings import Settings
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app

GK = CRS.from_epsg(4527)
X0, Y0 = 39_540_000.0, 4_052_000.0
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
EPSG = "http://www.opengis.net/def/crs/EPSG/0/{}"
TO_LONLAT = Transformer.from_crs(GK, "OGC:CRS84", always_xy=True)
# Five 100 m squares in a row; the 2024 amendment keeps the first three, and recodes the third.
CODES_2021 = ["0703", "0703", "0101", "0701", "0703"]
CODES_2024 = ["0703", "0703", "0703"]


def square(i: int) -> shapely.Polygon:
    return shapely.box(X0 + 100 * i, Y0, X0 + 100 * (i + 1), Y0 + 100)


def _import(
    store: GeoPackageStore,
    tmp: Path,
    name: str,
    role: str,
    frame: gpd.GeoDataFrame,
    version: VersionSpec | None = None,
) -> None:
    path = tmp / f"src_{name}_{version.label if version else 'x'}.gpkg"
    frame.to_file(path, layer=name)
    import_file(store, path, role=role, layer=name, version=version)


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """GHYD in two versions of a master plan (2021: 5 squares; 2024: 3) and one XZQ."""
    path = tmp_path / "ws.gpkg"
    with GeoPackageStore.open(path, create=True) as store:
        store.create_plan("总规", level=PlanLevel.COUNTY, type=PlanType.MASTER)
        for label, start, codes in (
            ("2021版", date(2021, 1, 1), CODES_2021),
            ("2024修改", date(2024, 6, 1), CODES_2024),
        ):
            n = len(codes)
            frame = gpd.GeoDataFrame(
                {
                    "BSM": [f"{label}-{i}" for i in range(n)],
                    "YDYHFLDM": codes,
                    "MJ": [10_000.0 + i for i in range(n)],
                },
                geometry=[square(i) for i in range(n)],
                crs=GK,
            )
            _import(
                store,
                tmp_path,
                "GHYD",
                "planned_land_use",
                frame,
                VersionSpec("总规", label, valid_from=start),
            )
        _import(
            store,
            tmp_path,
            "XZQ",
            "admin_boundary",
            gpd.GeoDataFrame(
                {"XZQDM": ["370999"]}, geometry=[shapely.box(X0, Y0, X0 + 500, Y0 + 100)], crs=GK
            ),
        )
    return path


@pytest.fixture
def client(workspace: Path) -> TestClient:
    return TestClient(
        create_app(Settings(workspace=str(workspace), max_items_limit=4, default_items_limit=2))
    )


def fids(body: dict[str, Any]) -> list[int]:
    return [f["id"] for f in body["features"]]


def rels(body: dict[str, Any]) -> dict[str, str]:
    return {link["rel"]: link["href"] for link in body["links"] if link["type"] != "text/html"}


# -- landing page, conformance, API document -------------------------------------------------
def test_landing_page_links_the_api_conformance_and_data(client: TestClient) -> None:
    links = rels(client.get("/").json())
    assert {
        k: v.removeprefix("http://testserver")
        for k, v in links.items()
        if k in ("service-desc", "conformance", "data")
    } == {"service-desc": "/api", "conformance": "/conformance", "data": "/collections"}


def test_conformance_declares_core_geojson_html_oas30_and_crs(client: TestClient) -> None:
    classes = {c.rsplit("/", 1)[1] for c in client.get("/conformance").json()["conformsTo"]}
    assert classes == {"core", "geojson", "html", "oas30", "crs"}


def test_api_document_has_only_internal_refs(client: TestClient) -> None:
    text = client.get("/api").text
    refs = [part.split('"', 1)[0] for part in text.split('"$ref":"')[1:]]
    assert refs and all(r.startswith("#/") for r in refs)
    assert "/collections/{layer}/items" in json.loads(text)["paths"]


# -- collections -----------------------------------------------------------------------------
def test_collections_give_crs_list_storage_crs_and_extent(client: TestClient) -> None:
    body = client.get("/collections").json()
    assert [c["id"] for c in body["collections"]] == ["GHYD", "XZQ"]
    ghyd = client.get("/collections/GHYD").json()
    assert ghyd["storageCrs"] == EPSG.format(4527)
    assert ghyd["crs"] == [CRS84, EPSG.format(4490), EPSG.format(4527)]
    # In force today: three squares; the storage-CRS box is northing, easting (EPSG order).
    assert ghyd["extent"]["spatial"]["storageCrsBbox"] == [[Y0, X0, Y0 + 100, X0 + 300]]
    lon0, lat0 = TO_LONLAT.transform(X0, Y0)
    west, south, east, north = ghyd["extent"]["spatial"]["bbox"][0]
    # The grid's bottom edge curves south away from the central meridian: the box covers it.
    assert west == pytest.approx(lon0, abs=1e-6) and 0 <= lat0 - south < 1e-4
    assert east > west and north > south


# -- items: paging, filters, CRS, as-of ------------------------------------------------------
def test_pages_follow_next_and_prev_links(client: TestClient) -> None:
    first = client.get("/collections/GHYD/items").json()
    assert (first["numberMatched"], first["numberReturned"], fids(first)) == (3, 2, [6, 7])
    assert "prev" not in rels(first)
    second = client.get(rels(first)["next"]).json()
    assert (second["numberReturned"], fids(second)) == (1, [8])
    assert "next" not in rels(second) and "offset=0" in rels(second)["prev"]


def test_limit_above_the_maximum_is_clamped(client: TestClient) -> None:
    body = client.get(
        "/collections/GHYD/items", params={"limit": 50, "datetime": "2022-01-01"}
    ).json()
    assert (body["numberMatched"], body["numberReturned"]) == (5, 4)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        # no date: the 2024 amendment is in force
        ({}, 3),
        ({"datetime": "2023-01-01"}, 5),
        ({"datetime": "2023-01-01T08:00:00Z"}, 5),
        # an interval reads as of its end; an open end is today
        ({"datetime": "2020-01-01/2023-12-31"}, 5),
        ({"datetime": "2023-01-01/.."}, 3),
        # before the plan's first version nothing is in force
        ({"datetime": "2020-01-01"}, 0),
    ],
)
def test_datetime_reads_the_version_in_force(
    client: TestClient, params: dict[str, str], expected: int
) -> None:
    body = client.get("/collections/GHYD/items", params={"limit": 4, **params}).json()
    assert body["numberMatched"] == expected


def test_property_filters_compare_equal_values(client: TestClient) -> None:
    old = {"limit": 4, "datetime": "2023-01-01"}
    by_code = client.get("/collections/GHYD/items", params={**old, "YDYHFLDM": "0703"}).json()
    assert [f["properties"]["BSM"] for f in by_code["features"]] == [
        "2021版-0",
        "2021版-1",
        "2021版-4",
    ]
    by_number = client.get("/collections/GHYD/items", params={**old, "MJ": "10003"}).json()
    assert [f["properties"]["BSM"] for f in by_number["features"]] == ["2021版-3"]


@pytest.mark.parametrize(
    ("bbox", "bbox_crs"),
    [
        # the second and third squares' middle, in each CRS's own axis order
        ("lonlat", None),
        ("latlon", EPSG.format(4490)),
        ("northeast", EPSG.format(4527)),
    ],
)
def test_bbox_in_each_crs_finds_the_same_features(
    client: TestClient, bbox: str, bbox_crs: str | None
) -> None:
    x0, y0, x1, y1 = X0 + 150, Y0 + 40, X0 + 250, Y0 + 60
    lon0, lat0 = TO_LONLAT.transform(x0, y0)
    lon1, lat1 = TO_LONLAT.transform(x1, y1)
    values = {
        "lonlat": (lon0, lat0, lon1, lat1),
        "latlon": (lat0, lon0, lat1, lon1),
        "northeast": (y0, x0, y1, x1),
    }[bbox]
    params = {"bbox": ",".join(map(str, values)), "limit": 4}
    if bbox_crs:
        params["bbox-crs"] = bbox_crs
    body = client.get("/collections/GHYD/items", params=params).json()
    assert fids(body) == [7, 8] and body["numberMatched"] == 2


@pytest.mark.parametrize(
    ("crs", "first_point"),
    [
        (None, "lonlat"),
        (CRS84, "lonlat"),
        ("EPSG:4490", "latlon"),
        (EPSG.format(4490), "latlon"),
        (EPSG.format(4527), "northeast"),
    ],
)
def test_crs_parameter_gives_the_axis_order_of_the_crs(
    client: TestClient, crs: str | None, first_point: str
) -> None:
    params = {"limit": 1} if crs is None else {"limit": 1, "crs": crs}
    response = client.get("/collections/GHYD/items", params=params)
    ring = response.json()["features"][0]["geometry"]["coordinates"][0][0]
    lon, lat = TO_LONLAT.transform(X0 + 100, Y0)  # shapely.box starts at (maxx, miny)
    expected = {"lonlat": (lon, lat), "latlon": (lat, lon), "northeast": (Y0, X0 + 100)}
    assert tuple(ring[0]) == pytest.approx(expected[first_point], abs=1e-7)
    uri = {"lonlat": CRS84, "latlon": EPSG.format(4490), "northeast": EPSG.format(4527)}
    assert response.headers["content-crs"] == f"<{uri[first_point]}>"
    assert response.headers["content-type"] == "application/geo+json"


def test_one_feature_by_fid_as_of_a_date(client: TestClient) -> None:
    assert client.get("/collections/GHYD/items/6").json()["properties"]["BSM"] == "2024修改-0"
    retired = client.get("/collections/GHYD/items/4")
    assert retired.status_code == 404 and set(retired.json()) == {"code", "description"}
    old = client.get("/collections/GHYD/items/4", params={"datetime": "2023-01-01"})
    assert old.json()["properties"]["YDYHFLDM"] == "0701"


# -- errors ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        ("/collections/NONE", {}, 404),
        ("/collections/NONE/items", {}, 404),
        ("/collections/GHYD/items/999", {}, 404),
        # unknown parameter (not a column either), bad values
        ("/collections/GHYD/items", {"colour": "red"}, 400),
        ("/collections/GHYD/items", {"MJ": "big"}, 400),
        ("/collections/GHYD/items", {"bbox": "1,2,3"}, 400),
        ("/collections/GHYD/items", {"bbox": "3,2,1,4"}, 400),
        ("/collections/GHYD/items", {"limit": "0"}, 400),
        ("/collections/GHYD/items", {"offset": "-1"}, 400),
        ("/collections/GHYD/items", {"datetime": "yesterday"}, 400),
        ("/collections/GHYD/items", {"crs": "EPSG:3857"}, 400),
        ("/collections/GHYD/items", {"f": "xml"}, 400),
        ("/collections/GHYD/items", {"lang": "fr"}, 400),
    ],
)
def test_errors_use_the_ogc_exception_form(
    client: TestClient, path: str, params: dict[str, str], status: int
) -> None:
    response = client.get(path, params=params)
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"code", "description"}
    assert ".gpkg" not in body["description"] and "SELECT" not in body["description"]


@pytest.mark.parametrize(
    "bbox",
    [
        # the whole of China (issue 14: no bbox is refused for its size; pages protect the server)
        "73,18,135,54",
        # six numbers: the heights are ignored
        "73,18,-100,135,54,9000",
    ],
)
def test_a_bbox_of_any_size_is_paged(client: TestClient, bbox: str) -> None:
    body = client.get("/collections/GHYD/items", params={"bbox": bbox}).json()
    assert (body["numberMatched"], body["numberReturned"]) == (3, 2)
    assert "next" in rels(body)


def test_a_bbox_outside_the_workspace_crs_matches_nothing(client: TestClient) -> None:
    response = client.get("/collections/GHYD/items", params={"bbox": "-170,-80,-160,-70"})
    assert response.status_code == 200
    assert (response.json()["numberMatched"], response.json()["features"]) == (0, [])


def test_a_page_past_the_end_links_back_to_the_last_page(client: TestClient) -> None:
    body = client.get("/collections/GHYD/items", params={"offset": 10, "limit": 2}).json()
    assert body["features"] == [] and "next" not in rels(body)
    prev = client.get(rels(body)["prev"]).json()
    assert fids(prev) == [7, 8] and prev["numberReturned"] == 2


def test_queryables_describe_the_property_filters(client: TestClient) -> None:
    response = client.get("/collections/GHYD/queryables")
    assert response.headers["content-type"] == "application/schema+json"
    body = response.json()
    assert body["properties"] == {
        "BSM": {"title": "BSM", "type": "string"},
        "YDYHFLDM": {"title": "YDYHFLDM", "type": "string"},
        "MJ": {"title": "MJ", "type": "number"},
    }
    assert body["additionalProperties"] is False and body["$id"].endswith("/GHYD/queryables")
    links = client.get("/collections/GHYD").json()["links"]
    assert any(
        link["rel"].endswith("/queryables") and link["href"] == body["$id"] for link in links
    )


# -- HTML --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/collections",
        "/collections/GHYD",
        "/collections/GHYD/queryables",
        "/collections/GHYD/items",
        "/collections/GHYD/items/6",
    ],
)
def test_html_pages_are_chinese_and_self_contained(client: TestClient, path: str) -> None:
    response = client.get(path, headers={"Accept": "text/html,application/xhtml+xml"})
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert 'lang="zh-CN"' in page and "<script" not in page and "<link" not in page
    assert client.get(path, params={"f": "html"}).text.count("<h1>") == 1


# -- GDAL's OAPIF driver against a real server --------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(workspace: Path, tmp_path: Path) -> Any:
    port = _free_port()
    app_module = tmp_path / "ogc_app.py"
    app_module.write_text(
        "from guotu.settings import Settings\nfrom guotu.web.app import create_app\n"
        f"app = create_app(Settings(workspace={str(workspace)!r}))\n"
    )
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "ogc_app:app",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/"
    try:
        for _ in range(100):
            try:
                if httpx.get(url + "conformance").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            pytest.fail("uvicorn did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()


_GDAL_SCRIPT = """
import json, sys
import pyogrio
url, x0, y0 = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
out = {}
for name, _ in pyogrio.list_layers("OAPIF:" + url):
    frame = pyogrio.read_dataframe("OAPIF:" + url, layer=name)
    out[name] = {"count": len(frame), "crs": frame.crs.to_string(),
                 "bounds": [round(v, 3) for v in frame.total_bounds]}
paged = pyogrio.read_dataframe("OAPIF:" + url, layer="GHYD", page_size=1)
out["paged"] = sorted(paged["BSM"])
boxed = pyogrio.read_dataframe("OAPIF:" + url, layer="GHYD",
                               bbox=(x0 + 150, y0 + 40, x0 + 250, y0 + 60))
out["bbox"] = sorted(boxed["BSM"])
print(json.dumps(out))
"""


@pytest.mark.slow
def test_gdal_oapif_driver_reads_every_collection(server: str, workspace: Path) -> None:
    with GeoPackageStore.open(workspace) as store:
        expected = {i.name: len(store.read_layer(i.name)) for i in store.layers()}
    env = {**os.environ, "GDAL_HTTP_TIMEOUT": "30", "CPL_DEBUG": "OFF"}
    run = subprocess.run(
        [sys.executable, "-c", _GDAL_SCRIPT, server, str(X0), str(Y0)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    got = json.loads(run.stdout.strip().splitlines()[-1])
    assert {k: got[k]["count"] for k in expected} == expected == {"GHYD": 3, "XZQ": 1}
    # GDAL reads the storage CRS (northing, easting on the wire) back as easting, northing.
    assert got["GHYD"]["crs"] == "EPSG:4527"
    assert got["GHYD"]["bounds"] == [X0, Y0, X0 + 300, Y0 + 100]
    assert got["paged"] == ["2024修改-0", "2024修改-1", "2024修改-2"]
    assert got["bbox"] == ["2024修改-1", "2024修改-2"]
