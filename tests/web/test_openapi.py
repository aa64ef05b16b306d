"""The served OpenAPI document: OpenAPI 3.0 (the OGC ``oas30`` class), valid, self-contained."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV30SpecValidator

from guotu.services.importing import import_file
from guotu.settings import Settings
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app
from guotu.web.openapi30 import as_openapi30


@pytest.fixture(scope="module")
def doc(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    ws = Path(tmp_path_factory.mktemp("openapi")) / "empty.gpkg"
    client = TestClient(create_app(Settings(workspace=str(ws))))
    r = client.get("/api")
    assert r.status_code == 200
    body: dict[str, object] = r.json()
    return body


def test_served_document_is_valid_openapi_30(doc: dict[str, object]) -> None:
    assert doc["openapi"] == "3.0.3"
    validate(doc, cls=OpenAPIV30SpecValidator)  # raises on any 3.1-only construct


def test_no_external_references(doc: dict[str, object]) -> None:
    text = json.dumps(doc)
    refs = [part.split('"', 1)[0] for part in text.split('"$ref": "')[1:]]
    assert refs and all(r.startswith("#/") for r in refs)


def test_upload_and_review_routes_are_described(doc: dict[str, object]) -> None:
    paths = doc["paths"]
    assert isinstance(paths, dict)
    assert "/review/{kind}/jobs" in paths and "/review/jobs/{job_id}" in paths
    assert "/collections/{collection_id}/items" in paths or any(
        p.startswith("/collections/") for p in paths
    )


def test_conversion_of_31_constructs() -> None:
    src = {
        "openapi": "3.1.0",
        "info": {"title": "t", "version": "1"},
        "paths": {},
        "components": {
            "schemas": {
                "A": {
                    "type": "object",
                    "properties": {
                        "ref": {
                            "anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}],
                            "description": "d",
                        },
                        "two": {"type": ["string", "null"]},
                        "k": {"const": "x"},
                        "n": {"type": "integer", "exclusiveMinimum": 0, "examples": [3, 4]},
                        "f": {"type": "string", "contentMediaType": "application/octet-stream"},
                    },
                },
                "B": {"type": "string"},
            }
        },
    }
    out = as_openapi30(src)
    props = out["components"]["schemas"]["A"]["properties"]
    assert props["ref"] == {
        "allOf": [{"$ref": "#/components/schemas/B"}],
        "description": "d",
        "nullable": True,
    }
    assert props["two"] == {"type": "string", "nullable": True}
    assert props["k"] == {"enum": ["x"]}
    assert props["n"] == {"type": "integer", "minimum": 0, "exclusiveMinimum": True, "example": 3}
    assert props["f"] == {"type": "string", "format": "binary"}
    validate(out, cls=OpenAPIV30SpecValidator)
    assert src["openapi"] == "3.1.0"  # the input is not changed


def test_api_page_is_self_contained(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(workspace=str(tmp_path / "w.gpkg"))))
    page = client.get("/api.html")
    assert page.status_code == 200 and "/collections/" in page.text
    assert "/review/{kind}/jobs" in page.text and "/monitor/indicators.json" in page.text
    assert "cdn" not in page.text.lower() and "<script" not in page.text


# -- what the document says about the app (issue 14) --------------------------------------------
@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    """A workspace with GHYD (text and number columns), limits 5 by default, 50 at most."""
    tmp = Path(tmp_path_factory.mktemp("openapi_ws"))
    source = tmp / "ghyd.gpkg"
    gpd.GeoDataFrame(
        {"YDYHFLDM": ["0703"], "MJ": [1.5], "GS": [2]},
        geometry=[shapely.box(39_540_000, 4_052_000, 39_540_100, 4_052_100)],
        crs="EPSG:4527",
    ).to_file(source, layer="GHYD")
    with GeoPackageStore.open(tmp / "ws.gpkg", create=True) as store:
        import_file(store, source, role="planned_land_use", layer="GHYD")
    return TestClient(
        create_app(
            Settings(workspace=str(tmp / "ws.gpkg"), max_items_limit=50, default_items_limit=5)
        )
    )


def test_the_document_is_served_as_openapi_30_json(served: TestClient) -> None:
    response = served.get("/api")
    assert response.headers["content-type"] == "application/vnd.oai.openapi+json;version=3.0"
    validate(response.json(), cls=OpenAPIV30SpecValidator)


def test_limit_states_the_default_and_maximum(served: TestClient) -> None:
    doc = served.get("/api").json()
    limit = doc["components"]["parameters"]["limit"]
    assert (limit["schema"]["default"], limit["schema"]["maximum"]) == (5, 50)
    for path in ("/collections/{layer}/items", "/collections/GHYD/items"):
        refs = [p.get("$ref") for p in doc["paths"][path]["get"]["parameters"]]
        assert "#/components/parameters/limit" in refs  # GDAL reads limit through a $ref


def test_each_collection_lists_its_property_filters(served: TestClient) -> None:
    op = served.get("/api").json()["paths"]["/collections/GHYD/items"]["get"]
    columns = {p["name"]: p["schema"] for p in op["parameters"] if "name" in p}
    assert columns == {
        "YDYHFLDM": {"type": "string"},
        "MJ": {"type": "number"},
        "GS": {"type": "integer"},
    }
    assert "application/geo+json" in op["responses"]["200"]["content"]


def test_no_operation_declares_422_and_each_declares_its_400(served: TestClient) -> None:
    doc = served.get("/api").json()
    for path, item in doc["paths"].items():
        for method, op in item.items():
            assert "422" not in op["responses"], (method, path)
            if op.get("parameters") or "requestBody" in op:
                assert "400" in op["responses"], (method, path)
    assert "HTTPValidationError" not in doc["components"]["schemas"]


@pytest.mark.parametrize(
    ("path", "media"),
    [
        ("/", "application/json"),
        ("/conformance", "application/json"),
        ("/collections", "application/json"),
        ("/collections/{layer}", "application/json"),
        ("/collections/{layer}/queryables", "application/schema+json"),
        ("/collections/{layer}/items", "application/geo+json"),
        ("/collections/{layer}/items/{fid}", "application/geo+json"),
    ],
)
def test_ogc_routes_declare_json_and_html(served: TestClient, path: str, media: str) -> None:
    op = served.get("/api").json()["paths"][path]["get"]
    assert set(op["responses"]["200"]["content"]) == {media, "text/html"}
    error = op["responses"]["400"]["content"]["application/json"]["schema"]
    assert error == {"$ref": "#/components/schemas/OGCException"}


def test_the_site_query_takes_exactly_one_site(served: TestClient) -> None:
    op = served.get("/api").json()["paths"]["/query"]["get"]
    (site,) = [p for p in op["parameters"] if p.get("name") == "site"]
    assert (site["style"], site["explode"], site["required"]) == ("form", True, True)
    assert [next(iter(o["properties"])) for o in site["schema"]["oneOf"]] == [
        "point",
        "parcel",
        "polygon",
    ]
    assert not {"point", "parcel", "polygon"} & {p.get("name") for p in op["parameters"]}


# -- the human page (QA: ", , , , ," for referenced parameters; English only) -------------------
def _rows(page: str) -> dict[tuple[str, str], str]:
    import re

    rows = re.findall(
        r"<tr><td class=\"m\">(\w+)</td><td><code>([^<]+)</code></td>(.*?)</tr>", page, flags=re.S
    )
    return {(m, p): rest for m, p, rest in rows}


def test_api_page_resolves_referenced_parameters(served: TestClient) -> None:
    page = served.get("/api.html").text
    assert ", ," not in page
    items = _rows(page)[("GET", "/collections/{layer}/items")]
    for name in ("layer", "bbox", "bbox-crs", "limit", "offset", "datetime", "crs", "f"):
        assert f"<code>{name}</code>" in items, name
    assert "每页要素数" in items  # the referenced parameter's Chinese description
    ghyd = _rows(page)[("GET", "/collections/GHYD/items")]
    assert "<code>YDYHFLDM</code>" in ghyd and "按用地用海分类代码（YDYHFLDM）筛选" in ghyd


def test_api_page_is_chinese_first_with_the_english_kept(served: TestClient) -> None:
    from guotu.web.api_page import summary_zh

    doc = served.get("/api").json()
    missing = [
        (m, p)
        for p, item in doc["paths"].items()
        for m, op in item.items()
        if m != "parameters" and summary_zh(m, p, op) is None
    ]
    assert missing == []  # every operation has its Chinese summary
    page = served.get("/api.html").text
    query = _rows(page)[("GET", "/query")]
    assert query.index("地块查询（空间码）") < query.index("What applies to a site")
    english = served.get("/api.html", params={"lang": "en"}).text
    query = _rows(english)[("GET", "/query")]
    assert query.index("What applies to a site") < query.index("地块查询（空间码）")
    assert "lang='en'" in english
