"""Departments, accounts, layer access policies, tokens and sessions, written once for every
store (the store port's "identity, access policies and the audit log" part).

Departments, accounts, policies and tokens are kept like plan versions: each ``put_*`` inserts
a new state with its record time into an append-only history table (triggers refuse UPDATE
and DELETE; :mod:`guotu.store.identity_records` has the tables and the rows) and queues an
audit entry, in one transaction. The current state of a record is its latest state. Each
write takes the audit lock first (:meth:`~guotu.store.audit.AuditLog._lock_audit`), so the
checks it makes (a user name that differs from another only in case, a token that would
change owner) and its insert cannot interleave with another identity write; it does not take
the writer lock of layer imports, so a sign-in is not held up by an import.

Sessions are kept in place (``guotu_sessions``): started, touched, ended; the store does not
audit them (the sign-in service records sign-in and sign-out with ``audit``).

Backends supply nothing beyond the catalogue's hooks; the memory store replaces the seven
primitives (``_append_state`` … ``_delete_sessions``).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from typing import Any

from guotu.domain.access.policy import LayerPolicy
from guotu.domain.access.records import AccessToken, Department, Session, UserAccount
from guotu.errors import ConfigError
from guotu.store.audit import AuditLog
from guotu.store.identity_records import (
    DEPARTMENTS,
    POLICIES,
    SESSION_COLUMNS,
    TOKENS,
    USERS,
    History,
    department_detail,
    department_of,
    department_row,
    policy_detail,
    policy_of,
    policy_row,
    session_of,
    session_row,
    token_detail,
    token_of,
    token_row,
    user_detail,
    user_key,
    user_of,
    user_row,
)
from guotu.store.layout import as_timestamp, record_time, upgrade_reason

__all__ = ["IdentityCatalog"]


def _check_name(value: str, what: str, what_zh: str) -> None:
    if not value or value != value.strip() or any(ord(c) < 32 for c in value):
        raise ConfigError(
            f"{what.capitalize()} {value!r} is empty or has blanks around it or control "
            "characters in it.",
            fix=f"Give the {what} without them.",
            message_zh=f"{what_zh} {value!r} 为空，或首尾有空白，或含控制字符。",
            fix_zh=f"请去掉这些字符后重新填写{what_zh}。",
        )


class IdentityCatalog(AuditLog):
    """Identity and access records (see the module docstring)."""

    # -- SQL primitives (the memory store replaces these) ------------------------------------
    def _append_state(self, history: History, row: Sequence[Any]) -> None:
        """Insert a recorded state (a row of ``history.columns``)."""
        marks = ", ".join("?" * len(history.columns))
        self._execute(
            f"INSERT INTO {history.table} ({', '.join(history.columns)}) VALUES ({marks})", row
        )

    def _current_states(self, history: History) -> list[Sequence[Any]]:
        """The latest state of every key."""
        t, cols = history.table, ", ".join(history.columns)
        return list(
            self._execute(
                f"SELECT {cols} FROM {t} WHERE seq IN (SELECT max(seq) FROM {t} GROUP BY "
                f"{history.key})"
            ).fetchall()
        )

    def _states_of(
        self, history: History, key: str, *, latest: bool = False
    ) -> list[Sequence[Any]]:
        """Every state of ``key``, oldest first (``latest``: only the last one)."""
        sql = (
            f"SELECT {', '.join(history.columns)} FROM {history.table} WHERE {history.key} = ? "
            + ("ORDER BY seq DESC LIMIT 1" if latest else "ORDER BY seq")
        )
        return list(self._execute(sql, (key,)).fetchall())

    def _session_row(self, id_hash: str) -> Sequence[Any] | None:
        row: Sequence[Any] | None = self._execute(
            f"SELECT {', '.join(SESSION_COLUMNS)} FROM guotu_sessions WHERE id_hash = ?",
            (id_hash,),
        ).fetchone()
        return row

    def _save_session(self, row: Sequence[Any]) -> None:
        marks = ", ".join("?" * len(SESSION_COLUMNS))
        self._execute(
            f"INSERT INTO guotu_sessions ({', '.join(SESSION_COLUMNS)}) VALUES ({marks}) "
            "ON CONFLICT (id_hash) DO UPDATE SET last_seen_at = excluded.last_seen_at, "
            "address = excluded.address",
            row,
        )

    def _delete_sessions(self, column: str, value: str) -> int:
        """Delete the sessions whose ``column`` (``id_hash`` or ``username_key``) is
        ``value``; how many."""
        assert column in ("id_hash", "username_key")
        rows = self._execute(
            f"DELETE FROM guotu_sessions WHERE {column} = ? RETURNING id_hash", (value,)
        ).fetchall()
        return len(rows)

    # -- shared steps ----------------------------------------------------------------------
    def _latest(self, history: History, key: str) -> Sequence[Any] | None:
        found = self._states_of(history, key, latest=True)
        return found[0] if found else None

    @staticmethod
    def _record_time_after(previous: datetime | None) -> str:
        """Now, as a record time strictly after ``previous`` (the state it supersedes)."""
        now = record_time()
        if previous is not None and as_timestamp(previous) >= now:
            now = as_timestamp(previous) + timedelta(microseconds=1)
        return now.isoformat()

    @contextlib.contextmanager
    def _identity_write(self, what: str, what_zh: str) -> Iterator[None]:
        """One identity write: a transaction holding the audit lock from its start."""
        with self._store_errors(what, what_zh), self._transaction():
            self._lock_audit()
            yield

    def _reading(self, what: str, what_zh: str) -> contextlib.AbstractContextManager[None]:
        return self._store_errors(f"reading {what}", f"读取{what_zh}")

    def _upgrade_to_4(
        self,
        old_version: int,
        *,
        chain_ddl: Sequence[str],
        identity_ddl: Sequence[str],
        lift_guard: str,
        restore_guard: str,
    ) -> None:
        """Upgrade a workspace to schema 4 inside the caller's upgrade transaction: add the
        audit log's chain columns, chain the entries there are (with the no-update guard
        lifted for that one fill: ``lift_guard`` and ``restore_guard``), create the identity
        tables, and say so in the log."""
        for statement in chain_ddl:
            self._execute(statement)
        self._execute(lift_guard)
        self._chain_existing_audit()
        self._execute(restore_guard)
        for statement in identity_ddl:
            self._execute(statement)
        self._audit("guotu", "upgrade", "workspace", upgrade_reason(max(old_version, 3), 4))

    # -- departments -----------------------------------------------------------------------
    def departments(self) -> list[Department]:
        """Every department, current state, by id."""
        with self._reading("departments", "部门"):
            rows = self._current_states(DEPARTMENTS)
        return sorted((department_of(r) for r in rows), key=lambda d: d.id)

    def put_department(
        self,
        department: Department,
        *,
        actor: str,
        reason: str = "",
        actor_department: str = "",
        address: str = "",
    ) -> None:
        """Record a department's new state (create, rename, deactivate); audited as
        ``create_department`` or ``update_department`` on ``department:<id>``.
        ``actor_department`` and ``address``: where the actor acted from (for the log)."""
        _check_name(department.id, "department id", "部门代码")
        d = department
        with self._identity_write(f"recording department {d.id}", f"登记部门 {d.id}"):
            row = self._latest(DEPARTMENTS, d.id)
            before = None if row is None else department_of(row)
            recorded = self._record_time_after(None if before is None else before.recorded_at)
            self._append_state(DEPARTMENTS, department_row(d, recorded))
            self._audit(
                actor,
                "create_department" if before is None else "update_department",
                f"department:{d.id}",
                reason,
                department_detail(d, before),
                department=actor_department,
                address=address,
            )

    # -- accounts --------------------------------------------------------------------------
    def users(self) -> list[UserAccount]:
        """Every account, current state, by user name."""
        with self._reading("accounts", "用户"):
            rows = self._current_states(USERS)
        return sorted((user_of(r) for r in rows), key=lambda u: (user_key(u.username), u.username))

    def user(self, username: str) -> UserAccount | None:
        """One account's current state; user names compare case-insensitively (``WANG``
        finds ``wang``), and the account keeps the spelling it was created with."""
        with self._reading(f"account {username}", f"用户 {username}"):
            row = self._latest(USERS, user_key(username))
        return None if row is None else user_of(row)

    def user_history(self, username: str) -> list[UserAccount]:
        """Every recorded state of an account, oldest first (``[]`` for no such user)."""
        with self._reading(f"account {username}", f"用户 {username}"):
            rows = self._states_of(USERS, user_key(username))
        return [user_of(r) for r in rows]

    def put_user(
        self,
        account: UserAccount,
        *,
        actor: str,
        action: str = "update_user",
        reason: str = "",
        actor_department: str = "",
        address: str = "",
    ) -> None:
        """Record an account's new state; audited as ``action`` on ``user:<name>`` with
        the account's fields and which of them changed, never the password hash.
        ``actor_department`` and ``address``: where the actor acted from (for the log).

        Raises
        ------
        ConfigError
            An empty or blank-padded user name, or one that differs from an existing
            account's only in case (the same user: give its spelling).
        """
        name = account.username
        _check_name(name, "user name", "用户名")
        with self._identity_write(f"recording account {name}", f"登记用户 {name}"):
            row = self._latest(USERS, user_key(name))
            before = None if row is None else user_of(row)
            if before is not None and before.username != name:
                raise ConfigError(
                    f"There is an account {before.username!r} already; user names that "
                    "differ only in case are the same user.",
                    fix=f"Use {before.username!r}, or another name.",
                    message_zh=f"已有用户 {before.username!r}；仅大小写不同的用户名视为同一用户。",
                    fix_zh=f"请使用 {before.username!r}，或换一个用户名。",
                )
            recorded = self._record_time_after(None if before is None else before.recorded_at)
            self._append_state(USERS, user_row(account, recorded))
            self._audit(
                actor,
                action,
                f"user:{name}",
                reason,
                user_detail(account, before),
                department=actor_department,
                address=address,
            )

    # -- layer policies --------------------------------------------------------------------
    def layer_policies(self) -> dict[str, LayerPolicy]:
        """The current access policy of every layer that has one, by layer name (a layer
        without one has the default grade, 内部)."""
        with self._reading("layer access policies", "图层访问策略"):
            rows = self._current_states(POLICIES)
        return {p.layer: p for p in sorted((policy_of(r) for r in rows), key=lambda p: p.layer)}

    def put_layer_policy(
        self,
        policy: LayerPolicy,
        *,
        actor: str,
        reason: str = "",
        actor_department: str = "",
        address: str = "",
    ) -> None:
        """Record a layer's new grade and access policy; audited as ``set_layer_policy`` on
        ``layer:<name>`` (so it shows in the layer's history). The layer need not exist
        yet: a policy may be set before its first import."""
        _check_name(policy.layer, "layer name", "图层名")
        layer = policy.layer
        with self._identity_write(f"recording the policy of {layer}", f"登记图层 {layer} 的策略"):
            row = self._latest(POLICIES, layer)
            before = None if row is None else policy_of(row)
            previous = None if row is None else as_timestamp(row[-1])
            self._append_state(POLICIES, policy_row(policy, self._record_time_after(previous)))
            self._audit(
                actor,
                "set_layer_policy",
                f"layer:{layer}",
                reason,
                policy_detail(policy, before),
                department=actor_department,
                address=address,
            )

    # -- tokens ----------------------------------------------------------------------------
    def tokens(self, username: str | None = None) -> list[AccessToken]:
        """Access tokens (of one user, compared case-insensitively), current state, newest
        first (by creation time)."""
        with self._reading("access tokens", "访问令牌"):
            rows = self._current_states(TOKENS)
        key = None if username is None else user_key(username)
        found = [
            token_of(r)
            for r in rows
            if key is None or r[TOKENS.columns.index("username_key")] == key
        ]
        return sorted(found, key=lambda t: (t.created_at, t.id), reverse=True)

    def token(self, token_id: str) -> AccessToken | None:
        """One access token's current state."""
        with self._reading("access tokens", "访问令牌"):
            row = self._latest(TOKENS, token_id)
        return None if row is None else token_of(row)

    def put_token(
        self,
        token: AccessToken,
        *,
        actor: str,
        action: str = "create_token",
        actor_department: str = "",
        address: str = "",
    ) -> None:
        """Record a token (created, or revoked: ``revoked_at`` set); audited as ``action``
        on ``token:<id>``, never with its secret's hash.

        Raises
        ------
        ConfigError
            An empty id, or a token id another user's token has.
        """
        _check_name(token.id, "token id", "令牌编号")
        with self._identity_write(f"recording token {token.id}", f"登记令牌 {token.id}"):
            row = self._latest(TOKENS, token.id)
            before = None if row is None else token_of(row)
            if before is not None and user_key(before.username) != user_key(token.username):
                raise ConfigError(
                    f"Token {token.id} belongs to {before.username!r}, not {token.username!r}.",
                    fix="Create a new token for the other user.",
                    message_zh=f"令牌 {token.id} 属于 {before.username!r}，不属于 "
                    f"{token.username!r}。",
                    fix_zh="请为该用户新建令牌。",
                )
            recorded = self._record_time_after(None if before is None else before.recorded_at)
            self._append_state(TOKENS, token_row(token, recorded))
            self._audit(
                actor,
                action,
                f"token:{token.id}",
                "",
                token_detail(token),
                department=actor_department,
                address=address,
            )

    # -- sessions --------------------------------------------------------------------------
    def session(self, id_hash: str) -> Session | None:
        """A session by the hash of its value (``None`` when ended or never started; the
        caller decides whether it has expired)."""
        with self._reading("sessions", "会话"):
            row = self._session_row(id_hash)
        return None if row is None else session_of(row)

    def put_session(self, session: Session) -> None:
        """Start a session, or record that it was seen again: an existing session keeps its
        user and start, and takes ``last_seen_at`` and ``address`` from ``session``."""
        with self._store_errors("recording a session", "记录会话"):
            self._save_session(session_row(session))

    def end_session(self, id_hash: str) -> None:
        """End a session (sign-out, timeout); unknown hashes are ignored."""
        with self._store_errors("ending a session", "结束会话"):
            self._delete_sessions("id_hash", id_hash)

    def end_sessions_of(self, username: str) -> int:
        """End every session of a user (case-insensitively); how many there were."""
        with self._store_errors(
            f"ending the sessions of {username}", f"结束用户 {username} 的会话"
        ):
            return self._delete_sessions("username_key", user_key(username))
