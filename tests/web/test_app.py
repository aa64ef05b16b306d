"""The app factory and the one error mapping (JSON envelope; OGC form under OGC routes; the
language of messages)."""

from __future__ import annotations

import re
from pathlib import Path

import geopandas as gpd
import pytest
import shapely
from click.testing import CliRunner
from fastapi.testclient import TestClient

from guotu.cli.base import root
from guotu.services.importing import import_file
from guotu.settings import Settings, load_settings
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app


def test_unknown_routes_use_the_right_error_form(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(workspace=str(tmp_path / "none.gpkg"))))
    plain = client.get("/no-such-thing", headers={"Accept-Language": "en"})
    assert plain.status_code == 404
    assert plain.json() == {"code": "not-found", "message": "Not Found", "status": 404}
    assert client.get("/no-such-thing").json()["message"] == "没有这个地址。"
    ogc = client.get("/collections/no-such/items/1/extra")
    assert ogc.status_code == 404 and set(ogc.json()) == {"code", "description"}


def test_settings_from_environment_and_options() -> None:
    s = load_settings({"GUOTU_MAX_ITEMS_LIMIT": "50", "GUOTU_PORT": "81"}, port=82)
    assert (s.max_items_limit, s.port) == (50, 82)


def test_serve_refuses_a_missing_workspace(tmp_path: Path) -> None:
    out = CliRunner().invoke(root, ["serve", "-w", str(tmp_path / "missing.gpkg")])
    assert out.exit_code == 2


# -- the language of error messages: an explicit lang wins over Accept-Language ------------------
CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def lang_client(tmp_path_factory: pytest.TempPathFactory) -> TestClient:
    tmp = tmp_path_factory.mktemp("lang")
    source = tmp / "ghyd.gpkg"
    gpd.GeoDataFrame(
        {"YDYHFLDM": ["0703"]},
        geometry=[shapely.box(39_540_000, 4_052_000, 39_540_100, 4_052_100)],
        crs="EPSG:4527",
    ).to_file(source, layer="GHYD")
    workspace = tmp / "ws.gpkg"
    with GeoPackageStore.open(workspace, create=True) as store:
        import_file(store, source, role="planned_land_use", layer="GHYD")
    return TestClient(create_app(Settings(workspace=str(workspace), max_upload_mb=0.001)))


@pytest.mark.parametrize(
    ("method", "url", "field"),
    [
        # OGC routes: a bad parameter (guotu's InputError), an unknown collection
        ("GET", "/collections/GHYD/items?bbox=1,2,3", "description"),
        ("GET", "/collections/NONE/items", "description"),
        # FastAPI's request validation, a service error, a tile outside its grid
        ("GET", "/collections/GHYD/items?limit=0", "description"),
        ("GET", "/query?point=a,b", "message"),
        ("GET", "/tiles/GHYD/2/9/9.mvt", "message"),
        ("GET", "/tiles/GHYD.json?as_of=0", "message"),
        # the router itself: no such route, a method the route does not answer
        ("GET", "/no-such-route", "message"),
        ("DELETE", "/query", "message"),
        # the body limit, answered before the app
        ("POST", "/query", "message"),
    ],
)
@pytest.mark.parametrize(
    ("lang", "accept", "chinese"),
    [
        ("zh", "en-US,en;q=0.9", True),
        ("en", "zh-CN,zh;q=0.9", False),
    ],
)
def test_an_explicit_lang_wins_over_accept_language(
    lang_client: TestClient,
    method: str,
    url: str,
    field: str,
    lang: str,
    accept: str,
    chinese: bool,
) -> None:
    sep = "&" if "?" in url else "?"
    body = b"{" + b" " * 4096 + b"}" if method == "POST" else None
    response = lang_client.request(
        method, f"{url}{sep}lang={lang}", content=body, headers={"Accept-Language": accept}
    )
    assert 400 <= response.status_code < 500
    assert bool(CJK.search(response.json()[field])) is chinese, response.text


def test_a_405_names_every_method_of_the_path(lang_client: TestClient) -> None:
    response = lang_client.request("TRACE", "/query")
    assert response.status_code == 405 and response.headers["allow"] == "GET, POST"
