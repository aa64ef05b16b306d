"""Who a command acts as: the principal of the command line, found in one place.

The server asks :mod:`guotu.services.access` what its principal may read and do; so does
every command that reads or writes data, with the principal found here (:func:`command_user`,
or :func:`open_as` to open the workspace and find it in one step):

* **A GeoPackage workspace**: the operating-system user (``GUOTU_USER``, else the login
  name, :func:`os_user`). When the workspace has an account of that name, the command acts
  with its roles, department and region (a disabled or locked account is refused); when it
  has none, it acts as the file's owner with the business roles
  (:func:`~guotu.services.access.local_principal`): whoever can open the file can read it
  anyway. The layers' policies apply either way.
* **A PostgreSQL workspace**: an access token signs the command in, like a request to the
  server: ``GUOTU_TOKEN``, else the token ``guotu login`` saved for this workspace
  (:mod:`guotu.cli.credentials`). A token that signs nobody in (unknown, revoked, expired,
  its owner disabled) is refused. Without a token, a workspace that has accounts refuses
  every command while sign-in is on (``GUOTU_AUTH`` ``local`` or ``ldap``, the server's
  setting); with ``auth = none``, or before the first account exists, the database's own
  rights are the control and the command acts as on a GeoPackage.

The principal's name is the actor of everything a command records (audit entries, versions,
plans); :attr:`CommandUser.actor` adds their department and this machine. Administration
(accounts, roles, policies, the audit log) is checked against the principal's administrator
role only when they signed in (:meth:`CommandUser.require_admin`): on a GeoPackage, and on a
database without sign-in, whoever may change the workspace administers it.

Exit code 2 for every refusal here, with a Chinese message saying what to do.
"""

from __future__ import annotations

import contextlib
import getpass
import os
import socket
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime

from guotu.cli.credentials import saved_token
from guotu.cli.new_workspace import creating_workspace
from guotu.domain.access.policy import Action, Principal
from guotu.domain.access.records import AccessToken, Actor, UserAccount
from guotu.domain.access.roles import Permission, permissions_of
from guotu.errors import AuthenticationError, PermissionDeniedError
from guotu.ports import FeatureStore
from guotu.services.access import LayerAccess, access_for, local_principal
from guotu.services.identity import account_refusal, principal_for, resolve_token
from guotu.services.identity_accounts import moment
from guotu.services.workspace import (
    PG_SCHEMES,
    display_location,
    open_workspace,
    resolve_location,
)
from guotu.settings import load_settings

__all__ = [
    "ENV_TOKEN",
    "ENV_USER",
    "PERMISSION_ZH",
    "CommandUser",
    "command_address",
    "command_user",
    "is_database",
    "open_as",
    "os_user",
    "shown_location",
]

#: Who a command on a GeoPackage (or an unsigned database) acts as, instead of the login name.
ENV_USER = "GUOTU_USER"
#: An access token signing a command on a PostgreSQL workspace in (before the saved one).
ENV_TOKEN = "GUOTU_TOKEN"

#: Permissions as a person reads them in Chinese.
PERMISSION_ZH = {
    Permission.READ: "查看",
    Permission.EXPORT: "导出",
    Permission.EDIT: "编辑入库",
    Permission.REVIEW: "审查",
    Permission.APPROVE: "审批",
    Permission.ACCEPT: "窗口受理",
    Permission.MANAGE_DEPARTMENT: "管理本部门人员的业务角色",
    Permission.MANAGE_ACCOUNTS: "管理账号和部门",
    Permission.CONFIGURE: "系统配置",
    Permission.GRANT: "授予和收回角色",
    Permission.SET_POLICY: "设置图层开放等级和访问策略",
    Permission.READ_AUDIT: "查阅和导出审计日志",
}


def os_user(environ: Mapping[str, str] | None = None) -> str:
    """The operating-system user a command runs for: ``GUOTU_USER``, else the login name.

    Examples
    --------
    >>> os_user({"GUOTU_USER": "zhao"})
    'zhao'
    """
    env = os.environ if environ is None else environ
    try:
        return env.get(ENV_USER) or getpass.getuser()
    except (KeyError, OSError):
        return "guotu"


def is_database(location: str) -> bool:
    """Whether ``location`` is a PostgreSQL workspace (an ``env:NAME`` resolved first)."""
    return resolve_location(location).startswith(PG_SCHEMES)


def shown_location(location: str) -> str:
    """``location`` as a message may show it: ``env:NAME`` as given, a password masked."""
    return location if location.startswith("env:") else display_location(location)


def command_address() -> str:
    """Where a command runs from, as the audit log records it (``cli:`` and the host name)."""
    return f"cli:{socket.gethostname()}"


@dataclass(frozen=True)
class CommandUser:
    """Who a command acts as, and how that was found.

    ``via`` is ``token`` (signed in with an access token), ``account`` (the operating-system
    user's account of a workspace without sign-in) or ``owner`` (no such account: the
    workspace's owner, with the business roles).
    """

    principal: Principal
    via: str
    account: UserAccount | None = None
    token: AccessToken | None = None
    address: str = ""

    @property
    def name(self) -> str:
        """The user name: the actor of what the command records."""
        return self.principal.username or "-"

    @property
    def actor(self) -> Actor:
        """The actor of an audited change: name, department and this machine."""
        return Actor(self.name, self.principal.department or "", self.address)

    @property
    def is_signed_in(self) -> bool:
        """Whether an access token signed the command in."""
        return self.via == "token"

    def access(self, store: FeatureStore) -> LayerAccess:
        """What the principal may do with ``store``'s layers."""
        return access_for(store, self.principal)

    def require(self, permission: Permission) -> None:
        """Go on when the principal's roles (and token) carry ``permission``.

        Raises
        ------
        PermissionDeniedError
            Naming the permission, and whether the role or the token's scope lacks it.
        """
        if permission in self.principal.permissions:
            return
        zh = PERMISSION_ZH[permission]
        if permission in permissions_of(self.principal.roles):  # the token's scopes lack it
            raise PermissionDeniedError(
                f"The access token of {self.name} does not allow this: it needs the "
                f"{permission.value} scope.",
                fix="Sign in again with guotu login, or use a token with that scope.",
                message_zh=f"“{self.name}”的访问令牌无权执行此操作：其权限范围不含“{zh}”。",
                fix_zh="请用 guotu login 重新登录，或换用含此权限范围的令牌。",
            )
        raise PermissionDeniedError(
            f"The roles of {self.name} do not allow this: it needs the {permission.value} "
            "permission.",
            fix="Ask the security administrator for a role that has it.",
            message_zh=f"用户“{self.name}”的角色无权执行此操作：需要“{zh}”权限。",
            fix_zh="如需此权限，请联系安全管理员授予相应角色。",
        )

    def require_admin(self, *permissions: Permission) -> None:
        """Go on when the principal holds one of ``permissions`` (an administrator's: 三员分立),
        or did not sign in: a GeoPackage's owner, or a database without sign-in, administers
        the workspace whoever they are (its files or database rights are the control).

        Raises
        ------
        PermissionDeniedError
            A signed-in principal without any of them.
        """
        if not self.is_signed_in or any(p in self.principal.permissions for p in permissions):
            return
        for permission in permissions:
            self.require(permission)

    def not_oneself(self, username: str, en: str, zh: str) -> None:
        """Refuse a signed-in administrator acting on their own account (``en``/``zh``:
        what), as the administration page does.

        Raises
        ------
        PermissionDeniedError
            ``username`` is the signed-in principal's.
        """
        if self.is_signed_in and self.name.lower() == username.strip().lower():
            raise PermissionDeniedError(
                f"You may not {en}.",
                fix="Ask another administrator.",
                message_zh=f"不能{zh}。",
                fix_zh="请由另一位管理员操作。",
            )

    def require_edit(self, store: FeatureStore, layer: str) -> None:
        """Go on when the principal may write ``layer`` (new or existing): the ``edit``
        permission, and the layer's policy (set before the layer exists, too) allowing it.

        Raises
        ------
        PermissionDeniedError
            Without the permission, or where the layer's policy does not name them.
        """
        self.require(Permission.EDIT)
        access = self.access(store)
        name = next((n for n in access.policies if n.casefold() == layer.casefold()), layer)
        if not access.may(Action.EDIT, name):
            raise PermissionDeniedError(
                f"{self.name} may not write layer {layer}: its access policy does not allow "
                "them to edit it.",
                layer=layer,
                fix="Ask the security administrator (guotu policy set … --edit).",
                message_zh=f"用户“{self.name}”无权写入图层 {layer}：该图层的访问策略未允许其编辑。",
                fix_zh="如需编辑，请联系安全管理员（guotu policy set … --edit）。",
            )


def _not_signed_in(location: str, auth: str) -> AuthenticationError:
    shown = shown_location(location)
    return AuthenticationError(
        f"Sign in first: workspace {shown} has accounts and sign-in is on (auth = {auth}).",
        fix=f"Run guotu login -w {shown} (or set GUOTU_TOKEN to an access token).",
        message_zh=f"请先登录：工作空间 {shown} 已启用账号登录（auth = {auth}）。",
        fix_zh=f"请先运行 guotu login -w {shown}（或把环境变量 GUOTU_TOKEN 设为访问令牌）。",
    )


def _bad_token(location: str, from_env: bool) -> AuthenticationError:
    shown = shown_location(location)
    return AuthenticationError(
        "The access token is not valid: unknown, revoked or expired, or its owner is "
        "disabled or locked.",
        fix=(
            f"Set GUOTU_TOKEN to a valid token, or unset it and run guotu login -w {shown}."
            if from_env
            else f"Sign in again: guotu login -w {shown}."
        ),
        message_zh="访问令牌无效：令牌不存在、已撤销或已过期，或其账号已停用或被锁定。",
        fix_zh=(
            f"请把环境变量 GUOTU_TOKEN 换成有效的令牌，或取消该变量后运行 guotu login -w {shown}。"
            if from_env
            else f"请重新登录：guotu login -w {shown}。"
        ),
    )


def _refused_account(account: UserAccount, reason: str) -> AuthenticationError:
    name = account.username
    if reason == "locked":
        return AuthenticationError(
            f"The account {name!r} is locked after failed sign-ins: commands cannot act as it now.",
            fix="Try again later, or ask the system administrator (guotu user unlock).",
            message_zh=f"账号“{name}”因多次登录失败已被锁定，命令暂不能以其身份运行。",
            fix_zh="请稍后再试，或请系统管理员解锁（guotu user unlock）。",
        )
    return AuthenticationError(
        f"The account {name!r} is disabled: commands cannot act as it.",
        fix="Ask the system administrator to enable it (guotu user enable), or run as "
        "another user.",
        message_zh=f"账号“{name}”已停用，命令不能以其身份运行。",
        fix_zh="请联系系统管理员启用该账号（guotu user enable），或以其他用户身份运行。",
    )


def _by_token(
    store: FeatureStore, text: str, location: str, from_env: bool, when: datetime
) -> CommandUser:
    found = resolve_token(store, text, now=when)
    if found is None:
        raise _bad_token(location, from_env)
    account, token = found
    principal = principal_for(store, account, token=token, honoured_scopes=frozenset(Permission))
    return CommandUser(principal, "token", account, token, command_address())


def _local(store: FeatureStore, environ: Mapping[str, str] | None, when: datetime) -> CommandUser:
    name = os_user(environ)
    account = store.user(name)
    if account is None:
        return CommandUser(local_principal(name), "owner", address=command_address())
    reason = account_refusal(account, when)
    if reason is not None:
        raise _refused_account(account, reason)
    return CommandUser(principal_for(store, account), "account", account, address=command_address())


def command_user(
    store: FeatureStore,
    location: str,
    *,
    environ: Mapping[str, str] | None = None,
    now: datetime | None = None,
) -> CommandUser:
    """Who a command on the workspace ``store`` (opened from ``location``) acts as (see the
    module's rules).

    Raises
    ------
    AuthenticationError
        A database workspace that needs sign-in without a token, a token that signs nobody
        in, or the operating-system user's account disabled or locked.
    """
    env = os.environ if environ is None else environ
    when = moment(now)
    if is_database(location):
        text = env.get(ENV_TOKEN, "").strip()
        if text:
            return _by_token(store, text, location, True, when)
        saved = saved_token(location, env)
        if saved is not None:
            return _by_token(store, saved.token, location, False, when)
        auth = load_settings(env).auth
        if auth != "none" and store.users():
            raise _not_signed_in(location, auth)
    return _local(store, env, when)


@contextlib.contextmanager
def open_as(location: str, *, create: bool = False) -> Iterator[tuple[FeatureStore, CommandUser]]:
    """The workspace at ``location`` (created if ``create`` and missing, as
    :func:`~guotu.cli.new_workspace.creating_workspace`) and who the command acts as."""
    opened = creating_workspace(location) if create else open_workspace(location)
    with opened as store:
        yield store, command_user(store, location)
