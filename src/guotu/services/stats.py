"""Land-use balance table (用地平衡表): area by code at each level, for any layer and boundary.

Areas are ellipsoidal (椭球面积, the official figure) with the planar projected area beside
them; shares are fractions of the total (0–1). A boundary (``boundary_layer`` with an
optional ``where`` selection such as ``XZQDM=370100101000``) clips the features first: a
feature fully inside counts whole, one crossing the boundary counts with its inside part.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import shapely
from pyproj import CRS

from guotu.domain.codes.code_names import name_code
from guotu.domain.codes.crosswalks import Scheme
from guotu.domain.core.fields import FIELDS
from guotu.domain.core.roles import get_role
from guotu.domain.geometry.area import ellipsoidal_area_m2, planar_area_m2
from guotu.errors import ConfigError, NotFoundError
from guotu.ports import FeatureStore
from guotu.services.read_note import ReadNote, describe_read

__all__ = ["M2_PER_MU", "BalanceRow", "BalanceTable", "land_use_balance"]

#: Threads for the ellipsoidal areas of large layers.
AREA_WORKERS = min(2, os.cpu_count() or 1)

#: 1 亩 = 10000/15 m².
M2_PER_MU = 10000.0 / 15.0


@dataclass(frozen=True)
class BalanceRow:
    """One line of the table: a code at one level."""

    code: str
    name_zh: str
    name_en: str
    level: int
    features: int
    area_m2: float
    planar_area_m2: float
    share: float

    @property
    def area_ha(self) -> float:
        """Area in 公顷 (hectares)."""
        return self.area_m2 / 10_000.0

    @property
    def area_mu(self) -> float:
        """Area in 亩."""
        return self.area_m2 / M2_PER_MU

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "code": self.code,
            "name_zh": self.name_zh,
            "name_en": self.name_en,
            "level": self.level,
            "features": self.features,
            "area_m2": self.area_m2,
            "planar_area_m2": self.planar_area_m2,
            "area_ha": self.area_ha,
            "area_mu": self.area_mu,
            "share": self.share,
        }


@dataclass(frozen=True)
class BalanceTable:
    """The 用地平衡表 of one layer."""

    layer: str
    code_field: str
    crs: str
    boundary: str | None
    rows: tuple[BalanceRow, ...]
    total_area_m2: float
    total_planar_area_m2: float
    features: int
    uncoded_area_m2: float = 0.0
    notes: tuple[tuple[str, str], ...] = field(default=())  # (zh, en)
    read: ReadNote | None = None  # which version the figures come from

    def to_dict(self) -> dict[str, Any]:
        """The ``guotu stats --json`` form."""
        return {
            "layer": self.layer,
            "code_field": self.code_field,
            "crs": self.crs,
            "boundary": self.boundary,
            "features": self.features,
            "rows": [r.to_dict() for r in self.rows],
            "total_area_m2": self.total_area_m2,
            "total_planar_area_m2": self.total_planar_area_m2,
            "total_area_ha": self.total_area_m2 / 10_000.0,
            "uncoded_area_m2": self.uncoded_area_m2,
            "notes": [en for _zh, en in self.notes],
            "notes_zh": [zh for zh, _en in self.notes],
            "data_version": self.read.to_dict() if self.read else None,
        }

    def to_frame(self, *, lang: str = "zh", mu: bool = False) -> pd.DataFrame:
        """The table as a DataFrame with headed columns (for CSV/XLSX)."""
        zh = lang != "en"
        cols = {
            "code": "代码" if zh else "Code",
            "name": "名称" if zh else "Name",
            "level": "级别" if zh else "Level",
            "features": "图斑数" if zh else "Features",
            "area_m2": "椭球面积(平方米)" if zh else "Ellipsoidal area (m²)",
            "area_ha": "面积(公顷)" if zh else "Area (ha)",
            "share": "占比(%)" if zh else "Share (%)",
            "planar": "投影面积(平方米)" if zh else "Planar area (m²)",
        }
        data: dict[str, list[Any]] = {v: [] for v in cols.values()}
        if mu:
            data["面积(亩)" if zh else "Area (mu)"] = []
        for r in self.rows:
            data[cols["code"]].append(r.code)
            data[cols["name"]].append(r.name_zh if zh else r.name_en)
            data[cols["level"]].append(r.level)
            data[cols["features"]].append(r.features)
            data[cols["area_m2"]].append(round(r.area_m2, 2))
            data[cols["area_ha"]].append(round(r.area_ha, 4))
            data[cols["share"]].append(round(100 * r.share, 2))
            data[cols["planar"]].append(round(r.planar_area_m2, 2))
            if mu:
                data["面积(亩)" if zh else "Area (mu)"].append(round(r.area_mu, 2))
        return pd.DataFrame(data)


def land_use_balance(
    store: FeatureStore,
    layer: str,
    *,
    code_field: str | None = None,
    boundary_layer: str | None = None,
    where: Mapping[str, str] | None = None,
    max_level: int = 3,
    as_of: date | None = None,
    known_at: datetime | None = None,
) -> BalanceTable:
    """Compute the 用地平衡表 of ``layer``.

    Parameters
    ----------
    code_field
        Field holding the land-use code (default: the role's code field, YDYHFLDM or DLBM).
    boundary_layer, where
        Clip to the union of ``boundary_layer`` features matching ``where`` (field = value).
        ``where`` selects boundary features, so it needs ``boundary_layer``; a ``where``
        that matches no boundary feature is refused (never a whole-county table).

    Raises
    ------
    ConfigError
        ``where`` without ``boundary_layer``.
    NotFoundError
        A layer or field that does not exist, or a ``where`` matching no boundary feature
        (the error lists values the field has).
    max_level
        Deepest code level listed (1–3).
    """
    if where and not boundary_layer:
        raise _where_without_boundary(store, where)
    info = store.layer(layer)
    role = get_role(info.role)
    field_name = code_field or role.code_field
    if field_name is None:
        raise ConfigError(
            f"Layer {layer} (role {info.role}) has no land-use code field.",
            layer=layer,
            fix="Say which field holds codes: --field NAME.",
            message_zh=f"图层 {layer}（图层类型 {info.role}）没有用地分类代码字段。",
            fix_zh="请用 --field 字段名 指明哪个字段是用地代码。",
        )
    if field_name not in info.columns:
        raise NotFoundError(
            f"Layer {layer} has no field {field_name}.",
            layer=layer,
            field=field_name,
            fix=f"Fields: {', '.join(info.columns)}.",
            message_zh=f"图层 {layer} 中没有字段 {field_name}。",
            fix_zh=f"现有字段：{'、'.join(info.columns)}。",
        )
    scheme = Scheme.SANDIAO if field_name == "DLBM" else Scheme.YDYH2023
    frame = store.read_layer(layer, columns=[field_name], as_of=as_of, known_at=known_at)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    crs = CRS.from_user_input(info.crs)
    notes: list[tuple[str, str]] = []
    boundary_text = None
    if boundary_layer:
        geoms, keep = _clip(store, geoms, boundary_layer, where or {}, as_of, known_at)
        frame = frame.iloc[keep]
        boundary_text = boundary_layer + ("".join(f" {k}={v}" for k, v in (where or {}).items()))
        if not len(frame):
            notes.append(
                (
                    f"范围 {boundary_text} 内没有图层 {layer} 的图斑。",
                    f"No feature of layer {layer} lies within {boundary_text}.",
                )
            )
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        notes.append(
            (
                f"{int(invalid.sum())} 个无效几何仅为量算按 make_valid 修复；运行 guotu check "
                "查看并修正。",
                f"{int(invalid.sum())} invalid geometries were repaired (make_valid) for "
                "measuring only; run `guotu check` to see them.",
            )
        )
    area = ellipsoidal_area_m2(geoms, crs, workers=AREA_WORKERS)
    planar = planar_area_m2(geoms)
    codes = frame[field_name].astype("string").str.strip()
    coded = (codes.notna() & (codes != "")).to_numpy(dtype=bool)
    total, total_planar = float(area.sum()), float(planar.sum())
    # Group once by the full code, then roll the (few) distinct codes up their levels.
    by_code = (
        pd.DataFrame(
            {
                "code": codes[coded].to_numpy(dtype=object),
                "n": 1,
                "area": area[coded],
                "planar": planar[coded],
            }
        )
        .groupby("code", sort=False)
        .sum()
    )
    acc: dict[tuple[int, str], list[float]] = {}
    # Only known codes roll up (name_code): an unknown or malformed code (0999, 101) is listed
    # on its own at level 1 and never swells a real class.
    for code, (n, a, p) in zip(by_code.index.tolist(), by_code.to_numpy().tolist(), strict=True):
        for level, key in enumerate(name_code(code, scheme).levels, start=1):
            if level <= max_level:
                slot = acc.setdefault((level, key), [0, 0.0, 0.0])
                slot[0] += n
                slot[1] += a
                slot[2] += p
    rows = []
    for (level, code), (n, a, p) in sorted(acc.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        named = name_code(code, scheme)
        rows.append(
            BalanceRow(
                code,
                named.label("zh"),
                named.label("en"),
                level,
                int(n),
                a,
                p,
                a / total if total else 0.0,
            )
        )
    uncoded = float(area[~coded].sum())
    if uncoded:
        notes.append(
            (
                f"{int((~coded).sum())} 个图斑没有分类代码（{uncoded:.2f} 平方米），未计入分类。",
                f"{int((~coded).sum())} features without a code ({uncoded:.2f} m²).",
            )
        )
    read = describe_read(store, layer, as_of=as_of, known_at=known_at)
    return BalanceTable(
        layer,
        field_name,
        info.crs,
        boundary_text,
        tuple(rows),
        total,
        total_planar,
        len(frame),
        uncoded,
        tuple(notes),
        read,
    )


def _clip(
    store: FeatureStore,
    geoms: np.ndarray,
    boundary_layer: str,
    where: Mapping[str, str],
    as_of: date | None = None,
    known_at: datetime | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Clip ``geoms`` to the boundary; returns the clipped geometries and kept positions."""
    info = store.layer(boundary_layer)
    bframe = store.read_layer(boundary_layer, as_of=as_of, known_at=known_at)
    for key in where:
        if key not in info.columns:
            raise NotFoundError(
                f"Boundary layer {boundary_layer} has no field {key}.",
                layer=boundary_layer,
                field=key,
                fix=f"Fields: {', '.join(info.columns)}.",
                message_zh=f"范围图层 {boundary_layer} 中没有字段 {key}。",
                fix_zh=f"现有字段：{'、'.join(info.columns)}。",
            )
    for key, value in where.items():
        kept = bframe[bframe[key].astype(str).str.strip() == str(value).strip()]
        if kept.empty:
            raise _no_match(boundary_layer, key, value, bframe[key], where)
        bframe = kept
    boundary = shapely.union_all(shapely.make_valid(np.asarray(bframe.geometry.values)))
    shapely.prepare(boundary)
    tree = shapely.STRtree(geoms)
    candidates = np.unique(tree.query(boundary))
    cand = geoms[candidates]
    inside = shapely.contains_properly(boundary, cand)
    clipped = cand.copy()
    cut = ~inside
    clipped[cut] = shapely.intersection(shapely.make_valid(cand[cut]), boundary)
    nonempty = ~shapely.is_empty(clipped)
    return clipped[nonempty], candidates[nonempty]


#: Values of a field a refused ``--where`` lists, at most.
WHERE_VALUES_LISTED = 8


def _field_name(field: str, lang: str) -> str:
    """``行政区名称（XZQMC）`` for a standard field, the name alone for others."""
    std = FIELDS.get(field)
    if std is None:
        return field
    return f"{std.name_zh}（{field}）" if lang == "zh" else field


def _no_match(
    layer: str, field: str, value: str, column: pd.Series, where: Mapping[str, str]
) -> NotFoundError:
    """``field=value`` selects no feature of the boundary ``layer`` (selected so far by the
    conditions before it): the error names both and lists some values the field has."""
    values = [v for v in dict.fromkeys(column.dropna().astype(str).str.strip()) if v]
    shown = values[:WHERE_VALUES_LISTED]
    more_zh = f" 等 {len(values)} 个" if len(values) > len(shown) else ""
    more_en = f" … ({len(values)} in all)" if len(values) > len(shown) else ""
    condition = ", ".join(f"{k}={v}" for k, v in where.items())
    return NotFoundError(
        f"No feature of boundary layer {layer} has {field}={value} ({condition}): the table "
        "would be empty.",
        layer=layer,
        field=field,
        fix=f"Give a value {field} has: {', '.join(shown) or 'none'}{more_en}.",
        message_zh=f"范围图层 {layer} 中没有{_field_name(field, 'zh')}为“{value}”的要素"
        f"（--where {condition}），统计结果将为空。",
        fix_zh=f"请改用该字段现有的取值：{'、'.join(shown) or '无'}{more_zh}。",
    )


def _where_without_boundary(store: FeatureStore, where: Mapping[str, str]) -> ConfigError:
    """``where`` given without a boundary layer to select from: refused, naming a boundary
    layer that has the field when the workspace has one."""
    condition = " ".join(f"--where {k}={v}" for k, v in where.items())
    having = [i.name for i in store.layers() if all(k in i.columns for k in where)]
    boundaries = [i.name for i in store.layers() if i.role == "admin_boundary"]
    suggested = next((n for n in having if n in boundaries), having[0] if having else None)
    example = f"--boundary {suggested or 'XZQ'} {condition}"
    return ConfigError(
        f"{condition} selects features of the --boundary layer, and no --boundary was given: "
        "the figures would be the whole layer's.",
        fix=f"Name the layer to select from, e.g. {example}.",
        message_zh=f"{condition} 用于选取 --boundary 范围图层中的要素，但未给出 --boundary；"
        "否则统计的将是整个图层（全县）的数字。",
        fix_zh=f"请同时指明从哪个图层选取，例如 {example}。",
    )
