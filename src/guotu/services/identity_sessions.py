"""Browser sessions: started at sign-in, found again by the cookie's value, ended by sign-out,
idleness or age.

The cookie holds a random value (32 bytes from :mod:`secrets`); the store keeps only its
SHA-256, so a copy of the workspace holds no usable session. A session ends when it has not
been used for ``limits.idle_minutes`` or ``limits.absolute_hours`` after sign-in, whichever
comes first (GB/T 22239-2019 level 3: 登录连接超时自动退出), and as soon as its account is
disabled or locked. Use is recorded at most once a minute, so a page's burst of tile requests
writes nothing.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import replace
from datetime import datetime, timedelta

from guotu.domain.access.passwords import SignInLimits
from guotu.domain.access.records import Session, UserAccount
from guotu.ports import FeatureStore
from guotu.services.identity_accounts import account_refusal, moment

__all__ = ["TOUCH_EVERY", "end_session", "resolve_session", "session_hash", "start_session"]

_LIMITS = SignInLimits()

#: How often a session's ``last_seen_at`` is written at most.
TOUCH_EVERY = timedelta(minutes=1)
#: Longest cookie value read (a session value is 43 characters).
_MAX_VALUE = 128


def session_hash(value: str) -> str:
    """The SHA-256 (hex) of a session value: what the store keeps.

    Examples
    --------
    >>> session_hash("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


def start_session(
    store: FeatureStore, account: UserAccount, *, address: str, now: datetime | None = None
) -> tuple[Session, str]:
    """A new session of ``account`` and the value for its cookie (shown nowhere else)."""
    when = moment(now)
    value = secrets.token_urlsafe(32)
    session = Session(session_hash(value), account.username, when, when, address)
    store.put_session(session)
    return session, value


def _expiry(session: Session, now: datetime, limits: SignInLimits) -> str | None:
    if now - session.last_seen_at >= timedelta(minutes=limits.idle_minutes):
        return "idle"
    if now - session.created_at >= timedelta(hours=limits.absolute_hours):
        return "absolute"
    return None


def resolve_session(
    store: FeatureStore,
    value: str,
    *,
    now: datetime | None = None,
    limits: SignInLimits = _LIMITS,
) -> UserAccount | None:
    """The account of the session whose cookie holds ``value``, or ``None`` (no such session,
    timed out, or its account can no longer act; a session found ended is removed)."""
    if not value or len(value) > _MAX_VALUE:
        return None
    when = moment(now)
    id_hash = session_hash(value)
    session = store.session(id_hash)
    if session is None:
        return None
    account = store.user(session.username)
    why = _expiry(session, when, limits)
    if why is None and account is None:
        why = "account removed"
    elif why is None and account is not None:
        why = account_refusal(account, when)
    if why is not None:
        store.end_session(id_hash)
        store.audit(
            session.username,
            "session_ended",
            f"user:{session.username}",
            reason=why,
            detail={"reason": why},
            address=session.address,
        )
        return None
    if when - session.last_seen_at >= TOUCH_EVERY:
        store.put_session(replace(session, last_seen_at=when))
    return account


def end_session(store: FeatureStore, value: str, *, actor: str, address: str) -> None:
    """Sign out: end the session whose cookie holds ``value`` (an unknown value ends
    nothing, and says nothing either)."""
    if not value or len(value) > _MAX_VALUE:
        return
    id_hash = session_hash(value)
    session = store.session(id_hash)
    if session is None:
        return
    store.end_session(id_hash)
    store.audit(
        actor,
        "sign_out",
        f"user:{session.username}",
        detail={"reason": "sign-out"},
        address=address,
    )
