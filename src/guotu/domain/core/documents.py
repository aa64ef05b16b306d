"""The documents users write as data, and the one way their problems are told.

Rule packs, check lists and indicator catalogues are YAML documents checked against a JSON
Schema (:mod:`guotu.io.yaml_documents` reads them) and then parsed into typed values by the
domain (:func:`guotu.domain.review.pack.parse_pack`, :func:`guotu.domain.checks.engine.
parse_check_list` …). Every problem found on the way, by the schema or by the parser, is a
:class:`DocumentProblem` naming the file and the JSON path; :func:`document_error` turns them
all into one error with one form of message, in Chinese and English, with the fix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from guotu.errors import ConfigError, InputError, RulePackError

__all__ = [
    "CHECK_LIST",
    "HOLIDAY_ARRANGEMENT",
    "INDICATOR_CATALOGUE",
    "RULE_PACK",
    "WORKFLOW",
    "WORKFLOW_PROFILE",
    "DocumentKind",
    "DocumentProblem",
    "document_error",
]


@dataclass(frozen=True)
class DocumentProblem:
    """One problem of a document: the file, the JSON path in it (``$.rules[0].operator``)
    and what is wrong there.

    Examples
    --------
    >>> str(DocumentProblem("p.yaml", "$.rules[0].id", "'x' is not a dotted lower-case id"))
    "p.yaml: $.rules[0].id: 'x' is not a dotted lower-case id"
    """

    file: str
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.path}: {self.message}"


@dataclass(frozen=True)
class DocumentKind:
    """What a kind of document is called, the schema it follows, where its format is
    described, the command that lists its problems (if any) and the error it raises."""

    name_zh: str
    name_en: str
    schema: str
    docs: str
    error: type[InputError] = ConfigError
    validate_command: str = ""


#: A rule pack or profile of the plan review (成果审查).
RULE_PACK = DocumentKind(
    "规则包", "rule pack", "rulepack-v1", "docs/review.md", RulePackError, "guotu rules validate"
)
#: A list of data-quality checks (质检).
CHECK_LIST = DocumentKind("质检清单", "check list", "checks-v1", "docs/quality_checks.md")
#: A workflow definition of an approval procedure (审批流程).
WORKFLOW = DocumentKind("审批流程定义", "workflow definition", "workflow-v1", "docs/workflows.md")
#: A province's or a city's profile of a shipped approval procedure (审批流程地方配置).
WORKFLOW_PROFILE = DocumentKind(
    "审批流程地方配置", "workflow profile", "workflow-profile-v1", "docs/workflows.md"
)
#: A catalogue of monitoring indicators (体检评估指标).
INDICATOR_CATALOGUE = DocumentKind(
    "指标目录", "indicator catalogue", "indicators-v1", "docs/monitoring.md"
)
#: A bureau's copy of the State Council's holiday arrangement (节假日安排) for years the
#: working-day calendar lacks (``guotu.io.working_days``).
HOLIDAY_ARRANGEMENT = DocumentKind(
    "节假日安排", "holiday arrangement", "calendar-v1", "docs/design/workflow-research.md"
)


def document_error(
    kind: DocumentKind, source: str, problems: Sequence[DocumentProblem]
) -> InputError:
    """One error listing every problem of a document, each with its file and JSON path.

    Examples
    --------
    >>> err = document_error(CHECK_LIST, "c.yaml", [DocumentProblem("c.yaml", "$.checks[0]",
    ...                                                             "'id' is a required property")])
    >>> print(err.render("zh"))
    质检清单 c.yaml 有 1 处问题：c.yaml: $.checks[0]: 'id' is a required property。解决办法：请逐条修改（格式见 docs/quality_checks.md，模式 checks-v1）。
    >>> print(err.render("en"))
    Check list c.yaml has 1 problem: c.yaml: $.checks[0]: 'id' is a required property. Fix: Correct each problem as docs/quality_checks.md (schema checks-v1) describes.
    """
    n = len(problems)
    listed = "; ".join(str(p) for p in problems)
    what = kind.name_en[:1].upper() + kind.name_en[1:]
    fix = f"Correct each problem as {kind.docs} (schema {kind.schema}) describes"
    fix_zh = f"请逐条修改（格式见 {kind.docs}，模式 {kind.schema}）"
    if kind.validate_command:
        fix += f"; {kind.validate_command} lists every problem"
        fix_zh += f"；{kind.validate_command} 会列出全部问题"
    return kind.error(
        f"{what} {source} has {n} problem{'s' if n != 1 else ''}: {listed}.",
        file=source,
        fix=f"{fix}.",
        message_zh=f"{kind.name_zh} {source} 有 {n} 处问题：{'；'.join(str(p) for p in problems)}。",
        fix_zh=f"{fix_zh}。",
    )
