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

from guotu.domain.codes.validation import validate_code
from guotu.domain.core.findings import Finding, Severity, Skipped
from guotu.domain.core.layers import as_text
from guotu.domain.review.evaluate import (
    IndicatorRow,
    OperatorFunction,
    OperatorResult,
    ReviewContext,
    feature_text,
    make_finding,
    skipped_no_subject,
)
from guotu.domain.review.pack import Rule

__all__ = [
    "OPERATORS",
    "code_check",
    "indicator_allocation",
    "indicator_name",
    "map_table_consistency",
    "to_hectares",
]

_WORDS = {
    "ge": ("低于", "below", "低于"),
    "le": ("高于", "above", "高于"),
    "eq": ("不等于", "different from", ""),
}
#: Area units of indicator tables → hectares per unit.
_HECTARES = {
    "公顷": 1.0,
    "hm2": 1.0,
    "hm²": 1.0,
    "ha": 1.0,
    "平方公里": 100.0,
    "km2": 100.0,
    "km²": 100.0,
    "平方千米": 100.0,
    "亩": 1 / 15,
    "万亩": 10_000 / 15,
    "平方米": 1e-4,
    "m2": 1e-4,
    "m²": 1e-4,
}


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


def _canonical(name: str, aliases: Mapping[str, Any]) -> str:
    """The pack's name of an indicator (aliases: 耕地保护目标 → 耕地保有量)."""
    plain = indicator_name(name)
    return str(aliases.get(plain, plain))


def _no_table(rule: Rule) -> Skipped:
    return Skipped(
        rule.id,
        "没有规划指标表，规则未运行。",
        "There is no indicator table; the rule did not run.",
    )


def _table(ctx: ReviewContext, rule: Rule, key: str) -> Mapping[str, Any]:
    name = rule.args.get(key)
    found = ctx.pack.table(str(name)) if name else None
    return found if isinstance(found, Mapping) else {}


def _row_ref(row: IndicatorRow) -> dict[str, Any]:
    return {"indicator": row.name, "row": row.row}


def indicator_allocation(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """Rows whose planned value breaks the upper-level allocation."""
    if not ctx.table:
        return _no_table(rule)
    directions = _table(ctx, rule, "directions")
    aliases = _table(ctx, rule, "aliases")
    tol = rule.tol("value")
    if not any(row.allocated is not None for row in ctx.table):
        return Skipped(
            rule.id,
            "规划指标表中没有“上级下达值”，无法对照上级分解指标。",
            "The indicator table has no upper-level allocation column "
            "(上级下达值); nothing to compare with.",
        )
    out: list[Finding] = []
    for row in ctx.table:
        if row.planned is None or row.allocated is None:
            continue
        name = _canonical(row.name, aliases)
        compare = directions.get(name)
        if compare not in ("ge", "le"):
            out.append(
                Finding(
                    rule=rule.id,
                    severity=Severity.INFO,
                    features=(),
                    message_zh=f"指标“{row.name}”（第 {row.row} 行）不在规则包的指标方向表中，未与上级"
                    "下达值对照。",
                    message_en=f"Indicator {row.name} (row {row.row}) has no direction in the rule "
                    "pack; it was not compared with its allocation.",
                    suggestion_zh="如为约束性指标，请在规则包 tables.indicator_directions 或 "
                    "indicator_aliases 中补充。",
                    suggestion_en="Add it to tables.indicator_directions or indicator_aliases of "
                    "the pack if it is binding.",
                    measured=row.planned,
                    limit=row.allocated,
                    unit=row.unit or None,
                    details=_row_ref(row),
                )
            )
            continue
        gap = row.allocated - row.planned if compare == "ge" else row.planned - row.allocated
        if gap <= tol:
            continue
        word_zh, word_en, word2 = _WORDS[str(compare)]
        values = {
            "indicator": row.name,
            "measured": row.planned,
            "limit": row.allocated,
            "unit": row.unit,
            "gap": round(gap, 6),
        }
        out.append(
            make_finding(
                rule,
                values,
                zh={"compare_zh": word_zh, "compare_word_zh": word2},
                en={"compare_en": word_en},
                features=(),
                measured=row.planned,
                limit=row.allocated,
                unit=row.unit or None,
                details=_row_ref(row),
            )
        )
    return out


def map_table_consistency(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """Area indicators of the table against the layers (图数一致性)."""
    if not ctx.table:
        return _no_table(rule)
    mapping = _table(ctx, rule, "indicators")
    aliases = _table(ctx, rule, "aliases")
    tol_ha = rule.tol("area_ha", 1.0)
    out: list[Finding] = []
    for row in ctx.table:
        spec = mapping.get(_canonical(row.name, aliases))
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
            keep = np.array(
                [c is not None and str(c).startswith(prefixes) for c in codes.tolist()], dtype=bool
            )
            layer_m2 = float(areas[keep].sum())
        else:
            layer_m2 = float(areas.sum())
        layer_ha = layer_m2 / 10_000
        compare = str(spec.get("compare", "eq"))
        if compare == "le":  # the table may not claim more than the map holds
            gap = table_ha - layer_ha
        elif compare == "ge":  # the table may not claim less than the map holds
            gap = layer_ha - table_ha
        else:
            gap = abs(table_ha - layer_ha)
        if gap <= tol_ha:
            continue
        values = {
            "indicator": row.name,
            "measured": layer_ha,
            "limit": table_ha,
            "layer": layer.name,
            "gap_ha": abs(table_ha - layer_ha),
            "tolerance_ha": tol_ha,
        }
        out.append(
            make_finding(
                rule,
                values,
                features=(),
                area_m2=round(abs(table_ha - layer_ha) * 10_000, 2),
                measured=round(layer_ha, 4),
                limit=round(table_ha, 4),
                unit="公顷",
                details={**_row_ref(row), "layer": layer.name, "compare": compare},
            )
        )
    return out


def code_check(rule: Rule, ctx: ReviewContext) -> OperatorResult:
    """Unknown, malformed or retired land-use codes of the reviewed layer."""
    subject = ctx.subject
    if subject is None:
        return skipped_no_subject(rule)
    codes = ctx.codes(subject)
    cache: dict[str, list[Any]] = {}
    out: list[Finding] = []
    polys = ctx.polygons(subject)
    for pos, code in enumerate(codes.tolist()):
        if code is None:
            # a blank code would escape every rule scoped by codes: say so
            ref = ctx.ref(subject, pos)
            area = float(ctx.areas(subject)[pos])
            out.append(
                make_finding(
                    rule,
                    {"code": "（空）"},
                    zh={
                        "feature": feature_text(ref, subject.role, "zh"),
                        "problem_zh": "代码为空，按用地用海分类的规则均无法审查该地块。",
                        "replacement_zh": "",
                    },
                    en={
                        "feature": feature_text(ref, subject.role, "en"),
                        "code": "(blank)",
                        "problem_en": "the code is blank, so no rule scoped by land use can "
                        "review this feature.",
                        "replacement_en": "",
                    },
                    features=(ref,),
                    measured=None,
                    unit="code",
                    area_m2=round(area, 2) if area else None,
                    share_of_feature=1.0 if area else None,
                    geometry=polys[pos],
                    details={"field": "code", "kind": "missing"},
                )
            )
            continue
        if code not in cache:
            cache[code] = [
                i
                for i in validate_code("ydyh", code, None)
                if i.kind in ("unknown", "malformed", "retired")
            ]
        for issue in cache[code]:
            ref = ctx.ref(subject, pos, with_code=True)
            rep = issue.suggestion
            values = {"code": code}
            zh = {
                "feature": feature_text(ref, subject.role, "zh"),
                "problem_zh": issue.message_zh,
                "replacement_zh": f"（建议 {rep}）" if rep else "",
            }
            en = {
                "feature": feature_text(ref, subject.role, "en"),
                "problem_en": issue.message_en,
                "replacement_en": f" (suggested: {rep})" if rep else "",
            }
            area = float(ctx.areas(subject)[pos])
            out.append(
                make_finding(
                    rule,
                    values,
                    zh=zh,
                    en=en,
                    features=(ref,),
                    measured=code,
                    limit=rep,
                    area_m2=round(area, 2) if area else None,
                    share_of_feature=1.0 if area else None,
                    unit="code",
                    geometry=polys[pos],
                    details={"field": "code", "kind": issue.kind, "name": as_text(code)},
                )
            )
    return out


#: The review operators of this module, by name (registered in
#: :data:`guotu.domain.review.operators.OPERATORS`).
OPERATORS: Mapping[str, OperatorFunction] = {
    "indicator_allocation": indicator_allocation,
    "map_table_consistency": map_table_consistency,
    "code_check": code_check,
}
