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

A *profile* (a province's or a city's own version of a procedure) names the procedure it
extends and overrides, per stage, what a province may set: the co-review departments, the
deadline, the actor, the legal basis and the materials. The graph itself (stages and
outcomes) stays the national one, so a case engine drives every profile the same way;
:func:`apply_profile` gives the effective procedure, refusing an override of a stage the
procedure does not have with the YAML path (``$.overrides.<stage>``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from guotu.domain.core.documents import (
    WORKFLOW,
    WORKFLOW_PROFILE,
    DocumentProblem,
    document_error,
)

__all__ = [
    "LegalBasis",
    "Material",
    "Stage",
    "Workflow",
    "apply_profile",
    "parse_workflow",
    "workflow_data",
]


@dataclass(frozen=True)
class LegalBasis:
    """A law, regulation or notice a procedure or stage rests on; ``verified`` says whether
    it was checked against the official text."""

    document: str
    article: str = ""
    verified: bool = False


@dataclass(frozen=True)
class Material:
    """A material (申请材料) handed in at a stage: its name, the file types accepted (``pdf``,
    ``dwg`` …; empty: any) and whether the stage needs it."""

    name_zh: str
    types: tuple[str, ...] = ()
    required: bool = True


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
    materials: tuple[Material, ...] = ()
    name_en: str = ""

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
    #: The procedure a profile extends (``None``: not a profile).
    extends: str | None = None

    def next_stage(self, stage: str, outcome: str) -> Stage | None:
        """Where ``outcome`` of ``stage`` leads (``None``: not an outcome of that stage)."""
        target = self.stages[stage].outcomes.get(outcome)
        return None if target is None else self.stages[target]


def _bases(items: Any) -> tuple[LegalBasis, ...]:
    return tuple(
        LegalBasis(b["document"], b.get("article", ""), bool(b["verified"])) for b in items or ()
    )


def _materials(items: Any) -> tuple[Material, ...]:
    return tuple(
        Material(m["name_zh"], tuple(m.get("types") or ()), bool(m.get("required", True)))
        for m in items or ()
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
        materials=_materials(raw.get("materials")),
        name_en=raw.get("name_en", ""),
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


def _override_problems(
    source: str, where: str, stage: Stage, entry: Mapping[str, Any]
) -> list[DocumentProblem]:
    out = []
    if "departments" in entry and stage.kind != "co_review":
        out.append(
            DocumentProblem(
                source,
                f"{where}.departments",
                f"环节“{stage.id}”不是会审环节（co_review），不设参加部门"
                f" (stage {stage.id!r} is a {stage.kind} stage, not a co_review)",
            )
        )
    for key in ("deadline_working_days", "actor"):
        if key in entry and stage.is_end:
            out.append(
                DocumentProblem(
                    source,
                    f"{where}.{key}",
                    f"办结环节“{stage.id}”不设期限和办理人 (an end stage has no deadline or actor)",
                )
            )
    return out


def _overridden(stage: Stage, entry: Mapping[str, Any]) -> Stage:
    changes: dict[str, Any] = {}
    if "departments" in entry:
        changes["departments"] = tuple(entry["departments"])
    if "deadline_working_days" in entry:
        changes["deadline_working_days"] = entry["deadline_working_days"]
    if "actor" in entry:
        changes["role"] = entry["actor"].get("role")
        changes["department"] = entry["actor"].get("department")
    if "legal_basis" in entry:
        changes["legal_basis"] = _bases(entry["legal_basis"])
    if "materials" in entry:
        changes["materials"] = _materials(entry["materials"])
    return replace(stage, **changes)


def apply_profile(base: Workflow, data: Mapping[str, Any], *, source: str) -> Workflow:
    """The procedure a schema-checked profile document makes of ``base``.

    Each entry of ``overrides`` names a stage of ``base`` and replaces what it gives of
    ``departments``, ``deadline_working_days``, ``actor``, ``legal_basis`` and ``materials``
    (a list is replaced whole, not merged); the stages and outcomes stay those of ``base``.
    The profile's ``id`` and
    ``name_zh`` (and ``name_en`` if given) name the result, whose ``extends`` is ``base.id``.

    Raises
    ------
    ConfigError
        Every problem at once, each with its YAML path: ``$.profile.extends`` not naming
        ``base``, an override of a stage ``base`` does not have (``$.overrides.<stage>``),
        departments for a stage that is not a co-review, a deadline or actor for an end stage.

    Examples
    --------
    >>> doc = {"id": "t", "name_zh": "测试", "name_en": "test", "start": "a", "stages": [
    ...     {"id": "a", "name_zh": "受理", "kind": "intake", "deadline_working_days": 5,
    ...      "outcomes": {"done": "z"}},
    ...     {"id": "z", "name_zh": "办结", "kind": "end"}]}
    >>> base = parse_workflow("t.yaml", doc)
    >>> local = apply_profile(base, {"profile": {"id": "p", "extends": "t", "name_zh": "示例"},
    ...     "overrides": {"a": {"deadline_working_days": 3}}}, source="p.yaml")
    >>> local.id, local.extends, local.stages["a"].deadline_working_days
    ('p', 't', 3)
    >>> apply_profile(base, {"profile": {"id": "p", "extends": "t", "name_zh": "示例"},
    ...     "overrides": {"b": {"deadline_working_days": 3}}}, source="p.yaml")
    Traceback (most recent call last):
    ...
    guotu.errors.ConfigError: Workflow profile p.yaml has 1 problem: p.yaml: $.overrides.b: ...
    """
    head = data["profile"]
    problems: list[DocumentProblem] = []
    if head["extends"] != base.id:
        problems.append(
            DocumentProblem(
                source,
                "$.profile.extends",
                f"地方配置继承“{head['extends']}”，但所给流程是“{base.id}”"
                f" (the profile extends {head['extends']!r}, the procedure given is {base.id!r})",
            )
        )
    stages = dict(base.stages)
    for sid, entry in (data.get("overrides") or {}).items():
        where = f"$.overrides.{sid}"
        if sid not in stages:
            known = "、".join(stages)
            problems.append(
                DocumentProblem(
                    source,
                    where,
                    f"流程“{base.id}”没有环节“{sid}”，可覆盖的环节：{known}"
                    f" (no stage {sid!r} in {base.id}; its stages: {', '.join(stages)})",
                )
            )
            continue
        found = _override_problems(source, where, stages[sid], entry)
        problems += found
        if not found:
            stages[sid] = _overridden(stages[sid], entry)
    if problems:
        raise document_error(WORKFLOW_PROFILE, source, problems)
    return replace(
        base,
        id=head["id"],
        name_zh=head["name_zh"],
        name_en=head.get("name_en", base.name_en),
        stages=stages,
        extends=base.id,
    )


def _basis_data(bases: tuple[LegalBasis, ...]) -> list[dict[str, Any]]:
    return [{"document": b.document, "article": b.article, "verified": b.verified} for b in bases]


def workflow_data(flow: Workflow) -> dict[str, Any]:
    """The ``workflow-v1`` document of ``flow`` (a profile already applied), which
    :func:`parse_workflow` reads back as the same procedure: what a case keeps of the
    procedure it was accepted under.

    Examples
    --------
    >>> doc = {"schema_version": 1, "id": "t", "name_zh": "测试", "name_en": "test",
    ...     "start": "a", "stages": [
    ...     {"id": "a", "name_zh": "受理", "kind": "intake", "deadline_working_days": 5,
    ...      "outcomes": {"done": "z"}, "actor": {"role": "clerk"}},
    ...     {"id": "z", "name_zh": "办结", "kind": "end"}]}
    >>> flow = parse_workflow("t.yaml", doc)
    >>> parse_workflow("case", workflow_data(flow)) == flow
    True
    """
    stages = []
    for s in flow.stages.values():
        raw: dict[str, Any] = {"id": s.id, "name_zh": s.name_zh, "kind": s.kind}
        if s.name_en:
            raw["name_en"] = s.name_en
        if s.role is not None:
            raw["actor"] = {"role": s.role}
            if s.department is not None:
                raw["actor"]["department"] = s.department
        if s.departments:
            raw["departments"] = list(s.departments)
            raw["parallel"] = s.parallel
        if s.deadline_working_days is not None:
            raw["deadline_working_days"] = s.deadline_working_days
        for key in ("action", "issues"):
            if getattr(s, key) is not None:
                raw[key] = getattr(s, key)
        if s.materials:
            raw["materials"] = [
                {"name_zh": m.name_zh, "types": list(m.types), "required": m.required}
                for m in s.materials
            ]
        if s.legal_basis:
            raw["legal_basis"] = _basis_data(s.legal_basis)
        if s.outcomes:
            raw["outcomes"] = dict(s.outcomes)
        stages.append(raw)
    return {
        "schema_version": 1,
        "id": flow.id,
        "name_zh": flow.name_zh,
        "name_en": flow.name_en,
        "legal_basis": _basis_data(flow.legal_basis),
        "start": flow.start,
        "stages": stages,
    }
