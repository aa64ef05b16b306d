"""Attribute and code checks (质检): required fields, value ranges, land-use codes, references.

Registered by name in :data:`guotu.domain.checks.engine.CHECKS` (:data:`OPERATORS`). Codes
are validated by :func:`guotu.domain.codes.validation.validate_code` (用地用海 2023, or 三调
DLBM against the 三调 table of :mod:`guotu.domain.codes.crosswalks`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from guotu.domain.checks.spec import CheckContext, CheckFunction, CheckResult, CheckSpec
from guotu.domain.codes.classification import CodeIssue
from guotu.domain.codes.validation import validate_code
from guotu.domain.core.fields import FIELDS
from guotu.domain.core.findings import Finding
from guotu.domain.core.layers import LayerData, as_text, feature_label
from guotu.domain.core.roles import get_role
from guotu.errors import ConfigError

__all__ = [
    "OPERATORS",
    "check_field_ranges",
    "check_foreign_key",
    "check_land_use_code",
    "check_required_fields",
]

ObjArray = npt.NDArray[np.object_]
BoolArray = npt.NDArray[np.bool_]


# -- attribute checks ---------------------------------------------------------------------
def _blank(values: ObjArray) -> BoolArray:
    return np.fromiter((as_text(v) is None for v in values), dtype=bool, count=len(values))


def check_required_fields(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> list[Finding]:
    """Null or blank values in the role's required fields (or the ``fields`` parameter)."""
    required = spec.texts("fields") or get_role(layer.role).required
    out = []
    for name in required:
        std = FIELDS.get(name)
        name_zh = std.name_zh if std else name
        if name not in layer.attributes:
            out.append(
                spec.finding(
                    layer,
                    f"图层 {layer.name} 缺少必填字段 {name}（{name_zh}）：请在源数据中补充该字段，"
                    f"或导入时用 --map 列名={name} 指定。",
                    f"Layer {layer.name} has no required field {name} ({name_zh}): add it to the "
                    f"source or map a column with --map COLUMN={name} on import.",
                    field=name,
                )
            )
            continue
        for p in np.flatnonzero(_blank(layer.attributes[name])).tolist():
            out.append(
                spec.finding(
                    layer,
                    f"图层 {layer.name} {feature_label(layer, p)} 的必填字段 {name}（{name_zh}）为空："
                    "请补填。",
                    f"Layer {layer.name} {feature_label(layer, p, 'en')}: required field {name} "
                    f"({name_zh}) is empty; fill it in.",
                    field=name,
                    at=p,
                )
            )
    return out


def _number(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        x = float(str(value).strip()) if not isinstance(value, int | float) else float(value)
    except ValueError:
        return math.nan
    return None if math.isnan(x) and isinstance(value, float) else x


def check_field_ranges(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> list[Finding]:
    """Values outside the plausible range of their standard field (``FIELDS`` min/max)."""
    out = []
    for name in get_role(layer.role).fields:
        std = FIELDS[name]
        if name not in layer.attributes or (std.minimum is None and std.maximum is None):
            continue
        lo, hi = std.minimum, std.maximum
        parts = ([f"{'>' if std.exclusive_minimum else '>='} {lo:g}"] if lo is not None else []) + (
            [f"<= {hi:g}"] if hi is not None else []
        )
        limit = " and ".join(parts)
        limit_zh = " 且 ".join(p.replace(">=", "≥").replace("<=", "≤") for p in parts)
        unit = std.unit
        for p, raw in enumerate(layer.attributes[name].tolist()):
            x = _number(raw)
            below = (
                lo is not None and x is not None and (x <= lo if std.exclusive_minimum else x < lo)
            )
            if x is None or not (math.isnan(x) or below or (hi is not None and x > hi)):
                continue
            shown = str(raw).strip() if math.isnan(x) else f"{x:g}"
            out.append(
                spec.finding(
                    layer,
                    f"图层 {layer.name} {feature_label(layer, p)} 的 {name}（{std.name_zh}）= {shown}"
                    f"{unit}，超出合理范围（应 {limit_zh}{unit}）：请核实并更正。",
                    f"Layer {layer.name} {feature_label(layer, p, 'en')}: {name} ({std.name_zh}) = "
                    f"{shown}{unit} is out of range (must be {limit}{unit}); check and correct it.",
                    field=name,
                    measured=shown if math.isnan(x) else x,
                    unit=unit or None,
                    limit=limit,
                    at=p,
                )
            )
    return out


_NAME_FIELDS = {"YDYHFLDM": "YDYHFLMC", "DLBM": "DLMC"}


def check_land_use_code(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> list[Finding]:
    """Codes of the role's code field that are ``kinds`` (unknown, malformed, retired, name_mismatch).

    The name field (``YDYHFLMC`` for ``YDYHFLDM``, ``DLMC`` for ``DLBM``) is compared when the
    layer has it. Each distinct (code, name) pair is validated once.
    """
    code_field = spec.text("field") or get_role(layer.role).code_field
    if code_field is None or code_field not in layer.attributes:
        return []
    scheme = FIELDS[code_field].code_scheme if code_field in FIELDS else None
    scheme = spec.text("scheme") or scheme or "ydyh"
    name_field = spec.text("name_field") or _NAME_FIELDS.get(code_field)
    kinds = set(spec.texts("kinds")) or {"unknown", "malformed"}
    codes = layer.attributes[code_field].tolist()
    names = (
        layer.attributes[name_field].tolist()
        if name_field and name_field in layer.attributes
        else [None] * len(codes)
    )
    cache: dict[tuple[str, str | None], list[CodeIssue]] = {}
    out = []
    scheme_zh = "三调地类" if scheme == "sandiao" else "用地用海分类"
    for p, (raw, raw_name) in enumerate(zip(codes, names, strict=True)):
        code, name = as_text(raw), as_text(raw_name)
        if code is None:
            continue
        key = (code, name)
        if key not in cache:
            cache[key] = validate_code(scheme, raw if isinstance(raw, int | float) else code, name)
        for issue in cache[key]:
            if issue.kind not in kinds:
                continue
            fld = name_field if issue.kind == "name_mismatch" and name_field else code_field
            fix_zh = f"建议改为 {issue.suggestion}。" if issue.suggestion else "请按分类表更正。"
            fix_en = (
                f"Suggested: {issue.suggestion}."
                if issue.suggestion
                else "Correct it from the code table."
            )
            out.append(
                spec.finding(
                    layer,
                    f"图层 {layer.name} {feature_label(layer, p)} 的 {fld}（{scheme_zh}）："
                    f"{issue.message_zh}{fix_zh}",
                    f"Layer {layer.name} {feature_label(layer, p, 'en')}, field {fld}: "
                    f"{issue.message_en} {fix_en}",
                    field=fld,
                    measured=name if fld == name_field else code,
                    limit=issue.suggestion,
                    at=p,
                )
            )
    return out


def check_foreign_key(spec: CheckSpec, layer: LayerData, ctx: CheckContext) -> CheckResult:
    """Values of ``field`` that no feature of a ``target_role`` layer has in ``target_field``."""
    fld = spec.text("field")
    target_role = spec.text("target_role")
    target_field = spec.text("target_field", fld)
    if fld is None or target_role is None or target_field is None:
        raise ConfigError(f"Check {spec.id}: foreign_key needs field and target_role.")
    if fld not in layer.attributes:
        return []
    targets = ctx.with_role(target_role)
    if not targets:
        return spec.skipped(
            layer,
            f"工作空间中没有 {target_role} 图层，未检查 {fld} 的引用。",
            f"No {target_role} layer in the workspace; references in {fld} were not checked.",
        )
    known: set[str] = set()
    for t in targets:
        if target_field in t.attributes:
            known.update(v for v in map(as_text, t.attributes[target_field].tolist()) if v)
    target_names = "、".join(t.name for t in targets)
    out = []
    for p, raw in enumerate(layer.attributes[fld].tolist()):
        value = as_text(raw)
        if value is None or value in known:
            continue
        out.append(
            spec.finding(
                layer,
                f"图层 {layer.name} {feature_label(layer, p)} 的 {fld} = {value}，在图层 {target_names} "
                f"的 {target_field} 中找不到：请更正编号或补充该单元。",
                f"Layer {layer.name} {feature_label(layer, p, 'en')}: {fld} = {value} is not found in "
                f"{target_field} of layer {target_names}; correct it or add the missing feature.",
                field=fld,
                measured=value,
                at=p,
            )
        )
    return out


#: The operators of this module, by name (registered in :data:`guotu.domain.checks.engine.CHECKS`).
OPERATORS: Mapping[str, CheckFunction] = {
    "required_fields": check_required_fields,
    "field_ranges": check_field_ranges,
    "land_use_code": check_land_use_code,
    "foreign_key": check_foreign_key,
}
