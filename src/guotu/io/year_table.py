"""Tables of values by year, as bureaus keep them in CSV/XLSX: statistics (常住人口, 用水总量,
地区生产总值 by year) and plan targets (指标名称, 单位, 2025, 2035).

Either orientation is read:

* one row per item, a column per year (``指标名称 | 单位 | 2021 | 2022 …``; a year column may
  be written ``2025年`` or ``2025年目标``);
* one row per year (``年份 | 常住人口 | 用水总量（亿立方米） …``).

A unit comes from a ``单位`` column or from brackets at the end of the name
(``用水总量（亿立方米）``).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from guotu.errors import LayerError
from guotu.io.attribute_tables import read_attribute_table

__all__ = ["YearSeries", "read_year_table"]

_NAME_COLUMNS = ("指标名称", "指标", "名称", "项目", "name", "indicator", "ZBMC")
_UNIT_COLUMNS = ("单位", "unit", "DW")
_YEAR_COLUMNS = ("年份", "年度", "年", "year", "NF")
_YEAR = re.compile(r"^\s*((?:19|20)\d\d)\s*(?:年.*)?$")


@dataclass(frozen=True)
class YearSeries:
    """The values of one item (row or column) by year."""

    name: str
    unit: str
    values: dict[int, float] = field(default_factory=dict)
    row: int = 0


def _year(label: Any) -> int | None:
    if (
        isinstance(label, (int, float))
        and not isinstance(label, bool)
        and float(label).is_integer()
    ):
        y = int(label)
        return y if 1900 <= y <= 2099 else None
    m = _YEAR.match(str(label))
    return int(m.group(1)) if m else None


def _number(raw: Any, path: Path, row: int, column: str, item: str | None = None) -> float | None:
    """The number in a cell; ``row`` is the spreadsheet's row number, ``item`` the row's
    name (for the error)."""
    if raw is None or (isinstance(raw, float) and math.isnan(raw)):
        return None
    text = str(raw).strip().replace(",", "").replace("，", "")
    if text in ("", "nan", "None", "-", "—", "/"):
        return None
    try:
        return float(text)
    except ValueError:
        where = f"row {row}" + (f" ({item})" if item else "")
        where_zh = f"第 {row} 行" + (f"（{item}）" if item else "")
        raise LayerError(
            f"Table {path}, {where}, column {column}: {raw!r} is not a number.",
            file=str(path),
            feature=where,
            field=column,
            fix="Write plain numbers; the unit goes in 单位 or in brackets after the name.",
            message_zh=f"表 {path} {where_zh}“{column}”列的值 {raw!r} 不是数字。",
            fix_zh="请填写纯数字，单位写在“单位”列或名称后的括号中。",
        ) from None


def _split_unit(name: str) -> tuple[str, str]:
    m = re.search(r"[（(]([^（）()]+)[）)]\s*$", name)
    if not m:
        return name.strip(), ""
    return name[: m.start()].strip(), m.group(1).strip()


def _pick(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    for w in wanted:
        for c in columns:
            if str(c).strip().lower() == w.lower():
                return c
    return None


def read_year_table(path: str | Path) -> list[YearSeries]:
    """Every item of the table with its values by year.

    Raises
    ------
    LayerError
        No year columns nor a year column, or a value that is not a number (naming the row
        and column).
    """
    p = Path(path)
    frame = read_attribute_table(p)
    columns = [str(c) for c in frame.columns]
    frame.columns = columns
    year_col = _pick(columns, _YEAR_COLUMNS)
    out: list[YearSeries] = []
    if year_col is not None:
        for c in columns:
            if c == year_col:
                continue
            name, unit = _split_unit(c)
            values: dict[int, float] = {}
            for i, rec in enumerate(frame.to_dict("records")):
                y = _year(rec.get(year_col))
                if y is None:
                    continue
                v = _number(rec.get(c), p, i + 2, c)
                if v is not None:
                    values[y] = v
            out.append(YearSeries(name, unit, values))
        return out
    years = {c: y for c in columns if (y := _year(c)) is not None}
    name_col = _pick(columns, _NAME_COLUMNS) or columns[0]
    if not years:
        raise LayerError(
            f"Table {p} has neither year columns (2021, 2025年 …) nor a year column (年份).",
            file=str(p),
            fix="Put the years in the header row, or add a 年份 column.",
            message_zh=f"表 {p} 既没有年份列（2021、2025年 …），也没有“年份”列。",
            fix_zh="请在表头写年份，或增加“年份”列。",
        )
    unit_col = _pick(columns, _UNIT_COLUMNS)
    for i, rec in enumerate(frame.to_dict("records")):
        raw_name = str(rec.get(name_col) or "").strip()
        if not raw_name or raw_name == "nan":
            continue
        name, unit = _split_unit(raw_name)
        if unit_col is not None and str(rec.get(unit_col) or "").strip() not in ("", "nan"):
            unit = str(rec.get(unit_col)).strip()
        values = {}
        for c, y in years.items():
            v = _number(rec.get(c), p, i + 2, c, raw_name)
            if v is not None:
                values[y] = v
        out.append(YearSeries(name, unit, values, row=i + 2))
    return out
