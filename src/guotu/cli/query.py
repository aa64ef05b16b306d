"""``guotu query``: what applies to a site (空间码) — a point, a polygon or a parcel code.

The answer is the principal's (:mod:`guotu.cli.principal`), as the server's ``/query`` is:
only the layers they may read (a layer they may not answers as an absent one), without the
fields hidden from them, and on a layer limited to their 行政区 only its rows there; reads of
受限 layers are recorded in the audit log.

Exit codes: 0 answered, 2 input error (bad coordinates, GeoJSON, unknown parcel, a site
outside every layer), 3 environment or store error.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

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
from guotu.cli.plans import VERSION_STATUS_ZH, as_dates, time_options
from guotu.cli.principal import open_as
from guotu.domain.core.plan_labels import plan_version_label
from guotu.errors import InputError
from guotu.services.access import record_restricted_read
from guotu.services.site_permalink import sheet_html
from guotu.services.site_query import SiteQuery
from guotu.settings import Settings

__all__ = ["query_command"]

_RELATION_ZH = {
    "within": "位于其内",
    "contains": "包含该要素",
    "overlaps": "部分重叠",
    "on_boundary": "位于边界上",
    "touches": "仅边界相接",
    "crosses": "穿越",
}
_STATUS_ZH = {"allowed": "允许", "conditional": "有条件", "forbidden": "禁止"}
_CHANGE_ZH = {"added": "拟新增", "removed": "拟删除", "changed": "拟变更"}
_KEYS = (
    "YDYHFLDM",
    "YDYHFLMC",
    "GHFQDM",
    "GHFQMC",
    "XZQMC",
    "DLBM",
    "DLMC",
    "RJL",
    "JZMD",
    "LDL",
    "JZXG",
    "XMMC",
)


@root.command("query")
@workspace_option()
@click.option("--point", metavar="X,Y", help="A point: X,Y in --crs (lon,lat in EPSG:4490).")
@click.option(
    "--polygon",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A GeoJSON file holding one polygon.",
)
@click.option(
    "--parcel",
    metavar="CODE",
    help="A parcel: DKBH of a detailed-plan parcel or BSM of a master-plan parcel.",
)
@click.option(
    "--crs",
    default=None,
    help="CRS of --point/--polygon (default: the workspace CRS; e.g. EPSG:4490, CRS84).",
)
@time_options
@click.option(
    "--html",
    "html_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Also write the printable sheet (规划条件查询单) to this HTML file.",
)
@click.option(
    "--base-url",
    default="",
    help="Server URL for the sheet's permanent link (e.g. http://gis.example.gov.cn).",
)
@json_option
@lang_option
@pass_context
def query_command(
    ctx: Context,
    workspace: str,
    point: str | None,
    polygon: Path | None,
    parcel: str | None,
    crs: str | None,
    as_of: datetime | None,
    known_at: datetime | None,
    html_path: Path | None,
    base_url: str,
    as_json: bool,
) -> None:
    """What applies to a site (空间码): zones, plans, parcels, projects and allowed uses.

    \b
    Examples:
      guotu query -w demo_county.gpkg --point 39527060,4056040
      guotu query -w demo_county.gpkg --point 117.30,36.62 --crs EPSG:4490 --json
      guotu query -w demo_county.gpkg --parcel CG064-033 --html sheet.html
    """
    given = [v for v in (point, polygon, parcel) if v is not None]
    if len(given) != 1:
        raise InputError(
            "Give exactly one of --point, --polygon or --parcel.",
            message_zh="请给出且只给出 --point、--polygon、--parcel 之一。",
        )
    day, known = as_dates(as_of, known_at)
    shape: Any = polygon.read_text(encoding="utf-8") if polygon is not None else None
    with open_as(workspace) as (store, who):
        report = SiteQuery(max_vertices=Settings().max_query_vertices, crs_parameter="--crs").query(
            store,
            point=point,
            polygon=shape,
            parcel=parcel,
            crs=crs,
            as_of=day,
            known_at=known,
            principal=who.principal,
        )
        what = "cli:query-sheet" if html_path is not None else "cli:query"
        for layer in report.restricted_layers:
            record_restricted_read(store, who.principal, layer, what, who.address)
    doc = report.to_dict()
    if html_path is not None:
        html_path.write_text(sheet_html(doc, base_url, lang=ctx.lang), encoding="utf-8")
    if as_json:
        emit_json(doc)
        return
    _render(ctx, doc, html_path)


def _render(ctx: Context, doc: dict[str, Any], html_path: Path | None) -> None:
    out = console()
    site = doc["site"]
    out.print(
        ctx.t(
            f"查询位置：{geometry_name(site['type'], 'zh')}（{site['crs']}），现行日期 {doc['as_of']}，"
            f"数据版本 {doc['data_version']}",
            f"Site: {site['type']} in {site['crs']}, as of {doc['as_of']}, "
            f"data version {doc['data_version']}",
        ),
        highlight=False,
    )
    for title, rows in (
        (ctx.t("适用要素", "Applies"), doc["applies"]),
        (ctx.t("仅边界相接（不适用）", "Touching only"), doc["touching"]),
        (ctx.t("在途修改（公示/报批）", "Pending amendments"), doc["pending"]),
    ):
        if not rows:
            continue
        table = Table(title=title)
        for head in (
            ctx.t("图层", "Layer"),
            ctx.t("要素", "Feature"),
            ctx.t("关系", "Relation"),
            ctx.t("占比", "Share"),
            ctx.t("属性", "Attributes"),
            ctx.t("规划/版本", "Plan/version"),
        ):
            table.add_column(head)
        for e in rows:
            props = e["properties"]
            attrs = "; ".join(f"{k}={props[k]}" for k in _KEYS if k in props)
            share = "—" if e["share_of_site"] is None else f"{e['share_of_site'] * 100:.2f}%"
            ver = e["version"] or {}
            label = plan_version_label(e["plan"], ver.get("label"), ctx.lang, role=e.get("role"))
            if e.get("change"):
                change, status = e["change"], str(ver.get("status") or "")
                label += ctx.t(
                    f"（{_CHANGE_ZH.get(change, change)}，"
                    f"{VERSION_STATUS_ZH.get(status, status)}，"
                    f"{ver.get('valid_from') or '—'}）",
                    f" ({change}, {status}, {ver.get('valid_from') or '—'})",
                )
            table.add_row(
                e["layer"],
                str(e["feature"]),
                ctx.t(_RELATION_ZH.get(e["relation"], e["relation"]), e["relation"]),
                share,
                attrs,
                label,
            )
        out.print(table)
    uses = doc["allowed_uses"]
    for status in ("forbidden", "conditional", "allowed"):
        codes = uses.get(status) or []
        if codes:
            out.print(
                ctx.t(f"{_STATUS_ZH[status]}：", f"{status}: ") + "、".join(codes), highlight=False
            )
    for m in uses.get("master_plan", []):
        out.print(
            ctx.t(
                f"总体规划用途 {m['code']}（{m['feature']}）下，详细规划可安排：",
                f"Master-plan use {m['code']} ({m['feature']}) admits: ",
            )
            + "、".join(m["admits"]),
            highlight=False,
        )
    for key in ("restricted_note", "region_note"):
        if doc.get(key):
            out.print(ctx.t("说明：", "Note: ") + doc[key][ctx.lang], highlight=False)
    if html_path is not None:
        out.print(
            ctx.t(f"查询单已写入 {html_path}", f"Sheet written to {html_path}"), highlight=False
        )
