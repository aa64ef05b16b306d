"""Data-quality checks (质检): the check registry, the check list and the run.

A *check* is a named operator (``invalid_geometry``, ``overlaps`` …) applied, with
parameters, to the layers of some roles. The list of checks is data (``guotu/data/checks.yaml``,
parsed by :func:`parse_check_list`); the operators are Python functions registered by name
in :data:`CHECKS` (the built-in ones on first use, others with :func:`register_check`). An
unknown operator fails at load time and lists the known ones.

Checks are pure: they take :class:`~guotu.domain.core.layers.LayerData` (arrays of fids,
shapely geometries and attribute values, in a projected CRS) and return
:class:`~guotu.domain.core.findings.Finding` records, never exceptions. A check that cannot
run (no plan boundary for the gap check) returns :class:`~guotu.domain.core.findings.Skipped`
with the reason. The attribute and code checks are in :mod:`guotu.domain.checks.attributes`,
the checks of each feature's own geometry (validity, duplicates, 碎片) in
:mod:`guotu.domain.checks.feature_geometry`, the checks between features (overlaps, gaps,
containment) in :mod:`guotu.domain.checks.topology`.

Tolerances are parameters with their unit in the name (``tolerance_area_m2``). Areas in
findings are ellipsoidal (椭球面积, :func:`guotu.domain.geometry.area.ellipsoidal_area_m2`).
Invalid geometries are repaired with ``shapely.make_valid`` only to measure areas and overlay;
findings computed on a repaired geometry say so (``is_repaired``).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from guotu.domain.checks.spec import CheckContext, CheckFunction, CheckSpec
from guotu.domain.core.documents import CHECK_LIST, DocumentProblem, document_error
from guotu.domain.core.findings import RULE_ID, Finding, Severity, Skipped
from guotu.domain.core.registry import Registry
from guotu.domain.core.roles import ROLES
from guotu.domain.geometry.polygons import anchor_points
from guotu.errors import ConfigError

__all__ = [
    "CHECKS",
    "CheckRun",
    "check_order",
    "parse_check_list",
    "register_check",
    "run_checks",
]


def _register_builtin_checks() -> None:
    """Register the built-in operators; their modules are imported on first use of :data:`CHECKS`."""
    from guotu.domain.checks import attributes, feature_geometry, topology

    for module in (attributes, feature_geometry, topology):
        for name, fn in module.OPERATORS.items():
            CHECKS.register(name)(fn)


#: The check operators, by name.
CHECKS: Registry[CheckFunction] = Registry("check operator", _register_builtin_checks)


def register_check(name: str) -> Callable[[CheckFunction], CheckFunction]:
    """Register a check operator under ``name``.

    Examples
    --------
    >>> @register_check("doc_example_nothing")
    ... def _nothing(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> list[Finding]:
    ...     return []
    >>> "doc_example_nothing" in CHECKS.names()
    True
    """
    return CHECKS.register(name)


def parse_check_list(
    data: Mapping[str, Any],
    *,
    source: str = "checks",
    problems: list[DocumentProblem] | None = None,
) -> tuple[CheckSpec, ...]:
    """Turn the parsed YAML check list into :class:`CheckSpec` objects.

    The structure is validated by ``schemas/checks-v1.json`` first (in the service); this step
    checks what the schema cannot: unique ids, known operators and known roles. Every problem
    is collected; :class:`ConfigError` lists them all (or they are appended to ``problems``
    when a list is passed).

    Raises
    ------
    ConfigError
        Naming each check by its JSON path and listing the known operators or roles.

    Examples
    --------
    >>> specs = parse_check_list({"schema_version": 1, "checks": [
    ...     {"id": "geometry.empty", "name_zh": "空几何", "name_en": "Empty geometry",
    ...      "severity": "error", "operator": "empty_geometry"}]})
    >>> specs[0].roles
    ('*',)
    """
    collect = problems if problems is not None else []
    start = len(collect)
    specs: list[CheckSpec] = []
    seen: set[str] = set()
    known_roles = {r.id for r in ROLES} | {"*"}
    for n, raw in enumerate(data.get("checks", ())):
        where = f"$.checks[{n}]"

        def problem(at: str, message: str, where: str = where) -> None:
            collect.append(DocumentProblem(source, f"{where}{at}", message))

        cid = str(raw.get("id", ""))
        if not RULE_ID.fullmatch(cid):
            problem(".id", f"{cid!r} is not a dotted lower-case id like geometry.invalid")
            continue
        if cid in seen:
            problem(".id", f"check id {cid!r} appears twice; give every check its own id")
            continue
        seen.add(cid)
        operator = str(raw.get("operator", ""))
        if operator not in CHECKS.names():
            problem(
                ".operator",
                f"unknown operator {operator!r} (check {cid}); known operators: "
                f"{', '.join(CHECKS.names())}",
            )
        scope = raw.get("applies_to") or {}
        roles = tuple(scope.get("roles", ("*",) if not scope.get("layers") else ()))
        excluded = tuple(scope.get("exclude_roles", ()))
        for role in (*roles, *excluded):
            if role not in known_roles:
                problem(
                    ".applies_to",
                    f"unknown role {role!r} (check {cid}); roles: {', '.join(sorted(known_roles))}",
                )
        try:
            severity = Severity.parse(str(raw.get("severity", "error")))
        except ConfigError:
            problem(".severity", f"unknown severity {raw.get('severity')!r}")
            severity = Severity.ERROR
        specs.append(
            CheckSpec(
                id=cid,
                name_zh=str(raw.get("name_zh", cid)),
                name_en=str(raw.get("name_en", cid)),
                severity=severity,
                operator=operator,
                roles=roles,
                layers=tuple(scope.get("layers", ())),
                exclude_roles=excluded,
                params=dict(raw.get("params") or {}),
            )
        )
    if problems is None and len(collect) > start:
        raise document_error(CHECK_LIST, source, collect[start:])
    return tuple(specs)


@dataclass(frozen=True)
class CheckRun:
    """The findings of a run (sorted) and the checks that were skipped."""

    findings: tuple[Finding, ...]
    skipped: tuple[Skipped, ...]


def run_checks(
    specs: Iterable[CheckSpec], context: CheckContext, layers: Iterable[str] | None = None
) -> CheckRun:
    """Run every check on every layer it applies to; sorted, deterministic output.

    Parameters
    ----------
    specs
        The checks (see :func:`parse_check_list`).
    context
        All loaded layers.
    layers
        Names of the layers to check (default: every layer in ``context``).

    Examples
    --------
    >>> run_checks([], CheckContext([])).findings
    ()
    """
    names = sorted(context.layers) if layers is None else sorted(set(layers))
    findings: list[Finding] = []
    skipped: list[Skipped] = []
    for spec in specs:
        fn = CHECKS.get(spec.operator)
        for name in names:
            layer = context.layers[name]
            if not spec.applies_to(layer):
                continue
            result = fn(spec, layer, context)
            if isinstance(result, Skipped):
                skipped.append(result)
            else:
                findings.extend(result)
    findings = _locate(findings, context)
    findings.sort(key=check_order)
    skipped.sort(key=lambda s: (s.rule, s.layer or ""))
    return CheckRun(tuple(findings), tuple(skipped))


def check_order(f: Finding) -> tuple[str, str, int, tuple[int, ...], str, float, float]:
    """The order of a check run's findings: check id, layer, feature, related features,
    field, location (deterministic, whatever the order features were read in)."""
    x, y = f.location if f.location is not None else (math.inf, math.inf)
    fid = f.fid
    return (f.rule, f.layer or "", -1 if fid is None else fid, f.related_fids, f.field or "", x, y)


def _locate(findings: list[Finding], context: CheckContext) -> list[Finding]:
    """Give findings on a feature without a location a point on that feature."""
    wanted: dict[str, set[int]] = {}
    for f in findings:
        if f.location is None and f.fid is not None and f.layer in context.layers:
            wanted.setdefault(str(f.layer), set()).add(f.fid)
    points: dict[tuple[str, int], tuple[float, float] | None] = {}
    for name, fids in wanted.items():
        layer = context.layers[name]
        pos = np.flatnonzero(np.isin(layer.fids, sorted(fids)))
        for p, pt in zip(pos.tolist(), anchor_points(layer.geometries[pos]), strict=True):
            points[(name, int(layer.fids[p]))] = pt
    return [
        dataclasses.replace(f, location=points.get((str(f.layer), f.fid)))
        if f.location is None and f.fid is not None
        else f
        for f in findings
    ]
