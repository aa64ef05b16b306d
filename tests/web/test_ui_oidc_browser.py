"""The unified sign-in (统一身份认证) in headless Chromium: the sign-in page offers it, the
test OpenID Provider of ``tests/oidc_provider.py`` signs a person in, and the one map greets
them with their department; a refusal comes back to the sign-in page in Chinese. guotu and
the provider are both served by uvicorn on loopback ports (as ``test_ui_signin_browser.py``:
Debian's ``/usr/bin/chromium`` driven by Playwright; skipped without it, failed under
``CI=true``).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

from guotu.demo.build import build_demo
from guotu.domain.access.records import Department
from guotu.services.identity import create_department
from guotu.services.workspace import open_workspace
from guotu.settings import Settings
from guotu.web.app import create_app
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, free_port, serving
from tests.web.test_ui_browser import CHROMIUM, FLAGS, SCREENSHOTS, _missing
from tests.web.test_ui_signin_browser import _HTTP_STATUS

pytestmark = pytest.mark.browser

SECRET_ENV = "GUOTU_TEST_OIDC_SECRET"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    import threading
    import time

    import uvicorn

    base = tmp_path_factory.mktemp("ui_oidc")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=1000, seed=20261122)
    workspace = str(result.workspace)
    with open_workspace(workspace) as store:
        if not any(d.id == "guihua" for d in store.departments()):
            create_department(store, Department("guihua", "国土空间规划科"), actor="setup")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with serving() as idp:
        idp.client.redirect_uris.append(f"{url}/auth/oidc/callback")
        os.environ[SECRET_ENV] = CLIENT_SECRET
        app = create_app(
            Settings(
                workspace=workspace,
                auth="oidc",
                oidc_issuer=idp.url,
                oidc_client_id=CLIENT_ID,
                oidc_client_secret_env=SECRET_ENV,
                oidc_group_roles="guotu-editors=editor;guotu-viewers=viewer;"
                "guotu-admins=sys_admin;guotu-auditors=audit_admin",
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
            yield {"url": url, "workspace": workspace, "idp": idp}
        finally:
            srv.should_exit = True
            thread.join(timeout=10)
            os.environ.pop(SECRET_ENV, None)


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
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1400, "height": 860}, locale="zh-CN")
    pg = context.new_page()
    pg.errors = []  # type: ignore[attr-defined]
    pg.on(
        "console",
        lambda m: (
            m.type == "error" and not _HTTP_STATUS.search(m.text) and pg.errors.append(m.text)
        ),
    )
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    SCREENSHOTS.mkdir(exist_ok=True)
    try:
        yield pg
    finally:
        context.close()


def _through_the_provider(page: Any, server: dict[str, Any], user: str, query: str = "") -> None:
    page.goto(server["url"] + "/ui/login" + query)
    page.wait_for_selector("body[data-ready='1']")
    button = page.locator("[data-testid=oidc-sign-in]")
    assert button.is_visible() and button.inner_text() == "统一身份认证登录"
    with page.expect_navigation():
        button.click()
    assert page.url.startswith(server["idp"].url + "/authorize?")
    with page.expect_navigation(url=lambda u: not u.startswith(server["idp"].url)):
        page.locator(f"[data-testid=idp-user-{user}]").click()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)


def test_the_unified_sign_in_goes_through_the_provider_to_the_map(
    page: Any, server: dict[str, Any]
) -> None:
    _through_the_provider(page, server, "zhangwei", "?next=/ui/")
    assert page.url == server["url"] + "/ui/"
    user = page.locator("[data-testid=user]")
    user.wait_for(state="visible")
    assert user.inner_text() == "张伟 · 国土空间规划科"
    me = page.request.get(server["url"] + "/auth/me").json()["user"]
    assert (me["source"], [r["id"] for r in me["roles"]]) == ("oidc", ["editor", "viewer"])
    page.screenshot(path=str(SCREENSHOTS / "ui-oidc-signed-in.png"))
    assert page.errors == []


def test_a_refused_unified_sign_in_is_said_on_the_sign_in_page(
    page: Any, server: dict[str, Any]
) -> None:
    _through_the_provider(page, server, "both")  # groups giving 三员 roles together
    assert page.url == server["url"] + "/ui/login?error=oidc_failed"
    error = page.locator("[data-testid=sign-in-error]")
    assert (
        error.inner_text() == "统一身份认证登录未成功，或账号暂不可用。请重新登录或联系系统管理员。"
    )
    assert page.request.get(server["url"] + "/auth/me").status == 401
    page.screenshot(path=str(SCREENSHOTS / "ui-oidc-refused.png"))
    assert page.errors == []
