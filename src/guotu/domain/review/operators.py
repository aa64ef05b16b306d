"""The review operators by name, and the run of a rule pack over them.

Every built-in operator module lists its functions in an ``OPERATORS`` mapping; this module
gathers them into one :class:`~guotu.domain.core.registry.Registry` (a rule naming an unknown
operator never gets this far: :func:`guotu.domain.review.pack.parse_pack` is given the known
names). A new operator is a function ``(rule, context) -> findings | Skipped`` in one of
those modules (or a new one listed in :data:`_BUILTIN`), or one registered with
:func:`register_operator` by a plug-in.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from guotu.domain.core.findings import Finding, Skipped
from guotu.domain.core.registry import Registry
from guotu.domain.review import spatial, tables, transmission
from guotu.domain.review.evaluate import OperatorFunction, ReviewContext
from guotu.domain.review.pack import Rule, RulePack

__all__ = ["OPERATORS", "ReviewRun", "register_operator", "review_order", "run_review"]

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

    findings: tuple[Finding, ...]
    rules: tuple[Rule, ...]
    skipped: tuple[Skipped, ...]


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
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    for n, rule in enumerate(rules, start=1):
        if progress is not None:
            progress(rule, n, len(rules))
        result = OPERATORS.get(rule.operator)(rule, context)
        if isinstance(result, Skipped):
            skipped.append(result)
        else:
            findings.extend(result)
    findings.sort(key=review_order)
    return ReviewRun(tuple(findings), rules, tuple(sorted(skipped, key=lambda s: s.rule)))


def review_order(f: Finding) -> tuple[Any, ...]:
    """The order of a review's findings: rule id, then the features, then the zone, then the
    field or indicator checked (deterministic, whatever the order features were read in)."""
    return (
        f.rule,
        tuple(r.key() for r in f.features),
        f.zone.key() if f.zone else ("", "", -1),
        str(f.details.get("field", "")),
        str(f.details.get("indicator", "")),
    )
