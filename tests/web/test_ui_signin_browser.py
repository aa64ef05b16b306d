"""Signing in, graded layers, signing out, session timeout and the administration page, in
headless Chromium (as ``test_ui_browser.py``: Debian's ``/usr/bin/chromium`` driven by
Playwright; skipped without Chromium, Playwright or the npm assets, failed under ``CI=true``).

The demo county is served by uvicorn with ``auth = local``. Its departments, accounts and
layer policy are made through the identity services: 永久基本农田 (``YJJBNT``) is 受限 and
readable by the 耕地保护科 only.
"""

from __future__ import annotations

import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from guotu.demo.build import build_demo
from guotu.domain.access.grades import Grade
from guotu.domain.access.policy import AccessList, Action, LayerPolicy
from guotu.domain.access.records import Department
from guotu.services.identity import (
    HashParameters,
    create_department,
    create_user,
    set_layer_policy,
)
from guotu.services.workspace import open_workspace
from guotu.settings import Settings
from guotu.web.app import create_app
from tests.web.test_ui_browser import CHROMIUM, FLAGS, SCREENSHOTS, _free_port, _missing

pytestmark = pytest.mark.browser

PASSWORD = "Gh#2035plan"
#: Cheap argon2id parameters: the tests sign in many times.
HASHING = HashParameters(time_cost=1, memory_kib=1024, parallelism=1)
RESTRICTED = "YJJBNT"
#: user name → (display name, department, roles)
ACCOUNTS = {
    "li": ("李耕地", "gengdi", ["viewer"]),
    "wang": ("王规划", "guihua", ["viewer"]),
    "zhang": ("张审查", "guihua", ["viewer"]),
    "sys": ("系统管理员甲", None, ["sys_admin"]),
    "sec": ("安全管理员乙", None, ["sec_admin"]),
    "aud": ("审计管理员丙", None, ["audit_admin"]),
}
REFUSED = "用户名或密码不正确，或账号暂不可用。"
#: Console lines a browser writes for any answer it did not like (an anonymous /auth/me is
#: 401 on purpose); what the tests look for is a script error or a CSP violation.
_HTTP_STATUS = re.compile(r"Failed to load resource: the server responded with a status of \d+")


def _seed(workspace: str) -> None:
    with open_workspace(workspace) as store:
        create_department(store, Department("gengdi", "耕地保护科"), actor="setup")
        create_department(store, Department("guihua", "国土空间规划科"), actor="setup")
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
        read = AccessList(departments=frozenset({"gengdi"}))
        policy = LayerPolicy(RESTRICTED, Grade.RESTRICTED, {Action.READ: read})
        set_layer_policy(store, policy, actor="setup")


@contextmanager
def _serving(workspace: str, auth: str, sign_ins_per_minute: int = 1_000) -> Iterator[str]:
    """uvicorn serving ``workspace`` with ``auth`` on a free loopback port, in a thread; its
    URL."""
    import uvicorn

    app = create_app(
        Settings(
            workspace=workspace,
            auth=auth,
            argon2_time_cost=HASHING.time_cost,
            argon2_memory_kib=HASHING.memory_kib,
            argon2_parallelism=HASHING.parallelism,
            sign_ins_per_minute=sign_ins_per_minute,
        )
    )
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not srv.started:
        if time.monotonic() > deadline:
            pytest.fail("uvicorn did not start within 20 s")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    base = tmp_path_factory.mktemp("ui_signin")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=1000, seed=20261122)
    workspace = str(result.workspace)
    _seed(workspace)
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


def _sign_in(page: Any, server: dict[str, Any], username: str, *, next_page: str = "") -> None:
    """Sign in through the sign-in page as ``username`` and wait for the page it goes to."""
    query = f"?next={next_page}" if next_page else ""
    page.goto(server["url"] + "/ui/login" + query)
    page.wait_for_selector("body[data-ready='1']")
    page.locator("[data-testid=username]").fill(username)
    page.locator("[data-testid=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("[data-testid=sign-in]").click()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)


def _layers(page: Any, server: dict[str, Any]) -> list[str]:
    """The layers /ui/config.json lists with the page's cookies."""
    doc = page.request.get(server["url"] + "/ui/config.json").json()
    return [layer["name"] for layer in doc["layers"]]


# -- the sign-in page -------------------------------------------------------------------------


def test_sign_in_page_is_chinese_and_runs_under_the_csp(page: Any, server: dict[str, Any]) -> None:
    response = page.goto(server["url"] + "/ui/login")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.wait_for_selector("body[data-ready='1']")
    assert page.title() == "登录 · 国土空间规划一张图"
    assert page.locator("h2").inner_text() == "用户登录"
    page.locator("[data-testid=lang]").click()
    assert page.locator("h2").inner_text() == "Sign in"
    assert page.errors == []


@pytest.mark.parametrize(
    ("username", "password"),
    [
        ("wang", "wrong-password"),  # a known user, a wrong password
        ("nobody", PASSWORD),  # an unknown user
    ],
)
def test_a_refused_sign_in_says_one_sentence(
    page: Any, server: dict[str, Any], username: str, password: str
) -> None:
    page.goto(server["url"] + "/ui/login")
    page.wait_for_selector("body[data-ready='1']")
    page.locator("[data-testid=username]").fill(username)
    page.locator("[data-testid=password]").fill(password)
    page.locator("[data-testid=sign-in]").click()
    error = page.locator("[data-testid=sign-in-error]")
    error.wait_for(state="visible")
    assert error.inner_text() == REFUSED
    assert page.url.endswith("/ui/login")
    assert page.errors == []


def test_too_many_sign_ins_show_the_servers_message(page: Any, server: dict[str, Any]) -> None:
    with _serving(server["workspace"], "local", sign_ins_per_minute=1) as url:
        page.goto(url + "/ui/login")
        page.wait_for_selector("body[data-ready='1']")
        page.locator("[data-testid=username]").fill("wang")
        error = page.locator("[data-testid=sign-in-error]")
        for _ in range(2):
            page.locator("[data-testid=password]").fill("wrong-password")
            with page.expect_response(lambda r: "/auth/sign-in" in r.url):
                page.locator("[data-testid=sign-in]").click()
        page.wait_for_function(
            "() => document.querySelector('[data-testid=sign-in-error]').textContent"
            ".includes('过于频繁')"
        )
        assert re.fullmatch(r"登录尝试过于频繁，请 \d+ 秒后再试。", error.inner_text())
        assert page.errors == []


def test_next_goes_only_to_a_page_of_this_site(page: Any, server: dict[str, Any]) -> None:
    _sign_in(page, server, "wang", next_page="//evil.example/ui/")
    assert page.url == server["url"] + "/ui/"


def test_next_brings_back_the_page_asked_for(page: Any, server: dict[str, Any]) -> None:
    _sign_in(page, server, "wang", next_page="/ui/monitor")
    assert page.url == server["url"] + "/ui/monitor"


# -- graded layers ----------------------------------------------------------------------------


def test_anonymous_map_offers_sign_in(page: Any, server: dict[str, Any]) -> None:
    page.goto(server["url"] + "/ui/")
    link = page.locator("[data-testid=sign-in-link]")
    link.wait_for(state="visible")
    assert link.inner_text() == "登录" and "/ui/login?next=" in link.get_attribute("href")
    assert page.locator("[data-testid=user]").is_hidden()
    assert page.locator("[data-testid=sign-out]").is_hidden()
    assert RESTRICTED not in _layers(page, server)


def test_another_departments_user_does_not_see_the_restricted_layer(
    page: Any, server: dict[str, Any]
) -> None:
    _sign_in(page, server, "wang")
    assert page.locator("[data-testid=user]").inner_text() == "王规划 · 国土空间规划科"
    assert page.locator("[data-testid=sign-out]").is_visible()
    assert page.locator(f"[data-testid=toggle-{RESTRICTED}]").count() == 0
    assert "永久基本农田" not in page.locator("[data-testid=layer-tree]").inner_text()
    assert page.locator("[data-testid=toggle-GHYD]").count() == 1
    assert page.request.get(f"{server['url']}/tiles/{RESTRICTED}.json").status == 404
    page.screenshot(path=str(SCREENSHOTS / "ui-signed-in-other-department.png"))
    assert page.errors == []


def test_the_permitted_departments_user_sees_it(page: Any, server: dict[str, Any]) -> None:
    _sign_in(page, server, "li")
    assert page.locator("[data-testid=user]").inner_text() == "李耕地 · 耕地保护科"
    assert page.locator(f"[data-testid=toggle-{RESTRICTED}]").count() == 1
    assert "永久基本农田" in page.locator("[data-testid=layer-tree]").inner_text()
    page.screenshot(path=str(SCREENSHOTS / "ui-signed-in.png"))
    assert page.errors == []


def test_sign_out_goes_to_sign_in_and_forgets_the_users_layers(
    page: Any, server: dict[str, Any]
) -> None:
    _sign_in(page, server, "li")
    assert RESTRICTED in _layers(page, server)
    with page.expect_navigation():
        page.locator("[data-testid=sign-out]").click()
    page.wait_for_selector("body[data-ready='1']")
    assert page.url.startswith(server["url"] + "/ui/login")
    assert page.locator("[data-testid=sign-in-notice]").inner_text() == "您已退出登录。"
    assert RESTRICTED not in _layers(page, server)
    assert page.request.get(server["url"] + "/auth/me").status == 401
    assert page.errors == []


def test_a_timed_out_session_is_said_on_the_next_request(page: Any, server: dict[str, Any]) -> None:
    _sign_in(page, server, "li")
    with open_workspace(server["workspace"]) as store:  # the server ends it (idle timeout)
        assert store.end_sessions_of("li") >= 1
    page.wait_for_timeout(1_100)  # the page checks its session at most once a second
    page.locator("button[data-tab=balance]").click()
    page.locator("[data-testid=balance-run]").click()
    banner = page.locator("[data-testid=session-expired]")
    banner.wait_for(state="visible", timeout=10_000)
    assert "登录已超时，请重新登录" in banner.inner_text()
    href = page.locator("[data-testid=sign-in-again]").get_attribute("href")
    assert href.startswith("/ui/login?next=%2Fui%2F")
    assert page.locator("[data-testid=user]").is_hidden()
    page.screenshot(path=str(SCREENSHOTS / "ui-session-timeout.png"))
    assert page.errors == []


def test_a_review_sends_the_csrf_token(page: Any, server: dict[str, Any]) -> None:
    """A POST of the page carries X-CSRF-Token (the viewer may not review: 403, not a CSRF
    refusal)."""
    _sign_in(page, server, "wang")
    page.locator("button[data-tab=review]").click()
    with page.expect_request(lambda r: "/review/" in r.url and r.method == "POST") as sent:
        page.locator("[data-testid=review-run]").click()
    cookies = page.context.cookies(server["url"])
    csrf = next(c["value"] for c in cookies if c["name"] == "guotu_csrf")
    assert sent.value.headers.get("x-csrf-token") == csrf
    error = page.locator("[data-testid=review-error]")
    error.wait_for(state="visible")
    assert "需要“审查”权限" in error.inner_text()


# -- the administration page ------------------------------------------------------------------


def test_sec_admin_grants_a_role_and_sees_it(page: Any, server: dict[str, Any]) -> None:
    _sign_in(page, server, "sec", next_page="/ui/admin")
    assert page.url == server["url"] + "/ui/admin"
    assert page.locator("button[data-tab=roles]").is_visible()
    assert page.locator("button[data-tab=accounts]").is_hidden()  # 三员分立
    page.locator("[data-testid=grant-user]").select_option("zhang")
    page.locator("[data-testid=grant-role-reviewer]").check()
    page.locator("[data-testid=grant-save]").click()
    message = page.locator("[data-testid=admin-message].ok")
    message.wait_for(state="visible")
    assert message.inner_text() == "已更新 zhang 的角色：查看人员、审查人员。"
    row = page.locator("[data-testid=role-row][data-username=zhang] [data-testid=user-roles]")
    assert row.inner_text() == "查看人员、审查人员"
    page.screenshot(path=str(SCREENSHOTS / "ui-admin-roles.png"))
    assert page.errors == []


def test_a_duty_conflict_grant_is_refused_in_chinese(page: Any, server: dict[str, Any]) -> None:
    _sign_in(page, server, "sec", next_page="/ui/admin")
    page.locator("[data-testid=grant-user]").select_option("sys")
    page.locator("[data-testid=grant-role-audit_admin]").check()
    page.locator("[data-testid=grant-save]").click()
    message = page.locator("[data-testid=admin-message].error")
    message.wait_for(state="visible")
    assert "系统管理员与审计管理员不能由同一人担任（三员分立）" in message.inner_text()
    row = page.locator("[data-testid=role-row][data-username=sys] [data-testid=user-roles]")
    assert row.inner_text() == "系统管理员"
    page.screenshot(path=str(SCREENSHOTS / "ui-admin-conflict.png"))


def test_sec_admin_sets_a_layers_grade(page: Any, server: dict[str, Any]) -> None:
    _sign_in(page, server, "sec", next_page="/ui/admin")
    page.locator("button[data-tab=policies]").click()
    page.locator("[data-testid=policy-layer]").select_option("ZXGH")
    page.locator("[data-testid=policy-grade]").select_option("public")
    page.locator("[data-testid=policy-save]").click()
    page.locator("[data-testid=admin-message].ok").wait_for(state="visible")
    cell = page.locator("[data-testid=policy-row][data-layer=ZXGH] [data-testid=policy-grade-cell]")
    assert cell.inner_text() == "公开"
    assert page.errors == []


def test_sys_admin_creates_and_disables_an_account(page: Any, server: dict[str, Any]) -> None:
    _sign_in(page, server, "sys", next_page="/ui/admin")
    page.locator("[data-testid=new-username]").fill("zhao")
    page.locator("[data-testid=new-display-name]").fill("赵工")
    page.locator("[data-testid=new-department]").select_option("guihua")
    page.locator("[data-testid=new-password]").fill(PASSWORD)
    page.locator("[data-testid=create-user]").click()
    page.locator("[data-testid=admin-message].ok").wait_for(state="visible")
    state = page.locator("[data-testid=user-row][data-username=zhao] [data-testid=user-state]")
    assert state.inner_text() == "正常"
    page.locator("[data-testid=disable-zhao]").click()
    page.wait_for_function(
        '() => document.querySelector("[data-username=zhao] [data-testid=user-state]")'
        ".textContent === '已停用'"
    )
    assert page.locator("[data-testid=disable-sys]").count() == 0  # not oneself
    page.screenshot(path=str(SCREENSHOTS / "ui-admin-accounts.png"))
    assert page.errors == []


def test_audit_admin_searches_and_exports_the_log(page: Any, server: dict[str, Any]) -> None:
    _sign_in(page, server, "aud", next_page="/ui/admin")
    assert page.locator("button[data-tab=audit]").is_visible()
    page.locator("[data-testid=audit-actor]").fill("setup")
    page.locator("[data-testid=audit-action]").select_option("set_layer_policy")
    page.locator("[data-testid=audit-run]").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=audit-row]')].length > 0"
        " && [...document.querySelectorAll('[data-testid=audit-row]')]"
        ".every((r) => r.children[1].textContent === 'setup')"
    )
    assert "设置图层策略" in page.locator("[data-testid=audit-table]").inner_text()
    href = page.locator("[data-testid=audit-csv]").get_attribute("href")
    assert "actor=setup" in href and "action=set_layer_policy" in href
    response = page.request.get(server["url"] + href)
    assert response.ok and response.headers["content-type"].startswith("text/csv")
    assert f"layer:{RESTRICTED}" in response.body().decode("utf-8-sig")
    page.screenshot(path=str(SCREENSHOTS / "ui-admin-audit.png"))
    assert page.errors == []


def test_a_plain_viewer_gets_403_on_the_admin_data(page: Any, server: dict[str, Any]) -> None:
    _sign_in(page, server, "wang", next_page="/ui/admin")
    denied = page.locator("[data-testid=admin-denied]")
    assert denied.is_visible() and "没有管理权限" in denied.inner_text()
    for path in ("/admin/accounts.json", "/admin/roles.json", "/admin/policies.json"):
        assert page.request.get(server["url"] + path).status == 403
    assert page.request.get(server["url"] + "/admin/audit.json").status == 403
    assert page.errors == []


def test_admin_page_sends_anonymous_visitors_to_sign_in(page: Any, server: dict[str, Any]) -> None:
    page.goto(server["url"] + "/ui/admin")
    page.wait_for_url(re.compile(r".*/ui/login\?next=%2Fui%2Fadmin$"))


def test_without_sign_in_nothing_about_it_is_shown(page: Any, server: dict[str, Any]) -> None:
    """``auth = none`` (one local user): no sign-in link, user, sign-out or timeout notice."""
    with _serving(server["workspace"], "none") as url:
        page.goto(url + "/ui/")
        page.wait_for_selector("body[data-ready='1']", timeout=30_000)
        me = page.request.get(url + "/auth/me").json()
        assert me["via"] == "local"
        for testid in ("sign-in-link", "user", "sign-out", "admin-link", "session-expired"):
            assert page.locator(f"[data-testid={testid}]").is_hidden(), testid
        assert page.locator("[data-testid=toggle-GHYD]").count() == 1
        assert page.errors == []
