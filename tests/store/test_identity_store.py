"""Identity and access records on every store (the contract suite: memory, geopackage,
postgis): departments, accounts, layer policies and tokens round-trip and keep their
history; user names compare case-insensitively; sessions start, are touched and end; every
change is audited without its secrets; the SQL tables are append-only."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from guotu.domain.access.grades import Grade
from guotu.domain.access.policy import AccessList, Action, LayerPolicy
from guotu.domain.access.records import (
    AccessToken,
    AccountSource,
    Department,
    DepartmentKind,
    Session,
    UserAccount,
)
from guotu.errors import ConfigError, GuotuError, StoreError

from .conftest import driver_errors, raw_sql

T0 = datetime(2026, 12, 7, 9, 30, tzinfo=timezone(timedelta(hours=8)))
HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHQ$aGFzaGhhc2hoYXNoaGFzaA"
SECRET_HASH = "9f" * 32


def account(name: str = "wang", **kw: Any) -> UserAccount:
    fields: dict[str, Any] = {
        "display_name": "王工",
        "department": "guihua",
        "roles": frozenset({"editor", "viewer"}),
        "password_hash": HASH,
    }
    return UserAccount(name, **(fields | kw))


def token(token_id: str = "t1", username: str = "wang", **kw: Any) -> AccessToken:
    return AccessToken(
        token_id,
        username,
        "QGIS",
        SECRET_HASH,
        frozenset({"read", "export"}),
        created_at=kw.pop("created_at", T0),
        expires_at=T0 + timedelta(days=90),
        **kw,
    )


def same(a: Any, b: Any) -> bool:
    """Equal but for the record time the store sets."""
    return replace(a, recorded_at=None) == replace(b, recorded_at=None)


def entries_about(store: Any, obj: str) -> list[Any]:
    return [e for e in store.audit_log() if e.object == obj]


# -- departments -------------------------------------------------------------------------------
def test_a_department_round_trips_and_keeps_its_history(empty_store: Any) -> None:
    town = Department("xiangzhen", "某乡镇政府", DepartmentKind.INTERNAL, ("330102001",))
    empty_store.put_department(town, actor="sys")
    empty_store.put_department(replace(town, name="某街道办事处", active=False), actor="sys")
    empty_store.put_department(
        Department("sheji", "某设计院", DepartmentKind.EXTERNAL), actor="sys"
    )
    (design, current) = empty_store.departments()
    assert same(current, replace(town, name="某街道办事处", active=False))
    assert design.kind is DepartmentKind.EXTERNAL and design.regions == ()
    assert isinstance(current.recorded_at, datetime)
    log = entries_about(empty_store, "department:xiangzhen")
    assert [e.action for e in log] == ["create_department", "update_department"]
    assert log[1].detail["changed"] == ["active", "name"]


# -- accounts ----------------------------------------------------------------------------------
def test_an_account_round_trips_every_field(empty_store: Any) -> None:
    locked = account(
        source=AccountSource.LDAP,
        failed_sign_ins=5,
        locked_until=T0 + timedelta(minutes=15),
        password_changed_at=datetime(2026, 1, 2, 3, 4, 5, 678901),  # naive stays naive
        active=False,
    )
    empty_store.put_user(locked, actor="sys", action="create_user")
    back = empty_store.user("wang")
    assert same(back, locked)
    assert back.locked_until.utcoffset() == timedelta(hours=8)
    assert back.roles == frozenset({"editor", "viewer"}) and back.active is False
    assert empty_store.user("li") is None and empty_store.user_history("li") == []


@pytest.mark.parametrize("source", list(AccountSource))
def test_every_account_source_round_trips(empty_store: Any, source: AccountSource) -> None:
    # local (a password here), ldap (the directory), oidc (the unified identity platform)
    made = account(source=source, password_hash=HASH if source is AccountSource.LOCAL else None)
    empty_store.put_user(made, actor="sys", action="create_user")
    assert empty_store.user("wang").source is source
    assert [u.source for u in empty_store.users()] == [source]


def test_putting_an_account_twice_keeps_both_states(empty_store: Any) -> None:
    first = account()
    empty_store.put_user(first, actor="sys", action="create_user")
    empty_store.put_user(replace(first, roles=frozenset({"viewer"})), actor="sec", action="grant")
    history = empty_store.user_history("wang")
    assert [sorted(u.roles) for u in history] == [["editor", "viewer"], ["viewer"]]
    assert history[0].recorded_at < history[1].recorded_at
    assert empty_store.user("wang") == history[-1]
    assert [u.username for u in empty_store.users()] == ["wang"]
    (_, grant) = entries_about(empty_store, "user:wang")
    assert (grant.actor, grant.action, grant.detail["changed"]) == ("sec", "grant", ["roles"])


def test_user_names_compare_case_insensitively(empty_store: Any) -> None:
    empty_store.put_user(account("Wang.Li"), actor="sys", action="create_user")
    assert empty_store.user("WANG.LI").username == "Wang.Li"
    assert len(empty_store.user_history("wang.li")) == 1
    before = len(empty_store.audit_log())
    with pytest.raises(ConfigError, match="only in case") as err:
        empty_store.put_user(account("wang.li"), actor="sys", action="create_user")
    assert "仅大小写不同" in err.value.render()
    assert [u.username for u in empty_store.users()] == ["Wang.Li"]
    assert len(empty_store.audit_log()) == before  # the refused write left nothing


def test_users_are_listed_by_name(empty_store: Any) -> None:
    for name in ("zhao", "Li", "张工", "an"):
        empty_store.put_user(account(name), actor="sys", action="create_user")
    assert [u.username for u in empty_store.users()] == ["an", "Li", "zhao", "张工"]


@pytest.mark.parametrize("name", ["", " wang", "wang\n"], ids=["empty", "blank", "newline"])
def test_a_bad_user_name_is_refused(empty_store: Any, name: str) -> None:
    with pytest.raises(ConfigError):
        empty_store.put_user(account(name), actor="sys", action="create_user")
    assert empty_store.users() == [] and empty_store.audit_log() == []


def test_the_audit_log_never_holds_a_password_hash(empty_store: Any) -> None:
    empty_store.put_user(account(), actor="sys", action="create_user")
    empty_store.put_user(account(password_hash=HASH + "x"), actor="wang", action="set_password")
    empty_store.put_user(account(password_hash=HASH + "x", active=False), actor="sys")
    log = json.dumps([e.to_dict() for e in empty_store.audit_log()], ensure_ascii=False)
    assert "argon2" not in log and "aGFzaGhh" not in log
    created, changed, disabled = entries_about(empty_store, "user:wang")
    assert created.detail["has_password"] is True
    assert changed.detail["changed"] == ["password"] and disabled.detail["changed"] == ["active"]
    assert disabled.action == "update_user"


def test_the_actor_s_department_and_address_are_audited(empty_store: Any) -> None:
    empty_store.put_user(
        account(), actor="sys", action="create_user", actor_department="xinxi", address="10.1.2.3"
    )
    (entry,) = empty_store.audit_log()
    assert (entry.actor, entry.department, entry.address) == ("sys", "xinxi", "10.1.2.3")


# -- layer policies ----------------------------------------------------------------------------
def test_a_layer_policy_round_trips_and_keeps_its_history(empty_store: Any) -> None:
    farmland = LayerPolicy(
        "永久基本农田",
        Grade.RESTRICTED,
        {
            Action.READ: AccessList(frozenset({"reviewer"}), frozenset({"gengdi", "guihua"})),
            Action.EXPORT: AccessList(departments=frozenset({"gengdi"})),
        },
        hidden_fields={"QLRMC": AccessList(roles=frozenset({"approver"}))},
        region_field="XZQDM",
    )
    empty_store.put_layer_policy(LayerPolicy("永久基本农田"), actor="sec")
    empty_store.put_layer_policy(farmland, actor="sec", reason="受限数据")
    empty_store.put_layer_policy(LayerPolicy("规划分区", Grade.PUBLIC), actor="sec")
    policies = empty_store.layer_policies()
    assert list(policies) == ["永久基本农田", "规划分区"]
    assert policies["永久基本农田"] == farmland
    assert policies["规划分区"].lists == {} and policies["规划分区"].region_field is None
    log = entries_about(empty_store, "layer:永久基本农田")
    assert [e.action for e in log] == ["set_layer_policy"] * 2
    assert log[1].reason == "受限数据" and log[1].detail["grade"] == "restricted"
    assert log[1].detail["changed"] == ["grade", "hidden_fields", "lists", "region_field"]


# -- tokens ------------------------------------------------------------------------------------
def test_a_token_round_trips_and_is_revoked_as_a_new_state(empty_store: Any) -> None:
    empty_store.put_token(token(), actor="wang")
    revoked = replace(token(), revoked_at=T0 + timedelta(days=1))
    empty_store.put_token(revoked, actor="wang", action="revoke_token")
    assert same(empty_store.token("t1"), revoked)
    assert empty_store.token("t1").is_usable(T0 + timedelta(days=2)) is False
    assert empty_store.token("nope") is None
    assert [e.action for e in entries_about(empty_store, "token:t1")] == [
        "create_token",
        "revoke_token",
    ]


def test_tokens_are_listed_newest_first_per_user(empty_store: Any) -> None:
    empty_store.put_token(token("a", created_at=T0), actor="wang")
    empty_store.put_token(token("b", created_at=T0 + timedelta(hours=1)), actor="wang")
    empty_store.put_token(token("c", "Li"), actor="li")
    assert [t.id for t in empty_store.tokens("WANG")] == ["b", "a"]
    assert [t.id for t in empty_store.tokens("li")] == ["c"]
    assert sorted(t.id for t in empty_store.tokens()) == ["a", "b", "c"]


def test_the_audit_log_never_holds_a_token_secret(empty_store: Any) -> None:
    empty_store.put_token(token(), actor="wang")
    (entry,) = empty_store.audit_log()
    assert SECRET_HASH not in json.dumps(entry.to_dict())
    assert entry.detail["scopes"] == ["export", "read"] and entry.detail["username"] == "wang"


def test_a_token_cannot_change_hands(empty_store: Any) -> None:
    empty_store.put_token(token(), actor="wang")
    with pytest.raises(ConfigError, match="belongs to 'wang'"):
        empty_store.put_token(token(username="li"), actor="li")
    assert empty_store.token("t1").username == "wang"


# -- sessions ----------------------------------------------------------------------------------
def session(id_hash: str = "s1", username: str = "wang", seen: int = 0) -> Session:
    return Session(id_hash, username, T0, T0 + timedelta(minutes=seen), "10.0.0.8")


def test_a_session_starts_is_touched_and_ends(empty_store: Any) -> None:
    empty_store.put_session(session())
    assert empty_store.session("s1") == session()
    touched = replace(session(seen=5), address="10.0.0.9", created_at=T0 + timedelta(hours=1))
    empty_store.put_session(touched)
    back = empty_store.session("s1")
    assert (back.created_at, back.last_seen_at, back.address) == (
        T0,
        T0 + timedelta(minutes=5),
        "10.0.0.9",
    )
    empty_store.end_session("s1")
    empty_store.end_session("s1")  # ending it again, or an unknown one, is no error
    assert empty_store.session("s1") is None


def test_every_session_of_a_user_ends_at_once(empty_store: Any) -> None:
    for h, user in (("a", "wang"), ("b", "Wang"), ("c", "li")):
        empty_store.put_session(session(h, user))
    assert empty_store.end_sessions_of("WANG") == 2
    assert empty_store.end_sessions_of("wang") == 0
    assert [empty_store.session(h) is None for h in "abc"] == [True, True, False]


def test_sessions_are_not_audited(empty_store: Any) -> None:
    empty_store.put_session(session())
    empty_store.end_sessions_of("wang")
    assert empty_store.audit_log() == []


# -- SQL stores: append-only, driver errors ----------------------------------------------------
@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE guotu_users SET active = false",
        "DELETE FROM guotu_users",
        "UPDATE guotu_departments SET name = 'x'",
        "DELETE FROM guotu_layer_policies",
        "UPDATE guotu_tokens SET revoked_at = NULL",
    ],
)
def test_recorded_states_cannot_be_changed_behind_the_stores_back(
    sql_store: Any, statement: str
) -> None:
    sql_store.put_user(account(), actor="sys", action="create_user")
    sql_store.put_department(Department("guihua", "规划科"), actor="sys")
    sql_store.put_layer_policy(LayerPolicy("GHYD"), actor="sec")
    sql_store.put_token(token(), actor="wang")
    with pytest.raises(driver_errors(), match="never"):
        raw_sql(sql_store, statement)
    assert sql_store.user("wang").active is True


def test_no_driver_exception_escapes_when_the_identity_tables_go(sql_store: Any) -> None:
    sql_store.put_user(account(), actor="sys", action="create_user")
    for table in ("users", "sessions"):
        raw_sql(sql_store, f"DROP TABLE guotu_{table}")
    raised = []
    for op in (
        sql_store.users,
        lambda: sql_store.user("wang"),
        lambda: sql_store.put_user(account(), actor="sys"),
        lambda: sql_store.put_session(session()),
        lambda: sql_store.end_sessions_of("wang"),
    ):
        try:
            op()
        except GuotuError as exc:
            raised.append(exc)
        except driver_errors() as exc:  # pragma: no cover - what the test is here to catch
            pytest.fail(f"{type(exc).__name__} escaped the store: {exc}")
    assert len(raised) == 5 and all(isinstance(e, StoreError) for e in raised)


def test_record_times_are_utc_and_rise(empty_store: Any) -> None:
    start = datetime.now(UTC).replace(tzinfo=None)
    for n in range(3):
        empty_store.put_user(account(failed_sign_ins=n), actor="wang", action="count")
    times = [u.recorded_at for u in empty_store.user_history("wang")]
    assert times == sorted(set(times)) and times[0] >= start - timedelta(seconds=1)
