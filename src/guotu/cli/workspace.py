"""Workspace commands: ``guotu import``, ``guotu layers``, ``guotu roles``, ``guotu stats``.

Each acts as the command's principal (:mod:`guotu.cli.principal`): ``import`` needs the
``edit`` permission and a layer policy letting them edit the layer; ``layers`` lists the
layers they may read (without the fields hidden from them, counting the rows of their own
行政区 where a layer limits them), as if the others did not exist; ``stats`` sums a layer they
may read whole, and writing it to a file (``--csv``, ``--xlsx``) is an export.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from pathlib import Path

import click
import pandas as pd
from rich.table import Table

from guotu.cli.base import (
    Context,
    console,
    emit_json,
    geometry_name,
    json_option,
    lang_option,
    pass_context,
    root,
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
from guotu.domain.core.catalog import LayerInfo
from guotu.domain.core.model import check_layer_name
from guotu.domain.core.plan_labels import plan_label, plan_version_label
from guotu.domain.core.roles import ROLES, get_role
from guotu.domain.geometry.crs import parse_crs
from guotu.errors import ConfigError
from guotu.io.encodings import codec_name
from guotu.io.readers import require_file
from guotu.services.access import (
    LayerAccess,
    record_restricted_read,
    require_export,
    require_whole,
    row_mask,
)
from guotu.services.importing import import_file
from guotu.services.stats import BalanceTable, land_use_balance

__all__ = [
    "field_pairs",
    "import_command",
    "layers_command",
    "render_balance",
    "roles_command",
    "stats_command",
]


def field_pairs(values: tuple[str, ...], option: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for item in values:
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ConfigError(
                f"{option} {item!r} is not of the form FIELD=VALUE.",
                fix=f"Write e.g. {option} 容积率=RJL.",
                message_zh=f"{option} {item!r} 不是“字段=值”的形式。",
                fix_zh=f"请写成如 {option} 容积率=RJL 的形式。",
            )
        out[key.strip()] = value.strip()
    return out


@root.command("import")
@click.argument("file", type=click.Path())
@click.option("--role", required=True, help="Layer role: id or Chinese name (see `guotu roles`).")
@workspace_option()
@click.option("--layer", help="Workspace layer name (default: the role id).")
@click.option("--source-layer", help="Layer inside a multi-layer file (.gpkg, .gdb).")
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Map a source column to a standard field (repeatable): --map 规划代码=YDYHFLDM.",
)
@click.option("--crs", help="Declare the file's CRS, e.g. EPSG:4527 (needed when it has none).")
@click.option("--table", type=click.Path(), help="CSV/XLSX attribute table to join by --key.")
@click.option("--key", help="Key field shared by the layer and --table (e.g. DKBH).")
@click.option("--replace", is_flag=True, help="Replace an existing layer of the same name.")
@click.option("--workspace-crs", help="CRS of a new workspace instead of the data's GK zone.")
@click.option(
    "--encoding",
    help="Encoding of the file's text (GBK, UTF-8 …), overriding a "
    "Shapefile's .cpg; checked against the bytes all the same.",
)
@click.option(
    "--allow-empty-geometry",
    is_flag=True,
    help="Keep features without geometry (refused otherwise); the result counts them.",
)
@version_options
@json_option
@lang_option
@pass_context
def import_command(
    ctx: Context,
    file: str,
    role: str,
    workspace: str,
    layer: str | None,
    source_layer: str | None,
    maps: tuple[str, ...],
    crs: str | None,
    table: str | None,
    key: str | None,
    replace: bool,
    workspace_crs: str | None,
    encoding: str | None,
    allow_empty_geometry: bool,
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
    """Import FILE (Shapefile, GeoPackage, FileGDB, GeoJSON) as a layer of the workspace.

    The import is atomic: it completes, or the workspace is exactly as before. With
    --plan/--version the layer is recorded in that version of a plan; features unchanged
    from the parent version are shared, not copied.
    """
    # Every option is checked before the workspace is opened: a command that fails creates
    # no workspace (and what only the data shows removes the one it created).
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
    get_role(role)
    require_file(file)
    if table is not None:
        require_file(table)
    field_map = field_pairs(maps, "--map")
    if layer is not None:
        check_layer_name(layer.strip())
    for value, option in ((crs, "--crs"), (workspace_crs, "--workspace-crs")):
        if value:
            parse_crs(value, source=option)
    if encoding:
        codec_name(encoding, "--encoding", option="--encoding")
    with open_as(workspace, create=True) as (store, who):
        who.require_edit(store, (layer or get_role(role).id).strip())
        result = import_file(
            store,
            file,
            role=role,
            layer=layer,
            source_layer=source_layer,
            field_map=field_map,
            crs=crs,
            table=table,
            table_key=key,
            replace=replace,
            workspace_crs=workspace_crs,
            version=authored(spec, who),
            actor=who.name,
            reason=reason,
            encoding=encoding,
            allow_empty_geometry=allow_empty_geometry,
        )
    if as_json:
        emit_json(result.to_dict())
        return
    info = result.layer
    click.echo(
        ctx.t(
            f"已导入 {info.features} 个要素 → 图层 {info.name}（{info.role}），"
            f"坐标系 {result.source_crs} → {result.workspace_crs}",
            f"Imported {info.features} features → layer {info.name} ({info.role}), "
            f"CRS {result.source_crs} → {result.workspace_crs}",
        )
    )
    if result.source.encoding:
        click.echo(
            ctx.t(
                f"属性编码：{result.source.encoding}",
                f"Attribute encoding: {result.source.encoding}",
            )
        )
    mapped = ", ".join(f"{k}→{v}" for k, v in result.field_map.items() if k != v)
    if mapped:
        click.echo(ctx.t(f"字段映射：{mapped}", f"Field mapping: {mapped}"))
    if result.table_rows_joined is not None:
        click.echo(
            ctx.t(
                f"属性表关联：{result.table_rows_joined} 个要素",
                f"Table joined to {result.table_rows_joined} features",
            )
        )
    for zh, en in zip(result.warnings_zh, result.warnings, strict=True):
        click.echo(ctx.t("提示：" + zh, "Note: " + en))


def _as_seen(info: LayerInfo, access: LayerAccess) -> LayerInfo:
    """``info`` without the fields hidden from ``access``'s principal."""
    hidden = access.hidden(info.name)
    if not hidden:
        return info
    return dataclasses.replace(
        info,
        columns={c: kind for c, kind in info.columns.items() if c not in hidden},
        field_map={k: v for k, v in info.field_map.items() if v not in hidden},
    )


@root.command("layers")
@workspace_option()
@time_options
@json_option
@lang_option
@pass_context
def layers_command(
    ctx: Context, workspace: str, as_of: datetime | None, known_at: datetime | None, as_json: bool
) -> None:
    """List the layers of the workspace, with the plan version each one is read at."""
    day, known = as_dates(as_of, known_at)
    with open_as(workspace) as (store, who):
        access = who.access(store)
        infos = [_as_seen(i, access) for i in store.layers() if access.may_read(i.name)]
        seen = {i.name: store.layer_version(i.name, as_of=day, known_at=known) for i in infos}
        counts = {}
        for i in infos:
            rows = access.row_filter(i.name)
            if rows is not None and rows.field in i.columns:
                frame = store.read_layer(i.name, columns=[rows.field], as_of=day, known_at=known)
                counts[i.name] = int(row_mask(frame[rows.field].to_numpy(), rows).sum())
            elif day or known:
                frame = store.read_layer(i.name, columns=[], as_of=day, known_at=known)
                counts[i.name] = len(frame)
            else:
                counts[i.name] = i.features
    labels = {name: (v.label if v is not None else None) for name, v in seen.items()}
    if as_json:
        emit_json(
            [
                {
                    **{
                        k: v
                        for k, v in i.to_dict().items()
                        if k
                        in ("name", "role", "geometry_type", "crs", "columns", "source", "plan")
                    },
                    "plan_label": plan_label(i.plan, ctx.lang, role=i.role),
                    "features": counts[i.name],
                    "version": labels[i.name],
                    "plan_version_label": plan_version_label(
                        i.plan, labels[i.name], ctx.lang, role=i.role
                    ),
                }
                for i in infos
            ]
        )
        return
    names = {r.id: r.name_zh if ctx.lang == "zh" else r.name_en for r in ROLES}
    table = Table(title=ctx.t(f"工作空间 {workspace}", f"Workspace {workspace}"))
    for head in (
        ctx.t("图层", "Layer"),
        ctx.t("类型", "Role"),
        ctx.t("要素数", "Features"),
        ctx.t("几何", "Geometry"),
        ctx.t("坐标系", "CRS"),
        ctx.t("规划/版本", "Plan/version"),
    ):
        table.add_column(head)
    for i in infos:
        table.add_row(
            i.name,
            names.get(i.role, i.role),
            str(counts[i.name]),
            geometry_name(i.geometry_type, ctx.lang),
            i.crs,
            plan_version_label(i.plan, labels[i.name], ctx.lang, role=i.role),
        )
    console().print(table)


@root.command("roles")
@json_option
@lang_option
@pass_context
def roles_command(ctx: Context, as_json: bool) -> None:
    """List the layer roles of the one map (三区三线, 规划用地, 详细规划地块 …)."""
    if as_json:
        emit_json(
            [
                {
                    "id": r.id,
                    "name_zh": r.name_zh,
                    "name_en": r.name_en,
                    "geometry": r.geometry.value,
                    "fields": list(r.fields),
                    "required": list(r.required),
                    "code_field": r.code_field,
                }
                for r in ROLES
            ]
        )
        return
    table = Table()
    for head in (
        ctx.t("编号", "id"),
        ctx.t("名称", "Name"),
        ctx.t("几何", "Geometry"),
        ctx.t("必填字段", "Required"),
    ):
        table.add_column(head)
    for r in ROLES:
        table.add_row(
            r.id,
            r.name_zh if ctx.lang == "zh" else r.name_en,
            geometry_name(r.geometry.value, ctx.lang),
            ctx.t("、", ", ").join(r.required),
        )
    console().print(table)


@root.command("stats")
@workspace_option()
@click.option("--layer", required=True, help="Layer to tabulate (e.g. GHYD).")
@click.option("--field", "code_field", help="Code field (default: the role's, YDYHFLDM/DLBM).")
@click.option("--boundary", help="Clip to this layer's features (e.g. XZQ).")
@click.option(
    "--where",
    "wheres",
    multiple=True,
    metavar="FIELD=VALUE",
    help="Select boundary features: --where XZQDM=370123101000.",
)
@click.option(
    "--level",
    "max_level",
    type=click.IntRange(1, 3),
    default=3,
    show_default=True,
    help="Deepest code level to list.",
)
@click.option("--mu", is_flag=True, help="Also give areas in 亩.")
@click.option("--csv", "csv_path", type=click.Path(dir_okay=False), help="Write the table as CSV.")
@click.option(
    "--xlsx", "xlsx_path", type=click.Path(dir_okay=False), help="Write the table as XLSX."
)
@time_options
@json_option
@lang_option
@pass_context
def stats_command(
    ctx: Context,
    workspace: str,
    layer: str,
    code_field: str | None,
    boundary: str | None,
    wheres: tuple[str, ...],
    max_level: int,
    mu: bool,
    csv_path: str | None,
    xlsx_path: str | None,
    as_of: datetime | None,
    known_at: datetime | None,
    as_json: bool,
) -> None:
    """Land-use balance table (用地平衡表): ellipsoidal area by code at each level."""
    day, known = as_dates(as_of, known_at)
    with open_as(workspace) as (store, who):
        access = require_whole(store, who.principal, layer, ("table", "用地平衡表"))
        if boundary is not None:
            require_whole(store, access, boundary, ("table", "用地平衡表"))
        summed = [layer, *([boundary] if boundary is not None else [])]
        if csv_path or xlsx_path:
            what = f"cli:stats.{'csv' if csv_path else 'xlsx'}"
            require_export(store, access, summed, what, who.address)
        else:
            for name in summed:
                record_restricted_read(store, access, name, "cli:stats", who.address)
        table = land_use_balance(
            store,
            layer,
            code_field=code_field,
            boundary_layer=boundary,
            where=field_pairs(wheres, "--where"),
            max_level=max_level,
            as_of=day,
            known_at=known,
        )
    frame = table.to_frame(lang=ctx.lang, mu=mu)
    if csv_path:
        frame.to_csv(Path(csv_path), index=False, encoding="utf-8-sig")
    if xlsx_path:
        frame.to_excel(Path(xlsx_path), index=False, sheet_name="用地平衡表")
    if as_json:
        emit_json(table.to_dict())
        return
    render_balance(ctx, table, frame)


def render_balance(ctx: Context, table: BalanceTable, frame: pd.DataFrame | None = None) -> None:
    """Print a 用地平衡表 as a terminal table with its total and notes."""
    if frame is None:
        frame = table.to_frame(lang=ctx.lang)
    layer = table.layer
    title = ctx.t(f"用地平衡表：{layer}", f"Land-use balance: {layer}")
    if table.boundary:
        title += ctx.t(f"（范围 {table.boundary}）", f" (within {table.boundary})")
    out = Table(title=title)
    for col in frame.columns:
        out.add_column(str(col), justify="right" if frame[col].dtype.kind in "if" else "left")
    for row in frame.itertuples(index=False):
        indent = "  " * (int(row[2]) - 1)
        cells = [
            indent + str(row[0]),
            *(f"{v:,.2f}" if isinstance(v, float) else str(v) for v in row[1:]),
        ]
        out.add_row(*cells)
    console().print(out)
    if table.read is not None:
        click.echo(table.read.text(ctx.lang))
    click.echo(
        ctx.t(
            f"合计：{table.total_area_m2:,.2f} 平方米（{table.total_area_m2 / 1e4:,.4f} "
            f"公顷），{table.features} 个图斑",
            f"Total: {table.total_area_m2:,.2f} m² ({table.total_area_m2 / 1e4:,.4f} ha), "
            f"{table.features} features",
        )
    )
    for zh, en in table.notes:
        click.echo(ctx.t("说明：" + zh, "Note: " + en))
