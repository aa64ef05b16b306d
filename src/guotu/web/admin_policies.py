"""The security administrator's part of the administration page (安全管理员): roles, and the
layers' open grades and access policies. The page itself is :mod:`guotu.web.admin`.

* ``GET /admin/roles.json`` (``grant``): the accounts with their roles, and the role table;
* ``PUT /admin/users/{username}/roles`` (``grant``, JSON ``{"roles": [...]}``): give an
  account exactly these roles; roles one person may not hold together are refused (400, the
  reason in Chinese); an administrator may not change their own;
* ``GET /admin/policies.json`` (``set_policy``): every layer's policy (the layers of the
  workspace, and those with a policy set before their import), with the departments, roles
  and grades a policy may name;
* ``PUT /admin/policies/{layer}`` (``set_policy``): **replace** a layer's policy, as ``guotu
  policy set`` does. JSON, every part given (an empty list names nobody), so a client that
  knows only the grade cannot drop hidden fields by leaving them out::

      {"grade": "受限",
       "lists": {"read": {"roles": ["reviewer"], "departments": ["gengdi"]},
                 "export": {"roles": [], "departments": ["gengdi"]},
                 "edit": {"roles": [], "departments": []}},
       "hidden_fields": {"QLRMC": {"roles": [], "departments": ["queren"]}},
       "region_field": "XZQDM"}

  ``lists``: who may read, export and edit (role and department ids); ``hidden_fields``:
  fields shown only to the roles and departments named (nobody, when none); ``region_field``:
  the 行政区 code field that limits a user whose department covers part of the county (a
  乡镇) to their own rows (``null``: none). An unknown role or department, or a field the
  layer does not have, is refused (400) naming the field of the request and the fix, and
  nothing is written. A policy may be set for a layer not yet imported (it applies on
  arrival); the answer's ``notes`` say so, and when a 受限 layer names no reader.

Changes go through :mod:`guotu.services.identity`, audited with the administrator's name,
department and address.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Request
from fastapi import Path as PathParam
from pydantic import BaseModel, ConfigDict, Field

from guotu.domain.access.grades import Grade
from guotu.domain.access.policy import AccessList, Action, LayerPolicy
from guotu.domain.access.roles import ROLES
from guotu.domain.core.catalog import LayerInfo
from guotu.domain.core.roles import get_role
from guotu.errors import ConfigError, InputError, NotFoundError
from guotu.ports import FeatureStore
from guotu.services.access import policies
from guotu.services.identity import set_layer_policy, set_roles
from guotu.web.admin import (
    Store,
    Username,
    account_answer,
    actor_of,
    department_doc,
    not_oneself,
    require_account,
    role_order,
    roles_table,
    users_doc,
)
from guotu.web.deps import Who
from guotu.web.errors import choose_lang

__all__ = ["router"]

router = APIRouter(tags=["admin 系统管理"], include_in_schema=False)
LayerName = Annotated[str, PathParam(min_length=1, max_length=200)]

#: The actions of a policy's lists as the page names them (Chinese, English).
_ACTION_WORDS = {
    Action.READ: ("查看", "read"),
    Action.EXPORT: ("导出", "export"),
    Action.EDIT: ("编辑", "edit"),
}


# -- roles ------------------------------------------------------------------------------------


@router.get("/admin/roles.json", summary="Accounts and their roles (安全管理员)")
def get_roles(store: Store) -> dict[str, Any]:
    """Every account with its roles, and the role table."""
    return {"users": users_doc(store), "roles": roles_table()}


class Roles(BaseModel):
    """The roles an account is to have (exactly these)."""

    roles: list[str] = Field(max_length=len(ROLES))


@router.put("/admin/users/{username}/roles", summary="Grant roles (安全管理员)")
def put_roles(
    request: Request, store: Store, who: Who, username: Username, body: Roles
) -> dict[str, Any]:
    """Give an account exactly ``roles``; 三员分立 conflicts are refused with the reason."""
    account = require_account(store, username)
    not_oneself(who, account.username, "change your own roles", "修改自己的角色")
    set_roles(store, account.username, body.roles, actor=actor_of(who, request))
    return account_answer(store, account.username)


# -- what a policy says ------------------------------------------------------------------------


def _list_doc(named: AccessList) -> dict[str, list[str]]:
    return {"roles": sorted(named.roles, key=role_order), "departments": sorted(named.departments)}


def _role_names(role: str) -> tuple[str, str]:
    """A layer role's Chinese and English names (its id, for a role this version does not
    know)."""
    try:
        found = get_role(role)
    except NotFoundError:
        return role, role
    return found.name_zh, found.name_en


def _policy_doc(
    name: str, info: LayerInfo | None, policy: LayerPolicy, recorded: bool
) -> dict[str, Any]:
    role_zh, role_en = _role_names(info.role) if info is not None else ("", "")
    return {
        "layer": name,
        "imported": info is not None,
        "recorded": recorded,
        "role": info.role if info is not None else None,
        "role_zh": role_zh,
        "role_en": role_en,
        "columns": list(info.columns) if info is not None else [],
        "grade": policy.grade.value,
        "grade_zh": policy.grade.name_zh,
        "lists": {a.value: _list_doc(policy.access_list(a)) for a in Action},
        "hidden_fields": {f: _list_doc(a) for f, a in sorted(policy.hidden_fields.items())},
        "region_field": policy.region_field,
    }


@router.get("/admin/policies.json", summary="Access policies of the layers (安全管理员)")
def get_policies(store: Store) -> dict[str, Any]:
    """Each layer's policy (a layer without one is 内部), and what a policy may name."""
    found = policies(store)
    layers = {i.name: i for i in store.layers()}
    names = [*layers, *sorted(set(found) - set(layers))]
    return {
        "layers": [
            _policy_doc(n, layers.get(n), found.get(n) or LayerPolicy(n), n in found) for n in names
        ],
        "grades": [{"id": g.value, "name_zh": g.name_zh, "name_en": g.value} for g in Grade],
        "departments": [department_doc(d) for d in store.departments()],
        "roles": roles_table(),
    }


# -- setting a policy ---------------------------------------------------------------------------


class Named(BaseModel):
    """The role ids and department ids an access list names."""

    model_config = ConfigDict(extra="forbid")

    roles: list[str] = Field(default_factory=list, max_length=len(ROLES))
    departments: list[str] = Field(default_factory=list, max_length=500)


class PolicyLists(BaseModel):
    """Who may read, export and edit the layer."""

    model_config = ConfigDict(extra="forbid")

    read: Named = Field(default_factory=Named)
    export: Named = Field(default_factory=Named)
    edit: Named = Field(default_factory=Named)


class PolicyChange(BaseModel):
    """A layer's whole new policy: every part is required (an empty list names nobody)."""

    model_config = ConfigDict(extra="forbid")

    grade: str = Field(min_length=1, max_length=20)
    lists: PolicyLists
    hidden_fields: dict[str, Named] = Field(max_length=200)
    region_field: str | None = Field(max_length=100)


def _access_list(
    named: Named, where: str, what: tuple[str, str], departments: dict[str, str]
) -> AccessList:
    """``named`` as an access list; an unknown role or department is refused, naming
    ``where`` (the request's field) and ``what`` (the list, in Chinese and English)."""
    known_roles = {r.id for r in ROLES}
    roles = {r.strip() for r in named.roles if r.strip()}
    unknown = sorted(roles - known_roles)
    if unknown:
        listed = "、".join(f"{r.id}（{r.name_zh}）" for r in ROLES)
        raise InputError(
            f"Unknown role(s) in {what[1]}: {', '.join(unknown)}.",
            field=f"{where}.roles",
            fix=f"Known roles: {', '.join(r.id for r in ROLES)}.",
            message_zh=f"{what[0]}中没有这些角色：{'、'.join(unknown)}。",
            fix_zh=f"可用的角色：{listed}。",
        )
    depts = {d.strip() for d in named.departments if d.strip()}
    unknown = sorted(depts - set(departments))
    if unknown:
        listed = "、".join(f"{d}（{n}）" for d, n in departments.items()) or "暂无"
        raise InputError(
            f"Unknown department(s) in {what[1]}: {', '.join(unknown)}.",
            field=f"{where}.departments",
            fix=f"Departments: {', '.join(departments) or 'none yet'}; the system "
            "administrator adds new ones.",
            message_zh=f"{what[0]}中有不存在的部门：{'、'.join(unknown)}。",
            fix_zh=f"现有部门：{listed}；新部门请由系统管理员在“账号与部门”中添加。",
        )
    return AccessList(frozenset(roles), frozenset(depts))


def _require_column(
    layer: str, info: LayerInfo | None, column: str, where: str, what: tuple[str, str]
) -> None:
    """Refuse a field the (imported) layer does not have; any name before its import."""
    if info is None or column in info.columns:
        return
    columns = list(info.columns)
    raise InputError(
        f"The {what[1]} {column!r} is not a field of layer {layer!r}.",
        layer=layer,
        field=where,
        fix=f"The layer's fields: {', '.join(columns)}; check the spelling.",
        message_zh=f"{what[0]}“{column}”不是图层“{layer}”的字段。",
        fix_zh=f"该图层的字段：{'、'.join(columns)}；请检查拼写（字段名区分大小写）。",
    )


def _policy_of(
    layer: str, body: PolicyChange, info: LayerInfo | None, departments: dict[str, str]
) -> LayerPolicy:
    """The policy ``body`` describes, every name checked (nothing is written on a refusal)."""
    try:
        grade = Grade.parse(body.grade)
    except ConfigError as exc:
        exc.field = "grade"
        raise
    lists = {}
    for action in Action:
        zh, en = _ACTION_WORDS[action]
        named = _access_list(
            getattr(body.lists, action.value),
            f"lists.{action}",
            (f"“{zh}”名单", f"the {en} list"),
            departments,
        )
        if not named.is_empty:
            lists[action] = named
    hidden: dict[str, AccessList] = {}
    for raw, named_by in body.hidden_fields.items():
        column = raw.strip()
        if not column:
            raise InputError(
                "A hidden field has no name.",
                field="hidden_fields",
                fix="Give the field's name, or remove the row.",
                message_zh="有一个隐藏字段没有填写字段名。",
                fix_zh="请填写字段名，或删除该行。",
            )
        where = f"hidden_fields.{column}"
        _require_column(layer, info, column, where, ("要隐藏的字段", "hidden field"))
        hidden[column] = _access_list(
            named_by,
            where,
            (f"隐藏字段 {column} 的可见名单", f"the list of who sees {column}"),
            departments,
        )
    region = (body.region_field or "").strip() or None
    if region is not None:
        _require_column(layer, info, region, "region_field", ("行政区字段", "region field"))
    return LayerPolicy(layer, grade, lists, hidden, region)


def _notes(policy: LayerPolicy, info: LayerInfo | None, lang: str) -> list[str]:
    """What the administrator should know about a policy just set."""
    notes: list[tuple[str, str]] = []
    if policy.grade is Grade.RESTRICTED and Action.READ not in policy.lists:
        notes.append(
            (
                "受限图层未指定可查看的角色或部门，目前无人可以查看它。",
                "A restricted layer with no read list can be read by nobody.",
            )
        )
    if info is None:
        notes.append(
            (
                f"工作空间中还没有图层 {policy.layer}；该策略在图层导入后即生效。",
                f"The workspace has no layer {policy.layer} yet; the policy applies once it "
                "is imported.",
            )
        )
    return [zh if lang == "zh" else en for zh, en in notes]


def _layer_info(store: FeatureStore, layer: str) -> LayerInfo | None:
    return next((i for i in store.layers() if i.name == layer), None)


def _names(store: FeatureStore) -> dict[str, str]:
    return {d.id: d.name for d in store.departments()}


@router.put("/admin/policies/{layer}", summary="Set a layer's access policy (安全管理员)")
def put_policy(
    request: Request, store: Store, who: Who, layer: LayerName, body: PolicyChange
) -> dict[str, Any]:
    """Replace a layer's policy (grade, access lists, hidden fields, region field)."""
    name = layer  # blanks around a name are the store's to refuse
    info = _layer_info(store, name)
    policy = _policy_of(name, body, info, _names(store))
    set_layer_policy(store, policy, actor=actor_of(who, request))
    lang = choose_lang(request.query_params.get("lang"), request.headers.get("accept-language"))
    recorded = policies(store).get(name) or policy
    return {
        "layer": _policy_doc(name, info, recorded, True),
        "notes": _notes(policy, info, lang),
    }
