"""Approval cases on every store (the contract suite: memory, geopackage, postgis): a case
gets the next number of its prefix, its events append in order and a write that expected
another number of events is refused with nothing written, materials keep their bytes once
per content, statuses filter by who must act, every write is audited, and the SQL tables
refuse UPDATE and DELETE."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pytest

from guotu.domain.workflow.case import CaseEvent
from guotu.domain.workflow.records import (
    ApprovalCase,
    CaseStatus,
    RecordedEvent,
    VisitRecord,
    waiting_department,
    waiting_role,
)
from guotu.errors import ConflictError, GuotuError, NotFoundError

from .conftest import driver_errors, raw_sql

T0 = datetime(2026, 3, 2, 9, 0)
PROCEDURE = {"id": "t", "stages": [{"id": "a"}]}


def new_case(project: str = "示范县第一中学扩建") -> ApprovalCase:
    return ApprovalCase(
        id="",
        workflow="cn-construction-permit",
        procedure=PROCEDURE,
        applicant="示范县教育局",
        project=project,
        location="示范县城关镇",
        site_wkt="POLYGON ((0 0, 100 0, 100 80, 0 80, 0 0))",
        site_area_m2=8000.0,
        application_date=date(2026, 3, 2),
        created_at=T0,
        created_by="huangmei01",
        department="guihua",
        detail={"容积率": 2.0},
    )


def status(case_id: str = "", events: int = 0, **kw: Any) -> CaseStatus:
    fields: dict[str, Any] = {
        "case_id": case_id,
        "workflow": "cn-construction-permit",
        "stage": "intake",
        "stage_kind": "intake",
        "entered_at": T0,
        "due_on": date(2026, 3, 9),
        "paused": False,
        "closed": False,
        "waiting": (waiting_role("clerk", "guihua"),),
        "events": events,
        "project": "示范县第一中学扩建",
        "applicant": "示范县教育局",
        "department": "guihua",
        "created_at": T0,
    }
    return CaseStatus(**{**fields, **kw})


def test_cases_are_numbered_per_prefix_and_read_back(store: Any) -> None:
    a = store.create_approval_case(new_case(), status(), id_prefix="JG2026", actor="huangmei01")
    b = store.create_approval_case(new_case("乙"), status(), id_prefix="JG2026", actor="huangmei01")
    c = store.create_approval_case(new_case("丙"), status(), id_prefix="XZ2026", actor="huangmei01")
    assert (a.id, b.id, c.id) == ("JG2026000001", "JG2026000002", "XZ2026000001")
    got = store.approval_case("JG2026000001")
    assert got.project == "示范县第一中学扩建" and got.procedure == PROCEDURE
    assert got.application_date == date(2026, 3, 2) and got.created_at == T0
    assert got.detail == {"容积率": 2.0} and got.public is True and got.site_area_m2 == 8000.0
    assert store.approval_case("JG2026000009") is None
    [s] = store.approval_statuses(case_id="JG2026000002")
    assert s.case_id == "JG2026000002" and s.waiting == ("role:clerk@guihua",)
    assert s.due_on == date(2026, 3, 9) and s.paused is False and s.events == 0
    entries = store.audit_log(limit=10)
    assert any(e.action == "create_case" and e.object == "case:JG2026000001" for e in entries)


def event(kind: str, value: str, at: datetime, department: str = "") -> RecordedEvent:
    return RecordedEvent("", 0, CaseEvent(at, kind, value, department, "liuyang01", "意见"))


def test_events_append_in_order_and_a_stale_write_is_refused(store: Any) -> None:
    c = store.create_approval_case(new_case(), status(), id_prefix="JG2026", actor="huangmei01")
    later = datetime(2026, 3, 3, 10, 0)
    s1 = status(c.id, 2, stage="co_review", waiting=("dept:fagai", "dept:zhujian"))
    visit = VisitRecord(c.id, "cn-construction-permit", "intake", T0, later, "done", 1, False)
    store.append_approval_events(
        c.id,
        [event("outcome", "done", later), event("review", "compliant", later)],
        s1,
        expected=0,
        visits=[visit],
        actor="huangmei01",
    )
    with pytest.raises(ConflictError) as err:
        store.append_approval_events(
            c.id, [event("opinion", "agree", later, "fagai")], s1, expected=0, actor="zhouwei01"
        )
    assert err.value.http_status == 409 and "已被他人办理" in err.value.message_zh
    got = store.approval_events(c.id)
    assert [(e.seq, e.event.kind, e.event.value) for e in got] == [
        (1, "outcome", "done"),
        (2, "review", "compliant"),
    ]
    assert got[0].event.at == later and got[0].case_id == c.id
    [v] = store.approval_visits()
    assert (v.stage, v.working_days, v.late, v.left) == ("intake", 1, False, later)
    assert store.approval_visits("other") == []
    [s] = store.approval_statuses(case_id=c.id)
    assert s.events == 2 and s.stage == "co_review"
    with pytest.raises(NotFoundError):
        store.append_approval_events("JG2026000999", [], s1, expected=0, actor="x")


def test_statuses_filter_by_who_must_act(store: Any) -> None:
    a = store.create_approval_case(new_case(), status(), id_prefix="JG2026", actor="u")
    store.create_approval_case(
        new_case(), status(waiting=(waiting_department("fagai"),)), id_prefix="JG2026", actor="u"
    )
    store.create_approval_case(
        new_case(), status(closed=True, waiting=(), due_on=None), id_prefix="JG2026", actor="u"
    )
    assert [s.case_id for s in store.approval_statuses(waiting=["dept:fagai"])] == ["JG2026000002"]
    assert [s.case_id for s in store.approval_statuses(waiting=["dept:fag"])] == []
    assert len(store.approval_statuses(open_only=True)) == 2
    assert len(store.approval_statuses()) == 3
    assert store.approval_statuses(workflow="nope") == []
    assert [s.case_id for s in store.approval_statuses(waiting=["role:clerk@guihua"])] == [a.id]
    [closed] = store.approval_statuses(case_id="JG2026000003")
    assert closed.closed is True and closed.due_on is None and closed.waiting == ()


def test_materials_keep_their_bytes_once(store: Any) -> None:
    c = store.create_approval_case(new_case(), status(), id_prefix="JG2026", actor="u")
    pdf = b"%PDF-1.4 demo"
    f1 = store.put_approval_file(
        c.id, material="建设工程设计方案", filename="方案.pdf", media_type="application/pdf",
        content=pdf, actor="huangmei01",
    )  # fmt: skip
    f2 = store.put_approval_file(
        c.id, material="申请表", filename="申请表.pdf", media_type="application/pdf",
        content=pdf, actor="huangmei01",
    )  # fmt: skip
    assert (f1.seq, f2.seq, f1.size, f1.sha256 == f2.sha256) == (1, 2, len(pdf), True)
    assert [f.filename for f in store.approval_files(c.id)] == ["方案.pdf", "申请表.pdf"]
    assert store.approval_file_content(f1.sha256) == pdf
    assert store.approval_file_content("0" * 64) is None
    with pytest.raises(NotFoundError):
        store.put_approval_file(
            "JG2099000001", material="x", filename="x", media_type="x", content=b"", actor="u"
        )


def test_issued_documents_are_found_by_their_verification_id(store: Any) -> None:
    c = store.create_approval_case(new_case(), status(), id_prefix="JG2026", actor="u")
    e = RecordedEvent("", 0, CaseEvent(T0, "issued", "v-abc123"), {"serial": "建字第1号"})
    store.append_approval_events(c.id, [e], status(c.id, 1), expected=0, actor="chenjing01")
    [found] = store.approval_events_with("issued", "v-abc123")
    assert found.case_id == c.id and found.detail == {"serial": "建字第1号"}
    assert store.approval_events_with("issued", "v-zzz") == []


def test_the_sql_tables_are_append_only(sql_store: Any) -> None:
    c = sql_store.create_approval_case(new_case(), status(), id_prefix="JG2026", actor="u")
    e = RecordedEvent("", 0, CaseEvent(T0, "outcome", "done"))
    sql_store.append_approval_events(c.id, [e], status(c.id, 1), expected=0, actor="u")
    for table in ("guotu_approval_cases", "guotu_approval_events"):
        with pytest.raises((GuotuError, *driver_errors())):
            raw_sql(sql_store, f"UPDATE {table} SET case_id = 'x'" if "events" in table
                    else f"UPDATE {table} SET project = 'x'")  # fmt: skip
        with pytest.raises((GuotuError, *driver_errors())):
            raw_sql(sql_store, f"DELETE FROM {table}")
    assert sql_store.approval_case(c.id).project == "示范县第一中学扩建"


def test_a_schema_4_workspace_gains_the_case_tables_on_open(sql_store: Any) -> None:
    from .conftest import reopen, strip_to_schema_4

    sql_store.audit("wang", "sign_in", "user:wang")
    strip_to_schema_4(sql_store)
    with reopen(sql_store) as reopened:
        assert reopened.meta("schema_version") == "5"
        assert reopened.audit_log()[-1].reason == "工作空间结构版本 4 → 5"
        c = reopened.create_approval_case(new_case(), status(), id_prefix="JG2026", actor="u")
        assert c.id == "JG2026000001"


def test_the_cases_a_user_acted_on(store: Any) -> None:
    a = store.create_approval_case(new_case(), status(), id_prefix="JG2026", actor="u")
    b = store.create_approval_case(new_case(), status(), id_prefix="JG2026", actor="u")
    for c, n in ((a, 0), (b, 0), (b, 1)):
        e = RecordedEvent("", 0, CaseEvent(T0, "note", "", actor="liuyang01"))
        store.append_approval_events(c.id, [e], status(c.id, n + 1), expected=n, actor="x")
    assert store.approval_cases_acted_by("liuyang01") == [a.id, b.id]
    assert store.approval_cases_acted_by("nobody") == []


def test_status_lists_are_filtered_and_ordered_in_the_store(store: Any) -> None:
    dues = [date(2026, 3, 20), None, date(2026, 3, 10), date(2026, 3, 30)]
    for due in dues:
        store.create_approval_case(
            new_case(), status(due_on=due, paused=due is None), id_prefix="JG2026", actor="u"
        )
    by_due = store.approval_statuses(order="due")
    assert [s.case_id[-1] for s in by_due] == ["3", "1", "4", "2"]  # no due date (paused) last
    assert [s.case_id[-1] for s in store.approval_statuses(order="case_desc", limit=2)] == [
        "4",
        "3",
    ]
    late = store.approval_statuses(due_before=date(2026, 3, 21), order="due")
    assert [s.case_id[-1] for s in late] == ["3", "1"]
    picked = store.approval_statuses(case_ids=["JG2026000002", "JG2026000004"])
    assert [s.case_id for s in picked] == ["JG2026000002", "JG2026000004"]
    assert store.approval_statuses(case_ids=[]) == []
