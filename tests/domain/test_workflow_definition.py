"""Workflow definitions (``guotu.domain.workflow.definition``, ``guotu.io.workflows``): a
procedure made for the test with parallel co-review, a rejection path and a 补正 loop loads;
every kind of broken graph is refused with the YAML path of each problem."""

from __future__ import annotations

import pytest

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


def load(text: str):
    return load_workflow(("flow.yaml", text))


def refused(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load(text)
    return caught.value.render("zh").split("；")


def test_a_procedure_with_co_review_rejection_and_a_supplement_loop_loads() -> None:
    flow = load(GOOD)
    assert flow.start == "intake" and len(flow.stages) == 7
    assert flow.next_stage("intake", "supplement").id == "supplement"
    assert flow.next_stage("supplement", "done").id == "intake"  # a loop with an exit
    assert flow.next_stage("decision", "approved").is_end
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
