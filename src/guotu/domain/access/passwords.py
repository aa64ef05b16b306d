"""Password rules and sign-in limits for local accounts.

GB/T 22239-2019 (level 3, 身份鉴别) asks that authentication information be complex and
changed regularly, that failed sign-ins be handled (limit attempts, end the session) and that
sessions time out; it does not set the numbers. The numbers below are guotu's defaults,
chosen to pass a level-3 assessment as commonly applied (at least 8 characters from at least
three character classes, no user name inside, a change at least every 90 days, lockout after
5 failures): a bureau may make them stricter in its settings.

It also asks that an initial password be changed (初始口令修改): :func:`password_change_due`
says when the holder of an account must change its password before doing anything else.
An account's ``password_changed_at`` is when its holder last chose their password; a password
someone else set (an administrator creating the account or resetting it, the demo's seeded
accounts) leaves it empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from guotu.domain.access.records import AccountSource, UserAccount

__all__ = [
    "PASSWORD_CHANGE_REASONS",
    "PasswordChangeReason",
    "PasswordRules",
    "SignInLimits",
    "password_change_due",
    "password_problems",
]

#: Why a password must be changed: set by someone else (``initial``), or too old (``expired``).
PasswordChangeReason = Literal["initial", "expired"]
PASSWORD_CHANGE_REASONS: tuple[PasswordChangeReason, ...] = ("initial", "expired")


@dataclass(frozen=True)
class PasswordRules:
    """What a new password must be."""

    min_length: int = 8
    min_classes: int = 3  # of: lower case, upper case, digits, other characters
    max_age_days: int = 90  # then the user must change it (0: passwords do not expire)


@dataclass(frozen=True)
class SignInLimits:
    """Failed sign-ins and session lifetimes."""

    max_failures: int = 5  # consecutive failures before the account locks
    lockout_minutes: int = 15
    idle_minutes: int = 30  # a session unused this long ends
    absolute_hours: int = 8  # a session ends this long after sign-in, used or not


def _classes(password: str) -> int:
    kinds = (
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() for c in password),
    )
    return sum(kinds)


def password_problems(
    password: str, username: str, rules: PasswordRules = PasswordRules()
) -> list[tuple[str, str]]:
    """What is wrong with ``password`` for ``username``, as (Chinese, English) sentences.

    Examples
    --------
    >>> password_problems("Gh#2035plan", "wang")
    []
    >>> [zh for zh, _ in password_problems("wang1234", "wang")]
    ['密码至少需要 3 类字符（小写字母、大写字母、数字、其他符号），现有 2 类。', '密码不能包含用户名。']
    """
    out: list[tuple[str, str]] = []
    if len(password) < rules.min_length:
        out.append(
            (
                f"密码至少 {rules.min_length} 位，现为 {len(password)} 位。",
                f"The password needs at least {rules.min_length} characters; it has "
                f"{len(password)}.",
            )
        )
    if (n := _classes(password)) < rules.min_classes:
        out.append(
            (
                f"密码至少需要 {rules.min_classes} 类字符（小写字母、大写字母、数字、其他符号），"
                f"现有 {n} 类。",
                f"The password needs characters of at least {rules.min_classes} kinds (lower "
                f"case, upper case, digits, others); it has {n}.",
            )
        )
    if username and username.lower() in password.lower():
        out.append(("密码不能包含用户名。", "The password may not contain the user name."))
    return out


def password_change_due(
    account: UserAccount, now: datetime, rules: PasswordRules = PasswordRules()
) -> PasswordChangeReason | None:
    """Why the holder of ``account`` must change its password at ``now`` before doing
    anything else, or ``None``.

    ``"initial"``: the password was set by someone else (``password_changed_at`` is empty);
    ``"expired"``: its holder chose it more than ``rules.max_age_days`` days before ``now``
    (exactly that many days is not yet more). Only local accounts: a directory (LDAP) or
    统一认证 (OIDC) account's password is not guotu's to judge. ``now`` and
    ``password_changed_at`` are both UTC without a time zone, as the store records them.

    Examples
    --------
    >>> t0 = datetime(2026, 1, 1, 8, 0)
    >>> wang = UserAccount("wang", "王工", None, frozenset(), password_hash="$argon2id$…")
    >>> password_change_due(wang, t0)  # set by an administrator: never chosen by wang
    'initial'
    >>> chosen = UserAccount("wang", "王工", None, frozenset(), password_hash="$argon2id$…",
    ...                      password_changed_at=t0)
    >>> password_change_due(chosen, t0 + timedelta(days=90)) is None  # 90 days: still good
    True
    >>> password_change_due(chosen, t0 + timedelta(days=90, seconds=1))
    'expired'
    >>> password_change_due(chosen, t0 + timedelta(days=400), PasswordRules(max_age_days=0))
    >>> ldap = UserAccount("li", "李工", None, frozenset(), source=AccountSource.LDAP)
    >>> password_change_due(ldap, t0) is None
    True
    """
    if account.source is not AccountSource.LOCAL or account.password_hash is None:
        return None
    if account.password_changed_at is None:
        return "initial"
    max_age = timedelta(days=rules.max_age_days)
    if rules.max_age_days > 0 and now - account.password_changed_at > max_age:
        return "expired"
    return None
