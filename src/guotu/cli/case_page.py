"""The page of one approval case as ``guotu case show`` prints it (and ``--json`` gives it):
the record, each stage with its clock (working days used of the limit, overdue, paused for
补正), the co-review's opinions, the automatic review, the events, materials and issued
documents."""

from __future__ import annotations

from datetime import date
from typing import Any

from rich.markup import escape
from rich.table import Table

from guotu.cli.base import Context, console
from guotu.cli.case_output import Names, due_text, iso_text, moment_text
from guotu.domain.workflow.clock import StageClock
from guotu.domain.workflow.definition import Workflow
from guotu.services.approval_documents import DOCUMENT_MATERIAL
from guotu.services.approval_setup import SYSTEM, ApprovalSetup
from guotu.services.approval_views import CaseView

__all__ = ["case_doc", "case_summary", "render_case"]

_EVENTS = {
    "outcome": ("办理", "outcome"),
    "opinion": ("会审意见", "opinion"),
    "pause": ("要求补正", "supplement asked"),
    "resume": ("补正完成", "supplemented"),
    "review": ("自动审查", "automatic review"),
    "issued": ("核发文书", "document issued"),
    "note": ("备注", "note"),
    "file": ("提交材料", "material handed in"),
}
_CLOCK = {
    "running": ("进行中", "running"),
    "warning": ("临期", "due soon"),
    "overdue": ("超期", "overdue"),
    "paused": ("补正中", "paused (supplementing)"),
    "done": ("已完成", "done"),
}


# -- the page --------------------------------------------------------------------------------
def _clock_doc(c: StageClock | None) -> dict[str, Any] | None:
    if c is None:
        return None
    return {
        "state": c.state,
        "used": c.used,
        "limit": c.limit,
        "left": c.left,
        "due": iso_text(c.due),
        "late": c.late,
        "provisional": c.provisional,
    }


def _documents(view: CaseView, setup: ApprovalSetup) -> list[dict[str, Any]]:
    files = {f.sha256: f for f in view.files}
    out = []
    for e in view.events:
        if e.event.kind != "issued":
            continue
        kept = files.get(str(e.detail.get("sha256", "")))
        out.append(
            {
                "serial": e.detail.get("serial", ""),
                "title": e.detail.get("title", e.event.note),
                "issued_on": e.detail.get("issued_on", ""),
                "verification_id": e.event.value,
                "verification_url": f"{setup.base_url.rstrip('/')}/verify/{e.event.value}"
                if setup.base_url
                else None,
                "sha256": e.detail.get("sha256", ""),
                "filename": None if kept is None else kept.filename,
            }
        )
    return out


def case_doc(view: CaseView, names: Names, setup: ApprovalSetup) -> dict[str, Any]:
    """A case as of a moment, as ``--json`` gives it."""
    c, flow, state = view.case, view.flow, view.state
    stage = flow.stages[state.stage]
    review = next((e for e in reversed(view.events) if e.event.kind == "review"), None)
    status = view.status
    return {
        "id": c.id,
        "as_of": iso_text(view.as_of),
        "procedure": {"id": flow.id, "name_zh": flow.name_zh, "name_en": flow.name_en},
        "applicant": c.applicant,
        "project": c.project,
        "location": c.location,
        "application_date": iso_text(c.application_date),
        "created_at": iso_text(c.created_at),
        "created_by": c.created_by,
        "department": c.department,
        "public": c.public,
        "site_area_m2": round(c.site_area_m2, 2),
        "site_wkt": c.site_wkt,
        "indicators": dict(c.detail.get("indicators", {})),
        "stage": {"id": stage.id, "name_zh": stage.name_zh, "kind": stage.kind},
        "closed": state.closed,
        "paused": state.paused,
        "waiting": list(status.waiting) if status is not None and not state.closed else [],
        "opinions": dict(state.opinions),
        "stages": [
            {
                "stage": s.stage,
                "name_zh": s.name_zh,
                "kind": s.kind,
                "entered": iso_text(s.entered),
                "left": iso_text(s.left),
                "outcome": s.outcome,
                "clock": _clock_doc(s.clock),
            }
            for s in view.stages
        ],
        "events": [
            {
                "seq": e.seq,
                "at": iso_text(e.event.at),
                "kind": e.event.kind,
                "value": e.event.value,
                "department": e.event.department,
                "actor": e.event.actor,
                "note": e.event.note,
                "conditions": list(e.detail.get("conditions", [])),
            }
            for e in view.events
        ],
        "review": None if review is None else {"outcome": review.event.value, **review.detail},
        "files": [
            {
                "n": f.seq,
                "material": f.material,
                "filename": f.filename,
                "media_type": f.media_type,
                "size": f.size,
                "sha256": f.sha256,
                "uploaded_by": f.uploaded_by,
            }
            for f in view.files
        ],
        "documents": _documents(view, setup),
    }


def _clock_word(c: StageClock | None, ctx: Context) -> str:
    if c is None:
        return "—"
    word = ctx.t(*_CLOCK.get(c.state, (c.state, c.state)))
    if c.state == "done" and c.late:
        word += ctx.t("（超期）", " (late)")
    return word


def case_summary(ctx: Context, doc: dict[str, Any], names: Names, flow: Workflow) -> str:
    """Where the case of ``doc`` (:func:`case_doc`) stands, in one line."""
    name = names.stage(flow, doc["stage"]["id"])
    if doc["closed"]:
        return ctx.t(f"已办结：{name}", f"Closed: {name}")
    clock = next((s["clock"] for s in reversed(doc["stages"])), None)
    due = (
        "—"
        if clock is None or clock["due"] is None
        else due_text(date.fromisoformat(clock["due"]), clock["provisional"], ctx)
    )
    waiting = ctx.t("、", ", ").join(names.waiting(w) for w in doc["waiting"]) or ctx.t(
        "系统", "the system"
    )
    paused = ctx.t("（补正中，计时暂停）", " (supplementing: the clock is stopped)")
    return ctx.t(
        f"当前环节：{name}，待 {waiting} 办理，期限 {due}",
        f"Stage: {name}, waiting for {waiting}, due {due}",
    ) + (paused if doc["paused"] else "")


def render_case(ctx: Context, view: CaseView, doc: dict[str, Any], names: Names) -> None:
    """The case page: record, stages with clocks, opinions, review, materials, documents."""
    out = console()
    flow = view.flow
    t = ctx.t
    title = flow.name_zh if ctx.lang == "zh" else flow.name_en
    out.print(f"[bold]{t('案件', 'Case')} {doc['id']}[/]  {escape(title)}", highlight=False)
    rows = [
        (t("申请人", "Applicant"), doc["applicant"]),
        (t("项目", "Project"), doc["project"]),
        (t("位置", "Location"), doc["location"] or "—"),
        (t("用地面积", "Site area"), f"{doc['site_area_m2']:,.2f} m²"),
        (t("申请日期", "Application date"), doc["application_date"]),
        (t("登记", "Recorded"), f"{moment_text(view.case.created_at)} {doc['created_by']}"),
        (t("公开", "Public"), t("是", "yes") if doc["public"] else t("否", "no")),
        (t("截至", "As of"), moment_text(view.as_of)),
    ]
    if doc["indicators"]:
        rows.append(
            (
                t("规划指标", "Indicators"),
                t("，", ", ").join(f"{k}={v}" for k, v in doc["indicators"].items()),
            )
        )
    for label, value in rows:
        out.print(
            f"{label}：{escape(str(value))}"
            if ctx.lang == "zh"
            else f"{label}: {escape(str(value))}",
            highlight=False,
        )
    out.print(f"[bold]{escape(case_summary(ctx, doc, names, flow))}[/]", highlight=False)
    _render_stages(ctx, view, names)
    _render_opinions(ctx, doc, names)
    _render_review(ctx, doc, names)
    _render_events(ctx, view, names)
    _render_files(ctx, doc)
    for d in doc["documents"]:
        url = d["verification_url"]
        line = t(
            f"已核发：{d['serial']}（{d['title']}，{d['issued_on']}），验证码 {d['verification_id']}",
            f"Issued: {d['serial']} ({d['title']}, {d['issued_on']}), verification id "
            f"{d['verification_id']}",
        )
        if url:
            line += t(f"，核验地址 {url}", f", {url}")
        out.print(escape(line), highlight=False)


def _render_stages(ctx: Context, view: CaseView, names: Names) -> None:
    t = ctx.t
    table = Table(title=t("办理环节", "Stages"))
    for head in (
        t("环节", "Stage"),
        t("进入", "Entered"),
        t("离开", "Left"),
        t("结果", "Outcome"),
        t("已用/期限（工作日）", "Used/limit (working days)"),
        t("到期", "Due"),
        t("计时", "Clock"),
    ):
        table.add_column(head, overflow="fold")
    for s in view.stages:
        c = s.clock
        word = _clock_word(c, ctx)
        if c is not None and (c.state == "overdue" or c.late):
            word = f"[red]{escape(word)}[/]"
        table.add_row(
            escape(names.stage(view.flow, s.stage)),
            moment_text(s.entered),
            moment_text(s.left),
            escape(names.outcome(s.outcome, s.kind)),
            "—" if c is None else f"{c.used}/{c.limit}",
            escape("—" if c is None else due_text(c.due, c.provisional, ctx)),
            word,
        )
    console().print(table)


def _render_opinions(ctx: Context, doc: dict[str, Any], names: Names) -> None:
    given = [e for e in doc["events"] if e["kind"] == "opinion"]
    if not given:
        return
    t = ctx.t
    table = Table(title=t("会审意见", "Co-review opinions"))
    for head in (
        t("部门", "Department"),
        t("意见", "Opinion"),
        t("条件或理由", "Conditions or reasons"),
        t("办理人", "By"),
        t("时间", "At"),
    ):
        table.add_column(head, overflow="fold")
    for e in given:
        why = t("；", "; ").join(e["conditions"]) or e["note"] or "—"
        table.add_row(
            escape(names.department(e["department"])),
            escape(names.opinion(e["value"])),
            escape(why),
            escape(e["actor"]),
            e["at"][:16].replace("T", " "),
        )
    console().print(table)


def _render_review(ctx: Context, doc: dict[str, Any], names: Names) -> None:
    r = doc["review"]
    if r is None:
        return
    t = ctx.t
    out = console()
    outcome = names.outcome(r["outcome"], "automatic")
    if r.get("action") == "review_project":
        out.print(
            escape(
                t(
                    f"自动审查：{outcome}（规则包 {r.get('rule_pack')}，{r.get('rules', 0)} 条规则，"
                    f"{r.get('errors', 0)} 项不符合，{r.get('warnings', 0)} 项提示，"
                    f"{r.get('skipped', 0)} 条因缺少图层未审查；一张图截至 {r.get('as_of')}）",
                    f"Automatic review: {outcome} (rule pack {r.get('rule_pack')}, "
                    f"{r.get('rules', 0)} rules, {r.get('errors', 0)} errors, "
                    f"{r.get('warnings', 0)} warnings, {r.get('skipped', 0)} skipped for want of "
                    f"layers; one map as of {r.get('as_of')})",
                )
            ),
            highlight=False,
        )
    else:
        out.print(escape(t(f"自动核实：{outcome}", f"Automatic verification: {outcome}")))
    for f in r.get("findings", []):
        text = f.get("message_zh") if ctx.lang == "zh" else f.get("message_en")
        colour = "red" if f.get("severity") == "error" else "yellow"
        out.print(f"  [{colour}]{escape(f['rule'])}[/] {escape(str(text or ''))}", highlight=False)


def _render_events(ctx: Context, view: CaseView, names: Names) -> None:
    t = ctx.t
    table = Table(title=t("办理记录", "Record"))
    for head in (
        t("序号", "#"),
        t("时间", "At"),
        t("办理人", "By"),
        t("事项", "What"),
        t("内容", "Value"),
        t("说明", "Note"),
    ):
        table.add_column(head, overflow="fold")
    for e in view.events:
        ev = e.event
        if ev.kind == "opinion":
            value = f"{names.department(ev.department)}{t('：', ': ')}{names.opinion(ev.value)}"
        elif ev.kind in ("outcome", "review"):
            value = names.outcome(ev.value, "automatic" if ev.actor == SYSTEM else "")
        elif ev.kind == "issued":
            value = str(e.detail.get("serial", ""))
        elif ev.kind == "file":
            value = str(e.detail.get("material", "")) or "—"
        else:
            value = ev.value or "—"
        table.add_row(
            str(e.seq),
            moment_text(ev.at),
            escape(names.department(SYSTEM) if ev.actor == SYSTEM else ev.actor or "—"),
            escape(t(*_EVENTS.get(ev.kind, (ev.kind, ev.kind)))),
            escape(value),
            escape(ev.note or "—"),
        )
    console().print(table)


def _render_files(ctx: Context, doc: dict[str, Any]) -> None:
    if not doc["files"]:
        return
    t = ctx.t
    table = Table(title=t("材料和文书", "Materials and documents"))
    for head in (
        t("序号", "#"),
        t("材料", "Material"),
        t("文件", "File"),
        t("大小", "Size"),
        t("提交人", "By"),
    ):
        table.add_column(head, overflow="fold")
    for f in doc["files"]:
        material = f["material"]
        if material == DOCUMENT_MATERIAL and ctx.lang == "en":
            material = "decision document"
        table.add_row(
            str(f["n"]),
            escape(material),
            escape(f["filename"]),
            t(f"{f['size']:,} 字节", f"{f['size'] / 1024:,.1f} KB"),
            escape(t("系统", "the system") if f["uploaded_by"] == SYSTEM else f["uploaded_by"]),
        )
    console().print(table)
