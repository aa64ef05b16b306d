"""``guotu monitor``: implementation monitoring (规划实施监测) — indicators with lineage,
targets, warnings and forecasts, and the 体检评估 report.

Its other commands live beside it: ``cases``/``case`` (:mod:`guotu.cli.monitor_cases`),
``consolidation`` (:mod:`guotu.cli.monitor_consolidation`), ``targets``/``statistics``
(:mod:`guotu.cli.monitor_tables`).

What a command shows is bounded by what its principal may read (:mod:`guotu.cli.principal`),
as on the server's dashboard: an indicator computed from a layer they may not read whole is
shown without its figures, and the report's cases and ledger then give the server's note; a
report written to a file is an export (of the layers its figures are read from), and reads and
exports of 受限 layers are recorded in the audit log.

Exit codes: 0 done (1 with ``--fail-on`` and an indicator at or above that status), 2 input
error (a catalogue, targets or statistics table that does not read), 3 environment or store
error.
"""

from __future__ import annotations

import sys
from datetime import datetime
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
    use_layer_option,
    workspace_option,
)
from guotu.cli.monitor_cases import case_command, cases_command
from guotu.cli.monitor_consolidation import consolidation_command
from guotu.cli.monitor_tables import statistics_group, targets_group
from guotu.cli.plans import as_dates, known_at_option, time_options
from guotu.cli.principal import CommandUser, open_as
from guotu.domain.access.policy import Action
from guotu.domain.access.roles import Permission
from guotu.errors import ConfigError
from guotu.ports import FeatureStore
from guotu.services.access import record_restricted_read
from guotu.services.monitoring_inputs import (
    Statistics,
    Targets,
    inputs_to_dict,
    load_catalogue,
    load_inputs,
)
from guotu.services.monitoring_report import (
    WITHHELD_NOTE,
    IndicatorReport,
    indicator_report,
    target_text,
    unit_label,
    withheld_indicators,
)

__all__ = ["monitor_group"]

_STATUS = {
    "green": ("[green]正常[/]", "[green]OK[/]"),
    "yellow": ("[yellow]预警[/]", "[yellow]warning[/]"),
    "red": ("[red]突破[/]", "[red]breached[/]"),
    None: ("—", "—"),
}
_TYPE = {"binding": ("约束性", "binding"), "expected": ("预期性", "expected")}
_RANK = {"never": 3, "red": 2, "yellow": 1}


@root.group("monitor")
def monitor_group() -> None:
    """Implementation monitoring (规划实施监测): indicators, warnings and forecasts."""


@monitor_group.command("indicators")
@workspace_option()
@time_options
@click.option(
    "--from-year",
    type=int,
    default=None,
    help="First year-end of the series (default: five years before --as-of).",
)
@click.option(
    "--catalogue",
    default="cn-core",
    show_default=True,
    help="Indicator catalogue: a built-in id or a YAML file.",
)
@click.option(
    "--targets",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Plan targets by year (CSV/XLSX: 指标名称, 单位, 2025, 2035 …) for this run "
    "instead of the workspace's targets table (guotu monitor targets import).",
)
@click.option(
    "--statistics",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Statistics by year (CSV/XLSX: 年份, 常住人口, 用水总量 …) for this run "
    "instead of the workspace's statistics table.",
)
@click.option("--explain", metavar="ID", help="Show the lineage of one indicator.")
@click.option(
    "--fail-on",
    type=click.Choice(["red", "yellow", "never"]),
    default="never",
    show_default=True,
    help="Exit 1 when an indicator is at or above this status.",
)
@use_layer_option
@json_option
@lang_option
@pass_context
def indicators_command(
    ctx: Context,
    workspace: str,
    as_of: datetime | None,
    known_at: datetime | None,
    from_year: int | None,
    catalogue: str,
    targets: Path | None,
    statistics: Path | None,
    explain: str | None,
    fail_on: str,
    use_layers: tuple[str, ...],
    as_json: bool,
) -> None:
    """Indicator values as of a date, with their year-end series, targets, status and trend.

    \b
    Examples:
      guotu monitor indicators -w demo_county.gpkg
      guotu monitor indicators -w demo_county.gpkg --targets 规划目标_征求意见稿.xlsx
      guotu monitor indicators -w demo_county.gpkg --as-of 2024-12-31 --json
      guotu monitor indicators -w demo_county.gpkg --explain cultivated_land
    """
    day, known = as_dates(as_of, known_at)
    cat = load_catalogue(catalogue)
    ids = [i.id for i in cat.indicators]
    if explain is not None and explain not in ids:
        listed = ", ".join(ids)
        raise ConfigError(
            f"The catalogue has no indicator {explain!r}.",
            fix=f"Use one of: {listed}.",
            message_zh=f"指标目录中没有指标 {explain!r}。",
            fix_zh=f"可选：{listed}。",
        )
    with open_as(workspace) as (store, who):
        blocked = _blocked(store, who, Action.READ, "cli:monitor-indicators")
        withheld = withheld_indicators(cat, blocked)
        tgt, stats = load_inputs(
            store, cat, targets_file=targets, statistics_file=statistics, as_of=day, known_at=known
        )
        report = indicator_report(
            store,
            cat,
            as_of=day,
            first_year=from_year,
            known_at=known,
            targets=tgt,
            statistics=stats,
            use_layers=use_layers,
        )
    if as_json:
        emit_json({**report.to_dict(ctx.lang, withheld), "inputs": inputs_to_dict(tgt, stats)})
    else:
        _render(ctx, report, explain, withheld)
        _print_sources(ctx, tgt, stats)
    shown = [v for v in report.current() if v.indicator.id not in withheld]
    worst = max((_RANK.get(v.status or "", 0) for v in shown), default=0)
    if fail_on != "never" and worst >= _RANK[fail_on]:
        sys.exit(1)


def _blocked(store: FeatureStore, who: CommandUser, action: Action, what: str) -> set[str]:
    """The roles of the layers ``who`` may not ``action`` whole (figures read from a layer of
    one of them are withheld); the reads (exports) of the 受限 others are audited as ``what``."""
    who.require(Permission.READ if action is Action.READ else Permission.EXPORT)
    access = who.access(store)
    infos = store.layers()
    blocked = {i.role for i in infos if not access.is_whole(i.name, action)}
    for info in infos:
        if info.role not in blocked:
            record_restricted_read(store, access, info.name, what, who.address, action=action)
    return blocked


def _print_sources(ctx: Context, tgt: Targets, stats: Statistics) -> None:
    """Which targets and statistics the run used (the workspace's version, or a file)."""
    for table in (tgt, stats):
        if table.origin is not None:
            console().print(table.origin.describe(ctx.lang), highlight=False, soft_wrap=True)


def _render(
    ctx: Context, report: IndicatorReport, explain: str | None, withheld: frozenset[str]
) -> None:
    out = console()
    zh = ctx.lang == "zh"
    doc = report.to_dict(ctx.lang, withheld)
    note = WITHHELD_NOTE[0] if zh else WITHHELD_NOTE[1]
    out.print(
        ctx.t(
            f"{doc['catalogue']['title']}（{report.catalogue.id} {report.catalogue.version}）"
            f"，现状日期 {doc['as_of']}",
            f"{doc['catalogue']['title']} ({report.catalogue.id} "
            f"{report.catalogue.version}), as of {doc['as_of']}",
        ),
        highlight=False,
    )
    table = Table()
    for head in (
        ctx.t("指标", "Indicator"),
        ctx.t("属性", "Type"),
        ctx.t("现状值", "Value"),
        ctx.t("单位", "Unit"),
        ctx.t("目标", "Target"),
        ctx.t("状态", "Status"),
        ctx.t("年均变化", "Per year"),
        ctx.t("预计突破", "Crossing"),
    ):
        table.add_column(head, overflow="fold")
    for v in report.current():
        ind = v.indicator
        d = ind.decimals
        name = (ind.name_zh if zh else ind.name_en) + (" *" if ind.convention_zh else "")
        if ind.id in withheld:
            kind = ctx.t(*_TYPE.get(ind.type, (ind.type, ind.type)))
            table.add_row(name, kind, "—", unit_label(ind.unit, ctx.lang), "—", note, "—", "—")
            continue
        value = "—" if v.value is None else f"{v.value:,.{d}f}"
        target = "—" if v.target is None else target_text(ind.direction, v.target, v.target_year, d)
        f = v.forecast
        slope = (
            "—"
            if f is None
            else "0"
            if abs(f.slope_per_year) < 0.5 * 10**-d
            else f"{f.slope_per_year:+,.{d}f}"
        )
        cross = report.crossing(ind.id, ctx.lang) or "—"
        table.add_row(
            name,
            ctx.t(*_TYPE.get(ind.type, (ind.type, ind.type))),
            value,
            unit_label(ind.unit, ctx.lang),
            target,
            _STATUS[v.status][0 if zh else 1],
            slope,
            cross,
        )
    out.print(table)
    for w in doc["warnings"]:
        colour = "red" if w["status"] == "red" else "yellow"
        out.print(f"[{colour}]●[/] {w['message']}", highlight=False)
    missing = [v for v in report.current() if v.value is None and v.indicator.id not in withheld]
    for v in missing:
        out.print(
            ctx.t(
                f"{v.indicator.name_zh}：无法计算（{v.reason_zh or v.reason}）",
                f"{v.indicator.name_en}: not computed ({v.reason})",
            ),
            highlight=False,
        )
    out.print(
        ctx.t(
            "* 约定算法（标准未给出公式），详见 --explain 指标编号。",
            "* a convention, not a standard formula; see --explain ID.",
        ),
        highlight=False,
    )
    if explain and explain in withheld:
        out.print(f"\n{explain}：{note}" if zh else f"\n{explain}: {note}", highlight=False)
    elif explain:
        _explain(ctx, report, explain)


def _explain(ctx: Context, report: IndicatorReport, iid: str) -> None:
    out = console()
    values = report.series[iid]
    v = values[-1]
    ind = v.indicator
    zh = ctx.lang == "zh"
    out.print(ctx.t(f"\n{ind.name_zh}（{ind.id}）", f"\n{ind.name_en} ({ind.id})"), highlight=False)
    out.print(ctx.t("公式：", "Formula: ") + ind.formula.text(), highlight=False)
    out.print(ctx.t("依据：", "Basis: ") + (ind.basis_zh if zh else ind.basis_en), highlight=False)
    conv = ind.convention_zh if zh else ind.convention_en
    if conv:
        out.print(ctx.t("约定：", "Convention: ") + conv, highlight=False)
    labels = report.version_labels(v, ctx.lang)
    for t in v.lineage:
        where = (
            f"{t.layer}（{labels.get(t.layer) or t.version or '—'}）"
            if t.layer
            else ((t.note_zh if zh else t.note) or t.note or "")
        )
        zone = f"，{t.zone_layer} {t.zone_version}" if t.zone_layer else ""
        val = (
            "—"
            if t.value is None
            else (f"{t.value:,.2f} m²" if t.term.startswith("area") else f"{t.value:,.0f}")
        )
        out.print(
            ctx.t(
                f"  {t.term}：{where}{zone}，计入 {t.features}/{t.features_in_version} 个要素，"
                f"{val}",
                f"  {t.term}: {where}{zone}, {t.features} of "
                f"{t.features_in_version} features, {val}",
            ),
            highlight=False,
        )
    for name, (year, value) in v.tables.items():
        out.print(
            ctx.t(f"  统计 {name}：{year} 年 {value:,}", f"  statistics {name}: {year} {value:,}"),
            highlight=False,
        )
    series = "、".join(
        f"{x.as_of.isoformat()} {x.value:,.{ind.decimals}f}" for x in values if x.value is not None
    )
    out.print(ctx.t("序列：", "Series: ") + series, highlight=False)


@monitor_group.command("report")
@workspace_option()
@click.option(
    "--as-of", type=click.DateTime(["%Y-%m-%d"]), help="The report's date (default today)."
)
@click.option("--from-year", type=int, default=None, help="First year-end of the series.")
@click.option(
    "--catalogue",
    default="cn-core",
    show_default=True,
    help="Indicator catalogue: a built-in id or a YAML file.",
)
@click.option(
    "--targets",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Plan targets by year (CSV/XLSX) instead of the workspace's targets table.",
)
@click.option(
    "--statistics",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Statistics by year (CSV/XLSX) instead of the workspace's statistics table.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the self-contained HTML report here.",
)
@click.option(
    "--pdf",
    "pdf_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the PDF report here.",
)
@click.option(
    "--xlsx",
    "xlsx_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the tables as an XLSX workbook here.",
)
@known_at_option
@use_layer_option
@json_option
@lang_option
@pass_context
def report_command(
    ctx: Context,
    workspace: str,
    as_of: datetime | None,
    from_year: int | None,
    catalogue: str,
    targets: Path | None,
    statistics: Path | None,
    html_path: Path | None,
    pdf_path: Path | None,
    xlsx_path: Path | None,
    known_at: datetime | None,
    use_layers: tuple[str, ...],
    as_json: bool,
) -> None:
    """The 体检评估 report (规划实施监测与体检评估报告): indicators with their series and targets,
    warnings, monitoring cases and the 耕地占补平衡 ledger, as HTML, PDF and XLSX.

    \b
    Example:
      guotu monitor report -w demo_county.gpkg --html 体检评估报告.html --pdf 体检评估报告.pdf
    """
    from guotu.io.monitor_pdf import render_monitor_pdf  # reportlab loads only here
    from guotu.io.monitor_report import render_monitor_html, write_monitor_xlsx
    from guotu.services.monitoring_report import checkup_document

    cat = load_catalogue(catalogue)
    day, known = as_dates(as_of, known_at)
    to_file = html_path is not None or pdf_path is not None or xlsx_path is not None
    with open_as(workspace) as (store, who):
        action = Action.EXPORT if to_file else Action.READ
        blocked = _blocked(store, who, action, "cli:monitor-report")
        tgt, stats = load_inputs(
            store, cat, targets_file=targets, statistics_file=statistics, as_of=day, known_at=known
        )
        doc = checkup_document(
            store,
            cat,
            as_of=day,
            known_at=known,
            first_year=from_year,
            targets=tgt,
            statistics=stats,
            lang=ctx.lang,
            use_layers=use_layers,
            blocked_roles=blocked,
        )
    doc["workspace"] = Path(str(doc["workspace"])).name
    doc["indicators"]["inputs"] = inputs_to_dict(tgt, stats)
    written = []
    if html_path is not None:
        html_path.write_text(render_monitor_html(doc), encoding="utf-8")
        written.append(html_path)
    if pdf_path is not None:
        pdf_path.write_bytes(render_monitor_pdf(doc))
        written.append(pdf_path)
    if xlsx_path is not None:
        write_monitor_xlsx(doc, xlsx_path)
        written.append(xlsx_path)
    if as_json:
        emit_json(doc)
        return
    s = doc["indicators"]["summary"]
    console().print(
        ctx.t(
            f"体检评估（{doc['as_of']}）：突破 {s['red']}，预警 {s['yellow']}，正常 {s['green']}。",
            f"Check-up ({doc['as_of']}): {s['red']} breached, {s['yellow']} "
            f"warnings, {s['green']} OK.",
        ),
        highlight=False,
    )
    _print_sources(ctx, tgt, stats)
    for path in written:
        console().print(ctx.t(f"已写入 {path}", f"Written: {path}"), highlight=False)


monitor_group.add_command(cases_command)
monitor_group.add_command(case_command)
monitor_group.add_command(consolidation_command)
monitor_group.add_command(targets_group)
monitor_group.add_command(statistics_group)
