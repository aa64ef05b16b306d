"""The approval engine (多审合一) on procedures written for these tests: co-reviews joining,
rejection routes, the statutory clock around the 2026 Spring Festival, refusals, stale writes
and the statistics, each with a hand-computed answer.

The procedures are plain ``workflow-v1`` documents placed in a profiles folder
(``guotu.io.workflows.workflow_by_id`` finds ``<id>.yaml`` there), so intake takes them by id
like a shipped one. Times come from a fixed clock (``ApprovalSetup.now``); the calendar is the
official one: 春节 2026-02-15 … 02-23 off, 调休 workdays Saturday 2026-02-14 and 02-28.

Working days after Thursday 2026-02-12 (the day itself not counted), used by many tests::

    02-13 Fri 1 · 02-14 Sat(调休) 2 · 02-15 … 02-23 off · 02-24 3 · 02-25 4 · 02-26 5 ·
    02-27 6 · 02-28 Sat(调休) 7 · 03-02 8 · 03-03 9 · 03-04 10 · 03-05 11 · 03-06 12 ·
    03-09 13 · 03-10 14 · 03-11 15
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely
from pyproj import CRS

from guotu.domain.access.policy import Principal
from guotu.errors import ConflictError, InputError, PermissionDeniedError
from guotu.services.approval_views import case_view, statistics, todo
from guotu.services.approvals import (
    Act,
    Application,
    ApprovalSetup,
    act,
    attach_material,
    intake,
)
from guotu.store.memory import MemoryStore

from ..conftest import X0, Y0

GK39 = CRS.from_epsg(4527)
SITE = shapely.box(X0, Y0, X0 + 100, Y0 + 80)  # 8,000 m²

PARALLEL = """\
schema_version: 1
id: t-parallel
name_zh: 测试并联审批
name_en: Test parallel approval
start: intake
stages:
  - id: intake
    name_zh: 受理
    kind: intake
    actor: {role: clerk, department: guihua}
    deadline_working_days: 5
    materials:
      - {name_zh: 申请表, types: [pdf]}
      - {name_zh: 总平面图, types: [dwg, pdf], required: false}
    outcomes: {done: co_review, supplement: supplement}
  - id: supplement
    name_zh: 补正
    kind: task
    actor: {role: clerk, department: guihua}
    deadline_working_days: 5
    outcomes: {done: co_review, rejected: terminated}
  - id: co_review
    name_zh: 并联审查
    kind: co_review
    departments: [zhujian, shengtai]
    parallel: true
    deadline_working_days: 10
    outcomes: {approved: decision, conditional: conditions, rejected: refused}
  - id: conditions
    name_zh: 落实会审条件
    kind: task
    actor: {role: reviewer, department: guihua}
    deadline_working_days: 3
    outcomes: {done: decision}
  - id: decision
    name_zh: 审批决定
    kind: decision
    actor: {role: approver, department: guihua}
    deadline_working_days: 4
    outcomes: {approved: granted, rejected: refused}
  - {id: granted, name_zh: 准予许可, kind: end}
  - {id: refused, name_zh: 不予许可, kind: end}
  - {id: terminated, name_zh: 终止办理, kind: end}
"""

SEQUENTIAL = """\
schema_version: 1
id: t-sequential
name_zh: 测试依次审批
name_en: Test sequential approval
start: intake
stages:
  - id: intake
    name_zh: 受理
    kind: intake
    actor: {role: clerk, department: guihua}
    deadline_working_days: 5
    outcomes: {done: co_review}
  - id: co_review
    name_zh: 依次会审
    kind: co_review
    departments: [fagai, zhujian]
    parallel: false
    deadline_working_days: 10
    outcomes: {approved: granted, conditional: granted, rejected: refused}
  - {id: granted, name_zh: 准予许可, kind: end}
  - {id: refused, name_zh: 不予许可, kind: end}
"""

CLERK = Principal("huangmei01", frozenset({"clerk"}), "guihua")
REVIEWER = Principal("liuyang01", frozenset({"reviewer"}), "guihua")
APPROVER = Principal("chenjing01", frozenset({"approver"}), "guihua")
ZHUJIAN = Principal("zhujian01", frozenset({"reviewer"}), "zhujian")
SHENGTAI = Principal("shengtai01", frozenset({"reviewer"}), "shengtai")
FAGAI = Principal("fagai01", frozenset({"reviewer"}), "fagai")
DEPARTMENT = {"zhujian": ZHUJIAN, "shengtai": SHENGTAI, "fagai": FAGAI}


class Clock:
    """The engine's ``now``, set by the test."""

    def __init__(self) -> None:
        self.at = datetime(2026, 2, 12, 9, 0)

    def __call__(self) -> datetime:
        return self.at

    def set(self, *parts: int) -> None:
        self.at = datetime(*parts)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("profiles")
    (folder / "t-parallel.yaml").write_text(PARALLEL, encoding="utf-8")
    (folder / "t-sequential.yaml").write_text(SEQUENTIAL, encoding="utf-8")
    return folder


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def setup(profiles: Path, clock: Clock) -> ApprovalSetup:
    return ApprovalSetup(profiles_dir=profiles, now=clock, authority="示范县自然资源和规划局")


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.set_crs(GK39)
    return s


@pytest.fixture(params=["memory", pytest.param("postgis", marks=pytest.mark.postgis)])
def any_store(request: pytest.FixtureRequest) -> Iterator[Any]:
    """A new workspace in EPSG:4527 in memory and in a fresh PostGIS schema."""
    if request.param == "memory":
        yield request.getfixturevalue("store")
        return
    from ..store.conftest import pg_dsn

    dsn = pg_dsn()
    import psycopg
    from psycopg import sql

    from guotu.store.postgis import PostGISStore

    schema = f"test_{uuid.uuid4().hex[:12]}"
    try:
        with PostGISStore.open(dsn, create=True, schema=schema) as s:
            s.set_crs(GK39)
            yield s
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def new_case(store: Any, setup: ApprovalSetup, workflow: str = "t-parallel", **kw: Any) -> str:
    """A case accepted at the window now (受理 recorded unless ``accept=False``)."""
    case, _ = intake(
        store,
        Application(
            workflow, "示范县城投公司", "示范县文体中心", "城关镇", SITE, date(2026, 2, 12)
        ),
        CLERK,
        setup,
        **kw,
    )
    return case.id


def status(store: Any, case_id: str) -> Any:
    [s] = store.approval_statuses(case_id=case_id)
    return s


def opinion(value: str, *conditions: str, note: str = "") -> Act:
    return Act("opinion", value, note=note, conditions=conditions)


# -- co-review: the departments' opinions join into one outcome -------------------------------


@pytest.mark.parametrize(
    ("zhujian", "shengtai", "outcome", "stage"),
    [
        ("agree", "agree", "approved", "decision"),
        # one 有条件同意 among 同意: conditional
        ("agree", "conditional", "conditional", "conditions"),
        ("conditional", "agree", "conditional", "conditions"),
        # one 不同意 outweighs everything: the rejected route
        ("disagree", "agree", "rejected", "refused"),
        ("conditional", "disagree", "rejected", "refused"),
    ],
)
def test_parallel_opinions_join_into_the_co_review_outcome(
    store: MemoryStore,
    setup: ApprovalSetup,
    clock: Clock,
    zhujian: str,
    shengtai: str,
    outcome: str,
    stage: str,
) -> None:
    case_id = new_case(store, setup)
    clock.set(2026, 2, 13, 10)
    reasons = {"agree": (), "conditional": ("夜间不得施工",), "disagree": ("占用消防通道",)}
    act(store, case_id, opinion(zhujian, *reasons[zhujian]), ZHUJIAN, setup)
    assert status(store, case_id).waiting == ("dept:shengtai",)
    state = act(store, case_id, opinion(shengtai, *reasons[shengtai]), SHENGTAI, setup)
    co_review = state.visits[1]
    assert (co_review.stage, co_review.outcome, state.stage) == ("co_review", outcome, stage)
    assert status(store, case_id).stage == stage


def test_both_agree_on_every_store(any_store: Any, setup: ApprovalSetup) -> None:
    case_id = new_case(any_store, setup)
    act(any_store, case_id, opinion("agree"), SHENGTAI, setup)
    act(any_store, case_id, opinion("agree"), ZHUJIAN, setup)
    s = status(any_store, case_id)
    assert (s.stage, s.waiting, s.events) == ("decision", ("role:approver@guihua",), 3)
    # The decision, entered Thu 02-12, is due 4 working days later: 02-13, 02-14 (调休),
    # 02-24, 02-25 (02-15 … 02-23 are 春节).
    assert s.due_on == date(2026, 2, 25)
    kinds = [
        (e.seq, e.event.kind, e.event.value, e.event.department)
        for e in any_store.approval_events(case_id)
    ]
    assert kinds == [
        (1, "outcome", "done", ""),
        (2, "opinion", "agree", "shengtai"),
        (3, "opinion", "agree", "zhujian"),
    ]


def test_conditions_of_a_conditional_opinion_are_kept_in_its_event(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup)
    act(store, case_id, opinion("agree"), ZHUJIAN, setup)
    act(
        store,
        case_id,
        opinion("conditional", "施工期落实扬尘防治措施", "夜间不得施工"),
        SHENGTAI,
        setup,
    )
    last = store.approval_events(case_id)[-1]
    assert (last.event.kind, last.event.value, last.event.department) == (
        "opinion",
        "conditional",
        "shengtai",
    )
    assert last.detail == {"conditions": ["施工期落实扬尘防治措施", "夜间不得施工"]}
    assert last.event.actor == "shengtai01"


def test_sequential_co_review_refuses_the_second_department_before_the_first(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup, "t-sequential")
    assert status(store, case_id).waiting == ("dept:fagai",)
    with pytest.raises(PermissionDeniedError) as refused:
        act(store, case_id, opinion("agree"), ZHUJIAN, setup)
    assert "依次会审" in refused.value.message_zh
    assert len(store.approval_events(case_id)) == 1 and status(store, case_id).events == 1


def test_sequential_co_review_takes_the_departments_in_their_order(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup, "t-sequential")
    act(store, case_id, opinion("agree"), FAGAI, setup)
    assert status(store, case_id).waiting == ("dept:zhujian",)
    state = act(store, case_id, opinion("conditional", "补充交通影响评价"), ZHUJIAN, setup)
    assert (state.visits[1].outcome, state.stage, state.closed) == ("conditional", "granted", True)


# -- rejection routes end in an end stage ------------------------------------------------------


def test_supplement_not_done_ends_the_case_terminated(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup, accept=False)
    act(store, case_id, Act("outcome", "supplement", "缺申请表"), CLERK, setup)
    state = act(store, case_id, Act("outcome", "rejected", "逾期未补正"), CLERK, setup)
    assert [v.stage for v in state.visits] == ["intake", "supplement", "terminated"]
    s = status(store, case_id)
    assert (s.closed, s.outcome, s.waiting, s.due_on) == (True, "terminated", (), None)


def test_the_approvers_refusal_ends_the_case_refused(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup)
    act(store, case_id, opinion("agree"), ZHUJIAN, setup)
    act(store, case_id, opinion("agree"), SHENGTAI, setup)
    state = act(store, case_id, Act("outcome", "rejected", "不符合规划条件"), APPROVER, setup)
    assert (state.stage, state.closed) == ("refused", True)
    assert [(v.stage, v.outcome) for v in state.visits] == [
        ("intake", "done"),
        ("co_review", "approved"),
        ("decision", "rejected"),
        ("refused", None),
    ]
    assert status(store, case_id).outcome == "refused"


# -- the clock: 补正 stops it, resuming moves the due date ----------------------------------------


@pytest.fixture
def paused(store: MemoryStore, setup: ApprovalSetup, clock: Clock) -> str:
    """A case in co-review since Thu 2026-02-12 09:00, paused (补正) on Fri 02-13 10:00."""
    case_id = new_case(store, setup)
    clock.set(2026, 2, 13, 10)
    act(store, case_id, Act("pause", note="补充总平面图"), CLERK, setup)
    return case_id


def test_the_co_review_is_due_ten_working_days_after_entry(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup)
    # 10 working days after Thu 02-12, 春节 skipped and both 调休 Saturdays worked: 03-04.
    s = status(store, case_id)
    assert (s.stage, s.due_on, s.paused) == ("co_review", date(2026, 3, 4), False)


def test_a_pause_stops_the_clock(
    store: MemoryStore, setup: ApprovalSetup, clock: Clock, paused: str
) -> None:
    s = status(store, paused)
    assert (s.paused, s.due_on, s.waiting) == (True, None, ("dept:zhujian", "dept:shengtai"))
    clock.set(2026, 2, 27, 9)
    view = case_view(store, paused, REVIEWER, setup, as_of=datetime(2026, 2, 27, 9))
    # Used: working days after 02-12 up to 02-27 (02-13, 02-14, 02-24 … 02-27 = 6) less the
    # paused ones after 02-13 (02-14, 02-24 … 02-27 = 5): 1, and no due date while paused.
    clock_now = view.current.clock
    assert clock_now is not None
    assert (clock_now.state, clock_now.used, clock_now.due) == ("paused", 1, None)


def test_resuming_moves_the_due_date_by_the_paused_working_days(
    store: MemoryStore, setup: ApprovalSetup, clock: Clock, paused: str
) -> None:
    clock.set(2026, 2, 26, 10)
    act(store, paused, Act("resume", note="总平面图已补齐"), CLERK, setup)
    # Paused: working days after 02-13 up to 02-26 = 02-14, 02-24, 02-25, 02-26 = 4, so the due
    # date is the 14th working day after 02-12 instead of the 10th: 03-10 instead of 03-04.
    s = status(store, paused)
    assert (s.paused, s.due_on) == (False, date(2026, 3, 10))
    view = case_view(store, paused, REVIEWER, setup, as_of=datetime(2026, 3, 2, 9))
    # On 03-02: 8 working days since 02-12, 4 of them paused: 4 used, 6 left.
    c = view.current.clock
    assert c is not None
    assert (c.state, c.used, c.left, c.due) == ("running", 4, 6, date(2026, 3, 10))


def test_a_stay_past_the_moved_due_date_is_recorded_late(
    store: MemoryStore, setup: ApprovalSetup, clock: Clock, paused: str
) -> None:
    clock.set(2026, 2, 26, 10)
    act(store, paused, Act("resume"), CLERK, setup)
    clock.set(2026, 3, 9, 9)
    act(store, paused, opinion("agree"), ZHUJIAN, setup)
    clock.set(2026, 3, 11, 16)
    act(store, paused, opinion("agree"), SHENGTAI, setup)
    [visit] = [v for v in store.approval_visits() if v.stage == "co_review"]
    # 15 working days after 02-12 up to 03-11, 4 paused: 11 used, past the due date 03-10.
    assert (visit.working_days, visit.late, visit.outcome) == (11, True, "approved")


# -- refusals: what the procedure does not allow, stale writes --------------------------------


def _refused_without_writing(store: MemoryStore, case_id: str, do: Any) -> InputError:
    before = (len(store.approval_events(case_id)), status(store, case_id))
    with pytest.raises(InputError) as caught:
        do()
    assert not isinstance(caught.value, ConflictError)
    assert caught.value.exit_code == 2 and caught.value.http_status == 400
    assert (len(store.approval_events(case_id)), status(store, case_id)) == before
    return caught.value


@pytest.mark.parametrize(
    ("action", "who"),
    [
        # an outcome the decision stage does not have (approved, rejected)
        (Act("outcome", "conditional"), APPROVER),
        # resuming a clock that is not stopped
        (Act("resume"), CLERK),
        # an event kind that is not an act
        (Act("issued", "x"), APPROVER),
        # an opinion that is not 同意/有条件同意/不同意
        (Act("opinion", "maybe"), ZHUJIAN),
        # 补正 without saying what is missing
        (Act("pause", note="  "), CLERK),
    ],
    ids=[
        "outcome-not-of-stage",
        "resume-not-paused",
        "unknown-kind",
        "unknown-opinion",
        "pause-without-note",
    ],
)
def test_what_the_procedure_does_not_allow_is_refused(
    store: MemoryStore, setup: ApprovalSetup, action: Act, who: Principal
) -> None:
    case_id = new_case(store, setup)
    if who is APPROVER:  # to the decision first
        act(store, case_id, opinion("agree"), ZHUJIAN, setup)
        act(store, case_id, opinion("agree"), SHENGTAI, setup)
    _refused_without_writing(store, case_id, lambda: act(store, case_id, action, who, setup))


def test_a_second_pause_is_refused(store: MemoryStore, setup: ApprovalSetup, paused: str) -> None:
    again = Act("pause", note="再次补正")
    error = _refused_without_writing(store, paused, lambda: act(store, paused, again, CLERK, setup))
    assert error.field == "pause"


@pytest.mark.parametrize("value", ["conditional", "disagree"])
def test_an_opinion_that_is_not_agree_needs_its_conditions_or_reasons(
    store: MemoryStore, setup: ApprovalSetup, value: str
) -> None:
    case_id = new_case(store, setup)
    bare = Act("opinion", value, note=" ")
    error = _refused_without_writing(
        store, case_id, lambda: act(store, case_id, bare, ZHUJIAN, setup)
    )
    assert error.field == "条件" and "须写明" in error.message_zh


def test_a_stale_write_is_refused_with_409_and_nothing_written(
    any_store: Any, setup: ApprovalSetup
) -> None:
    case_id = new_case(any_store, setup)
    seen = status(any_store, case_id).events  # both departments open the case: 1 event
    act(any_store, case_id, Act("opinion", "agree", expected=seen), ZHUJIAN, setup)
    with pytest.raises(ConflictError) as caught:
        act(any_store, case_id, Act("opinion", "agree", expected=seen), SHENGTAI, setup)
    assert caught.value.http_status == 409
    s = status(any_store, case_id)
    assert (s.events, s.stage, s.waiting) == (2, "co_review", ("dept:shengtai",))
    assert [e.event.department for e in any_store.approval_events(case_id)] == ["", "zhujian"]
    # Reloaded, the same opinion goes through.
    state = act(any_store, case_id, Act("opinion", "agree", expected=2), SHENGTAI, setup)
    assert state.stage == "decision"


def test_an_act_timed_before_the_last_event_does_not_break_the_case(
    store: MemoryStore, setup: ApprovalSetup, clock: Clock
) -> None:
    case_id = new_case(store, setup)
    clock.set(2026, 3, 3, 10)
    act(store, case_id, opinion("agree"), ZHUJIAN, setup)
    act(store, case_id, opinion("agree"), SHENGTAI, setup)  # → decision
    clock.set(2026, 3, 3, 9)  # another server an hour behind
    with pytest.raises((InputError, PermissionDeniedError)):
        act(store, case_id, opinion("agree"), ZHUJIAN, setup)
    clock.set(2026, 3, 4, 9)
    assert case_view(store, case_id, REVIEWER, setup).state.stage == "decision"


# -- the views: files as of a moment, statistics, 督办 -------------------------------------------


def test_a_material_handed_in_shows_in_the_case_as_of_later_that_day(
    store: MemoryStore, setup: ApprovalSetup, clock: Clock
) -> None:
    case_id = new_case(store, setup, accept=False)
    clock.set(2026, 2, 12, 10)
    attach_material(store, case_id, "申请表", "申请表.pdf", b"%PDF-1.4 x", CLERK, setup)
    view = case_view(store, case_id, REVIEWER, setup, as_of=datetime(2026, 2, 12, 11))
    assert [f.filename for f in view.files] == ["申请表.pdf"]


@pytest.fixture
def moved(store: MemoryStore, setup: ApprovalSetup, clock: Clock) -> dict[str, str]:
    """Three cases accepted (受理 open) on Thu 2026-02-12 09:00 and moved on a fixed clock:

    * A: 受理 done 02-13 (1 working day); both agree 02-25 (co-review 02-13 → 02-25: 02-14,
      02-24, 02-25 = 3 days); now in the decision, due 4 days after 02-25 = 03-02;
    * B: 受理 done 02-24 (02-13, 02-14, 02-24 = 3 days); in co-review, due 10 days after
      02-24 = 03-09;
    * C: 受理 done 03-03 (9 days, past its due date 02-26: late); in co-review, due 03-17.
    """
    ids = {name: new_case(store, setup, accept=False) for name in "ABC"}
    for name, day in (("A", (2, 13)), ("B", (2, 24)), ("C", (3, 3))):
        clock.set(2026, *day, 9)
        act(store, ids[name], Act("outcome", "done"), CLERK, setup)
    clock.set(2026, 2, 25, 15)
    act(store, ids["A"], opinion("agree"), ZHUJIAN, setup)
    act(store, ids["A"], opinion("agree"), SHENGTAI, setup)
    return ids


def test_statistics_of_stages_on_a_fixed_clock(
    store: MemoryStore, setup: ApprovalSetup, moved: dict[str, str]
) -> None:
    stats = statistics(store, REVIEWER, today=date(2026, 3, 11))
    assert (stats["cases"], stats["open"], stats["closed_in"]) == (3, 3, [])
    assert {(r["stage"], r["open"]) for r in stats["by_stage"]} == {
        ("co_review", 2),
        ("decision", 1),
    }
    days = {r["stage"]: r for r in stats["stage_days"]}
    # 受理 stays 1, 3, 9: mean 13/3 = 4.33; p90 (linear) at rank 0.9 × 2 = 1.8, between 3
    # and 9: 3 + 0.8 × 6 = 7.8; one of them late.
    assert days["intake"] == {
        "workflow": "t-parallel",
        "stage": "intake",
        "stays": 3,
        "mean": 4.33,
        "p90": 7.8,
        "late": 1,
    }
    assert (days["co_review"]["stays"], days["co_review"]["mean"], days["co_review"]["p90"]) == (
        1,
        3.0,
        3.0,
    )
    assert set(days) == {"intake", "co_review"}


def test_overdue_cases_by_the_department_that_must_act(
    store: MemoryStore, setup: ApprovalSetup, moved: dict[str, str]
) -> None:
    # On 03-11: A (due 03-02, the approver of guihua) and B (due 03-09, both departments).
    stats = statistics(store, REVIEWER, today=date(2026, 3, 11))
    got = {r["department"]: r["cases"] for r in stats["overdue_by_department"]}
    assert got == {"guihua": 1, "zhujian": 1, "shengtai": 1}
    overdue = todo(store, REVIEWER, box="overdue", today=date(2026, 3, 11))
    assert [(s.case_id, s.due_on) for s in overdue] == [
        (moved["A"], date(2026, 3, 2)),
        (moved["B"], date(2026, 3, 9)),
    ]
