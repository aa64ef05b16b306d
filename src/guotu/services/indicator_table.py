"""The plan's indicator table (规划指标表) the indicator review reads: a CSV or XLSX sheet of
indicator names, units, planned values and upper-level allocations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from guotu.domain.core.layers import as_text
from guotu.domain.review.evaluate import IndicatorRow
from guotu.errors import LayerError
from guotu.io.readers import read_attribute_table

__all__ = ["read_indicator_table"]

_INDICATOR_COLUMNS = {
    "name": ("指标名称", "指标", "ZBMC", "name", "indicator"),
    "unit": ("单位", "DW", "unit"),
    "planned": ("规划目标值", "规划值", "目标值", "规划目标", "规划期末", "GHZ", "planned"),
    "allocated": (
        "上级下达值",
        "下达值",
        "上级分解值",
        "上级下达指标",
        "上级指标",
        "分解下达值",
        "XDZ",
        "allocated",
    ),
    "attribute": ("指标属性", "属性", "ZBSX", "attribute"),
}


def _pick(frame_cols: Iterable[str], names: Sequence[str]) -> str | None:
    cols = {str(c).strip(): str(c) for c in frame_cols}
    for n in names:
        if n in cols:
            return cols[n]
    return None


def _number(value: Any) -> float | None:
    if value is None:
        return None
    try:
        x = float(str(value).replace(",", "").strip())
    except ValueError:
        return None
    return None if np.isnan(x) else x


def read_indicator_table(path: str | Path) -> list[IndicatorRow]:
    """Read a 规划指标表 (CSV/XLSX): name, unit, planned value, upper-level allocation.

    Columns are found by their usual Chinese or coded names (指标名称/ZBMC, 单位/DW,
    规划目标值/GHZ, 上级下达值/XDZ, 指标属性).

    Raises
    ------
    LayerError
        A missing column, or a value that is not a number (naming the row and column).
    """
    frame = read_attribute_table(path)
    header = 0
    if _pick(frame.columns, _INDICATOR_COLUMNS["name"]) is None:
        # a title row or two above the header (常见：第一行为表名)
        for n in range(min(5, len(frame))):
            cells = [(as_text(v) or "") for v in frame.iloc[n].tolist()]
            if _pick(cells, _INDICATOR_COLUMNS["name"]) is not None:
                frame = frame.iloc[n + 1 :].set_axis(cells, axis=1).reset_index(drop=True)
                header = n + 1
                break
    cols = {k: _pick(frame.columns, v) for k, v in _INDICATOR_COLUMNS.items()}
    for key in ("name", "planned"):
        if cols[key] is None:
            wanted = "、".join(_INDICATOR_COLUMNS[key][:3])
            raise LayerError(
                f"Indicator table {path} has no column {_INDICATOR_COLUMNS[key][0]} ({key}).",
                file=str(path),
                field=_INDICATOR_COLUMNS[key][0],
                fix=f"Name the column one of: {', '.join(_INDICATOR_COLUMNS[key])}.",
                message_zh=f"规划指标表 {path} 缺少“{_INDICATOR_COLUMNS[key][0]}”列。",
                fix_zh=f"请将该列命名为：{wanted}。",
            )
    rows: list[IndicatorRow] = []
    for i, rec in enumerate(frame.to_dict("records")):
        name = str(rec.get(cols["name"] or "") or "").strip()
        if not name or name == "nan":
            continue
        values: dict[str, float | None] = {}
        for key in ("planned", "allocated"):
            col = cols[key]
            raw = rec.get(col) if col else None
            value = _number(raw)
            if raw is not None and str(raw).strip() not in ("", "nan", "None") and value is None:
                raise LayerError(
                    f"Indicator table {path}, row {i + header + 2}, column {col}: {raw!r} is "
                    "not a number.",
                    file=str(path),
                    feature=f"row {i + header + 2}",
                    field=col,
                    fix="Write the value as a plain number (the unit goes in 单位).",
                    message_zh=f"规划指标表 {path} 第 {i + header + 2} 行“{col}”列的值 {raw!r} "
                    "不是数字。",
                    fix_zh="请填写纯数字，单位写在“单位”列。",
                )
            values[key] = value
        unit_col, attr_col = cols["unit"], cols["attribute"]
        unit = (as_text(rec.get(unit_col)) or "") if unit_col else ""
        if not unit:  # a unit written in the name: 生态保护红线面积（平方公里）
            bracket = re.search(r"[（(]([^（）()]+)[）)]\s*$", name)
            unit = bracket.group(1).strip() if bracket else ""
        rows.append(
            IndicatorRow(
                name=name,
                unit=unit,
                planned=values["planned"],
                allocated=values["allocated"],
                attribute=(as_text(rec.get(attr_col)) or "") if attr_col else "",
                row=i + header + 2,
            )
        )
    return rows
