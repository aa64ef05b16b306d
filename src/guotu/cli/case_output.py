"""What the ``guotu case`` commands print: the JSON documents of ``--json`` and the tables and
lines a person reads, in the run's language.

Ids (procedures, stages, outcomes, roles, departments) are what scripts read in JSON; a person
reads names: the stage's name, 窗口受理人员（国土空间规划科）, 有条件批准, the due date with
暂定 where the calendar guessed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from rich.markup import escape
from rich.table import Table

from guotu.cli.base import Context, console
from guotu.domain.access.roles import ROLES
from guotu.domain.workflow.clock import ProvisionalDays
from guotu.domain.workflow.definition import LegalBasis, Stage, Workflow
from guotu.domain.workflow.records import CaseStatus
from guotu.ports import FeatureStore
from guotu.services.approval_setup import SYSTEM, ApprovalSetup

__all__ = [
    "OPINIONS",
    "OUTCOMES",
    "Names",
    "due_text",
    "iso_text",
    "moment_text",
    "procedure_doc",
    "render_procedures",
    "render_stats",
    "render_statuses",
    "render_verification",
    "status_doc",
]

#: Outcomes and opinions: (Chinese, English).
OUTCOMES: dict[str, tuple[str, str]] = {
    "done": ("完成", "done"),
    "supplement": ("补正", "supplement"),
    "approved": ("批准", "approved"),
    "conditional": ("有条件批准", "approved with conditions"),
    "rejected": ("不予批准", "rejected"),
    "compliant": ("符合", "compliant"),
    "non_compliant": ("不符合", "non-compliant"),
}
OPINIONS: dict[str, tuple[str, str]] = {
    "agree": ("同意", "agree"),
    "conditional": ("有条件同意", "agree with conditions"),
    "disagree": ("不同意", "disagree"),
}
_KINDS = {
    "intake": ("受理", "intake"),
    "automatic": ("系统自动", "automatic"),
    "task": ("办理", "task"),
    "co_review": ("并联会审", "co-review"),
    "decision": ("审批决定", "decision"),
    "end": ("办结", "end"),
}
_ROLES = {r.id: r for r in ROLES}


def moment_text(t: datetime | None) -> str:
    """A moment as a person reads it, to the minute.

    Examples
    --------
    >>> moment_text(datetime(2026, 3, 2, 9, 30, 15)), moment_text(None)
    ('2026-03-02 09:30', '—')
    """
    return "—" if t is None else t.strftime("%Y-%m-%d %H:%M")


def iso_text(t: datetime | date | None) -> str | None:
    """A moment or day as JSON gives it (ISO 8601, to the second), ``None`` as it is."""
    if t is None:
        return None
    return t.isoformat(timespec="seconds") if isinstance(t, datetime) else t.isoformat()


class Names:
    """How the run writes ids: departments by their names in the workspace, roles, outcomes
    and opinions in its language."""

    def __init__(self, ctx: Context, departments: Mapping[str, str] | None = None) -> None:
        self.ctx = ctx
        self.departments = dict(departments or {})

    @classmethod
    def of(cls, ctx: Context, store: FeatureStore) -> Names:
        """The names of ``ctx``'s run, with the departments of ``store``."""
        return cls(ctx, {d.id: d.name for d in store.departments()})

    def pick(self, pair: tuple[str, str]) -> str:
        """The run's half of a (Chinese, English) pair."""
        return self.ctx.t(*pair)

    def outcome(self, value: str | None, kind: str = "") -> str:
        """An outcome; of an automatic stage (``kind``), ``rejected`` is a check failed."""
        if not value:
            return "—"
        if kind == "automatic" and value == "rejected":
            return self.pick(("不合格", "failed"))
        return self.pick(OUTCOMES.get(value, (value, value)))

    def opinion(self, value: str) -> str:
        """A co-review opinion (``agree`` …) as the run writes it."""
        return self.pick(OPINIONS.get(value, (value, value)))

    def department(self, dept: str | None) -> str:
        """A department by its name in the workspace (its id when it has none there)."""
        if not dept or dept == "*":
            return self.ctx.t("不限部门", "any department")
        if dept == SYSTEM:
            return self.ctx.t("系统", "the system")
        return self.departments.get(dept, dept)

    def role(self, role: str | None, dept: str | None = None) -> str:
        """A role, of a department (``dept``; ``*`` or none: any).

        Examples
        --------
        >>> Names(Context("zh"), {"guihua": "国土空间规划科"}).waiting("role:clerk@guihua")
        '窗口受理人员（国土空间规划科）'
        >>> Names(Context("en")).role("approver", "guihua")
        'approver (guihua)'
        """
        found = _ROLES.get(role or "")
        name = found.name(self.ctx.lang) if found is not None else (role or "—")
        if not dept or dept == "*":
            return name
        return self.ctx.t(f"{name}（{self.department(dept)}）", f"{name} ({self.department(dept)})")

    def waiting(self, key: str) -> str:
        """A :attr:`CaseStatus.waiting` name (``role:clerk@guihua``, ``dept:zhujian``)."""
        if key.startswith("dept:"):
            return self.department(key.removeprefix("dept:"))
        role, _, dept = key.removeprefix("role:").partition("@")
        return self.role(role, dept)

    def actor(self, stage: Stage) -> str:
        """Who acts in ``stage``."""
        if stage.kind == "automatic":
            return self.ctx.t("系统", "the system")
        if stage.kind == "co_review":
            joined = self.ctx.t("、", ", ").join(self.department(d) for d in stage.departments)
            order = (
                self.ctx.t("并联", "in parallel")
                if stage.parallel
                else self.ctx.t("依次", "in turn")
            )
            return self.ctx.t(f"{joined}（{order}）", f"{joined} ({order})")
        if stage.is_end:
            return "—"
        return self.role(stage.role, stage.department)

    def basis(self, b: LegalBasis) -> str:
        """A legal basis, marked when it was not checked against the official text."""
        text = self.ctx.t("", " ").join(p for p in (b.document, b.article) if p)
        return text if b.verified else text + self.ctx.t("（未核对）", " (unverified)")

    def stage(self, flow: Workflow | None, stage_id: str) -> str:
        """A stage of ``flow`` by its name in the run's language (its id when unknown)."""
        s = None if flow is None else flow.stages.get(stage_id)
        if s is None:
            return stage_id
        return s.name_zh if self.ctx.lang == "zh" or not s.name_en else s.name_en


def due_text(due: date | None, provisional: bool, ctx: Context) -> str:
    """A due date, marked 暂定 when the calendar computed it without the year's arrangement.

    Examples
    --------
    >>> due_text(date(2027, 1, 4), True, Context("zh")), due_text(None, False, Context("en"))
    ('2027-01-04（暂定）', '—')
    """
    if due is None:
        return "—"
    return due.isoformat() + (ctx.t("（暂定）", " (provisional)") if provisional else "")


def _is_provisional(setup: ApprovalSetup, entered: date, due: date | None) -> bool:
    cal = setup.calendar
    return (
        due is not None
        and isinstance(cal, ProvisionalDays)
        and cal.has_provisional_days(entered, due)
    )


# -- procedures ------------------------------------------------------------------------------
def _bases(items: Iterable[LegalBasis]) -> list[dict[str, Any]]:
    return [{"document": b.document, "article": b.article, "verified": b.verified} for b in items]


def procedure_doc(flow: Workflow) -> dict[str, Any]:
    """A procedure as ``guotu case procedures --json`` gives it."""
    return {
        "id": flow.id,
        "name_zh": flow.name_zh,
        "name_en": flow.name_en,
        "extends": flow.extends,
        "start": flow.start,
        "legal_basis": _bases(flow.legal_basis),
        "stages": [
            {
                "id": s.id,
                "name_zh": s.name_zh,
                "name_en": s.name_en,
                "kind": s.kind,
                "deadline_working_days": s.deadline_working_days,
                "role": s.role,
                "department": s.department,
                "departments": list(s.departments),
                "parallel": s.parallel,
                "action": s.action,
                "outcomes": dict(s.outcomes),
                "issues": s.issues,
                "materials": [
                    {"name_zh": m.name_zh, "types": list(m.types), "required": m.required}
                    for m in s.materials
                ],
                "legal_basis": _bases(s.legal_basis),
            }
            for s in flow.stages.values()
        ],
    }


def render_procedures(ctx: Context, flows: list[Workflow], names: Names) -> None:
    """Each procedure: its legal basis, a table of its stages, the materials it asks."""
    out = console()
    for flow in flows:
        title = flow.name_zh if ctx.lang == "zh" else flow.name_en
        line = f"[bold]{escape(flow.id)}[/]  {escape(title)}"
        if flow.extends:
            line += escape(ctx.t(f"（继承 {flow.extends}）", f" (extends {flow.extends})"))
        out.print(line, highlight=False)
        if flow.legal_basis:
            bases = ctx.t("；", "; ").join(names.basis(b) for b in flow.legal_basis)
            out.print(escape(ctx.t("法定依据：", "Legal basis: ") + bases), highlight=False)
        table = Table()
        for head in (
            ctx.t("环节", "Stage"),
            ctx.t("类型", "Kind"),
            ctx.t("期限（工作日）", "Deadline (working days)"),
            ctx.t("办理人", "Acted on by"),
            ctx.t("去向", "Outcomes"),
            ctx.t("依据", "Basis"),
        ):
            table.add_column(head, overflow="fold")
        for s in flow.stages.values():
            goes = [
                f"{names.outcome(o, s.kind)} → {names.stage(flow, t)}"
                for o, t in s.outcomes.items()
            ]
            if s.issues:
                goes.append(ctx.t(f"核发{s.issues}", f"issues {s.issues}"))
            table.add_row(
                escape(names.stage(flow, s.id)),
                escape(names.pick(_KINDS.get(s.kind, (s.kind, s.kind)))),
                "—" if s.deadline_working_days is None else str(s.deadline_working_days),
                escape(names.actor(s)),
                escape("\n".join(goes) or "—"),
                escape("\n".join(names.basis(b) for b in s.legal_basis) or "—"),
            )
        out.print(table)
        materials = [m for s in flow.stages.values() for m in s.materials]
        if materials:
            shown = ctx.t("、", ", ").join(
                f"{m.name_zh}（{'/'.join(m.types) or ctx.t('任意格式', 'any type')}"
                + (ctx.t("，选交", ", optional") if not m.required else "")
                + "）"
                for m in materials
            )
            out.print(escape(ctx.t("申请材料：", "Materials: ") + shown), highlight=False)
        out.print("")


# -- the lists -------------------------------------------------------------------------------
def _status_word(s: CaseStatus, today: date, names: Names, flow: Workflow | None) -> str:
    t = names.ctx.t
    if s.closed:
        return t(
            f"已办结（{names.stage(flow, s.stage)}）", f"closed ({names.stage(flow, s.stage)})"
        )
    if s.paused:
        return t("补正中", "supplementing")
    if s.due_on is not None and s.due_on < today:
        return t("超期", "overdue")
    return t("办理中", "in progress")


def status_doc(
    s: CaseStatus, flow: Workflow | None, names: Names, setup: ApprovalSetup, today: date
) -> dict[str, Any]:
    """A case of a list as ``--json`` gives it."""
    return {
        "id": s.case_id,
        "procedure": s.workflow,
        "project": s.project,
        "applicant": s.applicant,
        "stage": s.stage,
        "stage_name": names.stage(flow, s.stage),
        "stage_kind": s.stage_kind,
        "entered_at": iso_text(s.entered_at),
        "waiting": list(s.waiting),
        "waiting_names": [names.waiting(w) for w in s.waiting],
        "due_on": iso_text(s.due_on),
        "due_provisional": _is_provisional(setup, s.entered_at.date(), s.due_on),
        "overdue": bool(not s.closed and s.due_on is not None and s.due_on < today),
        "paused": s.paused,
        "closed": s.closed,
        "status": _status_word(s, today, names, flow),
        "created_at": iso_text(s.created_at),
        "updated_at": iso_text(s.updated_at),
    }


def render_statuses(ctx: Context, box: str, rows: list[dict[str, Any]]) -> None:
    """A list (``box``) of cases as :func:`status_doc` gives them, as a table."""
    out = console()
    boxes = {
        "todo": ("待办", "To do"),
        "done": ("已办", "Done"),
        "overdue": ("督办（超期）", "Overdue"),
        "open": ("在办", "Open"),
        "all": ("全部", "All"),
    }
    out.print(
        f"{ctx.t(*boxes[box])}：{len(rows)}"
        if ctx.lang == "zh"
        else f"{boxes[box][1]}: {len(rows)}",
        highlight=False,
    )
    if not rows:
        return
    table = Table()
    for head in (
        ctx.t("案件编号", "Case"),
        ctx.t("项目", "Project"),
        ctx.t("申请人", "Applicant"),
        ctx.t("环节", "Stage"),
        ctx.t("待办理人", "Waiting for"),
        ctx.t("期限", "Due"),
        ctx.t("状态", "Status"),
    ):
        table.add_column(head, overflow="fold")
    for r in rows:
        due = due_text(
            None if r["due_on"] is None else date.fromisoformat(r["due_on"]),
            r["due_provisional"],
            ctx,
        )
        status = escape(r["status"])
        table.add_row(
            r["id"],
            escape(r["project"]),
            escape(r["applicant"]),
            escape(r["stage_name"]),
            escape(ctx.t("、", ", ").join(r["waiting_names"]) or "—"),
            escape(due),
            f"[red]{status}[/]" if r["overdue"] else status,
        )
    out.print(table)


# -- verification and statistics -------------------------------------------------------------
def render_verification(ctx: Context, shown: dict[str, Any]) -> None:
    """What the public verification page shows (:func:`~guotu.services.approval_documents.
    verify_document`)."""
    t = ctx.t
    out = console()
    out.print(f"[green]{t('文书真实有效', 'The document is genuine')}[/]", highlight=False)
    labels = (
        ("serial", ("文书编号", "Number")),
        ("title", ("文书", "Document")),
        ("project", ("项目名称", "Project")),
        ("applicant", ("申请单位", "Applicant")),
        ("location", ("位置", "Location")),
        ("issued_on", ("核发日期", "Issued on")),
        ("site_area_m2", ("用地面积（平方米）", "Site area (m²)")),
    )
    for key, pair in labels:
        if key in shown:
            sep = "：" if ctx.lang == "zh" else ": "
            value = shown[key]
            text = f"{value:,.2f}" if isinstance(value, float) else str(value)
            out.print(f"{t(*pair)}{sep}{escape(text)}", highlight=False)
    if not shown.get("public"):
        out.print(
            t(
                "该文书的内容不公开，此处仅证明编号真实有效。",
                "The document's content is not public: only its number is confirmed genuine.",
            ),
            highlight=False,
        )


def render_stats(
    ctx: Context, doc: dict[str, Any], flows: Mapping[str, Workflow | None], names: Names
) -> None:
    """The statistics (:func:`~guotu.services.approval_views.statistics`), stages named by
    ``flows`` and in their order."""
    t = ctx.t
    out = console()
    out.print(
        t(
            f"案件 {doc['cases']} 件，在办 {doc['open']} 件",
            f"{doc['cases']} cases, {doc['open']} open",
        ),
        highlight=False,
    )

    def stage(row: Mapping[str, Any]) -> str:
        return escape(names.stage(flows.get(row["workflow"]), row["stage"]))

    def procedure(row: Mapping[str, Any]) -> str:
        flow = flows.get(row["workflow"])
        if flow is None:
            return escape(row["workflow"])
        return escape(flow.name_zh if ctx.lang == "zh" else flow.name_en)

    def in_order(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        def key(row: Mapping[str, Any]) -> tuple[str, int]:
            order = list(getattr(flows.get(row["workflow"]), "stages", {}))
            at = order.index(row["stage"]) if row["stage"] in order else len(order)
            return row["workflow"], at

        return sorted(rows, key=key)

    if doc["by_stage"]:
        table = Table(title=t("在办案件（按环节）", "Open cases by stage"))
        for head in (t("流程", "Procedure"), t("环节", "Stage"), t("件数", "Cases")):
            table.add_column(head)
        for r in in_order(doc["by_stage"]):
            table.add_row(procedure(r), stage(r), str(r["open"]))
        out.print(table)
    if doc["stage_days"]:
        table = Table(
            title=t(
                "各环节用时（工作日，补正时间不计）",
                "Working days per stage (supplementing not counted)",
            )
        )
        for head in (
            t("流程", "Procedure"),
            t("环节", "Stage"),
            t("办理次数", "Stays"),
            t("平均", "Mean"),
            t("90%分位", "90th percentile"),
            t("超期", "Late"),
        ):
            table.add_column(head)
        for r in in_order(doc["stage_days"]):
            table.add_row(
                procedure(r),
                stage(r),
                str(r["stays"]),
                f"{r['mean']:g}",
                f"{r['p90']:g}",
                str(r["late"]),
            )
        out.print(table)
    if doc["overdue_by_department"]:
        table = Table(title=t("超期在办案件（按待办部门）", "Overdue open cases by department"))
        for head in (t("部门", "Department"), t("件数", "Cases")):
            table.add_column(head)
        for r in doc["overdue_by_department"]:
            table.add_row(escape(names.department(r["department"])), str(r["cases"]))
        out.print(table)
    else:
        out.print(t("没有超期的在办案件。", "No open case is overdue."), highlight=False)
