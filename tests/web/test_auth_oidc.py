"""Signing in through the unified identity platform (统一身份认证, ``auth = oidc``), over real
HTTP against the test OpenID Provider of ``tests/oidc_provider.py`` (Authlib's server
components, served by uvicorn in a thread); guotu runs in-process under the test client,
which plays the browser together with an HTTP client for the provider's pages.

The full flow (start → provider → callback → session cookie → ``/auth/me``), the account it
makes and the audit log; what is refused (a wrong or reused state, a replayed code, a code of
another flow, an ID token with another nonce, audience or issuer, expired or signed by
another key, a disabled account, a local account's name, groups giving roles one person may
not hold together) and what the person is told; the provider being down; the settings.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2 as httpx
import pytest
from fastapi.testclient import TestClient

from guotu.domain.access.records import AccountSource, Department
from guotu.errors import ConfigError
from guotu.services import identity_oidc
from guotu.services.identity import (
    HashParameters,
    create_department,
    create_user,
    set_active,
)
from guotu.settings import Settings, load_settings
from guotu.store.geopackage import GeoPackageStore
from guotu.web.app import create_app
from guotu.web.auth_oidc import FLOW_COOKIE

from ..oidc_provider import CLIENT_ID, CLIENT_SECRET, TestProvider, free_port, serving

CALLBACK = "http://testserver/auth/oidc/callback"
SECRET_ENV = "GUOTU_TEST_OIDC_SECRET"
MAPPING = (
    "guotu-viewers=viewer;guotu-editors=editor;guotu-reviewers=reviewer;"
    "guotu-admins=sys_admin;guotu-auditors=audit_admin"
)
HASHING = HashParameters(time_cost=1, memory_kib=1024, parallelism=1)
REFUSED = "/ui/login?error=oidc_failed"


@pytest.fixture(scope="module")
def idp() -> Iterator[TestProvider]:
    with serving() as provider:
        provider.client.redirect_uris.append(CALLBACK)
        yield provider


@pytest.fixture(autouse=True)
def _well_behaved(idp: TestProvider, monkeypatch: pytest.MonkeyPatch) -> None:
    idp.faults.clear()
    idp.token_requests.clear()
    monkeypatch.setenv(SECRET_ENV, CLIENT_SECRET)


@pytest.fixture
def workspace(tmp_path: Path) -> str:
    path = tmp_path / "ws.gpkg"
    with GeoPackageStore.open(path, create=True) as store:
        create_department(store, Department("guihua", "国土空间规划科"), actor="sys")
        create_department(store, Department("gengdi", "耕地保护科"), actor="sys")
    return str(path)


def settings_for(workspace: str, issuer: str, **kw: Any) -> Settings:
    values: dict[str, Any] = {
        "workspace": workspace,
        "auth": "oidc",
        "oidc_issuer": issuer,
        "oidc_client_id": CLIENT_ID,
        "oidc_client_secret_env": SECRET_ENV,
        "oidc_group_roles": MAPPING,
        "argon2_time_cost": HASHING.time_cost,
        "argon2_memory_kib": HASHING.memory_kib,
        "argon2_parallelism": HASHING.parallelism,
    }
    return Settings(**(values | kw))


@pytest.fixture
def client(workspace: str, idp: TestProvider) -> Iterator[TestClient]:
    with TestClient(create_app(settings_for(workspace, idp.url))) as c:
        yield c


def start(client: TestClient, next_page: str | None = None) -> str:
    """``GET /auth/oidc/start``: the provider's authorization URL (the flow cookie is kept)."""
    query = {"next": next_page} if next_page is not None else {}
    answer = client.get("/auth/oidc/start", params=query, follow_redirects=False)
    assert answer.status_code == 303, answer.text
    return answer.headers["location"]


def at_provider(url: str, **choice: str) -> str:
    """The browser at the provider's authorization URL: the callback URL it is sent back to."""
    answer = httpx.get(f"{url}&{urlencode(choice)}", follow_redirects=False)
    assert answer.status_code == 302, answer.text
    location: str = answer.headers["location"]
    assert location.startswith(CALLBACK)
    return location


def back(client: TestClient, callback_url: str) -> Any:
    """The browser following the provider's redirect back to guotu."""
    parts = urlsplit(callback_url)
    return client.get(f"{parts.path}?{parts.query}", follow_redirects=False)


def sign_in(client: TestClient, user: str, next_page: str | None = None) -> Any:
    return back(client, at_provider(start(client, next_page), user=user))


def audit(workspace: str, prefix: str = "user") -> list[tuple[str, str, str, str]]:
    with GeoPackageStore.open(workspace) as store:
        return [
            (e.actor, e.action, e.object, e.reason) for e in store.audit_log(object_prefix=prefix)
        ]


def account(workspace: str, username: str) -> Any:
    with GeoPackageStore.open(workspace) as store:
        return store.user(username)


# -- the flow ----------------------------------------------------------------------------------
def test_the_full_flow_signs_in_with_the_department_and_roles_of_the_groups(
    client: TestClient,
) -> None:
    answer = sign_in(client, "zhangwei", next_page="/ui/monitor?year=2035")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/ui/monitor?year=2035"
    me = client.get("/auth/me").json()
    assert me["via"] == "session"
    user = me["user"]
    assert (user["username"], user["display_name"], user["source"]) == ("zhangwei", "张伟", "oidc")
    assert user["department"] == {"id": "guihua", "name": "国土空间规划科"}  # matched by name
    assert [r["id"] for r in user["roles"]] == ["editor", "viewer"]
    assert me["csrf_token"] == client.cookies.get("guotu_csrf")


def test_the_session_cookies_are_those_of_a_password_sign_in(client: TestClient) -> None:
    answer = sign_in(client, "zhangwei")
    cookies = {c.split("=", 1)[0]: c for c in answer.headers.get_list("set-cookie")}
    assert "HttpOnly" in cookies["guotu_session"] and "SameSite=strict" in cookies["guotu_session"]
    assert "Path=/;" in cookies["guotu_session"]
    assert "HttpOnly" not in cookies["guotu_csrf"]
    assert 'guotu_oidc=""' in cookies[FLOW_COOKIE] and "Max-Age=0" in cookies[FLOW_COOKIE]
    assert answer.headers["cache-control"] == "no-store"


def test_the_flow_cookie_is_short_lived_httponly_and_comes_back_from_the_provider(
    client: TestClient,
) -> None:
    answer = client.get("/auth/oidc/start", follow_redirects=False)
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{FLOW_COOKIE}=")
    for part in ("HttpOnly", "Max-Age=600", "Path=/auth/oidc", "SameSite=lax"):
        assert part in cookie
    # a JWE (five parts): what it holds cannot be read without the server's key
    assert cookie.split(";")[0].split("=", 1)[1].count(".") == 4


def test_the_authorization_request_uses_pkce_s256_state_and_nonce(client: TestClient) -> None:
    query = parse_qs(urlsplit(start(client)).query)
    assert {k: v[0] for k, v in query.items() if k in ("response_type", "client_id", "scope")} == {
        "response_type": "code",
        "client_id": CLIENT_ID,
        "scope": "openid profile email",
    }
    assert query["redirect_uri"] == [CALLBACK]
    assert query["code_challenge_method"] == ["S256"]
    assert len(query["state"][0]) >= 32 and len(query["nonce"][0]) >= 32
    assert len(query["code_challenge"][0]) == 43  # base64url of a SHA-256


def test_the_code_verifier_answers_its_own_challenge(client: TestClient, idp: TestProvider) -> None:
    url = start(client)
    challenge = parse_qs(urlsplit(url).query)["code_challenge"][0]
    back(client, at_provider(url, user="lina"))
    (sent,) = idp.token_requests
    digest = hashlib.sha256(sent["code_verifier"].encode()).digest()
    assert base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == challenge
    assert sent["redirect_uri"] == CALLBACK and "client_secret" not in sent  # HTTP Basic


def test_the_first_sign_in_creates_an_oidc_account_and_both_are_audited(
    client: TestClient, workspace: str
) -> None:
    sign_in(client, "lina")
    made = account(workspace, "lina")
    assert made.source is AccountSource.OIDC and made.password_hash is None
    assert (made.display_name, made.department, made.roles) == (
        "李娜",
        "gengdi",  # the claim is the department's id
        frozenset({"reviewer"}),
    )
    assert audit(workspace, "user:lina") == [
        ("lina", "create_user", "user:lina", "unified identity"),
        ("lina", "sign_in", "user:lina", ""),
    ]
    with GeoPackageStore.open(workspace) as store:
        entry = store.audit_log(object_prefix="user:lina")[-1]
    assert entry.address == "testclient" and entry.detail == {"source": "oidc"}


def test_a_department_the_workspace_lacks_leaves_the_account_without_one(
    client: TestClient, workspace: str
) -> None:
    sign_in(client, "wangfang")
    made = account(workspace, "wangfang")
    assert made.department is None and made.roles == frozenset()


def test_an_account_made_ahead_is_brought_up_to_date(client: TestClient, workspace: str) -> None:
    with GeoPackageStore.open(workspace) as store:
        create_user(
            store,
            username="zhangwei",
            display_name="张工",
            department=None,
            roles=["approver"],
            password=None,
            source=AccountSource.OIDC,
            actor="sys",
        )
    assert sign_in(client, "zhangwei").status_code == 303
    now = account(workspace, "zhangwei")
    assert (now.display_name, now.department, now.roles) == (
        "张伟",
        "guihua",
        frozenset({"editor", "viewer"}),
    )
    assert [a for _, a, _, _ in audit(workspace, "user:zhangwei")] == [
        "create_user",
        "update_from_directory",
        "sign_in",
    ]


def test_claims_the_id_token_lacks_are_read_from_userinfo(
    client: TestClient, idp: TestProvider, workspace: str
) -> None:
    idp.faults.add("claims_in_userinfo")
    assert sign_in(client, "lina").headers["location"] == "/ui/"
    assert account(workspace, "lina").roles == frozenset({"reviewer"})


@pytest.mark.parametrize(
    ("wanted", "went"),
    [
        ("/ui/monitor", "/ui/monitor"),
        ("/ui/?layer=GHYD#12/117/36", "/ui/?layer=GHYD#12/117/36"),
        # another site, however it is spelled: the one map instead
        ("//evil.example/x", "/ui/"),
        ("https://evil.example/", "/ui/"),
        ("/\\evil.example", "/ui/"),
        ("javascript:alert(1)", "/ui/"),
        # the sign-in page and the sign-in routes themselves
        ("/ui/login?next=/ui/", "/ui/"),
        ("/auth/oidc/start", "/ui/"),
    ],
)
def test_the_page_after_sign_in_is_a_page_of_this_site(
    client: TestClient, wanted: str, went: str
) -> None:
    assert sign_in(client, "lina", next_page=wanted).headers["location"] == went


# -- refused -----------------------------------------------------------------------------------
def test_a_wrong_state_is_refused(client: TestClient, workspace: str) -> None:
    url = at_provider(start(client), user="lina")
    answer = back(client, url.replace("state=", "state=x"))
    assert answer.headers["location"] == "/ui/login?error=oidc_expired"
    assert client.get("/auth/me").status_code == 401
    assert account(workspace, "lina") is None
    assert audit(workspace)[-1] == ("-", "sign_in_failed", "user:-", "the state is not the flow's")


def test_an_answer_without_the_flow_cookie_is_refused(client: TestClient, workspace: str) -> None:
    # another person's code and state, planted in this browser (login CSRF)
    url = at_provider(start(client), user="lina")
    client.cookies.clear()
    assert back(client, url).headers["location"] == "/ui/login?error=oidc_expired"
    assert audit(workspace)[-1][3] == "no sign-in flow, or it expired"


def test_an_expired_flow_is_refused(
    client: TestClient, workspace: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(identity_oidc, "FLOW_MINUTES", -1)  # started a minute past its end
    url = at_provider(start(client), user="lina")
    assert back(client, url).headers["location"] == "/ui/login?error=oidc_expired"
    assert audit(workspace)[-1][3] == "no sign-in flow, or it expired"


def test_a_replayed_answer_is_refused(client: TestClient, workspace: str) -> None:
    url = at_provider(start(client), user="lina")
    flow = client.cookies.get(FLOW_COOKIE)
    assert back(client, url).status_code == 303
    client.cookies.clear()
    client.cookies.set(FLOW_COOKIE, flow, path="/auth/oidc")
    assert back(client, url).headers["location"] == "/ui/login?error=oidc_expired"
    assert audit(workspace)[-1][3] == "the sign-in flow was used before"


def test_a_replayed_code_is_refused_by_the_provider(
    client: TestClient, idp: TestProvider, workspace: str
) -> None:
    # the same answer at another server process, which has not seen the state: the
    # provider refuses the code the second time
    url = at_provider(start(client), user="lina")
    flow = client.cookies.get(FLOW_COOKIE)
    assert back(client, url).status_code == 303
    with TestClient(create_app(settings_for(workspace, idp.url))) as other:
        other.cookies.set(FLOW_COOKIE, flow, path="/auth/oidc")
        assert back(other, url).headers["location"] == REFUSED
        assert other.get("/auth/me").status_code == 401
    reason = audit(workspace)[-1][3]
    assert reason == "the provider refused the code (invalid_grant, HTTP 400)"


def test_a_code_of_another_flow_fails_its_pkce_check(
    client: TestClient, idp: TestProvider, workspace: str
) -> None:
    mine = start(client)
    flow = client.cookies.get(FLOW_COOKIE)
    theirs = at_provider(start(client), user="lina")  # another flow's code …
    state = parse_qs(urlsplit(mine).query)["state"][0]
    code = parse_qs(urlsplit(theirs).query)["code"][0]
    client.cookies.clear()
    client.cookies.set(FLOW_COOKIE, flow, path="/auth/oidc")  # … with my flow and state
    answer = client.get(
        "/auth/oidc/callback", params={"code": code, "state": state}, follow_redirects=False
    )
    assert answer.headers["location"] == REFUSED
    assert audit(workspace)[-1][3] == "the provider refused the code (invalid_grant, HTTP 400)"
    assert account(workspace, "lina") is None


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        ("nonce", "invalid_claim: Invalid claim: 'nonce'"),
        ("audience", "invalid_claim: Invalid claim: 'aud'"),
        ("issuer", "invalid_claim: Invalid claim: 'iss'"),
        ("expired", "expired_token: The token is expired"),
        ("signature", "bad_signature"),
    ],
)
def test_an_id_token_failing_a_check_is_refused(
    client: TestClient, idp: TestProvider, workspace: str, fault: str, why: str
) -> None:
    idp.faults.add(fault)
    answer = sign_in(client, "zhangwei")
    assert answer.headers["location"] == REFUSED
    assert client.get("/auth/me").status_code == 401
    assert account(workspace, "zhangwei") is None
    (entry,) = audit(workspace)[-1:]
    assert entry[:3] == ("-", "sign_in_failed", "user:-")
    assert entry[3].startswith(f"the ID token fails a check ({why}")


def test_the_provider_not_signing_the_person_in_is_said_so(
    client: TestClient, workspace: str
) -> None:
    url = at_provider(start(client), deny="1")
    assert "error=access_denied" in url
    assert back(client, url).headers["location"] == "/ui/login?error=oidc_denied"
    assert audit(workspace)[-1][3] == "the provider answered access_denied"


@pytest.mark.parametrize("how", ["disabled", "locked"])
def test_a_disabled_or_locked_account_is_refused(
    client: TestClient, workspace: str, how: str
) -> None:
    assert sign_in(client, "zhangwei").status_code == 303
    client.cookies.clear()
    with GeoPackageStore.open(workspace) as store:
        if how == "disabled":
            set_active(store, "zhangwei", False, actor="sys")
        else:
            known = store.user("zhangwei")
            until = datetime.now(UTC).replace(tzinfo=None) + timedelta(minutes=15)
            store.put_user(replace(known, locked_until=until), actor="sys", action="lock")
    assert sign_in(client, "zhangwei").headers["location"] == REFUSED
    assert client.get("/auth/me").status_code == 401
    reason = {"disabled": "inactive", "locked": "locked"}[how]
    assert audit(workspace)[-1] == ("zhangwei", "sign_in_failed", "user:zhangwei", reason)


def test_groups_giving_roles_one_person_may_not_hold_are_refused(
    client: TestClient, workspace: str
) -> None:
    assert sign_in(client, "both").headers["location"] == REFUSED
    assert account(workspace, "both") is None  # nothing is created for a refused sign-in
    assert audit(workspace)[-1][3] == "the provider's groups give roles one person may not hold"


def test_a_local_account_of_the_same_name_is_not_taken_over(
    client: TestClient, workspace: str
) -> None:
    with GeoPackageStore.open(workspace) as store:
        create_user(
            store,
            username="lina",
            display_name="李娜（本地）",
            department=None,
            roles=["sys_admin"],
            password="Gh#2035plan",
            actor="sys",
            hashing=HASHING,
        )
    assert sign_in(client, "lina").headers["location"] == REFUSED
    assert account(workspace, "lina").source is AccountSource.LOCAL
    assert audit(workspace)[-1][3] == "a local account has this name"


def test_a_script_asking_for_json_gets_the_error_in_chinese(client: TestClient) -> None:
    url = at_provider(start(client), user="both")
    parts = urlsplit(url)
    answer = client.get(
        f"{parts.path}?{parts.query}",
        headers={"Accept": "application/json"},
        follow_redirects=False,
    )
    assert answer.status_code == 401
    body = answer.json()
    assert body["message"].startswith("统一身份认证登录未成功，或账号暂不可用。")
    assert "groups" not in str(body) and "Traceback" not in answer.text


def test_local_accounts_sign_in_with_their_password_beside_it(
    client: TestClient, workspace: str
) -> None:
    with GeoPackageStore.open(workspace) as store:
        create_user(
            store,
            username="admin",
            display_name="系统管理员",
            department=None,
            roles=["sys_admin"],
            password="Gh#2035plan",
            actor="sys",
            hashing=HASHING,
        )
    ok = client.post("/auth/sign-in", json={"username": "admin", "password": "Gh#2035plan"})
    assert ok.status_code == 200 and ok.json()["user"]["source"] == "local"


def test_an_oidc_account_has_no_password_to_sign_in_with(client: TestClient) -> None:
    sign_in(client, "lina")
    client.cookies.clear()
    answer = client.post("/auth/sign-in", json={"username": "lina", "password": ""})
    assert answer.status_code in (400, 401)
    answer = client.post("/auth/sign-in", json={"username": "lina", "password": "anything"})
    assert answer.status_code == 401


# -- the provider down -------------------------------------------------------------------------
def test_a_provider_that_cannot_be_reached_sends_the_browser_back_with_the_reason(
    workspace: str,
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    with TestClient(create_app(settings_for(workspace, nowhere))) as c:
        answer = c.get("/auth/oidc/start", follow_redirects=False)
        assert answer.headers["location"] == "/ui/login?error=oidc_unavailable"
        answer = c.get("/auth/oidc/start", headers={"Accept": "application/json"})
    assert answer.status_code == 503
    body = answer.json()
    assert body["code"] == "directory-unavailable"
    assert body["message"].startswith(
        f"统一身份认证平台 127.0.0.1:{nowhere.rsplit(':')[-1]} 无法连接"
    )
    assert "暂时不能通过统一身份认证登录" in body["message"]


def test_a_failing_token_endpoint_is_503_and_audited(
    client: TestClient, idp: TestProvider, workspace: str
) -> None:
    url = at_provider(start(client), user="lina")
    idp.faults.add("token_error")
    parts = urlsplit(url)
    answer = client.get(f"{parts.path}?{parts.query}", headers={"Accept": "application/json"})
    assert answer.status_code == 503
    assert "令牌接口出错" in answer.json()["message"]
    assert audit(workspace)[-1] == (
        "-",
        "sign_in_failed",
        "user:-",
        "identity provider unavailable",
    )


# -- modes and settings ------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("auth", "expected"),
    [
        ("none", {"auth": "none", "password": False, "oidc": False}),
        ("local", {"auth": "local", "password": True, "oidc": False}),
        ("oidc", {"auth": "oidc", "password": True, "oidc": True}),
    ],
)
def test_the_sign_in_page_learns_how_people_sign_in(
    workspace: str, idp: TestProvider, auth: str, expected: dict[str, Any]
) -> None:
    settings = (
        settings_for(workspace, idp.url)
        if auth == "oidc"
        else Settings(workspace=workspace, auth=auth)
    )
    with TestClient(create_app(settings)) as c:
        assert c.get("/auth/methods").json() == expected


def test_without_oidc_the_routes_say_it_is_off(workspace: str) -> None:
    with TestClient(create_app(Settings(workspace=workspace, auth="local"))) as c:
        answer = c.get("/auth/oidc/start", follow_redirects=False)
        assert answer.headers["location"] == "/ui/login?error=oidc_off"
        answer = c.get("/auth/oidc/callback?code=x&state=y", headers={"Accept": "application/json"})
    assert answer.status_code == 400 and answer.json()["field"] == "auth"


def test_the_settings_come_from_the_environment() -> None:
    settings = load_settings(
        {
            "GUOTU_AUTH": "oidc",
            "GUOTU_OIDC_ISSUER": "https://idp.example.gov.cn/realms/gov",
            "GUOTU_OIDC_CLIENT_ID": "guotu",
            "GUOTU_OIDC_CLIENT_SECRET_ENV": "GUOTU_OIDC_SECRET",
            "GUOTU_OIDC_GROUP_ROLES": "guotu-viewers=viewer",
        }
    )
    assert settings.oidc_scopes == "openid profile email"
    assert settings.oidc_username_claim == "preferred_username"
    assert settings.oidc_groups_claim == "groups"
    assert settings.oidc_group_role_map == {"guotu-viewers": frozenset({"viewer"})}


@pytest.mark.parametrize(
    ("change", "field", "zh"),
    [
        ({"oidc_issuer": ""}, "oidc_issuer", "统一身份认证地址（oidc_issuer）"),
        ({"oidc_issuer": "http://idp.example.gov.cn"}, "oidc_issuer", "不是 https:// 地址"),
        ({"oidc_issuer": "https://[::1"}, "oidc_issuer", "不是 https:// 地址"),
        ({"oidc_client_id": ""}, "oidc_client_id", "客户端编号（oidc_client_id）"),
        ({"oidc_client_secret_env": ""}, "oidc_client_secret_env", "oidc_client_secret_env"),
        ({"oidc_redirect_url": "/auth/oidc/callback"}, "oidc_redirect_url", "回调地址"),
        ({"oidc_scopes": "profile email"}, "oidc_scopes", "没有 openid"),
        ({"oidc_username_claim": " "}, "oidc_username_claim", "用户名声明"),
        ({"oidc_group_roles": "guotu-viewers"}, "oidc_group_roles", "格式不对"),
        ({"oidc_group_roles": "g=superuser"}, None, "superuser"),
    ],
)
def test_oidc_settings_that_cannot_work_are_refused_in_chinese_first(
    change: dict[str, str], field: str | None, zh: str
) -> None:
    good = {
        "auth": "oidc",
        "oidc_issuer": "https://idp.example.gov.cn/realms/gov",
        "oidc_client_id": "guotu",
        "oidc_client_secret_env": "GUOTU_OIDC_SECRET",
    }
    Settings(**good)  # the good ones pass
    with pytest.raises(ConfigError) as caught:
        Settings(**(good | change))
    if field is not None:
        assert caught.value.field == field
    assert zh in caught.value.render()


def test_a_missing_client_secret_stops_the_server_from_starting(
    workspace: str, idp: TestProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(SECRET_ENV)
    with pytest.raises(ConfigError) as caught:
        create_app(settings_for(workspace, idp.url))
    assert caught.value.field == "oidc_client_secret_env"
    assert f"环境变量 {SECRET_ENV} 未设置或为空" in caught.value.render()
