"""Who may record what in an approval case: every act of the engine asked of the wrong
person is refused with ``PermissionDeniedError`` (403) and nothing is written, and what
``attach_material`` keeps is only what the procedure asks for.

The procedure (written for these tests, found by id in a profiles folder): 受理 by the window
(clerk of guihua) → 并联审查 by zhujian and shengtai → 审批决定 by the approver of guihua → end.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest
import shapely
from pyproj import CRS

from guotu.domain.access.policy import ANONYMOUS, Principal
from guotu.errors import ConflictError, InputError, PermissionDeniedError, StoreUnavailableError
from guotu.services import approvals
from guotu.services.approval_views import case_view, statistics, todo
from guotu.services.approvals import Act, Application, ApprovalSetup, act, attach_material, intake
from guotu.store.memory import MemoryStore

from ..conftest import X0, Y0

PROCEDURE = """\
schema_version: 1
id: t-permit
name_zh: 测试许可
name_en: Test permit
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
    outcomes: {done: co_review}
  - id: co_review
    name_zh: 并联审查
    kind: co_review
    departments: [zhujian, shengtai]
    deadline_working_days: 10
    outcomes: {approved: decision, conditional: decision, rejected: decision}
  - id: decision
    name_zh: 审批决定
    kind: decision
    actor: {role: approver, department: guihua}
    deadline_working_days: 4
    outcomes: {approved: granted, rejected: refused}
  - {id: granted, name_zh: 准予许可, kind: end}
  - {id: refused, name_zh: 不予许可, kind: end}
"""

CLERK = Principal("huangmei01", frozenset({"clerk"}), "guihua")
REVIEWER = Principal("liuyang01", frozenset({"reviewer"}), "guihua")
APPROVER = Principal("chenjing01", frozenset({"approver"}), "guihua")
VIEWER = Principal("zhaolei01", frozenset({"viewer"}), "guihua")
ZHUJIAN = Principal("zhujian01", frozenset({"reviewer"}), "zhujian")
SHENGTAI = Principal("shengtai01", frozenset({"reviewer"}), "shengtai")
#: Users who are not who a step asks for.
OTHER_CLERK = Principal("zhujian02", frozenset({"clerk"}), "zhujian")
OTHER_APPROVER = Principal("zhujian03", frozenset({"approver"}), "zhujian")
ZHUJIAN_VIEWER = Principal("zhujian04", frozenset({"viewer"}), "zhujian")
FAGAI = Principal("fagai01", frozenset({"reviewer"}), "fagai")
NO_DEPARTMENT = Principal("liuyang02", frozenset({"reviewer"}))
SYS_ADMIN = Principal("sysadmin01", frozenset({"sys_admin"}), "xinxi")


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("profiles")
    (folder / "t-permit.yaml").write_text(PROCEDURE, encoding="utf-8")
    return folder


@pytest.fixture
def setup(profiles: Path) -> ApprovalSetup:
    return ApprovalSetup(profiles_dir=profiles, now=lambda: datetime(2026, 3, 2, 9, 0))


@pytest.fixture
def store() -> MemoryStore:
    s = MemoryStore()
    s.set_crs(CRS.from_epsg(4527))
    return s


def application(workflow: str = "t-permit") -> Application:
    site = shapely.box(X0, Y0, X0 + 100, Y0 + 80)
    return Application(
        workflow, "示范县城投公司", "示范县文体中心", "城关镇", site, date(2026, 3, 2)
    )


def new_case(store: MemoryStore, setup: ApprovalSetup, *, to: str = "co_review") -> str:
    """A case accepted at the window and moved on to stage ``to``."""
    case, _ = intake(store, application(), CLERK, setup, accept=to != "intake")
    if to in ("decision", "granted"):
        act(store, case.id, Act("opinion", "agree"), ZHUJIAN, setup)
        act(store, case.id, Act("opinion", "agree"), SHENGTAI, setup)
    if to == "granted":
        act(store, case.id, Act("outcome", "approved"), APPROVER, setup)
    [s] = store.approval_statuses(case_id=case.id)
    assert s.stage == to
    return case.id


def refused(store: MemoryStore, case_id: str, do: Callable[[], Any]) -> PermissionDeniedError:
    """``do`` is refused with 403 and the case is as it was."""
    before = (
        store.approval_events(case_id),
        store.approval_statuses(),
        store.approval_files(case_id),
    )
    with pytest.raises(PermissionDeniedError) as caught:
        do()
    assert caught.value.http_status == 403
    assert (
        store.approval_events(case_id),
        store.approval_statuses(),
        store.approval_files(case_id),
    ) == before
    return caught.value


# -- intake: the window of the procedure's first stage ------------------------------------------


@pytest.mark.parametrize(
    "who",
    [REVIEWER, OTHER_CLERK, VIEWER, ANONYMOUS],
    ids=["reviewer", "clerk-of-another-department", "viewer", "anonymous"],
)
def test_intake_by_anyone_but_the_window_is_refused(
    store: MemoryStore, setup: ApprovalSetup, who: Principal
) -> None:
    with pytest.raises(PermissionDeniedError):
        intake(store, application(), who, setup)
    assert store.approval_statuses() == []


def test_intake_of_a_shipped_procedure_by_a_reviewer_is_refused(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        intake(store, application("cn-construction-permit"), REVIEWER, setup)
    assert "窗口受理人员（guihua）" in caught.value.message_zh
    assert store.approval_statuses() == []


# -- outcomes: the stage's actor, role and department -------------------------------------------


@pytest.mark.parametrize(
    "who",
    [REVIEWER, OTHER_APPROVER, CLERK, VIEWER],
    ids=["wrong-role", "right-role-wrong-department", "window", "viewer"],
)
def test_a_decision_by_anyone_but_the_approver_of_guihua_is_refused(
    store: MemoryStore, setup: ApprovalSetup, who: Principal
) -> None:
    case_id = new_case(store, setup, to="decision")
    error = refused(
        store, case_id, lambda: act(store, case_id, Act("outcome", "approved"), who, setup)
    )
    assert "审批人员（guihua）" in error.message_zh
    # and the approver of guihua may
    assert act(store, case_id, Act("outcome", "approved"), APPROVER, setup).stage == "granted"


@pytest.mark.parametrize(
    "who", [APPROVER, ZHUJIAN, CLERK], ids=["approver", "department", "window"]
)
def test_nobody_records_a_co_reviews_outcome_by_hand(
    store: MemoryStore, setup: ApprovalSetup, who: Principal
) -> None:
    case_id = new_case(store, setup)
    error = refused(
        store, case_id, lambda: act(store, case_id, Act("outcome", "approved"), who, setup)
    )
    assert "各部门意见" in error.message_zh


# -- opinions: a department asked, by its reviewer or approver, once ----------------------------


@pytest.mark.parametrize(
    "who",
    [FAGAI, REVIEWER, ZHUJIAN_VIEWER, OTHER_CLERK, NO_DEPARTMENT],
    ids=[
        "department-not-asked",
        "guihua-not-asked",
        "viewer-of-an-asked-department",
        "clerk-of-an-asked-department",
        "no-department",
    ],
)
def test_an_opinion_from_anyone_but_an_asked_departments_reviewer_is_refused(
    store: MemoryStore, setup: ApprovalSetup, who: Principal
) -> None:
    case_id = new_case(store, setup)
    refused(store, case_id, lambda: act(store, case_id, Act("opinion", "agree"), who, setup))


def test_an_approver_of_an_asked_department_gives_its_opinion(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup)
    act(store, case_id, Act("opinion", "agree"), OTHER_APPROVER, setup)
    last = store.approval_events(case_id)[-1].event
    assert (last.kind, last.department, last.actor) == ("opinion", "zhujian", "zhujian03")


def test_an_opinion_outside_a_co_review_is_refused(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup, to="decision")
    error = refused(
        store, case_id, lambda: act(store, case_id, Act("opinion", "agree"), ZHUJIAN, setup)
    )
    assert "不是会审环节" in error.message_zh


def test_a_second_opinion_of_the_same_department_is_refused(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup)
    act(store, case_id, Act("opinion", "agree"), ZHUJIAN, setup)
    before = store.approval_events(case_id)
    # by another user of the same department, changing its mind
    second = Act("opinion", "disagree", note="重新研究后不同意")
    with pytest.raises(InputError) as caught:
        act(store, case_id, second, OTHER_APPROVER, setup)
    assert not isinstance(caught.value, ConflictError) and caught.value.exit_code == 2
    assert store.approval_events(case_id) == before
    assert store.approval_statuses(case_id=case_id)[0].waiting == ("dept:shengtai",)


# -- 补正 (pause, resume): the window, the stage's actor, or a department asked ------------------


@pytest.mark.parametrize(
    ("stage", "who", "allowed"),
    [
        # in the co-review: the window and the departments asked
        ("co_review", CLERK, True),
        ("co_review", ZHUJIAN, True),
        ("co_review", REVIEWER, False),
        ("co_review", FAGAI, False),
        ("co_review", ZHUJIAN_VIEWER, False),
        # in a task stage: the window and the stage's actor
        ("decision", APPROVER, True),
        ("decision", CLERK, True),
        ("decision", REVIEWER, False),
        ("decision", OTHER_APPROVER, False),
    ],
)
def test_who_may_ask_for_supplements(
    store: MemoryStore, setup: ApprovalSetup, stage: str, who: Principal, allowed: bool
) -> None:
    case_id = new_case(store, setup, to=stage)
    pause = Act("pause", note="补充日照分析")
    if allowed:
        assert act(store, case_id, pause, who, setup).paused
    else:
        refused(store, case_id, lambda: act(store, case_id, pause, who, setup))


# -- a closed case: nobody records anything ---------------------------------------------------


@pytest.mark.parametrize(
    ("action", "who"),
    [
        (Act("outcome", "approved"), APPROVER),
        (Act("opinion", "agree"), ZHUJIAN),
        (Act("pause", note="补充材料"), CLERK),
        (Act("resume"), CLERK),
        (Act("note", note="归档"), APPROVER),
    ],
    ids=["outcome", "opinion", "pause", "resume", "note"],
)
def test_nothing_is_recorded_on_a_closed_case(
    store: MemoryStore, setup: ApprovalSetup, action: Act, who: Principal
) -> None:
    case_id = new_case(store, setup, to="granted")
    error = refused(store, case_id, lambda: act(store, case_id, action, who, setup))
    assert "已办结" in error.message_zh


def test_no_material_is_added_to_a_closed_case(store: MemoryStore, setup: ApprovalSetup) -> None:
    case_id = new_case(store, setup, to="granted")
    refused(
        store,
        case_id,
        lambda: attach_material(store, case_id, "申请表", "申请表.pdf", b"%PDF-1.4", CLERK, setup),
    )


# -- an automatic stage: the system's alone -----------------------------------------------------


@pytest.fixture
def stuck(store: MemoryStore, setup: ApprovalSetup, monkeypatch: pytest.MonkeyPatch) -> str:
    """A 建设工程规划许可证 case whose automatic review failed (the store went away), so it
    stands in ``auto_review``."""
    case, _ = intake(store, application("cn-construction-permit"), CLERK, setup, accept=False)

    def fail(*_: Any) -> Any:
        raise StoreUnavailableError("The workspace went away.")

    monkeypatch.setattr(approvals, "run_action", fail)
    with pytest.raises(StoreUnavailableError):
        act(store, case.id, Act("outcome", "done"), CLERK, setup)
    assert store.approval_statuses(case_id=case.id)[0].stage == "auto_review"
    return case.id


@pytest.mark.parametrize(
    ("kind", "who"),
    [("outcome", CLERK), ("outcome", REVIEWER), ("outcome", APPROVER), ("pause", CLERK),
     ("opinion", ZHUJIAN)],
    ids=["window", "reviewer", "approver", "pause", "opinion"],
)  # fmt: skip
def test_nobody_acts_in_an_automatic_stage(kind: str, who: Principal) -> None:
    from guotu.domain.workflow.acting import check_may_act
    from guotu.io.workflows import workflow_by_id

    flow = workflow_by_id("cn-construction-permit")
    with pytest.raises(PermissionDeniedError) as caught:
        check_may_act(flow, flow.stages["auto_review"], who, kind)
    assert "系统自动办理" in caught.value.message_zh


def test_a_stuck_automatic_step_is_retried_by_the_next_action(
    store: MemoryStore, setup: ApprovalSetup, stuck: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # while the workspace is still away, the retry fails the same way and nothing is added
    before = store.approval_events(stuck)
    with pytest.raises(StoreUnavailableError):
        act(store, stuck, Act("opinion", "agree"), ZHUJIAN, setup)
    assert store.approval_events(stuck) == before
    # once it is back, the next action runs the review first, then is recorded; with no
    # detailed plan in the workspace the site has no 规划条件: not compliant, to 补正
    monkeypatch.undo()
    state = act(store, stuck, Act("note", note="请尽快办理"), CLERK, setup)
    assert state.stage == "supplement"
    added = store.approval_events(stuck)[len(before) :]
    assert [(e.event.kind, e.event.value) for e in added] == [
        ("review", "non_compliant"),
        ("outcome", "non_compliant"),
        ("note", ""),
    ]
    rules = [f["rule"] for f in added[0].detail["findings"]]
    assert "approval.detailed_plan_coverage" in rules


def test_no_material_is_added_in_an_automatic_stage(
    store: MemoryStore, setup: ApprovalSetup, stuck: str
) -> None:
    with pytest.raises(PermissionDeniedError) as caught:
        attach_material(
            store, stuck, "建设工程规划许可证申请表", "申请表.pdf", b"%PDF-1.4", CLERK, setup
        )
    assert "系统自动办理" in caught.value.message_zh


# -- anonymous -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "action",
    [Act("opinion", "agree"), Act("pause", note="补充材料"), Act("note", note="留言")],
    ids=["opinion", "pause", "note"],
)
def test_anonymous_records_nothing(store: MemoryStore, setup: ApprovalSetup, action: Act) -> None:
    case_id = new_case(store, setup)
    error = refused(store, case_id, lambda: act(store, case_id, action, ANONYMOUS, setup))
    assert "登录" in error.message_zh


def test_anonymous_neither_hands_in_nor_reads(store: MemoryStore, setup: ApprovalSetup) -> None:
    case_id = new_case(store, setup, to="intake")
    refused(
        store,
        case_id,
        lambda: attach_material(
            store, case_id, "申请表", "申请表.pdf", b"%PDF-1.4", ANONYMOUS, setup
        ),
    )
    for read in (
        lambda: case_view(store, case_id, ANONYMOUS, setup),
        lambda: todo(store, ANONYMOUS),
        lambda: statistics(store, ANONYMOUS),
    ):
        with pytest.raises(PermissionDeniedError):
            read()


def test_who_may_not_read_a_case_may_not_write_a_note_on_it(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup)
    with pytest.raises(PermissionDeniedError):
        case_view(store, case_id, SYS_ADMIN, setup)
    refused(
        store, case_id, lambda: act(store, case_id, Act("note", note="系统维护"), SYS_ADMIN, setup)
    )


# -- materials: what the procedure asks for, as it asks for it ----------------------------------


def test_a_listed_material_of_an_accepted_type_is_kept(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup, to="intake")
    content = b"AC1027 drawing"
    kept = attach_material(store, case_id, "总平面图", "总平面图.DWG", content, CLERK, setup)
    assert (kept.material, kept.filename, kept.size, kept.sha256, kept.uploaded_by) == (
        "总平面图",
        "总平面图.DWG",
        14,
        hashlib.sha256(content).hexdigest(),
        "huangmei01",
    )


@pytest.mark.parametrize(
    ("material", "filename", "content", "field"),
    [
        # a type the procedure does not accept for it
        ("申请表", "申请表.docx", b"PK..", "文件"),
        ("申请表", "申请表", b"%PDF-1.4", "文件"),
        # a material the procedure does not ask for
        ("营业执照", "营业执照.pdf", b"%PDF-1.4", "材料"),
        # empty
        ("申请表", "申请表.pdf", b"", "文件"),
        # a path in the name
        ("申请表", "..\\申请表.pdf", b"%PDF-1.4", "文件"),
        pytest.param(
            "申请表",
            "../../申请表.pdf",
            b"%PDF-1.4",
            "文件",
        ),
        pytest.param(
            "申请表",
            "材料/申请表.pdf",
            b"%PDF-1.4",
            "文件",
        ),
    ],
    ids=[
        "wrong-type",
        "no-type",
        "unknown-material",
        "empty",
        "backslash-path",
        "dotdot-path",
        "folder-path",
    ],
)
def test_a_material_the_procedure_does_not_take_is_refused(
    store: MemoryStore,
    setup: ApprovalSetup,
    material: str,
    filename: str,
    content: bytes,
    field: str,
) -> None:
    case_id = new_case(store, setup, to="intake")
    with pytest.raises(InputError) as caught:
        attach_material(store, case_id, material, filename, content, CLERK, setup)
    assert caught.value.field == field and caught.value.exit_code == 2
    assert store.approval_files(case_id) == []


def test_an_unknown_material_refusal_lists_what_may_be_handed_in(
    store: MemoryStore, setup: ApprovalSetup
) -> None:
    case_id = new_case(store, setup, to="intake")
    with pytest.raises(InputError) as caught:
        attach_material(store, case_id, "营业执照", "营业执照.pdf", b"%PDF", CLERK, setup)
    assert "可提交的材料：申请表、总平面图" in caught.value.message_zh


@pytest.mark.parametrize(
    ("stage", "who"),
    [("intake", REVIEWER), ("intake", ZHUJIAN), ("co_review", FAGAI), ("decision", REVIEWER)],
)
def test_a_material_handed_in_by_someone_not_acting_is_refused(
    store: MemoryStore, setup: ApprovalSetup, stage: str, who: Principal
) -> None:
    case_id = new_case(store, setup, to=stage)
    refused(
        store,
        case_id,
        lambda: attach_material(store, case_id, "申请表", "申请表.pdf", b"%PDF-1.4", who, setup),
    )
