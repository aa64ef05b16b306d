"""The review operators by name, and the run of a rule pack over them.

Every built-in operator module lists its functions in an ``OPERATORS`` mapping; this module
gathers them into one :class:`~guotu.domain.core.registry.Registry` (a rule naming an unknown
operator never gets this far: :func:`guotu.domain.review.pack.parse_pack` is given the known
names). A new operator is a function ``(rule, context) -> findings | SkippedRule`` in one of
those modules (or a new one listed in :data:`_BUILTIN`), or one registered with
:func:`register_operator` by a plug-in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from guotu.domain.core.registry import Registry
from guotu.domain.review import spatial, tables, transmission
from guotu.domain.review.evaluate import (
    OperatorFunction,
    ReviewContext,
    ReviewFinding,
    SkippedRule,
)
from guotu.domain.review.pack import Rule, RulePack

__all__ = ["OPERATORS", "ReviewRun", "register_operator", "run_review"]

_BUILTIN = (spatial.OPERATORS, tables.OPERATORS, transmission.OPERATORS)

#: Review operators, by name.
OPERATORS: Registry[OperatorFunction] = Registry("review operator")
for _table in _BUILTIN:
    for _name, _fn in _table.items():
        OPERATORS.register(_name)(_fn)


def register_operator(name: str) -> Callable[[OperatorFunction], OperatorFunction]:
    """Register a review operator under ``name`` (a decorator; a name is registered once)."""
    return OPERATORS.register(name)


@dataclass(frozen=True)
class ReviewRun:
    """The sorted findings of a review, the rules run and the rules skipped."""

    findings: tuple[ReviewFinding, ...]
    rules: tuple[Rule, ...]
    skipped: tuple[SkippedRule, ...]


def run_review(
    pack: RulePack,
    kind: str,
    context: ReviewContext,
    progress: Callable[[Rule, int, int], None] | None = None,
) -> ReviewRun:
    """Run every rule of ``pack`` for review ``kind``; sorted, deterministic findings.

    Parameters
    ----------
    progress
        Called before each rule with the rule, its number (from 1) and the rule count.

    Examples
    --------
    >>> from pyproj import CRS
    >>> empty = RulePack("p", "1", "", "", ())
    >>> run_review(empty, "master-plan", ReviewContext(None, [], CRS.from_epsg(4527), empty))
    ReviewRun(findings=(), rules=(), skipped=())
    """
    rules = pack.rules_for(kind)
    findings: list[ReviewFinding] = []
    skipped: list[SkippedRule] = []
    for n, rule in enumerate(rules, start=1):
        if progress is not None:
            progress(rule, n, len(rules))
        result = OPERATORS.get(rule.operator)(rule, context)
        if isinstance(result, SkippedRule):
            skipped.append(result)
        else:
            findings.extend(result)
    findings.sort(key=ReviewFinding.sort_key)
    return ReviewRun(tuple(findings), rules, tuple(sorted(skipped, key=lambda s: s.rule)))
