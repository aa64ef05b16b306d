"""A user changing their own password (GB/T 22239-2019 level 3: 口令定期更换, 初始口令修改).

The holder of a local account changes its password by giving the current one
(:func:`change_password`): a wrong one counts as a failed sign-in (the same count and lockout
as signing in, :func:`~guotu.services.identity_sign_in.record_failed_sign_in`); the new one
must meet the password rules and differ from the current one, and is hashed with the
configured argon2id parameters. ``password_changed_at`` becomes now: that is what
:func:`~guotu.domain.access.passwords.password_change_due` reads, so a password someone else
set (``temporary=True`` in :mod:`guotu.services.identity_accounts`) is due at the first
sign-in, and one its holder chose is due again after ``max_age_days``. Every session of the
account ends (the web starts a new one for the browser that made the change); access tokens
are left as they are: they were made with a password that was good then, and expire.

A directory (LDAP) or 统一认证 (OIDC) account's password is not guotu's: refused, with where
to change it. :func:`password_change_required` is the refusal a surface answers with while a
change is due (the web's gate, ``guotu login``).

All times are UTC without a time zone, as the store's catalogue records them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from guotu.domain.access.passwords import (
    PasswordChangeReason,
    PasswordRules,
    SignInLimits,
)
from guotu.domain.access.records import AccountSource, UserAccount
from guotu.errors import InputError, PasswordChangeRequiredError, PermissionDeniedError
from guotu.ports import FeatureStore
from guotu.services.identity_accounts import (
    account_refusal,
    check_password,
    moment,
    require_user,
)
from guotu.services.identity_passwords import HashParameters, hash_password, verify_password
from guotu.services.identity_sign_in import record_failed_sign_in, sign_in_refused

__all__ = ["change_password", "password_change_required"]

_RULES = PasswordRules()
_LIMITS = SignInLimits()
_HASHING = HashParameters()

#: Where a directory account's password is changed (Chinese, English).
_KEPT_BY = {
    AccountSource.LDAP: ("目录服务器（LDAP）", "the directory (LDAP)"),
    AccountSource.OIDC: ("统一身份认证平台", "the unified identity platform (OIDC)"),
}


def password_change_required(
    reason: PasswordChangeReason,
    *,
    fix: str,
    fix_zh: str,
    rules: PasswordRules = _RULES,
) -> PasswordChangeRequiredError:
    """The refusal of anything but changing the password, while a change is due for
    ``reason`` (``initial``, ``expired``); ``fix``/``fix_zh`` say where to change it.

    Examples
    --------
    >>> err = password_change_required("initial", fix="Open /ui/password.",
    ...                                fix_zh="请打开 /ui/password 修改密码。")
    >>> err.code, err.http_status
    ('password-change-required', 403)
    >>> err.render()
    '请先修改密码（初始密码）：管理员设置的初始密码须由本人修改后才能使用本系统。解决办法：请打开 /ui/password 修改密码。'
    """
    if reason == "initial":
        zh = "请先修改密码（初始密码）：管理员设置的初始密码须由本人修改后才能使用本系统。"
        en = (
            "Change your password first (an initial password): a password an administrator "
            "set must be changed by its holder before the system can be used."
        )
    else:
        days = rules.max_age_days
        zh = f"请先修改密码（密码已过期）：密码已超过 {days} 天未修改，须修改后才能继续使用本系统。"
        en = (
            f"Change your password first (expired): it has not been changed for more than "
            f"{days} days."
        )
    return PasswordChangeRequiredError(en, fix=fix, message_zh=zh, fix_zh=fix_zh)


def _kept_elsewhere(account: UserAccount) -> InputError:
    zh, en = _KEPT_BY.get(account.source, _KEPT_BY[AccountSource.LDAP])
    return InputError(
        f"User {account.username!r} signs in through {en}: the password is changed there, "
        "not in guotu.",
        field="username",
        fix=f"Change the password in {en}.",
        message_zh=f"用户“{account.username}”通过{zh}登录，密码不由本系统保管。",
        fix_zh=f"请在{zh}中修改密码。",
    )


def _wrong_current(is_locked: bool, limits: SignInLimits) -> PermissionDeniedError:
    if is_locked:
        return PermissionDeniedError(
            "The current password is wrong; after repeated failures the account is now locked "
            f"for {limits.lockout_minutes} minutes.",
            field="current_password",
            fix="Sign in again later, or ask the system administrator to unlock it.",
            message_zh=f"当前密码不正确；连续失败次数已达上限，账号已被锁定 {limits.lockout_minutes} 分钟。",
            fix_zh="请稍后重新登录，或请系统管理员解锁。",
        )
    return PermissionDeniedError(
        "The current password is wrong.",
        field="current_password",
        fix="Type the password you signed in with; after repeated failures the account is "
        "locked for a while.",
        message_zh="当前密码不正确。",
        fix_zh="请输入登录时使用的密码；连续多次输错，账号将被暂时锁定。",
    )


def change_password(
    store: FeatureStore,
    username: str,
    current_password: str,
    new_password: str,
    *,
    address: str,
    now: datetime | None = None,
    limits: SignInLimits = _LIMITS,
    rules: PasswordRules = _RULES,
    hashing: HashParameters = _HASHING,
) -> UserAccount:
    """The holder of ``username`` changes its password from ``current_password`` to
    ``new_password``; the account as it now is. Audited as ``change_password`` (by the
    holder, their department and ``address``); every session of the account ends, its
    tokens are left as they are.

    Raises
    ------
    InputError
        A directory or 统一认证 account (its password is kept there), a new password equal to
        the current one or breaking the rules (field ``new_password``); nothing is written.
    PermissionDeniedError
        A wrong current password (field ``current_password``): counted as a failed sign-in,
        and the account locked at the limit.
    AuthenticationError
        The account is disabled or locked (the one sentence of a refused sign-in).
    NotFoundError
        There is no such account.

    Examples
    --------
    >>> from guotu.store.memory import MemoryStore
    >>> from guotu.services.identity_accounts import create_user
    >>> store = MemoryStore()
    >>> _ = create_user(store, username="wang", display_name="王工", department=None, roles=[],
    ...                 password="Gh#2035plan", actor="admin", temporary=True)
    >>> wang = change_password(store, "wang", "Gh#2035plan", "Xin#2035mima", address="10.0.0.8")
    >>> entry = store.audit_records(action="change_password")[0]
    >>> wang.password_changed_at is not None, entry.actor, entry.address
    (True, 'wang', '10.0.0.8')
    """
    when = moment(now)
    account = require_user(store, username)
    if account.source is not AccountSource.LOCAL or account.password_hash is None:
        raise _kept_elsewhere(account)
    if account_refusal(account, when) is not None:
        raise sign_in_refused()
    if not verify_password(account.password_hash, current_password, params=hashing):
        is_locked = record_failed_sign_in(
            store,
            account,
            when=when,
            address=address,
            limits=limits,
            reason="wrong current password (password change)",
        )
        raise _wrong_current(is_locked, limits)
    if new_password == current_password:
        raise InputError(
            "The new password is the current one.",
            field="new_password",
            fix="Choose a password other than the current one.",
            message_zh="新密码不能与当前密码相同。",
            fix_zh="请设置一个与当前密码不同的新密码。",
        )
    check_password(new_password, account.username, rules, field="new_password")
    changed = replace(
        account,
        password_hash=hash_password(new_password, params=hashing),
        password_changed_at=when,
        failed_sign_ins=0,
        locked_until=None,
    )
    store.put_user(
        changed,
        actor=account.username,
        action="change_password",
        reason="changed by the account's holder",
        actor_department=account.department or "",
        address=address,
    )
    store.end_sessions_of(account.username)
    return store.user(account.username) or changed
