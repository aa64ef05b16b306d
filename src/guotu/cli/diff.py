"""``guotu diff``: compare two versions of a plan — features added, removed and changed, and
the 用地变化矩阵 (land-use change matrix) — on screen, as JSON, XLSX or a GeoPackage for QGIS.

The comparison is the principal's (:mod:`guotu.cli.principal`), as the server's
``/ui/diff.json`` is (:func:`~guotu.services.access.restrict_diff`): a plan they may not know
of is not found, layers they may not read are left out, hidden fields are not compared and a
layer limited to their 行政区 shows its changes there only; ``--xlsx``/``--gpkg`` are exports.
"""

from __future__ import annotations

from pathlib import Path

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
from guotu.cli.principal import open_as
from guotu.domain.codes.code_names import CODE_SCHEMES, CodeName
from guotu.domain.core.plan_labels import plan_label
from guotu.errors import ConfigError
from guotu.io.diff_report import write_diff_gpkg, write_diff_xlsx
from guotu.services.access import record_restricted_read, require_export, restrict_diff
from guotu.services.diff import NONE_CODE, diff_versions

__all__ = ["diff_command"]


@root.command("diff")
@click.argument("plan")
@click.argument("old")
@click.argument("new")
@workspace_option()
@click.option("--layer", "layers", multiple=True, help="Only these layers of the plan.")
@click.option(
    "--xlsx",
    "xlsx_path",
    type=click.Path(dir_okay=False),
    help="Write the changes and the 用地变化 matrix as XLSX.",
)
@click.option(
    "--gpkg",
    "gpkg_path",
    type=click.Path(dir_okay=False),
    help="Write the changed geometries as a GeoPackage (for QGIS).",
)
@click.option("--force", is_flag=True, help="Overwrite existing --xlsx/--gpkg files.")
@json_option
@lang_option
@pass_context
def diff_command(
    ctx: Context,
    plan: str,
    old: str,
    new: str,
    workspace: str,
    layers: tuple[str, ...],
    xlsx_path: str | None,
    gpkg_path: str | None,
    force: bool,
    as_json: bool,
) -> None:
    """Compare versions OLD and NEW of PLAN: features added, removed, changed; 用地变化矩阵."""
    for out_path in (p for p in (xlsx_path, gpkg_path) if p):
        _check_output(Path(out_path), Path(workspace), force)
    with open_as(workspace) as (store, who):
        access = who.access(store)
        found = diff_versions(store, plan_name(store, plan, who), old, new, layers=layers or None)
        result = restrict_diff(found, access)
        roles = {i.name: i.role for i in store.layers() if access.may_read(i.name)}
        shown = [d.layer for d in result.layers]
        if xlsx_path or gpkg_path:
            require_export(store, access, shown, "cli:diff", who.address)
        else:
            for name in shown:
                record_restricted_read(store, access, name, "cli:diff", who.address)
    if xlsx_path:
        write_diff_xlsx(Path(xlsx_path), result, lang=ctx.lang)
    if gpkg_path:
        write_diff_gpkg(Path(gpkg_path), result)
    if as_json:
        emit_json(result.to_dict())
        return
    out = console()
    label = plan_label(result.plan, ctx.lang, layer_roles=roles)
    summary = Table(title=ctx.t(f"{label}：{old} → {new}", f"{label}: {old} → {new}"))
    for head in (
        ctx.t("图层", "Layer"),
        ctx.t("新增", "Added"),
        ctx.t("删除", "Removed"),
        ctx.t("变更", "Changed"),
        ctx.t("变化面积(公顷)", "Area changed (ha)"),
    ):
        summary.add_column(head)
    for d in result.layers:
        changed_m2 = sum(v for (a, b), v in d.matrix.items() if a != b)
        summary.add_row(
            d.layer,
            str(d.count("added")),
            str(d.count("removed")),
            str(d.count("changed")),
            f"{changed_m2 / 1e4:,.4f}",
        )
    out.print(summary)
    for d in result.layers:
        if not d.matrix:
            continue
        names = d.code_names()
        scheme = CODE_SCHEMES.get(d.code_scheme or "")
        zh_scheme, en_scheme = (f"，{scheme[0]}", f", {scheme[1]}") if scheme else ("", "")
        m = Table(
            title=ctx.t(
                f"用地变化矩阵：{d.layer}（公顷{zh_scheme}）",
                f"Land-use change: {d.layer} (ha{en_scheme})",
            )
        )
        for head in (ctx.t("原用途", "From"), ctx.t("现用途", "To"), ctx.t("面积(公顷)", "ha")):
            m.add_column(head)
        for (a, b), v in sorted(d.matrix.items()):
            if a != b:
                m.add_row(_use(ctx, names, a), _use(ctx, names, b), f"{v / 1e4:,.4f}")
        out.print(m)


def _use(ctx: Context, names: dict[str, CodeName], code: str) -> str:
    """A use of the change matrix: ``0103 旱地``, or （无） for area without a counterpart."""
    if code == NONE_CODE:
        return ctx.t("（无）", "(none)")
    return names[code].text(ctx.lang) if code in names else code


def _check_output(path: Path, workspace: Path, force: bool) -> None:
    """An output file must not be the workspace, must have a folder, and is not overwritten
    unless asked."""
    if path.resolve() == workspace.resolve():
        raise ConfigError(
            f"{path} is the workspace itself; it cannot be an output file.",
            file=str(path),
            fix="Give another file name.",
            message_zh=f"{path} 就是工作空间本身，不能作为输出文件。",
            fix_zh="请换一个文件名。",
        )
    if not path.parent.is_dir():
        raise ConfigError(
            f"The folder of {path} does not exist.",
            file=str(path),
            fix="Create the folder or give another path.",
            message_zh=f"{path} 所在的文件夹不存在。",
            fix_zh="请先创建文件夹，或换一个路径。",
        )
    if path.exists() and not force:
        raise ConfigError(
            f"{path} exists already.",
            file=str(path),
            fix="Give another file name, or add --force to overwrite it.",
            message_zh=f"{path} 已存在。",
            fix_zh="请换一个文件名，或加 --force 覆盖。",
        )
