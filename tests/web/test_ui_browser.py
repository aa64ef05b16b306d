"""The web UI in headless Chromium (Debian's ``/usr/bin/chromium``, driven by Playwright).

The demo county (3000 parcels) is served by uvicorn on a free loopback port in a thread.
Playwright's own browser download is never used: Chromium is launched by its path. Without
Chromium, Playwright or the npm assets these tests skip, except under ``CI=true``, where
they fail (CI installs all three). Screenshots go to ``tests/web/screenshots/`` (ignored).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import shapely
from pyproj import Transformer

from guotu.demo.build import build_demo
from guotu.services.monitoring_inputs import load_catalogue
from guotu.settings import Settings
from guotu.web.app import create_app
from guotu.web.ui import vendor_files
from tests.web.test_ui_app import amend_land_use, amend_survey

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("GUOTU_TEST_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = Path(__file__).parent / "screenshots"
#: The flags this machine needs: no sandbox as root, no background network calls.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _missing() -> str | None:
    if not shutil.which(CHROMIUM) and not Path(CHROMIUM).is_file():
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Python playwright is not installed (pip install --group test)"
    absent = [str(p) for p in vendor_files().values() if not p.is_file()]
    if absent:
        return f"web UI assets missing: {', '.join(absent)} (make ui)"
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    import uvicorn

    base = tmp_path_factory.mktemp("ui_browser")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=3000, seed=20261122)
    manifest = json.loads(result.manifest_path.read_text(encoding="utf-8"))
    planted = {
        str(f)
        for i in manifest["items"]
        for f in i.get("features", []) + i.get("other_features", [])
    }
    amendment = amend_land_use(result.workspace, avoid=planted)
    survey = amend_survey(result.workspace, avoid=planted)
    port = _free_port()
    files = base / "files"
    app = create_app(
        Settings(
            workspace=str(result.workspace),
            monitor_targets=str(files / "规划目标.xlsx"),
            monitor_statistics=str(files / "社会经济统计.xlsx"),
        )
    )
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start within 20 s")
        time.sleep(0.05)
    try:
        yield {
            "url": f"http://127.0.0.1:{port}",
            "items": {i["id"]: i for i in manifest["items"]},
            "crs": manifest["crs"],
            "files": base / "files",
            "amendment": amendment,
            "survey": survey,
            "expected": manifest["history"]["expected"],
        }
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(server: dict[str, Any]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture()
def page(browser: Any, server: dict[str, Any]) -> Iterator[Any]:
    """A fresh page on ``/ui/`` that records console errors, non-local requests and the
    page's own data requests (``fetched``: fetch/XHR, tiles included)."""
    context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="zh-CN")
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.external = []  # type: ignore[attr-defined]
    pg.fetched = []  # type: ignore[attr-defined]
    pg.on("console", lambda m: m.type == "error" and pg.errors.append(m.text))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))

    def request(req: Any) -> None:
        if not req.url.startswith((server["url"], "data:", "blob:")):
            pg.external.append(req.url)
        elif req.resource_type in ("fetch", "xhr"):
            pg.fetched.append(req.url)

    pg.on("request", request)
    pg.goto(server["url"] + "/ui/")
    pg.wait_for_selector("body[data-ready='1']", timeout=30_000)
    SCREENSHOTS.mkdir(exist_ok=True)
    try:
        yield pg
    finally:
        context.close()


def _lonlat(server: dict[str, Any], item: str) -> tuple[float, float]:
    centre = shapely.from_wkt(server["items"][item]["geometry_wkt"]).centroid
    lon, lat = Transformer.from_crs(server["crs"], "EPSG:4326", always_xy=True).transform(
        centre.x, centre.y
    )
    return lon, lat


def _contrast(colour: str, background: str) -> float:
    """WCAG contrast ratio of two CSS ``rgb()``/``rgba()`` colours (alpha ignored)."""

    def luminance(css: str) -> float:
        channels = [int(v) / 255 for v in css[css.index("(") + 1 : -1].split(",")[:3]]
        lin = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]

    high, low = sorted((luminance(colour), luminance(background)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def test_page_loads_without_errors_or_external_requests(page: Any) -> None:
    assert page.title() == "国土空间规划一张图"
    tree = page.locator("[data-testid=layer-tree]")
    assert "规划用地" in tree.inner_text() and "生态保护红线" in tree.inner_text()
    assert "01 耕地" in page.locator("[data-testid=legend]").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "ui-loaded.png"))
    assert page.errors == []
    assert page.external == []


def test_toggle_a_layer(page: Any) -> None:
    visible = "() => window.guotuMap.getLayoutProperty('GHYD-fill', 'visibility')"
    assert page.evaluate(visible) == "visible"
    page.locator("[data-testid=toggle-GHYD]").uncheck()
    assert page.evaluate(visible) == "none"
    page.locator("[data-testid=toggle-GHYD]").check()
    assert page.evaluate(visible) == "visible"


def test_as_of_reloads_tiles_with_as_of(page: Any) -> None:
    with page.expect_request(lambda r: "/tiles/GHYD/" in r.url and "as_of=2024-01-01" in r.url):
        page.locator("[data-testid=as-of]").fill("2024-01-01")
    assert page.errors == []


def test_click_a_parcel_shows_what_applies(page: Any, server: dict[str, Any]) -> None:
    item = server["items"]["conflict.redline.inside.1"]
    lon, lat = _lonlat(server, "conflict.redline.inside.1")
    page.evaluate(f"() => window.guotuMap.jumpTo({{center: [{lon}, {lat}], zoom: 17}})")
    point = page.evaluate(f"() => window.guotuMap.project([{lon}, {lat}])")
    box = page.locator("[data-testid=map]").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector("[data-testid=applies-item], [data-testid=query-error]", timeout=15_000)
    page.screenshot(path=str(SCREENSHOTS / "ui-query.png"))
    text = page.locator("[data-testid=query-panel]").inner_text()
    assert item["features"][0] in text  # the master-plan parcel (GHYD BSM)
    assert item["other_features"][0] in text  # the red line it lies in
    assert "生态保护红线" in text and "禁止" in text
    page.screenshot(path=str(SCREENSHOTS / "ui-query.png"))
    assert page.errors == []


def test_query_panel_names_fields_in_chinese_with_units(page: Any, server: dict[str, Any]) -> None:
    lon, lat = _lonlat(server, "conflict.redline.inside.1")
    page.evaluate(f"() => window.guotuMap.jumpTo({{center: [{lon}, {lat}], zoom: 17}})")
    point = page.evaluate(f"() => window.guotuMap.project([{lon}, {lat}])")
    box = page.locator("[data-testid=map]").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector("[data-testid=applies-item]", timeout=15_000)
    panel = page.locator("[data-testid=query-panel]")
    # the standard Chinese name is shown, the field code is on hover
    assert panel.locator("td[title=XZQDM]").first.inner_text() == "行政区代码"
    assert panel.locator("td[title=YDYHFLDM]").first.inner_text() == "用地用海分类代码"
    text = panel.inner_text()
    assert "XZQDM" not in text and "YDYHFLDM" not in text
    # areas in m² and 公顷 (the red line's MJ, e.g. "5,999,888.13 m²（599.9888 公顷）")
    area = panel.locator("tr[data-field=MJ] td").nth(1).inner_text()
    assert area.endswith("公顷）") and " m²（" in area
    assert panel.locator("tr[data-field=MJ] td").first.inner_text() == "面积"
    assert page.errors == []


def test_run_a_review_lists_and_draws_findings(page: Any, server: dict[str, Any]) -> None:
    page.locator("button[data-tab=review]").click()
    page.locator("[data-testid=review-run]").click()
    page.wait_for_selector("[data-testid=finding]", timeout=60_000)
    findings = page.locator("[data-testid=finding]")
    assert findings.count() >= 3
    text = page.locator("[data-testid=review-result]").inner_text()
    parcel = server["items"]["conflict.redline.inside.1"]["features"][0]
    assert parcel in text and "生态保护红线" in text
    drawn = page.evaluate(
        "() => window.guotuMap.getSource('findings').serialize().data.features.length"
    )
    assert drawn >= 3
    findings.first.click()
    href = page.locator("[data-testid=download-xlsx]").get_attribute("href")
    response = page.request.get(server["url"] + href)
    assert response.ok and response.body()[:2] == b"PK"
    page.screenshot(path=str(SCREENSHOTS / "ui-review.png"))
    assert page.errors == []


def test_balance_table_and_english(page: Any) -> None:
    page.locator("button[data-tab=balance]").click()
    assert page.locator("[data-testid=balance-layer]").input_value() == "GHYD"
    page.locator("[data-testid=balance-run]").click()
    page.wait_for_selector("[data-testid=balance-table]", timeout=30_000)
    assert "耕地" in page.locator("[data-testid=balance-table]").inner_text()
    assert page.locator("[data-testid=balance-chart] canvas").count() == 1  # ECharts, from npm
    page.locator("[data-testid=lang]").click()
    assert page.title() == "Territorial spatial planning one map"
    assert "Ecological protection red line" in page.locator("[data-testid=layer-tree]").inner_text()
    table = page.locator("[data-testid=balance-table]").inner_text()
    assert "Code" in table and "耕地" not in table  # the table follows the language switch
    page.screenshot(path=str(SCREENSHOTS / "ui-balance-en.png"))
    assert page.errors == []


def test_every_request_carries_the_chosen_lang(page: Any) -> None:
    """The browser says zh-CN (Accept-Language); the page still sends its own choice."""
    assert page.fetched and all("lang=zh" in url for url in page.fetched)
    assert any("/tiles/" in url for url in page.fetched)
    page.locator("[data-testid=lang]").click()
    page.fetched.clear()
    page.locator("button[data-tab=balance]").click()
    with page.expect_request(lambda r: "/ui/balance.json" in r.url):
        page.locator("[data-testid=balance-run]").click()
    with page.expect_request(lambda r: "/tiles/" in r.url):
        page.evaluate("() => window.guotuMap.zoomIn({duration: 0})")
    page.wait_for_selector("[data-testid=balance-table]", timeout=30_000)
    assert page.fetched and all("lang=en" in url for url in page.fetched)
    assert page.errors == []


def test_upload_a_zipped_shapefile_and_review_it(
    page: Any, server: dict[str, Any], tmp_path: Path
) -> None:
    import zipfile

    bundle = tmp_path / "建设项目.zip"
    with zipfile.ZipFile(bundle, "w", zipfile.ZIP_DEFLATED) as z:
        for part in sorted(server["files"].glob("建设项目.*")):
            z.write(part, part.name)
    page.locator("button[data-tab=review]").click()
    page.locator("[data-testid=review-kind]").select_option("project")
    page.locator("[data-testid=source-upload]").check()
    page.locator("[data-testid=review-file]").set_input_files(str(bundle))
    page.locator("[data-testid=review-run]").click()
    page.wait_for_selector("[data-testid=finding], [data-testid=review-error]", timeout=60_000)
    text = page.locator("[data-testid=review-result]").inner_text()
    assert "建设项目.shp" in text  # the reviewed file, as its label names it
    planted = server["items"]["conflict.project.rjl.1"]["features"][0]
    assert planted in text and "project.indicator_limits" in text
    drawn = page.evaluate(
        "() => window.guotuMap.getSource('findings').serialize().data.features.length"
    )
    assert drawn >= 1
    page.screenshot(path=str(SCREENSHOTS / "ui-review-upload.png"))
    assert page.errors == []


def test_version_diff_lists_draws_and_charts_the_amendment(
    page: Any, server: dict[str, Any]
) -> None:
    change = server["amendment"]
    page.locator("button[data-tab=diff]").click()
    assert page.locator("[data-testid=diff-plan]").input_value() == change["plan"]
    assert page.locator("[data-testid=diff-to]").input_value() == "2025修改"
    page.locator("[data-testid=diff-run]").click()
    page.wait_for_selector("[data-testid=diff-row]", timeout=30_000)
    rows = page.locator("[data-testid=diff-row]")
    assert rows.count() == 3
    table = page.locator("[data-testid=diff-changes]").inner_text()
    for bsm, code in change["new"].items():
        assert bsm in table and code in table
    assert change["removed"] in table and "删除" in table
    drawn = page.evaluate(
        "() => window.guotuMap.getSource('diff').serialize().data.features.length"
    )
    assert drawn == 3
    assert page.locator("[data-testid=diff-chart] canvas").count() == 1
    assert "0701 城镇住宅用地" in table  # 用地用海 names for a 用地用海 layer
    rows.first.click()
    page.screenshot(path=str(SCREENSHOTS / "ui-diff.png"))
    assert page.errors == []


def test_survey_diff_uses_survey_names_and_shows_areas(page: Any, server: dict[str, Any]) -> None:
    change = server["survey"]
    page.locator("button[data-tab=diff]").click()
    page.locator("[data-testid=diff-plan]").select_option(change["plan"])
    page.locator("[data-testid=diff-from]").select_option(change["from"])
    page.locator("[data-testid=diff-to]").select_option(change["to"])
    page.locator("[data-testid=diff-run]").click()
    page.wait_for_selector("[data-testid=diff-row]", timeout=30_000)
    row = page.locator("[data-testid=diff-row]", has_text=change["bsm"])
    # named by the 三调 working classification of DLTB, not by 用地用海 (05 湿地)
    assert row.locator("[data-testid=diff-from]").inner_text() == "0103 旱地"
    assert row.locator("[data-testid=diff-to]").inner_text() == "05H1 商业服务业设施用地"
    assert "三调工作分类" in page.locator("[data-testid=diff-summary]").inner_text()
    old, new = (
        float(row.locator(f"[data-testid=diff-area-{side}]").inner_text().replace(",", ""))
        for side in ("old", "new")
    )
    assert old == pytest.approx(change["area_m2"], abs=0.01) and new == pytest.approx(old)
    assert row.locator("[data-testid=diff-area-delta]").inner_text() in ("0.00", "-0.00")
    labels = page.evaluate(
        "() => echarts.getInstanceByDom(document.getElementById("
        "'diff-chart')).getOption().yAxis[0].data"
    )
    assert "05 商业服务业用地" in labels and "01 耕地" in labels
    assert not any("湿地" in label for label in labels)
    height = page.locator("[data-testid=diff-chart] canvas").bounding_box()["height"]
    assert height > 100
    page.screenshot(path=str(SCREENSHOTS / "ui-diff-survey.png"))
    assert page.errors == []


def test_monitoring_dashboard(browser: Any, server: dict[str, Any]) -> None:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    errors: list[str] = []
    external: list[str] = []
    fetched: list[str] = []
    pg.on("console", lambda m: m.type == "error" and errors.append(m.text))
    pg.on("pageerror", lambda e: errors.append(str(e)))

    def request(req: Any) -> None:
        if not req.url.startswith((server["url"], "data:", "blob:")):
            external.append(req.url)
        elif req.resource_type in ("fetch", "xhr"):
            fetched.append(req.url)

    pg.on("request", request)
    try:
        pg.goto(server["url"] + "/ui/monitor")
        pg.wait_for_selector("body[data-ready='1']", timeout=60_000)
        cards = pg.locator("[data-testid=card]")
        assert cards.count() == 19
        status = {
            c.get_attribute("data-indicator"): c.get_attribute("data-status") for c in cards.all()
        }
        # today's values answer to the 2035 targets: the manifest's statuses for them
        later = server["expected"]["status_2035"]
        assert {k: status[k] for k in later} == later
        red = [k for k, v in later.items() if v == "red"]
        assert str(len(red)) in pg.locator("[data-testid=count-red]").inner_text()
        assert pg.locator("[data-testid=cards] canvas").count() == 19  # ECharts trends
        warnings = pg.locator("[data-testid=warnings]").inner_text()
        names = {i.id: i.name_zh for i in load_catalogue().indicators}
        assert all(names[k] in warnings for k in red) and "占多补少" in warnings
        assert pg.locator("[data-testid=case-row]").count() == 5  # the unapproved cases
        # case types are readable: text and background differ, with at least 4.5:1 contrast
        for colour, background in pg.evaluate(
            "() => [...document.querySelectorAll('[data-testid=case-class]')].map((el) =>"
            " [getComputedStyle(el).color, getComputedStyle(el).backgroundColor])"
        ):
            assert colour != background
            assert _contrast(colour, background) >= 4.5, (colour, background)
        drawn = pg.evaluate(
            "() => window.guotuMonitorMap.getSource('cases').serialize().data.features.length"
        )
        assert drawn >= 10
        assert pg.locator("[data-testid=ledger-chart] canvas").count() == 1
        ledger = pg.locator("[data-testid=ledger-chart] canvas").bounding_box()
        assert ledger["height"] > 100 and ledger["width"] > 100  # drawn, not 0 px high
        href = pg.locator("[data-testid=report-html]").get_attribute("href")
        report = pg.request.get(server["url"] + href)
        assert report.ok and "体检评估" in report.text()
        assert fetched and all("lang=zh" in url for url in fetched)
        # the dashboard scrolls inside the page: grow the window to take all of it
        height = pg.evaluate(
            "() => document.querySelector('header').offsetHeight"
            " + document.querySelector('.scroll').scrollHeight"
        )
        pg.set_viewport_size({"width": 1400, "height": height})
        pg.wait_for_timeout(300)  # the charts follow the resize
        pg.screenshot(path=str(SCREENSHOTS / "ui-monitor.png"), full_page=True)
        assert errors == [] and external == []
    finally:
        context.close()


# -- QA walkthrough (planner): map, identify, balance, review, dashboard, sheet ----------------
def _click_site(page: Any, server: dict[str, Any], item: str, zoom: int = 17) -> None:
    lon, lat = _lonlat(server, item)
    page.evaluate(f"() => window.guotuMap.jumpTo({{center: [{lon}, {lat}], zoom: {zoom}}})")
    point = page.evaluate(f"() => window.guotuMap.project([{lon}, {lat}])")
    box = page.locator("[data-testid=map]").bounding_box()
    page.mouse.click(box["x"] + point["x"], box["y"] + point["y"])
    page.wait_for_selector("[data-testid=applies-item]", timeout=15_000)


def test_land_survey_is_coloured_by_class_with_its_legend(page: Any) -> None:
    legend = page.locator("[data-testid=legend]")
    assert legend.locator("[data-scheme=sandiao]").count() == 0  # DLTB hidden by default
    assert "18 渔业用海" not in legend.inner_text()  # an inland county: no sea class
    page.locator("[data-testid=toggle-DLTB]").check()
    fill = page.evaluate("() => window.guotuMap.getPaintProperty('DLTB-fill', 'fill-color')")
    colours = {
        c["code"]: c["colour"]
        for c in page.evaluate(
            "() => fetch('/ui/config.json').then((r) => r.json()).then((c) => c.land_survey_colours)"
        )
    }
    flat = json.dumps(fill)
    assert colours["01"] in flat and colours["03"] in flat and colours["00"] in flat
    assert legend.locator("[data-scheme=sandiao]").inner_text() == "三调一级类（现状地类）"
    assert "01 耕地" in legend.inner_text() and "02 种植园用地" in legend.inner_text()
    assert page.errors == []


def test_identify_names_the_feature_and_outlines_the_parcel(
    page: Any, server: dict[str, Any]
) -> None:
    _click_site(page, server, "conflict.redline.inside.1")
    titles = page.locator("[data-testid=applies-title]").all_inner_texts()
    county = next(t for t in titles if t.startswith("行政区/规划范围"))
    assert "示范县" in county  # the name, the code beside it
    parcel = server["items"]["conflict.redline.inside.1"]["features"][0]
    picked = page.locator(".card.picked")
    assert picked.count() == 1 and parcel in picked.inner_text()
    flt = page.evaluate("() => window.guotuMap.getFilter('GHYD-highlight')")
    assert parcel in json.dumps(flt)
    page.wait_for_timeout(500)
    drawn = page.evaluate(
        "() => window.guotuMap.queryRenderedFeatures({layers: ['GHYD-highlight']}).length"
    )
    assert drawn >= 1  # the outline is on the map, not only a marker
    assert page.errors == []


def test_double_click_zooms_without_a_query(page: Any) -> None:
    queries: list[str] = []
    page.on("request", lambda r: "/query?" in r.url and queries.append(r.url))
    before = page.evaluate("() => window.guotuMap.getZoom()")
    box = page.locator("[data-testid=map]").bounding_box()
    page.mouse.dblclick(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(1000)
    assert page.evaluate("() => window.guotuMap.getZoom()") > before
    assert queries == []
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(1000)
    assert len(queries) == 1  # a single click still queries


def test_the_query_panel_follows_the_language(page: Any, server: dict[str, Any]) -> None:
    _click_site(page, server, "conflict.redline.inside.1")
    assert "适用要素" in page.locator("[data-testid=query-panel]").inner_text()
    page.locator("[data-testid=lang]").click()
    text = page.locator("[data-testid=query-panel]").inner_text()
    assert "What applies" in text and "within" in text and "Ecological protection red line" in text
    assert "适用要素" not in text and "位于其内" not in text and "行政区代码" not in text
    assert page.errors == []


def test_allowed_uses_list_the_classes_present(page: Any, server: dict[str, Any]) -> None:
    _click_site(page, server, "conflict.redline.inside.1")
    allowed = page.locator("[data-testid=uses-allowed]")
    visible = page.evaluate(
        "() => [...document.querySelector('[data-testid=uses-allowed]')"
        ".childNodes].filter((n) => n.nodeName !== 'DETAILS')"
        ".map((n) => n.textContent).join('')"
    )
    assert "01 耕地" in visible and "18 渔业用海" not in visible
    assert "含用海类" in allowed.locator("details summary").inner_text()
    assert allowed.locator("details").get_attribute("open") is None  # folded


def test_date_inputs_start_with_today(page: Any, browser: Any, server: dict[str, Any]) -> None:
    today = page.evaluate(
        "() => { const d = new Date(); return new Date(d.getTime() -"
        " d.getTimezoneOffset() * 60000).toISOString().slice(0, 10); }"
    )
    assert page.locator("[data-testid=as-of]").input_value() == today
    context = browser.new_context(locale="zh-CN")
    try:
        dash = context.new_page()
        dash.goto(server["url"] + "/ui/monitor")
        dash.wait_for_selector("body[data-ready='1']", timeout=60_000)
        assert dash.locator("[data-testid=as-of]").input_value() == today
    finally:
        context.close()


def test_balance_axis_version_mu_and_downloads(page: Any, server: dict[str, Any]) -> None:
    page.locator("button[data-tab=balance]").click()
    page.locator("[data-testid=balance-run]").click()
    page.wait_for_selector("[data-testid=balance-table]", timeout=30_000)
    assert "数据版本：GHYD" in page.locator("[data-testid=balance-version]").inner_text()
    assert "面积(亩)" in page.locator("[data-testid=balance-table]").inner_text()
    # the value axis' labels fit side by side on the axis (they ran together: 3,0006,000…)
    fit = page.evaluate("""() => {
      const chart = echarts.getInstanceByDom(document.getElementById('balance-chart'));
      const axis = chart.getModel().getComponent('xAxis').axis;
      const labels = axis.getViewLabels().map((l) => l.formattedLabel);
      const ctx = document.createElement('canvas').getContext('2d');
      ctx.font = '10px sans-serif';
      const used = labels.reduce((s, l) => s + ctx.measureText(l).width + 6, 0);
      const [a, b] = axis.getExtent();
      return { labels, used, room: Math.abs(b - a) };
    }""")
    assert len(fit["labels"]) >= 3 and fit["used"] < fit["room"], fit
    for fmt, magic in (("csv", "代码".encode("utf-8-sig")), ("xlsx", b"PK")):
        href = page.locator(f"[data-testid=balance-{fmt}]").get_attribute("href")
        body = page.request.get(server["url"] + href).body()
        assert body.startswith(magic), fmt
    assert page.errors == []


def test_review_report_links_open_html_and_pdf(page: Any, server: dict[str, Any]) -> None:
    page.locator("button[data-tab=review]").click()
    page.locator("[data-testid=review-run]").click()
    page.wait_for_selector("[data-testid=finding]", timeout=60_000)
    html = page.locator("[data-testid=download-html]")
    pdf = page.locator("[data-testid=download-pdf]")
    assert html.get_attribute("target") == "_blank" and html.get_attribute("download") is None
    assert pdf.get_attribute("target") == "_blank"
    response = page.request.get(server["url"] + html.get_attribute("href"))
    assert response.headers["content-disposition"].startswith("inline")
    assert page.locator("[data-testid=download-xlsx]").get_attribute("download") is not None


def _dashboard(browser: Any, server: dict[str, Any], query: str = "") -> Any:
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.goto(server["url"] + "/ui/monitor" + query)
    pg.wait_for_selector("body[data-ready='1']", timeout=60_000)
    return pg


def test_dashboard_axes_target_line_labels_legend_and_totals(
    browser: Any, server: dict[str, Any]
) -> None:
    pg = _dashboard(browser, server)
    try:
        card = pg.locator("[data-indicator=cultivated_land] .spark")
        info = pg.evaluate(
            """(el) => {
          const chart = echarts.getInstanceByDom(el);
          const y = chart.getModel().getComponent('yAxis').axis;
          const x = chart.getModel().getComponent('xAxis').axis;
          return { yShown: chart.getOption().yAxis[0].show !== false,
                   ticks: y.getViewLabels().map((l) => l.formattedLabel),
                   extent: y.scale.getExtent(),
                   target: chart.getOption().series[0].markLine.data[0].yAxis,
                   xLabels: x.getViewLabels().map((l) => l.formattedLabel) };
        }""",
            card.element_handle(),
        )
        assert info["yShown"] and len(info["ticks"]) >= 2  # a scale, not a bare line
        low, high = info["extent"]
        assert low <= info["target"] <= high  # the target line is drawn
        assert (
            info["xLabels"][-1] == pg.evaluate("() => new Date().toISOString().slice(0, 7)")
            or info["xLabels"][-1].isdigit()
        )  # today's point as 2026-12, as in the PDF
        assert info["xLabels"][0] == "2021"
        legend = pg.locator("[data-testid=case-legend-item]")
        assert legend.count() >= 2 and "违法违规" in legend.first.inner_text()
        assert pg.locator("[data-testid=cases-total] th").first.inner_text() == "合计"
        assert pg.locator("[data-testid=ledger-total] th").first.inner_text() == "合计"
        assert pg.errors == []
    finally:
        pg.context.close()


def test_dashboard_reads_cases_and_projects_as_of_its_date(
    browser: Any, server: dict[str, Any]
) -> None:
    pg = _dashboard(browser, server)
    try:
        assert pg.locator("[data-testid=case-row]").count() == 5
        pg.evaluate("() => { delete document.body.dataset.ready; }")
        pg.locator("[data-testid=as-of]").fill("2023-06-30")
        pg.wait_for_selector("body[data-ready='1']", timeout=60_000)
        assert pg.locator("[data-testid=case-row]").count() == 0  # imaged 2025-04-20
        assert "后时相晚于 2023-06-30" in pg.locator("[data-testid=notes]").inner_text()
        assert "进度 100%" not in pg.locator("[data-testid=warnings]").inner_text()
        assert set(pg.locator("[data-testid=project-progress]").all_inner_texts()) == {"—"}
        drawn = pg.evaluate(
            "() => window.guotuMonitorMap.getSource('cases').serialize().data.features.length"
        )
        assert drawn == 0
        assert pg.errors == []
    finally:
        pg.context.close()


def test_sheet_prints_on_one_a4_page_with_readable_columns(
    browser: Any, server: dict[str, Any]
) -> None:
    centre = shapely.from_wkt(server["items"]["conflict.redline.inside.1"]["geometry_wkt"]).centroid
    context = browser.new_context(viewport={"width": 820, "height": 1160}, locale="zh-CN")
    try:
        pg = context.new_page()
        pg.goto(f"{server['url']}/query/sheet?point={centre.x},{centre.y}")
        # single-line labels and relations (they wrapped one character per line)
        lines = pg.evaluate("""() => [...document.querySelectorAll('.head th, td.nowrap')]
          .map((el) => {
            const range = document.createRange();
            range.selectNodeContents(el);
            return [el.textContent, new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size];
          })""")
        assert len(lines) > 8 and all(n == 1 for _text, n in lines), lines
        pg.screenshot(path=str(SCREENSHOTS / "sheet.png"), full_page=True)
        pdf = pg.pdf(format="A4", print_background=True)
        pages = [int(n) for n in re.findall(rb"/Type /Pages\s*/Count (\d+)", pdf)]
        assert pages == [1], pages  # one A4 page
    finally:
        context.close()
