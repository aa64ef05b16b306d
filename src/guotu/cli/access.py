"""Departments and roles: ``guotu dept add|list|set``, ``guotu role list``.

Layer policies are :mod:`guotu.cli.policies` (``guotu policy …``), accounts
:mod:`guotu.cli.accounts` (``guotu user …``) and :mod:`guotu.cli.admin` (``guotu admin init``),
access tokens :mod:`guotu.cli.tokens`, the audit log :mod:`guotu.cli.audit`. What these commands share lives
here: names of roles and permissions in the run's language, who an access list names
(:func:`parse_who`), and record times shown in local time (:func:`local_time`).

Who may run them is :mod:`guotu.cli.principal`'s: on a GeoPackage (and a database without
sign-in) whoever may change the workspace administers it; signed in to a database, each
command needs its administrator's permission (三员分立): departments the system
administrator's. The audit log records the principal as the actor.

Exit codes: 0 done, 2 bad input (a message naming the field and the fix), 3 environment or
store error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime

import click
from rich.table import Table

from guotu.cli.base import (
    Context,
    console,
    emit_json,
    json_option,
    lang_option,
    pass_context,
    root,
    workspace_option,
)
from guotu.cli.principal import PERMISSION_ZH, open_as
from guotu.domain.access.policy import AccessList
from guotu.domain.access.records import Department, DepartmentKind
from guotu.domain.access.roles import ROLES, Permission, duty_conflicts
from guotu.errors import InputError, NotFoundError
from guotu.ports import FeatureStore
from guotu.services.identity import create_department

__all__ = [
    "department_names",
    "local_time",
    "parse_who",
    "role_names",
    "who_text",
]

_ROLE_BY_ID = {r.id: r for r in ROLES}
_KIND_ZH = {DepartmentKind.INTERNAL: "内部", DepartmentKind.EXTERNAL: "外部"}


def local_time(when: datetime | str | None) -> str:
    """A record time as the store keeps it (UTC, naive) in this machine's time, to the second.

    Examples
    --------
    >>> local_time(None)
    '—'
    """
    if when is None or when == "":
        return "—"
    moment = datetime.fromisoformat(when) if isinstance(when, str) else when
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S")


def role_names(role_ids: Iterable[str], lang: str) -> str:
    """Role ids as a person reads them (``查看人员、审查人员``; unknown ids as they are)."""
    ids = sorted(role_ids, key=lambda r: [x.id for x in ROLES].index(r) if r in _ROLE_BY_ID else 99)
    names = [_ROLE_BY_ID[r].name(lang) if r in _ROLE_BY_ID else r for r in ids]
    return ("、" if lang == "zh" else ", ").join(names) or "—"


def department_names(store: FeatureStore) -> dict[str, str]:
    """Department id → name."""
    return {d.id: d.name for d in store.departments()}


def who_text(access: AccessList, departments: dict[str, str], lang: str) -> str:
    """The roles and departments an access list names, as a person reads them."""
    parts = [role_names(access.roles, lang)] if access.roles else []
    parts += [departments.get(d, d) for d in sorted(access.departments)]
    return ("、" if lang == "zh" else ", ").join(parts) or "—"


def _split(values: Iterable[str]) -> list[str]:
    """Repeated and comma-separated values (``--role a --role b,c``), blanks dropped."""
    return [v.strip() for text in values for v in text.replace("，", ",").split(",") if v.strip()]


def parse_who(values: Iterable[str], departments: Iterable[str], option: str) -> AccessList:
    """The roles and departments ``values`` name: a role id, a department id, or either
    written ``role:ID`` / ``dept:ID`` (``角色:ID`` / ``部门:ID``) where one id is both.

    Raises
    ------
    InputError
        A name that is neither a role nor a department of the workspace.
    """
    known = set(departments)
    roles: set[str] = set()
    depts: set[str] = set()
    unknown: list[str] = []
    for value in _split(values):
        kind, _, name = value.replace("：", ":").partition(":")
        kind = {"角色": "role", "部门": "dept"}.get(kind, kind)
        if name and kind in ("role", "dept"):
            if kind == "role" and name in _ROLE_BY_ID:
                roles.add(name)
            elif kind == "dept" and name in known:
                depts.add(name)
            else:
                unknown.append(value)
        elif value in _ROLE_BY_ID:
            roles.add(value)
        elif value in known:
            depts.add(value)
        else:
            unknown.append(value)
    if unknown:
        role_list = "、".join(f"{r.id}（{r.name_zh}）" for r in ROLES)
        dept_list = "、".join(sorted(known)) or "暂无"
        raise InputError(
            f"{option}: {', '.join(unknown)} is neither a role nor a department of the workspace.",
            field=option,
            fix=f"Roles: {', '.join(_ROLE_BY_ID)}; departments: {', '.join(sorted(known)) or 'none'} "
            "(guotu dept list; guotu dept add creates one).",
            message_zh=f"{option} 中的 {'、'.join(unknown)} 既不是角色，也不是工作空间中的部门。",
            fix_zh=f"可用的角色：{role_list}；部门：{dept_list}（见 guotu dept list，"
            "可用 guotu dept add 新建）。",
        )
    return AccessList(frozenset(roles), frozenset(depts))


def _kind(text: str) -> DepartmentKind:
    value = text.strip().lower()
    for kind, zh in _KIND_ZH.items():
        if value in (kind.value, zh):
            return kind
    raise InputError(
        f"Unknown department kind {text!r}.",
        field="--kind",
        fix="Use internal (inside the government) or external (a design institute …).",
        message_zh=f"没有“{text}”这一部门类型（--kind）。",
        fix_zh="请用 内部（internal，政府内部门）或 外部（external，设计单位等）。",
    )


def _regions(values: Sequence[str]) -> tuple[str, ...]:
    regions = tuple(dict.fromkeys(_split(values)))
    bad = [r for r in regions if not r.isdigit()]
    if bad:
        raise InputError(
            f"--region takes 行政区 code prefixes (digits): {', '.join(bad)}.",
            field="--region",
            fix="Give the codes of the 行政区 the department covers, e.g. 370999101.",
            message_zh=f"--region 须为行政区代码（数字）的前缀：{'、'.join(bad)}。",
            fix_zh="请填写该部门所辖行政区的代码，如 370999101。",
        )
    return regions


def _require_department(store: FeatureStore, dept_id: str) -> Department:
    found = next((d for d in store.departments() if d.id == dept_id), None)
    if found is None:
        known = [d.id for d in store.departments()]
        raise NotFoundError(
            f"There is no department {dept_id!r}.",
            field="id",
            fix=f"Departments: {', '.join(known) or 'none yet'} (guotu dept add creates one).",
            message_zh=f"没有部门“{dept_id}”。",
            fix_zh=f"现有部门：{'、'.join(known) or '暂无'}（可用 guotu dept add 新建）。",
        )
    return found


def _department_dict(d: Department) -> dict[str, object]:
    return {
        "id": d.id,
        "name": d.name,
        "kind": d.kind.value,
        "regions": list(d.regions),
        "active": d.active,
        "recorded_at": d.recorded_at,
    }


# -- guotu dept ----------------------------------------------------------------------------------
@root.group("dept")
def dept_group() -> None:
    """Departments (部门): 科室, 委办局, 乡镇政府, 设计单位."""


@dept_group.command("add")
@click.argument("dept_id")
@workspace_option()
@click.option("--name", required=True, help="The department's name, e.g. 耕地保护科.")
@click.option(
    "--kind",
    default="internal",
    show_default=True,
    metavar="KIND",
    help="internal (inside the government) or external (a design institute, a contractor).",
)
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="CODE",
    help="行政区 code prefix the department is limited to (a 乡镇: 370999101); repeatable.",
)
@lang_option
@pass_context
def dept_add(
    ctx: Context, dept_id: str, workspace: str, name: str, kind: str, regions: tuple[str, ...]
) -> None:
    """Create a department."""
    department = Department(dept_id.strip(), name.strip(), _kind(kind), _regions(regions))
    with open_as(workspace) as (store, who):
        who.require_admin(Permission.MANAGE_ACCOUNTS)
        create_department(store, department, actor=who.actor)
    click.echo(
        ctx.t(
            f"已新建部门 {department.id}（{department.name}）。",
            f"Department {department.id} ({department.name}) created.",
        )
    )


@dept_group.command("list")
@workspace_option()
@json_option
@lang_option
@pass_context
def dept_list(ctx: Context, workspace: str, as_json: bool) -> None:
    """List the departments with their kind, regions and number of users."""
    with open_as(workspace) as (store, who):
        who.require_admin(Permission.MANAGE_ACCOUNTS, Permission.GRANT, Permission.SET_POLICY)
        departments = store.departments()
        users = store.users()
    members = {d.id: sum(1 for u in users if u.department == d.id) for d in departments}
    if as_json:
        emit_json([{**_department_dict(d), "users": members[d.id]} for d in departments])
        return
    table = Table()
    for head in (
        ctx.t("编号", "Id"),
        ctx.t("名称", "Name"),
        ctx.t("类型", "Kind"),
        ctx.t("辖区", "Regions"),
        ctx.t("用户数", "Users"),
        ctx.t("状态", "Status"),
    ):
        table.add_column(head)
    for d in departments:
        table.add_row(
            d.id,
            d.name,
            _KIND_ZH[d.kind] if ctx.lang == "zh" else d.kind.value,
            "、".join(d.regions) or ctx.t("全域", "all"),
            str(members[d.id]),
            ctx.t("正常", "active") if d.active else ctx.t("已停用", "inactive"),
        )
    console().print(table)


@dept_group.command("set")
@click.argument("dept_id")
@workspace_option()
@click.option("--name", help="New name.")
@click.option("--kind", metavar="KIND", help="internal or external.")
@click.option(
    "--region",
    "regions",
    multiple=True,
    metavar="CODE",
    help="Replace the regions with these 行政区 code prefixes (repeatable).",
)
@click.option("--no-regions", is_flag=True, help="Remove every region (the whole workspace).")
@click.option("--active/--inactive", default=None, help="Keep the department in use, or not.")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@lang_option
@pass_context
def dept_set(
    ctx: Context,
    dept_id: str,
    workspace: str,
    name: str | None,
    kind: str | None,
    regions: tuple[str, ...],
    no_regions: bool,
    active: bool | None,
    reason: str,
) -> None:
    """Change a department's name, kind, regions or whether it is in use."""
    if regions and no_regions:
        raise InputError(
            "--region and --no-regions contradict each other.",
            field="--no-regions",
            fix="Give one of them.",
            message_zh="--region 与 --no-regions 不能同时使用。",
            fix_zh="请只用其中一个。",
        )
    if name is not None and not name.strip():
        raise InputError(
            "The department name is empty.",
            field="--name",
            fix="Give a name.",
            message_zh="部门名称（--name）为空。",
            fix_zh="请填写名称。",
        )
    new_kind = _kind(kind) if kind is not None else None
    new_regions = () if no_regions else _regions(regions) if regions else None
    with open_as(workspace) as (store, who):
        who.require_admin(Permission.MANAGE_ACCOUNTS)
        before = _require_department(store, dept_id)
        after = replace(
            before,
            name=name.strip() if name is not None else before.name,
            kind=new_kind or before.kind,
            regions=before.regions if new_regions is None else new_regions,
            active=before.active if active is None else active,
        )
        if after != before:
            store.put_department(after, **who.actor.keywords(), reason=reason)
    if after == before:
        click.echo(ctx.t(f"部门 {dept_id} 没有变化。", f"Department {dept_id} is unchanged."))
        return
    click.echo(ctx.t(f"已修改部门 {dept_id}（{after.name}）。", f"Department {dept_id} changed."))


# -- guotu role ----------------------------------------------------------------------------------
def _separation_rule(lang: str) -> str:
    admins = [r for r in ROLES if r.admin]
    changing = [r for r in ROLES if not r.admin and duty_conflicts(["audit_admin", r.id])]
    if lang == "zh":
        return (
            f"三员分立：{'、'.join(r.name_zh for r in admins)}须由不同的人担任，一人至多担任"
            f"其中之一；审计管理员不能同时担任可修改数据或用户的角色（"
            f"{'、'.join(r.name_zh for r in changing)}）。任何角色都不能修改或删除审计日志。"
        )
    return (
        f"Separation of duties (三员分立): the {', '.join(r.name_en for r in admins)} are "
        "different people, one person holds at most one of these roles; the audit "
        "administrator holds no role that changes data or users "
        f"({', '.join(r.name_en for r in changing)}). No role can change or delete the audit log."
    )


@root.group("role")
def role_group() -> None:
    """Access roles (角色) and what each may do."""


@role_group.command("list")
@json_option
@lang_option
@pass_context
def role_list(ctx: Context, as_json: bool) -> None:
    """The access roles with their permissions, and the separation of duties (三员分立)."""
    if as_json:
        emit_json(
            {
                "roles": [
                    {
                        "id": r.id,
                        "name_zh": r.name_zh,
                        "name_en": r.name_en,
                        "admin": r.admin,
                        "permissions": [p.value for p in Permission if p in r.permissions],
                    }
                    for r in ROLES
                ],
                "separation_of_duties": {
                    "zh": _separation_rule("zh"),
                    "en": _separation_rule("en"),
                },
            }
        )
        return
    table = Table()
    for head in (
        ctx.t("角色", "Role"),
        ctx.t("名称", "Name"),
        ctx.t("类别", "Kind"),
        ctx.t("权限", "Permissions"),
    ):
        table.add_column(head)
    for r in ROLES:
        perms = [p for p in Permission if p in r.permissions]
        table.add_row(
            r.id,
            r.name(ctx.lang),
            ctx.t("管理员", "administrator") if r.admin else ctx.t("业务", "business"),
            "、".join(PERMISSION_ZH[p] for p in perms)
            if ctx.lang == "zh"
            else ", ".join(p.value for p in perms),
        )
    console().print(table)
    click.echo(_separation_rule(ctx.lang))
