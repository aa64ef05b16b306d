"""The sign-in and administration pages, and the system administrator's part of the
administration page's data (系统管理: accounts and departments).

* ``GET /ui/login``: the sign-in page (``static/ui/login.*``); back to ``next`` (a path of
  this site) or ``/ui/`` once signed in;
* ``GET /ui/admin``: the administration page (``static/ui/admin.*``), showing each signed-in
  administrator their part (三员分立).

Both pages are public (they hold no data and run no inline script); every data route needs
its administrator's permission (:mod:`guotu.web.route_policies`). The security
administrator's routes (roles, layer policies) are :mod:`guotu.web.admin_policies`, the audit
administrator's (the audit log) :mod:`guotu.web.admin_audit`. The system administrator's
(``manage_accounts``), here:

* ``GET /admin/accounts.json``: the accounts (name, department, roles, where they sign in,
  state), the departments and the role table;
* ``POST /admin/users`` (JSON ``{"username", "display_name", "department", "password"}``):
  create a local account, without roles (the security administrator grants them); its
  holder must change the password at the first sign-in;
* ``POST /admin/users/{username}/disable``, ``…/enable``, ``…/unlock``: disable (its
  sessions end), enable, or lift a lockout after failed sign-ins;
* ``POST /admin/users/{username}/password`` (JSON ``{"generate": true}`` or ``{"password",
  "password_again"}``): reset a local account's password, as ``guotu user passwd`` does: a
  generated temporary password is in this answer only (``password``), a typed one must be
  the same twice; the password rules apply, the account's sessions end, and its holder must
  change the password at the next sign-in (``/ui/password``). A directory
  (LDAP) or 统一认证 (OIDC) account's password is not kept here and is refused (400); so is
  an administrator's (403: whoever set it could act as them, against 三员分立; the
  command line, ``guotu user passwd``, remains);
* ``POST /admin/departments`` (JSON ``{"id", "name", "kind", "regions"}``): add one;
* ``PUT /admin/departments/{department}`` (JSON ``{"name", "kind", "regions", "active"}``,
  all four): change a department as ``guotu dept set`` does: its name, kind, the 行政区 code
  prefixes (乡镇) its users are limited to, and whether it is in use.

Changes go through :mod:`guotu.services.identity` (the services the CLI uses) or the store
port, audited with the acting administrator's name, department and address
(:func:`actor_of`); an administrator may not disable their own account, reset their own
password here or change their own roles. Times are UTC, as the audit log records them.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from guotu.domain.access.policy import Principal
from guotu.domain.access.records import (
    AccountSource,
    Actor,
    Department,
    DepartmentKind,
    UserAccount,
)
from guotu.domain.access.roles import ROLES, Permission
from guotu.errors import InputError, NotFoundError, PermissionDeniedError
from guotu.ports import FeatureStore
from guotu.services.identity import (
    create_department,
    create_user,
    generate_password,
    set_active,
    set_password,
    unlock,
)
from guotu.web.deps import Who, open_store
from guotu.web.security import client_address
from guotu.web.ui import UI_DIR

__all__ = [
    "Store",
    "Username",
    "account_answer",
    "actor_of",
    "department_doc",
    "not_oneself",
    "require_account",
    "role_order",
    "roles_table",
    "router",
    "users_doc",
]

router = APIRouter(tags=["admin 系统管理"], include_in_schema=False)
Store = Annotated[FeatureStore, Depends(open_store)]
Username = Annotated[str, PathParam(min_length=1, max_length=64)]
DepartmentId = Annotated[str, PathParam(min_length=1, max_length=64)]

#: Letters and digits of a temporary password that cannot be mistaken for one another when
#: read aloud or copied by hand (no 0/O, 1/l/I), as ``guotu user passwd --generate-password``.
#: Where an account other than a local one keeps its password (Chinese, English).
_KEPT_BY = {
    AccountSource.LDAP: ("目录（LDAP）", "the directory (LDAP)", "目录服务器", "the directory"),
    AccountSource.OIDC: (
        "统一认证（OIDC）",
        "OIDC (统一认证)",
        "统一认证平台",
        "the OIDC provider",
    ),
}


# -- the pages -------------------------------------------------------------------------------


def _page(name: str) -> FileResponse:
    """A page of ``static/ui`` (neither needs the npm assets)."""
    return FileResponse(
        UI_DIR / name, media_type="text/html; charset=utf-8", headers={"Cache-Control": "no-cache"}
    )


@router.get("/ui/login", response_class=HTMLResponse, summary="The sign-in page (登录)")
def login_page() -> FileResponse:
    """User name and password; then back to ``next`` (a path of this site) or ``/ui/``."""
    return _page("login.html")


@router.get("/ui/admin", response_class=HTMLResponse, summary="Administration (系统管理)")
def admin_page() -> FileResponse:
    """Accounts, departments, roles, layer policies and the audit log, each part shown to
    its administrator."""
    return _page("admin.html")


# -- what every part shows, and who acts ------------------------------------------------------


def _day(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when is not None else None


def _departments(store: FeatureStore) -> dict[str, Department]:
    return {d.id: d for d in store.departments()}


def _is_locked(account: UserAccount, now: datetime) -> bool:
    return account.locked_until is not None and now < account.locked_until


def role_order(role_id: str) -> int:
    """The position of a role in the role table (unknown roles last)."""
    return next((i for i, r in enumerate(ROLES) if r.id == role_id), len(ROLES))


def _user_doc(account: UserAccount, departments: dict[str, Department]) -> dict[str, Any]:
    """An account as the page lists it (never its hash)."""
    now = datetime.now(UTC).replace(tzinfo=None)
    department = departments.get(account.department or "")
    locked = _is_locked(account, now)
    return {
        "username": account.username,
        "display_name": account.display_name,
        "department": (
            {"id": department.id, "name": department.name}
            if department is not None
            else (
                {"id": account.department, "name": account.department}
                if account.department
                else None
            )
        ),
        "roles": sorted(account.roles, key=role_order),
        "source": account.source.value,
        "active": account.active,
        "locked": locked,
        "locked_until": _day(account.locked_until) if locked else None,
        "failed_sign_ins": account.failed_sign_ins,
        "state": "disabled" if not account.active else "locked" if locked else "active",
    }


def roles_table() -> list[dict[str, Any]]:
    """The access roles with their names and permissions."""
    return [
        {
            "id": r.id,
            "name_zh": r.name_zh,
            "name_en": r.name_en,
            "admin": r.admin,
            "permissions": [p.value for p in Permission if p in r.permissions],
        }
        for r in ROLES
    ]


def department_doc(department: Department) -> dict[str, Any]:
    """A department as the page lists it."""
    return {
        "id": department.id,
        "name": department.name,
        "kind": department.kind.value,
        "regions": list(department.regions),
        "active": department.active,
    }


def users_doc(store: FeatureStore) -> list[dict[str, Any]]:
    """Every account as the page lists it."""
    departments = _departments(store)
    return [_user_doc(a, departments) for a in store.users()]


def require_account(store: FeatureStore, username: str) -> UserAccount:
    """The account ``username``; :class:`NotFoundError` (404) when there is none."""
    account = store.user(username)
    if account is None:
        raise NotFoundError(
            f"There is no user {username!r}.",
            field="username",
            fix="Choose a user from the list.",
            message_zh=f"没有用户“{username}”。",
            fix_zh="请从列表中选择用户。",
        )
    return account


def account_answer(store: FeatureStore, username: str) -> dict[str, Any]:
    """The answer of a change to an account: the account as it now is."""
    return {"user": _user_doc(require_account(store, username), _departments(store))}


def not_oneself(who: Principal, username: str, en: str, zh: str) -> None:
    """Refuse an administrator acting on their own account (``en``/``zh``: what)."""
    if who.username is not None and who.username.lower() == username.lower():
        raise PermissionDeniedError(
            f"You may not {en}.",
            fix="Ask another administrator.",
            message_zh=f"不能{zh}。",
            fix_zh="请由另一位管理员操作。",
        )


def actor_of(who: Principal, request: Request) -> Actor:
    """The administrator as the audit log records them: name, department, address."""
    return Actor(who.username or "-", who.department or "", client_address(request.scope))


# -- accounts -----------------------------------------------------------------------------------


@router.get("/admin/accounts.json", summary="Accounts, departments and roles (系统管理员)")
def get_accounts(store: Store) -> dict[str, Any]:
    """Every account with its state, every department, and the role table."""
    return {
        "users": users_doc(store),
        "departments": [department_doc(d) for d in store.departments()],
        "roles": roles_table(),
    }


class NewUser(BaseModel):
    """A local account to create (without roles: the security administrator grants them)."""

    username: str = Field(min_length=1, max_length=64)
    display_name: str = Field(min_length=1, max_length=100)
    department: str | None = Field(default=None, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


@router.post("/admin/users", status_code=201, summary="Create an account (系统管理员)")
def post_user(request: Request, store: Store, who: Who, body: NewUser) -> dict[str, Any]:
    """Create a local account with its password and no roles."""
    account = create_user(
        store,
        username=body.username,
        display_name=body.display_name,
        department=body.department or None,
        roles=[],
        password=body.password,
        actor=actor_of(who, request),
        hashing=request.app.state.hashing,
        temporary=True,  # the administrator's: its holder changes it at the first sign-in
    )
    return {"user": _user_doc(account, _departments(store))}


@router.post("/admin/users/{username}/disable", summary="Disable an account (系统管理员)")
def post_disable(request: Request, store: Store, who: Who, username: Username) -> dict[str, Any]:
    """Disable an account: it cannot sign in, and its sessions end."""
    account = require_account(store, username)
    not_oneself(who, account.username, "disable your own account", "停用自己的账号")
    set_active(store, account.username, False, actor=actor_of(who, request))
    return account_answer(store, account.username)


@router.post("/admin/users/{username}/enable", summary="Enable an account (系统管理员)")
def post_enable(request: Request, store: Store, who: Who, username: Username) -> dict[str, Any]:
    """Enable a disabled account."""
    account = require_account(store, username)
    set_active(store, account.username, True, actor=actor_of(who, request))
    return account_answer(store, account.username)


@router.post("/admin/users/{username}/unlock", summary="Unlock an account (系统管理员)")
def post_unlock(request: Request, store: Store, who: Who, username: Username) -> dict[str, Any]:
    """Lift a lockout after failed sign-ins."""
    account = require_account(store, username)
    unlock(store, account.username, actor=actor_of(who, request))
    return account_answer(store, account.username)


class PasswordReset(BaseModel):
    """A local account's new password: generated (``generate``), or typed twice."""

    model_config = ConfigDict(extra="forbid")

    generate: bool = False
    password: str | None = Field(default=None, max_length=1024)
    password_again: str | None = Field(default=None, max_length=1024)


def _not_an_administrator(account: UserAccount) -> None:
    """Refuse to reset an administrator's password here: whoever knew it could act as them,
    and one person would hold two of the three duties (三员分立)."""
    held = [r for r in ROLES if r.admin and r.id in account.roles]
    if held:
        raise PermissionDeniedError(
            f"User {account.username!r} holds the {held[0].name_en} role: an administrator's "
            "password is not reset by another administrator (separation of duties).",
            field="username",
            fix="The administrator changes it on the server: guotu user passwd (audited).",
            message_zh=f"用户“{account.username}”担任{held[0].name_zh}：管理员的密码不能由另一位"
            "管理员在此重置（三员分立）。",
            fix_zh="请在服务器上用 guotu user passwd 修改（记入审计日志）。",
        )


def _new_password(body: PasswordReset, username: str) -> str:
    """The password ``body`` asks for (generated, or typed the same twice)."""
    typed = body.password or body.password_again
    if body.generate:
        if typed:
            raise InputError(
                "Either generate a password or type one, not both.",
                field="password",
                fix="Leave the password fields empty to generate one.",
                message_zh="不能既生成临时密码又填写密码。",
                fix_zh="生成临时密码时请不要填写密码。",
            )
        return generate_password(username)
    if not body.password:
        raise InputError(
            "No new password was given.",
            field="password",
            fix="Type the new password twice, or generate a temporary one.",
            message_zh="没有填写新密码。",
            fix_zh="请输入两次新密码，或选择生成临时密码。",
        )
    if body.password != body.password_again:
        raise InputError(
            "The two passwords typed differ.",
            field="password_again",
            fix="Type the same password twice.",
            message_zh="两次输入的密码不一致。",
            fix_zh="请两次输入相同的密码。",
        )
    return body.password


@router.post("/admin/users/{username}/password", summary="Reset a password (系统管理员)")
def post_password(
    request: Request, store: Store, who: Who, username: Username, body: PasswordReset
) -> JSONResponse:
    """Reset a local account's password (the password rules apply; its sessions end); a
    generated one is in this answer only."""
    account = require_account(store, username)
    not_oneself(who, account.username, "reset your own password here", "在此重置自己的密码")
    if account.source is not AccountSource.LOCAL:
        kind_zh, kind_en, keeper_zh, keeper_en = _KEPT_BY[account.source]
        raise InputError(
            f"User {account.username!r} signs in through {kind_en}: the password is kept by "
            f"{keeper_en}, not by guotu.",
            field="username",
            fix=f"Reset the password in {keeper_en}.",
            message_zh=f"用户“{account.username}”是{kind_zh}账号，密码由{keeper_zh}保管，"
            "不能在本系统重置。",
            fix_zh=f"请在{keeper_zh}中重置该用户的密码。",
        )
    _not_an_administrator(account)
    password = _new_password(body, account.username)
    set_password(
        store,
        account.username,
        password,
        actor=actor_of(who, request),
        hashing=request.app.state.hashing,
        temporary=True,  # the holder changes it at the next sign-in
    )
    answer = account_answer(store, account.username)
    if body.generate:
        answer["password"] = password
    return JSONResponse(answer, headers={"Cache-Control": "no-store"})


# -- departments ---------------------------------------------------------------------------------


class NewDepartment(BaseModel):
    """A department to add."""

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=100)
    kind: DepartmentKind = DepartmentKind.INTERNAL
    regions: list[str] = Field(default_factory=list, max_length=100)


@router.post("/admin/departments", status_code=201, summary="Add a department (系统管理员)")
def post_department(
    request: Request, store: Store, who: Who, body: NewDepartment
) -> dict[str, Any]:
    """Add a department (its id, name, kind and the 行政区 code prefixes it covers)."""
    department = Department(
        body.id.strip(),
        body.name.strip(),
        body.kind,
        tuple(r.strip() for r in body.regions if r.strip()),
    )
    create_department(store, department, actor=actor_of(who, request))
    return {"department": department_doc(_departments(store).get(department.id, department))}


class DepartmentChange(BaseModel):
    """A department's new name, kind, regions and whether it is in use (all four)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    kind: DepartmentKind
    regions: list[str] = Field(max_length=100)
    active: bool


def _regions(values: list[str]) -> tuple[str, ...]:
    """行政区 code prefixes, blanks and repeats dropped; anything but digits refused."""
    regions = tuple(dict.fromkeys(v.strip() for v in values if v.strip()))
    bad = [r for r in regions if not r.isdigit()]
    if bad:
        raise InputError(
            f"Regions must be 行政区 code prefixes (digits): {', '.join(bad)}.",
            field="regions",
            fix="Give the codes of the 行政区 the department covers, e.g. 370999101.",
            message_zh=f"辖区须为行政区代码（数字）的前缀：{'、'.join(bad)}。",
            fix_zh="请填写该部门所辖行政区的代码，如 370999101（乡镇）；留空表示全域。",
        )
    return regions


@router.put("/admin/departments/{department}", summary="Change a department (系统管理员)")
def put_department(
    request: Request, store: Store, who: Who, department: DepartmentId, body: DepartmentChange
) -> dict[str, Any]:
    """Change a department's name, kind, regions (the 行政区 its users are limited to) and
    whether it is in use; ``changed`` says whether anything was recorded."""
    before = _departments(store).get(department)
    if before is None:
        raise NotFoundError(
            f"There is no department {department!r}.",
            field="department",
            fix="Choose a department from the list.",
            message_zh=f"没有部门“{department}”。",
            fix_zh="请从列表中选择部门。",
        )
    if not body.name.strip():
        raise InputError(
            "The department name is empty.",
            field="name",
            fix="Give a name.",
            message_zh="部门名称为空。",
            fix_zh="请填写名称。",
        )
    after = replace(
        before,
        name=body.name.strip(),
        kind=body.kind,
        regions=_regions(body.regions),
        active=body.active,
    )
    if after != before:
        store.put_department(after, **actor_of(who, request).keywords())
    found = _departments(store).get(department, after)
    return {"department": department_doc(found), "changed": after != before}
