"""Reading a workflow definition (审批流程定义) from YAML: the capped safe loader, the
``workflow-v1`` schema, then the graph checks of
:func:`guotu.domain.workflow.definition.parse_workflow`; every problem with its YAML path."""

from __future__ import annotations

from guotu.domain.core.documents import WORKFLOW
from guotu.domain.workflow.definition import Workflow, parse_workflow
from guotu.io.safe_yaml import YamlSource
from guotu.io.yaml_documents import load_document

__all__ = ["load_workflow"]


def load_workflow(source: YamlSource) -> Workflow:
    """The checked :class:`~guotu.domain.workflow.definition.Workflow` at ``source`` (a path,
    or ``(name, text)``).

    Raises
    ------
    ConfigError
        The file is refused, breaks the schema, or its graph has problems (all listed).
    """
    name, data = load_document(source, WORKFLOW)
    return parse_workflow(name, data)
