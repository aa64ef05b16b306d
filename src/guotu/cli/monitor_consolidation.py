"""``guotu monitor consolidation``: land consolidation (全域土地综合整治) and the 耕地占补平衡
ledger measured from the yearly survey versions, each project's measured 新增耕地 and 建设用地减少
against its plan and progress.

The ledger is the principal's (:mod:`guotu.cli.principal`), as the server's
``/monitor/consolidation.json`` is: a principal who may not read whole every layer it is read
from gets the server's note instead, never which layer.

Exit codes: 0 done (1 with ``--fail-on-imbalance`` when the ledger does not balance), 2 input
error, 3 environment or store error.
"""

from __future__ import annotations

import sys
from datetime import datetime
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
from guotu.cli.plans import as_dates, known_at_option
from guotu.cli.principal import open_as
from guotu.domain.access.roles import Permission
from guotu.services.access import record_restricted_read
from guotu.services.monitoring_report import CONSOLIDATION_ROLES, WITHHELD_NOTE

__all__ = ["consolidation_command"]


@click.command("consolidation", cls=GuotuCommand)
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
    with open_as(workspace) as (store, who):
        who.require(Permission.READ)
        access = who.access(store)
        read = [i.name for i in store.layers() if i.role in CONSOLIDATION_ROLES]
        if not all(access.is_whole(name) for name in read):
            note = WITHHELD_NOTE[0] if ctx.lang == "zh" else WITHHELD_NOTE[1]
            if as_json:
                emit_json({"note": note, "ledger": [], "projects": [], "warnings": [], "notes": []})
            else:
                console().print(ctx.t("耕地占补平衡：", "Farmland ledger: ") + note)
            return
        report = consolidation_report(
            store,
            from_date=from_date.date() if from_date else None,
            as_of=day,
            known_at=known,
            use_layers=use_layers,
        )
        for name in read:
            record_restricted_read(store, access, name, "cli:monitor-consolidation", who.address)
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
