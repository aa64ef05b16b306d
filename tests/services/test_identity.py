"""The identity services: argon2id hashes, accounts, sign-in with lockout, sessions with
timeouts, access tokens and the principal a user or a token is (guotu.services.identity).

Times are given with ``now=`` so lockouts and timeouts are tested at exact moments. Every
test runs on the three stores (memory, GeoPackage, PostGIS with ``GUOTU_TEST_PG_DSN``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from guotu.domain.access.grades import Grade
from guotu.domain.access.passwords import SignInLimits
from guotu.domain.access.policy import AccessList, Action, LayerPolicy, decide
from guotu.domain.access.records import AccountSource, Department
from guotu.domain.access.roles import Permission
from guotu.errors import AuthenticationError, InputError, NotFoundError
from guotu.services import identity_sign_in
from guotu.services.identity import (
    SIGN_IN_REFUSED,
    HashParameters,
    ScopedPrincipal,
    create_department,
    create_token,
    create_user,
    end_session,
    hash_password,
    needs_rehash,
    principal_for,
    resolve_session,
    resolve_token,
    revoke_token,
    set_active,
    set_layer_policy,
    set_password,
    set_roles,
    sign_in,
    start_session,
    unlock,
    verify_password,
)
from guotu.store.memory import MemoryStore

from ..store.conftest import BACKENDS, open_store, pg_schema  # noqa: F401 (a fixture)

T0 = datetime(2026, 3, 2, 9, 0, 0)
PASSWORD = "Gh#2035plan"
ADDRESS = "10.1.2.3"


@pytest.fixture(params=BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MemoryStore]:
    """A workspace of each backend with one department and one reviewer, ``wang`` (typed as
    the reference store; all three implement the same port)."""
    with open_store(request.param, tmp_path, request) as s:
        create_department(
            s, Department("gengdi", "耕地保护科", regions=("330102",)), actor="sysadmin"
        )
        create_user(
            s,
            username="wang",
            display_name="王工",
            department="gengdi",
            roles=["reviewer"],
            password=PASSWORD,
            actor="sysadmin",
            now=T0,
        )
        yield s


# -- argon2id -------------------------------------------------------------------------------


def test_hash_is_argon2id_with_owasp_parameters() -> None:
    h = hash_password(PASSWORD)
    assert h.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert verify_password(h, PASSWORD) and not verify_password(h, PASSWORD.lower())
    assert hash_password(PASSWORD) != h  # a new salt each time


def test_a_hash_with_other_parameters_is_renewed_at_sign_in(store: MemoryStore) -> None:
    stronger = HashParameters(time_cost=3)
    assert needs_rehash(store.user("wang").password_hash, params=stronger)
    sign_in(store, "wang", PASSWORD, address=ADDRESS, now=T0, hashing=stronger)
    renewed = store.user("wang").password_hash
    assert renewed.startswith("$argon2id$v=19$m=19456,t=3,p=1$")
    assert not needs_rehash(renewed, params=stronger)


def test_no_hash_appears_in_the_audit_log(store: MemoryStore) -> None:
    sign_in(store, "wang", PASSWORD, address=ADDRESS, now=T0)
    text = repr([e.detail for e in store.audit_log()])
    assert "$argon2" not in text and PASSWORD not in text


# -- creating accounts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        # the user name: not a name, or taken (in any case)
        ({"username": "王 工"}, "username"),
        ({"username": ""}, "username"),
        ({"username": "WANG"}, "username"),
        # an unknown department
        ({"department": "nowhere"}, "department"),
        # unknown roles, and roles one person may not hold together (三员分立)
        ({"roles": ["superuser"]}, "roles"),
        ({"roles": ["sys_admin", "audit_admin"]}, "roles"),
        ({"roles": ["audit_admin", "editor"]}, "roles"),
        # a local account without a password, or with a weak one
        ({"password": None}, "password"),
        ({"password": "short1A"}, "password"),
        ({"password": "li12345678"}, "password"),
        ({"password": "Li#li2035plan"}, "password"),
        # a directory account's password is the directory's
        ({"source": AccountSource.LDAP, "password": PASSWORD}, "password"),
    ],
)
def test_create_user_refuses_bad_input_naming_the_field(
    store: MemoryStore, changes: dict[str, object], field: str
) -> None:
    given: dict[str, object] = {
        "username": "li",
        "display_name": "李工",
        "department": "gengdi",
        "roles": ["viewer"],
        "password": "Gh#2035plan",
        "actor": "sysadmin",
    }
    given.update(changes)
    before = len(store.users())
    with pytest.raises(InputError) as caught:
        create_user(store, **given)  # type: ignore[arg-type]
    assert caught.value.field == field
    assert caught.value.message_zh and caught.value.fix_zh
    assert len(store.users()) == before


def test_create_user_records_the_account_and_audits_it(store: MemoryStore) -> None:
    account = store.user("wang")
    assert account.roles == frozenset({"reviewer"}) and account.department == "gengdi"
    assert account.password_hash.startswith("$argon2id$")
    assert [e.action for e in store.audit_log(object_prefix="user:wang")] == ["create_user"]


def test_a_directory_account_needs_no_password(store: MemoryStore) -> None:
    account = create_user(
        store,
        username="zhao",
        display_name="赵工",
        department=None,
        roles=[],
        password=None,
        source=AccountSource.LDAP,
        actor="sysadmin",
    )
    assert account.source is AccountSource.LDAP and account.password_hash is None


def test_set_roles_refuses_duty_conflicts(store: MemoryStore) -> None:
    with pytest.raises(InputError) as caught:
        set_roles(store, "wang", ["sec_admin", "sys_admin"], actor="secadmin")
    assert caught.value.field == "roles" and "三员分立" in caught.value.message_zh
    set_roles(store, "wang", ["viewer", "editor"], actor="secadmin")
    assert store.user("wang").roles == frozenset({"viewer", "editor"})


def test_unknown_user_is_not_found(store: MemoryStore) -> None:
    with pytest.raises(NotFoundError):
        set_active(store, "nobody", False, actor="sysadmin")


def test_layer_policy_names_existing_roles_and_departments(store: MemoryStore) -> None:
    bad = LayerPolicy(
        "永久基本农田", Grade.RESTRICTED, {Action.READ: AccessList(departments=frozenset({"x"}))}
    )
    with pytest.raises(InputError) as caught:
        set_layer_policy(store, bad, actor="secadmin")
    assert caught.value.field == "departments"
    good = LayerPolicy(
        "永久基本农田",
        Grade.RESTRICTED,
        {Action.READ: AccessList(departments=frozenset({"gengdi"}))},
    )
    set_layer_policy(store, good, actor="secadmin")
    assert store.layer_policies()["永久基本农田"].grade is Grade.RESTRICTED


# -- signing in -----------------------------------------------------------------------------


def test_sign_in_with_the_right_password(store: MemoryStore) -> None:
    account = sign_in(store, "wang", PASSWORD, address=ADDRESS, now=T0)
    assert account.username == "wang"
    last = store.audit_log()[-1]
    assert (last.action, last.object, last.address) == ("sign_in", "user:wang", ADDRESS)


def test_user_names_compare_case_insensitively(store: MemoryStore) -> None:
    assert sign_in(store, "WANG", PASSWORD, address=ADDRESS, now=T0).username == "wang"


@pytest.mark.parametrize(
    ("username", "password"),
    [("wang", "Wrong#2035plan"), ("nobody", PASSWORD), ("wang", ""), ("", PASSWORD)],
)
def test_one_message_whatever_was_wrong(store: MemoryStore, username: str, password: str) -> None:
    with pytest.raises(AuthenticationError) as caught:
        sign_in(store, username, password, address=ADDRESS, now=T0)
    assert (caught.value.message_zh, caught.value.message) == SIGN_IN_REFUSED
    assert caught.value.render("zh").startswith(SIGN_IN_REFUSED[0])
    last = store.audit_log()[-1]
    assert (last.action, last.address) == ("sign_in_failed", ADDRESS)


def test_an_unknown_name_costs_an_argon2_verification(
    store: MemoryStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    real = identity_sign_in.verify_password

    def counting(password_hash: str, password: str, **kw: object) -> bool:
        calls.append(password_hash[:10])
        return real(password_hash, password, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(identity_sign_in, "verify_password", counting)
    for name in ("wang", "nobody"):
        with pytest.raises(AuthenticationError):
            sign_in(store, name, "Wrong#2035plan", address=ADDRESS, now=T0)
    assert calls == ["$argon2id$", "$argon2id$"]


def _fail(store: MemoryStore, times: int, at: datetime) -> None:
    for _ in range(times):
        with pytest.raises(AuthenticationError):
            sign_in(store, "wang", "Wrong#2035plan", address=ADDRESS, now=at)


def test_lockout_after_the_limit_for_its_minutes(store: MemoryStore) -> None:
    limits = SignInLimits(max_failures=3, lockout_minutes=15)
    for _ in range(3):
        with pytest.raises(AuthenticationError):
            sign_in(store, "wang", "Wrong#2035plan", address=ADDRESS, now=T0, limits=limits)
    account = store.user("wang")
    assert account.locked_until == T0 + timedelta(minutes=15)
    assert [e.action for e in store.audit_log(object_prefix="user:wang")][-2:] == [
        "lock",
        "sign_in_failed",
    ]
    # locked: even the right password is refused, with the same message, the reason audited
    with pytest.raises(AuthenticationError) as caught:
        sign_in(store, "wang", PASSWORD, address=ADDRESS, now=T0 + timedelta(minutes=14))
    assert caught.value.message_zh == SIGN_IN_REFUSED[0]
    assert store.audit_log()[-1].detail["reason"] == "locked"
    # the lock ends by itself; the right password then signs in and forgets the failures
    later = T0 + timedelta(minutes=15)
    assert sign_in(store, "wang", PASSWORD, address=ADDRESS, now=later, limits=limits)
    assert store.user("wang").failed_sign_ins == 0 and store.user("wang").locked_until is None


def test_failures_below_the_limit_are_forgotten_after_a_success(store: MemoryStore) -> None:
    _fail(store, 4, T0)
    assert store.user("wang").failed_sign_ins == 4
    sign_in(store, "wang", PASSWORD, address=ADDRESS, now=T0)
    _fail(store, 4, T0)
    assert store.user("wang").locked_until is None


def test_unlock_lifts_a_lockout(store: MemoryStore) -> None:
    _fail(store, 5, T0)
    assert store.user("wang").locked_until is not None
    unlock(store, "wang", actor="sysadmin")
    assert sign_in(store, "wang", PASSWORD, address=ADDRESS, now=T0 + timedelta(minutes=1))


def test_a_disabled_account_is_refused_the_same_way(store: MemoryStore) -> None:
    set_active(store, "wang", False, actor="sysadmin")
    with pytest.raises(AuthenticationError) as caught:
        sign_in(store, "wang", PASSWORD, address=ADDRESS, now=T0)
    assert caught.value.message_zh == SIGN_IN_REFUSED[0]
    assert store.audit_log()[-1].detail["reason"] == "inactive"


# -- sessions -------------------------------------------------------------------------------


def test_a_session_keeps_only_the_hash_of_its_value(store: MemoryStore) -> None:
    session, value = start_session(store, store.user("wang"), address=ADDRESS, now=T0)
    assert len(value) >= 43 and value not in session.id_hash
    assert store.session(session.id_hash) is not None
    assert resolve_session(store, value, now=T0).username == "wang"
    assert resolve_session(store, value[:-1] + "x", now=T0) is None


def test_idle_timeout(store: MemoryStore) -> None:
    limits = SignInLimits(idle_minutes=30, absolute_hours=8)
    _, value = start_session(store, store.user("wang"), address=ADDRESS, now=T0)
    # used after 29 minutes: alive, and seen again then
    assert resolve_session(store, value, now=T0 + timedelta(minutes=29), limits=limits)
    assert resolve_session(store, value, now=T0 + timedelta(minutes=58), limits=limits)
    # unused for 30 minutes: ended, and gone for good
    assert resolve_session(store, value, now=T0 + timedelta(minutes=88), limits=limits) is None
    assert resolve_session(store, value, now=T0 + timedelta(minutes=89), limits=limits) is None
    assert store.audit_log()[-1].detail == {"reason": "idle"}


def test_use_is_recorded_at_most_once_a_minute(store: MemoryStore) -> None:
    session, value = start_session(store, store.user("wang"), address=ADDRESS, now=T0)
    resolve_session(store, value, now=T0 + timedelta(seconds=59))
    assert store.session(session.id_hash).last_seen_at == T0
    resolve_session(store, value, now=T0 + timedelta(seconds=61))
    assert store.session(session.id_hash).last_seen_at == T0 + timedelta(seconds=61)


def test_absolute_timeout_even_when_used(store: MemoryStore) -> None:
    limits = SignInLimits(idle_minutes=30, absolute_hours=8)
    _, value = start_session(store, store.user("wang"), address=ADDRESS, now=T0)
    at = T0
    while at < T0 + timedelta(hours=8) - timedelta(minutes=20):
        at += timedelta(minutes=20)
        assert resolve_session(store, value, now=at, limits=limits) is not None
    assert resolve_session(store, value, now=T0 + timedelta(hours=8), limits=limits) is None
    assert store.audit_log()[-1].detail == {"reason": "absolute"}


def test_disabling_or_a_new_password_ends_sessions(store: MemoryStore) -> None:
    _, value = start_session(store, store.user("wang"), address=ADDRESS, now=T0)
    set_password(store, "wang", "New#2035plan", actor="wang")
    assert resolve_session(store, value, now=T0) is None
    _, value = start_session(store, store.user("wang"), address=ADDRESS, now=T0)
    set_active(store, "wang", False, actor="sysadmin")
    assert resolve_session(store, value, now=T0) is None


def test_sign_out_ends_the_session_and_is_audited(store: MemoryStore) -> None:
    _, value = start_session(store, store.user("wang"), address=ADDRESS, now=T0)
    end_session(store, value, actor="wang", address=ADDRESS)
    assert resolve_session(store, value, now=T0) is None
    last = store.audit_log()[-1]
    assert (last.action, last.address) == ("sign_out", ADDRESS)


# -- tokens ---------------------------------------------------------------------------------


def test_token_text_is_shown_once_and_only_its_hash_kept(store: MemoryStore) -> None:
    token, text = create_token(store, "wang", "QGIS", ["read"], 30, actor="wang", now=T0)
    assert text.startswith(f"gt_{token.id}_") and len(text) == 3 + 16 + 1 + 43
    assert text.split("_", 2)[2] not in repr(store.token(token.id))
    assert token.expires_at == T0 + timedelta(days=30)
    found = resolve_token(store, text, now=T0)
    assert found is not None and found[0].username == "wang" and found[1].id == token.id


@pytest.mark.parametrize(
    ("scopes", "days", "field"),
    [
        (["edit"], 30, "scopes"),
        ([], 30, "scopes"),
        (["read"], 0, "days"),
        (["read"], 366, "days"),
    ],
)
def test_token_limits(store: MemoryStore, scopes: list[str], days: int, field: str) -> None:
    with pytest.raises(InputError) as caught:
        create_token(store, "wang", "x", scopes, days, actor="wang")
    assert caught.value.field == field


def test_a_scope_the_roles_do_not_allow_is_refused(store: MemoryStore) -> None:
    set_roles(store, "wang", ["viewer"], actor="secadmin")
    with pytest.raises(InputError) as caught:
        create_token(store, "wang", "x", ["read", "export"], 30, actor="wang")
    assert caught.value.field == "scopes"


def test_revoked_expired_or_forged_tokens_sign_nobody_in(store: MemoryStore) -> None:
    token, text = create_token(store, "wang", "QGIS", ["read"], 1, actor="wang", now=T0)
    assert resolve_token(store, text, now=T0 + timedelta(days=1)) is None  # expired
    assert resolve_token(store, text[:-2] + "xx", now=T0) is None  # another secret
    assert resolve_token(store, "gt_nothing", now=T0) is None
    revoke_token(store, token.id, actor="wang", now=T0)
    assert resolve_token(store, text, now=T0) is None
    with pytest.raises(NotFoundError):
        revoke_token(store, "0123456789abcdef", actor="wang")


# -- principals -----------------------------------------------------------------------------


def test_principal_has_roles_department_and_its_regions(store: MemoryStore) -> None:
    p = principal_for(store, store.user("wang"))
    assert (p.username, p.roles, p.department, p.regions) == (
        "wang",
        frozenset({"reviewer"}),
        "gengdi",
        ("330102",),
    )
    assert Permission.REVIEW in p.permissions


def test_a_tokens_principal_has_only_its_scopes(store: MemoryStore) -> None:
    token, _ = create_token(store, "wang", "QGIS", ["read"], 30, actor="wang")
    p = principal_for(store, store.user("wang"), token=token)
    assert isinstance(p, ScopedPrincipal)
    assert p.permissions == frozenset({Permission.READ})
    layer = LayerPolicy("规划分区", Grade.INTERNAL)
    # decide() stays the one place: read yes, export no (the role alone would allow it)
    assert decide(p, Action.READ, layer) and not decide(p, Action.EXPORT, layer)
    assert decide(principal_for(store, store.user("wang")), Action.EXPORT, layer)
