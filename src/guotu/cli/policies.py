"""Open grades and access policies of layers: ``guotu policy set|list``.

A policy gives a layer its open grade (公开/内部/受限), who may read, export and edit it (role
and department ids, :func:`guotu.cli.access.parse_who`), fields only some may see and the
行政区 field that limits a 乡镇's users to their own rows. ``set`` replaces a layer's policy
whole; a layer without one is 内部. Signed in to a database, both need the security
administrator's permission (``set_policy``, :mod:`guotu.cli.principal`). Exit codes: 0 done, 2 bad input, 3 environment or store
error.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import click
from rich.table import Table

from guotu.cli.access import department_names, parse_who, who_text
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
from guotu.cli.principal import open_as
from guotu.domain.access.grades import DEFAULT_GRADE, Grade
from guotu.domain.access.policy import AccessList, Action, LayerPolicy
from guotu.domain.access.roles import Permission
from guotu.errors import ConfigError, InputError
from guotu.services.identity import set_layer_policy

__all__ = ["policy_group"]

_ACTION_OPTION = {Action.READ: "--read", Action.EXPORT: "--export", Action.EDIT: "--edit"}


# -- guotu policy --------------------------------------------------------------------------------
def _hidden_fields(values: Sequence[str], departments: Iterable[str]) -> dict[str, AccessList]:
    out: dict[str, AccessList] = {}
    known = list(departments)
    for value in values:
        field, _, who = value.partition(":")
        field = field.strip()
        if not field:
            raise InputError(
                f"--hide-field {value!r} names no field.",
                field="--hide-field",
                fix="Write FIELD, or FIELD:WHO,WHO for the roles or departments who still see it.",
                message_zh=f"--hide-field {value!r} 没有给出字段名。",
                fix_zh="请写 字段名，或 字段名:角色或部门,…（仍可看到该字段的角色或部门）。",
            )
        out[field] = parse_who([who], known, "--hide-field") if who.strip() else AccessList()
    return out


def _policy_dict(p: LayerPolicy) -> dict[str, object]:
    def lst(a: AccessList) -> dict[str, list[str]]:
        return {"roles": sorted(a.roles), "departments": sorted(a.departments)}

    return {
        "layer": p.layer,
        "grade": p.grade.value,
        "grade_zh": p.grade.name_zh,
        "lists": {a.value: lst(p.access_list(a)) for a in Action if a in p.lists},
        "hidden_fields": {f: lst(a) for f, a in sorted(p.hidden_fields.items())},
        "region_field": p.region_field,
    }


@root.group("policy")
def policy_group() -> None:
    """Open grades (开放等级) and access policies of layers."""


@policy_group.command("set")
@click.argument("layer")
@workspace_option()
@click.option(
    "--grade",
    required=True,
    metavar="GRADE",
    help="公开 (public), 内部 (internal) or 受限 (restricted).",
)
@click.option(
    "--read",
    "readers",
    multiple=True,
    metavar="WHO",
    help="Roles or departments who may read it (repeatable or comma-separated; role:ID or "
    "dept:ID where an id is both).",
)
@click.option(
    "--export", "exporters", multiple=True, metavar="WHO", help="Who may export it (as --read)."
)
@click.option(
    "--edit", "editors", multiple=True, metavar="WHO", help="Who may edit it (as --read)."
)
@click.option(
    "--hide-field",
    "hide_fields",
    multiple=True,
    metavar="FIELD",
    help="Hide a field (owner names, ID numbers) from everyone but those named after a colon: "
    "QLRMC or QLRMC:gengdi,reviewer (repeatable).",
)
@click.option(
    "--region-field",
    metavar="FIELD",
    help="The 行政区 code field (XZQDM) that limits a 乡镇's users to their own rows.",
)
@lang_option
@pass_context
def policy_set(
    ctx: Context,
    layer: str,
    workspace: str,
    grade: str,
    readers: tuple[str, ...],
    exporters: tuple[str, ...],
    editors: tuple[str, ...],
    hide_fields: tuple[str, ...],
    region_field: str | None,
) -> None:
    """Set a layer's open grade and who may read, export and edit it (replaces its policy).

    \b
    Examples:
      guotu policy set YJJBNT --grade 受限 --read gengdi,reviewer --export gengdi -w county.gpkg
      guotu policy set DLTB --grade 内部 --hide-field ZLDWMC:guihua --region-field XZQDM -w county.gpkg
    """
    try:
        level = Grade.parse(grade)
    except ConfigError as exc:
        exc.field = "--grade"
        raise
    with open_as(workspace) as (store, who):
        who.require_admin(Permission.SET_POLICY)
        depts = department_names(store)
        lists = {
            action: parse_who(values, depts, _ACTION_OPTION[action])
            for action, values in (
                (Action.READ, readers),
                (Action.EXPORT, exporters),
                (Action.EDIT, editors),
            )
            if values
        }
        policy = LayerPolicy(
            layer,
            level,
            lists,
            _hidden_fields(hide_fields, depts),
            region_field.strip() if region_field else None,
        )
        set_layer_policy(store, policy, actor=who.actor)
        layers = {i.name: i for i in store.layers()}
    click.echo(
        ctx.t(
            f"已设置图层 {layer} 的访问策略：{level.name_zh}。",
            f"Access policy of layer {layer} set: {level.value}.",
        )
    )
    if level is Grade.RESTRICTED and Action.READ not in lists:
        click.echo(
            ctx.t(
                "提示：受限图层未用 --read 指定任何人，目前无人可以查看它。",
                "Note: a restricted layer with no --read list can be read by nobody.",
            )
        )
    if layer not in layers:
        click.echo(
            ctx.t(
                f"提示：工作空间中还没有图层 {layer}；该策略在图层导入后即生效。",
                f"Note: the workspace has no layer {layer} yet; the policy applies once it is "
                "imported.",
            )
        )
        return
    named = [*policy.hidden_fields, *([policy.region_field] if policy.region_field else [])]
    missing = [f for f in named if f not in layers[layer].columns]
    if missing:
        click.echo(
            ctx.t(
                f"提示：图层 {layer} 没有字段 {'、'.join(missing)}，请检查拼写。",
                f"Note: layer {layer} has no field {', '.join(missing)}; check the spelling.",
            )
        )


def _list_cell(ctx: Context, policy: LayerPolicy, action: Action, depts: dict[str, str]) -> str:
    """Who an action's list admits, as :func:`~guotu.domain.access.policy.decide` reads an
    empty one: anyone (a 公开 layer's readers), every user whose roles allow it, or nobody (受限)."""
    named = policy.access_list(action)
    if not named.is_empty:
        return who_text(named, depts, ctx.lang)
    if policy.grade is Grade.RESTRICTED:
        return ctx.t("无人", "nobody")
    if policy.grade is Grade.PUBLIC and action is Action.READ:
        return ctx.t("任何人（含未登录）", "anyone (signed in or not)")
    return ctx.t("有此权限的用户", "users whose roles allow it")


@policy_group.command("list")
@workspace_option()
@json_option
@lang_option
@pass_context
def policy_list(ctx: Context, workspace: str, as_json: bool) -> None:
    """Every layer's open grade and access lists (a layer without a policy is 内部)."""
    with open_as(workspace) as (store, who):
        who.require_admin(Permission.SET_POLICY)
        policies = store.layer_policies()
        names = [i.name for i in store.layers()]
        depts = department_names(store)
    names += sorted(set(policies) - set(names))
    rows = [policies.get(n) or LayerPolicy(n, DEFAULT_GRADE) for n in names]
    if as_json:
        emit_json([{**_policy_dict(p), "recorded": p.layer in policies} for p in rows])
        return
    table = Table()
    for head in (
        ctx.t("图层", "Layer"),
        ctx.t("开放等级", "Grade"),
        ctx.t("查看", "Read"),
        ctx.t("导出", "Export"),
        ctx.t("编辑", "Edit"),
        ctx.t("隐藏字段", "Hidden fields"),
        ctx.t("行政区字段", "Region field"),
    ):
        table.add_column(head, overflow="fold")
    for p in rows:
        grade = p.grade.name_zh if ctx.lang == "zh" else p.grade.value
        if p.layer not in policies:
            grade += ctx.t("（默认）", " (default)")
        hidden = [
            f"{f}（{who_text(a, depts, ctx.lang)}）"
            if ctx.lang == "zh"
            else f"{f} ({who_text(a, depts, 'en')})"
            for f, a in sorted(p.hidden_fields.items())
        ]
        table.add_row(
            p.layer,
            grade,
            *(_list_cell(ctx, p, a, depts) for a in Action),
            "、".join(hidden) or "—",
            p.region_field or "—",
        )
    console().print(table)
