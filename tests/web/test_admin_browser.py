"""The administration page in headless Chromium (as ``test_ui_signin_browser.py``: Debian's
``/usr/bin/chromium`` driven by Playwright; skipped without Chromium or Playwright, failed
under ``CI=true``): the system administrator resets passwords and changes a department's
region, the security administrator edits layer access policies, and what they set is what
users then get.

The graded workspace of :mod:`tests.graded_workspace` (six squares, three in each of two
towns) is served by uvicorn with ``auth = local``; its departments and accounts are made
through the identity services.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from guotu.domain.access.records import AccountSource, Department
from guotu.services.identity import HashParameters, create_department, create_user
from guotu.services.workspace import open_workspace
from tests.graded_workspace import TOWN_A, TOWN_B, XZQDM, build_graded_workspace
from tests.web.test_ui_browser import CHROMIUM, FLAGS, SCREENSHOTS, _missing
from tests.web.test_ui_signin_browser import _serving

pytestmark = pytest.mark.browser

PASSWORD = "Gh#2035plan"
#: The same cheap argon2id parameters as the server of ``_serving``.
HASHING = HashParameters(time_cost=1, memory_kib=1024, parallelism=1)
#: department id → (name, regions)
DEPARTMENTS = {
    "gengdi": ("耕地保护科", ()),
    "guihua": ("国土空间规划科", ()),
    "queren": ("确权登记科", ()),
    "xiangzhen": ("一号镇人民政府", (TOWN_A,)),
    "zhen2": ("二号镇人民政府", ()),
    "xinxi": ("信息中心", ()),
}
#: user name → (display name, department, roles)
ACCOUNTS = {
    "sys": ("系统管理员甲", "xinxi", ["sys_admin"]),
    "sec": ("安全管理员乙", "xinxi", ["sec_admin"]),
    "wang": ("王规划", "guihua", ["viewer", "editor", "reviewer"]),
    "qian": ("钱确权", "queren", ["viewer"]),
    "zhao": ("赵镇", "xiangzhen", ["viewer"]),
    "liu": ("刘一", "gengdi", ["viewer"]),
    "ma": ("马二", "gengdi", ["viewer"]),
}
#: Console lines a browser writes for any answer it did not like (a refused change is 400 on
#: purpose); what the tests look for is a script error or a CSP violation.
_HTTP_STATUS = re.compile(r"Failed to load resource: the server responded with a status of \d+")


def _seed(workspace: Path) -> None:
    with open_workspace(workspace) as store:
        for dept_id, (name, regions) in DEPARTMENTS.items():
            create_department(store, Department(dept_id, name, regions=regions), actor="setup")
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
        create_user(
            store,
            username="mulu",
            display_name="目录用户",
            department="guihua",
            roles=["viewer"],
            password=None,
            source=AccountSource.LDAP,
            actor="setup",
        )


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"browser tests must run in CI: {reason}")
        pytest.skip(reason)
    workspace = build_graded_workspace(tmp_path_factory.mktemp("admin_browser") / "graded.gpkg")
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


@pytest.fixture()
def page(browser: Any) -> Iterator[Any]:
    """A fresh page in a fresh context that records script errors (CSP violations too)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, locale="zh-CN")
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


def _admin(page: Any, server: dict[str, Any], username: str) -> None:
    """Sign in through the sign-in page as ``username`` and open the administration page."""
    page.goto(server["url"] + "/ui/login?next=/ui/admin")
    page.wait_for_selector("body[data-ready='1']")
    page.locator("[data-testid=username]").fill(username)
    page.locator("[data-testid=password]").fill(PASSWORD)
    with page.expect_navigation():
        page.locator("[data-testid=sign-in]").click()
    page.wait_for_selector("body[data-ready='1']", timeout=30_000)
    assert page.url == server["url"] + "/ui/admin"


class User:
    """A user signed in through ``POST /auth/sign-in`` in a context of their own."""

    def __init__(self, browser: Any, server: dict[str, Any], username: str, password: str):
        self.url = server["url"]
        self.context = browser.new_context()
        body = {"username": username, "password": password}
        self.status = self.context.request.post(self.url + "/auth/sign-in", data=body).status

    def items(self, layer: str) -> list[dict[str, Any]] | None:
        """The features of ``layer`` the user gets (``None``: not found)."""
        r = self.context.request.get(f"{self.url}/collections/{layer}/items?limit=100")
        if r.status == 404:
            return None
        assert r.ok, r.text()
        return [f["properties"] for f in r.json()["features"]]

    def close(self) -> None:
        self.context.close()


def _signs_in(browser: Any, server: dict[str, Any], username: str, password: str) -> bool:
    user = User(browser, server, username, password)
    user.close()
    return user.status == 200


def _message(page: Any, kind: str) -> str:
    box = page.locator(f"[data-testid=admin-message].{kind}")
    box.wait_for(state="visible")
    return str(box.inner_text())


# -- the system administrator -----------------------------------------------------------------


def test_sys_admin_resets_a_password_to_a_temporary_one(
    page: Any, browser: Any, server: dict[str, Any]
) -> None:
    _admin(page, server, "sys")
    page.locator("[data-testid=reset-liu]").click()
    form = page.locator("[data-testid=reset-form]")
    assert (
        form.is_visible() and page.locator("[data-testid=reset-who]").inner_text() == "刘一（liu）"
    )
    assert page.locator("[data-testid=reset-generate]").is_checked()
    assert page.locator("[data-testid=reset-password]").is_disabled()
    with page.expect_request(lambda r: r.url.endswith("/password?lang=zh")) as sent:
        page.locator("[data-testid=reset-save]").click()
    csrf = next(c["value"] for c in page.context.cookies() if c["name"] == "guotu_csrf")
    assert sent.value.headers.get("x-csrf-token") == csrf
    assert _message(page, "ok") == "已重置账号 liu 的密码，临时密码见下方（只显示这一次）。"
    temporary = page.locator("[data-testid=temp-password]").inner_text()
    assert re.fullmatch(r"[A-Za-z2-9]{4}-[A-Za-z2-9]{4}-[A-Za-z2-9]{4}", temporary)
    assert form.is_hidden()
    page.screenshot(path=str(SCREENSHOTS / "ui-admin-password-reset.png"))
    assert _signs_in(browser, server, "liu", temporary)
    assert not _signs_in(browser, server, "liu", PASSWORD)
    page.locator("[data-testid=temp-password-done]").click()
    assert page.locator("[data-testid=temp-password-box]").is_hidden()
    assert page.locator("[data-testid=temp-password]").inner_text() == ""
    assert page.errors == []


def test_sys_admin_types_a_new_password_twice(
    page: Any, browser: Any, server: dict[str, Any]
) -> None:
    _admin(page, server, "sys")
    page.locator("[data-testid=reset-ma]").click()
    page.locator("[data-testid=reset-type]").check()
    page.locator("[data-testid=reset-password]").fill("Zhong#2035xin")
    page.locator("[data-testid=reset-password-again]").fill("Zhong#2035xiN")
    page.locator("[data-testid=reset-save]").click()
    assert "两次输入的密码不一致" in _message(page, "error")
    page.locator("[data-testid=reset-password]").fill("abc")
    page.locator("[data-testid=reset-password-again]").fill("abc")
    page.locator("[data-testid=reset-save]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=admin-message]').textContent"
        ".includes('密码至少 8 位')"
    )
    assert _signs_in(browser, server, "ma", PASSWORD)  # nothing changed yet
    page.locator("[data-testid=reset-password]").fill("Zhong#2035xin")
    page.locator("[data-testid=reset-password-again]").fill("Zhong#2035xin")
    page.locator("[data-testid=reset-save]").click()
    assert _message(page, "ok") == "已重置账号 ma 的密码。"
    assert page.locator("[data-testid=temp-password-box]").is_hidden()
    assert _signs_in(browser, server, "ma", "Zhong#2035xin")
    assert not _signs_in(browser, server, "ma", PASSWORD)
    assert page.errors == []


def test_no_reset_is_offered_for_a_directory_account_an_administrator_or_oneself(
    page: Any, server: dict[str, Any]
) -> None:
    _admin(page, server, "sys")
    row = page.locator("[data-testid=user-row][data-username=mulu]")
    assert "目录（LDAP）" in row.inner_text()
    assert page.locator("[data-testid=reset-mulu]").count() == 0
    assert page.locator("[data-testid=reset-sys]").count() == 0  # oneself
    assert page.locator("[data-testid=reset-sec]").count() == 0  # an administrator (三员分立)
    assert page.locator("[data-testid=reset-wang]").count() == 1


def test_sys_admin_sets_a_departments_region(page: Any, server: dict[str, Any]) -> None:
    _admin(page, server, "sys")
    page.locator("[data-testid=edit-dept-zhen2]").click()
    form = page.locator("[data-testid=edit-department-form]")
    assert form.is_visible() and page.locator("[data-testid=edit-dept-name]").input_value() == (
        "二号镇人民政府"
    )
    page.locator("[data-testid=edit-dept-regions]").fill(f"{TOWN_B}，")
    page.locator("[data-testid=edit-dept-save]").click()
    assert _message(page, "ok") == "已修改部门 二号镇人民政府。"
    cell = page.locator(
        "[data-testid=department-row][data-dept=zhen2] [data-testid=dept-regions-cell]"
    )
    assert cell.inner_text() == TOWN_B and form.is_hidden()
    page.screenshot(path=str(SCREENSHOTS / "ui-admin-department.png"))
    assert page.errors == []


# -- the security administrator ---------------------------------------------------------------


def _policy_tab(page: Any, server: dict[str, Any]) -> None:
    _admin(page, server, "sec")
    page.locator("button[data-tab=policies]").click()
    page.wait_for_selector("[data-testid=policy-row]")


def _cell(page: Any, layer: str, name: str) -> str:
    return str(
        page.locator(
            f"[data-testid=policy-row][data-layer={layer}] [data-testid={name}]"
        ).inner_text()
    )


def test_sec_admin_edits_a_layers_whole_policy(
    page: Any, browser: Any, server: dict[str, Any]
) -> None:
    _policy_tab(page, server)
    # DLTB's policy as the workspace has it: 内部, its owner's name seen by 确权登记科 only
    assert _cell(page, "DLTB", "policy-hidden-cell") == "QLRMC（确权登记科）"
    page.locator("[data-testid=policy-edit-DLTB]").click()
    assert page.locator("[data-testid=policy-hidden-field-0]").input_value() == "QLRMC"
    page.locator("[data-testid=policy-grade]").select_option("restricted")
    page.locator("[data-testid=policy-read-dept-guihua]").check()
    page.locator("[data-testid=policy-read-dept-xiangzhen]").check()
    page.locator("[data-testid=policy-hidden-0-role-reviewer]").check()
    page.locator("[data-testid=policy-region]").fill("XZQDM")
    page.locator("[data-testid=policy-save]").click()
    assert _message(page, "ok") == "已保存图层 DLTB 的访问策略（受限）。"
    assert _cell(page, "DLTB", "policy-grade-cell") == "受限"
    assert _cell(page, "DLTB", "policy-read-cell") == "国土空间规划科、一号镇人民政府"
    assert _cell(page, "DLTB", "policy-export-cell") == "无人"
    assert _cell(page, "DLTB", "policy-hidden-cell") == "QLRMC（审查人员、确权登记科）"
    assert _cell(page, "DLTB", "policy-region-cell") == "XZQDM"
    page.screenshot(path=str(SCREENSHOTS / "ui-admin-policy.png"))
    users = {u: User(browser, server, u, PASSWORD) for u in ("wang", "zhao", "qian")}
    try:
        planner = users["wang"].items("DLTB")  # named department, a reviewer: every row
        assert planner is not None and len(planner) == 6 and all("QLRMC" in f for f in planner)
        town = users["zhao"].items("DLTB")  # named department, its own town's rows only
        assert town is not None and sorted(f["XZQDM"] for f in town) == XZQDM[:3]
        assert all("QLRMC" not in f for f in town)
        assert users["qian"].items("DLTB") is None  # not named: 受限 hides it
    finally:
        for user in users.values():
            user.close()
    assert page.errors == []


def test_sec_admin_sets_a_policy_before_the_layer_is_imported(
    page: Any, server: dict[str, Any]
) -> None:
    _policy_tab(page, server)
    page.locator("[data-testid=policy-layer]").select_option(label="其他图层（尚未导入）…")
    page.locator("[data-testid=policy-new-layer]").fill("JSYDGZQ")
    page.locator("[data-testid=policy-grade]").select_option("restricted")
    page.locator("[data-testid=policy-read-dept-gengdi]").check()
    page.locator("[data-testid=policy-save]").click()
    text = _message(page, "ok")
    assert text.startswith("已保存图层 JSYDGZQ 的访问策略（受限）。")
    assert "工作空间中还没有图层 JSYDGZQ；该策略在图层导入后即生效。" in text
    row = page.locator("[data-testid=policy-row][data-layer=JSYDGZQ]")
    assert "尚未导入" in row.inner_text() and _cell(page, "JSYDGZQ", "policy-read-cell") == (
        "耕地保护科"
    )
    assert page.errors == []


def test_a_field_the_layer_lacks_is_refused_on_the_page(page: Any, server: dict[str, Any]) -> None:
    _policy_tab(page, server)
    before = page.locator("[data-testid=policy-row][data-layer=GHYD]").inner_text()
    page.locator("[data-testid=policy-edit-GHYD]").click()
    page.locator("[data-testid=policy-add-hidden]").click()
    page.locator("[data-testid=policy-hidden-field-0]").fill("OWNER")
    page.locator("[data-testid=policy-save]").click()
    text = _message(page, "error")
    assert "要隐藏的字段“OWNER”不是图层“GHYD”的字段" in text and "BSM、XZQDM" in text
    page.reload()
    page.wait_for_selector("body[data-ready='1']")
    page.locator("button[data-tab=policies]").click()
    row = page.locator("[data-testid=policy-row][data-layer=GHYD]")
    row.wait_for()
    assert row.inner_text() == before


def test_the_policy_page_reads_in_english_too(page: Any, server: dict[str, Any]) -> None:
    _policy_tab(page, server)
    page.locator("[data-testid=policy-edit-GHYD]").click()
    page.locator("[data-testid=policy-read-role-reviewer]").check()  # unsaved
    page.locator("[data-testid=lang]").click()
    assert page.locator("button[data-tab=policies]").inner_text() == "Layer policies"
    assert page.locator("[data-testid=policy-read-role-reviewer]").is_checked()  # kept
    assert _cell(page, "GHYD", "policy-region-cell") == "XZQDM"
    page.locator("[data-testid=lang]").click()
    assert page.errors == []
