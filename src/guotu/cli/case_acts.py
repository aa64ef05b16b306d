"""The ``guotu case`` commands that record what a person did: an outcome (``act``), a
co-review opinion (``opinion``), 补正 asked and completed (``pause``, ``resume``) and a material
handed in (``attach``); and :func:`show_state`, where a case stands after a command changed it.

Who may record what is the services' rule (:func:`guotu.domain.workflow.acting.check_may_act`);
a refusal exits 2 with the role@department the stage names. An outcome the stage does not have
is refused before anything is written, listing those it has.
"""

from __future__ import annotations

from pathlib import Path

import click
from rich.markup import escape

from guotu.cli.base import (
    Context,
    GuotuCommand,
    console,
    emit_json,
    json_option,
    lang_option,
    pass_context,
    workspace_option,
)
from guotu.cli.case_input import (
    approval_setup,
    check_opinion,
    check_outcome,
    opinion_value,
    outcome_value,
    parse_indicators,
    read_material,
    read_site,
)
from guotu.cli.case_output import Names
from guotu.cli.case_page import case_doc, case_summary
from guotu.cli.principal import CommandUser, open_as
from guotu.errors import InputError
from guotu.ports import FeatureStore
from guotu.services.approval_setup import ApprovalSetup, case_flow
from guotu.services.approval_views import case_view, require_case_reader
from guotu.services.approvals import Act, act, attach_material

__all__ = [
    "case_act",
    "case_attach",
    "case_opinion",
    "case_pause",
    "case_resume",
    "show_state",
]


def show_state(
    ctx: Context,
    store: FeatureStore,
    who: CommandUser,
    setup: ApprovalSetup,
    case_id: str,
    as_json: bool,
    *,
    headline: str = "",
    with_review: bool = False,
) -> None:
    """Print where case ``case_id`` stands now (after ``headline``, and the automatic
    review's result ``with_review``), or its whole page as JSON."""
    view = case_view(store, case_id, who.principal, setup)
    names = Names.of(ctx, store)
    doc = case_doc(view, names, setup)
    if as_json:
        emit_json(doc)
        return
    out = console()
    if headline:
        out.print(escape(headline), highlight=False)
    review = doc["review"]
    if with_review and review is not None and review.get("action") == "review_project":
        outcome = names.outcome(review["outcome"], "automatic")
        out.print(
            escape(
                ctx.t(
                    f"自动审查：{outcome}（{review.get('rules', 0)} 条规则，{review.get('errors', 0)} "
                    f"项不符合，{review.get('warnings', 0)} 项提示，{review.get('skipped', 0)} "
                    "条因缺少图层未审查）",
                    f"Automatic review: {outcome} ({review.get('rules', 0)} rules, "
                    f"{review.get('errors', 0)} errors, {review.get('warnings', 0)} warnings, "
                    f"{review.get('skipped', 0)} skipped for want of layers)",
                )
            ),
            highlight=False,
        )
        for f in review.get("findings", []):
            text = f.get("message_zh") if ctx.lang == "zh" else f.get("message_en")
            out.print(f"  {escape(f['rule'])} {escape(str(text or ''))}", highlight=False)
    out.print(escape(case_summary(ctx, doc, names, view.flow)), highlight=False)
    for d in doc["documents"]:
        out.print(
            escape(
                ctx.t(
                    f"已核发 {d['serial']}（{d['title']}），验证码 {d['verification_id']}；"
                    f"用 guotu case document {case_id} 写出文书。",
                    f"Issued {d['serial']} ({d['title']}), verification id "
                    f"{d['verification_id']}; write it with guotu case document {case_id}.",
                )
            ),
            highlight=False,
        )


# -- recording what a person did -------------------------------------------------------------
def _record(
    ctx: Context,
    workspace: str,
    case_id: str,
    action: Act,
    as_json: bool,
    done: tuple[str, str],
    typed: str = "",
) -> None:
    """Record ``action`` (``typed``: the outcome as the user wrote it) and show the case."""
    setup = approval_setup()
    with open_as(workspace) as (store, who):
        if action.kind == "outcome":
            require_case_reader(who.principal)
            case = store.approval_case(case_id)
            status = next(iter(store.approval_statuses(case_id=case_id)), None)
            if case is not None and status is not None:
                stage = case_flow(case).stages[status.stage]
                check_outcome(stage, action.value, typed, Names.of(ctx, store).outcome)
        act(store, case_id, action, who.principal, setup, address=who.address)
        show_state(ctx, store, who, setup, case_id, as_json, headline=ctx.t(*done))


@click.command("act", cls=GuotuCommand)
@click.argument("case_id", metavar="CASE")
@click.argument("outcome")
@workspace_option()
@click.option("--note", default="", help="What was done, or the reasons (办理意见).")
@json_option
@lang_option
@pass_context
def case_act(
    ctx: Context, case_id: str, outcome: str, workspace: str, note: str, as_json: bool
) -> None:
    """Record the outcome of the stage the case is in (the stage's actor): done, supplement,
    approved, conditional, rejected … as the stage has them (完成、补正、批准、有条件批准、
    不予批准 in Chinese too).

    \b
    Examples:
      guotu case act 2026000001 done -w county.gpkg --note 技术审查通过
      guotu case act 2026000001 有条件批准 -w county.gpkg
    """
    value = outcome_value(outcome)
    done = (f"已办理：案件 {case_id}", f"Recorded: case {case_id}")
    _record(ctx, workspace, case_id, Act("outcome", value, note), as_json, done, outcome)


@click.command("opinion", cls=GuotuCommand)
@click.argument("case_id", metavar="CASE")
@click.argument("opinion")
@workspace_option()
@click.option(
    "--condition",
    "conditions",
    multiple=True,
    help="A condition of a conditional opinion (repeatable).",
)
@click.option("--note", default="", help="Reasons (required for disagree) or remarks.")
@json_option
@lang_option
@pass_context
def case_opinion(
    ctx: Context,
    case_id: str,
    opinion: str,
    workspace: str,
    conditions: tuple[str, ...],
    note: str,
    as_json: bool,
) -> None:
    """Give your department's opinion in a co-review: agree, conditional or disagree (同意、
    有条件同意、不同意); a conditional opinion names its conditions, a disagreement its
    reasons.

    \b
    Examples:
      guotu case opinion 2026000001 有条件同意 -w county.gpkg --condition 退让道路红线10米
    """
    value = opinion_value(opinion)
    kept = tuple(c.strip() for c in conditions if c.strip())
    check_opinion(value, kept, note)
    done = (f"已出具意见：案件 {case_id}", f"Opinion recorded: case {case_id}")
    _record(ctx, workspace, case_id, Act("opinion", value, note, kept), as_json, done)


@click.command("pause", cls=GuotuCommand)
@click.argument("case_id", metavar="CASE")
@workspace_option()
@click.option("--note", required=True, help="Everything the applicant is to supplement, at once.")
@json_option
@lang_option
@pass_context
def case_pause(ctx: Context, case_id: str, workspace: str, note: str, as_json: bool) -> None:
    """Ask the applicant to supplement materials (补正): the stage's clock stops until
    guotu case resume."""
    if not note.strip():
        raise InputError(
            "Say everything the applicant is to supplement (--note).",
            message_zh="要求补正须一次告知需要补正的全部内容（--note）。",
        )
    done = (
        f"已要求补正，计时暂停：案件 {case_id}",
        f"Supplement asked, clock stopped: case {case_id}",
    )
    _record(ctx, workspace, case_id, Act("pause", note=note), as_json, done)


@click.command("resume", cls=GuotuCommand)
@click.argument("case_id", metavar="CASE")
@workspace_option()
@click.option("--note", default="", help="What was supplemented.")
@json_option
@lang_option
@pass_context
def case_resume(ctx: Context, case_id: str, workspace: str, note: str, as_json: bool) -> None:
    """The materials are complete: the stage's clock runs again."""
    done = (f"补正完成，恢复计时：案件 {case_id}", f"Supplemented, clock running: case {case_id}")
    _record(ctx, workspace, case_id, Act("resume", note=note), as_json, done)


@click.command("amend", cls=GuotuCommand)
@click.argument("case_id", metavar="CASE")
@workspace_option()
@click.option(
    "--indicator",
    "indicators",
    multiple=True,
    metavar="FIELD=VALUE",
    help="A corrected planned indicator (RJL=1.2). Repeat for more.",
)
@click.option(
    "--site",
    "site_path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="A corrected site (GeoJSON in the workspace CRS, or give --crs).",
)
@click.option("--site-wkt", default=None, help="A corrected site as WKT in the workspace CRS.")
@click.option("--crs", default=None, help="The CRS of --site / --site-wkt if not the workspace's.")
@click.option("--note", required=True, help="What was corrected, as the applicant supplemented it.")
@json_option
@lang_option
@pass_context
def case_amend(
    ctx: Context,
    case_id: str,
    workspace: str,
    indicators: tuple[str, ...],
    site_path: Path | None,
    site_wkt: str | None,
    crs: str | None,
    note: str,
    as_json: bool,
) -> None:
    """The window corrects the application while the case is with it (受理 or 补正): planned
    indicators or the site, as the applicant supplemented them; the record at intake is kept."""
    changed = {k: (None if v == "" else v) for k, v in parse_indicators(indicators).items()}
    site = None
    if site_path is not None or site_wkt is not None:
        with open_as(workspace) as (store, _):
            site = read_site(site_path, site_wkt, crs, store.crs)
    done = (f"已修改申请内容：案件 {case_id}", f"Application corrected: case {case_id}")
    action = Act("amend", note=note, indicators=changed, site=site)
    _record(ctx, workspace, case_id, action, as_json, done)


@click.command("attach", cls=GuotuCommand)
@click.argument("case_id", metavar="CASE")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@workspace_option()
@click.option(
    "--material", required=True, metavar="NAME", help="Which material the procedure asks for."
)
@json_option
@lang_option
@pass_context
def case_attach(
    ctx: Context, case_id: str, file: Path, workspace: str, material: str, as_json: bool
) -> None:
    """Hand a material in for an open case (the window, or the current stage's actor)."""
    handed = read_material(material, file)
    setup = approval_setup()
    with open_as(workspace) as (store, who):
        kept = attach_material(
            store,
            case_id,
            handed.name,
            file.name,
            handed.content,
            who.principal,
            setup,
            media_type=handed.media_type,
            address=who.address,
        )
    if as_json:
        emit_json(
            {
                "case_id": case_id,
                "n": kept.seq,
                "material": kept.material,
                "filename": kept.filename,
                "size": kept.size,
                "sha256": kept.sha256,
            }
        )
        return
    console().print(
        escape(
            ctx.t(
                f"已收下材料：案件 {case_id} 的“{kept.material}”（{kept.filename}，{kept.size} 字节）",
                f"Material kept: {kept.material} of case {case_id} ({kept.filename}, "
                f"{kept.size} bytes)",
            )
        ),
        highlight=False,
    )
