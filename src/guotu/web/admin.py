"""The sign-in and administration pages, and the administration page's data (系统管理), one
part per administrator of 三员分立.

* ``GET /ui/login``: the sign-in page (``static/ui/login.*``); back to ``next`` (a path of
  this site) or ``/ui/`` once signed in;
* ``GET /ui/admin``: the administration page (``static/ui/admin.*``), showing each signed-in
  administrator their part.

Both pages are public (they hold no data and run no inline script); every data route below
needs its administrator's permission (:mod:`guotu.web.route_policies`):

* system administrator (``manage_accounts``):

  * ``GET /admin/accounts.json``: the accounts (name, department, roles, state), the
    departments and the role table;
  * ``POST /admin/users`` (JSON ``{"username", "display_name", "department", "password"}``):
    create a local account, without roles (the security administrator grants them);
  * ``POST /admin/users/{username}/disable``, ``…/enable``, ``…/unlock``: disable (its
    sessions end), enable, or lift a lockout after failed sign-ins;
  * ``POST /admin/departments`` (JSON ``{"id", "name", "kind", "regions"}``): add one;

* security administrator:

  * ``GET /admin/roles.json`` (``grant``): the accounts with their roles, and the role table;
  * ``PUT /admin/users/{username}/roles`` (``grant``, JSON ``{"roles": [...]}``): give an
    account exactly these roles; roles one person may not hold together are refused (400,
    the reason in Chinese);
  * ``GET /admin/policies.json`` (``set_policy``): every layer's open grade and who its
    policy lets read it, with the departments and roles a policy may name;
  * ``PUT /admin/policies/{layer}`` (``set_policy``, JSON ``{"grade", "read_departments",
    "read_roles"}``): set a layer's grade (and, when given, who may read it; what the policy
    says of exporting, editing, hidden fields and regions is kept);

* audit administrator (``read_audit``):

  * ``GET /admin/audit.json?actor=…&action=…&since=…&until=…&before_id=…&limit=…``: the audit
    log, newest first, a page at a time (``next_before_id`` pages on);
  * ``GET /admin/audit.csv`` with the same filters: every matching entry as a CSV file
    (UTF-8 with a byte-order mark, so Excel reads the Chinese; a cell that a spreadsheet
    would take for a formula is quoted with ``'``).

Changes go through :mod:`guotu.services.identity`, which audits each one with the acting
administrator's name; an administrator may not disable their own account or change their own
roles. Times are UTC, as the audit log records them.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import replace
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import FileResponse, HTMLResponse, Response
from pydantic import BaseModel, Field

from guotu.domain.access.grades import Grade
from guotu.domain.access.policy import AccessList, Action, LayerPolicy, Principal
from guotu.domain.access.records import Actor, Department, DepartmentKind, UserAccount
from guotu.domain.access.roles import ROLES, Permission
from guotu.domain.core.catalog import AuditEntry
from guotu.domain.core.roles import get_role
from guotu.errors import InputError, NotFoundError, PermissionDeniedError
from guotu.ports import FeatureStore
from guotu.services.access import policies
from guotu.services.audit import search_audit
from guotu.services.identity import (
    create_department,
    create_user,
    set_active,
    set_layer_policy,
    set_roles,
    unlock,
)
from guotu.web.deps import Who, open_store
from guotu.web.security import client_address
from guotu.web.ui import UI_DIR

__all__ = ["AUDIT_CSV_COLUMNS", "AUDIT_PAGE_MAX", "router"]

router = APIRouter(tags=["admin 系统管理"], include_in_schema=False)
Store = Annotated[FeatureStore, Depends(open_store)]
Username = Annotated[str, PathParam(min_length=1, max_length=64)]

#: Most audit entries one page of ``/admin/audit.json`` holds.
AUDIT_PAGE_MAX = 500
#: Entries read at a time while writing the CSV.
_CSV_BATCH = 5_000
#: The columns of ``/admin/audit.csv``, in order.
AUDIT_CSV_COLUMNS = (
    "id",
    "at_utc",
    "actor",
    "department",
    "address",
    "action",
    "object",
    "reason",
    "detail",
    "hash",
)
#: What a spreadsheet reads as the start of a formula (CSV injection).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    """Accounts, departments, roles, layer grades and the audit log, each part shown to its
    administrator."""
    return _page("admin.html")


# -- what is shown ---------------------------------------------------------------------------


def _day(when: datetime | None) -> str | None:
    return when.isoformat(timespec="seconds") if when is not None else None


def _departments(store: FeatureStore) -> dict[str, Department]:
    return {d.id: d for d in store.departments()}


def _is_locked(account: UserAccount, now: datetime) -> bool:
    return account.locked_until is not None and now < account.locked_until


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
        "roles": sorted(account.roles, key=_role_order),
        "source": account.source.value,
        "active": account.active,
        "locked": locked,
        "locked_until": _day(account.locked_until) if locked else None,
        "failed_sign_ins": account.failed_sign_ins,
        "state": "disabled" if not account.active else "locked" if locked else "active",
    }


def _role_order(role_id: str) -> int:
    return next((i for i, r in enumerate(ROLES) if r.id == role_id), len(ROLES))


def _roles_table() -> list[dict[str, Any]]:
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


def _department_doc(department: Department) -> dict[str, Any]:
    return {
        "id": department.id,
        "name": department.name,
        "kind": department.kind.value,
        "regions": list(department.regions),
        "active": department.active,
    }


def _users(store: FeatureStore) -> list[dict[str, Any]]:
    departments = _departments(store)
    return [_user_doc(a, departments) for a in store.users()]


def _require_account(store: FeatureStore, username: str) -> UserAccount:
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


def _not_oneself(who: Principal, username: str, en: str, zh: str) -> None:
    """Refuse an administrator acting on their own account (``en``/``zh``: what)."""
    if who.username is not None and who.username.lower() == username.lower():
        raise PermissionDeniedError(
            f"You may not {en}.",
            fix="Ask another administrator.",
            message_zh=f"不能{zh}。",
            fix_zh="请由另一位管理员操作。",
        )


def _actor(who: Principal, request: Request) -> Actor:
    """The administrator as the audit log records them: name, department, address."""
    return Actor(who.username or "-", who.department or "", client_address(request.scope))


# -- system administrator: accounts and departments -------------------------------------------


@router.get("/admin/accounts.json", summary="Accounts, departments and roles (系统管理员)")
def get_accounts(store: Store) -> dict[str, Any]:
    """Every account with its state, every department, and the role table."""
    return {
        "users": _users(store),
        "departments": [_department_doc(d) for d in store.departments()],
        "roles": _roles_table(),
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
        actor=_actor(who, request),
    )
    return {"user": _user_doc(account, _departments(store))}


def _account_answer(store: FeatureStore, username: str) -> dict[str, Any]:
    return {"user": _user_doc(_require_account(store, username), _departments(store))}


@router.post("/admin/users/{username}/disable", summary="Disable an account (系统管理员)")
def post_disable(request: Request, store: Store, who: Who, username: Username) -> dict[str, Any]:
    """Disable an account: it cannot sign in, and its sessions end."""
    account = _require_account(store, username)
    _not_oneself(who, account.username, "disable your own account", "停用自己的账号")
    set_active(store, account.username, False, actor=_actor(who, request))
    return _account_answer(store, account.username)


@router.post("/admin/users/{username}/enable", summary="Enable an account (系统管理员)")
def post_enable(request: Request, store: Store, who: Who, username: Username) -> dict[str, Any]:
    """Enable a disabled account."""
    account = _require_account(store, username)
    set_active(store, account.username, True, actor=_actor(who, request))
    return _account_answer(store, account.username)


@router.post("/admin/users/{username}/unlock", summary="Unlock an account (系统管理员)")
def post_unlock(request: Request, store: Store, who: Who, username: Username) -> dict[str, Any]:
    """Lift a lockout after failed sign-ins."""
    account = _require_account(store, username)
    unlock(store, account.username, actor=_actor(who, request))
    return _account_answer(store, account.username)


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
    create_department(store, department, actor=_actor(who, request))
    return {"department": _department_doc(_departments(store).get(department.id, department))}


# -- security administrator: roles and layer policies -----------------------------------------


@router.get("/admin/roles.json", summary="Accounts and their roles (安全管理员)")
def get_roles(store: Store) -> dict[str, Any]:
    """Every account with its roles, and the role table."""
    return {"users": _users(store), "roles": _roles_table()}


class Roles(BaseModel):
    """The roles an account is to have (exactly these)."""

    roles: list[str] = Field(max_length=len(ROLES))


@router.put("/admin/users/{username}/roles", summary="Grant roles (安全管理员)")
def put_roles(
    request: Request, store: Store, who: Who, username: Username, body: Roles
) -> dict[str, Any]:
    """Give an account exactly ``roles``; 三员分立 conflicts are refused with the reason."""
    account = _require_account(store, username)
    _not_oneself(who, account.username, "change your own roles", "修改自己的角色")
    set_roles(store, account.username, body.roles, actor=_actor(who, request))
    return _account_answer(store, account.username)


def _policy_doc(name: str, role: str, policy: LayerPolicy) -> dict[str, Any]:
    read = policy.access_list(Action.READ)
    try:
        role_zh, role_en = get_role(role).name_zh, get_role(role).name_en
    except NotFoundError:  # a layer of a role this version does not know
        role_zh = role_en = role
    return {
        "layer": name,
        "role": role,
        "role_zh": role_zh,
        "role_en": role_en,
        "grade": policy.grade.value,
        "grade_zh": policy.grade.name_zh,
        "read_departments": sorted(read.departments),
        "read_roles": sorted(read.roles, key=_role_order),
        "has_other_rules": bool(
            set(policy.lists) - {Action.READ} or policy.hidden_fields or policy.region_field
        ),
    }


@router.get("/admin/policies.json", summary="Open grades of the layers (安全管理员)")
def get_policies(store: Store) -> dict[str, Any]:
    """Each layer's open grade and who may read it, and what a policy may name."""
    found = policies(store)
    return {
        "layers": [
            _policy_doc(i.name, i.role, found.get(i.name) or LayerPolicy(i.name))
            for i in store.layers()
        ],
        "grades": [{"id": g.value, "name_zh": g.name_zh, "name_en": g.value} for g in Grade],
        "departments": [_department_doc(d) for d in store.departments()],
        "roles": _roles_table(),
    }


class PolicyChange(BaseModel):
    """A layer's new grade and, when given, who may read it (``None``: keep)."""

    grade: str = Field(min_length=1, max_length=20)
    read_departments: list[str] | None = Field(default=None, max_length=500)
    read_roles: list[str] | None = Field(default=None, max_length=len(ROLES))


@router.put("/admin/policies/{layer}", summary="Set a layer's open grade (安全管理员)")
def put_policy(
    request: Request,
    store: Store,
    who: Who,
    layer: Annotated[str, PathParam(min_length=1, max_length=200)],
    body: PolicyChange,
) -> dict[str, Any]:
    """Set the grade (and the read list) of a layer; its other rules are kept."""
    info = next((i for i in store.layers() if i.name == layer), None)
    if info is None:
        raise NotFoundError(
            f"There is no layer {layer!r} in the workspace.",
            layer=layer,
            fix="Choose a layer from the list.",
            message_zh=f"工作空间中没有图层“{layer}”。",
            fix_zh="请从列表中选择图层。",
        )
    current = policies(store).get(layer) or LayerPolicy(layer)
    read = current.access_list(Action.READ)
    if body.read_departments is not None or body.read_roles is not None:
        read = AccessList(
            roles=frozenset(body.read_roles if body.read_roles is not None else read.roles),
            departments=frozenset(
                body.read_departments if body.read_departments is not None else read.departments
            ),
        )
    lists: dict[Action, AccessList] = {
        a: lst for a, lst in current.lists.items() if a is not Action.READ
    }
    if not read.is_empty:
        lists[Action.READ] = read
    changed = replace(current, grade=Grade.parse(body.grade), lists=lists)
    set_layer_policy(store, changed, actor=_actor(who, request))
    return {"layer": _policy_doc(info.name, info.role, policies(store).get(layer) or changed)}


# -- audit administrator: the audit log -------------------------------------------------------

ActorName = Annotated[str | None, Query(max_length=200, description="Who acted (exact name)")]
AuditAction = Annotated[str | None, Query(max_length=100, description="What they did")]
Since = Annotated[datetime | None, Query(description="From this time (UTC unless an offset)")]
Until = Annotated[datetime | None, Query(description="Before this time (UTC unless an offset)")]


def _utc(when: datetime | None) -> datetime | None:
    """``when`` as UTC without a time zone, as the audit log records times."""
    if when is None or when.tzinfo is None:
        return when
    return when.astimezone(UTC).replace(tzinfo=None)


def _entry_doc(entry: AuditEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "at": entry.at,
        "actor": entry.actor,
        "department": entry.department,
        "address": entry.address,
        "action": entry.action,
        "object": entry.object,
        "reason": entry.reason,
        "detail": entry.detail,
    }


def _filters(
    actor: str | None, action: str | None, since: datetime | None, until: datetime | None
) -> dict[str, Any]:
    since, until = _utc(since), _utc(until)
    if since is not None and until is not None and until <= since:
        raise InputError(
            "The end of the time range is not after its start.",
            field="until",
            fix="Give an end time after the start time.",
            message_zh="时间范围的结束时间不晚于开始时间。",
            fix_zh="请让结束时间晚于开始时间。",
        )
    return {
        "actor": actor.strip() or None if actor else None,
        "action": action.strip() or None if action else None,
        "since": since,
        "until": until,
    }


@router.get("/admin/audit.json", summary="Search the audit log (审计管理员)")
def get_audit(
    store: Store,
    actor: ActorName = None,
    action: AuditAction = None,
    since: Since = None,
    until: Until = None,
    before_id: Annotated[int | None, Query(ge=1)] = None,
    limit: Annotated[int, Query(ge=1, le=AUDIT_PAGE_MAX)] = 100,
) -> dict[str, Any]:
    """Entries matching every filter, newest first; ``next_before_id`` gives the next page
    (``null``: this was the last)."""
    found = search_audit(
        store, **_filters(actor, action, since, until), before_id=before_id, limit=limit + 1
    )
    page = found[:limit]
    return {
        "entries": [_entry_doc(e) for e in page],
        "next_before_id": page[-1].id if len(found) > limit else None,
    }


def _cell(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text.startswith(_FORMULA_START) else text


@router.get("/admin/audit.csv", summary="Export the audit log as CSV (审计管理员)")
def get_audit_csv(
    store: Store,
    actor: ActorName = None,
    action: AuditAction = None,
    since: Since = None,
    until: Until = None,
) -> Response:
    """Every entry matching the filters, newest first, as a CSV file."""
    filters = _filters(actor, action, since, until)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(AUDIT_CSV_COLUMNS)
    before: int | None = None
    while True:
        batch = search_audit(store, **filters, before_id=before, limit=_CSV_BATCH)
        for e in batch:
            writer.writerow(
                [
                    e.id,
                    e.at,
                    *(
                        _cell(v)
                        for v in (e.actor, e.department, e.address, e.action, e.object, e.reason)
                    ),
                    _cell(e.detail) if e.detail else "",
                    e.hash,
                ]
            )
        if len(batch) < _CSV_BATCH:
            break
        before = batch[-1].id
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    return Response(
        ("\ufeff" + out.getvalue()).encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )
