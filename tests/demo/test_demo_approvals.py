"""The demo county ships a dozen approval cases (多审合一) at every stage, made through the
engine by the demo's people on past working days: each planted case stands where the manifest
says, its clock makes sense as of the day the demo is built, and each department's reviewer
finds in their 待办 exactly the cases waiting for their department."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from guotu.demo.access import USERS
from guotu.demo.approvals import CASES
from guotu.demo.build import DemoResult, build_demo
from guotu.demo.county import MIN_PARCELS
from guotu.domain.access.policy import Principal
from guotu.domain.workflow.records import CaseStatus, RecordedEvent
from guotu.io.working_days import WorkingCalendar
from guotu.services.approval_documents import DOCUMENT_MATERIAL
from guotu.services.approval_views import todo
from guotu.store.geopackage import GeoPackageStore

#: The co-review departments of the shipped procedures, their demo reviewers and the planted
#: cases waiting for each.
REVIEWERS = {
    "fagai": ("xuli01", {"overdue"}),
    "gengdi": ("songtao01", {"rural_co_review"}),
    "shengtai": ("maqiang01", {"co_review_waiting"}),
    "zhujian": ("gaoyan01", {"rural_co_review"}),
}


@dataclass
class Built:
    result: DemoResult
    ws: Path
    ids: dict[str, str]  # planted name → case number, from manifest.json
    manifest: list[dict[str, Any]]
    built_at: datetime

    def status(self, name: str) -> CaseStatus:
        with GeoPackageStore.open(self.ws) as store:
            (status,) = store.approval_statuses(case_id=self.ids[name])
        return status

    def events(self, name: str) -> list[RecordedEvent]:
        with GeoPackageStore.open(self.ws) as store:
            return store.approval_events(self.ids[name])


def principal(username: str) -> Principal:
    user = next(u for u in USERS if u.username == username)
    return Principal(user.username, frozenset(user.roles), user.department)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Built:
    base = tmp_path_factory.mktemp("demo_approvals")
    result = build_demo(base / "demo.gpkg", base / "files", parcels=MIN_PARCELS)
    planted = json.loads(result.manifest_path.read_text(encoding="utf-8"))["approvals"]
    ids = {c["name"]: c["case_id"] for c in planted}
    return Built(result, Path(result.workspace), ids, planted, datetime.now())


def test_the_manifest_lists_every_planted_case_by_name(demo: Built) -> None:
    assert sorted(demo.ids) == sorted(c.name for c in CASES)
    assert len(set(demo.ids.values())) == len(CASES) == 12
    assert {c.workflow for c in CASES} == {
        "cn-siting-preexam",
        "cn-land-use-permit",
        "cn-construction-permit",
        "cn-rural-construction-permit",
        "cn-completion-verification",
        "cn-land-consolidation",
    }
    assert all(c["description_zh"] for c in demo.manifest)


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_each_planted_case_is_at_its_stage(demo: Built, case: Any) -> None:
    status = demo.status(case.name)
    assert (status.workflow, status.stage) == (case.workflow, case.stage)


def test_every_event_happened_on_a_past_working_day(demo: Built) -> None:
    calendar = WorkingCalendar()
    for name in demo.ids:
        events = demo.events(name)
        assert [e.event.at for e in events] == sorted(e.event.at for e in events)
        for e in events:
            assert e.event.at < demo.built_at and e.event.at.date() < date.today()
            assert calendar.is_working_day(e.event.at.date()), (name, e.event)


def test_the_just_accepted_case_has_one_agreement_and_waits_for_the_other(demo: Built) -> None:
    opinions = [e.event for e in demo.events("co_review_waiting") if e.event.kind == "opinion"]
    assert [(o.department, o.value) for o in opinions] == [("zhujian", "agree")]
    status = demo.status("co_review_waiting")
    assert status.waiting == ("dept:shengtai",)
    assert status.due_on is not None and status.due_on > date.today()


def test_the_failing_case_has_a_non_compliant_review_with_a_finding(demo: Built) -> None:
    (review,) = [e for e in demo.events("auto_review_failed") if e.event.kind == "review"]
    assert review.event.value == "non_compliant"
    (finding,) = review.detail["findings"]
    assert finding["rule"] == "project.indicator_limits" and finding["severity"] == "error"
    assert "容积率" in finding["message_zh"]


def test_the_paused_case_has_no_due_date(demo: Built) -> None:
    status = demo.status("paused")
    assert status.paused and status.due_on is None and not status.closed
    pauses = [e.event for e in demo.events("paused") if e.event.kind in ("pause", "resume")]
    assert [p.kind for p in pauses] == ["pause"] and pauses[0].note.startswith("请补正")


def test_the_overdue_case_is_on_the_overdue_list_alone(demo: Built) -> None:
    status = demo.status("overdue")
    assert status.due_on is not None and status.due_on < date.today()
    with GeoPackageStore.open(demo.ws) as store:
        listed = todo(store, principal("chenjing01"), box="overdue")
    assert [s.case_id for s in listed] == [demo.ids["overdue"]]


def test_a_disagreement_takes_the_case_to_the_approver(demo: Built) -> None:
    opinions = {e.event.department: e.event.value for e in demo.events("decision_pending")}
    assert opinions["shengtai"] == "disagree"
    with GeoPackageStore.open(demo.ws) as store:
        waiting = {s.case_id for s in todo(store, principal("chenjing01"))}
    assert demo.ids["decision_pending"] in waiting


def test_the_conditional_permit_is_issued_with_its_conditions(demo: Built) -> None:
    events = demo.events("land_use_conditional")
    (opinion,) = [e for e in events if e.event.value == "conditional" and e.event.department]
    assert len(opinion.detail["conditions"]) == 2
    (issued,) = [e for e in events if e.event.kind == "issued"]
    assert issued.event.note == "建设用地规划许可证"


@pytest.mark.parametrize(
    ("name", "title"),
    [
        ("construction_issued", "建设工程规划许可证"),
        ("siting_issued", "建设项目用地预审与选址意见书"),
    ],
)
def test_the_issued_cases_carry_their_documents(demo: Built, name: str, title: str) -> None:
    (issued,) = [e for e in demo.events(name) if e.event.kind == "issued"]
    assert issued.event.note == title and demo.status(name).outcome == "issued"


def test_the_verification_is_refused_with_its_document(demo: Built) -> None:
    events = demo.events("verification_refused")
    (review,) = [e for e in events if e.event.kind == "review"]
    assert review.event.value == "rejected"
    far = next(i for i in review.detail["items"] if i["indicator"] == "as_built.far")
    assert not far["passed"] and far["measured"] > far["permitted"]
    assert all(i["passed"] for i in review.detail["items"] if i is not far)
    status = demo.status("verification_refused")
    assert status.closed and status.outcome == "refused"
    (issued,) = [e for e in events if e.event.kind == "issued"]
    assert issued.event.note == "建设工程规划核实不合格意见书"
    with GeoPackageStore.open(demo.ws) as store:
        files = store.approval_files(demo.ids["verification_refused"])
        (pdf,) = [f for f in files if f.material == DOCUMENT_MATERIAL]
        assert (store.approval_file_content(pdf.sha256) or b"").startswith(b"%PDF")
    assert {f.material for f in files} == {DOCUMENT_MATERIAL, "竣工测量成果数据"}


def test_the_window_case_is_not_yet_accepted(demo: Built) -> None:
    status = demo.status("window_waiting")
    assert status.stage_kind == "intake" and status.waiting == ("role:clerk@guihua",)
    assert demo.events("window_waiting") == []
    with GeoPackageStore.open(demo.ws) as store:
        assert demo.ids["window_waiting"] in {
            s.case_id for s in todo(store, principal("huangmei01"))
        }


@pytest.mark.parametrize("department", sorted(REVIEWERS))
def test_each_reviewer_has_exactly_their_departments_cases(demo: Built, department: str) -> None:
    username, planted = REVIEWERS[department]
    with GeoPackageStore.open(demo.ws) as store:
        waiting = {
            s.case_id
            for s in store.approval_statuses(open_only=True)
            if f"dept:{department}" in s.waiting
        }
        listed = {s.case_id for s in todo(store, principal(username))}
    assert listed == waiting == {demo.ids[name] for name in planted}
