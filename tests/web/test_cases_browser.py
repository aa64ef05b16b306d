"""The approval pages (审批) in headless Chromium (as ``test_admin_browser.py``: Debian's
``/usr/bin/chromium`` driven by Playwright; skipped without Chromium or Playwright, failed
under ``CI=true``): the window takes in an application drawn on the map, two departments
co-review, the reviewer and the approver finish it, and anyone checks the permit; a stale
page is told so, the past is shown without actions, the statistics draw their charts.

The graded workspace of :mod:`tests.graded_workspace` (CRS EPSG:4527, six 100 m squares) is
served by uvicorn with ``auth = local``; its departments and accounts are made through the
identity services, and one case taken in 60 days ago is overdue in co-review.
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import shapely
from pyproj import Transformer

from guotu.domain.access.policy import Principal
from guotu.domain.access.records import Department
from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType
from guotu.services.approval_setup import ApprovalSetup
from guotu.services.approvals import Application, intake
from guotu.services.identity import create_department, create_user
from guotu.services.importing import import_file
from guotu.services.workspace import open_workspace
from tests.graded_workspace import X0, Y0, build_graded_workspace
from tests.web.test_admin_browser import HASHING, PASSWORD
from tests.web.test_ui_browser import CHROMIUM, FLAGS, SCREENSHOTS, _missing
from tests.web.test_ui_signin_browser import _serving

pytestmark = pytest.mark.browser

DEPARTMENTS = {
    "guihua": "国土空间规划科",
    "zhujian": "住房和城乡建设局",
    "shengtai": "生态环境分局",
}
#: user name → (display name, department, roles)
ACCOUNTS = {
    "chuang": ("窗口甲", "guihua", ["clerk"]),
    "shen": ("审查乙", "guihua", ["reviewer"]),
    "pi": ("审批丙", "guihua", ["approver"]),
    "zj": ("住建丁", "zhujian", ["reviewer"]),
    "st": ("生态戊", "shengtai", ["reviewer"]),
}
PROCEDURE = "cn-construction-permit"
OVERDUE_PROJECT = "城关镇农贸市场改造"
DETAILED = "城关镇控制性详细规划"
#: Console lines a browser writes for any answer it did not like (a 409 is on purpose).
_HTTP_STATUS = re.compile(r"Failed to load resource: the server responded with a status of \d+")
_TO_LONLAT = Transformer.from_crs(4527, 4326, always_xy=True)


def _corners(x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
    """The corners of a box (EPSG:4527 metres) in lon/lat, counter-clockwise."""
    return [_TO_LONLAT.transform(x, y) for x, y in ((x0, y0), (x1, y0), (x1, y1), (x0, y1))]


#: The site drawn in the scenario: inside square 2 (urban boundary, planned 0701): compliant.
SITE = (X0 + 215, Y0 + 15, X0 + 285, Y0 + 85)
#: A site on permanent farmland (square 0): the automatic review finds it non-compliant.
FARMLAND_SITE = (X0 + 20, Y0 + 20, X0 + 80, Y0 + 80)


def _polygon(box: tuple[float, float, float, float]) -> dict[str, Any]:
    ring = [list(c) for c in _corners(*box)]
    return {"type": "Polygon", "coordinates": [[*ring, ring[0]]]}


def _detailed_plan(store: Any, folder: Path) -> None:
    """A detailed plan (详细规划) in force since 2021 whose parcel covers squares 1 to 5: a
    permit's site there has planning conditions; square 0 (farmland) has none."""
    store.create_plan(DETAILED, level=PlanLevel.COUNTY, type=PlanType.DETAILED)
    path = folder / "xxghdk.gpkg"
    gpd.GeoDataFrame(
        {"DKBH": ["A-01"], "YDYHFLDM": ["0701"], "RJL": [2.0], "JZMD": [35.0], "LDL": [30.0]},
        geometry=[shapely.box(X0 + 100, Y0 - 50, X0 + 600, Y0 + 150)],
        crs="EPSG:4527",
    ).to_file(path, layer="XXGHDK")
    spec = VersionSpec(DETAILED, "2021版", valid_from=date(2021, 1, 1))
    import_file(store, path, role="detailed_parcel", layer="XXGHDK", version=spec)


def _seed(workspace: Path) -> None:
    with open_workspace(workspace) as store:
        _detailed_plan(store, workspace.parent)
        for dept_id, name in DEPARTMENTS.items():
            create_department(store, Department(dept_id, name), actor="setup")
        for username, (name, department, roles) in ACCOUNTS.items():
            create_user(
                store,
                username=username,
                display_name=name,
                department=department,
                roles=roles,
                password=PASSWORD,
                actor="setup",
                hashing=HASHING,
            )
        # a case taken in 60 days ago and still in co-review: overdue (督办)
        then = datetime.now() - timedelta(days=60)
        site = shapely.box(X0 + 210, Y0 + 10, X0 + 290, Y0 + 50)
        indicators = {"YDYHFLDM": "0701", "RJL": 1.0}
        application = Application(
            PROCEDURE, "城关镇人民政府", OVERDUE_PROJECT, "城关镇", site, then.date(), indicators
        )
        clerk = Principal("chuang", frozenset({"clerk"}), "guihua")
        intake(store, application, clerk, ApprovalSetup(now=lambda: then))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    workspace = build_graded_workspace(tmp_path_factory.mktemp("cases_browser") / "graded.gpkg")
    _seed(workspace)
    with _serving(str(workspace), "local") as url:
        yield {"url": url, "workspace": workspace}


@pytest.fixture(scope="module")
def browser(server: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


class Person:
    """A user signed in (``POST /auth/sign-in``) in a browser context of their own, with a
    page that records script errors and CSP violations; ``None`` for nobody."""

    def __init__(self, browser: Any, server: dict[str, Any], username: str | None) -> None:
        self.url = server["url"]
        self.context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
        self.csrf = ""
        if username:
            body = {"username": username, "password": PASSWORD}
            answer = self.context.request.post(self.url + "/auth/sign-in", data=body)
            assert answer.status == 200, answer.text()
            self.csrf = answer.json()["csrf_token"]
        self.page = self.context.new_page()
        self.errors: list[str] = []
        self.page.on(
            "console",
            lambda m: (
                m.type == "error" and not _HTTP_STATUS.search(m.text) and self.errors.append(m.text)
            ),
        )
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def open(self, path: str) -> Any:
        """Open a page of the site and wait until it has drawn what it loaded."""
        self.page.goto(self.url + path)
        self.page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        return self.page

    def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A JSON request of the API, as the page's scripts make it."""
        answer = self.context.request.post(
            self.url + path,
            data=json.dumps(body),
            headers={"Content-Type": "application/json", "X-CSRF-Token": self.csrf},
        )
        assert answer.ok, answer.text()
        doc: dict[str, Any] = answer.json()
        return doc

    def close(self) -> None:
        self.context.close()


@pytest.fixture()
def people(browser: Any, server: dict[str, Any]) -> Iterator[Any]:
    """``people("zj")``: a signed-in person (closed after the test), asserting no script error."""
    made: list[Person] = []

    def person(username: str | None) -> Person:
        made.append(Person(browser, server, username))
        return made[-1]

    SCREENSHOTS.mkdir(exist_ok=True)
    yield person
    errors = [e for p in made for e in p.errors]
    for p in made:
        p.close()
    assert errors == []


def _application(project: str, box: tuple[float, float, float, float] = SITE) -> dict[str, Any]:
    return {
        "procedure": PROCEDURE,
        "applicant": "示范县城市建设投资有限公司",
        "project": project,
        "location": "城关镇文昌路东侧",
        "site": _polygon(box),
        "application_date": datetime.now().date().isoformat(),
        "indicators": {"YDYHFLDM": "0701", "RJL": 1.2},
    }


def _case_page(person: Person, case_id: str, query: str = "") -> Any:
    return person.open(f"/ui/cases/case?id={case_id}{query}")


def _state(page: Any) -> Any:
    return page.locator("[data-testid=case-state]")


# -- the journey of a case ----------------------------------------------------------------------


def _draw(page: Any, box: tuple[float, float, float, float]) -> None:
    """Click the corners of ``box`` on the map, the last one twice (a double click closes)."""
    canvas = page.locator("#map canvas").bounding_box()
    points = [
        page.evaluate(f"() => window.guotuMap.project([{lon}, {lat}])")
        for lon, lat in _corners(*box)
    ]
    for p in points[:-1]:
        page.mouse.click(canvas["x"] + p["x"], canvas["y"] + p["y"])
    page.mouse.dblclick(canvas["x"] + points[-1]["x"], canvas["y"] + points[-1]["y"])


def _act_opinion(person: Person, case_id: str, value: str, conditions: str = "") -> Any:
    page = _case_page(person, case_id)
    page.locator(f"[data-testid=opinion-{value}]").check()
    if conditions:
        page.locator("[data-testid=opinion-conditions]").fill(conditions)
    page.locator("[data-testid=opinion-submit]").click()
    page.locator("[data-testid=message].ok").wait_for()
    return page


def test_a_case_from_the_window_to_the_verified_permit(server: dict[str, Any], people: Any) -> None:
    clerk = people(None)
    page = clerk.page
    page.goto(server["url"] + "/ui/login?next=/ui/cases")
    page.wait_for_selector("body[data-ready='1']")
    page.locator("[data-testid=username]").fill("chuang")
    page.locator("[data-testid=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("[data-testid=sign-in]").click()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    with page.expect_navigation():
        page.locator("[data-testid=intake]").click()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.url == server["url"] + "/ui/cases/new"
    form = page.locator("[data-testid=intake-form]")
    procedures = page.locator("[data-testid=procedure] option").all_inner_texts()
    assert "建设工程规划许可证" in procedures and "竣工规划核实" in procedures
    page.locator("[data-testid=procedure]").select_option(label="建设工程规划许可证")
    assert (
        page.locator("[data-testid=application-date]").input_value()
        == datetime.now().date().isoformat()
    )
    form.locator("[data-testid=applicant]").fill("示范县城市建设投资有限公司")
    form.locator("[data-testid=project]").fill("城关镇第二小学教学楼")
    form.locator("[data-testid=location]").fill("城关镇文昌路东侧")
    form.locator("[data-testid=ind-YDYHFLDM]").fill("0701")
    form.locator("[data-testid=ind-RJL]").fill("1.2")
    form.locator("[data-testid=ind-LDL]").fill("35")
    _draw(page, SITE)
    state = page.locator("[data-testid=site-state]")
    assert state.get_attribute("data-state") == "ready" and "4 个拐点" in state.inner_text()
    materials = page.locator("[data-testid=material]")
    assert materials.count() == 5 and "建设工程规划许可证申请表" in materials.first.inner_text()
    page.locator("[data-testid=material-file-0]").set_input_files(
        {"name": "申请表.pdf", "mimeType": "application/pdf", "buffer": b"%PDF-1.4 application"}
    )
    page.screenshot(path=str(SCREENSHOTS / "ui-cases-new.png"))
    with page.expect_navigation(url=re.compile(r"/ui/cases/case\?id=\d+")):
        page.locator("[data-testid=submit]").click()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    case_id = page.url.rsplit("=", 1)[1]
    # the automatic review ran (合规) and the case waits for the two departments
    outcome = page.locator("[data-testid=review-outcome]")
    assert outcome.get_attribute("data-value") == "compliant" and outcome.inner_text() == "合规"
    assert _state(page).get_attribute("data-stage") == "co_review"
    assert "住房和城乡建设局" in page.locator("[data-testid=case-head]").inner_text()
    assert "申请表.pdf" in page.locator("[data-testid=files]").inner_text()
    assert page.locator("[data-testid=stage]").count() == 3  # 受理, 自动审查, 并联审查
    page.screenshot(path=str(SCREENSHOTS / "ui-cases-case-co-review.png"))

    # the housing bureau finds it in its 待办 and agrees
    zj = people("zj")
    listing = zj.open("/ui/cases")
    row = listing.locator("[data-testid=case-row]", has_text="城关镇第二小学教学楼")
    assert "住房和城乡建设局" in row.locator("[data-testid=waiting]").inner_text()
    assert re.search(r"剩余 \d+ 个工作日", row.inner_text())
    listing.screenshot(path=str(SCREENSHOTS / "ui-cases-list.png"))
    with listing.expect_navigation():
        row.locator("td").nth(1).click()
    listing.wait_for_selector("body[data-ready='1']", timeout=30_000)
    listing.locator("[data-testid=opinion-agree]").check()
    listing.locator("[data-testid=opinion-submit]").click()
    listing.locator("[data-testid=message].ok").wait_for()
    assert "住房和城乡建设局：同意" in listing.locator("[data-testid=opinions]").inner_text()
    assert listing.locator("[data-testid=opinion-form]").count() == 0  # one opinion each

    # the ecology bureau agrees with a condition: the co-review is over
    st = _act_opinion(people("st"), case_id, "conditional", "施工期落实扬尘防治措施")
    assert st.locator("[data-testid=condition]").inner_text() == "施工期落实扬尘防治措施"
    assert _state(st).get_attribute("data-stage") == "technical_review"

    # the planning reviewer closes the technical review, the approver grants the permit
    shen = _case_page(people("shen"), case_id)
    assert shen.locator("[data-testid=outcome-done]").inner_text() == "办结"
    shen.locator("[data-testid=outcome-done]").click()
    shen.locator("[data-testid=message].ok").wait_for()
    assert _state(shen).get_attribute("data-stage") == "decision"
    pi = _case_page(people("pi"), case_id)
    labels = pi.locator("[data-testid=outcome-form] button").all_inner_texts()
    assert labels == ["准予许可", "附条件许可", "不予许可"]
    pi.locator("[data-testid=outcome-approved]").click()
    pi.locator("[data-testid=message].ok").wait_for()
    assert _state(pi).inner_text() == "已办结（核发许可证）"
    assert pi.locator("[data-testid=actions]").is_hidden()
    assert pi.locator("[data-testid=document-serial]").inner_text() == f"建字第{case_id}号"
    download = pi.locator("[data-testid=document-download]").get_attribute("href")
    assert pi.context.request.get(server["url"] + download).body().startswith(b"%PDF")
    pi.screenshot(path=str(SCREENSHOTS / "ui-cases-issued.png"), full_page=True)

    # anyone with the verification link sees the permit is genuine
    verify = pi.locator("[data-testid=verify-link]").get_attribute("href")
    anyone = people(None).page
    anyone.goto(server["url"] + verify)
    assert "文书真实有效" in anyone.locator("h1").inner_text()
    assert "城关镇第二小学教学楼" in anyone.locator("body").inner_text()
    anyone.screenshot(path=str(SCREENSHOTS / "ui-cases-verify.png"))


def test_a_stale_page_is_told_someone_acted_meanwhile(server: dict[str, Any], people: Any) -> None:
    clerk, zj, st = people("chuang"), people("zj"), people("st")
    case_id = clerk.post("/cases", _application("城关镇文化活动中心"))["id"]
    page = _case_page(st, case_id)  # the ecology bureau's page, before the housing bureau acts
    zj.post(f"/cases/{case_id}/events", {"kind": "opinion", "value": "agree"})
    page.locator("[data-testid=opinion-agree]").check()
    page.locator("[data-testid=opinion-submit]").click()
    box = page.locator("[data-testid=message].error")
    box.wait_for()
    assert "已被他人办理" in box.inner_text() and "请刷新" in box.inner_text()
    assert (
        page.locator("[data-testid=opinions]").inner_text().count("同意") == 0
    )  # nothing shown as done
    page.screenshot(path=str(SCREENSHOTS / "ui-cases-stale.png"))
    with page.expect_navigation():
        page.locator("[data-testid=reload]").click()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert "住房和城乡建设局：同意" in page.locator("[data-testid=opinions]").inner_text()
    page.locator("[data-testid=opinion-agree]").check()
    page.locator("[data-testid=opinion-submit]").click()
    page.locator("[data-testid=message].ok").wait_for()
    assert _state(page).get_attribute("data-stage") == "technical_review"


def test_the_past_is_shown_without_actions(server: dict[str, Any], people: Any) -> None:
    clerk, shen = people("chuang"), people("shen")
    case = clerk.post("/cases", _application("城关镇社区卫生服务站"))
    accepted = datetime.fromisoformat(case["events"][-1]["at"]).replace(microsecond=0)
    time.sleep(1.2)  # the co-review's opinions come a second later than the moment looked at
    for who in ("zj", "st"):
        people(who).post(f"/cases/{case['id']}/events", {"kind": "opinion", "value": "agree"})
    page = _case_page(shen, case["id"])
    assert _state(page).get_attribute("data-stage") == "technical_review"
    assert page.locator("[data-testid=outcome-done]").is_visible()
    moment = (accepted + timedelta(seconds=1)).isoformat()
    page.locator("[data-testid=history-at]").fill(moment)
    with page.expect_navigation():
        page.locator("[data-testid=history-show]").click()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert "as_of=" in page.url
    banner = page.locator("[data-testid=history-banner]")
    assert (
        banner.is_visible()
        and f"历史状态（截至 {moment.replace('T', ' ')}）" in banner.inner_text()
    )
    assert _state(page).get_attribute("data-stage") == "co_review"
    waiting = page.locator("[data-testid=case-waiting]").inner_text()
    assert "住房和城乡建设局" in waiting and "生态环境分局" in waiting
    assert page.locator("[data-testid=actions]").is_hidden()
    assert page.locator("[data-testid=actions] button").count() == 0
    assert page.locator("[data-testid=upload-form]").is_hidden()
    assert page.locator("[data-testid=opinion-awaited]").count() == 2
    page.screenshot(path=str(SCREENSHOTS / "ui-cases-history.png"), full_page=True)
    with page.expect_navigation():
        page.locator("[data-testid=history-now]").click()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert _state(page).get_attribute("data-stage") == "technical_review"


def test_a_site_from_a_geojson_file_on_farmland_goes_to_supplement_with_its_findings(
    server: dict[str, Any], people: Any, tmp_path: Path
) -> None:
    page = people("chuang").open("/ui/cases/new")
    geojson = tmp_path / "site.geojson"
    feature = {"type": "Feature", "properties": {}, "geometry": _polygon(FARMLAND_SITE)}
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}))
    page.locator("[data-testid=procedure]").select_option(PROCEDURE)
    page.locator("[data-testid=applicant]").fill("某农业公司")
    page.locator("[data-testid=project]").fill("农田边的仓库")
    page.locator("[data-testid=ind-YDYHFLDM]").fill("0701")
    page.locator("[data-testid=site-file]").set_input_files(str(geojson))
    page.wait_for_selector("[data-testid=site-state][data-state=ready]")
    assert "site.geojson" in page.locator("[data-testid=site-state]").inner_text()
    with page.expect_navigation(url=re.compile(r"/ui/cases/case\?id=\d+")):
        page.locator("[data-testid=submit]").click()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.locator("[data-testid=review-outcome]").inner_text() == "不合规"
    farmland = page.locator("[data-testid=finding]", has_text="永久基本农田")
    assert farmland.count() >= 1
    assert farmland.first.locator(".sev-error").inner_text() == "不符合"
    assert _state(page).get_attribute("data-stage") == "supplement"
    # the window asks for what is missing: the clock stops
    page.locator("[data-testid=pause-note]").fill("请调整用地范围，避让永久基本农田")
    page.locator("[data-testid=pause-submit]").click()
    page.locator("[data-testid=message].ok").wait_for()
    assert _state(page).inner_text() == "补正中"
    assert "补正中" in page.locator("[data-testid=stage][data-stage=supplement]").inner_text()
    assert page.locator("[data-testid=resume-submit]").is_visible()
    # the window corrects the application as the applicant supplements it
    page.locator("[data-testid=amend-JZXG]").fill("24")
    page.locator("[data-testid=amend-note]").fill("限高改为 24 米")
    page.locator("[data-testid=amend-submit]").click()
    page.wait_for_selector("[data-testid=message].ok:has-text('修改申请内容')")
    case_id = page.url.split("id=")[1].split("&")[0]
    got = page.request.get(f"{server['url']}/cases/{case_id}.json").json()
    assert got["indicators"]["JZXG"] == 24 and got["events"][-1]["kind"] == "amend"
    page.screenshot(path=str(SCREENSHOTS / "ui-cases-supplement.png"), full_page=True)


# -- the lists and the statistics -------------------------------------------------------------


def test_the_overdue_case_is_in_the_supervision_box(server: dict[str, Any], people: Any) -> None:
    page = people("zj").open("/ui/cases?box=overdue")
    assert page.locator("[data-testid=box-overdue]").get_attribute("class") == "active"
    row = page.locator("[data-testid=case-row]", has_text=OVERDUE_PROJECT)
    clock = row.locator("[data-testid=clock]")
    assert re.fullmatch(
        r"超期 \d+ 个工作日", clock.inner_text()
    ) and "clock-late" in clock.get_attribute("class")
    count = int(page.locator("[data-count=overdue]").inner_text())
    assert count == page.locator("[data-testid=case-row]").count() >= 1
    page.screenshot(path=str(SCREENSHOTS / "ui-cases-overdue.png"))


def test_the_statistics_draw_a_bar_for_each_row(server: dict[str, Any], people: Any) -> None:
    pi = people("pi")
    page = pi.open("/ui/cases/stats")
    doc = pi.context.request.get(server["url"] + "/cases/stats.json").json()
    assert page.locator("[data-testid=total-cases]").inner_text() == str(doc["cases"])
    bars = {
        name: page.locator(f"[data-testid=chart-{name}] svg [data-testid=bar]").count()
        for name in ("stage", "days", "overdue")
    }
    assert bars == {
        "stage": len(doc["by_stage"]),
        "days": 2 * len(doc["stage_days"]),
        "overdue": len(doc["overdue_by_department"]),
    }
    assert bars["stage"] >= 1 and bars["days"] >= 2 and bars["overdue"] >= 1
    labels = page.locator("[data-testid=chart-stage] [data-testid=bar]").evaluate_all(
        "els => els.map(e => e.dataset.label)"
    )
    assert "并联审查" in labels
    page.screenshot(path=str(SCREENSHOTS / "ui-cases-stats.png"), full_page=True)


def test_the_list_page_in_english(server: dict[str, Any], people: Any) -> None:
    page = people("zj").open("/ui/cases?lang=en")
    assert page.locator("[data-testid=box-todo]").inner_text().startswith("To do")
    assert page.locator("[data-testid=box-overdue]").inner_text().startswith("Overdue")
    assert page.locator("[data-testid=cases-table] thead").inner_text().split("\t")[:3] == [
        "Case",
        "Project",
        "Applicant",
    ]
    assert (
        "Construction project planning permit"
        in page.locator("[data-testid=case-row]").first.inner_text()
    )
    assert page.evaluate("document.documentElement.lang") == "en"
    page.screenshot(path=str(SCREENSHOTS / "ui-cases-list-en.png"))


def test_the_pages_send_nobody_to_sign_in_first(server: dict[str, Any], people: Any) -> None:
    page = people(None).page
    page.goto(server["url"] + "/ui/cases/stats")
    page.wait_for_url(re.compile(r"/ui/login\?next="))
    assert page.url.endswith("/ui/login?next=%2Fui%2Fcases%2Fstats")
