"""Signing in with a directory account against a real OpenLDAP slapd (scripts/ldap-throwaway,
the fixture pattern of tests/io/test_ldap_directory.py): the first sign-in creates an ``ldap``
account with the roles its groups map to and the department its entry names; a wrong password
or an unknown name is refused like a local one; and the same over HTTP with ``auth = ldap``.
Without slapd the tests skip (they fail under ``CI=true``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from guotu.domain.access.records import AccountSource, Department
from guotu.errors import AuthenticationError, ConfigError
from guotu.io.ldap_directory import LdapSettings
from guotu.services.identity import (
    SIGN_IN_REFUSED,
    create_department,
    create_user,
    set_active,
    sign_in,
)
from guotu.settings import Settings, group_roles
from guotu.store.geopackage import GeoPackageStore
from guotu.store.memory import MemoryStore
from guotu.web.app import create_app

from ..io.test_ldap_directory import GROUPS, PEOPLE, SERVICE_DN, Directory, start, throwaway

T0 = datetime(2026, 3, 2, 9, 0, 0)
MAPPING = (
    "guotu-viewers=viewer;guotu-editors=editor;guotu-reviewers=reviewer;guotu-admins=sys_admin"
)
#: Without the administrators' group (陈静 is in it and in two business groups).
BUSINESS_MAPPING = MAPPING.removesuffix(";guotu-admins=sys_admin")


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Directory]:
    path = tmp_path_factory.mktemp("ldap")
    try:
        yield start(path)
    finally:
        throwaway("stop", str(path))


@pytest.fixture
def ldap(directory: Directory) -> LdapSettings:
    return LdapSettings(
        directory.url,
        search_base=PEOPLE,
        service_dn=SERVICE_DN,
        service_password=directory.service_password,
        group_base=GROUPS,
    )


@pytest.fixture
def store() -> Iterator[MemoryStore]:
    with MemoryStore() as s:
        create_department(s, Department("guihua", "国土空间规划科"), actor="sysadmin")
        create_department(s, Department("gengdi", "耕地保护科"), actor="sysadmin")
        yield s


def test_first_sign_in_creates_a_directory_account_with_mapped_roles(
    store: MemoryStore, ldap: LdapSettings, directory: Directory
) -> None:
    account = sign_in(
        store,
        "zhangwei",
        directory.passwords["zhangwei"],
        address="10.0.0.8",
        now=T0,
        directory=ldap,
        group_roles=group_roles(MAPPING),
    )
    assert account.source is AccountSource.LDAP and account.password_hash is None
    assert (account.username, account.display_name, account.department) == (
        "zhangwei",
        "张伟",
        "guihua",
    )
    assert account.roles == frozenset({"editor", "viewer"})
    assert [e.action for e in store.audit_log(object_prefix="user:zhangwei")] == [
        "create_user",
        "sign_in",
    ]


def test_roles_follow_the_directory_at_each_sign_in(
    store: MemoryStore, ldap: LdapSettings, directory: Directory
) -> None:
    password = directory.passwords["lina"]
    first = sign_in(store, "lina", password, address="a", directory=ldap, group_roles={})
    assert first.roles == frozenset() and first.department == "gengdi"
    later = sign_in(
        store, "lina", password, address="a", directory=ldap, group_roles=group_roles(MAPPING)
    )
    assert later.roles == frozenset({"reviewer", "viewer"})
    assert store.audit_log(object_prefix="user:lina")[-2].action == "update_from_directory"


def test_directory_groups_giving_an_administrator_business_roles_are_refused(
    store: MemoryStore, ldap: LdapSettings, directory: Directory
) -> None:
    # 陈静 is in guotu-admins (系统管理员) and in the viewers' and reviewers' groups: 三员分立
    with pytest.raises(AuthenticationError):
        sign_in(
            store,
            "chenjing",
            directory.passwords["chenjing"],
            address="10.0.0.9",
            directory=ldap,
            group_roles=group_roles(MAPPING),
        )
    assert store.user("chenjing") is None
    last = store.audit_log()[-1]
    assert (last.action, last.address) == ("sign_in_failed", "10.0.0.9")
    assert last.detail["reason"] == "the directory groups give roles one person may not hold"


@pytest.mark.parametrize("who", ["zhangwei", "nobody"])
def test_wrong_password_or_unknown_name_is_refused_the_same_way(
    store: MemoryStore, ldap: LdapSettings, directory: Directory, who: str
) -> None:
    with pytest.raises(AuthenticationError) as caught:
        sign_in(store, who, directory.passwords["lina"], address="a", directory=ldap)
    assert caught.value.message_zh == SIGN_IN_REFUSED[0]
    assert store.user(who) is None  # nothing is created for a refused sign-in


def test_a_department_the_workspace_lacks_leaves_the_account_without_one(
    store: MemoryStore, ldap: LdapSettings, directory: Directory
) -> None:
    account = sign_in(
        store, "wangfang", directory.passwords["wangfang"], address="a", directory=ldap
    )
    assert account.department is None  # 乡镇 is no department of this workspace


def test_a_disabled_directory_account_is_refused(
    store: MemoryStore, ldap: LdapSettings, directory: Directory
) -> None:
    create_user(
        store,
        username="liuyang",
        display_name="刘洋",
        department=None,
        roles=[],
        password=None,
        source=AccountSource.LDAP,
        actor="sysadmin",
    )
    set_active(store, "liuyang", False, actor="sysadmin")
    with pytest.raises(AuthenticationError):
        sign_in(store, "liuyang", directory.passwords["liuyang"], address="a", directory=ldap)
    assert store.audit_log()[-1].detail["reason"] == "inactive"


def test_sign_in_over_http_with_auth_ldap(
    tmp_path: Path, directory: Directory, monkeypatch: pytest.MonkeyPatch
) -> None:
    workspace = tmp_path / "ws.gpkg"
    with GeoPackageStore.open(workspace, create=True) as s:
        create_department(s, Department("guihua", "国土空间规划科"), actor="sysadmin")
    settings = Settings(
        workspace=str(workspace),
        auth="ldap",
        ldap_url=directory.url,
        ldap_search_base=PEOPLE,
        ldap_service_dn=SERVICE_DN,
        ldap_service_password_env="GUOTU_TEST_LDAP_PW",
        ldap_group_base=GROUPS,
        ldap_group_roles=BUSINESS_MAPPING,
    )
    with pytest.raises(ConfigError) as caught:
        create_app(settings)  # the password's variable is not set
    assert caught.value.field == "ldap_service_password_env"
    monkeypatch.setenv("GUOTU_TEST_LDAP_PW", directory.service_password)
    client = TestClient(create_app(settings))
    answer = client.post(
        "/auth/sign-in",
        json={"username": "chenjing", "password": directory.passwords["chenjing"]},
    )
    assert answer.status_code == 200, answer.text
    me = client.get("/auth/me").json()["user"]
    assert me["source"] == "ldap" and me["department"]["name"] == "国土空间规划科"
    assert {r["id"] for r in me["roles"]} == {"reviewer", "viewer"}
    wrong = client.post(
        "/auth/sign-in", json={"username": "chenjing", "password": directory.passwords["lina"]}
    )
    assert wrong.status_code == 401 and wrong.json()["message"].startswith(SIGN_IN_REFUSED[0])
