"""Validate a land-use code of either classification: 用地用海 2023 or 三调 (DLBM).

用地用海 codes are validated by :meth:`guotu.domain.codes.classification.CodeTable.validate`;
三调 DLBM codes against the 三调 working classification of :mod:`guotu.domain.codes.crosswalks`
(its table is the crosswalk's). The 质检 code check and the review's ``code_check`` both call
:func:`validate_code`.
"""

from __future__ import annotations

import re

from guotu.domain.codes.classification import (
    CodeIssue,
    CodeLike,
    normalize_code,
    normalize_name,
    ydyh_2023,
)
from guotu.domain.codes.crosswalks import sandiao_name

__all__ = ["validate_code"]

# 4 digits with an optional K/A suffix (0201K, 1104A), the H-codes 05H1/08H1/08H2(A), or 09.
_SANDIAO_RE = re.compile(r"\d{4}[A-Z]?|\d{2}H\d[A-Z]?|09")


def _validate_sandiao(code: CodeLike, name: str | None) -> list[CodeIssue]:
    norm = normalize_code(code).upper()
    if not _SANDIAO_RE.fullmatch(norm):
        return [
            CodeIssue(
                "malformed",
                norm,
                f"三调地类编码 {norm!r} 格式不正确：应为 4 位数字（可带 K、A 等后缀）。",
                f"三调 code {norm!r} is malformed: DLBM has 4 digits (and an optional K/A suffix).",
            )
        ]
    expected = sandiao_name(norm)
    if expected is None:
        base = norm[:4] if sandiao_name(norm[:4]) else None
        return [
            CodeIssue(
                "unknown",
                norm,
                f"地类编码 {norm} 不在三调工作分类中。",
                f"DLBM {norm} is not in the 三调 working classification.",
                base,
            )
        ]
    if name is not None and normalize_name(name) != normalize_name(expected):
        return [
            CodeIssue(
                "name_mismatch",
                norm,
                f"地类编码 {norm} 的名称应为“{expected}”，而不是“{name}”。",
                f"DLBM {norm} is {expected!r}, not {name!r}.",
                None,
            )
        ]
    return []


def validate_code(scheme: str, code: CodeLike, name: str | None) -> list[CodeIssue]:
    """Validate a code of ``scheme`` (``ydyh``: 用地用海 2023; ``sandiao``: 三调 DLBM).

    Examples
    --------
    >>> [i.kind for i in validate_code("ydyh", "090301", None)]
    ['retired']
    >>> [i.kind for i in validate_code("sandiao", "0101", "旱地")]
    ['name_mismatch']
    """
    if scheme == "sandiao":
        return _validate_sandiao(code, name)
    return list(ydyh_2023().validate(code, name))
