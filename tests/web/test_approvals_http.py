"""Approval cases over HTTP: the window takes in an application drawn on the map (lon/lat),
two departments co-review in parallel, the reviewer and the approver finish it, the permit is
issued as a PDF and the public verification page shows it; every refusal answers by the
route's policy or the stage's rule, in Chinese, and a stale write is a 409."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pyproj import CRS, Transformer

from guotu.domain.access.records import Department
from guotu.services.identity import create_department, create_user
from guotu.settings import Settings
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app

from ..conftest import import_detailed_parcel

PASSWORD = "Gh#2035plan"
USERS = {
    "clerk1": ("guihua", ["clerk"]),
    "shen1": ("guihua", ["reviewer"]),
    "pi1": ("guihua", ["approver"]),
    "zj1": ("zhujian", ["reviewer"]),
    "st1": ("shengtai", ["reviewer"]),
    "kan1": ("zhujian", ["viewer"]),
}
#: A 100 m × 80 m site in EPSG:4527 (CGCS2000 3° Gauss-Krüger zone 39).
X0, Y0 = 39_540_000.0, 4_052_000.0


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("cases") / "ws.gpkg"
    with GeoPackageStore.open(path, create=True) as store:
        store.set_crs(CRS.from_epsg(4527))
        import_detailed_parcel(store, path.parent)  # the site's planning conditions
        for d, name in (("guihua", "规划科"), ("zhujian", "住建局"), ("shengtai", "生态环境分局")):
            create_department(store, Department(d, name), actor="sysadmin")
        for name, (dept, roles) in USERS.items():
            create_user(
                store,
                username=name,
                display_name=name,
                department=dept,
                roles=roles,
                password=PASSWORD,
                actor="sysadmin",
            )
    return path


@pytest.fixture(scope="module")
def app(workspace: Path) -> Any:
    return create_app(
        Settings(
            workspace=str(workspace),
            auth="local",
            approval_authority="示范县自然资源和规划局",
            sign_ins_per_minute=1000,
        )
    )


def signed_in(app: Any, username: str) -> TestClient:
    client = TestClient(app)
    answer = client.post("/auth/sign-in", json={"username": username, "password": PASSWORD})
    assert answer.status_code == 200, answer.text
    client.headers["X-CSRF-Token"] = answer.json()["csrf_token"]
    return client


def site_lonlat() -> dict[str, Any]:
    t = Transformer.from_crs(4527, 4326, always_xy=True)
    ring = [(X0, Y0), (X0 + 100, Y0), (X0 + 100, Y0 + 80), (X0, Y0 + 80), (X0, Y0)]
    return {"type": "Polygon", "coordinates": [[list(t.transform(x, y)) for x, y in ring]]}


def application(**kw: Any) -> dict[str, Any]:
    body = {
        "procedure": "cn-construction-permit",
        "applicant": "示范县城市建设投资有限公司",
        "project": "城关镇第二小学教学楼",
        "location": "城关镇文昌路东侧",
        "site": site_lonlat(),
        "application_date": "2026-12-01",
        "indicators": {"RJL": 1.2, "YDYHFLDM": "080403"},
    }
    return body | kw


def test_a_case_from_the_window_to_the_verified_permit(app: Any, tmp_path: Path) -> None:
    clerk = signed_in(app, "clerk1")
    r = clerk.post("/cases", json=application())
    assert r.status_code == 201, r.text
    case = r.json()
    cid = case["id"]
    # the window's 受理 and the automatic review are on the record; the case waits for the
    # two departments of the co-review
    assert [e["kind"] for e in case["events"]] == ["outcome", "review", "outcome"]
    assert case["events"][1]["value"] == "compliant" and "自动审查" in case["events"][1]["note"]
    assert case["stage"]["id"] == "co_review" and sorted(case["waiting"]) == [
        "dept:shengtai",
        "dept:zhujian",
    ]
    assert case["site_area_m2"] == pytest.approx(8000.0, abs=0.5)
    zj, st = signed_in(app, "zj1"), signed_in(app, "st1")
    assert [c["case_id"] for c in zj.get("/cases.json").json()["cases"]] == [cid]
    assert zj.get(f"/cases/{cid}.json").json()["may"] == ["opinion", "pause"]
    r = zj.post(f"/cases/{cid}/events", json={"kind": "opinion", "value": "agree"})
    assert r.status_code == 200 and r.json()["opinions"] == {"zhujian": "agree"}
    # a second opinion of the same department is refused
    r = zj.post(f"/cases/{cid}/events", json={"kind": "opinion", "value": "agree"})
    assert r.status_code == 400 and "意见" in r.json()["message"]
    r = st.post(
        f"/cases/{cid}/events",
        json={"kind": "opinion", "value": "conditional", "conditions": ["施工期落实扬尘防治措施"]},
    )
    assert r.status_code == 200 and r.json()["stage"]["id"] == "technical_review"
    shen = signed_in(app, "shen1")
    seen = shen.get(f"/cases/{cid}.json").json()
    r = shen.post(f"/cases/{cid}/events", json={"kind": "outcome", "value": "done", "expected": 0})
    assert r.status_code == 409 and "已被他人办理" in r.json()["message"]
    r = shen.post(
        f"/cases/{cid}/events",
        json={"kind": "outcome", "value": "done", "expected": seen["events_count"]},
    )
    assert r.status_code == 200 and r.json()["stage"]["id"] == "decision"
    pi = signed_in(app, "pi1")
    r = pi.post(f"/cases/{cid}/events", json={"kind": "outcome", "value": "approved"})
    done = r.json()
    assert r.status_code == 200 and done["closed"] and done["stage"]["id"] == "issued"
    issued = next(e for e in done["events"] if e["kind"] == "issued")
    assert issued["detail"]["serial"] == f"建字第{cid}号"
    [pdf] = [f for f in done["files"] if f["material"] == "决定文书"]
    got = pi.get(f"/cases/{cid}/files/{pdf['n']}")
    assert got.status_code == 200 and got.content.startswith(b"%PDF")
    path = tmp_path / "permit.pdf"
    path.write_bytes(got.content)
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout
    assert f"建字第{cid}号" in text and "施工期落实扬尘防治措施" in text
    assert "示范县自然资源和规划局" in text
    # anyone with the QR code's address sees the permit
    anon = TestClient(app)
    page = anon.get(f"/verify/{issued['value']}")
    assert (
        page.status_code == 200
        and "文书真实有效" in page.text
        and "城关镇第二小学教学楼" in page.text
    )
    assert anon.get(f"/verify/{issued['value']}.json").json()["project"] == "城关镇第二小学教学楼"
    assert anon.get("/verify/not-a-document").status_code == 404
    # the case as it stood before the approver acted
    reviewed = next(e for e in done["events"] if e["actor"] == "shen1")["at"]
    before = pi.get(f"/cases/{cid}.json", params={"as_of": reviewed}).json()
    assert before["stage"]["id"] == "decision" and not before["closed"]
    assert before["files"] == [] and before["may"] == ["outcome", "pause"]
    assert pi.get("/cases.json", params={"box": "done"}).json()["cases"][0]["case_id"] == cid
    stats = pi.get("/cases/stats.json").json()
    issued_row = {"workflow": "cn-construction-permit", "stage": "issued", "cases": 1}
    assert issued_row in stats["closed_in"]
    stays = {r["stage"]: r["stays"] for r in stats["stage_days"]}
    assert stays["co_review"] >= 1 and stays["decision"] == 1


def test_refusals_answer_by_policy_and_stage(app: Any) -> None:
    anon, viewer, clerk = TestClient(app), signed_in(app, "kan1"), signed_in(app, "clerk1")
    assert anon.get("/cases.json").status_code == 401
    assert viewer.post("/cases", json=application()).status_code == 403
    r = clerk.post("/cases", json=application(site={"type": "Point", "coordinates": [117, 36]}))
    assert r.status_code == 400 and "site" in r.json()["message"]
    far = {"type": "Polygon", "coordinates": [[[0, 0], [1e6, 0], [1e6, 1e6], [0, 0]]]}
    assert clerk.post("/cases", json=application(site=far)).status_code == 400
    r = clerk.post("/cases", json=application(procedure="no-such"))
    assert r.status_code == 404
    cid = clerk.post("/cases", json=application(project="另一项目")).json()["id"]
    r = viewer.post(f"/cases/{cid}/events", json={"kind": "opinion", "value": "agree"})
    assert r.status_code == 403 and "审查人员或审批人员" in r.json()["message"]
    r = clerk.post(f"/cases/{cid}/events", json={"kind": "outcome", "value": "approved"})
    assert r.status_code == 403 and "会审" in r.json()["message"]
    r = clerk.post(f"/cases/{cid}/events", json={"kind": "pause", "note": ""})
    assert r.status_code == 400 and "补正" in r.json()["message"]
    r = clerk.post(f"/cases/{cid}/events", json={"kind": "pause", "note": "缺建筑单体设计方案"})
    assert r.status_code == 200 and r.json()["paused"] is True
    assert r.json()["stages"][-1]["clock"]["state"] == "paused"
    files = {"file": ("方案.pdf", b"%PDF-1.4 x", "application/pdf")}
    r = clerk.post(f"/cases/{cid}/files", data={"material": "建筑单体设计方案"}, files=files)
    assert r.status_code == 201 and r.json()["n"] == 1
    bad = {"file": ("方案.exe", b"MZ", "application/octet-stream")}
    r = clerk.post(f"/cases/{cid}/files", data={"material": "建筑单体设计方案"}, files=bad)
    assert r.status_code == 400 and "dwg" in r.json()["message"]
    r = clerk.post(f"/cases/{cid}/files", data={"material": "营业执照"}, files=files)
    assert r.status_code == 400 and "不要求" in r.json()["message"]
    assert anon.get(f"/cases/{cid}/files/1").status_code == 401
    assert viewer.get(f"/cases/{cid}/files/9").status_code == 404
    assert viewer.get("/cases/2099000001.json").status_code == 404
