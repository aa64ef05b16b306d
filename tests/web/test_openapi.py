"""The served OpenAPI document: OpenAPI 3.0 (the OGC ``oas30`` class), valid, self-contained."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openapi_spec_validator import validate
from openapi_spec_validator.validation import OpenAPIV30SpecValidator

from guotu.settings import Settings
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
        p.startswith("/collections/") for p in paths)


def test_conversion_of_31_constructs() -> None:
    src = {"openapi": "3.1.0", "info": {"title": "t", "version": "1"}, "paths": {},
           "components": {"schemas": {"A": {"type": "object", "properties": {
               "ref": {"anyOf": [{"$ref": "#/components/schemas/B"}, {"type": "null"}],
                       "description": "d"},
               "two": {"type": ["string", "null"]},
               "k": {"const": "x"},
               "n": {"type": "integer", "exclusiveMinimum": 0, "examples": [3, 4]},
               "f": {"type": "string", "contentMediaType": "application/octet-stream"}}},
               "B": {"type": "string"}}}}
    out = as_openapi30(src)
    props = out["components"]["schemas"]["A"]["properties"]
    assert props["ref"] == {"allOf": [{"$ref": "#/components/schemas/B"}],
                            "description": "d", "nullable": True}
    assert props["two"] == {"type": "string", "nullable": True}
    assert props["k"] == {"enum": ["x"]}
    assert props["n"] == {"type": "integer", "minimum": 0, "exclusiveMinimum": True,
                          "example": 3}
    assert props["f"] == {"type": "string", "format": "binary"}
    validate(out, cls=OpenAPIV30SpecValidator)
    assert src["openapi"] == "3.1.0"  # the input is not changed


def test_api_page_is_self_contained(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(workspace=str(tmp_path / "w.gpkg"))))
    page = client.get("/api.html")
    assert page.status_code == 200 and "/collections/" in page.text
    assert "/review/{kind}/jobs" in page.text and "/monitor/indicators.json" in page.text
    assert "cdn" not in page.text.lower() and "<script" not in page.text
