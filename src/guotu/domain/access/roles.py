"""Access roles, what each may do, and the separation of duties (三员分立).

Business roles (查看, 编辑, 审查, 审批, 部门管理员) work with plan data; the three administrator
roles keep the system and never touch its data. GB/T 22239-2019 (level 3, 安全管理中心) gives
each administrator one job: the *system* administrator (系统管理员) keeps accounts, departments
and the system's configuration; the *security* administrator (安全管理员) grants roles and sets
the open grades and access policies of layers (授权, 安全标记); the *audit* administrator
(审计管理员) searches and exports the audit log and can change neither data nor users. No role
can erase or edit an audit record: the log is append-only.

Which permissions each role carries is guotu's choice, written here in one table; the
standard names the separation, not a permission list.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

from guotu.errors import ConfigError

__all__ = [
    "ADMIN_ROLES",
    "ROLES",
    "AccessRole",
    "Permission",
    "duty_conflicts",
    "get_access_role",
    "permissions_of",
]


class Permission(StrEnum):
    """One thing a role allows."""

    READ = "read"  # see layers, query sites, view reports
    EXPORT = "export"  # download data and reports
    EDIT = "edit"  # import layers, record versions
    REVIEW = "review"  # run plan reviews, record review opinions
    APPROVE = "approve"  # sign approvals (审批)
    ACCEPT = "accept"  # accept applications at the window (一窗受理) and handle 补正
    MANAGE_DEPARTMENT = "manage_department"  # business roles for users of one's department
    MANAGE_ACCOUNTS = "manage_accounts"  # create, disable, unlock accounts; departments
    CONFIGURE = "configure"  # system settings
    GRANT = "grant"  # grant and revoke roles
    SET_POLICY = "set_policy"  # open grades and access policies of layers
    READ_AUDIT = "read_audit"  # search and export the audit log


@dataclass(frozen=True)
class AccessRole:
    """One access role: id, names and permissions."""

    id: str
    name_zh: str
    name_en: str
    permissions: frozenset[Permission]
    admin: bool = False

    def name(self, lang: str) -> str:
        """The name in ``lang``."""
        return self.name_zh if lang == "zh" else self.name_en


P = Permission
ROLES: tuple[AccessRole, ...] = (
    AccessRole("viewer", "查看人员", "viewer", frozenset({P.READ})),
    AccessRole("editor", "编辑人员", "editor", frozenset({P.READ, P.EXPORT, P.EDIT})),
    AccessRole("clerk", "窗口受理人员", "window clerk", frozenset({P.READ, P.ACCEPT})),
    AccessRole("reviewer", "审查人员", "reviewer", frozenset({P.READ, P.EXPORT, P.REVIEW})),
    AccessRole(
        "approver", "审批人员", "approver", frozenset({P.READ, P.EXPORT, P.REVIEW, P.APPROVE})
    ),
    AccessRole(
        "dept_admin",
        "部门管理员",
        "department administrator",
        frozenset({P.READ, P.MANAGE_DEPARTMENT}),
    ),
    AccessRole(
        "sys_admin",
        "系统管理员",
        "system administrator",
        frozenset({P.MANAGE_ACCOUNTS, P.CONFIGURE}),
        admin=True,
    ),
    AccessRole(
        "sec_admin",
        "安全管理员",
        "security administrator",
        frozenset({P.GRANT, P.SET_POLICY}),
        admin=True,
    ),
    AccessRole(
        "audit_admin", "审计管理员", "audit administrator", frozenset({P.READ_AUDIT}), admin=True
    ),
)
del P

_BY_ID = {r.id: r for r in ROLES}

#: The three administrator roles of 三员分立; a user holds at most one of them.
ADMIN_ROLES = frozenset(r.id for r in ROLES if r.admin)


def get_access_role(role_id: str) -> AccessRole:
    """The role called ``role_id``; :class:`ConfigError` lists the known ones.

    Examples
    --------
    >>> get_access_role("audit_admin").name_zh
    '审计管理员'
    """
    try:
        return _BY_ID[role_id]
    except KeyError:
        known = "、".join(f"{r.id}（{r.name_zh}）" for r in ROLES)
        raise ConfigError(
            f"Unknown role {role_id!r}.",
            fix=f"Known roles: {', '.join(_BY_ID)}.",
            message_zh=f"没有“{role_id}”这一角色。",
            fix_zh=f"可用的角色：{known}。",
        ) from None


def permissions_of(role_ids: Iterable[str]) -> frozenset[Permission]:
    """Everything the roles allow together (unknown ids are an error)."""
    out: set[Permission] = set()
    for role_id in role_ids:
        out |= get_access_role(role_id).permissions
    return frozenset(out)


def duty_conflicts(role_ids: Iterable[str]) -> list[tuple[str, str]]:
    """Why a set of roles may not be held by one user, as (Chinese, English) sentences.

    三员分立 (GB/T 22239-2019 level 3, 安全管理中心): two administrator roles together break
    it; and an administrator holds no business role, or the administrator could open data
    to themselves (a 安全管理员 who sets a layer's policy and reads it) or change what the
    audit administrator is meant to watch. Administrators and planners have separate
    accounts.

    Examples
    --------
    >>> duty_conflicts(["viewer", "editor"])
    []
    >>> [zh for zh, _ in duty_conflicts(["sys_admin", "audit_admin"])]
    ['系统管理员与审计管理员不能由同一人担任（三员分立）。']
    >>> [en for _, en in duty_conflicts(["audit_admin", "editor"])]
    ['The audit administrator may not also hold the business role editor: administrators and business users have separate accounts.']
    """
    roles = sorted({get_access_role(r) for r in role_ids}, key=lambda r: ROLES.index(r))
    admins = [r for r in roles if r.admin]
    out: list[tuple[str, str]] = []
    for i, a in enumerate(admins):
        for b in admins[i + 1 :]:
            out.append(
                (
                    f"{a.name_zh}与{b.name_zh}不能由同一人担任（三员分立）。",
                    f"One person may not be both {a.name_en} and {b.name_en} "
                    "(separation of duties).",
                )
            )
    for a in admins:
        for r in roles:
            if not r.admin:
                out.append(
                    (
                        f"{a.name_zh}不能同时担任业务角色{r.name_zh}：管理员与业务人员应分设账号"
                        "（三员分立）。",
                        f"The {a.name_en} may not also hold the business role {r.name_en}: "
                        "administrators and business users have separate accounts.",
                    )
                )
    return out
