"""An import's attribute columns: names the workspace cannot keep, the fields a role needs,
standard fields coerced to their types (numbers, dates, land-use codes as text) and the column
types the layer is written with (:mod:`guotu.services.importing`).

Each check raises one :class:`~guotu.errors.LayerError` naming the file, layer, feature and
field and saying how to fix it.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from datetime import date, datetime

import geopandas as gpd
import numpy as np
import pandas as pd

from guotu.domain.codes.classification import normalize_code
from guotu.domain.core.fields import FIELDS, FieldKind
from guotu.domain.core.roles import Role
from guotu.errors import LayerError
from guotu.io.readers import feature_label

__all__ = [
    "MAX_ABS_VALUE",
    "check_column_names",
    "check_required_columns",
    "coerce_fields",
    "column_types",
    "key_text",
    "normalise_code",
]

#: Largest absolute value accepted in a numeric field; larger ones are taken as corrupt.
MAX_ABS_VALUE = 1e12


def normalise_code(value: object) -> str | None:
    """A land-use code as text (:func:`guotu.domain.codes.classification.normalize_code`: numbers
    from numeric columns regain their leading zero, full-width digits become ASCII), with
    ``None`` for blanks.

    Examples
    --------
    >>> normalise_code(101.0), normalise_code(" 0701 "), normalise_code(None)
    ('0101', '0701', None)
    """
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.integer | np.floating):
        value = value.item()
    text = normalize_code(value)  # type: ignore[arg-type]
    return text or None


#: Column names the workspace uses itself (compared case-insensitively).
_RESERVED_COLUMNS = {"fid", "geom", "guotu_added_in", "guotu_hash"}


def check_column_names(frame: gpd.GeoDataFrame, where: dict[str, str]) -> None:
    """Refuse columns the workspace reserves and names that differ only in case (SQL
    column names ignore case)."""
    seen: dict[str, str] = {}
    for col in frame.columns:
        if col == frame.geometry.name:
            continue
        key = str(col).casefold()
        if key in _RESERVED_COLUMNS:
            raise LayerError(
                f"The file has a column {col!r}, a name the workspace reserves.",
                field=str(col),
                **where,
                fix="Rename the column in the file (e.g. to 原fid) and import again.",
                message_zh=f"文件中有字段 {col!r}，该名称为工作空间保留字段。",
                fix_zh="请在源文件中把该字段改名（如改为“原fid”）后再导入。",
            )
        if key in seen:
            raise LayerError(
                f"The columns {seen[key]!r} and {col!r} differ only in case (after field "
                "mapping); the workspace cannot keep both.",
                field=str(col),
                **where,
                fix="Rename one of them in the file, or map only one with --map.",
                message_zh=f"字段 {seen[key]!r} 与 {col!r}（字段映射后）仅大小写不同，"
                "工作空间无法同时保存。",
                fix_zh="请在源文件中把其中一个改名，或只映射其中一个。",
            )
        seen[key] = str(col)


def key_text(value: object) -> str | None:
    """A value as identifier text: integral numbers without ``.0`` (also ``"1002.0"``)."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return None
    if isinstance(value, np.integer | np.floating):
        value = value.item()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    text = str(value).strip()
    if _INTEGRAL_TEXT.fullmatch(text):
        text = text.split(".")[0]
    return text or None


_INTEGRAL_TEXT = re.compile(r"-?\d+\.0+")


def check_required_columns(
    frame: pd.DataFrame, role: Role, where: dict[str, str], mapping: Mapping[str, str]
) -> None:
    for req in role.required:
        if req not in frame.columns:
            f = FIELDS[req]
            cols = [c for c in frame.columns if c != "geometry"]
            raise LayerError(
                f"Role {role.id} ({role.name_zh}) needs field {req} ({f.name_zh}), which the "
                "file does not have under any known name.",
                field=req,
                **where,
                fix=f"Say which column holds it: --map COLUMN={req} (columns: "
                f"{', '.join(map(str, cols))}).",
                message_zh=f"图层类型 {role.id}（{role.name_zh}）必须有字段 {req}（{f.name_zh}），"
                "但文件中没有任何可识别的同义字段。",
                fix_zh=f"请指明哪一列是该字段：--map 列名={req}（现有列："
                f"{'、'.join(map(str, cols))}）。",
            )


def coerce_fields(frame: gpd.GeoDataFrame, where: dict[str, str]) -> gpd.GeoDataFrame:
    for col in list(frame.columns):
        std = FIELDS.get(str(col))
        if std is None or col == frame.geometry.name:
            continue
        values = frame[col]
        if std.kind in (FieldKind.REAL, FieldKind.INTEGER):
            frame[col] = _numbers(frame, values, std.name, std.kind, where)
        elif std.kind == FieldKind.DATE:
            frame[col] = _dates(frame, values, std.name, where)
        elif std.kind == FieldKind.CODE:
            frame[col] = _texts(values, code=True)
        else:
            frame[col] = _texts(values, code=False)
    return frame


def _texts(values: pd.Series, *, code: bool) -> pd.Series:
    """Values as stripped text (``None`` for blanks); codes through :func:`normalise_code`."""
    arr = values.to_numpy(dtype=object)
    if code:
        # A layer holds few distinct codes: normalise each once.
        distinct = pd.unique(pd.Series(arr, dtype=object))
        table = {v: normalise_code(v) for v in distinct if v is not None and v == v}
        return pd.Series(
            [table.get(v) if v is not None and v == v else None for v in arr],
            index=values.index,
            dtype=object,
        )
    if pd.api.types.infer_dtype(arr, skipna=True) in ("string", "empty"):
        # Only text and blanks (the usual case): one vectorized strip.
        stripped = pd.Series(arr, dtype=object).str.strip()
        blank = stripped.isna() | (stripped == "")
        return pd.Series(
            stripped.where(~blank, None).to_numpy(dtype=object), index=values.index, dtype=object
        )
    is_str = np.fromiter((isinstance(v, str) for v in arr), dtype=bool, count=len(arr))
    out = np.empty(len(arr), dtype=object)
    if is_str.any():
        stripped = pd.Series(arr[is_str], dtype=object).str.strip()
        out[is_str] = stripped.where(stripped != "", None).to_numpy(dtype=object)
    for i in np.flatnonzero(~is_str).tolist():
        out[i] = key_text(arr[i])  # 1001.0 → "1001", never "1.001e3"
    return pd.Series(out, index=values.index, dtype=object)


def _numbers(
    frame: pd.DataFrame, values: pd.Series, name: str, kind: FieldKind, where: dict[str, str]
) -> pd.Series:
    blank = values.isna() | values.astype(str).str.strip().isin(["", "nan", "NaN", "None"])
    parsed = pd.to_numeric(values.where(~blank), errors="coerce").astype("float64")
    bad = ~blank & parsed.isna()
    huge = ~blank & ~parsed.isna() & ~np.isfinite(parsed.where(parsed.notna(), 0)) | (
        parsed.abs() > MAX_ABS_VALUE
    )
    zh = FIELDS[name].name_zh
    if bad.any():
        pos = int(np.flatnonzero(bad.to_numpy())[0])
        raise LayerError(
            f"Feature {feature_label(frame, pos)}: field {name} ({zh}) holds "
            f"{values.iloc[pos]!r}, which is not a number ({int(bad.sum())} such values).",
            feature=pos + 1,
            field=name,
            **where,
            fix="Correct the value in the source file, or leave it empty if unknown.",
            message_zh=f"要素 {feature_label(frame, pos)}：字段 {name}（{zh}）的值为 "
            f"{values.iloc[pos]!r}，不是数值（共 {int(bad.sum())} 个此类值）。",
            fix_zh="请在源文件中更正该值；如未知，请留空。",
        )
    if huge.any():
        pos = int(np.flatnonzero(huge.to_numpy())[0])
        raise LayerError(
            f"Feature {feature_label(frame, pos)}: field {name} ({zh}) holds "
            f"{parsed.iloc[pos]:g}, which is infinite or absurdly large.",
            feature=pos + 1,
            field=name,
            **where,
            fix="Correct the value in the source file.",
            message_zh=f"要素 {feature_label(frame, pos)}：字段 {name}（{zh}）的值为 "
            f"{parsed.iloc[pos]:g}，为无穷大或大得不合理。",
            fix_zh="请在源文件中更正该值。",
        )
    if kind == FieldKind.INTEGER:
        return parsed.round().astype("Int64")
    return parsed


_DATE_FORMATS = (
    "%Y-%m-%d",
    "%Y/%m/%d",
    "%Y%m%d",
    "%Y.%m.%d",
    "%Y年%m月%d日",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
)


def _parse_date(value: object) -> date | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NaT:
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, pd.Timestamp):
        return date(value.year, value.month, value.day)
    if isinstance(value, int | float) and 19000101 <= value <= 21001231:
        value = str(int(value))
    text = str(value).strip()
    if not text:
        return None
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise ValueError(text)


def _dates(frame: pd.DataFrame, values: pd.Series, name: str, where: dict[str, str]) -> pd.Series:
    out: list[date | None] = []
    for pos, v in enumerate(values.tolist()):
        try:
            out.append(_parse_date(v))
        except ValueError:
            raise LayerError(
                f"Feature {feature_label(frame, pos)}: field {name} ({FIELDS[name].name_zh}) "
                f"holds {v!r}, which is not a date.",
                feature=pos + 1,
                field=name,
                **where,
                fix="Write dates as 2024-06-01 (or 2024/6/1, 20240601, 2024年6月1日).",
                message_zh=f"要素 {feature_label(frame, pos)}：字段 {name}"
                f"（{FIELDS[name].name_zh}）的值为 {v!r}，不是日期。",
                fix_zh="日期请写成 2024-06-01（或 2024/6/1、20240601、2024年6月1日）。",
            ) from None
    return pd.Series(out, index=values.index, dtype=object)


def column_types(frame: gpd.GeoDataFrame) -> dict[str, str]:
    types: dict[str, str] = {}
    for col in frame.columns:
        if col == frame.geometry.name:
            continue
        std = FIELDS.get(str(col))
        if std is not None:
            types[col] = std.kind.value
            continue
        dtype = frame[col].dtype
        if pd.api.types.is_bool_dtype(dtype):
            types[col] = "boolean"
        elif pd.api.types.is_integer_dtype(dtype):
            types[col] = "integer"
        elif pd.api.types.is_float_dtype(dtype):
            types[col] = "real"
        elif pd.api.types.is_datetime64_any_dtype(dtype):
            types[col] = "date"
        else:
            types[col] = "text"
    return types
