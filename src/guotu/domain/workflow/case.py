"""A case (案件) as the events that happened to it, and where it stands on any day.

Nothing about a case is overwritten: intake, each department's opinion, each outcome, each
补正 asked and completed is an event with its time. :func:`case_state` replays the events up
to a moment on the case's :class:`~guotu.domain.workflow.definition.Workflow`, so the case is
seen as of any date, and refuses an event the procedure does not allow (an outcome a stage
does not have, an opinion from a department not asked, a second opinion).

A co-review (会审) stage ends when every department asked has given its opinion (同意
``agree``, 有条件同意 ``conditional`` with conditions, 不同意 ``disagree``): one 不同意 makes the
outcome ``rejected``, else one 有条件同意 makes it ``conditional``, else ``approved``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

from guotu.domain.workflow.clock import Pause
from guotu.domain.workflow.definition import Workflow
from guotu.errors import InputError

__all__ = ["CaseEvent", "CaseState", "Visit", "case_state"]

OPINIONS = ("agree", "conditional", "disagree")


@dataclass(frozen=True)
class CaseEvent:
    """One thing that happened to a case. ``kind``: ``outcome`` (``value`` the outcome),
    ``opinion`` (``value`` one of :data:`OPINIONS`, by ``department``), ``pause`` (补正 asked)
    or ``resume`` (materials complete)."""

    at: datetime
    kind: str
    value: str = ""
    department: str = ""
    actor: str = ""
    note: str = ""


@dataclass(frozen=True)
class Visit:
    """A stay of the case in one stage."""

    stage: str
    entered: datetime
    left: datetime | None = None
    outcome: str | None = None
    pauses: tuple[Pause, ...] = ()


@dataclass(frozen=True)
class CaseState:
    """Where a case stands: its stages so far (the last is the current one), the opinions
    given in the current stage, and whether it is closed."""

    visits: tuple[Visit, ...]
    opinions: Mapping[str, str] = field(default_factory=dict)
    closed: bool = False

    @property
    def stage(self) -> str:
        """The stage the case is in (or closed in)."""
        return self.visits[-1].stage

    @property
    def paused(self) -> bool:
        """Whether the clock of the current stage is stopped (补正 under way)."""
        pauses = self.visits[-1].pauses
        return bool(pauses) and pauses[-1].end is None


def _refuse(event: CaseEvent, zh: str, en: str) -> InputError:
    return InputError(
        f"Event {event.kind} {event.value!r} at {event.at:%Y-%m-%d %H:%M}: {en}",
        field=event.kind,
        message_zh=f"{event.at:%Y-%m-%d %H:%M} 的{event.kind}事件（{event.value}）：{zh}",
        fix="Record only what the procedure allows in the stage the case is in.",
        fix_zh="只能记录当前环节的流程所允许的事项。",
    )


def _co_review_outcome(opinions: Mapping[str, str]) -> str:
    values = set(opinions.values())
    if "disagree" in values:
        return "rejected"
    return "conditional" if "conditional" in values else "approved"


def case_state(
    flow: Workflow, created: datetime, events: Iterable[CaseEvent], as_of: datetime
) -> CaseState:
    """The case created at ``created`` on ``flow``, after its ``events`` up to ``as_of``.

    Raises
    ------
    InputError
        An event the procedure does not allow where the case then was.
    """
    visits = [Visit(flow.start, created)]
    opinions: dict[str, str] = {}
    for e in sorted(events, key=lambda e: e.at):
        if e.at > as_of:
            break
        here = visits[-1]
        stage = flow.stages[here.stage]
        if stage.is_end:
            raise _refuse(e, "案件已办结", "the case is closed")
        outcome = None
        if e.kind == "opinion":
            if stage.kind != "co_review" or e.department not in stage.departments:
                raise _refuse(e, "该部门不在本环节会审之列", "that department is not asked here")
            if e.department in opinions or e.value not in OPINIONS:
                raise _refuse(
                    e, "意见重复或不是同意/有条件同意/不同意", "a second or unknown opinion"
                )
            opinions[e.department] = e.value
            if len(opinions) == len(stage.departments):
                outcome = _co_review_outcome(opinions)
        elif e.kind == "outcome":
            outcome = e.value
        elif e.kind == "pause" and not (here.pauses and here.pauses[-1].end is None):
            visits[-1] = Visit(here.stage, here.entered, pauses=(*here.pauses, Pause(e.at.date())))
        elif e.kind == "resume" and here.pauses and here.pauses[-1].end is None:
            done = Pause(here.pauses[-1].start, e.at.date())
            visits[-1] = Visit(here.stage, here.entered, pauses=(*here.pauses[:-1], done))
        else:
            raise _refuse(e, "事件与当前状态不符", "not possible in this state")
        if outcome is not None:
            target = stage.outcomes.get(outcome)
            if target is None:
                raise _refuse(e, f"环节“{stage.id}”没有这一去向", "not an outcome of this stage")
            here = visits[-1]
            visits[-1] = Visit(here.stage, here.entered, e.at, outcome, here.pauses)
            visits.append(Visit(target, e.at))
            opinions = {}
    return CaseState(tuple(visits), opinions, flow.stages[visits[-1].stage].is_end)
