"""Plans and their versions: ``guotu plan create|list|show``.

Also what the commands about plans and versions share: the ``--as-of``/``--known-at``
options every read takes, the version options of ``guotu import`` and the plan a name or label
names (:func:`plan_name`). Who is working is :mod:`guotu.cli.principal`'s: a plan is created
and a version recorded by a principal with the ``edit`` permission, and a plan is shown only
to those who may know of it (:func:`~guotu.services.access.visible_plans`: a plan of layers
they may read none of is not found, as one that does not exist). ``guotu diff`` is
:mod:`guotu.cli.diff`; ``guotu history`` and ``guotu log`` are :mod:`guotu.cli.history`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any, TypeVar

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
from guotu.cli.principal import CommandUser, open_as
from guotu.domain.access.roles import Permission
from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import PlanLevel, PlanType, VersionStatus, check_plan_name, parse_enum
from guotu.domain.core.plan_labels import (
    implicit_layer_plan,
    implicit_table_plan,
    plan_label,
)
from guotu.errors import ConfigError, NotFoundError
from guotu.ports import FeatureStore
from guotu.services.access import visible_plans

__all__ = [
    "VERSION_STATUS_ZH",
    "as_dates",
    "authored",
    "known_at_option",
    "plan_name",
    "time_options",
    "version_options",
    "version_spec_from_options",
]

F = TypeVar("F", bound=Callable[..., Any])

#: Version statuses in Chinese.
VERSION_STATUS_ZH = {
    "drafting": "编制中",
    "publicity": "公示",
    "submitted": "报批",
    "approved": "批复",
    "amended": "修改",
    "repealed": "废止",
}
_LEVEL_ZH = {
    "national": "国家级",
    "provincial": "省级",
    "municipal": "市级",
    "county": "县级",
    "township": "乡镇级",
}
_TYPE_ZH = {
    "master": "总体规划",
    "detailed": "详细规划",
    "special": "专项规划",
    "village": "村庄规划",
    "consolidation": "土地整治规划",
    "survey": "调查/现状",
    "data": "其他数据",
}


def known_at_option(f: F) -> F:
    """``--known-at DATETIME``: record time, the data as the system knew it then."""
    return click.option(
        "--known-at",
        type=click.DateTime(["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S"]),
        help="Record time: the data as the system knew it then (default now).",
    )(f)


def time_options(f: F) -> F:
    """``--as-of DATE`` (valid time, default today) and ``--known-at DATETIME`` (record time,
    default now)."""
    f = known_at_option(f)
    return click.option(
        "--as-of",
        type=click.DateTime(["%Y-%m-%d"]),
        help="Valid time: the plans in force on this date (default today).",
    )(f)


def as_dates(
    as_of: datetime | None, known_at: datetime | None
) -> tuple[date | None, datetime | None]:
    """Click's datetimes as (date, record time). ``--known-at`` is typed in local time (北京时间
    on a bureau's machine); record times are kept in UTC."""
    if known_at is not None:
        known_at = known_at.astimezone(UTC).replace(tzinfo=None)
    return (as_of.date() if as_of else None), known_at


def version_options(f: F) -> F:
    """The options of ``guotu import`` that record a layer in a plan version."""
    opts = [
        click.option("--plan", help="Record into this plan (see `guotu plan create`)."),
        click.option("--version", "version_label", help="Version label, e.g. 2023修改."),
        click.option(
            "--status",
            default="approved",
            show_default=True,
            help="Version status: drafting/publicity/submitted/approved/amended/"
            "repealed (编制中/公示/报批/批复/修改/废止).",
        ),
        click.option(
            "--parent-version", help="The version this one amends (default: the plan's latest)."
        ),
        click.option(
            "--valid-from", type=click.DateTime(["%Y-%m-%d"]), help="In force from this date."
        ),
        click.option(
            "--valid-to",
            type=click.DateTime(["%Y-%m-%d"]),
            help="In force until this date (exclusive).",
        ),
        click.option("--approval-no", default="", help="批复文号."),
        click.option("--approval-organ", default="", help="批复机关."),
        click.option("--approval-date", type=click.DateTime(["%Y-%m-%d"]), help="批复日期."),
        click.option("--reason", default="", help="Why (kept in the audit log)."),
    ]
    for opt in reversed(opts):
        f = opt(f)
    return f


def version_spec_from_options(
    plan: str | None,
    version_label: str | None,
    status: str,
    parent_version: str | None,
    valid_from: datetime | None,
    valid_to: datetime | None,
    approval_no: str,
    approval_organ: str,
    approval_date: datetime | None,
    reason: str,
) -> VersionSpec | None:
    """The :class:`VersionSpec` the import options describe (``None`` without --plan); its
    author is the principal, filled in once the workspace is open (:func:`authored`)."""
    if plan is None:
        if version_label:
            raise ConfigError(
                "--version needs --plan: the plan the version belongs to.",
                fix="Add --plan NAME (see guotu plan list).",
                message_zh="--version 需要同时给出 --plan（该版本所属的规划）。",
                fix_zh="请加上 --plan 规划名（见 guotu plan list）。",
            )
        return None
    if not version_label:
        raise ConfigError(
            "--plan needs --version LABEL.",
            fix="Add e.g. --version 2023修改.",
            message_zh="--plan 需要同时给出 --version 版本名。",
            fix_zh="请加上如 --version 2023修改。",
        )
    return VersionSpec(
        plan,
        version_label,
        parse_enum(VersionStatus, status, "--status"),
        parent_version,
        valid_from.date() if valid_from else None,
        valid_to.date() if valid_to else None,
        approval_no,
        approval_organ,
        approval_date.date() if approval_date else None,
        "",
        reason,
    )


def authored(spec: VersionSpec | None, who: CommandUser) -> VersionSpec | None:
    """``spec`` with ``who`` as its author (the principal records the version)."""
    return None if spec is None else dataclasses.replace(spec, author=who.name)


def plan_name(store: FeatureStore, text: str, who: CommandUser | None = None) -> str:
    """The stored name of the plan ``text`` names: its name, its label as :func:`plan_label`
    shows it (Chinese or English: ``GHYD（规划用地）数据``, ``规划目标表``), or the layer or table
    whose implicit plan it is (``GHYD``, ``targets``). A name that matches nothing is refused
    with the plans listed as people read them; with ``who``, only the plans they may know of
    count (another is refused as one that does not exist)."""
    known = store.plans() if who is None else visible_plans(store, who.access(store))
    plans: list[str] = [p.name for p in known]
    if text in plans:
        return text
    roles = {i.name: i.role for i in store.layers()}
    for name in plans:
        if text in (
            plan_label(name, "zh", layer_roles=roles),
            plan_label(name, "en", layer_roles=roles),
        ):
            return name
    for name in (implicit_layer_plan(text), implicit_table_plan(text)):
        if name in plans:
            return name
    known_zh = "、".join(plan_label(n, "zh", layer_roles=roles) for n in plans) or "暂无"
    known_en = ", ".join(plan_label(n, "en", layer_roles=roles) for n in plans) or "none yet"
    raise NotFoundError(
        f"There is no plan {text!r}.",
        fix=f"Plans: {known_en}; create one with `guotu plan create`.",
        message_zh=f"不存在规划 {text!r}。",
        fix_zh=f"现有规划：{known_zh}；可用 guotu plan create 新建。",
    )


# -- guotu plan ----------------------------------------------------------------------------
@root.group("plan")
def plan_group() -> None:
    """Plans (规划) and their versions."""


@plan_group.command("create")
@click.argument("name")
@workspace_option()
@click.option(
    "--level",
    required=True,
    help="national/provincial/municipal/county/township (国家/省/市/县/乡镇).",
)
@click.option(
    "--type",
    "plan_type",
    required=True,
    help="master/detailed/special/village/"
    "consolidation/survey (总体规划/详细规划/专项规划/村庄规划/土地整治规划/调查).",
)
@click.option("--xzqdm", default="", help="Jurisdiction code (行政区代码).")
@click.option("--parent-plan", help="The upper-level plan it must conform to.")
@click.option("--description", default="", help="What the plan is about.")
@click.option("--reason", default="", help="Why (kept in the audit log).")
@json_option
@lang_option
@pass_context
def plan_create(
    ctx: Context,
    name: str,
    workspace: str,
    level: str,
    plan_type: str,
    xzqdm: str,
    parent_plan: str | None,
    description: str,
    reason: str,
    as_json: bool,
) -> None:
    """Create a plan in the workspace."""
    # the options are checked before the workspace is opened (a failed command creates none)
    plan_level = parse_enum(PlanLevel, level, "--level")
    kind = parse_enum(PlanType, plan_type, "--type")
    check_plan_name(name)
    with open_as(workspace, create=True) as (store, who):
        who.require(Permission.EDIT)
        plan = store.create_plan(
            name,
            level=plan_level,
            type=kind,
            xzqdm=xzqdm,
            parent_plan=parent_plan,
            description=description,
            actor=who.name,
            reason=reason,
        )
    if as_json:
        emit_json(
            {
                "id": plan.id,
                "name": plan.name,
                "level": plan.level.value,
                "type": plan.type.value,
                "xzqdm": plan.xzqdm,
            }
        )
        return
    click.echo(ctx.t(f"已创建规划：{plan.name}", f"Plan created: {plan.name}"))


@plan_group.command("list")
@workspace_option()
@json_option
@lang_option
@pass_context
def plan_list(ctx: Context, workspace: str, as_json: bool) -> None:
    """List the plans with the version in force today."""
    with open_as(workspace) as (store, who):
        access = who.access(store)
        rows = [
            (p, store.resolve_version(p.id), len(store.versions(p.id)))
            for p in visible_plans(store, access)
        ]
        roles = {i.name: i.role for i in store.layers() if access.may_read(i.name)}
    labels = {p.name: plan_label(p.name, ctx.lang, layer_roles=roles) for p, _, _ in rows}
    if as_json:
        emit_json(
            [
                {
                    "name": p.name,
                    "plan_label": labels[p.name],
                    "level": p.level.value,
                    "type": p.type.value,
                    "xzqdm": p.xzqdm,
                    "versions": n,
                    "in_force": v.label if v else None,
                }
                for p, v, n in rows
            ]
        )
        return
    table = Table()
    for head in (
        ctx.t("规划", "Plan"),
        ctx.t("层级", "Level"),
        ctx.t("类型", "Type"),
        ctx.t("版本数", "Versions"),
        ctx.t("现行版本", "In force"),
    ):
        table.add_column(head)
    zh = ctx.lang == "zh"
    for p, v, n in rows:
        table.add_row(
            labels[p.name],
            _LEVEL_ZH.get(p.level.value, p.level.value) if zh else p.level.value,
            _TYPE_ZH.get(p.type.value, p.type.value) if zh else p.type.value,
            str(n),
            v.label if v else "—",
        )
    console().print(table)


@plan_group.command("show")
@click.argument("name")
@workspace_option()
@time_options
@json_option
@lang_option
@pass_context
def plan_show(
    ctx: Context,
    name: str,
    workspace: str,
    as_of: datetime | None,
    known_at: datetime | None,
    as_json: bool,
) -> None:
    """Show a plan's versions, which one is in force and its layers."""
    day, known = as_dates(as_of, known_at)
    with open_as(workspace) as (store, who):
        plan = store.plan(plan_name(store, name, who))
        versions = store.versions(plan.id)
        current = store.resolve_version(plan.id, as_of=day, known_at=known)
        pending = store.pending(plan.id, known_at=known)
        access = who.access(store)
        infos = [i for i in store.layers() if i.plan == plan.name and access.may_read(i.name)]
    layers = [i.name for i in infos]
    shown = plan_label(plan.name, ctx.lang, layer_roles={i.name: i.role for i in infos})
    if as_json:
        emit_json(
            {
                "plan": plan.name,
                "plan_label": shown,
                "level": plan.level.value,
                "type": plan.type.value,
                "layers": layers,
                "in_force": current.label if current else None,
                "pending": [v.label for v in pending],
                "versions": [
                    {
                        "id": v.id,
                        "label": v.label,
                        "status": v.status.value,
                        "parent_id": v.parent_id,
                        "valid_from": v.valid_from,
                        "valid_to": v.valid_to,
                        "recorded_at": v.recorded_at,
                        "approval_no": v.approval_no,
                        "author": v.author,
                        "reason": v.reason,
                    }
                    for v in versions
                ],
            }
        )
        return
    table = Table(
        title=ctx.t(
            f"{shown}（图层：{'、'.join(layers) or '无'}）",
            f"{shown} (layers: {', '.join(layers) or 'none'})",
        )
    )
    for head in (
        ctx.t("版本", "Version"),
        ctx.t("状态", "Status"),
        ctx.t("生效", "Valid from"),
        ctx.t("失效", "Valid to"),
        ctx.t("登记时间", "Recorded"),
        ctx.t("批复文号", "Approval"),
        ctx.t("现行", "In force"),
    ):
        table.add_column(head)
    for v in versions:
        status = VERSION_STATUS_ZH[v.status.value] if ctx.lang == "zh" else v.status.value
        table.add_row(
            v.label,
            status,
            str(v.valid_from or "—"),
            str(v.valid_to or "—"),
            v.recorded_at.isoformat(timespec="seconds"),
            v.approval_no or "—",
            "✔" if current and v.id == current.id else "",
        )
    console().print(table)
