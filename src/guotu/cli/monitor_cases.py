"""``guotu monitor cases`` and ``guotu monitor case``: change patches (变化图斑) classified
as monitoring cases (监测案件: 已批已建, 未批先建, 占用永久基本农田 …) against approved projects
and 三区三线 as of each patch's image date, recorded in the workspace (layer JCAJ) and written
to a GeoPackage; and the field check (核查) of one case.

Both act as the command's principal (:mod:`guotu.cli.principal`), as the server's
``/monitor/cases.json`` does: cases are read from the change patches, projects and control
lines, so a principal who may not read one of those layers whole gets a note instead of cases;
recording (``--record``, ``case``) needs the edit permission, and ``--gpkg`` is an export.

Exit codes: 0 done (1 with ``--fail-on`` and an open case of that severity or worse), 2 input
error, 3 environment or store error.
"""

from __future__ import annotations

import sys
from datetime import date, datetime
from pathlib import Path
from typing import Any

import click
from rich.table import Table

from guotu.cli.base import (
    Context,
    GuotuCommand,
    console,
    emit_json,
    json_option,
    lang_option,
    pass_context,
    use_layer_option,
    workspace_option,
)
from guotu.cli.plans import as_dates, time_options
from guotu.cli.principal import CommandUser, open_as
from guotu.domain.access.policy import Action
from guotu.domain.access.roles import Permission
from guotu.domain.monitoring.cases import CASE_CLASSES
from guotu.errors import PermissionDeniedError
from guotu.ports import FeatureStore
from guotu.services.access import record_restricted_read
from guotu.services.monitoring_report import CASE_ROLES, WITHHELD_NOTE

__all__ = ["case_command", "cases_command"]

_SEVERITY_STYLE = {"error": "red", "warning": "yellow", "info": "green"}


@click.command("cases", cls=GuotuCommand)
@workspace_option()
@time_options
@click.option(
    "--record",
    is_flag=True,
    help="Record the cases in the workspace (layer JCAJ, a new version; statuses and "
    "check records of recorded cases are kept).",
)
@click.option(
    "--by",
    "actor",
    default="",
    help="Who did the work, when not the user running the command (kept in the audit log's "
    "reason).",
)
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
    with open_as(workspace) as (store, who):
        if record:
            who.require(Permission.EDIT)
        action = Action.EXPORT if gpkg_path is not None else Action.READ
        read = cases_read(store, who, action, withheld=not (record or gpkg_path))
        if read is None:
            _withheld(ctx, as_json, day)
            return
        report = classify_patches(store, as_of=day, known_at=known, use_layers=use_layers)
        if record:
            by = f"记录人 {actor}" if actor and actor != who.name else ""
            record_cases(store, report, actor=who.name, reason=by, use_layers=use_layers)
        crs = store.crs
        for layer in read:
            record_restricted_read(store, who.principal, layer, "cli:monitor-cases", who.address)
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


def cases_read(
    store: FeatureStore, who: CommandUser, action: Action, *, withheld: bool = False
) -> list[str] | None:
    """The layers the cases are read from, when ``who`` may ``action`` each of them whole.
    Otherwise ``None`` when ``withheld`` (the answer is the server's note, never which layer),
    else :class:`PermissionDeniedError` with that note."""
    who.require(Permission.READ if action is Action.READ else Permission.EXPORT)
    access = who.access(store)
    infos = [i for i in store.layers() if i.role in CASE_ROLES]
    if all(access.is_whole(i.name, action) for i in infos):
        return [i.name for i in infos]
    if withheld:
        return None
    zh, en = WITHHELD_NOTE
    raise PermissionDeniedError(
        f"The cases are {en[0].lower()}{en[1:]}.",
        message_zh=f"监测案件{zh}。",
    )


def _withheld(ctx: Context, as_json: bool, day: date | None) -> None:
    """What a principal who may not read the cases' layers gets: the server's note."""
    note = WITHHELD_NOTE[0] if ctx.lang == "zh" else WITHHELD_NOTE[1]
    if as_json:
        emit_json(
            {
                "as_of": (day or date.today()).isoformat(),
                "note": note,
                "withheld": True,
                "summary": {"by_class": {}, "by_status": {}},
                "notes": [note],
                "cases": [],
            }
        )
        return
    console().print(ctx.t("监测案件：", "Cases: ") + note, highlight=False)


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


@click.command("case", cls=GuotuCommand)
@click.argument("tbbh")
@workspace_option()
@click.option(
    "--status",
    required=True,
    help="待核查/核查属实/已整改/误报 (pending/confirmed/rectified/false_positive).",
)
@click.option(
    "--by", "checker", default="", help="Who checked (核查人; default: the user running it)."
)
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

    with open_as(workspace) as (store, who):
        cases_read(store, who, Action.READ)
        who.require(Permission.EDIT)
        row = update_case(
            store,
            tbbh,
            status,
            checker=checker or who.name,
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
