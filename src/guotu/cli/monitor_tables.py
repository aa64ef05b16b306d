"""``guotu monitor targets …`` and ``guotu monitor statistics …``: the workspace's plan
targets (规划目标) and socio-economic statistics (社会经济统计).

Imported once and versioned like every layer (a new import is a new version; nothing is
overwritten; every version stays readable as of a date and as known at a record time; the
audit log says who imported what), then read by ``guotu monitor indicators|report`` and the
dashboard with no options. Each kind has three commands:

* ``import FILE -w W``: check the file as ``--targets``/``--statistics`` read it (a value that
  is not a number, a unit that does not convert: exit 2 naming the file, row and column) and
  record it (``--plan``/``--version`` … record it in a version of a plan instead);
* ``list -w W``: every recorded version, and which one is in force;
* ``show -w W``: the values of the version in force (``--as-of``, ``--known-at``).

Importing needs the ``edit`` permission, listing and showing ``read``, of the command's
principal (:mod:`guotu.cli.principal`), who is recorded as the version's author.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from guotu.cli.base import (
    Context,
    GuotuGroup,
    console,
    emit_json,
    json_option,
    lang_option,
    pass_context,
    workspace_option,
)
from guotu.cli.plans import (
    as_dates,
    authored,
    time_options,
    version_options,
    version_spec_from_options,
)
from guotu.cli.principal import open_as
from guotu.domain.access.roles import Permission
from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.plan_labels import plan_label, plan_version_label
from guotu.services.monitoring_inputs import (
    TABLE_KINDS,
    import_table,
    load_catalogue,
    local_time,
    workspace_table,
)
from guotu.services.monitoring_report import unit_label

__all__ = ["statistics_group", "targets_group"]

_STATUS_ZH = {
    "drafting": "编制中",
    "publicity": "公示",
    "submitted": "报批",
    "approved": "批复",
    "amended": "修改",
    "repealed": "废止",
}
_CATALOGUE = click.option(
    "--catalogue",
    default="cn-core",
    show_default=True,
    help="Indicator catalogue the names are matched to: a built-in id or a YAML file.",
)


def _import(
    ctx: Context,
    kind: str,
    file: Path,
    workspace: str,
    catalogue: str,
    spec: VersionSpec | None,
    reason: str,
    as_json: bool,
) -> None:
    cat = load_catalogue(catalogue)
    with open_as(workspace) as (store, who):
        who.require(Permission.EDIT)
        done = import_table(
            store, kind, file, cat, version=authored(spec, who), actor=who.name, reason=reason
        )
    if as_json:
        emit_json(done.to_dict())
        return
    zh_name, en_name = TABLE_KINDS[kind]
    r = done.recorded
    out = console()
    out.print(
        ctx.t(
            f"已导入 {file}：登记为{plan_version_label(r.plan, r.version.label)}"
            f"（工作空间的{zh_name}表 {kind}），共 {r.rows} 个数值，{len(done.matched)} "
            "项与指标目录匹配。",
            f"Imported {file}: recorded as "
            f"{plan_version_label(r.plan, r.version.label, 'en')} (the workspace's "
            f"{kind} table, {en_name}), {r.rows} values, {len(done.matched)} items "
            "matching the catalogue.",
        ),
        highlight=False,
        soft_wrap=True,
    )
    if done.unmatched:
        out.print(
            ctx.t(
                f"[yellow]●[/] 以下名称与指标目录 {cat.id} 不匹配，已照录但不参与计算："
                f"{'、'.join(done.unmatched)}",
                f"[yellow]●[/] These names match nothing in catalogue {cat.id}; "
                f"kept as written, not used: {', '.join(done.unmatched)}",
            ),
            highlight=False,
            soft_wrap=True,
        )
    out.print(
        ctx.t(
            "guotu monitor indicators、guotu monitor report 与 guotu serve 的监测看板"
            "此后默认使用该版本。",
            "guotu monitor indicators, guotu monitor report and the dashboard of "
            "guotu serve use it from now on.",
        ),
        highlight=False,
        soft_wrap=True,
    )


def _list(
    ctx: Context,
    kind: str,
    workspace: str,
    as_of: datetime | None,
    known_at: datetime | None,
    as_json: bool,
) -> None:
    day, known = as_dates(as_of, known_at)
    with open_as(workspace) as (store, who):
        who.require(Permission.READ)
        exists = any(t.name == kind for t in store.tables())
        versions = store.table_versions(kind) if exists else []
        current = store.table_version(kind, as_of=day, known_at=known) if exists else None
    in_force = None if current is None else current.version.id
    if as_json:
        emit_json(
            {
                "table": kind,
                "in_force": in_force,
                "versions": [
                    {
                        **t.to_dict(),
                        "plan_label": plan_label(t.plan, ctx.lang),
                        "plan_version_label": plan_version_label(t.plan, t.version.label, ctx.lang),
                    }
                    for t in versions
                ],
            }
        )
        return
    zh_name, en_name = TABLE_KINDS[kind]
    if not versions:
        console().print(
            ctx.t(
                f"工作空间中还没有 {kind} 表（{zh_name}）；可用 guotu monitor {kind} "
                f"import 文件 -w {workspace} 导入。",
                f"The workspace has no {kind} table ({en_name}) yet; import one "
                f"with guotu monitor {kind} import FILE -w {workspace}.",
            ),
            highlight=False,
            soft_wrap=True,
        )
        return
    table = Table(title=ctx.t(f"{kind} 表（{zh_name}）的版本", f"Versions of the {kind} table"))
    for head in (
        ctx.t("规划", "Plan"),
        ctx.t("版本", "Version"),
        ctx.t("状态", "Status"),
        ctx.t("生效", "Valid from"),
        ctx.t("失效", "Valid to"),
        ctx.t("登记时间", "Recorded"),
        ctx.t("数值个数", "Values"),
        ctx.t("来源文件", "Source file"),
        ctx.t("登记人", "By"),
        ctx.t("现行", "In force"),
    ):
        table.add_column(head, overflow="fold")
    for t in versions:
        v = t.version
        status = _STATUS_ZH[v.status.value] if ctx.lang == "zh" else v.status.value
        table.add_row(
            plan_label(t.plan, ctx.lang),
            v.label,
            status,
            str(v.valid_from or "—"),
            str(v.valid_to or "—"),
            local_time(v.recorded_at),
            str(t.rows),
            t.source or "—",
            v.author or "—",
            "✔" if v.id == in_force else "",
        )
    console().print(table)


def _show(
    ctx: Context,
    kind: str,
    workspace: str,
    as_of: datetime | None,
    known_at: datetime | None,
    catalogue: str,
    as_json: bool,
) -> None:
    day, known = as_dates(as_of, known_at)
    cat = load_catalogue(catalogue)
    with open_as(workspace) as (store, who):
        who.require(Permission.READ)
        found = workspace_table(store, kind, cat, as_of=day, known_at=known)
    assert found.origin is not None
    if as_json:
        emit_json(
            {
                "table": kind,
                "source": found.origin.to_dict(),
                "values": {
                    k: {str(y): v for y, v in sorted(s.items())} for k, s in found.values.items()
                },
                "unmatched": list(found.unmatched),
            }
        )
        return
    out = console()
    out.print(found.origin.describe(ctx.lang), highlight=False, soft_wrap=True)
    if not found.values:
        return
    years = sorted({y for s in found.values.values() for y in s})
    table = Table()
    for head in (
        ctx.t("名称", "Name"),
        ctx.t("编号", "Id"),
        ctx.t("单位", "Unit"),
        *(str(y) for y in years),
    ):
        table.add_column(head, overflow="fold")
    for key, series in found.values.items():
        item: Any = cat.get(key) if kind == "targets" else cat.inputs[key]
        table.add_row(
            item.name_zh if ctx.lang == "zh" else item.name_en,
            key,
            unit_label(item.unit, ctx.lang),
            *(f"{series[y]:,.10g}" if y in series else "—" for y in years),
        )
    out.print(table)
    if found.unmatched:
        out.print(
            ctx.t(
                f"未与指标目录匹配（不参与计算）：{'、'.join(found.unmatched)}",
                f"Matching nothing in the catalogue (not used): {', '.join(found.unmatched)}",
            ),
            highlight=False,
            soft_wrap=True,
        )


def _table_group(kind: str) -> click.Group:
    """The ``import``, ``list`` and ``show`` commands of one table kind."""
    zh_name, en_name = TABLE_KINDS[kind]
    layout = (
        "a row per indicator: 指标名称, 单位, 2025, 2035 …"
        if kind == "targets"
        else "年份, 城镇常住人口（人）, 用水总量（亿立方米） … or a row per item"
    )

    @click.group(
        kind,
        cls=GuotuGroup,
        help=f"The workspace's {en_name} ({zh_name}): import, list, "
        "show. Monitoring reads the version in force with no options.",
    )
    def group() -> None:
        pass

    @group.command(
        "import",
        help=f"Record FILE (CSV/XLSX, {layout}) as a new version of the "
        f"workspace's {kind} table, after checking it as --{kind} reads it.\n\n"
        f"\b\nExamples:\n  guotu monitor {kind} import demo_county_files/"
        f"{zh_name}.xlsx -w demo_county.gpkg\n  guotu monitor {kind} import "
        f"{zh_name}.xlsx -w 县.gpkg --plan 县国土空间总体规划 --version 2024修改 "
        "--status 修改 --valid-from 2024-06-30",
    )
    @click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
    @workspace_option()
    @_CATALOGUE
    @version_options
    @json_option
    @lang_option
    @pass_context
    def import_command(
        ctx: Context,
        file: Path,
        workspace: str,
        catalogue: str,
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
        as_json: bool,
    ) -> None:
        spec = version_spec_from_options(
            plan,
            version_label,
            status,
            parent_version,
            valid_from,
            valid_to,
            approval_no,
            approval_organ,
            approval_date,
            reason,
        )
        _import(ctx, kind, file, workspace, catalogue, spec, reason, as_json)

    @group.command(
        "list",
        help=f"Every recorded version of the {kind} table, and the one in "
        "force (on --as-of, as known at --known-at).",
    )
    @workspace_option()
    @time_options
    @json_option
    @lang_option
    @pass_context
    def list_command(
        ctx: Context,
        workspace: str,
        as_of: datetime | None,
        known_at: datetime | None,
        as_json: bool,
    ) -> None:
        _list(ctx, kind, workspace, as_of, known_at, as_json)

    @group.command(
        "show",
        help=f"The {en_name} monitoring reads: the version in force on "
        "--as-of as known at --known-at, matched to the catalogue.",
    )
    @workspace_option()
    @time_options
    @_CATALOGUE
    @json_option
    @lang_option
    @pass_context
    def show_command(
        ctx: Context,
        workspace: str,
        as_of: datetime | None,
        known_at: datetime | None,
        catalogue: str,
        as_json: bool,
    ) -> None:
        _show(ctx, kind, workspace, as_of, known_at, catalogue, as_json)

    return group


targets_group = _table_group("targets")
statistics_group = _table_group("statistics")
