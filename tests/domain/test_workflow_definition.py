"""Workflow definitions (``guotu.domain.workflow.definition``, ``guotu.io.workflows``): a
procedure made for the test with parallel co-review, a rejection path and a 补正 loop loads;
every kind of broken graph is refused with the YAML path of each problem; a profile replaces
what it names in the stages it names, and nothing else."""

from __future__ import annotations

from typing import Any

import pytest

from guotu.domain.workflow.definition import LegalBasis, Material, Workflow, apply_profile
from guotu.errors import ConfigError
from guotu.io.workflows import load_workflow

GOOD = """
schema_version: 1
id: test-permit
name_zh: 测试许可
name_en: test permit
legal_basis:
  - {document: 中华人民共和国行政许可法, article: 第四十二条, verified: false}
start: intake
stages:
  - id: intake
    name_zh: 窗口受理
    kind: intake
    actor: {role: reviewer, department: chuangkou}
    deadline_working_days: 5
    materials:
      - {name_zh: 申请表, types: [pdf], required: true}
    outcomes: {done: auto_review, supplement: supplement}
  - id: supplement
    name_zh: 补正
    kind: task
    deadline_working_days: 10
    outcomes: {done: intake, rejected: closed}
  - id: auto_review
    name_zh: 规划符合性自动审查
    kind: automatic
    action: review_project
    deadline_working_days: 1
    outcomes: {compliant: co_review, non_compliant: supplement}
  - id: co_review
    name_zh: 并联审查
    kind: co_review
    departments: [fagai, zhujian, shengtai]
    parallel: true
    deadline_working_days: 10
    outcomes: {approved: decision, conditional: decision, rejected: closed}
  - id: decision
    name_zh: 审批决定
    kind: decision
    actor: {role: approver}
    deadline_working_days: 3
    issues: 许可证
    outcomes: {approved: issued, rejected: closed}
  - id: issued
    name_zh: 已发证
    kind: end
  - id: closed
    name_zh: 不予许可
    kind: end
"""


def load(text: str) -> Workflow:
    return load_workflow(("flow.yaml", text))


def refused(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(text)
    return caught.value.render("zh").split("；")


def test_a_procedure_with_co_review_rejection_and_a_supplement_loop_loads() -> None:
    flow = load(GOOD)
    assert flow.start == "intake" and len(flow.stages) == 7
    assert flow.next_stage("intake", "supplement") == flow.stages["supplement"]
    assert flow.next_stage("supplement", "done") == flow.stages["intake"]  # a loop with an exit
    assert flow.next_stage("decision", "approved") == flow.stages["issued"]
    assert flow.stages["issued"].is_end
    assert flow.next_stage("decision", "supplement") is None
    assert flow.stages["co_review"].departments == ("fagai", "zhujian", "shengtai")
    assert flow.stages["auto_review"].action == "review_project"
    assert [b.verified for b in flow.legal_basis] == [False]


def test_an_unknown_stage_is_named_with_its_path() -> None:
    text = GOOD.replace(
        "outcomes: {approved: issued, rejected: closed}",
        "outcomes: {approved: isued, rejected: closed}",
    )
    (problem,) = [p for p in refused(text) if "isued" in p]
    assert "$.stages[4].outcomes.approved" in problem and "去向环节“isued”不存在" in problem


def test_an_unreachable_stage_is_refused() -> None:
    text = (
        GOOD
        + "  - {id: orphan, name_zh: 孤立环节, kind: task, deadline_working_days: 2, outcomes: {done: closed}}\n"
    )
    problems = refused(text)
    assert any("$.stages[7]" in p and "从起始环节无法到达" in p for p in problems)


def test_a_missing_deadline_is_refused() -> None:
    text = GOOD.replace("    deadline_working_days: 3\n", "")
    problems = refused(text)
    assert any("$.stages[4]" in p and "缺少期限" in p for p in problems)


def test_a_loop_without_an_exit_is_refused() -> None:
    text = GOOD.replace(
        "outcomes: {done: intake, rejected: closed}", "outcomes: {done: intake}"
    ).replace(
        "outcomes: {done: auto_review, supplement: supplement}",
        "outcomes: {supplement: supplement}",
    )
    problems = refused(text)
    loops = [p for p in problems if "循环没有出口" in p]
    assert len(loops) == 2 and any("$.stages[0]" in p for p in loops)
    assert any("$.stages[1]" in p for p in loops)


def test_the_schema_and_the_stage_rules_are_checked() -> None:
    assert any(
        "$.stages[3]" in p for p in refused(GOOD.replace("kind: co_review", "kind: huishen"))
    )
    problems = refused(GOOD.replace("    departments: [fagai, zhujian, shengtai]\n", ""))
    assert any("须列出参加会审的部门" in p for p in problems)
    problems = refused(GOOD.replace("    action: review_project\n", ""))
    assert any("须写明动作" in p for p in problems)
    problems = refused(GOOD.replace("start: intake", "start: nowhere"))
    assert any("$.start" in p and "起始环节“nowhere”不存在" in p for p in problems)


def test_materials_and_english_names_are_read() -> None:
    text = GOOD.replace(
        "      - {name_zh: 申请表, types: [pdf], required: true}\n",
        "      - {name_zh: 申请表, types: [pdf], required: true}\n"
        "      - {name_zh: 设计方案, types: [dwg, pdf]}\n"
        "      - {name_zh: 授权委托书, required: false}\n",
    ).replace("    name_zh: 窗口受理\n", "    name_zh: 窗口受理\n    name_en: Intake\n")
    flow = load(text)
    assert flow.stages["intake"].materials == (
        Material("申请表", ("pdf",), True),
        Material("设计方案", ("dwg", "pdf"), True),  # required unless it says otherwise
        Material("授权委托书", (), False),  # no types: any file
    )
    assert flow.stages["intake"].name_en == "Intake"
    assert flow.stages["decision"].name_en == "" and flow.stages["decision"].materials == ()
    assert flow.extends is None


def test_a_material_with_an_unknown_key_breaks_the_schema() -> None:
    text = GOOD.replace("required: true}", "required: true, copies: 2}")
    assert any("$.stages[0].materials[0]" in p for p in refused(text))


# A profile layered over the procedure made for the test (guotu.domain.workflow.definition.apply_profile).
def profile(overrides: dict[str, Any], extends: str = "test-permit") -> dict[str, Any]:
    return {
        "schema_version": 1,
        "profile": {"id": "local-permit", "extends": extends, "name_zh": "地方测试许可"},
        "overrides": overrides,
    }


def profile_refused(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        apply_profile(load(GOOD), data, source="local.yaml")
    return caught.value.render("zh").split("；")


def test_a_profile_replaces_what_it_names_and_keeps_the_rest() -> None:
    base = load(GOOD)
    local = apply_profile(
        base,
        profile(
            {
                "co_review": {"departments": ["zhujian", "gengdi"], "deadline_working_days": 7},
                "intake": {
                    "actor": {"role": "clerk"},
                    "materials": [{"name_zh": "申请书", "types": ["pdf", "ofd"]}],
                    "legal_basis": [{"document": "示例省条例（示例）", "verified": False}],
                },
            }
        ),
        source="local.yaml",
    )
    assert (local.id, local.name_zh, local.name_en, local.extends) == (
        "local-permit",
        "地方测试许可",
        "test permit",  # no name_en in the profile: the base's
        "test-permit",
    )
    co = local.stages["co_review"]
    assert co.departments == ("zhujian", "gengdi") and co.deadline_working_days == 7
    assert co.outcomes == base.stages["co_review"].outcomes
    intake = local.stages["intake"]
    assert (intake.role, intake.department) == ("clerk", None)  # the actor is replaced whole
    assert intake.materials == (Material("申请书", ("pdf", "ofd")),)
    assert intake.legal_basis == (LegalBasis("示例省条例（示例）", "", False),)
    assert local.stages["decision"] == base.stages["decision"]  # not named: unchanged
    assert base.stages["co_review"].deadline_working_days == 10  # the base is not touched


def test_a_profile_overriding_an_unknown_stage_is_refused_with_its_path() -> None:
    problems = profile_refused(profile({"co_reveiw": {"deadline_working_days": 7}}))
    (problem,) = [p for p in problems if "$.overrides" in p]
    assert "$.overrides.co_reveiw" in problem and "没有环节“co_reveiw”" in problem
    assert "co_review" in problem  # the stages it could have meant are listed


def test_a_profile_for_another_procedure_is_refused() -> None:
    problems = profile_refused(profile({}, extends="other-permit"))
    assert any("$.profile.extends" in p and "other-permit" in p for p in problems)


def test_a_profile_may_not_give_what_a_stage_of_its_kind_does_not_have() -> None:
    problems = profile_refused(
        profile(
            {
                "decision": {"departments": ["fagai"]},  # not a co-review
                "issued": {"deadline_working_days": 3},  # an end stage
            }
        )
    )
    assert any("$.overrides.decision.departments" in p and "不是会审环节" in p for p in problems)
    assert any("$.overrides.issued.deadline_working_days" in p for p in problems)
