"""Identity records as table rows, and what the audit log says about them.

Departments, accounts, layer policies and tokens are kept in append-only history tables
(:class:`History`: a row per recorded state, ``seq`` giving their order, the current state
the latest row of each key). A row is a tuple of the table's columns in :attr:`History.columns`
order, with portable values every backend stores as they are: text, integers, booleans,
JSON text for sets, lists and maps (role ids, regions, scopes, a policy's access lists), ISO
text for the records' own times (``locked_until``, ``expires_at`` …, exactly as given, time
zone included) and for ``recorded_at`` (read back as text or as a PostgreSQL timestamp).
Sessions are a plain table (:data:`SESSION_COLUMNS`).

User names compare case-insensitively: rows carry ``username_key``, the case-folded name.

What the audit log records of a change (:func:`user_detail` …) never holds a password hash or
a token's secret hash: only whether the password changed.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

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
from guotu.store.layout import as_timestamp

__all__ = [
    "DEPARTMENTS",
    "POLICIES",
    "SESSION_COLUMNS",
    "TOKENS",
    "USERS",
    "History",
    "department_detail",
    "department_of",
    "department_row",
    "policy_detail",
    "policy_of",
    "policy_row",
    "session_of",
    "session_row",
    "token_detail",
    "token_of",
    "token_row",
    "user_detail",
    "user_key",
    "user_of",
    "user_row",
]


@dataclass(frozen=True)
class History:
    """An append-only table of recorded states: its name, the column a record is known by,
    and its columns (``seq`` left out; ``recorded_at`` last)."""

    table: str
    key: str
    columns: tuple[str, ...]

    @property
    def key_index(self) -> int:
        """Where the key is in a row."""
        return self.columns.index(self.key)


DEPARTMENTS = History(
    "guotu_departments", "id", ("id", "name", "kind", "regions", "active", "recorded_at")
)
USERS = History(
    "guotu_users",
    "username_key",
    (
        "username",
        "username_key",
        "display_name",
        "department",
        "roles",
        "source",
        "password_hash",
        "active",
        "failed_sign_ins",
        "locked_until",
        "password_changed_at",
        "recorded_at",
    ),
)
POLICIES = History(
    "guotu_layer_policies",
    "layer",
    ("layer", "grade", "lists", "hidden_fields", "region_field", "recorded_at"),
)
TOKENS = History(
    "guotu_tokens",
    "id",
    (
        "id",
        "username",
        "username_key",
        "name",
        "secret_hash",
        "scopes",
        "created_at",
        "expires_at",
        "revoked_at",
        "recorded_at",
    ),
)
#: Columns of ``guotu_sessions`` (kept in place; ``id_hash`` is the key).
SESSION_COLUMNS = ("id_hash", "username", "username_key", "created_at", "last_seen_at", "address")


def user_key(username: str) -> str:
    """The form user names are compared in (case-folded).

    Examples
    --------
    >>> user_key("Wang.Li") == user_key("wang.li")
    True
    """
    return username.casefold()


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat()


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)


def _recorded(value: str | datetime | None) -> datetime | None:
    return None if value is None else as_timestamp(value)


def _sorted_json(values: Sequence[str] | frozenset[str]) -> str:
    return json.dumps(sorted(values), ensure_ascii=False)


# -- departments ---------------------------------------------------------------------------------
def department_row(d: Department, recorded_at: str) -> tuple[Any, ...]:
    """``d`` as a row of :data:`DEPARTMENTS`."""
    regions = json.dumps(list(d.regions), ensure_ascii=False)
    return (d.id, d.name, d.kind.value, regions, bool(d.active), recorded_at)


def department_of(row: Sequence[Any]) -> Department:
    """A department from a row of :data:`DEPARTMENTS`."""
    return Department(
        id=str(row[0]),
        name=str(row[1]),
        kind=DepartmentKind(row[2]),
        regions=tuple(json.loads(row[3])),
        active=bool(row[4]),
        recorded_at=_recorded(row[5]),
    )


def _department_public(d: Department) -> dict[str, Any]:
    return {"name": d.name, "kind": d.kind.value, "regions": list(d.regions), "active": d.active}


def department_detail(d: Department, before: Department | None) -> dict[str, Any]:
    """What the audit log records of a department's new state."""
    now = _department_public(d)
    return now | {"changed": _changed(now, None if before is None else _department_public(before))}


# -- accounts ------------------------------------------------------------------------------------
def user_row(u: UserAccount, recorded_at: str) -> tuple[Any, ...]:
    """``u`` as a row of :data:`USERS`."""
    return (
        u.username,
        user_key(u.username),
        u.display_name,
        u.department,
        _sorted_json(u.roles),
        u.source.value,
        u.password_hash,
        bool(u.active),
        int(u.failed_sign_ins),
        _iso(u.locked_until),
        _iso(u.password_changed_at),
        recorded_at,
    )


def user_of(row: Sequence[Any]) -> UserAccount:
    """An account from a row of :data:`USERS`."""
    return UserAccount(
        username=str(row[0]),
        display_name=str(row[2]),
        department=row[3],
        roles=frozenset(json.loads(row[4])),
        source=AccountSource(row[5]),
        password_hash=row[6],
        active=bool(row[7]),
        failed_sign_ins=int(row[8]),
        locked_until=_moment(row[9]),
        password_changed_at=_moment(row[10]),
        recorded_at=_recorded(row[11]),
    )


def user_detail(u: UserAccount, before: UserAccount | None) -> dict[str, Any]:
    """What the audit log records of an account's new state: everything but the password
    hash, of which only whether there is one and whether it changed."""
    now = _user_public(u)
    old = None if before is None else _user_public(before)
    changed = _changed(now, old)
    if before is not None and before.password_hash != u.password_hash:
        changed.append("password")
    return now | {"has_password": u.password_hash is not None, "changed": changed}


def _user_public(u: UserAccount) -> dict[str, Any]:
    return {
        "display_name": u.display_name,
        "department": u.department,
        "roles": sorted(u.roles),
        "source": u.source.value,
        "active": u.active,
        "failed_sign_ins": u.failed_sign_ins,
        "locked_until": _iso(u.locked_until),
        "password_changed_at": _iso(u.password_changed_at),
    }


# -- layer policies ------------------------------------------------------------------------------
def _list_json(access: AccessList) -> dict[str, list[str]]:
    return {"roles": sorted(access.roles), "departments": sorted(access.departments)}


def _list_of(value: Mapping[str, Sequence[str]]) -> AccessList:
    return AccessList(frozenset(value.get("roles", ())), frozenset(value.get("departments", ())))


def _policy_public(p: LayerPolicy) -> dict[str, Any]:
    return {
        "grade": p.grade.value,
        "lists": {Action(a).value: _list_json(v) for a, v in sorted(p.lists.items())},
        "hidden_fields": {f: _list_json(v) for f, v in sorted(p.hidden_fields.items())},
        "region_field": p.region_field,
    }


def policy_row(p: LayerPolicy, recorded_at: str) -> tuple[Any, ...]:
    """``p`` as a row of :data:`POLICIES`."""
    public = _policy_public(p)
    return (
        p.layer,
        public["grade"],
        json.dumps(public["lists"], ensure_ascii=False),
        json.dumps(public["hidden_fields"], ensure_ascii=False),
        p.region_field,
        recorded_at,
    )


def policy_of(row: Sequence[Any]) -> LayerPolicy:
    """A layer policy from a row of :data:`POLICIES` (its record time is not part of it)."""
    return LayerPolicy(
        layer=str(row[0]),
        grade=Grade(row[1]),
        lists={Action(a): _list_of(v) for a, v in json.loads(row[2]).items()},
        hidden_fields={f: _list_of(v) for f, v in json.loads(row[3]).items()},
        region_field=row[4],
    )


def policy_detail(p: LayerPolicy, before: LayerPolicy | None) -> dict[str, Any]:
    """What the audit log records of a layer's new policy."""
    now = _policy_public(p)
    return now | {"changed": _changed(now, None if before is None else _policy_public(before))}


# -- tokens --------------------------------------------------------------------------------------
def token_row(t: AccessToken, recorded_at: str) -> tuple[Any, ...]:
    """``t`` as a row of :data:`TOKENS`."""
    return (
        t.id,
        t.username,
        user_key(t.username),
        t.name,
        t.secret_hash,
        _sorted_json(t.scopes),
        t.created_at.isoformat(),
        t.expires_at.isoformat(),
        _iso(t.revoked_at),
        recorded_at,
    )


def token_of(row: Sequence[Any]) -> AccessToken:
    """A token from a row of :data:`TOKENS`."""
    return AccessToken(
        id=str(row[0]),
        username=str(row[1]),
        name=str(row[3]),
        secret_hash=str(row[4]),
        scopes=frozenset(json.loads(row[5])),
        created_at=datetime.fromisoformat(row[6]),
        expires_at=datetime.fromisoformat(row[7]),
        revoked_at=_moment(row[8]),
        recorded_at=_recorded(row[9]),
    )


def token_detail(t: AccessToken) -> dict[str, Any]:
    """What the audit log records of a token: never its secret's hash."""
    return {
        "username": t.username,
        "name": t.name,
        "scopes": sorted(t.scopes),
        "created_at": t.created_at.isoformat(),
        "expires_at": t.expires_at.isoformat(),
        "revoked_at": _iso(t.revoked_at),
    }


# -- sessions ------------------------------------------------------------------------------------
def session_row(s: Session) -> tuple[Any, ...]:
    """``s`` as a row of ``guotu_sessions`` (:data:`SESSION_COLUMNS`)."""
    return (
        s.id_hash,
        s.username,
        user_key(s.username),
        s.created_at.isoformat(),
        s.last_seen_at.isoformat(),
        s.address,
    )


def session_of(row: Sequence[Any]) -> Session:
    """A session from a row of ``guotu_sessions``."""
    return Session(
        id_hash=str(row[0]),
        username=str(row[1]),
        created_at=datetime.fromisoformat(row[3]),
        last_seen_at=datetime.fromisoformat(row[4]),
        address=str(row[5] or ""),
    )


def _changed(now: Mapping[str, Any], before: Mapping[str, Any] | None) -> list[str]:
    """The fields of ``now`` that differ from ``before`` (all of them for a new record)."""
    if before is None:
        return sorted(now)
    return sorted(k for k, v in now.items() if before.get(k) != v)
