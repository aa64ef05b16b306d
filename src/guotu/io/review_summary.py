"""What a plan-review report adds up to, as the report writers show it: the summary by rule
(one row per rule and severity, so a row never counts 提示 under 错误), the rules with their
legal basis, and page 1's 审查意见 (the conclusion and the largest conflicts). Read from the
:class:`~guotu.io.review_model.ReviewDocument`.
"""

from __future__ import annotations

from dataclasses import dataclass

from guotu.domain.core.findings import SEVERITY_ORDER, Severity
from guotu.io.review_labels import severity_text
from guotu.io.review_model import ReportFinding, ReportRule, ReviewDocument

__all__ = [
    "RuleBasis",
    "RuleSummary",
    "conclusion",
    "main_findings",
    "rule_basis_rows",
    "rule_rows",
]


@dataclass(frozen=True)
class RuleSummary:
    """One row of the summary by rule: a rule and one severity of its findings, their count
    and total area in m² (``None`` when none has an area)."""

    id: str
    title: str
    severity: Severity
    basis: str
    count: int
    area_m2: float | None


@dataclass(frozen=True)
class RuleBasis:
    """One row of the list of rules and their legal basis: the rule's declared severity and
    its findings as text (``count``: ``1``, or ``错误 1、提示 1``; ``count_lines``: one line
    per part)."""

    id: str
    title: str
    severity: Severity
    basis: str
    count: str
    count_lines: tuple[str, ...]


def _rank(severity: Severity) -> int:
    return SEVERITY_ORDER.index(severity)


def rule_rows(doc: ReviewDocument) -> list[RuleSummary]:
    """The summary by rule: one row per rule and severity of its findings, counted from the
    findings themselves.

    A rule whose findings all have its severity (or that has none) is one row; a rule with
    findings of another severity too (an error rule whose declared exemptions are 提示) has
    a row per severity, each with that severity's count and area only, so a row never
    counts 提示 under 错误. A rule that has findings but is not in ``doc.rules`` is added
    from its findings.

    Examples
    --------
    >>> E, I = Severity.ERROR, Severity.INFO
    >>> doc = ReviewDocument(rules=(ReportRule("a.b", severity=E),), findings=(
    ...     ReportFinding("a.b", E, area_m2=5.0), ReportFinding("a.b", I, area_m2=2.0)))
    >>> [(r.severity.value, r.count, r.area_m2) for r in rule_rows(doc)]
    [('error', 1, 5.0), ('info', 1, 2.0)]
    >>> [(r.id, r.count) for r in rule_rows(ReviewDocument(findings=(ReportFinding("c.d", E),)))]
    [('c.d', 1)]
    """
    rules: dict[str, ReportRule] = {r.id: r for r in doc.rules}
    groups: dict[tuple[str, Severity], list[ReportFinding]] = {}
    for f in doc.findings:
        rules.setdefault(f.rule, ReportRule(f.rule, f.title, f.severity, f.basis))
        groups.setdefault((f.rule, f.severity), []).append(f)
    rows = []
    for rid, rule in rules.items():
        severities = sorted((sev for r, sev in groups if r == rid), key=_rank)
        for sev in severities or [rule.severity]:
            found = groups.get((rid, sev), [])
            areas = [f.area_m2 for f in found if f.area_m2 is not None]
            rows.append(
                RuleSummary(
                    rule.id,
                    rule.title,
                    sev,
                    rule.basis,
                    len(found),
                    round(sum(areas), 2) if areas else None,
                )
            )
    return rows


def rule_basis_rows(doc: ReviewDocument) -> list[RuleBasis]:
    """One row per rule for the list of rules and their legal basis: id, title, declared
    severity, basis and the findings: a number when all have the rule's severity, else by
    severity (``错误 1、提示 1``).

    Examples
    --------
    >>> E, I = Severity.ERROR, Severity.INFO
    >>> doc = ReviewDocument(rules=(ReportRule("a.b", severity=E),), findings=(
    ...     ReportFinding("a.b", E), ReportFinding("a.b", I)))
    >>> [r.count for r in rule_basis_rows(doc)]
    ['错误 1、提示 1']
    """
    first: dict[str, RuleSummary] = {}
    parts: dict[str, list[tuple[Severity, int]]] = {}
    for row in rule_rows(doc):
        first.setdefault(row.id, row)
        if row.count:
            parts.setdefault(row.id, []).append((row.severity, row.count))
    declared = {r.id: r.severity for r in doc.rules}
    sep = ", " if doc.is_english else "、"
    out = []
    for rid, row in first.items():
        found = parts.get(rid, [])
        severity = declared.get(rid, row.severity)
        lines: tuple[str, ...]
        if all(sev == severity for sev, _ in found):
            lines = (str(sum(n for _, n in found)),)
        else:
            lines = tuple(f"{severity_text(doc, sev)} {n}" for sev, n in found)
        out.append(RuleBasis(rid, row.title, severity, row.basis, sep.join(lines), lines))
    return out


def conclusion(doc: ReviewDocument) -> tuple[str, str]:
    """The review's conclusion: ``fail`` (不通过) with any error, ``revise`` (需修改) with
    warnings only, else ``pass`` (通过); and one sentence saying why and what follows.

    Examples
    --------
    >>> conclusion(ReviewDocument(findings=(ReportFinding("a.b", Severity.WARNING),
    ...                                     ReportFinding("a.b", Severity.INFO))))
    ('revise', '未发现错误；有 1 项警告，须修改或说明理由后报审。另有 1 项提示，请核实相关申报材料。')
    >>> conclusion(ReviewDocument(lang="en"))
    ('pass', 'No errors or warnings were found.')
    """
    counts = doc.severity_counts()
    errors, warnings, infos = (counts[s.value] for s in SEVERITY_ORDER)
    en = doc.is_english
    if errors:
        verdict = "fail"
        said = (
            f"{errors} errors were found; the plan must be changed as set out below and "
            "submitted again."
            if en
            else f"发现 {errors} 项错误，须按下列要求修改后重新报审。"
        )
        if warnings:
            said += (
                f" {warnings} warnings need a change or a written reason."
                if en
                else f"另有 {warnings} 项警告，须修改或说明理由。"
            )
    elif warnings:
        verdict = "revise"
        said = (
            f"No errors; {warnings} warnings need a change or a written reason before submission."
            if en
            else f"未发现错误；有 {warnings} 项警告，须修改或说明理由后报审。"
        )
    else:
        verdict = "pass"
        said = "No errors or warnings were found." if en else "未发现错误和警告，审查通过。"
    if infos:
        said += (
            f" {infos} notes ask to check the declared documents."
            if en
            else f"另有 {infos} 项提示，请核实相关申报材料。"
        )
    return verdict, said


def main_findings(
    doc: ReviewDocument, limit: int = 5
) -> tuple[list[tuple[int, ReportFinding]], int]:
    """The ``limit`` largest errors and warnings by area (those without an area last, errors
    before warnings), each with its number in the findings table; and how many are left.

    Examples
    --------
    >>> E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO
    >>> doc = ReviewDocument(findings=(ReportFinding("a", E, area_m2=5.0), ReportFinding("b", I),
    ...                                ReportFinding("c", W, area_m2=9.0), ReportFinding("d", E)))
    >>> [no for no, _ in main_findings(doc, 2)[0]], main_findings(doc, 2)[1]
    ([3, 1], 1)
    """
    rank = {Severity.ERROR: 0, Severity.WARNING: 1}
    chosen = [(no, f) for no, f in enumerate(doc.findings, start=1) if f.severity in rank]
    chosen.sort(
        key=lambda p: (
            p[1].area_m2 is None,
            -(p[1].area_m2 or 0.0),
            rank[p[1].severity],
            p[0],
        )
    )
    return chosen[:limit], max(len(chosen) - limit, 0)
