"""Approval cases from the command line (``guotu case``), as the people of a bureau type it.

The workspace is a GeoPackage holding one detailed-plan parcel (imported as a user does), the
departments of the construction permit's co-review and one account per person of the
procedure: the window (窗口), the two co-review departments, the planning department's reviewer
and approver, and a viewer. A site inside the parcel reviews as compliant (the rules needing
other layers are skipped), one outside it as non-compliant. Each command runs as one of them
(``GUOTU_USER``). The engine's clock is the test's (:class:`Clock`), so a case can be looked
at as of a moment between two of its events.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from guotu.cli import case_input, root
from guotu.domain.access.records import Department, UserAccount
from guotu.io.workflows import shipped_workflows, workflow_by_id
from guotu.store.geopackage import GeoPackageStore

from .test_language_scan import english_words

PROCEDURE = "cn-construction-permit"
CLERK, REVIEWER, APPROVER = "huangmei01", "liuyang01", "chenjing01"
ZHUJIAN, SHENGTAI, VIEWER = "zhujian01", "shengtai01", "wujun01"
ACCOUNTS = (
    (CLERK, "guihua", "clerk"),
    (REVIEWER, "guihua", "reviewer"),
    (APPROVER, "guihua", "approver"),
    (ZHUJIAN, "zhujian", "reviewer"),
    (SHENGTAI, "shengtai", "reviewer"),
    (VIEWER, "zhujian", "viewer"),
)
DEPARTMENTS = (
    ("guihua", "国土空间规划科"),
    ("zhujian", "县住房和城乡建设局"),
    ("shengtai", "市生态环境局示范县分局"),
)
X0, Y0 = 39_500_000.0, 4_000_000.0
SITE = {
    "type": "Polygon",
    "coordinates": [[[X0, Y0], [X0 + 80, Y0], [X0 + 80, Y0 + 60], [X0, Y0 + 60], [X0, Y0]]],
}


@dataclass
class Clock:
    """The engine's clock: it stands still until the test moves it."""

    now: datetime

    def __call__(self) -> datetime:
        return self.now

    def tick(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    c = Clock(datetime(2026, 3, 2, 9, 0))  # a Monday of a year the calendar holds
    monkeypatch.setattr(case_input, "_clock", c)
    yield c


PARCEL = {
    "type": "FeatureCollection",
    "crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:EPSG::4527"}},
    "features": [
        {
            "type": "Feature",
            "properties": {"DKBH": "CG01-01", "YDYHFLDM": "0701", "RJL": 2.5, "JZXG": 54},
            "geometry": {
                "type": "Polygon",
                "coordinates": [
                    [[X0 - 50, Y0 - 50], [X0 + 200, Y0 - 50], [X0 + 200, Y0 + 200],
                     [X0 - 50, Y0 + 200], [X0 - 50, Y0 - 50]]
                ],
            },
        }
    ],
}  # fmt: skip


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The workspace every test starts from: the parcel, departments and accounts."""
    folder = tmp_path_factory.mktemp("case_cli")
    path, parcels = folder / "county.gpkg", folder / "详细规划地块.geojson"
    parcels.write_text(json.dumps(PARCEL), encoding="utf-8")
    args = ["import", str(parcels), "--role", "详细规划地块", "--layer", "XXGHDK", "-w", str(path)]
    res = CliRunner().invoke(root, args, env={"GUOTU_LANG": None, "GUOTU_USER": "主任"})
    assert res.exit_code == 0, res.output
    with GeoPackageStore.open(path) as store:
        for dept, name in DEPARTMENTS:
            store.put_department(Department(dept, name), actor="admin")
        for user, dept, role in ACCOUNTS:
            account = UserAccount(user, user, dept, frozenset({role}))
            store.put_user(account, actor="admin", action="create_user")
    return path


@pytest.fixture
def ws(county: Path, tmp_path: Path, clock: Clock) -> Path:
    path = tmp_path / "county.gpkg"
    shutil.copy(county, path)
    (tmp_path / "site.geojson").write_text(json.dumps(SITE), encoding="utf-8")
    return path


def run(ws: Path, user: str, *args: str, code: int = 0) -> Result:
    res = CliRunner().invoke(
        root,
        ["case", *args, "-w", str(ws)],
        env={"GUOTU_LANG": None, "GUOTU_USER": user, "GUOTU_TOKEN": None},
    )
    assert res.exit_code == code, (args, res.exit_code, res.output)
    assert "Traceback" not in res.output
    return res


def application(ws: Path, *extra: str, site: Path | None = None) -> list[str]:
    """The arguments of ``guotu case new`` for a construction permit (``extra`` added)."""
    where = site or ws.parent / "site.geojson"
    project = ["--applicant", "示范县城投公司", "--project", "城关镇安置房", "--location", "城关镇"]
    return ["new", PROCEDURE, *project, "--site", str(where), *extra]


def new_case(ws: Path, *extra: str) -> str:
    """A construction-permit application accepted at the window; its case number."""
    planned = ("--indicator", "YDYHFLDM=0701", "--indicator", "RJL=2.0")
    res = run(ws, CLERK, *application(ws, *planned, "--json", *extra))
    return str(json.loads(res.stdout)["id"])


def to_decision(ws: Path, clock: Clock, case: str) -> None:
    """The co-review's two opinions and the technical review."""
    clock.tick(hours=2)
    run(ws, ZHUJIAN, "opinion", case, "同意")
    run(ws, SHENGTAI, "opinion", case, "有条件同意", "--condition", "落实扬尘防治措施")
    clock.tick(hours=2)
    run(ws, REVIEWER, "act", case, "完成", "--note", "技术审查通过")


def issued(ws: Path, clock: Clock, *extra: str) -> str:
    """A case through to its permit (有条件批准); its number."""
    case = new_case(ws, *extra)
    to_decision(ws, clock, case)
    clock.tick(hours=1)
    run(ws, APPROVER, "act", case, "有条件批准")
    return case


def show(ws: Path, case: str, *args: str) -> dict[str, Any]:
    return dict(json.loads(run(ws, REVIEWER, "show", case, "--json", *args).stdout))


# -- procedures ------------------------------------------------------------------------------
def test_procedures_show_stages_deadlines_actors_and_unverified_bases() -> None:
    res = CliRunner().invoke(root, ["case", "procedures", PROCEDURE], env={"GUOTU_LANG": None})
    assert res.exit_code == 0, res.output
    assert "建设工程规划许可证" in res.stdout and "并联审查" in res.stdout
    assert "窗口受理人员" in res.stdout and "（未核对）" in res.stdout
    assert "建设工程规划许可证申请表（pdf）" in res.stdout


def test_procedures_json_lists_every_shipped_procedure() -> None:
    res = CliRunner().invoke(root, ["case", "procedures", "--json"], env={"GUOTU_LANG": None})
    doc = json.loads(res.stdout)
    permit = next(p for p in doc if p["id"] == PROCEDURE)
    intake = permit["stages"][0]
    assert (intake["id"], intake["deadline_working_days"], intake["role"]) == ("intake", 5, "clerk")
    assert permit["legal_basis"][0]["verified"] is False


# -- intake ----------------------------------------------------------------------------------
def test_new_accepts_and_says_where_the_review_sent_the_case(ws: Path, clock: Clock) -> None:
    out = run(ws, CLERK, *application(ws, "--indicator", "YDYHFLDM=0701")).stdout
    assert out.startswith(f"已受理：案件 {clock.now:%Y}000001（建设工程规划许可证）")
    assert "自动审查：符合（8 条规则，0 项不符合" in out
    assert (
        "当前环节：并联审查，待 县住房和城乡建设局、市生态环境局示范县分局 办理，期限 2026-03-16"
        in out
    )


def test_a_site_outside_the_detailed_plan_goes_to_supplementing(ws: Path) -> None:
    outside = f"POLYGON(({X0 + 500} {Y0}, {X0 + 560} {Y0}, {X0 + 560} {Y0 + 40}, {X0 + 500} {Y0}))"
    args = ["--site-wkt", outside, "--indicator", "YDYHFLDM=0701"]
    out = run(ws, CLERK, "new", PROCEDURE, "--applicant", "甲公司", "--project", "乙", *args).stdout
    assert "自动审查：不符合" in out and "approval.detailed_plan_coverage" in out
    assert "当前环节：补正，待 窗口受理人员（国土空间规划科） 办理" in out


def test_new_json_is_the_case_page(ws: Path) -> None:
    doc = show(ws, new_case(ws))
    assert doc["stage"] == {"id": "co_review", "name_zh": "并联审查", "kind": "co_review"}
    assert doc["waiting"] == ["dept:zhujian", "dept:shengtai"]
    assert doc["indicators"] == {"YDYHFLDM": "0701", "RJL": 2.0}
    assert doc["review"]["outcome"] == "compliant" and doc["review"]["errors"] == 0
    assert round(doc["site_area_m2"]) == 4800 and doc["public"] is True
    assert [s["stage"] for s in doc["stages"]] == ["intake", "auto_review", "co_review"]
    assert set(doc["stages"][-1]["clock"]) == {
        "state",
        "used",
        "limit",
        "left",
        "due",
        "late",
        "provisional",
    }


def test_no_accept_leaves_the_case_at_the_window(ws: Path) -> None:
    doc = show(ws, new_case(ws, "--no-accept"))
    assert doc["stage"]["id"] == "intake" and doc["review"] is None


def test_a_material_is_kept_with_the_application(ws: Path, tmp_path: Path) -> None:
    form = tmp_path / "申请表.pdf"
    form.write_bytes(b"%PDF-1.4 application form")
    doc = show(ws, new_case(ws, "--material", f"建设工程规划许可证申请表={form}"))
    assert [(f["material"], f["filename"]) for f in doc["files"]] == [
        ("建设工程规划许可证申请表", "申请表.pdf")
    ]


def test_a_material_the_procedure_does_not_ask_for_is_refused_before_intake(
    ws: Path, tmp_path: Path
) -> None:
    other = tmp_path / "a.pdf"
    other.write_bytes(b"%PDF")
    res = run(ws, CLERK, *application(ws, "--material", f"营业执照={other}"), code=2)
    assert "不要求“营业执照”" in res.output
    assert json.loads(run(ws, CLERK, "list", "--box", "all", "--json").stdout)["cases"] == []


@pytest.mark.parametrize(
    ("content", "said"),
    [
        ("{not json", "不是 JSON"),  # not GeoJSON at all
        (json.dumps({"type": "LineString", "coordinates": [[0, 0], [1, 1]]}), "不是 Polygon"),
    ],
    ids=["not-json", "line"],
)
def test_a_bad_site_file_is_refused_naming_the_file(
    ws: Path, tmp_path: Path, content: str, said: str
) -> None:
    bad = tmp_path / "坏的用地范围.geojson"
    bad.write_text(content, encoding="utf-8")
    res = run(ws, CLERK, *application(ws, site=bad), code=2)
    assert f"错误：用地范围 {bad} 无效" in res.output and said in res.output


def test_a_missing_site_file_is_refused_by_name(ws: Path) -> None:
    res = run(ws, CLERK, *application(ws, site=Path("无此文件.geojson")), code=2)
    assert "无此文件.geojson" in res.output


# -- who may act -----------------------------------------------------------------------------
def test_a_viewer_may_not_take_an_application_in(ws: Path) -> None:
    res = run(ws, VIEWER, *application(ws), code=2)
    assert "错误：无权办理：本环节须由窗口受理人员（guihua）办理" in res.output


def test_only_the_stage_actor_records_the_decision(ws: Path, clock: Clock) -> None:
    case = new_case(ws)
    to_decision(ws, clock, case)
    res = run(ws, REVIEWER, "act", case, "批准", code=2)
    assert "无权办理" in res.output and "审批人员（guihua）" in res.output
    assert show(ws, case)["stage"]["id"] == "decision"


def test_an_outcome_the_stage_does_not_have_is_refused_listing_its_outcomes(
    ws: Path, clock: Clock
) -> None:
    case = new_case(ws)
    to_decision(ws, clock, case)
    res = run(ws, APPROVER, "act", case, "完成", code=2)
    assert (
        "错误：“审批决定”环节没有“完成”这一结果，可选：批准、有条件批准、不予批准。" in res.output
    )


def test_a_conditional_opinion_names_its_conditions(ws: Path) -> None:
    case = new_case(ws)
    res = run(ws, ZHUJIAN, "opinion", case, "有条件同意", code=2)
    assert "有条件同意须写明条件（--condition）" in res.output


# -- the lists -------------------------------------------------------------------------------
def test_the_case_waits_in_each_co_review_department_s_todo_list(ws: Path) -> None:
    case = new_case(ws)
    for user in (ZHUJIAN, SHENGTAI):
        doc = json.loads(run(ws, user, "list", "--json").stdout)
        assert [c["id"] for c in doc["cases"]] == [case], user
    assert json.loads(run(ws, REVIEWER, "list", "--json").stdout)["cases"] == []


def test_list_shows_stage_who_must_act_due_date_and_status(ws: Path) -> None:
    case = new_case(ws)
    out = run(ws, ZHUJIAN, "list").stdout
    assert out.startswith("待办：1")
    for text in (case, "城关镇安置房", "并联审查", "县住房和城乡建设局", "2026-03-16", "办理中"):
        assert text in out


def test_list_json_shape(ws: Path) -> None:
    new_case(ws)
    doc = json.loads(run(ws, CLERK, "list", "--box", "all", "--json").stdout)
    assert doc["box"] == "all"
    (row,) = doc["cases"]
    assert row["procedure"] == PROCEDURE and row["stage"] == "co_review"
    assert row["waiting_names"] == ["县住房和城乡建设局", "市生态环境局示范县分局"]
    assert (row["due_on"], row["due_provisional"], row["overdue"]) == ("2026-03-16", False, False)
    assert {"paused", "closed", "status", "entered_at", "created_at"} <= set(row)


def test_a_case_past_its_due_date_is_in_the_overdue_list(ws: Path, clock: Clock) -> None:
    case = new_case(ws)
    clock.tick(days=30)  # the co-review's 10 working days are long past
    doc = json.loads(run(ws, APPROVER, "list", "--box", "overdue", "--json").stdout)
    assert [(c["id"], c["overdue"], c["status"]) for c in doc["cases"]] == [(case, True, "超期")]
    stats = json.loads(run(ws, APPROVER, "stats", "--json").stdout)
    assert {d["department"]: d["cases"] for d in stats["overdue_by_department"]} == {
        "zhujian": 1,
        "shengtai": 1,
    }


# -- 补正 ---------------------------------------------------------------------------------------
def test_pause_stops_the_clock_until_resume(ws: Path, clock: Clock) -> None:
    case = new_case(ws)  # co-review from Monday 2 March: 10 working days, due 16 March
    out = run(ws, CLERK, "pause", case, "--note", "需补正：日照分析报告").stdout
    assert "已要求补正，计时暂停" in out and "补正中" in out
    clock.tick(days=7)
    paused = show(ws, case)
    assert paused["paused"] is True and paused["stages"][-1]["clock"]["state"] == "paused"
    run(ws, CLERK, "resume", case)  # Monday 9 March: the 5 working days paused are not counted
    clock_now = show(ws, case)["stages"][-1]["clock"]
    assert (clock_now["state"], clock_now["used"], clock_now["due"]) == ("running", 0, "2026-03-23")


def test_attach_keeps_a_material_of_an_accepted_type(ws: Path, tmp_path: Path) -> None:
    case = new_case(ws)
    plan = tmp_path / "总平面图.pdf"
    plan.write_bytes(b"%PDF-1.4 site plan")
    args = ("attach", case, str(plan), "--material", "建设工程设计方案总平面图")
    assert json.loads(run(ws, CLERK, *args, "--json").stdout)["filename"] == "总平面图.pdf"
    bad = tmp_path / "总平面图.txt"
    bad.write_text("x", encoding="utf-8")
    res = run(ws, CLERK, "attach", case, str(bad), "--material", "建设工程设计方案总平面图", code=2)
    assert "须为 dwg、pdf 文件" in res.output


# -- the whole case: opinions, decision, document, verification ------------------------------
def test_the_decision_issues_the_permit(ws: Path, clock: Clock) -> None:
    case = new_case(ws)
    to_decision(ws, clock, case)
    clock.tick(hours=1)
    out = run(ws, APPROVER, "act", case, "有条件批准").stdout
    assert "已办结：核发许可证" in out and f"已核发 建字第{case}号（建设工程规划许可证）" in out
    doc = show(ws, case)
    assert doc["closed"] is True and doc["opinions"] == {}
    assert [
        (e["department"], e["value"], e["conditions"])
        for e in doc["events"]
        if e["kind"] == "opinion"
    ] == [
        ("zhujian", "agree", []),
        ("shengtai", "conditional", ["落实扬尘防治措施"]),
    ]
    assert doc["documents"][0]["serial"] == f"建字第{case}号"


def test_document_writes_the_issued_pdf(ws: Path, clock: Clock, tmp_path: Path) -> None:
    case = issued(ws, clock)
    target = tmp_path / "许可证.pdf"
    doc = json.loads(run(ws, CLERK, "document", case, "-o", str(target), "--json").stdout)
    assert target.read_bytes().startswith(b"%PDF") and doc["size"] == target.stat().st_size
    assert doc["serial"] == f"建字第{case}号" and doc["title"] == "建设工程规划许可证"


def test_document_of_an_open_case_is_refused(ws: Path) -> None:
    res = run(ws, CLERK, "document", new_case(ws), code=2)
    assert "尚未核发文书" in res.output


def test_verify_shows_what_the_public_sees(ws: Path, clock: Clock) -> None:
    case = issued(ws, clock)
    token = show(ws, case)["documents"][0]["verification_id"]
    out = run(ws, VIEWER, "verify", token).stdout
    assert out.startswith("文书真实有效") and f"文书编号：建字第{case}号" in out
    assert "项目名称：城关镇安置房" in out and "用地面积（平方米）：4,800.00" in out
    by_url = json.loads(
        run(ws, VIEWER, "verify", f"https://x.gov.cn/verify/{token}", "--json").stdout
    )
    assert by_url["genuine"] is True and by_url["project"] == "城关镇安置房"


def test_verify_of_a_case_not_public_confirms_only_the_number(ws: Path, clock: Clock) -> None:
    case = issued(ws, clock, "--not-public")
    token = show(ws, case)["documents"][0]["verification_id"]
    doc = json.loads(run(ws, VIEWER, "verify", token, "--json").stdout)
    assert doc == {"genuine": True, "serial": f"建字第{case}号", "public": False}
    assert "仅证明编号真实有效" in run(ws, VIEWER, "verify", token).stdout


def test_verify_of_an_unknown_id_says_no_such_document(ws: Path) -> None:
    assert "查无此文书" in run(ws, VIEWER, "verify", "nosuchid", code=2).output


# -- as of a moment --------------------------------------------------------------------------
def test_show_as_of_an_earlier_moment_shows_the_stage_then(ws: Path, clock: Clock) -> None:
    case = new_case(ws)
    before = clock.now + timedelta(minutes=30)
    to_decision(ws, clock, case)
    assert show(ws, case)["stage"]["id"] == "decision"
    then = show(ws, case, "--as-of", f"{before:%Y-%m-%d %H:%M}")
    assert then["stage"]["id"] == "co_review" and then["opinions"] == {}
    out = run(ws, REVIEWER, "show", case, "--as-of", f"{before:%Y-%m-%d %H:%M}").stdout
    assert "当前环节：并联审查" in out and "技术审查通过" not in out


def test_show_before_the_case_existed_is_not_found(ws: Path, clock: Clock) -> None:
    case = new_case(ws)
    earlier = clock.now - timedelta(days=1)
    res = run(ws, REVIEWER, "show", case, "--as-of", f"{earlier:%Y-%m-%d %H:%M}", code=2)
    assert f"没有编号为 {case} 的审批案件" in res.output


# -- statistics ------------------------------------------------------------------------------
def test_stats_count_stage_stays_after_a_closed_case(ws: Path, clock: Clock) -> None:
    issued(ws, clock)
    doc = json.loads(run(ws, APPROVER, "stats", "--procedure", PROCEDURE, "--json").stdout)
    assert (doc["cases"], doc["open"]) == (1, 0)
    stages = {r["stage"]: r for r in doc["stage_days"]}
    assert set(stages) == {"intake", "auto_review", "co_review", "technical_review", "decision"}
    assert set(stages["decision"]) == {"workflow", "stage", "stays", "mean", "p90", "late"}
    out = run(ws, APPROVER, "stats").stdout
    assert "各环节用时（工作日，补正时间不计）" in out and "审批决定" in out


# -- languages -------------------------------------------------------------------------------
def test_english_on_request(ws: Path, clock: Clock) -> None:
    case = new_case(ws)
    to_decision(ws, clock, case)
    out = run(ws, REVIEWER, "show", case, "--lang", "en").stdout
    assert f"Case {case}  Construction project planning permit" in out
    assert "Stage: Decision, waiting for approver (国土空间规划科)" in out
    assert "Parallel co-review" in out and "agree with conditions" in out
    assert "当前环节" not in out and "办理环节" not in out
    listed = run(ws, APPROVER, "list", "--lang", "en").stdout
    assert listed.startswith("To do: 1") and "Waiting for" in listed and "待办" not in listed


def test_english_refusal(ws: Path, clock: Clock) -> None:
    case = new_case(ws)
    res = run(ws, ZHUJIAN, "opinion", case, "maybe", "--lang", "en", code=2)
    assert "Error: An opinion is agree, conditional or disagree, not 'maybe'." in res.output


def test_chinese_output_has_no_english_words(ws: Path, clock: Clock) -> None:
    case = issued(ws, clock)
    users = (CLERK, REVIEWER, APPROVER, ZHUJIAN, SHENGTAI, VIEWER)
    # identifiers: user names, procedure and department ids, material file types
    flows = [workflow_by_id(i) for i in shipped_workflows()]
    types = {t for f in flows for s in f.stages.values() for m in s.materials for t in m.types}
    depts = {d for f in flows for s in f.stages.values() for d in (*s.departments, s.department)}
    words = {*users, *(f.id for f in flows), *types, *(d for d in depts if d)}
    for args in (["show", case], ["list", "--box", "all"], ["stats"], ["procedures"]):
        out = run(ws, APPROVER, *args).stdout
        assert english_words(out, words) == [], (args, english_words(out, words), out)


def test_the_window_corrects_an_application_in_supplementing(ws: Path) -> None:
    too_dense = "RJL=9.0"  # above the parcel's 容积率
    out = run(ws, CLERK, *application(ws, "--indicator", "YDYHFLDM=0701", "--indicator", too_dense))
    case = out.stdout.split("案件 ")[1].split("（")[0]
    assert "当前环节：补正" in out.stdout
    refused = run(ws, REVIEWER, "amend", case, "--indicator", "RJL=2.0", "--note", "x", code=2)
    assert "窗口" in refused.output
    done = run(ws, CLERK, "amend", case, "--indicator", "RJL=2.0", "--note", "容积率改为 2.0")
    assert f"已修改申请内容：案件 {case}" in done.stdout
    run(ws, CLERK, "act", case, "办结", "--note", "补正完成")
    doc = show(ws, case)
    assert doc["stage"]["id"] == "co_review" and doc["indicators"]["RJL"] == 2.0
