"""``guotu check``: data-quality checks (质检) of the workspace's layers.

The checks are the principal's (:mod:`guotu.cli.principal`): they run on the layers the
principal may read whole (a layer they may not read is not found, as an absent one; one
limited to their 行政区 is refused, since a check looks at every feature); ``--repair``
rewrites geometries, so needs the edit permission on each layer, and ``--errors-gpkg`` is an
export.

Exit codes: 0 nothing at or above ``--fail-on`` (default ``error``), 1 findings at or above
it, 2 input error (unknown layer, bad check list), 3 environment or store error.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import click
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
from guotu.cli.plans import as_dates, time_options
from guotu.cli.principal import CommandUser, open_as
from guotu.domain.access.roles import Permission
from guotu.domain.checks.feature_geometry import validity_reason
from guotu.domain.core.findings import Severity
from guotu.errors import ConfigError, PermissionDeniedError
from guotu.io.findings import write_findings_gpkg
from guotu.ports import FeatureStore
from guotu.services.access import record_restricted_read, require_export, require_readable
from guotu.services.checking import QualityReport, check_workspace, load_check_list
from guotu.services.read_note import ReadNote, describe_read

__all__ = ["check_command", "render_check"]


def render_check(
    ctx: Context,
    report: QualityReport,
    errors_gpkg: str | None,
    written: dict[str, int] | None,
    reads: Sequence[ReadNote] = (),
) -> None:
    out = console()
    for r in report.repairs:
        reason = validity_reason(r.reason, ctx.lang)
        out.print(
            ctx.t(
                f"已修复 图层 {r.layer} 要素 {r.fid}：{reason}；"
                f"面积 {r.area_before_m2:.2f} → {r.area_after_m2:.2f} m²，修复后为"
                f"{geometry_name(r.geometry_type or '', 'zh')}",
                f"Repaired layer {r.layer} feature {r.fid}: {reason} (area "
                f"{r.area_before_m2:.2f} → {r.area_after_m2:.2f} m², {r.geometry_type})",
            ),
            highlight=False,
        )
    table = Table(
        title=ctx.t(f"质检结果：{report.workspace}", f"Quality checks: {report.workspace}")
    )
    for head in (
        ctx.t("检查", "Check"),
        ctx.t("图层", "Layer"),
        ctx.t("级别", "Severity"),
        ctx.t("数量", "Count"),
    ):
        table.add_column(head, justify="right" if head in ("数量", "Count") else "left")
    for row in report.counts():
        sev = row["severity"]
        table.add_row(
            f"{ctx.t(row['name_zh'], row['name_en'])} ({row['check']})",
            row["layer"],
            Severity(sev).text(ctx.lang) if sev else sev,
            str(row["count"]),
        )
    if report.findings:
        out.print(table)
    summary = report.summary()["by_severity"]
    out.print(
        ctx.t(
            f"共检查 {len(report.layers)} 个图层：错误 {summary['error']}，警告 {summary['warning']}，"
            f"提示 {summary['info']}。",
            f"Checked {len(report.layers)} layer(s): {summary['error']} error(s), "
            f"{summary['warning']} warning(s), {summary['info']} info.",
        ),
        highlight=False,
    )
    for note in reads:
        out.print(note.text(ctx.lang), highlight=False)
    for s in report.skipped:
        out.print(
            ctx.t(
                f"未运行 {s.rule}（{s.layer}）：{s.reason_zh}",
                f"Not run {s.rule} ({s.layer}): {s.reason_en}",
            ),
            highlight=False,
        )
    if errors_gpkg and written is not None:
        out.print(
            ctx.t(
                f"错误位置已写入 {errors_gpkg}（点 {written['finding_points']} 个，"
                f"面 {written['finding_areas']} 个），可在 QGIS 中打开。",
                f"Error locations written to {errors_gpkg} ({written['finding_points']} points, "
                f"{written['finding_areas']} areas); open it in QGIS.",
            ),
            highlight=False,
        )
    if report.findings:
        out.print(
            ctx.t(
                "详情：guotu check --json；逐条位置：--errors-gpkg 错误.gpkg",
                "Details: guotu check --json; locations: --errors-gpkg errors.gpkg",
            ),
            highlight=False,
        )


def _checked_layers(
    store: FeatureStore, who: CommandUser, names: Sequence[str], repair: bool
) -> list[str]:
    """The layers to check: ``names`` (each one the principal may read whole), or every
    such layer; with ``repair``, each one they may edit."""
    who.require(Permission.READ)
    access = who.access(store)
    chosen = [require_readable(store, access, n).name for n in names] or [
        i.name for i in store.layers() if access.is_whole(i.name)
    ]
    for name in chosen:
        if not access.is_whole(name):
            raise PermissionDeniedError(
                f"A quality check looks at every feature of {name}, which you may not see.",
                layer=name,
                message_zh=f"质检要检查图层 {name} 的全部要素，您无权查看其全部要素。",
            )
        if repair:
            who.require_edit(store, name)
    return chosen


@root.command("check")
@workspace_option()
@click.option(
    "--layer",
    "layers",
    multiple=True,
    metavar="NAME",
    help="Check only this layer (repeatable; default: every layer).",
)
@json_option
@click.option(
    "--errors-gpkg",
    type=click.Path(dir_okay=False),
    default=None,
    help="Write the finding locations to this GeoPackage (for QGIS).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default="error",
    show_default=True,
    help="Exit 1 when a finding reaches this severity.",
)
@click.option(
    "--repair",
    is_flag=True,
    help="Rewrite invalid geometries with make_valid first, listing each one.",
)
@click.option(
    "--checks",
    "checks_file",
    type=click.Path(dir_okay=False),
    default=None,
    help="Another check list (YAML, schema checks-v1) instead of the built-in one.",
)
@time_options
@lang_option
@pass_context
def check_command(
    ctx: Context,
    workspace: str,
    layers: tuple[str, ...],
    as_json: bool,
    errors_gpkg: str | None,
    fail_on: str,
    repair: bool,
    checks_file: str | None,
    as_of: datetime | None,
    known_at: datetime | None,
) -> None:
    """Check the workspace's layers: geometry, codes, attributes, overlaps, gaps, boundaries.

    \b
    Examples:
      guotu check -w county.gpkg
      guotu check -w county.gpkg --layer 规划用地 --json
      guotu check -w county.gpkg --errors-gpkg errors.gpkg --fail-on warning
    """
    if errors_gpkg and Path(errors_gpkg).resolve() == Path(workspace).resolve():
        raise ConfigError(
            "--errors-gpkg must not be the workspace itself.",
            file=errors_gpkg,
            fix="Give another file name, e.g. errors.gpkg.",
            message_zh="--errors-gpkg 不能是工作空间文件本身。",
            fix_zh="请换一个文件名，如 质检错误.gpkg。",
        )
    specs = load_check_list(checks_file)
    with open_as(workspace) as (store, who):
        day, known = as_dates(as_of, known_at)
        chosen = _checked_layers(store, who, layers, repair)
        report = (
            check_workspace(
                store, layers=chosen, checks=specs, repair=repair, as_of=day, known_at=known
            )
            if chosen
            else QualityReport(str(store.path), "", (), tuple(specs), ())  # nothing they read
        )
        if errors_gpkg:
            require_export(store, who.principal, report.layers, "cli:check", who.address)
        else:
            for name in report.layers:
                record_restricted_read(store, who.principal, name, "cli:check", who.address)
        reads = [describe_read(store, name, as_of=day, known_at=known) for name in report.layers]
        crs = store.crs
    written = None
    if errors_gpkg and crs is not None:
        written = write_findings_gpkg(errors_gpkg, report.findings, crs)
    if as_json:
        emit_json(report.to_dict(ctx.lang) | {"data_versions": [r.to_dict() for r in reads]})
    else:
        render_check(ctx, report, errors_gpkg, written, reads)
    if report.reaches(fail_on):
        click.get_current_context().exit(1)
