"""``guotu monitor``: implementation monitoring (规划实施监测) — indicators with lineage,
targets, warnings and forecasts.

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
    workspace_option,
)
from guotu.cli.plans import as_dates, time_options
from guotu.services.monitoring_inputs import load_catalogue, read_statistics, read_targets
from guotu.services.monitoring_report import IndicatorReport, indicator_report, unit_label
from guotu.services.workspace import open_workspace

__all__ = ["monitor_group"]

_STATUS = {"green": ("[green]正常[/]", "[green]OK[/]"), "yellow": ("[yellow]预警[/]", "[yellow]warning[/]"),
           "red": ("[red]突破[/]", "[red]breached[/]"), None: ("—", "—")}
_TYPE = {"binding": ("约束性", "binding"), "expected": ("预期性", "expected")}
_RANK = {"never": 3, "red": 2, "yellow": 1}


@root.group("monitor")
def monitor_group() -> None:
    """Implementation monitoring (规划实施监测): indicators, warnings and forecasts."""


@monitor_group.command("indicators")
@workspace_option()
@time_options
@click.option("--from-year", type=int, default=None,
              help="First year-end of the series (default: five years before --as-of).")
@click.option("--catalogue", default="cn-core", show_default=True,
              help="Indicator catalogue: a built-in id or a YAML file.")
@click.option("--targets", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Plan targets by year (CSV/XLSX: 指标名称, 单位, 2025, 2035 …).")
@click.option("--statistics", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="Statistics by year (CSV/XLSX: 年份, 常住人口, 用水总量 …).")
@click.option("--explain", metavar="ID", help="Show the lineage of one indicator.")
@click.option("--fail-on", type=click.Choice(["red", "yellow", "never"]), default="never",
              show_default=True, help="Exit 1 when an indicator is at or above this status.")
@json_option
@lang_option
@pass_context
def indicators_command(ctx: Context, workspace: str, as_of: datetime | None,
                       known_at: datetime | None, from_year: int | None, catalogue: str,
                       targets: Path | None, statistics: Path | None, explain: str | None,
                       fail_on: str, as_json: bool) -> None:
    """Indicator values as of a date, with their year-end series, targets, status and trend.

    \b
    Examples:
      guotu monitor indicators -w demo_county.gpkg \\
          --targets demo_county_files/规划目标.xlsx --statistics demo_county_files/社会经济统计.xlsx
      guotu monitor indicators -w demo_county.gpkg --as-of 2024-12-31 --json
      guotu monitor indicators -w demo_county.gpkg --explain cultivated_land
    """
    day, known = as_dates(as_of, known_at)
    cat = load_catalogue(catalogue)
    tgt = read_targets(targets, cat) if targets else None
    stats = read_statistics(statistics, cat) if statistics else None
    if explain is not None:
        cat.get(explain) if explain in {i.id for i in cat.indicators} else _unknown(cat, explain)
    with open_workspace(workspace) as store:
        report = indicator_report(store, cat, as_of=day, first_year=from_year, known_at=known,
                                  targets=tgt, statistics=stats)
    if as_json:
        emit_json(report.to_dict(ctx.lang))
    else:
        _render(ctx, report, explain)
    worst = max((_RANK.get(v.status or "", 0) for v in report.current()), default=0)
    if fail_on != "never" and worst >= _RANK[fail_on]:
        sys.exit(1)


def _unknown(cat: object, name: str) -> None:
    from guotu.errors import ConfigError

    ids = ", ".join(i.id for i in cat.indicators)  # type: ignore[attr-defined]
    raise ConfigError(f"The catalogue has no indicator {name!r}.", fix=f"Use one of: {ids}.",
                      message_zh=f"指标目录中没有指标 {name!r}。", fix_zh=f"可选：{ids}。")


def _render(ctx: Context, report: IndicatorReport, explain: str | None) -> None:
    out = console()
    zh = ctx.lang == "zh"
    doc = report.to_dict(ctx.lang)
    out.print(ctx.t(f"{doc['catalogue']['title']}（{report.catalogue.id} {report.catalogue.version}）"
                    f"，现状日期 {doc['as_of']}",
                    f"{doc['catalogue']['title']} ({report.catalogue.id} "
                    f"{report.catalogue.version}), as of {doc['as_of']}"), highlight=False)
    table = Table()
    for head in (ctx.t("指标", "Indicator"), ctx.t("属性", "Type"), ctx.t("现状值", "Value"),
                 ctx.t("单位", "Unit"), ctx.t("目标", "Target"), ctx.t("状态", "Status"),
                 ctx.t("年均变化", "Per year"), ctx.t("预计突破", "Crossing")):
        table.add_column(head, overflow="fold")
    for v in report.current():
        ind = v.indicator
        d = ind.decimals
        name = (ind.name_zh if zh else ind.name_en) + (" *" if ind.convention_zh else "")
        value = "—" if v.value is None else f"{v.value:,.{d}f}"
        target = "—" if v.target is None else f"{ind.direction or ''}{v.target:,.{d}f}（{v.target_year}）"
        f = v.forecast
        slope = "—" if f is None else f"{f.slope_per_year + 0.0:+,.{d}f}".replace("-0.00", "0.00")
        if f is not None and abs(f.slope_per_year) < 0.5 * 10 ** -d:
            slope = "0"
        cross = "—" if f is None or f.crossing_early is None else (
            f"{f.crossing_early:.1f}" + (f"–{f.crossing_late:.1f}" if f.crossing_late else "+"))
        table.add_row(name, ctx.t(*_TYPE.get(ind.type, (ind.type, ind.type))), value,
                      unit_label(ind.unit, ctx.lang), target,
                      _STATUS[v.status][0 if zh else 1], slope, cross)
    out.print(table)
    for w in doc["warnings"]:
        colour = "red" if w["status"] == "red" else "yellow"
        out.print(f"[{colour}]●[/] {w['message']}", highlight=False)
    missing = [v for v in report.current() if v.value is None]
    for v in missing:
        out.print(ctx.t(f"{v.indicator.name_zh}：无法计算（{v.reason}）",
                        f"{v.indicator.name_en}: not computed ({v.reason})"), highlight=False)
    out.print(ctx.t("* 约定算法（标准未给出公式），详见 --explain 指标编号。",
                    "* a convention, not a standard formula; see --explain ID."),
              highlight=False)
    if explain:
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
    for t in v.lineage:
        where = f"{t.layer} {t.plan} {t.version}" if t.layer else (t.note or "")
        zone = f"，{t.zone_layer} {t.zone_version}" if t.zone_layer else ""
        val = "—" if t.value is None else (f"{t.value:,.2f} m²" if t.term.startswith("area")
                                            else f"{t.value:,.0f}")
        out.print(ctx.t(f"  {t.term}：{where}{zone}，计入 {t.features}/{t.features_in_version} 个要素，"
                        f"{val}", f"  {t.term}: {where}{zone}, {t.features} of "
                        f"{t.features_in_version} features, {val}"), highlight=False)
    for name, (year, value) in v.tables.items():
        out.print(ctx.t(f"  统计 {name}：{year} 年 {value:,}", f"  statistics {name}: {year} {value:,}"),
                  highlight=False)
    series = "、".join(f"{x.as_of.isoformat()} {x.value:,.{ind.decimals}f}" for x in values
                      if x.value is not None)
    out.print(ctx.t("序列：", "Series: ") + series, highlight=False)
