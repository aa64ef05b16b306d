"""A case replayed from its events (``guotu.domain.workflow.case``) on the procedure made for
the definition tests: parallel co-review joins, a 不同意 rejects, 补正 stops the clock, the
case as of any moment, and events the procedure does not allow refused."""

from __future__ import annotations

from datetime import datetime

import pytest

from guotu.domain.workflow.case import CaseEvent, case_state
from guotu.domain.workflow.clock import Pause
from guotu.errors import InputError
from guotu.io.workflows import load_workflow

from .test_workflow_definition import GOOD

FLOW = load_workflow(("flow.yaml", GOOD))
T0 = datetime(2026, 3, 2, 9, 0)


def at(day: int, hour: int = 10) -> datetime:
    return datetime(2026, 3, day, hour, 0)


HAPPY = [
    CaseEvent(at(2), "outcome", "done", actor="窗口"),
    CaseEvent(at(2, 11), "outcome", "compliant", actor="system"),
    CaseEvent(at(4), "opinion", "agree", department="fagai"),
    CaseEvent(at(5), "opinion", "conditional", department="zhujian", note="外立面须报审"),
    CaseEvent(at(6), "opinion", "agree", department="shengtai"),
    CaseEvent(at(9), "outcome", "approved", actor="approver"),
]


def test_parallel_co_review_joins_when_every_department_has_spoken() -> None:
    waiting = case_state(FLOW, T0, HAPPY, at(5, 12))
    assert waiting.stage == "co_review" and waiting.opinions == {
        "fagai": "agree",
        "zhujian": "conditional",
    }
    joined = case_state(FLOW, T0, HAPPY, at(6, 12))
    assert joined.stage == "decision" and joined.visits[-2].outcome == "conditional"
    done = case_state(FLOW, T0, HAPPY, at(31))
    assert done.closed and done.stage == "issued"
    assert [v.stage for v in done.visits] == [
        "intake",
        "auto_review",
        "co_review",
        "decision",
        "issued",
    ]


def test_one_disagreement_rejects() -> None:
    events = [*HAPPY[:3], CaseEvent(at(5), "opinion", "disagree", department="zhujian")]
    events.append(CaseEvent(at(6), "opinion", "agree", department="shengtai"))
    state = case_state(FLOW, T0, events, at(31))
    assert state.closed and state.stage == "closed" and state.visits[-2].outcome == "rejected"


def test_supplementing_stops_the_clock_and_the_case_goes_back() -> None:
    events = [
        CaseEvent(at(2), "outcome", "supplement"),
        CaseEvent(at(3), "pause"),
        CaseEvent(at(12), "resume"),
        CaseEvent(at(13), "outcome", "done"),
    ]
    paused = case_state(FLOW, T0, events, at(10))
    assert paused.stage == "supplement" and paused.paused
    back = case_state(FLOW, T0, events, at(13, 12))
    assert back.stage == "intake" and not back.paused
    assert back.visits[1].pauses == (Pause(at(3).date(), at(12).date()),)


@pytest.mark.parametrize(
    ("event", "words"),
    [
        (CaseEvent(at(2), "outcome", "approved"), "没有这一去向"),
        (CaseEvent(at(2), "opinion", "agree", department="fagai"), "不在本环节会审之列"),
        (CaseEvent(at(2), "resume"), "事件与当前状态不符"),
    ],
)
def test_events_the_procedure_does_not_allow_are_refused(event: CaseEvent, words: str) -> None:
    with pytest.raises(InputError) as refused:
        case_state(FLOW, T0, [event], at(31))
    assert words in refused.value.render("zh") and refused.value.exit_code == 2


def test_a_second_opinion_and_events_after_closing_are_refused() -> None:
    twice = [*HAPPY[:3], CaseEvent(at(5), "opinion", "disagree", department="fagai")]
    with pytest.raises(InputError, match="second or unknown opinion"):
        case_state(FLOW, T0, twice, at(31))
    after = [*HAPPY, CaseEvent(at(20), "outcome", "approved")]
    with pytest.raises(InputError, match="closed"):
        case_state(FLOW, T0, after, at(31))
