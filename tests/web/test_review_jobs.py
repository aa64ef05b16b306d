"""Review jobs over HTTP: an uploaded plan is reviewed like the same plan in the workspace;
bad uploads, zip bombs and oversized bodies get clear 4xx answers."""

from __future__ import annotations

import io
import json
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from guotu.demo.build import build_demo
from guotu.demo.plans import SPECIAL_PLAN
from guotu.settings import Settings
from guotu.web.app import create_app


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("review_jobs")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=3000, seed=20261122)
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    settings = Settings(workspace=str(result.workspace))
    return {
        "client": TestClient(create_app(settings)),
        "files": base / "files",
        "workspace": str(result.workspace),
        "items": {i["id"]: i for i in manifest["items"]},
    }


def _wait(client: TestClient, answer: Any) -> dict[str, Any]:
    assert answer.status_code == 202, answer.text
    url = answer.headers["location"]
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        job: dict[str, Any] = client.get(url).json()
        if job["status"] in ("done", "failed"):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {url} did not finish")


def _keys(doc: dict[str, Any]) -> set[tuple[str, str, float]]:
    return {
        (
            f["rule"],
            str(f["features"][0]["id_value"]) if f["features"] else "",
            round(f["area_m2"] or 0.0, 1),
        )
        for f in doc["findings"]
    }


class _GBKName(zipfile.ZipInfo):
    """A member named as the zip tools of Chinese Windows name them: GBK bytes, without the
    UTF-8 flag."""

    def _encodeFilenameFlags(self) -> tuple[bytes, int]:  # zipfile's hook
        return self.filename.encode("gbk"), self.flag_bits & ~0x800


def _zip(files: list[Path], *, gbk_names: bool = False) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            info = (_GBKName if gbk_names else zipfile.ZipInfo)(f.name)
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, f.read_bytes())
    return buf.getvalue()


def test_zipped_shapefile_project_review_equals_the_workspace_review(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    shp = sorted(demo["files"].glob("建设项目.*"))
    body = _zip(shp, gbk_names=True)
    job = _wait(
        client,
        client.post(
            "/review/project/jobs", files={"file": ("建设项目.zip", body, "application/zip")}
        ),
    )
    assert job["status"] == "done", job["error"]
    doc = job["result"]
    assert doc["source"] == "建设项目/建设项目.shp"
    assert doc["workspace"] == "demo.gpkg"  # never the server path
    workspace = client.post("/review/project").json()
    assert _keys(doc) == _keys(workspace) and doc["findings"]
    planted = demo["items"]["conflict.project.rjl.1"]["features"][0]
    assert any(
        f["rule"] == "project.indicator_limits" and f["features"][0]["id_value"] == planted
        for f in doc["findings"]
    )
    assert job["progress"]["total"] > 0 and job["progress"]["done"] == job["progress"]["total"]
    report = client.get(doc["links"][0]["href"])
    assert report.status_code == 200 and "建设项目" in report.text


def test_geojson_with_indicator_table_equals_the_workspace_review(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    files = demo["files"]
    job = _wait(
        client,
        client.post(
            "/review/detailed-plan/jobs",
            data={"table_key": "DKBH", "allow_empty_geometry": "true"},
            files={
                "file": ("详细规划地块.geojson", (files / "详细规划地块.geojson").read_bytes()),
                "table": ("地块控制指标.xlsx", (files / "地块控制指标.xlsx").read_bytes()),
            },
        ),
    )
    assert job["status"] == "done", job["error"]
    workspace = client.post("/review/detailed-plan").json()
    assert _keys(job["result"]) == _keys(workspace)
    rules = {f["rule"] for f in job["result"]["findings"]}
    assert {"transmission.use_compatibility", "transmission.indicator_caps"} <= rules


def test_indicator_table_upload(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    body = (demo["files"] / "规划指标表.xlsx").read_bytes()
    job = _wait(
        client, client.post("/review/indicators/jobs", files={"file": ("规划指标表.xlsx", body)})
    )
    assert job["status"] == "done", job["error"]
    rules = {f["rule"] for f in job["result"]["findings"] if f["severity"] == "error"}
    assert rules == {"indicators.allocation", "indicators.map_consistency"}


def test_workspace_review_as_a_job(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    job = _wait(client, client.post("/review/master-plan/jobs"))
    assert job["status"] == "done"
    assert _keys(job["result"]) == _keys(client.post("/review/master-plan").json())


def test_broken_geojson_fails_with_the_users_file_name(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    job = _wait(
        client,
        client.post(
            "/review/detailed-plan/jobs",
            files={"file": ("坏文件.geojson", b'{"type": "FeatureColl')},
        ),
    )
    assert job["status"] == "failed"
    err = job["error"]
    assert err["code"] == "layer-error" and err["status"] == 400
    assert "坏文件.geojson" in err["message"]
    assert "guotu-upload" not in json.dumps(err, ensure_ascii=False)


def test_bad_uploads_are_refused(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    r = client.post("/review/project/jobs", files={"file": ("plan.txt", b"hello")})
    assert r.status_code == 400 and "plan.txt" in r.json()["message"]
    assert ".zip" in r.json()["message"]
    r = client.post("/review/project/jobs", files={"file": ("empty.geojson", b"")})
    assert r.status_code == 400 and "empty.geojson" in r.json()["message"]
    r = client.post("/review/project/jobs", files={"file": ("x.zip", b"not a zip at all")})
    assert r.status_code == 400 and r.json()["code"] == "layer-error"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("../../evil.geojson", b"{}")
    r = client.post("/review/project/jobs", files={"file": ("evil.zip", buf.getvalue())})
    assert r.status_code == 400 and "evil.geojson" in r.json()["message"]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("readme.txt", b"no data here")
    r = client.post("/review/project/jobs", files={"file": ("nodata.zip", buf.getvalue())})
    assert r.status_code == 400 and ".shp" in r.json()["message"]
    r = client.post(
        "/review/project/jobs", params={"source": "x@y"}, files={"file": ("a.geojson", b"{}")}
    )
    assert r.status_code == 400
    assert client.get("/review/jobs/0123456789abcdef").status_code == 404


def test_zip_bomb_is_refused_before_unpacking(demo: dict[str, Any]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("bomb.geojson", b"\0" * (64 * 1024 * 1024))
    assert len(buf.getvalue()) < 200_000  # 64 MiB of zeros packs to ~64 KB
    r = demo["client"].post("/review/project/jobs", files={"file": ("bomb.zip", buf.getvalue())})
    assert r.status_code == 413 and r.json()["code"] == "too-large"
    assert "bomb.zip" in r.json()["message"]


def test_zip_that_lies_about_its_size_stops_at_the_limit(demo: dict[str, Any]) -> None:
    buf = io.BytesIO()
    data = bytes(range(256)) * 4096  # 1 MiB that barely compresses
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_STORED) as z:
        z.writestr("a.geojson", data)
    raw = bytearray(buf.getvalue())
    # Shrink the declared size in both headers: the unpacked bytes must still be counted.
    local = raw.find(b"PK\x03\x04")
    central = raw.find(b"PK\x01\x02")
    raw[local + 22 : local + 26] = (10).to_bytes(4, "little")
    raw[central + 24 : central + 28] = (10).to_bytes(4, "little")
    r = demo["client"].post("/review/project/jobs", files={"file": ("liar.zip", bytes(raw))})
    assert r.status_code in (400, 413)
    assert r.json()["code"] in ("too-large", "layer-error")


def test_limits_are_settings(demo: dict[str, Any]) -> None:
    small = TestClient(
        create_app(
            Settings(
                workspace=demo["workspace"],
                max_upload_mb=0.01,
                max_unzipped_mb=0.05,
                review_jobs_queued=0,
            )
        )
    )
    big = b"x" * 20_000
    r = small.post("/review/project/jobs", files={"file": ("big.geojson", big)})
    assert r.status_code == 413 and "0.01 MB" in r.json()["message"]

    def chunked() -> Any:  # no Content-Length: the middleware counts the bytes
        for _ in range(10):
            yield b"y" * 4096

    r = small.post("/query", content=chunked(), headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "too-large"
    r = small.post("/review/project/jobs")
    assert r.status_code == 429
    roomy = TestClient(create_app(Settings(workspace=demo["workspace"], max_unzipped_mb=0.05)))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.geojson", bytes(range(256)) * 400)  # 100 KiB > 0.05 MB unpacked
    r = roomy.post("/review/project/jobs", files={"file": ("big.zip", buf.getvalue())})
    assert r.status_code == 413 and "max_unzipped_mb" in r.json()["message"]


def test_source_never_names_a_server_file(demo: dict[str, Any]) -> None:
    client: TestClient = demo["client"]
    target = str(demo["files"] / "专项规划.geojson")
    tricks = [
        f"/usr/share/locale/en@quot/../../../..{target}",
        f"x@y/../../..{target}",
        "layer:ZXGH@v1/..",
    ]
    for source in tricks:
        for url in ("/review/special-plan", "/review/special-plan/jobs"):
            r = client.post(url, params={"source": source})
            assert r.status_code == 400, (url, source, r.text)
            assert "geometry" not in r.text and "features" not in r.text
    recorded = f"{SPECIAL_PLAN.name}@{SPECIAL_PLAN.label}"  # the demo's special plan
    ok = client.post("/review/special-plan", params={"source": recorded})
    assert ok.status_code == 200


def test_failed_job_hides_the_workspace_location(tmp_path: Path) -> None:
    missing = tmp_path / "secret" / "nowhere.gpkg"
    client = TestClient(create_app(Settings(workspace=str(missing))))
    job = _wait(client, client.post("/review/master-plan/jobs"))
    assert job["status"] == "failed"
    text = json.dumps(job["error"], ensure_ascii=False)
    assert "secret" not in text and str(tmp_path) not in text
    assert "file" not in job["error"]


def test_broken_zips_are_input_errors(demo: dict[str, Any]) -> None:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("a", b"x")
        z.writestr("a/b.geojson", b"{}")
    r = demo["client"].post("/review/project/jobs", files={"file": ("clash.zip", buf.getvalue())})
    assert r.status_code == 400 and "clash.zip" in r.json()["message"]
    long_name = "规" * 100 + ".geojson"
    r = demo["client"].post("/review/project/jobs", files={"file": (long_name, b"{}")})
    assert r.status_code == 202  # the name is shortened, its suffix kept
