"""Joining a CSV/XLSX attribute table to an imported layer by a key field
(``guotu import FILE --table T.xlsx --key DKBH``; :mod:`guotu.services.importing`)."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd

from guotu.domain.core.roles import Role, detect_field_mapping
from guotu.errors import LayerError
from guotu.io.readers import read_attribute_table
from guotu.services.import_fields import key_text
from guotu.settings import Settings

__all__ = ["join_table"]


def join_table(
    frame: gpd.GeoDataFrame,
    table: str | Path,
    key: str | None,
    role: Role,
    where: dict[str, str],
    settings: Settings | None,
) -> tuple[gpd.GeoDataFrame, int, list[tuple[str, str]]]:
    if not key:
        raise LayerError(
            "--table needs --key FIELD: the column both files share.",
            file=str(table),
            fix="Add e.g. --key DKBH.",
            message_zh="使用 --table 时需要用 --key 字段 指定两个文件共有的关联字段。",
            fix_zh="请加上关联字段，如 --key DKBH。",
        )
    tab = read_attribute_table(table, settings=settings)
    tab = tab.rename(columns=detect_field_mapping([str(c) for c in tab.columns], role))
    for what, what_zh, cols, file in (
        ("layer", "图层", frame.columns, where["file"]),
        ("table", "属性表", tab.columns, str(table)),
    ):
        if key not in cols:
            raise LayerError(
                f"The {what} has no key column {key!r}.",
                file=file,
                field=key,
                fix=f"Columns: {', '.join(map(str, cols))}; give --key one present in both.",
                message_zh=f"{what_zh}中没有关联字段 {key!r}。",
                fix_zh=f"现有字段：{'、'.join(map(str, cols))}；--key 请指定两者都有的字段。",
            )
    left = frame[key].map(key_text)
    right = tab[key].map(key_text)
    tab, right = tab[right.notna()], right[right.notna()]  # blank keys join nothing
    dup = right[right.duplicated(keep=False) & right.notna()]
    if len(dup):
        raise LayerError(
            f"Table {table} has the key {key}={dup.iloc[0]!r} more than once "
            f"({dup.nunique()} keys repeated).",
            file=str(table),
            field=key,
            fix="Make the key unique in the table (one row per feature).",
            message_zh=f"属性表 {table} 中关联字段值 {key}={dup.iloc[0]!r} 出现不止一次"
            f"（共 {dup.nunique()} 个值重复）。",
            fix_zh="请保证属性表中关联字段的值唯一（每个要素一行）。",
        )
    tab = tab.assign(**{key: right}).set_index(key)
    overlap = [c for c in tab.columns if c in frame.columns]
    warnings_ = [
        (
            f"属性表的字段 {c} 替换了图层中的同名字段。",
            f"Table column {c} replaces the layer's column of the same name.",
        )
        for c in overlap
    ]
    base = frame.drop(columns=overlap)
    extra = tab.reindex(left.to_numpy())
    extra.index = frame.index
    out = gpd.GeoDataFrame(
        pd.concat([base, extra], axis=1), geometry=frame.geometry.name, crs=frame.crs
    )
    matched = int((left.notna() & left.isin(tab.index)).sum())
    if matched < len(frame):
        warnings_.append(
            (
                f"{len(frame)} 个要素中有 {len(frame) - matched} 个在 "
                f"{Path(table).name} 中没有对应行（关联字段 {key}）。",
                f"{len(frame) - matched} of {len(frame)} features have no row in "
                f"{Path(table).name} (key {key}).",
            )
        )
    return out, matched, warnings_
