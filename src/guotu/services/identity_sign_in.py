"""Signing in: a local password (argon2id) or the bureau's directory (LDAP).

What a person trying to sign in learns is one sentence, the same for an unknown name, a
wrong password, a disabled or a locked account (:data:`SIGN_IN_REFUSED`); the audit log
records the real reason with the client's address. An unknown name costs the same argon2id
verification as a known one (against :func:`~guotu.services.identity_passwords.dummy_hash`),
so the time an answer takes does not tell either.

After ``limits.max_failures`` consecutive failures an account is locked for
``limits.lockout_minutes`` (GB/T 22239-2019 level 3: 登录失败处理); a success forgets the
failures. A directory account is locked the same way, on top of whatever the directory does.

A directory account is created or brought up to date at each successful sign-in: its display
name, its department (the directory's department attribute matched to a department of the
workspace by name) and its roles (the directory groups mapped to roles by ``group_roles``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import datetime, timedelta
from typing import NoReturn

from guotu.domain.access.passwords import SignInLimits
from guotu.domain.access.records import AccountSource, UserAccount
from guotu.domain.access.roles import duty_conflicts
from guotu.errors import AuthenticationError, ConfigError, DirectoryUnavailableError
from guotu.io.ldap_directory import DirectoryUser, LdapSettings, authenticate
from guotu.ports import FeatureStore
from guotu.services.identity_accounts import account_refusal, moment
from guotu.services.identity_passwords import (
    HashParameters,
    dummy_hash,
    hash_password,
    needs_rehash,
    verify_password,
)
from guotu.settings import Settings

__all__ = [
    "SIGN_IN_REFUSED",
    "directory_of",
    "hashing_of",
    "record_failed_sign_in",
    "sign_in",
    "sign_in_refused",
]

_LIMITS = SignInLimits()
_HASHING = HashParameters()

log = logging.getLogger(__name__)

#: The one answer to a sign-in that did not succeed, whatever the reason.
SIGN_IN_REFUSED = (
    "用户名或密码不正确，或账号暂不可用。",
    "The user name or password is wrong, or the account cannot be used now.",
)
#: Longest user name and password a sign-in reads (longer ones are refused).
_MAX_NAME = 256
_MAX_PASSWORD = 1024


def hashing_of(settings: Settings) -> HashParameters:
    """The argon2id parameters the settings give."""
    return HashParameters(
        time_cost=settings.argon2_time_cost,
        memory_kib=settings.argon2_memory_kib,
        parallelism=settings.argon2_parallelism,
    )


def directory_of(
    settings: Settings, environ: Mapping[str, str] | None = None
) -> LdapSettings | None:
    """The LDAP directory of ``auth = ldap`` (``None`` otherwise); the service account's
    password is read from the environment variable ``ldap_service_password_env`` names.

    Raises
    ------
    ConfigError
        A service DN without a password variable, a variable that is not set, or LDAP
        settings that do not fit together.
    """
    if settings.auth != "ldap":
        return None
    env = os.environ if environ is None else environ
    password = None
    if settings.ldap_service_dn:
        name = settings.ldap_service_password_env
        password = env.get(name) if name else None
        if not password:
            raise ConfigError(
                "The LDAP service account's password variable is not set"
                + (f": {name} is empty or missing." if name else "."),
                field="ldap_service_password_env",
                fix="Set ldap_service_password_env to the name of an environment variable "
                "holding the password, and set that variable.",
                message_zh="未提供 LDAP 服务账号的密码"
                + (f"：环境变量 {name} 未设置或为空。" if name else "。"),
                fix_zh="请把 ldap_service_password_env 设为保存密码的环境变量名，并设置该变量。",
            )
    return LdapSettings(
        settings.ldap_url,
        search_base=settings.ldap_search_base or None,
        service_dn=settings.ldap_service_dn or None,
        service_password=password,
        user_dn_template=settings.ldap_user_dn_template or None,
        department_attribute=settings.ldap_department_attribute,
        group_base=settings.ldap_group_base or None,
        start_tls=settings.ldap_start_tls,
        ca_file=settings.ldap_ca_file or None,
    )


def sign_in_refused() -> AuthenticationError:
    """The error every failed sign-in raises (Chinese first; one text for every reason)."""
    zh, en = SIGN_IN_REFUSED
    return AuthenticationError(
        en,
        fix="Check the user name and password; after repeated failures the account is locked "
        "for a while, or ask the system administrator.",
        message_zh=zh,
        fix_zh="请核对用户名和密码；多次失败后账号将被暂时锁定，也可联系系统管理员。",
    )


def sign_in(
    store: FeatureStore,
    username: str,
    password: str,
    *,
    address: str,
    now: datetime | None = None,
    directory: LdapSettings | None = None,
    limits: SignInLimits = _LIMITS,
    group_roles: Mapping[str, Iterable[str]] | None = None,
    hashing: HashParameters = _HASHING,
) -> UserAccount:
    """The account ``username`` and ``password`` sign in as.

    A local account verifies its argon2id hash; a directory account, or a name with no
    account when ``directory`` is set, asks the directory. Every attempt is audited
    (``sign_in``, ``sign_in_failed``) with ``address``.

    Raises
    ------
    AuthenticationError
        Whatever the reason (:data:`SIGN_IN_REFUSED`).
    DirectoryUnavailableError
        The directory cannot be reached (the attempt is audited; the account is untouched).
    """
    when = moment(now)
    name = username.strip()
    if len(name) > _MAX_NAME:
        name = ""  # no account has such a name: refused below like an unknown one
    if len(password) > _MAX_PASSWORD:
        password = ""  # refused below, after the same work as any other refusal
    account = store.user(name) if name else None
    if account is None and directory is not None:
        return _directory_sign_in(
            store, name, password, None, when, address, directory, limits, group_roles or {}
        )
    if account is not None and account.source is AccountSource.LDAP:
        if directory is None:
            verify_password(dummy_hash(hashing), password, params=hashing)
            _refuse(store, name, address, "the directory is not configured")
        return _directory_sign_in(
            store, name, password, account, when, address, directory, limits, group_roles or {}
        )
    usable_hash = account.password_hash if account is not None else None
    is_right = verify_password(usable_hash or dummy_hash(hashing), password, params=hashing)
    if account is None or usable_hash is None:
        _refuse(store, name, address, "unknown user" if account is None else "no password")
    refusal = account_refusal(account, when)
    if refusal is not None:
        _refuse(store, name, address, refusal)
    if not (is_right and password):
        _count_failure(store, account, when, address, limits, "wrong password")
    return _succeed(store, account, password, when, address, hashing)


def _refuse(store: FeatureStore, name: str, address: str, reason: str) -> NoReturn:
    """Audit a refused attempt that changes no account, and raise the one error."""
    store.audit(
        name or "-",
        "sign_in_failed",
        f"user:{name}",
        reason=reason,
        detail={"reason": reason},
        address=address,
    )
    log.info("sign-in of %r from %s refused: %s", name, address, reason)
    raise sign_in_refused()


def _count_failure(
    store: FeatureStore,
    account: UserAccount,
    when: datetime,
    address: str,
    limits: SignInLimits,
    reason: str,
) -> NoReturn:
    """Record one more consecutive failure (:func:`record_failed_sign_in`) and raise the one
    error."""
    record_failed_sign_in(store, account, when=when, address=address, limits=limits, reason=reason)
    raise sign_in_refused()


def record_failed_sign_in(
    store: FeatureStore,
    account: UserAccount,
    *,
    when: datetime,
    address: str,
    limits: SignInLimits = _LIMITS,
    reason: str,
) -> bool:
    """Record one more consecutive failed sign-in of ``account`` (a wrong password, here or
    when its holder changes it), locking the account at ``limits.max_failures``, and audit it
    (``sign_in_failed``, with ``reason`` and ``address``); whether the account is now locked.

    Examples
    --------
    >>> from datetime import datetime
    >>> from guotu.store.memory import MemoryStore
    >>> from guotu.services.identity_accounts import create_user
    >>> store = MemoryStore()
    >>> wang = create_user(store, username="wang", display_name="王工", department=None,
    ...                    roles=[], password="Gh#2035plan", actor="admin")
    >>> when = datetime(2026, 3, 2, 9, 0)
    >>> record_failed_sign_in(store, wang, when=when, address="10.0.0.8", reason="wrong password",
    ...                       limits=SignInLimits(max_failures=2))
    False
    >>> store.user("wang").failed_sign_ins
    1
    """
    expired = account.locked_until is not None and account.locked_until <= when
    failures = (0 if expired else account.failed_sign_ins) + 1
    locks = failures >= limits.max_failures
    until = when + timedelta(minutes=limits.lockout_minutes) if locks else None
    store.put_user(
        replace(account, failed_sign_ins=failures, locked_until=until),
        actor=account.username,
        action="lock" if locks else "count_sign_in_failure",
        reason=f"{failures} consecutive failed sign-ins" + (f" (from {address})" if locks else ""),
    )
    store.audit(
        account.username,
        "sign_in_failed",
        f"user:{account.username}",
        reason=reason,
        detail={"reason": reason, "failures": failures},
        address=address,
    )
    log.info("sign-in of %r from %s refused: %s (%d)", account.username, address, reason, failures)
    return locks


def _succeed(
    store: FeatureStore,
    account: UserAccount,
    password: str,
    when: datetime,
    address: str,
    hashing: HashParameters,
) -> UserAccount:
    """Forget past failures, renew a hash made with other parameters, audit the sign-in."""
    changed = account
    if account.failed_sign_ins or account.locked_until is not None:
        changed = replace(changed, failed_sign_ins=0, locked_until=None)
    if account.password_hash and needs_rehash(account.password_hash, params=hashing):
        changed = replace(changed, password_hash=hash_password(password, params=hashing))
    if changed != account:
        store.put_user(changed, actor=account.username, action="sign_in_reset")
    store.audit(
        account.username,
        "sign_in",
        f"user:{account.username}",
        detail={"source": account.source.value},
        department=account.department or "",
        address=address,
    )
    return store.user(account.username) or changed


def _directory_sign_in(
    store: FeatureStore,
    name: str,
    password: str,
    account: UserAccount | None,
    when: datetime,
    address: str,
    directory: LdapSettings,
    limits: SignInLimits,
    group_roles: Mapping[str, Iterable[str]],
) -> UserAccount:
    """Ask the directory, then create or update the account from its entry."""
    try:
        person = authenticate(directory, name, password)
    except DirectoryUnavailableError:
        # audited, then said as it is (HTTP 503: nobody can sign in through the directory)
        store.audit(
            name or "-",
            "sign_in_failed",
            f"user:{name}",
            reason="directory unavailable",
            detail={"reason": "directory unavailable"},
            address=address,
        )
        raise
    if person is None:
        if account is None:
            _refuse(store, name, address, "unknown to the directory or wrong password")
        refusal = account_refusal(account, when)
        if refusal is not None:
            _refuse(store, name, address, refusal)
        _count_failure(store, account, when, address, limits, "directory refused the password")
    known = account or store.user(person.username)
    if known is not None and known.source is not AccountSource.LDAP:
        _refuse(store, name, address, f"a {known.source.value} account has this name")
    if known is not None and (refusal := account_refusal(known, when)) is not None:
        _refuse(store, name, address, refusal)
    roles = frozenset(r for group in person.groups for r in group_roles.get(group, ()))
    if duty_conflicts(roles):
        _refuse(store, name, address, "the directory groups give roles one person may not hold")
    updated = _from_directory(store, person, known, roles)
    if known is None:
        store.put_user(updated, actor=updated.username, action="create_user", reason="directory")
    elif updated != known:
        store.put_user(updated, actor=updated.username, action="update_from_directory")
    return _succeed(
        store, store.user(updated.username) or updated, password, when, address, _HASHING
    )


def _from_directory(
    store: FeatureStore,
    person: DirectoryUser,
    known: UserAccount | None,
    roles: frozenset[str],
) -> UserAccount:
    """The account as the directory describes it now."""
    by_name = {d.name: d.id for d in store.departments() if d.active}
    department = by_name.get(person.department or "")
    if person.department and department is None:
        log.warning(
            "directory user %r: department %r matches no department of the workspace",
            person.username,
            person.department,
        )
    base = known or UserAccount(
        username=person.username,
        display_name=person.display_name,
        department=None,
        roles=frozenset(),
        source=AccountSource.LDAP,
    )
    return replace(
        base,
        display_name=person.display_name,
        department=department,
        roles=roles,
        failed_sign_ins=base.failed_sign_ins,
    )
