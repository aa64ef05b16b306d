"""A user changing their own password, and who else's setting of it must be changed at the
next sign-in (guotu.services.identity: ``change_password``, ``temporary=`` of ``create_user``
and ``set_password``). Every test runs on the three stores (memory, GeoPackage, PostGIS with
``GUOTU_TEST_PG_DSN``): an empty ``password_changed_at`` must come back empty."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from guotu.domain.access.passwords import SignInLimits, password_change_due
from guotu.domain.access.records import AccountSource, Department, UserAccount
from guotu.errors import AuthenticationError, InputError, PermissionDeniedError
from guotu.services.identity import (
    HashParameters,
    change_password,
    create_department,
    create_token,
    create_user,
    resolve_session,
    resolve_token,
    set_password,
    sign_in,
    start_session,
)
from guotu.store.memory import MemoryStore

from ..store.conftest import BACKENDS, open_store, pg_schema  # noqa: F401 (a fixture)

T0 = datetime(2026, 3, 2, 9, 0, 0)
PASSWORD = "Gh#2035plan"
NEW = "Xin#2035mima"
ADDRESS = "10.1.2.3"
HASHING = HashParameters(time_cost=1, memory_kib=1024, parallelism=1)
LIMITS = SignInLimits()


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryStore]:
    """A workspace of each backend with ``wang`` (an administrator's initial password) and
    ``li`` (a password li chose), both of 耕地保护科."""
    with open_store(request.param, tmp_path, request) as s:
        create_department(s, Department("gengdi", "耕地保护科"), actor="sysadmin")
        for name, temporary in (("wang", True), ("li", False)):
            create_user(
                s,
                username=name,
                display_name=name,
                department="gengdi",
                roles=["viewer"],
                password=PASSWORD,
                actor="sysadmin",
                now=T0,
                hashing=HASHING,
                temporary=temporary,
            )
        yield s


def change(
    store: MemoryStore,
    current: str = PASSWORD,
    new: str = NEW,
    limits: SignInLimits = LIMITS,
) -> UserAccount:
    """``wang`` changes their password at ``T0``."""
    return change_password(
        store, "wang", current, new, address=ADDRESS, now=T0, limits=limits, hashing=HASHING
    )


# -- who set it --------------------------------------------------------------------------------


def test_an_administrators_password_is_due_at_the_first_sign_in(store: MemoryStore) -> None:
    wang = store.user("wang")
    assert wang is not None and wang.password_changed_at is None
    assert password_change_due(wang, T0) == "initial"
    assert sign_in(store, "wang", PASSWORD, address=ADDRESS, now=T0).username == "wang"


def test_by_default_a_password_is_taken_as_the_holders_own(store: MemoryStore) -> None:
    li = store.user("li")
    assert li is not None and li.password_changed_at == T0
    assert password_change_due(li, T0 + timedelta(days=90)) is None
    assert password_change_due(li, T0 + timedelta(days=91)) == "expired"


@pytest.mark.parametrize(("temporary", "changed_at"), [(True, None), (False, T0)])
def test_a_reset_is_temporary_when_the_caller_says_so(
    store: MemoryStore, temporary: bool, changed_at: datetime | None
) -> None:
    set_password(store, "li", NEW, actor="sysadmin", now=T0, temporary=temporary)
    li = store.user("li")
    assert li is not None and li.password_changed_at == changed_at


# -- the holder changes it -----------------------------------------------------------------------


def test_the_holder_changes_it_and_it_is_no_longer_due(store: MemoryStore) -> None:
    changed = change(store)
    assert changed.password_changed_at == T0
    assert password_change_due(changed, T0) is None
    assert sign_in(store, "wang", NEW, address=ADDRESS, now=T0, hashing=HASHING)
    with pytest.raises(AuthenticationError):
        sign_in(store, "wang", PASSWORD, address=ADDRESS, now=T0, hashing=HASHING)


def test_a_change_ends_every_session_and_keeps_the_tokens(store: MemoryStore) -> None:
    account = store.user("wang")
    assert account is not None
    _s, value = start_session(store, account, address=ADDRESS, now=T0)
    _token, text = create_token(store, "wang", "QGIS", ["read"], 30, actor="wang", now=T0)
    change(store)
    assert resolve_session(store, value, now=T0) is None
    assert resolve_token(store, text, now=T0) is not None


def test_a_change_is_audited_with_the_holders_department_and_address(store: MemoryStore) -> None:
    change(store)
    entry = store.audit_records(action="change_password")[0]
    assert (entry.actor, entry.object, entry.department, entry.address) == (
        "wang",
        "user:wang",
        "gengdi",
        ADDRESS,
    )
    assert PASSWORD not in repr(entry) and NEW not in repr(entry)


def test_a_wrong_current_password_is_a_failed_sign_in(store: MemoryStore) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        change(store, current="Wrong#2035plan")
    assert caught.value.field == "current_password"
    assert caught.value.render().startswith("当前密码不正确")
    wang = store.user("wang")
    assert wang is not None and wang.failed_sign_ins == 1 and wang.password_changed_at is None
    failed = store.audit_records(action="sign_in_failed")[0]
    assert (failed.actor, failed.address) == ("wang", ADDRESS)


def test_wrong_current_passwords_lock_the_account_at_the_limit(store: MemoryStore) -> None:
    limits = SignInLimits(max_failures=2)
    with pytest.raises(PermissionDeniedError):
        change(store, current="Wrong#2035plan", limits=limits)
    with pytest.raises(PermissionDeniedError) as caught:
        change(store, current="Wrong#2035plan", limits=limits)
    assert "账号已被锁定 15 分钟" in caught.value.render()
    with pytest.raises(AuthenticationError):  # locked: the right one is refused too
        change(store, limits=limits)


@pytest.mark.parametrize(
    ("new", "said"),
    [
        (PASSWORD, "新密码不能与当前密码相同"),
        ("abcdefgh", "密码至少需要 3 类字符"),
        ("Ab#1", "密码至少 8 位"),
        ("wang#2035X", "密码不能包含用户名"),
    ],
)
def test_a_new_password_must_differ_and_meet_the_rules(
    store: MemoryStore, new: str, said: str
) -> None:
    with pytest.raises(InputError) as caught:
        change(store, new=new)
    assert caught.value.field == "new_password" and said in caught.value.render()
    wang = store.user("wang")
    assert wang is not None and wang.password_changed_at is None  # nothing written


@pytest.mark.parametrize(
    ("source", "where"), [(AccountSource.LDAP, "目录服务器"), (AccountSource.OIDC, "统一身份认证")]
)
def test_a_directory_accounts_password_is_changed_there(
    store: MemoryStore, source: AccountSource, where: str
) -> None:
    create_user(
        store,
        username="zhao",
        display_name="赵",
        department=None,
        roles=["viewer"],
        password=None,
        source=source,
        actor="sysadmin",
    )
    with pytest.raises(InputError) as caught:
        change_password(store, "zhao", PASSWORD, NEW, address=ADDRESS)
    assert where in caught.value.render()
