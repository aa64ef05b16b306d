"""The shipped approval procedures (``guotu/workflows``) and their profiles
(``guotu.io.workflows``): every procedure loads and passes the graph checks, cites a basis on
every stage and claims no verification the research note does not give; the licence
procedures share one shape an engine can drive; a profile's overrides take effect, and a
profile overriding an unknown stage or extending an unknown procedure is refused."""

from __future__ import annotations

import re
from datetime import datetime
from pathlib import Path

import pytest

from guotu.domain.workflow.case import CaseEvent, case_state
from guotu.domain.workflow.definition import Workflow
from guotu.errors import ConfigError, NotFoundError
from guotu.io.workflows import shipped_workflows, workflow_by_id

PROCEDURES = (
    "cn-completion-verification",
    "cn-construction-permit",
    "cn-land-consolidation",
    "cn-land-use-permit",
    "cn-rural-construction-permit",
    "cn-siting-preexam",
)
PROFILES = ("sd-example-construction-permit",)
#: Licence procedures (and 规划核实, shaped like them): procedure → (automatic action, what is
#: issued when approved, co-review departments).
LICENCES = {
    "cn-siting-preexam": (
        "review_project",
        "建设项目用地预审与选址意见书",
        ("fagai", "gengdi", "shengtai"),
    ),
    "cn-land-use-permit": ("review_project", "建设用地规划许可证", ("fagai", "gengdi")),
    "cn-construction-permit": ("review_project", "建设工程规划许可证", ("zhujian", "shengtai")),
    "cn-rural-construction-permit": ("review_project", "乡村建设规划许可证", ("gengdi", "zhujian")),
    "cn-completion-verification": (
        "verify_as_built",
        "建设工程规划核实合格意见书",
        ("zhujian", "shengtai"),
    ),
}


def step(flow: Workflow, stage: str, outcome: str) -> str:
    """The id of the stage ``outcome`` of ``stage`` leads to (which must exist)."""
    target = flow.next_stage(stage, outcome)
    assert target is not None, (stage, outcome)
    return target.id


def test_the_shipped_ids_are_the_six_procedures_and_the_example_profile() -> None:
    assert shipped_workflows() == sorted(PROCEDURES + PROFILES)


@pytest.mark.parametrize("workflow_id", PROCEDURES + PROFILES)
def test_a_shipped_procedure_loads_under_its_own_id(workflow_id: str) -> None:
    flow = workflow_by_id(workflow_id)
    assert flow.id == workflow_id and flow.legal_basis
    assert all(re.fullmatch(r"[a-z][a-z0-9_]*", sid) for sid in flow.stages)


@pytest.mark.parametrize("workflow_id", PROCEDURES + PROFILES)
def test_every_stage_that_is_not_an_end_has_a_deadline_and_a_legal_basis(workflow_id: str) -> None:
    for stage in workflow_by_id(workflow_id).stages.values():
        if not stage.is_end:
            assert stage.deadline_working_days, stage.id
            assert stage.legal_basis, stage.id
            assert all(b.document for b in stage.legal_basis), stage.id


@pytest.mark.parametrize("workflow_id", PROCEDURES)
def test_nothing_shipped_claims_a_check_the_research_note_does_not_give(workflow_id: str) -> None:
    # docs/design/workflow-research.md verified no legal text against the official one.
    flow = workflow_by_id(workflow_id)
    bases = [*flow.legal_basis, *(b for s in flow.stages.values() for b in s.legal_basis)]
    assert bases and not any(b.verified for b in bases)


@pytest.mark.parametrize("workflow_id", LICENCES)
def test_the_automatic_review_sends_non_compliance_to_a_stage_that_returns_to_it(
    workflow_id: str,
) -> None:
    flow = workflow_by_id(workflow_id)
    (auto,) = [s for s in flow.stages.values() if s.kind == "automatic"]
    assert auto.action == LICENCES[workflow_id][0]
    fix = flow.next_stage(auto.id, "non_compliant")
    assert (
        fix is not None
        and fix.kind == "task"
        and (fix.role, fix.department)
        == (
            "clerk",
            "guihua",
        )
    )
    assert flow.next_stage(fix.id, "done") == auto
    assert flow.next_stage(auto.id, "compliant") == flow.stages["co_review"]


@pytest.mark.parametrize("workflow_id", LICENCES)
def test_a_licence_procedure_has_the_shape_an_engine_drives(workflow_id: str) -> None:
    flow = workflow_by_id(workflow_id)
    _, issued, departments = LICENCES[workflow_id]
    intake = flow.stages[flow.start]
    assert (intake.kind, intake.role, intake.department) == ("intake", "clerk", "guihua")
    assert intake.deadline_working_days == 5  # 行政许可法 art. 32 (unverified)
    assert intake.materials and all(m.types for m in intake.materials)
    co = flow.stages["co_review"]
    assert co.departments == departments and co.parallel
    # the three outcomes the engine makes of the departments' opinions
    assert set(co.outcomes) == {"approved", "conditional", "rejected"}
    review = flow.next_stage("co_review", "approved")
    assert review is not None and (review.kind, review.role, review.department) == (
        "task",
        "reviewer",
        "guihua",
    )
    decision = flow.next_stage(review.id, "done")
    assert decision is not None and (decision.kind, decision.role) == ("decision", "approver")
    for outcome in ("approved", "conditional"):
        end = flow.next_stage(decision.id, outcome)
        assert end is not None and end.is_end and (end.id, end.issues) == ("issued", issued)
    refused = flow.next_stage(decision.id, "rejected")
    assert refused is not None and refused.is_end and refused.id == "refused" and refused.issues


@pytest.mark.parametrize("workflow_id", [*LICENCES, "sd-example-construction-permit"])
def test_the_stages_after_acceptance_share_the_twenty_working_days(workflow_id: str) -> None:
    # 行政许可法 art. 42 (unverified): auto review + co-review + technical review + decision
    flow = workflow_by_id(workflow_id)
    path = [step(flow, flow.start, "done"), "co_review", step(flow, "co_review", "approved")]
    days = [flow.stages[s].deadline_working_days or 0 for s in [*path, "decision"]]
    assert sum(days) == 20


def test_land_consolidation_runs_application_plan_approval_implementation_and_acceptance() -> None:
    flow = workflow_by_id("cn-land-consolidation")
    happy = ["application"]
    for outcome in ("done", "compliant", "approved", "approved", "done", "compliant", "approved"):
        happy.append(step(flow, happy[-1], outcome))
    assert happy == [
        "application",
        "plan_check",
        "co_review",
        "plan_approval",
        "implementation",
        "acceptance_check",
        "acceptance",
        "accepted",
    ]
    check = flow.stages["acceptance_check"]  # a person's check (no automatic one fits)
    assert (check.kind, check.role, check.department) == ("task", "reviewer", "gengdi")
    assert step(flow, "rectification", "done") == "acceptance_check"
    assert flow.stages[step(flow, "plan_approval", "rejected")].is_end


def test_the_example_profile_changes_the_co_review_and_one_deadline() -> None:
    base = workflow_by_id("cn-construction-permit")
    local = workflow_by_id("sd-example-construction-permit")
    assert local.extends == "cn-construction-permit" and local.name_zh.startswith("示例省")
    assert local.stages["co_review"].departments == ("zhujian", "shengtai", "gengdi")
    assert local.stages["co_review"].deadline_working_days == 7  # 10 in the base
    assert local.stages["technical_review"].deadline_working_days == 8  # 5 in the base
    assert local.stages["co_review"].legal_basis[0].document.startswith("示例省")
    unchanged = set(base.stages) - {"co_review", "technical_review"}
    assert all(local.stages[s] == base.stages[s] for s in unchanged)


def test_a_case_on_the_profile_waits_for_the_department_it_adds() -> None:
    flow = workflow_by_id("sd-example-construction-permit")
    t = datetime(2026, 3, 2, 9)
    events = [
        CaseEvent(t.replace(hour=10), "outcome", "done"),
        CaseEvent(t.replace(hour=11), "outcome", "compliant"),
        CaseEvent(t.replace(day=3), "opinion", "agree", department="zhujian"),
        CaseEvent(t.replace(day=4), "opinion", "agree", department="shengtai"),
    ]
    state = case_state(flow, t, events, datetime(2026, 3, 5))
    assert state.stage == "co_review" and set(state.opinions) == {"zhujian", "shengtai"}
    more = [*events, CaseEvent(t.replace(day=5), "opinion", "agree", department="gengdi")]
    assert case_state(flow, t, more, datetime(2026, 3, 6)).stage == "technical_review"


# Profiles in a province's folder (workflow_by_id(..., profiles_dir)).
def write(folder: Path, workflow_id: str, extends: str, overrides: str) -> None:
    (folder / f"{workflow_id}.yaml").write_text(
        "schema_version: 1\n"
        f"profile: {{id: {workflow_id}, extends: {extends}, name_zh: 本省流程}}\n"
        f"overrides:\n{overrides}",
        encoding="utf-8",
    )


def refused(workflow_id: str, folder: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        workflow_by_id(workflow_id, folder)
    return caught.value.render("zh")


def test_a_profile_in_the_folder_extends_a_shipped_procedure(tmp_path: Path) -> None:
    write(tmp_path, "local-siting", "cn-siting-preexam", "  decision: {deadline_working_days: 3}\n")
    flow = workflow_by_id("local-siting", tmp_path)
    assert flow.extends == "cn-siting-preexam" and flow.name_zh == "本省流程"
    assert flow.stages["decision"].deadline_working_days == 3


def test_a_profile_may_extend_a_shipped_profile(tmp_path: Path) -> None:
    write(
        tmp_path,
        "city-permit",
        "sd-example-construction-permit",
        "  intake: {actor: {role: clerk, department: beiling}}\n",
    )
    flow = workflow_by_id("city-permit", tmp_path)
    assert flow.extends == "sd-example-construction-permit"
    assert flow.stages["intake"].department == "beiling"
    assert flow.stages["co_review"].deadline_working_days == 7  # from the profile it extends


def test_a_profile_overriding_an_unknown_stage_is_refused_with_its_yaml_path(
    tmp_path: Path,
) -> None:
    write(
        tmp_path,
        "local-permit",
        "cn-construction-permit",
        "  huishen: {deadline_working_days: 3}\n",
    )
    message = refused("local-permit", tmp_path)
    assert "local-permit.yaml: $.overrides.huishen:" in message
    assert "没有环节“huishen”" in message and "co_review" in message


def test_a_profile_extending_an_unknown_id_is_refused_naming_the_known_ids(
    tmp_path: Path,
) -> None:
    write(
        tmp_path, "local-permit", "cn-building-permit", "  decision: {deadline_working_days: 3}\n"
    )
    message = refused("local-permit", tmp_path)
    assert "$.profile.extends" in message and "cn-building-permit" in message
    assert all(known in message for known in [*PROCEDURES, "local-permit"])


def test_a_profile_changing_the_graph_breaks_its_schema(tmp_path: Path) -> None:
    write(tmp_path, "local-permit", "cn-construction-permit", "  decision: {outcomes: {}}\n")
    assert "$.overrides.decision" in refused("local-permit", tmp_path)


def test_profiles_extending_each_other_in_a_circle_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a-permit", "b-permit", "  decision: {deadline_working_days: 3}\n")
    write(tmp_path, "b-permit", "a-permit", "  decision: {deadline_working_days: 3}\n")
    message = refused("a-permit", tmp_path)
    assert "循环继承" in message and "a-permit → b-permit → a-permit" in message


def test_a_profile_whose_id_is_not_its_file_name_is_refused(tmp_path: Path) -> None:
    write(
        tmp_path,
        "local-permit",
        "cn-construction-permit",
        "  decision: {deadline_working_days: 3}\n",
    )
    (tmp_path / "local-permit.yaml").rename(tmp_path / "other-permit.yaml")
    assert "$.profile.id" in refused("other-permit", tmp_path)


def test_a_file_may_not_take_the_id_of_a_shipped_procedure(tmp_path: Path) -> None:
    write(
        tmp_path,
        "cn-construction-permit",
        "cn-land-use-permit",
        "  decision: {deadline_working_days: 3}\n",
    )
    assert "与内置流程“cn-construction-permit”同名" in refused("cn-construction-permit", tmp_path)


def test_an_unknown_id_is_not_found_and_the_known_ones_are_listed(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError) as caught:
        workflow_by_id("cn-building-permit", tmp_path)
    assert "cn-construction-permit" in caught.value.render("zh")


def test_a_province_may_keep_a_whole_procedure_of_its_own_in_the_folder(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "src/guotu/workflows/cn-land-use-permit.yaml").read_text(
        encoding="utf-8"
    )
    (tmp_path / "local-land-use.yaml").write_text(
        text.replace("id: cn-land-use-permit", "id: local-land-use"), encoding="utf-8"
    )
    flow = workflow_by_id("local-land-use", tmp_path)
    assert flow.id == "local-land-use" and flow.extends is None
