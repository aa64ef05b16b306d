"""Changing a password in headless Chromium (as ``test_ui_signin_browser.py``: Debian's
``/usr/bin/chromium`` driven by Playwright; skipped without Chromium, Playwright or the npm
assets, failed under ``CI=true``): a user the system administrator just created signs in, is
sent to ``/ui/password`` with the reason, changes the password and lands on the map; a user
on the map changes theirs through its 修改密码 link.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from guotu.demo.build import build_demo
from guotu.domain.access.records import Department
from guotu.services.identity import create_department, create_user
from guotu.services.workspace import open_workspace
from tests.web.test_ui_browser import CHROMIUM, FLAGS, SCREENSHOTS, _missing
from tests.web.test_ui_signin_browser import HASHING, _serving

pytestmark = pytest.mark.browser

PASSWORD = "Gh#2035plan"
#: Console lines a browser writes for any answer it did not like (a wrong password is 403 on
#: purpose); what the tests look for is a script error or a CSP violation.
_HTTP_STATUS = re.compile(r"Failed to load resource: the server responded with a status of \d+")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("password_browser")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=1000, seed=20261122)
    workspace = str(result.workspace)
    with open_workspace(workspace) as store:
        create_department(store, Department("guihua", "国土空间规划科"), actor="setup")
        # new: made as the administration page makes an account (an initial password);
        # old: a password its holder chose
        for username, temporary in (("xinren", True), ("laoshou", False)):
            create_user(
                store,
                username=username,
                display_name={"xinren": "辛任", "laoshou": "老寿"}[username],
                department="guihua",
                roles=["viewer"],
                password=PASSWORD,
                actor="setup",
                hashing=HASHING,
                temporary=temporary,
            )
    with _serving(workspace, "local") as url:
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


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in a fresh context (no cookies) that records script errors, CSP
    violations included."""
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


def _sign_in(page: Any, server: dict[str, Any], username: str, password: str) -> None:
    page.goto(server["url"] + "/ui/login")
    page.wait_for_selector("body[data-ready='1']")
    page.locator("[data-testid=username]").fill(username)
    page.locator("[data-testid=password]").fill(password)
    with page.expect_navigation():
        page.locator("[data-testid=sign-in]").click()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)


def _submit(page: Any, current: str, new: str, again: str | None = None) -> None:
    page.locator("[data-testid=current-password]").fill(current)
    page.locator("[data-testid=new-password]").fill(new)
    page.locator("[data-testid=new-password-again]").fill(new if again is None else again)
    page.locator("[data-testid=change-password]").click()


def _error(page: Any, contains: str) -> str:
    page.wait_for_function(
        "(text) => document.querySelector('[data-testid=password-error]').textContent"
        ".includes(text)",
        arg=contains,
    )
    return str(page.locator("[data-testid=password-error]").inner_text())


def test_a_new_user_changes_the_initial_password_then_lands_on_the_map(
    page: Any, server: dict[str, Any]
) -> None:
    _sign_in(page, server, "xinren", PASSWORD)
    assert page.url == server["url"] + "/ui/password?next=%2Fui%2F"
    assert page.title() == "修改密码 · 国土空间规划一张图"
    reason = page.locator("[data-testid=password-reason]")
    assert reason.is_visible() and reason.inner_text().startswith("首次登录请修改初始密码")
    assert page.locator("[data-testid=password-back]").is_hidden()  # nowhere else to go
    assert page.locator("[data-testid=user]").inner_text() == "辛任 · 国土空间规划科"
    page.screenshot(path=str(SCREENSHOTS / "ui-password-initial.png"))
    # the map's data answers nothing until the password is changed
    assert page.request.get(server["url"] + "/ui/config.json").status == 403

    _submit(page, "Wrong#2035plan", "Xin#2035mima")
    assert _error(page, "当前密码不正确").startswith("当前密码不正确")
    _submit(page, PASSWORD, "abcdefgh")
    assert "密码至少需要 3 类字符" in _error(page, "3 类字符")
    _submit(page, PASSWORD, "Xin#2035mima", "Xin#2035mimA")
    assert _error(page, "不一致") == "两次输入的新密码不一致。"

    with page.expect_navigation(url=re.compile(r".*/ui/$"), timeout=30_000):
        _submit(page, PASSWORD, "Xin#2035mima")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.locator("[data-testid=user]").inner_text() == "辛任 · 国土空间规划科"
    assert page.request.get(server["url"] + "/ui/config.json").status == 200
    assert page.errors == []


def test_a_user_whose_password_is_due_is_sent_from_the_map_to_change_it(
    browser: Any, server: dict[str, Any]
) -> None:
    with open_workspace(server["workspace"]) as store:
        create_user(
            store,
            username="xinren2",
            display_name="辛任二",
            department="guihua",
            roles=["viewer"],
            password=PASSWORD,
            actor="setup",
            hashing=HASHING,
            temporary=True,
        )
    context = browser.new_context(locale="zh-CN")
    try:
        body = {"username": "xinren2", "password": PASSWORD}
        assert context.request.post(server["url"] + "/auth/sign-in", data=body).ok
        page = context.new_page()
        page.goto(server["url"] + "/ui/")
        page.wait_for_url(re.compile(r".*/ui/password\?next=%2Fui%2F$"), timeout=30_000)
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator("[data-testid=password-reason]").is_visible()
    finally:
        context.close()


def test_the_map_links_to_the_page_and_back(page: Any, server: dict[str, Any]) -> None:
    _sign_in(page, server, "laoshou", PASSWORD)
    assert page.url == server["url"] + "/ui/"
    link = page.locator("[data-testid=password-link]")
    assert link.is_visible() and link.inner_text() == "修改密码"
    with page.expect_navigation():
        link.click()
    page.wait_for_selector("body[data-ready='1']")
    assert page.url.startswith(server["url"] + "/ui/password?next=")
    assert page.locator("[data-testid=password-reason]").is_hidden()  # nothing is due
    assert page.locator("[data-testid=password-back]").is_visible()
    page.locator("[data-testid=lang]").click()
    assert page.locator("h2").inner_text() == "Change password"
    page.locator("[data-testid=lang]").click()
    with page.expect_navigation(url=re.compile(r".*/ui/$"), timeout=30_000):
        _submit(page, PASSWORD, "Lao#2035shou")
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.locator("[data-testid=user]").inner_text() == "老寿 · 国土空间规划科"
    assert page.errors == []
