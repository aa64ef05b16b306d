"""Table and attribute operators: the indicator table, 图数一致性 and code checks.

* ``indicator_allocation``: each row of the plan's indicator table against the upper-level
  allocation, in the direction the pack gives for that indicator (≥ for 耕地保有量 …, ≤ for
  城乡建设用地规模 …; ``tables.indicator_directions``).
* ``map_table_consistency``: the table's area indicators against the ellipsoidal areas of the
  workspace layers they describe (``tables.map_indicators``), within ``area_ha``.
* ``code_check``: the reviewed layer's land-use codes must be valid 2023 codes.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import numpy as np

from guotu.domain.attributes import validate_code
from guotu.domain.quality import as_text
from guotu.domain.rules.evaluate import (
    IndicatorRow,
    OperatorResult,
    ReviewContext,
    ReviewFinding,
    SkippedRule,
    feature_text,
    make_finding,
    register_operator,
)
from guotu.domain.rules.pack import Rule

__all__ = ["code_check", "indicator_allocation", "indicator_name", "map_table_consistency",
           "to_hectares"]

_WORDS = {"ge": ("低于", "below", "低于"), "le": ("高于", "above", "高于"),
          "eq": ("不等于", "different from", "")}
#: Area units of indicator tables → hectares per unit.
_HECTARES = {"公顷": 1.0, "hm2": 1.0, "hm²": 1.0, "ha": 1.0, "平方公里": 100.0, "km2": 100.0,
             "km²": 100.0, "平方千米": 100.0, "亩": 1 / 15, "万亩": 10_000 / 15,
             "平方米": 1e-4, "m2": 1e-4, "m²": 1e-4}


def indicator_name(text: str) -> str:
    """An indicator name without spaces and a trailing unit in brackets.

    Examples
    --------
    >>> indicator_name(" 耕地保有量（公顷） ")
    '耕地保有量'
    """
    name = re.sub(r"\s+", "", text)
    return re.sub(r"[（(][^）)]*[）)]$", "", name)


def to_hectares(value: float, unit: str) -> float | None:
    """``value`` in ``unit`` as hectares; ``None`` for a unit that is not an area.

    Examples
    --------
    >>> to_hectares(1.5, "平方公里"), to_hectares(15, "亩"), to_hectares(3, "%")
    (150.0, 1.0, None)
    """
    factor = _HECTARES.get(unit.strip().replace(" ", ""))
    return None if factor is None else value * factor


def _no_table(rule: Rule) -> SkippedRule:
    return SkippedRule(rule.id, "没有规划指标表，规则未运行。",
                       "There is no indicator table; the rule did not run.")


def _table(ctx: ReviewContext, rule: Rule, key: str) -> Mapping[str, Any]:
    name = rule.args.get(key)
    found = ctx.pack.table(str(name)) if name else None
    return found if isinstance(found, Mapping) else {}


def _row_ref(row: IndicatorRow) -> dict[str, Any]:
    return {"indicator": row.name, "row": row.row}


@register_operator("indicator_allocation")
def indicator_allocation(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """Rows whose planned value breaks the upper-level allocation."""
    if not ctx.table:
        return _no_table(rule)
    directions = _table(ctx, rule, "directions")
    tol = rule.tol("value")
    out: list[ReviewFinding] = []
    for row in ctx.table:
        compare = directions.get(indicator_name(row.name))
        if compare not in ("ge", "le") or row.planned is None or row.allocated is None:
            continue
        gap = row.allocated - row.planned if compare == "ge" else row.planned - row.allocated
        if gap <= tol:
            continue
        word_zh, word_en, word2 = _WORDS[str(compare)]
        values = {"indicator": row.name, "measured": row.planned, "limit": row.allocated,
                  "unit": row.unit, "gap": round(gap, 6)}
        out.append(make_finding(
            rule, values, zh={"compare_zh": word_zh, "compare_word_zh": word2},
            en={"compare_en": word_en}, features=(), measured=row.planned,
            limit=row.allocated, unit=row.unit or None, details=_row_ref(row)))
    return out


@register_operator("map_table_consistency")
def map_table_consistency(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """Area indicators of the table against the layers (图数一致性)."""
    if not ctx.table:
        return _no_table(rule)
    mapping = _table(ctx, rule, "indicators")
    tol_ha = rule.tol("area_ha", 1.0)
    out: list[ReviewFinding] = []
    for row in ctx.table:
        spec = mapping.get(indicator_name(row.name))
        if not isinstance(spec, Mapping) or row.planned is None:
            continue
        table_ha = to_hectares(row.planned, row.unit or "公顷")
        layer = ctx.layer(str(spec.get("role")))
        if table_ha is None or layer is None:
            continue
        prefixes = tuple(str(c) for c in spec.get("codes", ()))
        areas = ctx.areas(layer)
        if prefixes:
            codes = ctx.codes(layer)
            keep = np.array([c is not None and str(c).startswith(prefixes)
                             for c in codes.tolist()], dtype=bool)
            layer_m2 = float(areas[keep].sum())
        else:
            layer_m2 = float(areas.sum())
        layer_ha = layer_m2 / 10_000
        compare = str(spec.get("compare", "eq"))
        if compare == "le":      # the table may not claim more than the map holds
            gap = table_ha - layer_ha
        elif compare == "ge":    # the table may not claim less than the map holds
            gap = layer_ha - table_ha
        else:
            gap = abs(table_ha - layer_ha)
        if gap <= tol_ha:
            continue
        values = {"indicator": row.name, "measured": layer_ha, "limit": table_ha,
                  "layer": layer.name, "gap_ha": abs(table_ha - layer_ha),
                  "tolerance_ha": tol_ha}
        out.append(make_finding(
            rule, values, features=(), area_m2=round(abs(table_ha - layer_ha) * 10_000, 2),
            measured=round(layer_ha, 4), limit=round(table_ha, 4), unit="公顷",
            details={**_row_ref(row), "layer": layer.name, "compare": compare}))
    return out


@register_operator("code_check")
def code_check(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """Unknown, malformed or retired land-use codes of the reviewed layer."""
    subject = ctx.subject
    if subject is None:
        return SkippedRule(rule.id, "没有被审查的图层，规则未运行。",
                           "There is no reviewed layer; the rule did not run.")
    codes = ctx.codes(subject)
    cache: dict[str, list[Any]] = {}
    out: list[ReviewFinding] = []
    for pos, code in enumerate(codes.tolist()):
        if code is None:
            continue
        if code not in cache:
            cache[code] = [i for i in validate_code("ydyh", code, None)
                           if i.kind in ("unknown", "malformed", "retired")]
        for issue in cache[code]:
            ref = ctx.ref(subject, pos, with_code=True)
            rep = issue.suggestion
            values = {"code": code}
            zh = {"feature": feature_text(ref, subject.role, "zh"), "problem_zh": issue.message_zh,
                  "replacement_zh": f"（建议 {rep}）" if rep else ""}
            en = {"feature": feature_text(ref, subject.role, "en"), "problem_en": issue.message_en,
                  "replacement_en": f" (suggested: {rep})" if rep else ""}
            area = float(ctx.areas(subject)[pos])
            out.append(make_finding(
                rule, values, zh=zh, en=en, features=(ref,), measured=code, limit=rep,
                area_m2=round(area, 2) if area else None, share_of_feature=1.0 if area else None,
                unit="code", geometry=ctx.polygons(subject)[pos],
                details={"field": "code", "kind": issue.kind, "name": as_text(code)}))
    return out
