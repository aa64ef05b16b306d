"""建设工程规划许可证 cases on the demo county (GeoPackage, 3000 parcels, built once per module):
the automatic review against the detailed plan, the whole path to the permit and its PDF, the
public verification, a case seen as of a past moment, and the 待办 lists.

The site of every case is detailed-plan parcel CG001-003 (0801 机关团体用地, 容积率 ≤ 1.2,
建筑密度 ≤ 32 %, 绿地率 ≥ 32 %, 限高 41 m) shrunk by 5 m. The detailed plan took effect on
2024-03-15; applications are dated 2026-03-02 (a Monday).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from guotu.demo.build import build_demo
from guotu.domain.access.policy import Principal
from guotu.errors import ConfigError, EnvironmentSetupError, NotFoundError
from guotu.io import fonts
from guotu.services.approval_documents import DOCUMENT_MATERIAL, verify_document
from guotu.services.approval_views import case_view, statistics, todo
from guotu.services.approvals import Act, Application, ApprovalSetup, act, intake
from guotu.services.workspace import open_workspace

from ..conftest import unavailable

PARCEL = "CG001-003"
APPLIED = date(2026, 3, 2)
PLAN = "示范县中心城区控制性详细规划 批复版（approved，2024-03-15 起施行）"

CLERK = Principal("huangmei01", frozenset({"clerk"}), "guihua")
REVIEWER = Principal("liuyang01", frozenset({"reviewer"}), "guihua")
APPROVER = Principal("chenjing01", frozenset({"approver"}), "guihua")
VIEWER = Principal("zhaolei01", frozenset({"viewer"}), "guihua")
ZHUJIAN = Principal("zhujian01", frozenset({"reviewer"}), "zhujian")
SHENGTAI = Principal("shengtai01", frozenset({"reviewer"}), "shengtai")


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 3, 2, 9, 0)

    def __call__(self) -> datetime:
        return self.at


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    base = tmp_path_factory.mktemp("approval_demo")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=3000, seed=20261122)
    spare = base / "todo.gpkg"  # a workspace of its own for the exact 待办 lists
    shutil.copy(result.workspace, spare)
    store = open_workspace(result.workspace)
    parcels = store.read_layer("XXGHDK")
    parcel = parcels[parcels["DKBH"] == PARCEL].iloc[0]
    assert (parcel["YDYHFLDM"], parcel["RJL"], parcel["JZXG"]) == ("0801", 1.2, 41.0)
    yield {"store": store, "site": parcel.geometry.buffer(-5), "spare": spare, "base": base}
    store.close()


@pytest.fixture(scope="module")
def pdf_tools() -> None:
    """The CJK font the permit embeds and poppler (skips without them, fails under CI)."""
    try:
        fonts.find_cjk_font()
    except (EnvironmentSetupError, ConfigError) as exc:
        unavailable(exc.render("en"))
    missing = [t for t in ("pdffonts", "pdftotext") if shutil.which(t) is None]
    if missing:
        unavailable(f"{', '.join(missing)} not found (apt-get install poppler-utils)")


def setup_for(clock: Clock) -> ApprovalSetup:
    return ApprovalSetup(
        now=clock, authority="示范县自然资源和规划局", base_url="https://gis.shifanxian.gov.cn"
    )


def apply(
    store: Any,
    site: Any,
    setup: ApprovalSetup,
    applied: date = APPLIED,
    *,
    accept: bool = True,
    public: bool = True,
    **indicators: Any,
) -> str:
    ind = {"YDYHFLDM": "0801", "RJL": 1.2} | indicators
    app = Application(
        "cn-construction-permit",
        "示范县城投公司",
        "示范县机关办公楼",
        "城关镇",
        site,
        applied,
        ind,
        public=public,
    )
    case, _ = intake(store, app, CLERK, setup, accept=accept)
    return case.id


def review_of(store: Any, case_id: str) -> Any:
    [review] = [e for e in store.approval_events(case_id) if e.event.kind == "review"]
    return review


# -- the automatic review against the one map ---------------------------------------------------


def test_a_site_with_its_parcels_use_and_ratio_is_compliant(demo: dict[str, Any]) -> None:
    store = demo["store"]
    case_id = apply(store, demo["site"], setup_for(Clock()))  # 0801 and 容积率 1.2 = the limit
    [s] = store.approval_statuses(case_id=case_id)
    assert (s.stage, s.waiting) == ("co_review", ("dept:zhujian", "dept:shengtai"))
    review = review_of(store, case_id)
    assert (review.event.value, review.event.actor) == ("compliant", "system")
    d = review.detail
    assert (d["errors"], d["warnings"], d["findings"], d["skipped"]) == (0, 0, [], 0)
    assert (d["rule_pack"], d["as_of"], d["data_versions"]["XXGHDK"]) == (
        "cn-base",
        "2026-03-02",
        PLAN,
    )


@pytest.mark.parametrize(
    ("indicators", "rule", "message"),
    [
        # another use than the parcel's 0801
        (
            {"YDYHFLDM": "0701"},
            "project.use_matches_parcel",
            "用地性质 0701 城镇住宅用地 与所在详细规划地块 CG001-003 的 0801 机关团体用地 不一致",
        ),
        # 容积率 above the parcel's 1.2
        (
            {"RJL": 1.3},
            "project.indicator_limits",
            "容积率 1.3 高于所在地块 CG001-003 的规划条件 1.2",
        ),
        # 限高 above the parcel's 41 m
        (
            {"JZXG": 50},
            "project.indicator_limits",
            "建筑限高 50m 高于所在地块 CG001-003 的规划条件 41m",
        ),
    ],
    ids=["use", "ratio", "height"],
)
def test_a_site_against_its_parcel_goes_to_supplement_with_the_finding(
    demo: dict[str, Any], indicators: dict[str, Any], rule: str, message: str
) -> None:
    store = demo["store"]
    case_id = apply(store, demo["site"], setup_for(Clock()), **indicators)
    [s] = store.approval_statuses(case_id=case_id)
    assert (s.stage, s.waiting) == ("supplement", ("role:clerk@guihua",))
    review = review_of(store, case_id)
    d = review.detail
    assert (review.event.value, d["errors"], d["rules"]) == ("non_compliant", 1, 8)
    [finding] = d["findings"]
    assert (finding["rule"], finding["severity"]) == (rule, "error")
    assert message in finding["message_zh"]
    assert (d["rule_pack"], d["rule_pack_version"], d["as_of"]) == (
        "cn-base",
        "2026.1",
        "2026-03-02",
    )
    assert d["data_versions"]["XXGHDK"] == PLAN
    assert "1 项不符合" in review.event.note


def test_a_site_without_a_detailed_plan_on_the_application_date_is_not_compliant(
    demo: dict[str, Any],
) -> None:
    store = demo["store"]
    # 2024-03-01: the detailed plan took effect on 2024-03-15; the same use 0701 is found
    # against the parcel's 0801 a month later (test above).
    case_id = apply(store, demo["site"], setup_for(Clock()), date(2024, 3, 1), YDYHFLDM="0701")
    assert store.approval_statuses(case_id=case_id)[0].stage != "co_review"


# -- the whole path to the permit -------------------------------------------------------------


def run_to_permit(store: Any, site: Any, clock: Clock, *, public: bool = True) -> str:
    """受理 Mon 03-02 09:00 → 住建 同意 Wed 03-04 10:00 → 生态环境 有条件同意 Thu 03-05 10:00 →
    技术审查 done Mon 03-09 10:00 → approved Tue 03-10 10:00 (the permit issued then)."""
    setup = setup_for(clock)
    clock.at = datetime(2026, 3, 2, 9)
    case_id = apply(store, site, setup, public=public)
    for at, action, who in (
        ((3, 4), Act("opinion", "agree"), ZHUJIAN),
        ((3, 5), Act("opinion", "conditional", conditions=("施工期落实扬尘防治措施",)), SHENGTAI),
        ((3, 9), Act("outcome", "done", "技术审查通过"), REVIEWER),
        ((3, 10), Act("outcome", "approved", "准予许可"), APPROVER),
    ):
        clock.at = datetime(2026, *at, 10)
        act(store, case_id, action, who, setup)
    return case_id


@pytest.fixture(scope="module")
def permit(demo: dict[str, Any], pdf_tools: None) -> dict[str, Any]:
    store = demo["store"]
    public = run_to_permit(store, demo["site"], Clock())
    secret = run_to_permit(store, demo["site"], Clock(), public=False)
    tokens = {}
    for case_id in (public, secret):
        issued = store.approval_events(case_id)[-1]
        assert issued.event.kind == "issued"
        tokens[case_id] = issued
    return {"public": public, "secret": secret, "issued": tokens}


def test_the_permit_is_issued_and_kept_with_the_case(
    demo: dict[str, Any], permit: dict[str, Any]
) -> None:
    store, case_id = demo["store"], permit["public"]
    [s] = store.approval_statuses(case_id=case_id)
    assert (s.stage, s.closed, s.outcome, s.events) == ("issued", True, "issued", 8)
    issued = permit["issued"][case_id]
    [pdf] = store.approval_files(case_id)
    assert (pdf.material, pdf.filename, pdf.media_type) == (
        DOCUMENT_MATERIAL,
        f"建字第{case_id}号.pdf",
        "application/pdf",
    )
    assert issued.detail["serial"] == f"建字第{case_id}号"
    assert (issued.detail["sha256"], issued.detail["issued_on"]) == (pdf.sha256, "2026-03-10")
    assert issued.detail["title"] == "建设工程规划许可证"


def _pdf(store: Any, case_id: str, folder: Path) -> Path:
    [pdf] = store.approval_files(case_id)
    path = folder / f"{case_id}.pdf"
    path.write_bytes(store.approval_file_content(pdf.sha256))
    return path


def _run(*args: str) -> str:
    return subprocess.run(args, capture_output=True, text=True, check=True).stdout


def test_the_permit_pdf_embeds_its_fonts(demo: dict[str, Any], permit: dict[str, Any]) -> None:
    path = _pdf(demo["store"], permit["public"], demo["base"])
    rows = _run("pdffonts", str(path)).splitlines()[2:]
    assert rows, "no font at all"
    for row in rows:
        assert row.split()[-5] == "yes", row


def test_the_permit_pdf_names_serial_applicant_conditions_and_opinions(
    demo: dict[str, Any], permit: dict[str, Any]
) -> None:
    case_id = permit["public"]
    text = re.sub(
        r"\s+", "", _run("pdftotext", "-raw", str(_pdf(demo["store"], case_id, demo["base"])), "-")
    )
    for shown in (
        f"建字第{case_id}号",
        "建设单位示范县城投公司",
        "项目名称示范县机关办公楼",
        "1．施工期落实扬尘防治措施",
        "容积率≤1.2—详细规划地块CG001-003",
        "shengtai有条件同意施工期落实扬尘防治措施2026年3月5日",
        "发证日期2026年3月10日",
        "https://gis.shifanxian.gov.cn/verify/" + permit["issued"][case_id].event.value,
    ):
        assert shown in text, shown


def test_verification_of_a_public_case_shows_the_permit(
    demo: dict[str, Any], permit: dict[str, Any]
) -> None:
    case_id = permit["public"]
    shown = verify_document(demo["store"], permit["issued"][case_id].event.value)
    assert shown == {
        "genuine": True,
        "serial": f"建字第{case_id}号",
        "public": True,
        "title": "建设工程规划许可证",
        "project": "示范县机关办公楼",
        "applicant": "示范县城投公司",
        "location": "城关镇",
        "issued_on": "2026-03-10",
        "site_area_m2": round(demo["site"].area, 2),
    }


def test_verification_of_a_case_not_public_shows_only_that_it_is_genuine(
    demo: dict[str, Any], permit: dict[str, Any]
) -> None:
    case_id = permit["secret"]
    shown = verify_document(demo["store"], permit["issued"][case_id].event.value)
    assert shown == {"genuine": True, "serial": f"建字第{case_id}号", "public": False}


@pytest.mark.parametrize("token", ["no-such-id", ""])
def test_verification_of_an_unknown_id_is_not_found(
    demo: dict[str, Any], permit: dict[str, Any], token: str
) -> None:
    with pytest.raises(NotFoundError) as caught:
        verify_document(demo["store"], token)
    assert caught.value.http_status == 404 and "查无此文书" in caught.value.message_zh


# -- a refusal --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def refusal(demo: dict[str, Any], pdf_tools: None) -> dict[str, Any]:
    """住建 不同意 and 生态环境 同意 (the co-review rejected, on to the decision), then the
    approver refuses: the 不予许可决定书 issued, and its text without white space."""
    store, setup = demo["store"], setup_for(Clock())
    case_id = apply(store, demo["site"], setup)
    act(store, case_id, Act("opinion", "disagree", note="占用消防通道"), ZHUJIAN, setup)
    moved = act(store, case_id, Act("opinion", "agree"), SHENGTAI, setup)
    assert (moved.visits[-2].outcome, moved.stage) == ("rejected", "decision")
    act(store, case_id, Act("outcome", "rejected", "不符合消防要求"), APPROVER, setup)
    text = _run("pdftotext", "-raw", str(_pdf(store, case_id, demo["base"])), "-")
    return {
        "id": case_id,
        "issued": store.approval_events(case_id)[-1],
        "text": re.sub(r"\s+", "", text),
    }


def test_a_refusal_issues_its_decision_with_every_reason(
    demo: dict[str, Any], refusal: dict[str, Any]
) -> None:
    case_id, issued = refusal["id"], refusal["issued"]
    [s] = demo["store"].approval_statuses(case_id=case_id)
    assert (s.stage, s.closed) == ("refused", True)
    assert (issued.event.kind, issued.detail["kind"], issued.detail["serial"]) == (
        "issued",
        "refusal",
        f"不许字第{case_id}号",
    )
    # the department's reason, then the approver's
    assert "不予许可的理由1．占用消防通道2．不符合消防要求" in refusal["text"]


def test_a_refusal_tells_the_applicant_how_to_challenge_it(refusal: dict[str, Any]) -> None:
    assert "行政复议" in refusal["text"] and "行政诉讼" in refusal["text"]


# -- a case as of a moment in its past --------------------------------------------------------


def test_a_case_as_of_a_moment_between_two_events(
    demo: dict[str, Any], permit: dict[str, Any]
) -> None:
    store, case_id = demo["store"], permit["public"]
    # After 住建's opinion (03-04 10:00), before 生态环境's (03-05 10:00).
    view = case_view(store, case_id, VIEWER, setup_for(Clock()), as_of=datetime(2026, 3, 4, 12))
    assert (view.state.stage, view.state.closed, dict(view.state.opinions)) == (
        "co_review",
        False,
        {"zhujian": "agree"},
    )
    assert [(e.seq, e.event.kind, e.event.value) for e in view.events] == [
        (1, "outcome", "done"),
        (2, "review", "compliant"),
        (3, "outcome", "compliant"),
        (4, "opinion", "agree"),
    ]
    assert view.files == ()  # the permit came later
    # The co-review, entered 03-02, on 03-04: 2 of 10 working days used, due 03-16.
    c = view.current.clock
    assert c is not None and (c.state, c.used, c.due) == ("running", 2, date(2026, 3, 16))
    assert [s.stage for s in view.stages] == ["intake", "auto_review", "co_review"]


def test_a_case_as_of_before_its_intake_is_not_found(
    demo: dict[str, Any], permit: dict[str, Any]
) -> None:
    with pytest.raises(NotFoundError):
        case_view(
            demo["store"],
            permit["public"],
            VIEWER,
            setup_for(Clock()),
            as_of=datetime(2026, 3, 2, 8, 59),
        )


# -- 待办: who each open case waits for ------------------------------------------------------------

#: Whose lists are looked at, by name.
PEOPLE = {
    "clerk": CLERK,
    "reviewer": REVIEWER,
    "approver": APPROVER,
    "viewer": VIEWER,
    "zhujian": ZHUJIAN,
    "shengtai": SHENGTAI,
}
DAY = date(2026, 3, 2)


def _lists(store: Any) -> dict[tuple[str, str], set[str]]:
    return {
        (name, box): {s.case_id for s in todo(store, who, box=box, today=DAY)}
        for name, who in PEOPLE.items()
        for box in ("todo", "done")
    }


@pytest.fixture(scope="module")
def staged(demo: dict[str, Any], pdf_tools: None) -> Iterator[dict[str, Any]]:
    """A copy of the demo (with the cases it plants) and one new case in each stage, all on
    Mon 2026-03-02 09:00; the lists and statistics as they were before the new cases."""
    store = open_workspace(demo["spare"])
    before = _lists(store), statistics(store, VIEWER, today=DAY)
    site = demo["site"]
    setup = setup_for(Clock())
    ids = {
        "intake": apply(store, site, setup, accept=False),
        "supplement": apply(store, site, setup, YDYHFLDM="0701"),
        "co_review": apply(store, site, setup),
        "co_review_half": apply(store, site, setup),
        "technical_review": apply(store, site, setup),
        "decision": apply(store, site, setup),
        "issued": apply(store, site, setup),
    }
    act(store, ids["co_review_half"], Act("opinion", "agree"), ZHUJIAN, setup)
    for name in ("technical_review", "decision", "issued"):
        act(store, ids[name], Act("opinion", "agree"), ZHUJIAN, setup)
        act(store, ids[name], Act("opinion", "agree"), SHENGTAI, setup)
    for name in ("decision", "issued"):
        act(store, ids[name], Act("outcome", "done"), REVIEWER, setup)
    act(store, ids["issued"], Act("outcome", "approved"), APPROVER, setup)
    yield {"store": store, "ids": ids, "lists": before[0], "stats": before[1]}
    store.close()


@pytest.mark.parametrize(
    ("who", "box", "expected"),
    [
        ("clerk", "todo", {"intake", "supplement"}),
        ("reviewer", "todo", {"technical_review"}),
        ("zhujian", "todo", {"co_review"}),
        ("shengtai", "todo", {"co_review", "co_review_half"}),
        ("approver", "todo", {"decision"}),
        ("viewer", "todo", set()),
        # 已办: the cases each one recorded an event on (the window's 受理 of every accepted one)
        ("zhujian", "done", {"co_review_half", "technical_review", "decision", "issued"}),
        ("approver", "done", {"issued"}),
        (
            "clerk",
            "done",
            {"supplement", "co_review", "co_review_half", "technical_review", "decision", "issued"},
        ),
        ("viewer", "done", set()),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_each_list_gains_exactly_the_right_cases(
    staged: dict[str, Any], who: str, box: str, expected: set[str]
) -> None:
    ids = staged["ids"]
    now = {s.case_id for s in todo(staged["store"], PEOPLE[who], box=box, today=DAY)}
    assert now - staged["lists"][(who, box)] == {ids[name] for name in expected}
    # the demo's own cases are still where they were
    assert staged["lists"][(who, box)] <= now


def test_the_todo_list_is_soonest_due_first(staged: dict[str, Any]) -> None:
    rows = todo(staged["store"], CLERK, box="todo", today=DAY)
    assert [(s.due_on or date.max, s.case_id) for s in rows] == sorted(
        (s.due_on or date.max, s.case_id) for s in rows
    )
    # The new 受理 and 补正, entered Mon 03-02, are due 5 working days later: Mon 03-09.
    ids = staged["ids"]
    due = {s.case_id: s.due_on for s in rows}
    assert (due[ids["intake"]], due[ids["supplement"]]) == (date(2026, 3, 9), date(2026, 3, 9))


def test_the_new_cases_by_stage(staged: dict[str, Any]) -> None:
    before, after = staged["stats"], statistics(staged["store"], VIEWER, today=DAY)
    assert (after["cases"] - before["cases"], after["open"] - before["open"]) == (7, 6)

    def count(stats: dict[str, Any], key: str, n: str) -> dict[str, int]:
        return {r["stage"]: r[n] for r in stats[key] if r["workflow"] == "cn-construction-permit"}

    opened = count(after, "by_stage", "open")
    for stage, n in count(before, "by_stage", "open").items():
        opened[stage] -= n
    assert {k: v for k, v in opened.items() if v} == {
        "intake": 1,
        "supplement": 1,
        "co_review": 2,
        "technical_review": 1,
        "decision": 1,
    }
    closed = count(after, "closed_in", "cases").get("issued", 0)
    assert closed - count(before, "closed_in", "cases").get("issued", 0) == 1
