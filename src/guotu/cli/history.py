"""``guotu history`` and ``guotu log``: the history of a plan (its versions and layers) or of
one feature (its revisions), and the append-only audit log (who did what, when and why), as
people read them (plans by their labels, actions and objects in Chinese) or as JSON.

Both are the principal's (:mod:`guotu.cli.principal`): a plan they may not know of, or a
layer they may not read, is not found as an absent one, and its entries are left out. ``log``
shows the data's history (plans, versions, layers and tables written); the whole log, sign-ins
and administration included, is the audit administrator's (``guotu audit search``), and
``log`` shows it all to a principal with the ``read_audit`` permission only.
"""

from __future__ import annotations

from typing import Any

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
from guotu.cli.plans import plan_name
from guotu.cli.principal import CommandUser, open_as
from guotu.domain.access.roles import Permission
from guotu.domain.core.catalog import AuditEntry
from guotu.domain.core.plan_labels import IMPLICIT_LAYER_PREFIX, implicit_table_plan, plan_label
from guotu.domain.core.roles import get_role
from guotu.errors import NotFoundError
from guotu.ports import FeatureStore
from guotu.services.access import LayerAccess, row_mask, visible_plans

__all__ = ["history_command", "log_command"]

#: Audit-log actions (as the store records them) in Chinese.
_ACTION_ZH = {
    "create_plan": "新建规划",
    "record_version": "登记版本",
    "write_layer": "写入图层",
    "write_table": "写入数据表",
    "upgrade": "升级工作空间",
    "reset": "清空工作空间",
}
_OBJECT_ZH = {"workspace": "工作空间"}


@root.command("history")
@click.argument("target")
@workspace_option()
@json_option
@lang_option
@pass_context
def history_command(ctx: Context, target: str, workspace: str, as_json: bool) -> None:
    """History of a plan (PLAN) or of a feature (LAYER:KEY, e.g. GHYD:GH00001234)."""
    with open_as(workspace) as (store, who):
        access = who.access(store)
        names = access.readable(i.name for i in store.layers())
        if (
            ":" in target
            and not target.startswith(IMPLICIT_LAYER_PREFIX)
            and target.split(":", 1)[0] in names
        ):
            layer, key = target.split(":", 1)
            entries = _feature_history(store, layer, key, access)
            if as_json:
                emit_json({"layer": layer, "key": key, "revisions": entries})
                return
            table = Table(
                title=ctx.t(f"要素历史：{layer} {key}", f"Feature history: {layer} {key}")
            )
            for head in (
                ctx.t("要素号", "fid"),
                ctx.t("登记于版本", "Added in"),
                ctx.t("废止于版本", "Retired in"),
            ):
                table.add_column(head)
            for e in entries:
                table.add_row(str(e["fid"]), e["added_in"], ", ".join(e["retired_in"]) or "—")
            console().print(table)
            return
        plan = _history_plan(store, target, names, who)
        log = store.audit_log(object_prefix=f"plan:{plan.name}")
        layer_logs = [
            e
            for i in store.layers()
            if i.plan == plan.name and i.name in names
            for e in store.audit_log(object_prefix=f"layer:{i.name}")
        ]
        roles = {i.name: i.role for i in store.layers() if i.name in names}
        entries_all = _data_entries(
            store, who, access, sorted([*log, *layer_logs], key=lambda e: e.id)
        )
    _print_log(ctx, entries_all, as_json, roles)


def _feature_history(
    store: FeatureStore, layer: str, key: str, access: LayerAccess
) -> list[dict[str, Any]]:
    """The revisions of feature ``key`` of ``layer``; a key no revision has, or of a feature
    outside the principal's 行政区 on a layer limited to it, is refused."""
    entries: list[dict[str, Any]] = store.feature_history(layer, key)
    id_field = get_role(store.layer_role(layer)).id_field
    if entries and not _outside_region(store, layer, key, id_field, access):
        return entries
    if not id_field or id_field not in store.layer(layer).columns:
        raise NotFoundError(
            f"Layer {layer} has no id field ({id_field or 'its role has none'}), so a feature "
            "cannot be looked up by key.",
            layer=layer,
            fix="Give a plan instead (guotu history PLAN), or see guotu layers.",
            message_zh=f"图层 {layer} 没有标识码字段（{id_field or '该图层类型没有'}），"
            "无法按标识码查找要素。",
            fix_zh="请改为查看规划的历史（guotu history 规划名），或见 guotu layers。",
        )
    raise NotFoundError(
        f"Layer {layer} has no feature with id {key} (field {id_field}), in any version.",
        layer=layer,
        feature=key,
        field=id_field,
        fix=f"Check the id: guotu query, or the {id_field} column of the layer.",
        message_zh=f"图层 {layer} 中没有标识码 {key} 的要素（字段 {id_field}，所有版本）。",
        fix_zh=f"请核对标识码（guotu query，或图层的 {id_field} 字段）。",
    )


def _outside_region(
    store: FeatureStore, layer: str, key: str, id_field: str | None, access: LayerAccess
) -> bool:
    """Whether feature ``key`` lies outside the rows ``access``'s principal may see of
    ``layer`` (limited to their 行政区): none of its current rows is theirs."""
    rows = access.row_filter(layer)
    if rows is None:
        return False
    columns = store.layer(layer).columns
    if not id_field or id_field not in columns or rows.field not in columns:
        return True
    frame = store.read_layer(layer, columns=[id_field, rows.field])
    mine = frame[row_mask(frame[rows.field].to_numpy(), rows)]
    return key not in set(mine[id_field].astype(str))


def _history_plan(store: FeatureStore, target: str, layers: list[str], who: CommandUser) -> Any:
    """The plan ``target`` names (one ``who`` may know of); ``LAYER:KEY`` of a layer that does
    not exist, or that ``who`` may not read, says so."""
    try:
        return store.plan(plan_name(store, target, who))
    except NotFoundError:
        if ":" not in target or target.startswith(IMPLICIT_LAYER_PREFIX):
            raise
    layer = target.split(":", 1)[0]
    raise NotFoundError(
        f"Workspace {store.path} has no layer {layer!r} (nor a plan {target!r}).",
        layer=layer,
        fix=f"Layers in it: {', '.join(layers) or 'none yet'}; plans: guotu plan list.",
        message_zh=f"工作空间 {store.path} 中没有图层 {layer!r}（也没有名为 {target!r} 的规划）。",
        fix_zh=f"其中的图层有：{'、'.join(layers) or '暂无'}；规划见 guotu plan list。",
    )


@root.command("log")
@workspace_option()
@click.option(
    "--object", "object_prefix", help="Only entries about this object (plan:NAME, layer:NAME)."
)
@click.option("--limit", type=int, help="At most this many entries (the newest).")
@json_option
@lang_option
@pass_context
def log_command(
    ctx: Context, workspace: str, object_prefix: str | None, limit: int | None, as_json: bool
) -> None:
    """The append-only audit log: who did what, when and why."""
    with open_as(workspace) as (store, who):
        access = who.access(store)
        entries = _data_entries(store, who, access, store.audit_log(object_prefix=object_prefix))
        roles = {i.name: i.role for i in store.layers() if access.may_read(i.name)}
    if limit:
        entries = entries[-limit:]
    _print_log(ctx, entries, as_json, roles)


def _data_entries(
    store: FeatureStore, who: CommandUser, access: LayerAccess, entries: list[AuditEntry]
) -> list[AuditEntry]:
    """``entries`` as ``who`` may see them: all of them with ``read_audit`` (the audit
    administrator; the owner of a GeoPackage without an account has the business roles, so
    uses ``guotu audit search``), else the data's history only (:data:`_ACTION_ZH`), about
    plans they may know of and layers they may read."""
    if Permission.READ_AUDIT in who.principal.permissions:
        return entries
    plans = {p.name for p in visible_plans(store, access)}

    def shown(e: AuditEntry) -> bool:
        kind, _, name = e.object.partition(":")
        if e.action not in _ACTION_ZH:
            return False
        if kind == "plan":
            return name in plans
        if kind == "layer":
            return access.may_read(name)
        return True

    return [e for e in entries if shown(e)]


def _print_log(
    ctx: Context, entries: list[Any], as_json: bool, roles: dict[str, str] | None = None
) -> None:
    if as_json:
        emit_json([e.to_dict() for e in entries])
        return
    table = Table()
    for head in (
        "#",
        ctx.t("时间", "When"),
        ctx.t("操作人", "Who"),
        ctx.t("操作", "Action"),
        ctx.t("对象", "Object"),
        ctx.t("原因", "Reason"),
    ):
        table.add_column(head)
    zh = ctx.lang == "zh"
    for e in entries:
        table.add_row(
            str(e.id),
            e.at[:19],
            e.actor,
            _ACTION_ZH.get(e.action, e.action) if zh else e.action,
            _object_text(e.object, ctx.lang, roles or {}),
            e.reason,
        )
    console().print(table)


def _object_text(obj: str, lang: str, roles: dict[str, str]) -> str:
    """An audit-log object (``plan:layer:GHYD``, ``layer:GHYD``, ``table:targets``) as a
    person reads it; ``--json`` and ``--object`` keep the id."""
    zh = lang != "en"
    kind, _, name = obj.partition(":")
    if kind == "plan" and name:
        shown = plan_label(name, lang, layer_roles=roles)
        return f"规划 {shown}" if zh else f"plan {shown}"
    if kind == "layer" and name:
        return f"图层 {name}" if zh else f"layer {name}"
    if kind == "table" and name:
        return plan_label(implicit_table_plan(name), lang)
    return _OBJECT_ZH.get(obj, obj) if zh else obj
