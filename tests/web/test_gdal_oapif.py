"""GDAL's OAPIF driver against a real ``guotu serve`` app (uvicorn on a free loopback port, in
a subprocess): it takes its page size from ``limit``'s default and maximum in ``/api``, and
sends ``-where`` equalities on the columns ``/api`` lists to the server (issue 14).

Requests are counted in the server's access log. GDAL (3.8 and later) chooses
``min(max(1000, default), maximum)``; it reads ``/api`` when the dataset URL has no trailing
slash (with one, it looks the items path up without its leading ``/`` and finds nothing).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import geopandas as gpd
import httpx2 as httpx
import pytest
import shapely
from pyproj import CRS

from guotu.services.importing import import_file
from guotu.store.geopackage import GeoPackageStore

GK = CRS.from_epsg(4527)
X0, Y0 = 39_540_000.0, 4_052_000.0
FEATURES = 2_500
CODES = ["0703", "0101", "0701", "1207", "0301"]
#: How long the whole read may take; paging by 10 (GDAL before 3.8) makes 250 requests.
MAX_SECONDS = 60.0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """GHYD: a 50 × 50 grid of 20 m squares, the codes cycling through ``CODES``."""
    tmp = tmp_path_factory.mktemp("gdal_oapif")
    frame = gpd.GeoDataFrame(
        {
            "BSM": [f"GH{i:05d}" for i in range(FEATURES)],
            "YDYHFLDM": [CODES[i % len(CODES)] for i in range(FEATURES)],
        },
        geometry=[
            shapely.box(
                X0 + 20 * (i % 50),
                Y0 + 20 * (i // 50),
                X0 + 20 * (i % 50 + 1),
                Y0 + 20 * (i // 50 + 1),
            )
            for i in range(FEATURES)
        ],
        crs=GK,
    )
    source = tmp / "ghyd.gpkg"
    frame.to_file(source, layer="GHYD")
    path = tmp / "ws.gpkg"
    with GeoPackageStore.open(path, create=True) as store:
        import_file(store, source, role="planned_land_use", layer="GHYD")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    """``guotu``'s app under uvicorn, with its access log in a file."""

    def __init__(self, workspace: Path, folder: Path, **settings: Any) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / f"access-{self.port}.log"
        module = folder / f"app_{self.port}.py"
        module.write_text(
            "from guotu.settings import Settings\nfrom guotu.web.app import create_app\n"
            f"app = create_app(Settings(workspace={str(workspace)!r}, **{settings!r}))\n"
        )
        self._out = self.log.open("w")
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"{module.stem}:app",
                "--port",
                str(self.port),
                "--log-level",
                "info",
                "--access-log",
            ],
            cwd=folder,
            stdout=self._out,
            stderr=subprocess.STDOUT,
        )

    def wait(self) -> None:
        for _ in range(150):
            try:
                if httpx.get(self.url + "/conformance").status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        pytest.fail("uvicorn did not start")

    def items_requests(self) -> list[dict[str, list[str]]]:
        """The query of every items request GDAL made, in order."""
        lines = self.log.read_text(encoding="utf-8", errors="replace").splitlines()
        paths = [
            m.group(1)
            for m in (re.search(r'"GET (\S+) HTTP', line) for line in lines)
            if m and "/collections/GHYD/items" in m.group(1)
        ]
        return [parse_qs(urlsplit(p).query) for p in paths]

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=10)
        self._out.close()


@pytest.fixture
def serve(workspace: Path, tmp_path: Path) -> Iterator[Any]:
    servers: list[Server] = []

    def start(**settings: Any) -> Server:
        server = Server(workspace, tmp_path, **settings)
        servers.append(server)
        server.wait()
        return server

    yield start
    for server in servers:
        server.stop()


_READ = """
import json, sys, time
import pyogrio
url, where = sys.argv[1], sys.argv[2] or None
start = time.perf_counter()
frame = pyogrio.read_dataframe("OAPIF:" + url, layer="GHYD", where=where)
print(json.dumps({"seconds": time.perf_counter() - start, "count": len(frame),
                  "codes": sorted(set(frame["YDYHFLDM"]))}))
"""


def _gdal_read(url: str, where: str = "") -> dict[str, Any]:
    env = {**os.environ, "GDAL_HTTP_TIMEOUT": "60", "CPL_DEBUG": "OFF"}
    run = subprocess.run(
        [sys.executable, "-c", _READ, url, where],
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    result: dict[str, Any] = json.loads(run.stdout.strip().splitlines()[-1])
    return result


@pytest.mark.slow
@pytest.mark.parametrize(
    ("settings", "page"),
    [
        # the defaults: GDAL keeps its own 1000, which the maximum allows
        ({}, 1000),
        # a maximum below 1000: GDAL asks for exactly that (it would ask 1000 without /api)
        ({"max_items_limit": 400}, 400),
        # a default above 1000: GDAL takes it
        ({"default_items_limit": 2000}, 2000),
    ],
)
def test_gdal_pages_by_the_limit_the_api_states(
    serve: Any, settings: dict[str, int], page: int
) -> None:
    server = serve(**settings)
    result = _gdal_read(server.url)
    assert result["count"] == FEATURES
    requests = server.items_requests()
    # one probe of the first features (GDAL's schema sample), then the pages
    pages = [q for q in requests if q.get("limit") != ["20"]]
    assert {q["limit"][0] for q in pages} == {str(page)}
    assert len(pages) == math.ceil(FEATURES / page)
    assert result["seconds"] < MAX_SECONDS


@pytest.mark.slow
def test_gdal_sends_attribute_filters_to_the_server(serve: Any) -> None:
    server = serve()
    result = _gdal_read(server.url, "YDYHFLDM = '0703'")
    assert result["count"] == FEATURES // len(CODES) and result["codes"] == ["0703"]
    pages = [q for q in server.items_requests() if q.get("limit") != ["20"]]
    assert pages and all(q.get("YDYHFLDM") == ["0703"] for q in pages)
    assert len(pages) == 1  # 500 matching features: one page of 1000


# -- a personal access token, as docs/access.md tells GDAL to send it (issue 16) -------------
def _ogrinfo(url: str, header: str) -> str:
    """Debian's ``ogrinfo`` run exactly as docs/access.md shows (pyogrio's own GDAL build does
    not send GDAL_HTTP_HEADERS): the layers it lists and GHYD's feature count."""
    run = subprocess.run(
        ["ogrinfo", "-so", "-al", f"OAPIF:{url}", "--config", "GDAL_HTTP_HEADERS", header],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "GDAL_HTTP_TIMEOUT": "60"},
    )
    return run.stdout + run.stderr


@pytest.mark.slow
def test_gdal_reads_a_restricted_layer_with_its_departments_token_only(
    workspace: Path, tmp_path: Path
) -> None:
    if shutil.which("ogrinfo") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("ogrinfo is missing: apt-get install gdal-bin (.ci/run does)")
        pytest.skip("ogrinfo is not installed (apt-get install gdal-bin)")
    from guotu.domain.access.grades import Grade
    from guotu.domain.access.policy import AccessList, Action, LayerPolicy
    from guotu.domain.access.records import Department
    from guotu.services import identity

    graded = tmp_path / "graded.gpkg"
    graded.write_bytes(workspace.read_bytes())
    with GeoPackageStore.open(graded) as store:
        for dept in ("gengdi", "guihua"):
            identity.create_department(store, Department(dept, dept), actor="t")
        texts = {}
        for user, dept in (("li01", "gengdi"), ("wang01", "guihua")):
            identity.create_user(
                store,
                username=user,
                display_name=user,
                department=dept,
                roles=["viewer"],
                password="Gh#2035plan!",
                actor="t",
            )
            _token, texts[user] = identity.create_token(store, user, "gdal", ["read"], 7, actor="t")
        identity.set_layer_policy(
            store,
            LayerPolicy(
                "GHYD",
                Grade.RESTRICTED,
                {Action.READ: AccessList(departments=frozenset({"gengdi"}))},
            ),
            actor="t",
        )
    server = Server(graded, tmp_path, auth="local")
    try:
        server.wait()
        own = _ogrinfo(server.url, f"Authorization: Bearer {texts['li01']}")
        assert "Layer name: GHYD" in own and f"Feature Count: {FEATURES}" in own
        # another department's token, no token, a forged one: GHYD is not there
        for header in (
            f"Authorization: Bearer {texts['wang01']}",
            "X-Nothing: 1",
            "Authorization: Bearer gt_0000_forged",
        ):
            assert "GHYD" not in _ogrinfo(server.url, header)
    finally:
        server.stop()
