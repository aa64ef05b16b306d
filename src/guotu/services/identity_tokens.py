"""Personal access tokens, for GDAL, QGIS and scripts (``Authorization: Bearer gt_…``).

A token's text is ``gt_<id>_<secret>``: the id is public (it names the token in lists and in
the audit log), the secret is 32 random bytes, and the store keeps only the secret's SHA-256.
The text is given to its owner once, when the token is made. A token carries scopes
(``read``, ``export``): it acts for its owner with no more than the scopes allow, and never
more than the owner's roles allow at the time of use
(:class:`~guotu.services.identity_accounts.ScopedPrincipal`). It stops working when revoked,
when it expires (at most :data:`MAX_TOKEN_DAYS` after it was made), and while its owner is
disabled or locked.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from guotu.domain.access.records import AccessToken, Actor, UserAccount
from guotu.domain.access.roles import Permission, permissions_of
from guotu.errors import InputError, NotFoundError
from guotu.ports import FeatureStore
from guotu.services.identity_accounts import (
    TOKEN_SCOPES,
    account_refusal,
    moment,
    require_user,
)

__all__ = ["MAX_TOKEN_DAYS", "TOKEN_PREFIX", "create_token", "resolve_token", "revoke_token"]

#: Longest a token lives.
MAX_TOKEN_DAYS = 365
#: What every token's text starts with (so a leaked one is easy to find in a repository).
TOKEN_PREFIX = "gt_"
_TEXT = re.compile(r"^gt_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$")


def _secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("ascii")).hexdigest()


def _refuse(field: str, en: str, zh: str, fix: str, fix_zh: str) -> InputError:
    return InputError(en, field=field, fix=fix, message_zh=zh, fix_zh=fix_zh)


def create_token(
    store: FeatureStore,
    username: str,
    name: str,
    scopes: Iterable[str],
    days: int,
    *,
    actor: str | Actor,
    now: datetime | None = None,
    allowed_scopes: Iterable[Permission] = TOKEN_SCOPES,
) -> tuple[AccessToken, str]:
    """A new token of ``username`` and its text (``gt_<id>_<secret>``, shown only now).

    ``allowed_scopes`` are the scopes a token may be given: ``read`` and ``export`` (what
    GDAL, QGIS and scripts use), or more for the command line's own sign-in (``guotu
    login``), whose token the server still reads as ``read`` and ``export`` only
    (:func:`~guotu.services.identity_accounts.principal_for`).

    Raises
    ------
    InputError
        An empty or overlong name, no scope or one ``allowed_scopes`` does not hold (or one
        the owner's roles do not allow), or a lifetime outside 1 to 365 days.
    NotFoundError
        No such user.
    """
    account = require_user(store, username)
    label = name.strip()
    if not label or len(label) > 100:
        raise _refuse(
            "name",
            "A token needs a name of 1 to 100 characters.",
            "令牌名称须为 1 至 100 个字符。",
            "Name it after where it is used, e.g. QGIS on the office PC.",
            "请按用途命名，如“办公电脑 QGIS”。",
        )
    wanted = {s.strip() for s in scopes if s.strip()}
    allowed = {Permission(p).value for p in allowed_scopes}
    if not wanted or wanted - allowed:
        raise _refuse(
            "scopes",
            f"A token's scopes are read and/or export; given: {', '.join(sorted(wanted)) or '-'}.",
            f"令牌的权限范围只能是 read（查看）和/或 export（导出），现为：{'、'.join(sorted(wanted)) or '无'}。",
            "Give read, export or both.",
            "请选择 read、export 或两者。",
        )
    lacking = sorted(wanted - {p.value for p in permissions_of(account.roles)})
    if lacking:
        raise _refuse(
            "scopes",
            f"User {account.username!r} has no role allowing {', '.join(lacking)}.",
            f"用户“{account.username}”的角色不含以下权限：{'、'.join(lacking)}。",
            "Ask for a token with the permissions the user's roles allow.",
            "请只申请该用户角色所具有的权限。",
        )
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise _refuse(
            "days",
            f"A token lives 1 to {MAX_TOKEN_DAYS} days; asked: {days}.",
            f"令牌有效期须为 1 至 {MAX_TOKEN_DAYS} 天，现为 {days} 天。",
            f"Give a number of days from 1 to {MAX_TOKEN_DAYS}.",
            f"请填写 1 至 {MAX_TOKEN_DAYS} 之间的天数。",
        )
    when = moment(now)
    token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    token = AccessToken(
        id=token_id,
        username=account.username,
        name=label,
        secret_hash=_secret_hash(secret),
        scopes=frozenset(wanted),
        created_at=when,
        expires_at=when + timedelta(days=days),
    )
    store.put_token(token, **Actor.of(actor).keywords(), action="create_token")
    return store.token(token_id) or token, f"{TOKEN_PREFIX}{token_id}_{secret}"


def revoke_token(
    store: FeatureStore, token_id: str, *, actor: str | Actor, now: datetime | None = None
) -> None:
    """Revoke a token (from now on it signs nobody in); revoking it again changes nothing.

    Raises
    ------
    NotFoundError
        No such token.
    """
    token = store.token(token_id)
    if token is None:
        raise NotFoundError(
            f"There is no access token {token_id!r}.",
            field="token_id",
            fix="List the tokens to find its id.",
            message_zh=f"没有编号为“{token_id}”的访问令牌。",
            fix_zh="请查看令牌列表中的编号。",
        )
    if token.revoked_at is None:
        store.put_token(
            replace(token, revoked_at=moment(now)),
            **Actor.of(actor).keywords(),
            action="revoke_token",
        )


def resolve_token(
    store: FeatureStore, text: str, *, now: datetime | None = None
) -> tuple[UserAccount, AccessToken] | None:
    """The owner and the token ``text`` is, or ``None`` (not a token, unknown, wrong secret,
    revoked, expired, or its owner cannot act now)."""
    found = _TEXT.match(text.strip())
    if found is None:
        return None
    token = store.token(found.group(1))
    secret_hash = _secret_hash(found.group(2))
    if token is None or not hmac.compare_digest(secret_hash, token.secret_hash):
        return None
    when = moment(now)
    if not token.is_usable(when):
        return None
    account = store.user(token.username)
    if account is None or account_refusal(account, when) is not None:
        return None
    return account, token
