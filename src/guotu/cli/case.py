"""``guotu case``: approval cases (审批案件, 多审合一、多证合一) from the command line.

The window takes an application in (``case new``: 一窗受理, then the automatic review runs at
once); each person of the procedure records what they did (``case act``, ``case opinion``,
``case pause``/``resume`` for 补正, ``case attach`` for materials); anyone of the bureau reads
the lists (``case list``: 待办、已办、督办), a case as of any moment (``case show --as-of``)
and the statistics (``case stats``); the issued decision is written out (``case document``)
and checked as the public checks it (``case verify``). ``case procedures`` lists the
procedures a case may be accepted under.

Every command acts as the command's principal (:mod:`guotu.cli.principal`) and calls the
approval services (:mod:`guotu.services.approvals`, :mod:`guotu.services.approval_views`),
which decide who may do what: the stage's actor (role@department), each co-review department
for its own opinion, the window for 补正. The engine's setup (issuing authority, public
address, profiles, holiday arrangement) comes from the settings
(:func:`guotu.cli.case_input.approval_setup`).

Exit codes: 0 done, 2 input error or refusal (no such case, not this person's stage, an
outcome the stage does not have, a bad site file), 3 environment or store error.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

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
from guotu.cli.case_acts import (
    case_act,
    case_amend,
    case_attach,
    case_opinion,
    case_pause,
    case_resume,
    show_state,
)
from guotu.cli.case_input import (
    Moment,
    approval_setup,
    check_materials,
    parse_indicators,
    read_materials,
    read_site,
)
from guotu.cli.case_output import (
    Names,
    procedure_doc,
    render_procedures,
    render_stats,
    render_statuses,
    render_verification,
    status_doc,
)
from guotu.cli.case_page import case_doc, render_case
from guotu.cli.principal import open_as
from guotu.domain.workflow.definition import Workflow
from guotu.errors import GuotuError, InputError, NotFoundError
from guotu.io.workflows import shipped_workflows, workflow_by_id
from guotu.services.approval_documents import verify_document
from guotu.services.approval_setup import ApprovalSetup
from guotu.services.approval_views import case_view, statistics, todo
from guotu.services.approvals import Act, Application, act, attach_material, intake

__all__ = ["case_group"]

_BOXES = ("todo", "done", "overdue", "open", "all")
#: The note of the window's 受理 when the command accepts the application.
_ACCEPTED = "材料齐全，予以受理"


@root.group("case")
def case_group() -> None:
    """Approval cases (审批案件, 多审合一): intake at the window, opinions, decisions,
    issued documents."""


def _flows(ids: set[str], setup: ApprovalSetup) -> dict[str, Workflow | None]:
    """The procedures named ``ids`` as they are now (to name stages in lists), ``None`` for
    one that is no longer there."""
    out: dict[str, Workflow | None] = {}
    for i in sorted(ids):
        try:
            out[i] = workflow_by_id(i, setup.profiles_dir)
        except GuotuError:
            out[i] = None
    return out


# -- guotu case procedures -------------------------------------------------------------------
@case_group.command("procedures")
@click.argument("procedure", required=False)
@workspace_option(required=False)
@json_option
@lang_option
@pass_context
def case_procedures(
    ctx: Context, procedure: str | None, workspace: str | None, as_json: bool
) -> None:
    """The procedures a case may be accepted under (shipped, and the bureau's profiles):
    stages with their deadlines in working days, who acts, where each outcome leads, the
    legal basis (unverified citations marked) and the materials asked."""
    setup = approval_setup()
    ids = [procedure] if procedure else list(shipped_workflows())
    if not procedure and setup.profiles_dir is not None and setup.profiles_dir.is_dir():
        ids += sorted(p.stem for p in setup.profiles_dir.glob("*.yaml"))
    flows = [workflow_by_id(i, setup.profiles_dir) for i in ids]
    if as_json:
        emit_json([procedure_doc(f) for f in flows])
        return
    departments: dict[str, str] = {}
    if workspace:
        with open_as(workspace) as (store, _who):
            departments = {d.id: d.name for d in store.departments()}
    render_procedures(ctx, flows, Names(ctx, departments))


# -- guotu case new --------------------------------------------------------------------------
@case_group.command("new")
@click.argument("procedure")
@workspace_option()
@click.option("--applicant", required=True, help="Who applies (申请人).")
@click.option("--project", required=True, help="The project's name (项目名称).")
@click.option("--location", default="", help="Where (位置: town, road …).")
@click.option(
    "--site",
    "site_path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The site (用地范围): a GeoJSON file of one polygon.",
)
@click.option("--site-wkt", help="The site as WKT, in the workspace CRS unless --crs.")
@click.option(
    "--crs", default=None, help="CRS of the site (default: the file's, else the workspace's)."
)
@click.option(
    "--date",
    "application_date",
    type=click.DateTime(["%Y-%m-%d"]),
    help="Application date: the one map is reviewed as of it (default today).",
)
@click.option(
    "--indicator",
    "indicators",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A planned indicator, e.g. YDYHFLDM=0701, RJL=2.0 (repeatable).",
)
@click.option("--contact", default="", help="The applicant's contact (联系人、电话).")
@click.option(
    "--not-public",
    is_flag=True,
    help="The decision is not public: its verification shows only that the number is genuine.",
)
@click.option(
    "--no-accept",
    is_flag=True,
    help="Record the application without accepting it yet (materials incomplete).",
)
@click.option(
    "--material",
    "materials",
    multiple=True,
    metavar="NAME=FILE",
    help="A material handed in with the application (repeatable).",
)
@json_option
@lang_option
@pass_context
def case_new(
    ctx: Context,
    procedure: str,
    workspace: str,
    applicant: str,
    project: str,
    location: str,
    site_path: Path | None,
    site_wkt: str | None,
    crs: str | None,
    application_date: datetime | None,
    indicators: tuple[str, ...],
    contact: str,
    not_public: bool,
    no_accept: bool,
    materials: tuple[str, ...],
    as_json: bool,
) -> None:
    """Take an application in at the window (一窗受理): the case is recorded and, unless
    --no-accept, accepted; the automatic review runs at once and the command says where the
    case went.

    \b
    Examples:
      guotu case new cn-construction-permit -w county.gpkg --applicant 示范县城投公司 \\
          --project 城关镇安置房 --location 城关镇 --site site.geojson \\
          --indicator YDYHFLDM=0701 --indicator RJL=2.0
    """
    setup = approval_setup()
    planned = parse_indicators(indicators)
    handed_in = read_materials(materials)
    flow = workflow_by_id(procedure, setup.profiles_dir)
    check_materials(flow, handed_in)
    day = application_date.date() if application_date else setup.now().date()
    accept = not no_accept
    with open_as(workspace) as (store, who):
        site = read_site(site_path, site_wkt, crs, store.crs)
        application = Application(
            procedure, applicant, project, location, site, day, planned, contact, not not_public
        )
        p = who.principal
        case, _ = intake(
            store, application, p, setup, accept=accept and not handed_in, address=who.address
        )
        for m in handed_in:
            attach_material(
                store,
                case.id,
                m.name,
                m.path.name,
                m.content,
                p,
                setup,
                media_type=m.media_type,
                address=who.address,
            )
        if accept and handed_in:
            act(store, case.id, Act("outcome", "done", _ACCEPTED), p, setup, address=who.address)
        headline = (
            ctx.t(
                f"已受理：案件 {case.id}（{flow.name_zh}）",
                f"Accepted: case {case.id} ({flow.name_en})",
            )
            if accept
            else ctx.t(
                f"已登记（尚未受理）：案件 {case.id}（{flow.name_zh}）",
                f"Recorded, not yet accepted: case {case.id} ({flow.name_en})",
            )
        )
        show_state(ctx, store, who, setup, case.id, as_json, headline=headline, with_review=True)


# -- guotu case list -------------------------------------------------------------------------
@case_group.command("list")
@workspace_option()
@click.option(
    "--box",
    type=click.Choice(_BOXES),
    default="todo",
    show_default=True,
    help="todo: waiting for you; done: you acted on; overdue: past the due date; open; all.",
)
@click.option("--procedure", metavar="PROCEDURE", help="Only cases of this procedure.")
@json_option
@lang_option
@pass_context
def case_list(ctx: Context, workspace: str, box: str, procedure: str | None, as_json: bool) -> None:
    """The user's cases: 待办 (waiting for them, soonest due first), 已办 (they acted on),
    督办 (open and past the due date), open or all."""
    setup = approval_setup()
    today = setup.now().date()
    with open_as(workspace) as (store, who):
        rows = todo(store, who.principal, box=box, today=today)
        names = Names.of(ctx, store)
    if procedure:
        rows = [s for s in rows if s.workflow == procedure]
    flows = _flows({s.workflow for s in rows}, setup)
    docs = [status_doc(s, flows[s.workflow], names, setup, today) for s in rows]
    if as_json:
        emit_json({"box": box, "cases": docs})
        return
    render_statuses(ctx, box, docs)


# -- guotu case show -------------------------------------------------------------------------
@case_group.command("show")
@click.argument("case_id", metavar="CASE")
@workspace_option()
@click.option(
    "--as-of",
    type=Moment(),
    help="The case as it stood at this moment, YYYY-MM-DD HH:MM (a date alone: its end; "
    "default now).",
)
@json_option
@lang_option
@pass_context
def case_show(
    ctx: Context, case_id: str, workspace: str, as_of: datetime | None, as_json: bool
) -> None:
    """A case as of a moment: the record, each stage with its clock (working days used of
    the limit, overdue, paused for 补正), opinions, the automatic review, materials and
    issued documents."""
    setup = approval_setup()
    with open_as(workspace) as (store, who):
        view = case_view(store, case_id, who.principal, setup, as_of=as_of)
        names = Names.of(ctx, store)
    doc = case_doc(view, names, setup)
    if as_json:
        emit_json(doc)
        return
    render_case(ctx, view, doc, names)


# -- documents -------------------------------------------------------------------------------
@case_group.command("document")
@click.argument("case_id", metavar="CASE")
@workspace_option()
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the PDF here (default: its number, e.g. 建字第2026000001号.pdf).",
)
@json_option
@lang_option
@pass_context
def case_document(
    ctx: Context, case_id: str, workspace: str, output: Path | None, as_json: bool
) -> None:
    """Write the decision document the case issued (许可证、意见书、不予许可决定书) as PDF,
    exactly as kept with the case."""
    setup = approval_setup()
    with open_as(workspace) as (store, who):
        view = case_view(store, case_id, who.principal, setup)
        issued = [e for e in view.events if e.event.kind == "issued"]
        content = None
        if issued:
            content = store.approval_file_content(str(issued[-1].detail.get("sha256", "")))
    if not issued or content is None:
        raise NotFoundError(
            f"Case {case_id} has issued no document (yet).",
            fix="A document is issued when the case closes in a stage that issues one.",
            message_zh=f"案件 {case_id} 尚未核发文书。",
            fix_zh="案件在核发文书的环节办结时才生成文书；请用 guotu case show 查看其进度。",
        )
    e = issued[-1]
    serial = str(e.detail.get("serial", case_id))
    path = output or Path(f"{serial}.pdf")
    try:
        path.write_bytes(content)
    except OSError as exc:
        raise InputError(
            f"Cannot write {path}: {exc.strerror}.",
            file=str(path),
            message_zh=f"无法写入文件 {path}（{exc.strerror}）。",
            fix_zh="请换一个可写的位置。",
        ) from None
    if as_json:
        emit_json(
            {
                "case_id": case_id,
                "serial": serial,
                "title": e.detail.get("title", ""),
                "verification_id": e.event.value,
                "path": str(path),
                "size": len(content),
                "sha256": e.detail.get("sha256", ""),
            }
        )
        return
    console().print(
        escape(
            ctx.t(
                f"已写出 {serial}（{e.detail.get('title', '')}）：{path}",
                f"Written {serial} ({e.detail.get('title', '')}): {path}",
            )
        ),
        highlight=False,
    )


@case_group.command("verify")
@click.argument("token")
@workspace_option()
@json_option
@lang_option
@pass_context
def case_verify(ctx: Context, token: str, workspace: str, as_json: bool) -> None:
    """What the public verification page shows for a document's verification id (or the
    address of its QR code): whether it is genuine and, for a public decision, what it is."""
    key = token.strip().rstrip("/").rsplit("/verify/", 1)[-1].removesuffix(".json")
    with open_as(workspace) as (store, _who):
        shown = verify_document(store, key[:64])
    if as_json:
        emit_json(shown)
        return
    render_verification(ctx, shown)


@case_group.command("stats")
@workspace_option()
@click.option("--procedure", metavar="PROCEDURE", help="Only cases of this procedure.")
@json_option
@lang_option
@pass_context
def case_stats(ctx: Context, workspace: str, procedure: str | None, as_json: bool) -> None:
    """Statistics: open cases by stage, working days per stage (mean and 90th percentile,
    补正 not counted), stays past their due date, overdue open cases by department."""
    setup = approval_setup()
    with open_as(workspace) as (store, who):
        doc: dict[str, Any] = statistics(
            store, who.principal, today=setup.now().date(), workflow=procedure
        )
        names = Names.of(ctx, store)
    if as_json:
        emit_json(doc)
        return
    ids = {r["workflow"] for key in ("by_stage", "stage_days") for r in doc[key]}
    render_stats(ctx, doc, _flows(ids, setup), names)


for _command in (case_act, case_opinion, case_pause, case_resume, case_amend, case_attach):
    case_group.add_command(_command)
