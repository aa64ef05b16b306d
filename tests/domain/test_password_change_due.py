"""When the holder of an account must change its password before anything else
(guotu.domain.access.passwords.password_change_due): an initial password someone else set, or
one older than the rules' ``max_age_days`` (90 by default), local accounts only."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from guotu.domain.access.passwords import PasswordRules, password_change_due
from guotu.domain.access.records import AccountSource, UserAccount

NOW = datetime(2026, 6, 1, 9, 0, 0)
HASH = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"


def account(
    changed_days_ago: float | None,
    source: AccountSource = AccountSource.LOCAL,
    password_hash: str | None = HASH,
) -> UserAccount:
    changed = None if changed_days_ago is None else NOW - timedelta(days=changed_days_ago)
    return UserAccount(
        "wang",
        "王工",
        None,
        frozenset({"viewer"}),
        source=source,
        password_hash=password_hash,
        password_changed_at=changed,
    )


@pytest.mark.parametrize(
    ("who", "rules", "due"),
    [
        # set by someone else (an administrator, the demo): changed at the first sign-in
        (account(None), PasswordRules(), "initial"),
        (account(None), PasswordRules(max_age_days=0), "initial"),  # expiry off: still initial
        # chosen by the holder: good for 90 days, then expired
        (account(0), PasswordRules(), None),
        (account(89), PasswordRules(), None),
        (account(90), PasswordRules(), None),  # exactly 90 days: not yet more than 90
        (account(90 + 1 / 86_400), PasswordRules(), "expired"),  # 90 days and a second
        (account(91), PasswordRules(), "expired"),
        (account(400), PasswordRules(max_age_days=0), None),  # 0: passwords do not expire
        (account(31), PasswordRules(max_age_days=30), "expired"),  # a stricter bureau
        # a directory's password is not guotu's to judge
        (account(None, AccountSource.LDAP, None), PasswordRules(), None),
        (account(None, AccountSource.OIDC, None), PasswordRules(), None),
        (account(400, AccountSource.LDAP, None), PasswordRules(), None),
        # a local account without a password cannot sign in: nothing to change
        (account(None, password_hash=None), PasswordRules(), None),
    ],
)
def test_password_change_due(who: UserAccount, rules: PasswordRules, due: str | None) -> None:
    assert password_change_due(who, NOW, rules) == due
