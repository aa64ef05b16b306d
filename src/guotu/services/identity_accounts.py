"""Accounts, departments and layer policies: creating and changing them, and who an account
is to the access policy (:func:`principal_for`).

Every change goes through the store port (``put_user``, ``put_department``,
``put_layer_policy``), which records it as a new state with its record time and an audit entry
naming ``actor``. Bad input is refused with an :class:`~guotu.errors.InputError` whose
``field`` names the field and whose Chinese message says what to do; nothing is written then.
Who may call these (a system or security administrator) is the caller's check: the web's route
policies and the CLI's.

A password set here is, by default, taken as its holder's own choice (``password_changed_at``
is now): what a script passing on passwords people chose, and the tests, want. Every surface of
guotu where an administrator sets someone's password (``guotu admin init``, ``guotu user add``
and ``user passwd``, the administration page's create and reset, the demo's seeded accounts)
says ``temporary=True``: ``password_changed_at`` stays empty, and the holder must change the
password at the next sign-in (:func:`~guotu.domain.access.passwords.password_change_due`). The
holder changes it with :func:`guotu.services.identity_password_change.change_password`.

All times are UTC without a time zone, as the store's catalogue records them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from guotu.domain.access.passwords import PasswordRules, password_problems
from guotu.domain.access.policy import Action, LayerPolicy, Principal
from guotu.domain.access.records import AccessToken, AccountSource, Actor, Department, UserAccount
from guotu.domain.access.roles import ROLES, Permission, duty_conflicts, permissions_of
from guotu.errors import InputError, NotFoundError
from guotu.ports import FeatureStore
from guotu.services.identity_passwords import HashParameters, hash_password

__all__ = [
    "TOKEN_SCOPES",
    "ScopedPrincipal",
    "account_refusal",
    "check_password",
    "create_department",
    "create_user",
    "moment",
    "principal_for",
    "require_user",
    "set_active",
    "set_layer_policy",
    "set_password",
    "set_roles",
    "unlock",
]

_RULES = PasswordRules()
_HASHING = HashParameters()

#: What a user name may be: letters, digits and ``. _ - @``, starting with a letter or digit.
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
#: What a department id may be.
_DEPARTMENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
#: The permissions an access token may carry (its scopes).
TOKEN_SCOPES = frozenset({Permission.READ, Permission.EXPORT})


def moment(now: datetime | None = None) -> datetime:
    """``now`` (default: the clock) as UTC without a time zone, to the microsecond.

    Examples
    --------
    >>> from datetime import timedelta, timezone
    >>> moment(datetime(2026, 1, 1, 8, tzinfo=timezone(timedelta(hours=8))))
    datetime.datetime(2026, 1, 1, 0, 0)
    """
    when = now if now is not None else datetime.now(UTC)
    return when.astimezone(UTC).replace(tzinfo=None) if when.tzinfo is not None else when


def _refuse(field: str, en: str, zh: str, fix: str, fix_zh: str) -> InputError:
    return InputError(en, field=field, fix=fix, message_zh=zh, fix_zh=fix_zh)


def _check_username(username: str) -> None:
    if not _USERNAME.match(username):
        raise _refuse(
            "username",
            f"The user name {username!r} is not valid.",
            f"用户名“{username}”无效。",
            "Use 1 to 64 letters, digits or . _ - @, starting with a letter or a digit.",
            "请用 1 至 64 个英文字母、数字或 . _ - @，并以字母或数字开头。",
        )


def _check_roles(roles: Iterable[str]) -> frozenset[str]:
    wanted = frozenset(roles)
    known = {r.id for r in ROLES}
    unknown = sorted(wanted - known)
    if unknown:
        listed = "、".join(f"{r.id}（{r.name_zh}）" for r in ROLES)
        raise _refuse(
            "roles",
            f"Unknown role(s): {', '.join(unknown)}.",
            f"没有这些角色：{'、'.join(unknown)}。",
            f"Known roles: {', '.join(sorted(known))}.",
            f"可用的角色：{listed}。",
        )
    conflicts = duty_conflicts(wanted)
    if conflicts:
        raise _refuse(
            "roles",
            " ".join(en for _, en in conflicts),
            "".join(zh for zh, _ in conflicts),
            "Give these roles to different people.",
            "请把这些角色分别授予不同的人。",
        )
    return wanted


def check_password(
    password: str, username: str, rules: PasswordRules = _RULES, *, field: str = "password"
) -> None:
    """Refuse a new ``password`` of ``username`` that breaks ``rules``.

    Raises
    ------
    InputError
        Naming every rule it breaks (and ``field``), with the rules as the fix.

    Examples
    --------
    >>> check_password("Gh#2035plan", "wang") is None
    True
    >>> try:
    ...     check_password("wang2035", "wang", field="new_password")
    ... except InputError as err:
    ...     print(err.field, err.message_zh)
    new_password 密码至少需要 3 类字符（小写字母、大写字母、数字、其他符号），现有 2 类。密码不能包含用户名。
    """
    problems = password_problems(password, username, rules)
    if problems:
        raise _refuse(
            field,
            " ".join(en for _, en in problems),
            "".join(zh for zh, _ in problems),
            f"Choose a password of at least {rules.min_length} characters of "
            f"{rules.min_classes} kinds, without the user name.",
            f"请设置至少 {rules.min_length} 位、含 {rules.min_classes} 类字符且不含用户名的密码。",
        )


def _department_of(store: FeatureStore, department_id: str) -> Department | None:
    return next((d for d in store.departments() if d.id == department_id), None)


def require_user(store: FeatureStore, username: str) -> UserAccount:
    """The account called ``username``; :class:`NotFoundError` when there is none."""
    account = store.user(username)
    if account is None:
        raise NotFoundError(
            f"There is no user {username!r}.",
            field="username",
            fix="Check the user name (guotu lists the accounts).",
            message_zh=f"没有用户“{username}”。",
            fix_zh="请检查用户名。",
        )
    return account


def account_refusal(account: UserAccount, now: datetime) -> str | None:
    """Why ``account`` may not act at ``now`` (``"inactive"``, ``"locked"``), or ``None``."""
    if not account.active:
        return "inactive"
    if account.locked_until is not None and now < account.locked_until:
        return "locked"
    return None


def create_user(
    store: FeatureStore,
    *,
    username: str,
    display_name: str,
    department: str | None,
    roles: Iterable[str],
    password: str | None,
    source: AccountSource = AccountSource.LOCAL,
    actor: str | Actor,
    now: datetime | None = None,
    rules: PasswordRules = _RULES,
    hashing: HashParameters = _HASHING,
    temporary: bool = False,
) -> UserAccount:
    """Create an account (a local one with its password, or one the directory signs in).

    ``temporary``: the password is one an administrator chose and hands over, so its holder
    must change it at the first sign-in (``password_changed_at`` stays empty). By default it
    is taken as the holder's own (``password_changed_at`` is now): guotu's administrator
    surfaces all say ``temporary=True``; a script importing passwords people chose need not.

    Raises
    ------
    InputError
        An invalid or existing user name, an unknown department, unknown roles, roles one
        person may not hold together (三员分立), a local account without a password, a
        password that breaks the rules, or a password for a directory account.

    Examples
    --------
    >>> from guotu.store.memory import MemoryStore
    >>> wang = create_user(MemoryStore(), username="wang", display_name="王工", department=None,
    ...                    roles=["viewer"], password="Gh#2035plan", actor="admin")
    >>> wang.roles, wang.password_hash[:10]
    (frozenset({'viewer'}), '$argon2id$')
    >>> li = create_user(MemoryStore(), username="li", display_name="李工", department=None,
    ...                  roles=[], password="Gh#2035plan", actor="admin", temporary=True)
    >>> li.password_changed_at is None  # li changes it at the first sign-in
    True
    """
    username = username.strip()
    _check_username(username)
    if store.user(username) is not None:
        raise _refuse(
            "username",
            f"There is already a user {username!r}.",
            f"用户名“{username}”已被使用。",
            "Choose another user name, or change the existing account.",
            "请换一个用户名，或修改已有的账号。",
        )
    if not display_name.strip():
        raise _refuse(
            "display_name",
            "The display name is empty.",
            "姓名（display_name）为空。",
            "Give the person's name.",
            "请填写姓名。",
        )
    if department is not None and _department_of(store, department) is None:
        raise _refuse(
            "department",
            f"There is no department {department!r}.",
            f"没有部门“{department}”。",
            "Create the department first, or choose an existing one.",
            "请先创建该部门，或选择已有的部门。",
        )
    wanted = _check_roles(roles)
    password_hash = None
    if source is AccountSource.LOCAL:
        if not password:
            raise _refuse(
                "password",
                "A local account needs a password.",
                "本地账号必须设置密码。",
                "Give a password, or create a directory (LDAP) account.",
                "请设置密码，或创建目录（LDAP）账号。",
            )
        check_password(password, username, rules)
        password_hash = hash_password(password, params=hashing)
    elif password:
        raise _refuse(
            "password",
            f"A {source.value} account's password is kept by its directory, not by guotu.",
            "目录账号的密码由目录服务器保管，不能在本系统设置。",
            "Leave the password out.",
            "请不要填写密码。",
        )
    when = moment(now)
    account = UserAccount(
        username=username,
        display_name=display_name.strip(),
        department=department,
        roles=wanted,
        source=source,
        password_hash=password_hash,
        password_changed_at=when if password_hash and not temporary else None,
    )
    store.put_user(account, **Actor.of(actor).keywords(), action="create_user")
    return store.user(username) or account


def set_roles(
    store: FeatureStore, username: str, roles: Iterable[str], *, actor: str | Actor
) -> None:
    """Give ``username`` exactly ``roles`` (unknown roles and 三员分立 conflicts refused)."""
    account = require_user(store, username)
    store.put_user(
        replace(account, roles=_check_roles(roles)), **Actor.of(actor).keywords(), action="grant"
    )


def set_password(
    store: FeatureStore,
    username: str,
    password: str,
    *,
    actor: str | Actor,
    now: datetime | None = None,
    rules: PasswordRules = _RULES,
    hashing: HashParameters = _HASHING,
    temporary: bool = False,
) -> None:
    """Set a local account's password (checked against ``rules``); ends its sessions.

    ``temporary``: an administrator's reset, which the holder must change at the next
    sign-in (``password_changed_at`` is emptied); by default the password is taken as the
    holder's own choice (``password_changed_at`` is now). guotu's own resets (``guotu user
    passwd``, the administration page) say ``temporary=True``; the holder changing their own
    password verifies the current one first
    (:func:`guotu.services.identity_password_change.change_password`).
    """
    account = require_user(store, username)
    if account.source is not AccountSource.LOCAL:
        raise _refuse(
            "password",
            f"User {account.username!r} signs in through the directory: the password is "
            "changed there.",
            f"用户“{account.username}”通过目录服务器登录，密码须在目录中修改。",
            "Change the password in the directory (LDAP).",
            "请在目录服务器（LDAP）中修改密码。",
        )
    check_password(password, account.username, rules)
    changed = replace(
        account,
        password_hash=hash_password(password, params=hashing),
        password_changed_at=None if temporary else moment(now),
    )
    store.put_user(changed, **Actor.of(actor).keywords(), action="set_password")
    store.end_sessions_of(account.username)


def set_active(store: FeatureStore, username: str, active: bool, *, actor: str | Actor) -> None:
    """Enable or disable an account; disabling ends its sessions (its tokens stop working
    too: a token acts only for an active account)."""
    account = require_user(store, username)
    action = "enable_user" if active else "disable_user"
    store.put_user(replace(account, active=active), **Actor.of(actor).keywords(), action=action)
    if not active:
        store.end_sessions_of(account.username)


def unlock(store: FeatureStore, username: str, *, actor: str | Actor) -> None:
    """Lift a lockout after failed sign-ins (and forget the failures)."""
    account = require_user(store, username)
    store.put_user(
        replace(account, failed_sign_ins=0, locked_until=None),
        **Actor.of(actor).keywords(),
        action="unlock",
    )


def create_department(store: FeatureStore, department: Department, *, actor: str | Actor) -> None:
    """Record a new department.

    Raises
    ------
    InputError
        An invalid or existing id, an empty name, or a region that is not a code prefix.
    """
    if not _DEPARTMENT_ID.match(department.id):
        raise _refuse(
            "id",
            f"The department id {department.id!r} is not valid.",
            f"部门编号“{department.id}”无效。",
            "Use 1 to 64 letters, digits, _ or -, starting with a letter or a digit.",
            "请用 1 至 64 个英文字母、数字、_ 或 -，并以字母或数字开头。",
        )
    if _department_of(store, department.id) is not None:
        raise _refuse(
            "id",
            f"There is already a department {department.id!r}.",
            f"部门编号“{department.id}”已被使用。",
            "Choose another id.",
            "请换一个部门编号。",
        )
    if not department.name.strip():
        raise _refuse(
            "name", "The department name is empty.", "部门名称为空。", "Name it.", "请填写名称。"
        )
    bad = [r for r in department.regions if not r.isdigit()]
    if bad:
        raise _refuse(
            "regions",
            f"Regions must be 行政区 code prefixes (digits): {', '.join(bad)}.",
            f"辖区须为行政区代码（数字）的前缀：{'、'.join(bad)}。",
            "Give the codes of the 行政区 the department covers, e.g. 330102001.",
            "请填写该部门所辖行政区的代码，如 330102001。",
        )
    store.put_department(department, **Actor.of(actor).keywords())


def set_layer_policy(store: FeatureStore, policy: LayerPolicy, *, actor: str | Actor) -> None:
    """Record a layer's open grade and access lists (roles and departments must exist)."""
    lists = [*policy.lists.values(), *policy.hidden_fields.values()]
    roles = frozenset(r for lst in lists for r in lst.roles)
    unknown_roles = sorted(roles - {r.id for r in ROLES})
    if unknown_roles:
        _check_roles(unknown_roles)  # raises, listing the known roles
    known = {d.id for d in store.departments()}
    unknown = sorted({d for lst in lists for d in lst.departments} - known)
    if unknown:
        raise _refuse(
            "departments",
            f"Unknown department(s) in the policy of layer {policy.layer!r}: {', '.join(unknown)}.",
            f"图层“{policy.layer}”的访问策略中有不存在的部门：{'、'.join(unknown)}。",
            "Create the departments first, or name existing ones.",
            "请先创建这些部门，或改用已有的部门。",
        )
    if set(policy.lists) - set(Action):
        raise _refuse(
            "lists",
            "A policy names an action other than read, export and edit.",
            "访问策略只能规定查看（read）、导出（export）和编辑（edit）。",
            "Use read, export or edit.",
            "请使用 read、export 或 edit。",
        )
    store.put_layer_policy(policy, **Actor.of(actor).keywords())


@dataclass(frozen=True)
class ScopedPrincipal(Principal):
    """A principal acting through an access token: its owner's roles and department, but
    only the permissions the token's scopes allow (``read``, ``export``).

    :func:`~guotu.domain.access.policy.decide` asks :attr:`permissions`, so it stays the one
    place that decides.

    Examples
    --------
    >>> p = ScopedPrincipal("wang", frozenset({"reviewer"}), scopes=frozenset({Permission.READ}))
    >>> sorted(p.permissions)
    [<Permission.READ: 'read'>]
    """

    scopes: frozenset[Permission] = frozenset()

    @property
    def permissions(self) -> frozenset[Permission]:
        """The roles' permissions within the token's scopes."""
        return permissions_of(self.roles) & self.scopes


def principal_for(
    store: FeatureStore,
    account: UserAccount,
    *,
    token: AccessToken | None = None,
    honoured_scopes: Iterable[Permission] = TOKEN_SCOPES,
) -> Principal:
    """Who ``account`` is to the access policy: roles, department and the department's
    regions; through ``token``, only the permissions its scopes allow, of those in
    ``honoured_scopes`` (the server honours ``read`` and ``export``; the command line every
    scope of its own sign-in's token)."""
    department = _department_of(store, account.department) if account.department else None
    regions = department.regions if department is not None else ()
    if token is None:
        return Principal(account.username, account.roles, account.department, regions)
    scopes = frozenset(p for p in honoured_scopes if p.value in token.scopes)
    return ScopedPrincipal(account.username, account.roles, account.department, regions, scopes)
