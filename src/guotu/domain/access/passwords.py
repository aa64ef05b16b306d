"""Password rules and sign-in limits for local accounts.

GB/T 22239-2019 (level 3, 身份鉴别) asks that authentication information be complex and
changed regularly, that failed sign-ins be handled (limit attempts, end the session) and that
sessions time out; it does not set the numbers. The numbers below are guotu's defaults,
chosen to pass a level-3 assessment as commonly applied (at least 8 characters from at least
three character classes, no user name inside, lockout after 5 failures): a bureau may make
them stricter in its settings.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["PasswordRules", "SignInLimits", "password_problems"]


@dataclass(frozen=True)
class PasswordRules:
    """What a new password must be."""

    min_length: int = 8
    min_classes: int = 3  # of: lower case, upper case, digits, other characters
    max_age_days: int = 90  # then the user must change it


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
