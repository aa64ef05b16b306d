"""What a plan-review report adds up to, as the report writers show it: the findings per
severity, the summary by rule (one row per rule and severity, so a row never counts 提示 under
错误), the rules with their legal basis, and page 1's 审查意见 (the conclusion and the largest
conflicts). Read from the report document like :mod:`guotu.io.review_document`, leniently.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from guotu.io.review_document import findings, number
from guotu.io.review_labels import SEVERITIES, is_english, severity_text

__all__ = ["conclusion", "main_findings", "rule_basis_rows", "rule_rows", "severity_counts"]


def severity_counts(doc: Mapping[str, Any]) -> dict[str, int]:
    """Findings per severity, from ``summary.by_severity`` or counted when it is missing.

    Examples
    --------
    >>> severity_counts({"findings": [{"severity": "error"}, {"severity": "error"}]})
    {'error': 2, 'warning': 0, 'info': 0}
    """
    given = (doc.get("summary") or {}).get("by_severity")
    if given:
        return {str(k): int(v) for k, v in given.items()}
    counts = dict.fromkeys(SEVERITIES, 0)
    for f in findings(doc):
        counts[str(f.get("severity"))] = counts.get(str(f.get("severity")), 0) + 1
    return counts


def _rank(severity: Any) -> int:
    return SEVERITIES.index(severity) if severity in SEVERITIES else len(SEVERITIES)


def rule_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The summary by rule: id, title, severity, basis, count and area in m², one row per
    rule and severity of its findings, counted from the findings themselves.

    A rule whose findings all have its severity (or that has none) is one row; a rule with
    findings of another severity too (an error rule whose declared exemptions are 提示) has
    a row per severity, each with that severity's count and area only, so a row never
    counts 提示 under 错误. Rules come from ``doc["rules"]``; a rule that has findings but is
    not listed there is added from its findings.

    Examples
    --------
    >>> doc = {"rules": [{"id": "a.b", "severity": "error"}],
    ...        "findings": [{"rule": "a.b", "severity": "error", "area_m2": 5.0},
    ...                     {"rule": "a.b", "severity": "info", "area_m2": 2.0}]}
    >>> [(r["severity"], r["count"], r["area_m2"]) for r in rule_rows(doc)]
    [('error', 1, 5.0), ('info', 1, 2.0)]
    >>> [(r["id"], r["count"]) for r in rule_rows({"findings": [{"rule": "c.d"}]})]
    [('c.d', 1)]
    """
    rules: dict[str, dict[str, Any]] = {}
    for rule in doc.get("rules") or ():
        rules[str(rule.get("id"))] = {
            "id": rule.get("id"),
            "title": rule.get("title"),
            "severity": rule.get("severity"),
            "basis": rule.get("basis"),
        }
    groups: dict[tuple[str, Any], list[Mapping[str, Any]]] = {}
    for f in findings(doc):
        rid = str(f.get("rule"))
        rules.setdefault(
            rid,
            {
                "id": f.get("rule"),
                "title": f.get("title"),
                "severity": f.get("severity"),
                "basis": f.get("basis"),
            },
        )
        groups.setdefault((rid, f.get("severity") or rules[rid]["severity"]), []).append(f)
    rows = []
    for rid, rule in rules.items():
        severities = sorted((sev for r, sev in groups if r == rid), key=_rank)
        for sev in severities or [rule["severity"]]:
            found = groups.get((rid, sev), [])
            areas = [a for a in (number(f.get("area_m2")) for f in found) if a is not None]
            rows.append(
                {
                    **rule,
                    "severity": sev,
                    "count": len(found),
                    "area_m2": round(sum(areas), 2) if areas else None,
                }
            )
    return rows


def rule_basis_rows(doc: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One row per rule for the list of rules and their legal basis: id, title, declared
    severity, basis and ``count``, the findings as text: a number when all have the rule's
    severity, else by severity (``错误 1、提示 1``; ``count_lines`` has one line per part).

    Examples
    --------
    >>> doc = {"rules": [{"id": "a.b", "severity": "error"}],
    ...        "findings": [{"rule": "a.b", "severity": "error"}, {"rule": "a.b", "severity": "info"}]}
    >>> [r["count"] for r in rule_basis_rows(doc)]
    ['错误 1、提示 1']
    """
    out: dict[str, dict[str, Any]] = {}
    parts: dict[str, list[tuple[Any, int]]] = {}
    for row in rule_rows(doc):
        rid = str(row["id"])
        out.setdefault(rid, {**row})
        if row["count"]:
            parts.setdefault(rid, []).append((row["severity"], row["count"]))
    declared = {str(r.get("id")): r.get("severity") for r in doc.get("rules") or ()}
    sep = ", " if is_english(doc) else "、"
    for rid, row in out.items():
        found = parts.get(rid, [])
        row["severity"] = declared.get(rid, row["severity"])
        if all(sev == row["severity"] for sev, _ in found):
            row["count_lines"] = [str(sum(n for _, n in found))]
        else:
            row["count_lines"] = [f"{severity_text(doc, sev)} {n}" for sev, n in found]
        row["count"] = sep.join(row["count_lines"])
    return list(out.values())


def conclusion(doc: Mapping[str, Any]) -> tuple[str, str]:
    """The review's conclusion: ``fail`` (不通过) with any error, ``revise`` (需修改) with
    warnings only, else ``pass`` (通过); and one sentence saying why and what follows.

    Examples
    --------
    >>> conclusion({"findings": [{"severity": "warning"}, {"severity": "info"}]})
    ('revise', '未发现错误；有 1 项警告，须修改或说明理由后报审。另有 1 项提示，请核实相关申报材料。')
    >>> conclusion({"lang": "en", "findings": []})
    ('pass', 'No errors or warnings were found.')
    """
    counts = severity_counts(doc)
    errors, warnings, infos = (counts.get(s, 0) for s in SEVERITIES)
    en = is_english(doc)
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
    doc: Mapping[str, Any], limit: int = 5
) -> tuple[list[tuple[int, Mapping[str, Any]]], int]:
    """The ``limit`` largest errors and warnings by area (those without an area last, errors
    before warnings), each with its number in the findings table; and how many are left.

    Examples
    --------
    >>> doc = {"findings": [{"severity": "error", "area_m2": 5.0}, {"severity": "info"},
    ...                     {"severity": "warning", "area_m2": 9.0}, {"severity": "error"}]}
    >>> [no for no, _ in main_findings(doc, 2)[0]], main_findings(doc, 2)[1]
    ([3, 1], 1)
    """
    rank = {"error": 0, "warning": 1}
    chosen = [(no, f) for no, f in enumerate(findings(doc), start=1) if f.get("severity") in rank]
    chosen.sort(
        key=lambda p: (
            number(p[1].get("area_m2")) is None,
            -(number(p[1].get("area_m2")) or 0.0),
            rank[str(p[1].get("severity"))],
            p[0],
        )
    )
    return chosen[:limit], max(len(chosen) - limit, 0)
