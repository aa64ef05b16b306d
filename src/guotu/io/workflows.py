"""Reading workflow definitions (审批流程定义) and their profiles (地方配置) from YAML.

A definition is read with the capped safe loader, checked against the ``workflow-v1`` schema,
then by the graph checks of :func:`guotu.domain.workflow.definition.parse_workflow`; every
problem with its YAML path. The national example procedures ship in ``guotu/workflows``
(:func:`shipped_workflows`); a province's profile (``workflow-profile-v1``: ``profile:
{extends: <id>}`` and ``overrides`` per stage) is layered over the procedure it extends by
:func:`guotu.domain.workflow.definition.apply_profile`. :func:`workflow_by_id` finds either
kind by id, in the package or in a folder of profiles (``<id>.yaml``).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

from guotu.domain.core.documents import (
    WORKFLOW,
    WORKFLOW_PROFILE,
    DocumentProblem,
    document_error,
)
from guotu.domain.workflow.definition import Workflow, apply_profile, parse_workflow
from guotu.errors import ConfigError, NotFoundError
from guotu.io.safe_yaml import YamlSource
from guotu.io.yaml_documents import load_document, read_document, schema_problems

__all__ = ["load_workflow", "shipped_workflows", "workflow_by_id"]

_SUFFIX = ".yaml"


def load_workflow(source: YamlSource) -> Workflow:
    """The checked :class:`~guotu.domain.workflow.definition.Workflow` at ``source`` (a path,
    or ``(name, text)``).

    Raises
    ------
    ConfigError
        The file is refused, breaks the schema, or its graph has problems (all listed).

    Examples
    --------
    >>> load_workflow(("t.yaml", '''
    ... schema_version: 1
    ... id: t
    ... name_zh: 测试
    ... name_en: test
    ... start: a
    ... stages:
    ...   - {id: a, name_zh: 受理, kind: intake, deadline_working_days: 5, outcomes: {done: z}}
    ...   - {id: z, name_zh: 办结, kind: end}
    ... ''')).stages["a"].deadline_working_days
    5
    """
    name, data = load_document(source, WORKFLOW)
    return parse_workflow(name, data)


def shipped_workflows() -> list[str]:
    """The ids of the procedures and example profiles shipped in the package, sorted.

    Examples
    --------
    >>> "cn-construction-permit" in shipped_workflows()
    True
    """
    folder = files("guotu") / "workflows"
    return sorted(
        p.name.removesuffix(_SUFFIX) for p in folder.iterdir() if p.name.endswith(_SUFFIX)
    )


def _local_ids(profiles_dir: Path | None) -> list[str]:
    if profiles_dir is None or not profiles_dir.is_dir():
        return []
    return sorted(p.name.removesuffix(_SUFFIX) for p in profiles_dir.glob(f"*{_SUFFIX}"))


def _source(workflow_id: str, profiles_dir: Path | None) -> YamlSource | None:
    """The document of ``workflow_id``: in ``profiles_dir`` or shipped (``None``: neither)."""
    shipped = workflow_id in shipped_workflows()
    if workflow_id in _local_ids(profiles_dir):
        local = Path(profiles_dir or ".") / f"{workflow_id}{_SUFFIX}"
        if shipped:
            raise ConfigError(
                f"{local} uses the id {workflow_id!r} of a shipped procedure.",
                file=str(local),
                fix="Give the profile its own id and file name, and extend the shipped one.",
                message_zh=f"{local} 与内置流程“{workflow_id}”同名。",
                fix_zh="请给地方配置另起 id 和文件名，并以 extends 继承内置流程。",
            )
        return local
    if shipped:
        name = f"guotu/workflows/{workflow_id}{_SUFFIX}"
        return name, (files("guotu") / "workflows" / f"{workflow_id}{_SUFFIX}").read_bytes()
    return None


def _known(profiles_dir: Path | None) -> list[str]:
    return sorted({*shipped_workflows(), *_local_ids(profiles_dir)})


def _read(source: YamlSource) -> tuple[str, Any, bool]:
    """(name, document, whether it is a profile); a document breaking its schema is refused."""
    name, data, problems = read_document(source, WORKFLOW)
    if isinstance(data, dict) and "profile" in data:
        problems = schema_problems(name, data, WORKFLOW_PROFILE)
        if problems:
            raise document_error(WORKFLOW_PROFILE, name, problems)
        return name, data, True
    if problems:
        raise document_error(WORKFLOW, name, problems)
    return name, data, False


def _resolve(workflow_id: str, profiles_dir: Path | None, seen: tuple[str, ...]) -> Workflow:
    source = _source(workflow_id, profiles_dir)
    if source is None:
        known = _known(profiles_dir)
        raise NotFoundError(
            f"There is no workflow {workflow_id!r}.",
            fix=f"Give one of: {', '.join(known)}.",
            message_zh=f"没有审批流程“{workflow_id}”。",
            fix_zh=f"请从以下流程中选择：{'、'.join(known)}。",
        )
    name, data, is_profile = _read(source)
    own_id = data["profile"]["id"] if is_profile else data["id"]
    if own_id != workflow_id:
        kind, where = (WORKFLOW_PROFILE, "$.profile.id") if is_profile else (WORKFLOW, "$.id")
        message = (
            f"id“{own_id}”与文件名“{workflow_id}{_SUFFIX}”不符 (the id must match the file name)"
        )
        raise document_error(kind, name, [DocumentProblem(name, where, message)])
    if not is_profile:
        return parse_workflow(name, data)
    extends = data["profile"]["extends"]
    if extends in (*seen, workflow_id):
        chain = " → ".join((*seen, workflow_id, extends))
        message = f"地方配置循环继承：{chain} (profiles extend each other in a circle)"
        raise document_error(
            WORKFLOW_PROFILE, name, [DocumentProblem(name, "$.profile.extends", message)]
        )
    if _source(extends, profiles_dir) is None:
        known = _known(profiles_dir)
        message = (
            f"没有可继承的流程“{extends}”，已有：{'、'.join(known)}"
            f" (no workflow {extends!r}; known: {', '.join(known)})"
        )
        raise document_error(
            WORKFLOW_PROFILE, name, [DocumentProblem(name, "$.profile.extends", message)]
        )
    base = _resolve(extends, profiles_dir, (*seen, workflow_id))
    return apply_profile(base, data, source=name)


def workflow_by_id(workflow_id: str, profiles_dir: Path | None = None) -> Workflow:
    """The checked procedure ``workflow_id``: a shipped one (:func:`shipped_workflows`), or a
    definition or profile ``<workflow_id>.yaml`` in ``profiles_dir``; a profile is layered
    over the procedure it extends (itself found the same way).

    Raises
    ------
    NotFoundError
        No such id; the message lists the known ones.
    ConfigError
        The document or a procedure it extends is refused (every problem with its YAML path):
        it breaks its schema or graph checks, its id is not its file name, it extends an
        unknown id (the known ones are listed), overrides a stage the procedure extended does
        not have (``$.overrides.<stage>``), profiles extend each other in a circle, or a file
        in ``profiles_dir`` takes the id of a shipped procedure.

    Examples
    --------
    >>> flow = workflow_by_id("sd-example-construction-permit")
    >>> flow.extends, flow.stages["issued"].issues, flow.stages["co_review"].departments
    ('cn-construction-permit', '建设工程规划许可证', ('zhujian', 'shengtai', 'gengdi'))
    """
    return _resolve(workflow_id, profiles_dir, ())
