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
    use_layer_option,
    workspace_option,
)
from guotu.cli.monitor_tables import statistics_group, targets_group
from guotu.cli.plans import as_dates, known_at_option, time_options
from guotu.domain.monitoring.cases import CASE_CLASSES
from guotu.errors import ConfigError
from guotu.services.monitoring_inputs import (
    Statistics,
    Targets,
    inputs_to_dict,
    load_catalogue,
    load_inputs,
)
from guotu.services.monitoring_report import (
    IndicatorReport,
    indicator_report,
    target_text,
    unit_label,
)
from guotu.services.workspace import open_workspace

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
    with open_workspace(workspace) as store:
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
        emit_json({**report.to_dict(ctx.lang), "inputs": inputs_to_dict(tgt, stats)})
    else:
        _render(ctx, report, explain)
        _print_sources(ctx, tgt, stats)
    worst = max((_RANK.get(v.status or "", 0) for v in report.current()), default=0)
    if fail_on != "never" and worst >= _RANK[fail_on]:
        sys.exit(1)


def _print_sources(ctx: Context, tgt: Targets, stats: Statistics) -> None:
    """Which targets and statistics the run used (the workspace's version, or a file)."""
    for table in (tgt, stats):
        if table.origin is not None:
            console().print(table.origin.describe(ctx.lang), highlight=False, soft_wrap=True)


def _render(ctx: Context, report: IndicatorReport, explain: str | None) -> None:
    out = console()
    zh = ctx.lang == "zh"
    doc = report.to_dict(ctx.lang)
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
    missing = [v for v in report.current() if v.value is None]
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


_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "green"}


@monitor_group.command("cases")
@workspace_option()
@time_options
@click.option(
    "--record",
    is_flag=True,
    help="Record the cases in the workspace (layer JCAJ, a new version; statuses and "
    "check records of recorded cases are kept).",
)
@click.option("--by", "actor", default="", help="Who records (kept in the audit log).")
@click.option(
    "--gpkg",
    "gpkg_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the cases with their geometry to this GeoPackage (QGIS).",
)
@click.option(
    "--fail-on",
    type=click.Choice(["error", "warning", "never"]),
    default="never",
    show_default=True,
    help="Exit 1 when a case of this severity or worse is open.",
)
@use_layer_option
@json_option
@lang_option
@pass_context
def cases_command(
    ctx: Context,
    workspace: str,
    as_of: datetime | None,
    known_at: datetime | None,
    record: bool,
    actor: str,
    gpkg_path: Path | None,
    fail_on: str,
    use_layers: tuple[str, ...],
    as_json: bool,
) -> None:
    """Change patches → cases: each patch against approved projects and 三区三线 as of its
    image date (已批已建, 未批先建, 占用永久基本农田, 红线内/开发边界外新增建设, 符合规划但未批).

    \b
    Examples:
      guotu monitor cases -w demo_county.gpkg
      guotu monitor cases -w demo_county.gpkg --record --by 张三
      guotu monitor case BH20250002 -w demo_county.gpkg --status 核查属实 --by 李四 --note 现场已硬化
    """
    from guotu.services.cases import classify_patches, record_cases

    day, known = as_dates(as_of, known_at)
    with open_workspace(workspace) as store:
        report = classify_patches(store, as_of=day, known_at=known, use_layers=use_layers)
        if record:
            record_cases(store, report, actor=actor, use_layers=use_layers)
        crs = store.crs
    if gpkg_path is not None:
        _write_cases_gpkg(report, crs, gpkg_path, ctx.lang)
    doc = report.to_dict(ctx.lang)
    if as_json:
        emit_json(doc)
    else:
        _render_cases(ctx, doc, record)
    rank = {"error": 2, "warning": 1, "info": 0}
    open_ = [c for c in doc["cases"] if c["status"] in ("pending", "confirmed")]
    worst = max((rank[c["severity"]] for c in open_), default=0)
    if fail_on != "never" and worst >= rank[fail_on]:
        sys.exit(1)


def _write_cases_gpkg(report: Any, crs: Any, path: Path, lang: str) -> None:
    import geopandas as gpd
    import pyogrio

    from guotu.io.findings import check_gdal_file_name

    check_gdal_file_name(path, "--gpkg")
    rows = [c.to_dict(lang) for c in report.cases]
    flat = [
        {
            "TBBH": r["tbbh"],
            "AJLX": r["class"],
            "AJLXMC": r["class_name"],
            "ZT": r["status_name"],
            "HSXRQ": r["image_date"],
            "TBMJ": r["area_m2"],
            **{k: v for k, v in r["overlaps_m2"].items()},
            "XMDM": ";".join(p["xmdm"] for p in r["projects"]),
        }
        for r in rows
    ]
    frame = gpd.GeoDataFrame(flat, geometry=[c.geometry for c in report.cases], crs=crs)
    pyogrio.write_dataframe(frame, path, layer="监测案件", driver="GPKG")


def _render_cases(ctx: Context, doc: dict[str, Any], recorded: bool) -> None:
    out = console()
    out.print(
        ctx.t(
            f"变化图斑 {doc['patch_layer']}（{doc['patch_version']}）比对，现状日期 {doc['as_of']}",
            f"Change patches {doc['patch_layer']} ({doc['patch_version']}), as of {doc['as_of']}",
        ),
        highlight=False,
    )
    table = Table()
    for head in (
        ctx.t("图斑编号", "Patch"),
        ctx.t("类型", "Class"),
        ctx.t("状态", "Status"),
        ctx.t("后时相", "Image"),
        ctx.t("面积(m²)", "Area (m²)"),
        ctx.t("重叠面积(m²)", "Overlaps (m²)"),
        ctx.t("项目", "Projects"),
    ):
        table.add_column(head, overflow="fold")
    names = {
        "approved": ctx.t("已批", "approved"),
        "approved_later": ctx.t("后批", "approved later"),
        "redline": ctx.t("红线", "red line"),
        "permanent_farmland": ctx.t("永农", "farmland"),
        "outside_urban_boundary": ctx.t("边界外", "outside boundary"),
    }
    for c in doc["cases"]:
        overlaps = "，".join(f"{names[k]} {v:,.2f}" for k, v in c["overlaps_m2"].items() if v > 0)
        projects = "；".join(f"{p['xmdm']}（{p['pzrq']}）" for p in c["projects"])
        style = _SEVERITY_STYLE[c["severity"]]
        table.add_row(
            c["tbbh"],
            f"[{style}]{c['class_name']}[/]",
            c["status_name"],
            c["image_date"] or "—",
            f"{c['area_m2']:,.2f}",
            overlaps or "—",
            projects or "—",
        )
    out.print(table)
    s = doc["summary"]["by_class"]
    out.print(
        ctx.t("合计：", "Total: ")
        + ctx.t("，", ", ").join(
            f"{ctx.t(*CASE_CLASSES[k][:2]) if k in CASE_CLASSES else k} {v}" for k, v in s.items()
        ),
        highlight=False,
    )
    if recorded:
        out.print(
            ctx.t(
                "已记录为监测案件图层 JCAJ 的新版本。", "Recorded as a new version of layer JCAJ."
            ),
            highlight=False,
        )


@monitor_group.command("case")
@click.argument("tbbh")
@workspace_option()
@click.option(
    "--status",
    required=True,
    help="待核查/核查属实/已整改/误报 (pending/confirmed/rectified/false_positive).",
)
@click.option("--by", "checker", default="", help="Who checked (核查人).")
@click.option(
    "--date",
    "check_date",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Check date (核查日期, default today).",
)
@click.option("--note", default="", help="Conclusion (核查结论).")
@click.option("--rectification", default="", help="What was done (整改情况).")
@use_layer_option
@json_option
@lang_option
@pass_context
def case_command(
    ctx: Context,
    tbbh: str,
    workspace: str,
    status: str,
    checker: str,
    check_date: datetime | None,
    note: str,
    rectification: str,
    use_layers: tuple[str, ...],
    as_json: bool,
) -> None:
    """Record the field check of case TBBH (a new version of the case layer; the earlier
    states stay in its history)."""
    from guotu.services.cases import update_case

    with open_workspace(workspace) as store:
        row = update_case(
            store,
            tbbh,
            status,
            checker=checker,
            check_date=check_date.date() if check_date else None,
            conclusion=note,
            rectification=rectification,
            use_layers=use_layers,
        )
    if as_json:
        emit_json({k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()})
        return
    console().print(
        ctx.t(
            f"案件 {tbbh}：{row['ZT']}（{row.get('HCR') or '—'}，{row.get('HCRQ')}）",
            f"Case {tbbh}: {row['ZT']} ({row.get('HCR') or '—'}, {row.get('HCRQ')})",
        ),
        highlight=False,
    )


@monitor_group.command("consolidation")
@workspace_option()
@click.option(
    "--from",
    "from_date",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Start: the survey version in force then (default: the first one).",
)
@click.option(
    "--as-of",
    type=click.DateTime(["%Y-%m-%d"]),
    help="End: the survey version in force then (default today).",
)
@click.option(
    "--fail-on-imbalance", is_flag=True, help="Exit 1 when the 占补平衡 ledger does not balance."
)
@known_at_option
@use_layer_option
@json_option
@lang_option
@pass_context
def consolidation_command(
    ctx: Context,
    workspace: str,
    from_date: datetime | None,
    as_of: datetime | None,
    fail_on_imbalance: bool,
    known_at: datetime | None,
    use_layers: tuple[str, ...],
    as_json: bool,
) -> None:
    """Land consolidation (全域土地综合整治) and the 耕地占补平衡 ledger, measured from the yearly
    survey versions: occupied and supplemented farmland per year, each project's measured
    新增耕地 and 建设用地减少 against its plan and progress, its overlap with 三区三线.

    \b
    Examples:
      guotu monitor consolidation -w demo_county.gpkg
      guotu monitor consolidation -w demo_county.gpkg --from 2022-12-31 --json
    """
    from guotu.services.consolidation import consolidation_report

    day, known = as_dates(as_of, known_at)
    with open_workspace(workspace) as store:
        report = consolidation_report(
            store,
            from_date=from_date.date() if from_date else None,
            as_of=day,
            known_at=known,
            use_layers=use_layers,
        )
    doc = report.to_dict(ctx.lang)
    if as_json:
        emit_json(doc)
    else:
        _render_consolidation(ctx, doc)
    if fail_on_imbalance and not doc["totals"]["balanced"]:
        sys.exit(1)


def _ha(m2: float | None) -> str:
    return "—" if m2 is None else f"{m2 / 1e4:,.4f}"


def _render_consolidation(ctx: Context, doc: dict[str, Any]) -> None:
    out = console()
    out.print(
        ctx.t(
            f"耕地占补平衡台账（{doc['plan']}：{doc['from']} → {doc['to']}，公顷）",
            f"Farmland occupation/supplement ledger ({doc['plan']}: {doc['from']} → "
            f"{doc['to']}, ha)",
        ),
        highlight=False,
    )
    table = Table()
    for head in (
        ctx.t("年度", "Update"),
        ctx.t("占用耕地", "Occupied"),
        ctx.t("补充耕地", "Supplemented"),
        ctx.t("平衡", "Balance"),
        ctx.t("建设用地减少", "Construction reduced"),
    ):
        table.add_column(head)
    for r in doc["ledger"]:
        table.add_row(
            r["version"],
            _ha(r["occupied_m2"]),
            _ha(r["supplemented_m2"]),
            _ha(r["balance_m2"]),
            _ha(r["construction_reduced_m2"]),
        )
    t = doc["totals"]
    table.add_row(
        ctx.t("合计", "Total"),
        _ha(t["occupied_m2"]),
        _ha(t["supplemented_m2"]),
        _ha(t["balance_m2"]),
        "",
    )
    out.print(table)
    projects = Table(title=ctx.t("土地整治项目（公顷）", "Consolidation projects (ha)"))
    for head in (
        ctx.t("项目", "Project"),
        ctx.t("进度", "Progress"),
        ctx.t("计划新增耕地", "Planned new farmland"),
        ctx.t("测得新增耕地", "Measured new farmland"),
        ctx.t("测得建设用地减少", "Measured construction reduced"),
        ctx.t("红线/永农/开发边界内", "In red line/farmland/boundary"),
    ):
        projects.add_column(head, overflow="fold")
    for p in doc["projects"]:
        ov = p["overlaps_m2"]
        projects.add_row(
            f"{p['xmmc']}\n{p['xmdm']}",
            "—" if p["progress_pct"] is None else f"{p['progress_pct']:g}%",
            _ha(p["planned"]["new_farmland_m2"]),
            _ha(p["measured"]["new_farmland_m2"]),
            _ha(p["measured"]["construction_reduced_m2"]),
            " / ".join(
                _ha(ov.get(k))
                for k in ("ecological_redline", "permanent_farmland", "urban_boundary")
            ),
        )
    out.print(projects)
    for w in doc["warnings"]:
        out.print(f"[yellow]●[/] {w}", highlight=False)
    for note in doc.get("notes", []):
        out.print(ctx.t("说明：", "Note: ") + note, highlight=False, markup=False)


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
    with open_workspace(workspace) as store:
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


monitor_group.add_command(targets_group)
monitor_group.add_command(statistics_group)
