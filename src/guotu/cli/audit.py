"""The audit log for its administrator (审计管理员): ``guotu audit verify`` and
``guotu audit search``.

``verify`` checks the hash chain of the whole log (:func:`guotu.services.audit.verify_audit`)
and exits 0 when it is intact, 1 when a record was changed or deleted (each one named with its
sequence number and why). ``search`` finds records by who, what, on what and when, and exports
them (``--json`` on standard output, ``--csv FILE``); an export is itself recorded in the log.

Times typed (``--since``, ``--until``) and shown are this machine's local time; the log keeps
UTC, and ``--json``/``--csv`` give the ``at`` it keeps. Signed in to a database, both need the
audit administrator's permission (``read_audit``, :mod:`guotu.cli.principal`). Exit codes: 0 done (``verify``: the log
is intact), 1 ``verify`` found breaks, 2 bad input, 3 environment or store error.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from rich.table import Table

from guotu.cli.access import local_time
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
from guotu.domain.access.roles import Permission
from guotu.domain.core.catalog import AuditEntry
from guotu.services.audit import search_audit, verify_audit

__all__ = ["ACTION_ZH", "audit_group"]

#: Audit actions as a person reads them in Chinese (others are shown by their id).
ACTION_ZH = {
    "create_plan": "新建规划",
    "record_version": "登记版本",
    "write_layer": "写入图层",
    "write_table": "写入数据表",
    "upgrade": "升级工作空间",
    "reset": "清空工作空间",
    "create_department": "新建部门",
    "update_department": "修改部门",
    "create_user": "新建账号",
    "update_user": "修改账号",
    "update_from_directory": "按目录更新账号",
    "grant": "授予角色",
    "set_password": "修改密码",
    "enable_user": "启用账号",
    "disable_user": "停用账号",
    "unlock": "解锁账号",
    "lock": "锁定账号",
    "sign_in": "登录",
    "sign_in_failed": "登录失败",
    "sign_in_reset": "清除登录失败次数",
    "sign_out": "退出登录",
    "session_ended": "会话结束",
    "set_layer_policy": "设置图层访问策略",
    "create_token": "创建访问令牌",
    "revoke_token": "撤销访问令牌",
    "read_restricted": "查看受限图层",
    "export_restricted": "导出受限图层",
    "export_audit": "导出审计日志",
}
_CSV_COLUMNS = (
    "id",
    "at",
    "actor",
    "department",
    "address",
    "action",
    "object",
    "reason",
    "detail",
    "prev_hash",
    "hash",
)
_TIME_FORMATS = ["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M"]


def _utc(moment: datetime | None, *, end_of_day: bool = False) -> datetime | None:
    """A local time typed on the command line as UTC without a time zone (the log's); a bare
    date given as the end of a range means the whole of that day."""
    if moment is None:
        return None
    if end_of_day and (moment.hour, moment.minute, moment.second) == (0, 0, 0):
        moment += timedelta(days=1)
    return moment.astimezone(UTC).replace(tzinfo=None)


@root.group("audit")
def audit_group() -> None:
    """The audit log (审计日志): check it is whole, search and export it."""


@audit_group.command("verify")
@workspace_option()
@json_option
@lang_option
@pass_context
def audit_verify(ctx: Context, workspace: str, as_json: bool) -> None:
    """Check the audit log's hash chain: exit 0 when no record was changed or deleted, 1
    naming each record that was."""
    with open_as(workspace) as (store, who):
        who.require_admin(Permission.READ_AUDIT)
        breaks = verify_audit(store)
        count, _last = store.audit_head()
    if as_json:
        emit_json(
            {
                "intact": not breaks,
                "records": count,
                "breaks": [
                    {"seq": b.seq, "reason_zh": b.reason_zh, "reason_en": b.reason_en}
                    for b in breaks
                ],
            }
        )
    elif not breaks:
        click.echo(
            ctx.t(
                f"审计日志完整：{count} 条记录，哈希链无断裂。",
                f"The audit log is intact: {count} records, no break in the hash chain.",
            )
        )
    else:
        click.echo(
            ctx.t(
                f"审计日志不完整：{count} 条记录中有 {len(breaks)} 处与哈希链不符：",
                f"The audit log is not intact: {len(breaks)} of its {count} records break the "
                "hash chain:",
            )
        )
        for b in breaks:
            click.echo(
                ctx.t(f"  序号 {b.seq}：{b.reason_zh}。", f"  sequence {b.seq}: {b.reason_en}.")
            )
        click.echo(
            ctx.t(
                "这些记录在写入后被改动或删除过（绕过了本系统）。请保全工作空间文件或数据库，"
                "并报告安全管理员。",
                "These records were changed or deleted after they were written, outside guotu. "
                "Preserve the workspace file or database and tell the security administrator.",
            )
        )
    if breaks:
        click.get_current_context().exit(1)


@audit_group.command("search")
@workspace_option()
@click.option("--actor", help="Only records of this user (as recorded).")
@click.option(
    "--action", help="Only this action: sign_in, sign_in_failed, create_user, grant, write_layer …"
)
@click.option(
    "--object",
    "object_prefix",
    help="Only records about this object: user:NAME, layer:NAME, or a prefix such as layer.",
)
@click.option("--department", metavar="DEPT_ID", help="Only records of users of this department.")
@click.option("--since", type=click.DateTime(_TIME_FORMATS), help="From this time (local time) on.")
@click.option(
    "--until",
    type=click.DateTime(_TIME_FORMATS),
    help="Up to this time (local time); a date alone includes that whole day.",
)
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    help="At most this many records, the newest (default: 100 on screen, all when exporting).",
)
@click.option(
    "--csv",
    "csv_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Export the records found to this CSV file (UTF-8 with BOM, for Excel).",
)
@json_option
@lang_option
@pass_context
def audit_search(
    ctx: Context,
    workspace: str,
    actor: str | None,
    action: str | None,
    object_prefix: str | None,
    department: str | None,
    since: datetime | None,
    until: datetime | None,
    limit: int | None,
    csv_file: Path | None,
    as_json: bool,
) -> None:
    """Search the audit log, newest first; --json and --csv export what is found.

    \b
    Examples:
      guotu audit search -w county.gpkg --action sign_in_failed --since 2026-01-01
      guotu audit search -w county.gpkg --object layer:YJJBNT --csv 永久基本农田访问记录.csv
      guotu audit search -w county.gpkg --actor lisi --json
    """
    exporting = as_json or csv_file is not None
    start, end = _utc(since), _utc(until, end_of_day=True)
    filters = {
        "actor": actor,
        "action": action,
        "object": object_prefix,
        "department": department,
        "since": start.isoformat() if start else None,
        "until": end.isoformat() if end else None,
    }
    with open_as(workspace) as (store, who):
        who.require_admin(Permission.READ_AUDIT)
        entries = search_audit(
            store,
            actor=actor,
            action=action,
            object_prefix=object_prefix,
            department=department,
            since=start,
            until=end,
            limit=limit if limit is not None else None if exporting else 100,
        )
        if exporting:
            store.audit(
                who.name,
                "export_audit",
                "audit",
                detail={
                    "records": len(entries),
                    "to": csv_file.name if csv_file is not None else "json",
                    "filters": {k: v for k, v in filters.items() if v is not None},
                },
                department=who.actor.department,
                address=who.actor.address,
            )
    if csv_file is not None:
        _write_csv(csv_file, entries)
        click.echo(
            ctx.t(
                f"已导出 {len(entries)} 条审计记录到 {csv_file}（本次导出已记入审计日志）。",
                f"{len(entries)} audit records exported to {csv_file} (the export is recorded "
                "in the log).",
            ),
            err=as_json,
        )
    if as_json:
        emit_json([e.to_dict() for e in entries])
        return
    if csv_file is not None:
        return
    _print_entries(ctx, entries)


def _write_csv(path: Path, entries: list[AuditEntry]) -> None:
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(_CSV_COLUMNS)
        for e in entries:
            writer.writerow(
                [
                    e.id,
                    e.at,
                    e.actor,
                    e.department,
                    e.address,
                    e.action,
                    e.object,
                    e.reason,
                    json.dumps(e.detail, ensure_ascii=False, sort_keys=True, default=str),
                    e.prev_hash,
                    e.hash,
                ]
            )


def _print_entries(ctx: Context, entries: list[AuditEntry]) -> None:
    if not entries:
        click.echo(ctx.t("没有符合条件的审计记录。", "No audit record matches."))
        return
    table = Table()
    for head in (
        ctx.t("序号", "Seq"),
        ctx.t("时间", "When"),
        ctx.t("操作人", "Who"),
        ctx.t("部门", "Department"),
        ctx.t("地址", "Address"),
        ctx.t("操作", "Action"),
        ctx.t("对象", "Object"),
        ctx.t("原因", "Reason"),
    ):
        table.add_column(head)
    zh = ctx.lang == "zh"
    for e in entries:
        table.add_row(
            str(e.id),
            local_time(e.at),
            e.actor,
            e.department or "—",
            e.address or "—",
            ACTION_ZH.get(e.action, e.action) if zh else e.action,
            e.object,
            e.reason or "—",
        )
    console().print(table)
    click.echo(
        ctx.t(
            f"共 {len(entries)} 条（最新的在前；--limit 调整条数，--csv 导出）。",
            f"{len(entries)} records (newest first; --limit for more, --csv to export).",
        )
    )
