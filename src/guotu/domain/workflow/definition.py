"""A procedure as data: its stages, who acts, deadlines in working days, and where each outcome
leads; checked as a graph before any case may use it.

The JSON Schema (``guotu/schemas/workflow-v1.json``) checks the shape; :func:`parse_workflow`
checks what a schema cannot, each problem with its YAML path:

* an outcome leading to a stage that does not exist;
* a stage no path from ``start`` reaches (a stage nobody can ever act in);
* a stage that is not an ``end`` without a deadline, or without any outcome (a case would
  wait there for ever), and an ``end`` that has either;
* a loop with no way out: stages that lead only to each other, never to an ``end`` (a case
  that enters them can never close). A loop with an exit (补正 and back) is normal;
* a ``co_review`` without departments, an ``automatic`` stage without its action.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from guotu.domain.core.documents import WORKFLOW, DocumentProblem, document_error

__all__ = ["LegalBasis", "Stage", "Workflow", "parse_workflow"]


@dataclass(frozen=True)
class LegalBasis:
    """A law, regulation or notice a procedure or stage rests on; ``verified`` says whether
    it was checked against the official text."""

    document: str
    article: str = ""
    verified: bool = False


@dataclass(frozen=True)
class Stage:
    """One stage of a procedure."""

    id: str
    name_zh: str
    kind: str
    deadline_working_days: int | None = None
    outcomes: Mapping[str, str] = field(default_factory=dict)
    role: str | None = None
    department: str | None = None
    departments: tuple[str, ...] = ()
    parallel: bool = True
    action: str | None = None
    issues: str | None = None
    legal_basis: tuple[LegalBasis, ...] = ()

    @property
    def is_end(self) -> bool:
        """Whether a case is closed here."""
        return self.kind == "end"


@dataclass(frozen=True)
class Workflow:
    """A checked procedure: every stage reachable from ``start``, every loop with an exit."""

    id: str
    name_zh: str
    name_en: str
    start: str
    stages: Mapping[str, Stage]
    legal_basis: tuple[LegalBasis, ...] = ()

    def next_stage(self, stage: str, outcome: str) -> Stage | None:
        """Where ``outcome`` of ``stage`` leads (``None``: not an outcome of that stage)."""
        target = self.stages[stage].outcomes.get(outcome)
        return None if target is None else self.stages[target]


def _bases(items: Any) -> tuple[LegalBasis, ...]:
    return tuple(
        LegalBasis(b["document"], b.get("article", ""), bool(b["verified"])) for b in items or ()
    )


def _stage(raw: Mapping[str, Any]) -> Stage:
    actor = raw.get("actor") or {}
    return Stage(
        id=raw["id"],
        name_zh=raw["name_zh"],
        kind=raw["kind"],
        deadline_working_days=raw.get("deadline_working_days"),
        outcomes=dict(raw.get("outcomes") or {}),
        role=actor.get("role"),
        department=actor.get("department"),
        departments=tuple(raw.get("departments") or ()),
        parallel=bool(raw.get("parallel", True)),
        action=raw.get("action"),
        issues=raw.get("issues"),
        legal_basis=_bases(raw.get("legal_basis")),
    )


def _stage_problems(source: str, index: int, s: Stage) -> list[DocumentProblem]:
    at = f"$.stages[{index}]"
    out = []

    def say(where: str, zh: str, en: str) -> None:
        out.append(DocumentProblem(source, where, f"{zh} ({en})"))

    if s.is_end:
        if s.deadline_working_days is not None:
            say(
                f"{at}.deadline_working_days",
                "办结环节（end）不设期限",
                "an end stage has no deadline",
            )
        if s.outcomes:
            say(f"{at}.outcomes", "办结环节（end）没有去向", "an end stage has no outcomes")
        return out
    if s.deadline_working_days is None:
        say(at, f"环节“{s.id}”缺少期限（deadline_working_days，工作日）", "no deadline")
    if not s.outcomes:
        say(at, f"环节“{s.id}”没有任何去向（outcomes），案件将停在此处", "no outcomes")
    if s.kind == "co_review" and not s.departments:
        say(at, f"会审环节“{s.id}”须列出参加会审的部门（departments）", "no departments")
    if s.kind == "automatic" and s.action is None:
        say(at, f"自动环节“{s.id}”须写明动作（action）", "no action")
    return out


def _reachable(start: str, edges: Mapping[str, set[str]]) -> set[str]:
    seen, todo = {start}, [start]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return seen


def parse_workflow(source: str, data: Mapping[str, Any]) -> Workflow:
    """The :class:`Workflow` a schema-checked document describes.

    Raises
    ------
    ConfigError
        Every problem of the graph at once, each with its YAML path (the one form of
        :func:`~guotu.domain.core.documents.document_error`).

    Examples
    --------
    >>> doc = {"id": "t", "name_zh": "测试", "name_en": "test", "start": "a", "stages": [
    ...     {"id": "a", "name_zh": "受理", "kind": "intake", "deadline_working_days": 5,
    ...      "outcomes": {"done": "z"}},
    ...     {"id": "z", "name_zh": "办结", "kind": "end"}]}
    >>> parse_workflow("t.yaml", doc).next_stage("a", "done").name_zh
    '办结'
    """
    stages = [_stage(s) for s in data["stages"]]
    problems: list[DocumentProblem] = []
    by_id: dict[str, Stage] = {}
    index: dict[str, int] = {}
    for i, s in enumerate(stages):
        if s.id in by_id:
            problems.append(
                DocumentProblem(
                    source, f"$.stages[{i}].id", f"环节“{s.id}”重复 (duplicate stage id)"
                )
            )
            continue
        by_id[s.id], index[s.id] = s, i
        problems += _stage_problems(source, i, s)
    if data["start"] not in by_id:
        problems.append(
            DocumentProblem(source, "$.start", f"起始环节“{data['start']}”不存在 (no such stage)")
        )
    edges: dict[str, set[str]] = {}
    for s in by_id.values():
        for outcome, target in s.outcomes.items():
            if target not in by_id:
                where = f"$.stages[{index[s.id]}].outcomes.{outcome}"
                problems.append(
                    DocumentProblem(source, where, f"去向环节“{target}”不存在 (no such stage)")
                )
            else:
                edges.setdefault(s.id, set()).add(target)
    if data["start"] in by_id:
        reached = _reachable(data["start"], edges)
        for s in by_id.values():
            if s.id not in reached:
                where = f"$.stages[{index[s.id]}]"
                problems.append(
                    DocumentProblem(
                        source, where, f"环节“{s.id}”从起始环节无法到达 (unreachable from start)"
                    )
                )
        ends = {s.id for s in by_id.values() if s.is_end}
        for sid in sorted(reached, key=index.__getitem__):
            if not ends & _reachable(sid, edges) and not by_id[sid].is_end:
                where = f"$.stages[{index[sid]}]"
                problems.append(
                    DocumentProblem(
                        source,
                        where,
                        f"环节“{sid}”所在的循环没有出口，案件无法办结 (a loop without an exit)",
                    )
                )
    if problems:
        raise document_error(WORKFLOW, source, problems)
    return Workflow(
        id=data["id"],
        name_zh=data["name_zh"],
        name_en=data["name_en"],
        start=data["start"],
        stages=by_id,
        legal_basis=_bases(data.get("legal_basis")),
    )
