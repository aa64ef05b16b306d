"""``guotu review`` (成果审查) and ``guotu rules`` (rule packs).

``guotu review`` acts as the command's principal (:mod:`guotu.cli.principal`), as the
server's review does: it needs the ``review`` permission and reads only the layers they may
read whole (a layer they may not is left out, or not found when named, as an absent one);
writing a report file (``--html``, ``--pdf``, ``--xlsx``, ``--gpkg``) is an export of every
layer it read. Its reads and exports of 受限 layers are recorded in the audit log.

Exit codes of ``guotu review``: 0 nothing at or above ``--fail-on`` (default ``error``),
1 findings at or above it, 2 input error (bad file, pack or option), 3 environment error.
``guotu rules validate`` exits 2 when the pack has problems, listing every one.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar

import click
from rich.table import Table
from rich.text import Text

from guotu.cli.base import (
    Context,
    console,
    emit_json,
    json_option,
    lang_option,
    pass_context,
    root,
    use_layer_option,
    workspace_option,
)
from guotu.cli.plans import as_dates, time_options
from guotu.cli.principal import open_as
from guotu.cli.workspace import field_pairs
from guotu.domain.access.roles import Permission
from guotu.domain.checks.feature_geometry import validity_reason
from guotu.domain.core.roles import get_role
from guotu.domain.review.operators import OPERATORS
from guotu.domain.review.pack import KIND_NAMES, KINDS, pack_hash
from guotu.errors import ConfigError
from guotu.io.review_report import (
    write_review_gpkg,
    write_review_html,
    write_review_pdf,
    write_review_xlsx,
)
from guotu.services.access import record_restricted_read, require_export, whole_layers
from guotu.services.review import ReviewOptions, ReviewReport, review_plan
from guotu.services.review_output import review_document, review_json, summary_text
from guotu.services.review_source import ImportOptions, parse_review_source
from guotu.services.rule_packs import load_rule_pack, validate_pack_files

__all__ = ["review_command", "rules_group"]


@root.group("rules")
def rules_group() -> None:
    """Rule packs of the plan review: validate, list and show rules."""


F = TypeVar("F", bound=Callable[..., Any])


def _pack_options(f: F) -> F:
    f = click.option(
        "--profile",
        default=None,
        metavar="PROFILE",
        help="A provincial/local profile over the pack (file or built-in id, e.g. sd-example).",
    )(f)
    return click.option(
        "--rules",
        "pack",
        default="cn-base",
        show_default=True,
        metavar="PACK",
        help="Rule pack: a YAML file or a built-in id.",
    )(f)


@rules_group.command("validate")
@click.argument("pack", default="cn-base")
@click.option("--profile", default=None, help="Validate this profile over PACK too.")
@json_option
@lang_option
@pass_context
def rules_validate(ctx: Context, pack: str, profile: str | None, as_json: bool) -> None:
    """Check a rule pack (and a profile) against the schema; list every problem.

    \b
    Examples:
      guotu rules validate my-pack.yaml
      guotu rules validate cn-base --profile my-province.yaml
    """
    result, problems = validate_pack_files(pack, profile)
    if as_json:
        emit_json(
            {
                "valid": not problems,
                "problems": [
                    {"file": p.file, "path": p.path, "message": p.message} for p in problems
                ],
                "rule_pack_hash": pack_hash(result) if result else None,
                "rules": len(result.rules) if result else None,
            }
        )
    else:
        out = console()
        for p in problems:
            out.print(f"{p.file}: {p.path}: {p.message}", highlight=False, markup=False)
        if problems:
            out.print(
                ctx.t(
                    f"共 {len(problems)} 处问题。请按规则包格式（docs/review.md，模式 "
                    "rulepack-v1）逐条修改后再运行 guotu rules validate。",
                    f"{len(problems)} problem(s). Correct each as the rule-pack format "
                    "(docs/review.md, schema rulepack-v1) says, then validate again.",
                )
            )
        elif result is not None:
            out.print(
                ctx.t(
                    f"规则包有效：{result.id} {result.version}"
                    f"{'（' + result.profile + '）' if result.profile else ''}，"
                    f"{len(result.rules)} 条规则，{pack_hash(result)}",
                    f"Valid: {result.id} {result.version}"
                    f"{' (' + result.profile + ')' if result.profile else ''}, "
                    f"{len(result.rules)} rules, {pack_hash(result)}",
                ),
                highlight=False,
            )
    if problems:
        click.get_current_context().exit(2)


@rules_group.command("list")
@_pack_options
@click.option(
    "--kind",
    type=click.Choice(list(KINDS)),
    default=None,
    help="Only the rules of this review kind.",
)
@json_option
@lang_option
@pass_context
def rules_list(
    ctx: Context, pack: str, profile: str | None, kind: str | None, as_json: bool
) -> None:
    """List the rules of a pack (with a profile applied)."""
    rp = load_rule_pack(pack, profile)
    rules = rp.rules_for(kind) if kind else rp.rules
    if as_json:
        emit_json(
            {
                "rule_pack": rp.id,
                "profile": rp.profile,
                "rule_pack_hash": pack_hash(rp),
                "operators": list(OPERATORS.names()),
                "rules": [
                    {
                        "id": r.id,
                        "title": r.title(ctx.lang),
                        "kinds": list(r.kinds),
                        "operator": r.operator,
                        "severity": r.severity.value,
                        "basis": r.basis.text(),
                    }
                    for r in rules
                ],
            }
        )
        return
    table = Table(
        title=ctx.t(f"规则包 {rp.id} {rp.version}", f"Rule pack {rp.id} {rp.version}")
        + (f" + {rp.profile}" if rp.profile else "")
    )
    for head in (
        ctx.t("规则", "Rule"),
        ctx.t("名称", "Title"),
        ctx.t("级别", "Severity"),
        ctx.t("审查类型", "Kinds"),
        ctx.t("依据", "Basis"),
    ):
        table.add_column(head, no_wrap=head in ("规则", "Rule"))
    for r in rules:
        table.add_row(
            r.id,
            r.title(ctx.lang),
            r.severity.text(ctx.lang),
            ctx.t("、", ", ").join(r.kinds),
            r.basis.text(),
        )
    console().print(table)


@rules_group.command("show")
@click.argument("rule_id")
@_pack_options
@json_option
@lang_option
@pass_context
def rules_show(ctx: Context, rule_id: str, pack: str, profile: str | None, as_json: bool) -> None:
    """Show one rule: basis, scope, operator, arguments, tolerance and templates."""
    rp = load_rule_pack(pack, profile)
    r = rp.rule(rule_id)
    doc: dict[str, Any] = {
        "id": r.id,
        "title_zh": r.title_zh,
        "title_en": r.title_en,
        "basis": {"document": r.basis.document, "article": r.basis.article},
        "kinds": list(r.kinds),
        "operator": r.operator,
        "severity": r.severity.value,
        "scope": {
            "codes": list(r.subject_codes),
            "exclude": list(r.subject_exclude),
            "zone_role": r.zone_role,
            "zone_field": r.zone_field,
            "zone_values": list(r.zone_values),
        },
        "args": dict(r.args),
        "tolerance": dict(r.tolerance),
        "message_zh": r.message_zh,
        "message_en": r.message_en,
        "suggestion_zh": r.suggestion_zh,
        "suggestion_en": r.suggestion_en,
        "origin": r.origin,
    }
    if as_json:
        emit_json(doc)
        return
    out = console()
    if ctx.lang != "zh":
        for key, value in doc.items():
            out.print(f"[bold]{key}[/bold]: {value}", highlight=False)
        return

    def listed(values: Any, none: str = "—") -> str:
        return "、".join(map(str, values)) or none

    scope = doc["scope"]
    zone = "—"
    if scope["zone_role"]:
        zone = f"{get_role(scope['zone_role']).name_zh}（{scope['zone_role']}）"
    if scope["zone_field"]:
        zone += f"（字段 {scope['zone_field']}：{listed(scope['zone_values'], '任意值')}）"
    rows = [
        ("规则", r.id),
        ("名称", r.title_zh),
        ("依据", r.basis.text()),
        ("审查类型", listed(r.kinds)),
        ("算子", r.operator),
        ("级别", r.severity.name_zh),
        ("适用代码", listed(scope["codes"], "全部")),
        ("不含代码", listed(scope["exclude"])),
        ("比对图层类型", zone),
        ("参数", json.dumps(doc["args"], ensure_ascii=False) if doc["args"] else "—"),
        ("容差", json.dumps(doc["tolerance"], ensure_ascii=False) if doc["tolerance"] else "—"),
        ("问题描述模板", r.message_zh),
        ("修改建议模板", r.suggestion_zh or "—"),
        ("来源", r.origin or "—"),
    ]
    for label, value in rows:
        out.print(Text.assemble((label, "bold"), "：", str(value)), highlight=False)


def _render(ctx: Context, report: ReviewReport) -> None:
    out = console()
    # the source and data versions as a reader reads them
    readable = review_document(report, ctx.lang)
    source = readable.source_label
    stamp = readable.stamp
    pack = f"{stamp.rule_pack} {stamp.rule_pack_version}"
    if stamp.profile:
        pack += f" + {stamp.profile}"
    as_of = "" if stamp.as_of is None else stamp.as_of.isoformat()
    kind_zh, kind_en = KIND_NAMES.get(report.kind, (report.kind, report.kind))
    out.print(
        ctx.t(
            f"审查对象：{source}，审查类型 {kind_zh}，规则包 {pack}，"
            f"{stamp.rule_pack_hash[:19]}…，现行日期 {as_of}",
            f"Reviewed: {source} ({kind_en}), rule pack {pack}, "
            f"{stamp.rule_pack_hash[:19]}…, as of {as_of}",
        ),
        highlight=False,
    )
    for v in readable.data_versions:
        out.print(
            ctx.t(f"  {v.label}（{v.status_label}）", f"  {v.label} ({v.status_label})"),
            highlight=False,
        )
    if report.findings:
        table = Table(title=ctx.t("审查问题", "Findings"))
        for head in (
            "#",
            ctx.t("规则", "Rule"),
            ctx.t("级别", "Severity"),
            ctx.t("面积(m²)", "Area (m²)"),
            ctx.t("说明", "Message"),
        ):
            table.add_column(head, overflow="fold")
        titles = {r.id: r.title(ctx.lang) for r in report.rules}
        for n, f in enumerate(report.findings, start=1):
            rule = f"{titles[f.rule]}\n[dim]{f.rule}[/dim]" if f.rule in titles else f.rule
            table.add_row(
                str(n),
                rule,
                f.severity.text(ctx.lang),
                "—" if f.area_m2 is None else f"{f.area_m2:,.2f}",
                ctx.t(f.message_zh, f.message_en),
            )
        out.print(table)
    out.print(summary_text(report, ctx.lang), highlight=False)
    for sk in report.skipped:
        out.print(
            ctx.t(f"未运行 {sk.rule}：{sk.reason_zh}", f"Not run {sk.rule}: {sk.reason_en}"),
            highlight=False,
        )
    for r in report.repairs:
        reason = validity_reason(r.reason, ctx.lang)
        feature = r.feature.label()
        out.print(
            ctx.t(
                f"已按 make_valid 修复后审查：{r.layer} {feature}，{reason}",
                f"Reviewed after make_valid repair: {r.layer} {feature} ({reason})",
            ),
            highlight=False,
        )


def _outputs(workspace: str, paths: dict[str, str | None]) -> None:
    ws = Path(workspace).resolve()
    for opt, value in paths.items():
        if value and Path(value).resolve() == ws:
            raise ConfigError(
                f"--{opt} must not be the workspace itself.",
                file=value,
                fix="Give another file name.",
                message_zh=f"--{opt} 不能是工作空间文件本身。",
                fix_zh="请换一个文件名。",
            )


@root.command("review")
@click.argument("kind", type=click.Choice(list(KINDS)))
@click.argument("source", required=False)
@workspace_option()
@_pack_options
@click.option(
    "--layer",
    default=None,
    help="The workspace layer to review (default: the layer of the kind's role).",
)
@click.option("--source-layer", default=None, help="Layer inside a multi-layer SOURCE file.")
@click.option(
    "--table",
    default=None,
    type=click.Path(dir_okay=False),
    help="Attribute table (CSV/XLSX) joined to a SOURCE file, as for import.",
)
@click.option(
    "--key", "table_key", default=None, help="The field joining --table to SOURCE (e.g. DKBH)."
)
@click.option(
    "--map",
    "maps",
    multiple=True,
    metavar="COLUMN=FIELD",
    help="Map a SOURCE column to a standard field (repeatable), as for import.",
)
@click.option(
    "--crs",
    "source_crs",
    default=None,
    help="Declare the CRS of a SOURCE file that has none, e.g. EPSG:4527.",
)
@click.option(
    "--allow-empty-geometry",
    is_flag=True,
    help="Review a SOURCE file that holds features without geometry (refused "
    "otherwise), as for import.",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "info", "never"]),
    default="error",
    show_default=True,
    help="Exit 1 when a finding reaches this severity.",
)
@click.option(
    "--gpkg",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the finding geometries to this GeoPackage (QGIS).",
)
@click.option(
    "--html",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the self-contained HTML report here.",
)
@click.option(
    "--pdf", default=None, type=click.Path(dir_okay=False), help="Write the PDF report here."
)
@click.option(
    "--xlsx",
    default=None,
    type=click.Path(dir_okay=False),
    help="Write the findings as an Excel workbook here.",
)
@use_layer_option
@time_options
@json_option
@lang_option
@pass_context
def review_command(
    ctx: Context,
    kind: str,
    source: str | None,
    workspace: str,
    pack: str,
    profile: str | None,
    layer: str | None,
    source_layer: str | None,
    table: str | None,
    table_key: str | None,
    maps: tuple[str, ...],
    source_crs: str | None,
    allow_empty_geometry: bool,
    fail_on: str,
    gpkg: str | None,
    html: str | None,
    pdf: str | None,
    xlsx: str | None,
    use_layers: tuple[str, ...],
    as_of: datetime | None,
    known_at: datetime | None,
    as_json: bool,
) -> None:
    """Review a plan, route, project or indicator table against the one map (成果审查).

    SOURCE is a file (Shapefile, GeoPackage, GeoJSON, FileGDB; CSV/XLSX for indicators), a
    recorded plan version PLAN@LABEL, or nothing (the workspace's layer of that kind).

    \b
    Examples:
      guotu review master-plan -w county.gpkg --html 审查报告.html
      guotu review detailed-plan 控规地块.shp --table 指标.xlsx --key DKBH -w county.gpkg --pdf r.pdf
      guotu review special-plan 线位.geojson -w county.gpkg --json
      guotu review indicators 规划指标表.xlsx -w county.gpkg --profile sd-example
    """
    _outputs(workspace, {"gpkg": gpkg, "html": html, "pdf": pdf, "xlsx": xlsx})
    rp = load_rule_pack(pack, profile)
    day, known = as_dates(as_of, known_at)
    show = not as_json and sys.stderr.isatty()

    def progress(rule_id: str, n: int, total: int) -> None:
        if show:
            click.echo(ctx.t(f"[{n}/{total}] {rule_id}", f"[{n}/{total}] {rule_id}"), err=True)

    reading = ImportOptions(
        source_layer=source_layer,
        table=None if table is None else Path(table),
        table_key=table_key,
        field_map=field_pairs(maps, "--map") or {},
        crs=source_crs,
        allow_empty_geometry=allow_empty_geometry,
    )
    subject = parse_review_source(source, kind=kind, layer=layer, options=reading)
    with open_as(workspace) as (store, who):
        who.require(Permission.REVIEW)
        access = who.access(store)
        options = ReviewOptions(
            pack=rp,
            as_of=day,
            known_at=known,
            use_layers=use_layers,
            progress=progress,
            readable=whole_layers(store, access),
        )
        report = review_plan(store, kind, subject, options)
        read = sorted({r.layer for r in report.reads})
        for layer in read:
            record_restricted_read(store, access, layer, "cli:review", who.address)
        if html or pdf or xlsx or gpkg:
            require_export(store, access, read, "cli:review-report", who.address)
    if html or pdf or xlsx or gpkg:
        doc = review_document(report, ctx.lang, report.layers)
        if html:
            write_review_html(doc, Path(html))
        if pdf:
            write_review_pdf(doc, Path(pdf))
        if xlsx:
            write_review_xlsx(doc, Path(xlsx))
        if gpkg:
            write_review_gpkg(doc, Path(gpkg))
    if as_json:
        emit_json(review_json(report, ctx.lang))
    else:
        _render(ctx, report)
        for label, value in (("HTML", html), ("PDF", pdf), ("XLSX", xlsx), ("GeoPackage", gpkg)):
            if value:
                console().print(
                    ctx.t(f"{label} 报告已写入 {value}", f"{label} written to {value}"),
                    highlight=False,
                )
    if report.reaches(fail_on):
        click.get_current_context().exit(1)
