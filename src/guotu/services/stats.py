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

from guotu.domain.area import ellipsoidal_area_m2, planar_area_m2
from guotu.domain.crosswalks import Scheme, name_code
from guotu.domain.roles import get_role
from guotu.errors import ConfigError, NotFoundError
from guotu.services.read_note import ReadNote, describe_read
from guotu.store.geopackage import GeoPackageStore

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
        return {"code": self.code, "name_zh": self.name_zh, "name_en": self.name_en,
                "level": self.level, "features": self.features, "area_m2": self.area_m2,
                "planar_area_m2": self.planar_area_m2, "area_ha": self.area_ha,
                "area_mu": self.area_mu, "share": self.share}


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
        return {"layer": self.layer, "code_field": self.code_field, "crs": self.crs,
                "boundary": self.boundary, "features": self.features,
                "rows": [r.to_dict() for r in self.rows], "total_area_m2": self.total_area_m2,
                "total_planar_area_m2": self.total_planar_area_m2,
                "total_area_ha": self.total_area_m2 / 10_000.0,
                "uncoded_area_m2": self.uncoded_area_m2,
                "notes": [en for _zh, en in self.notes], "notes_zh": [zh for zh, _en in self.notes],
                "data_version": self.read.to_dict() if self.read else None}

    def to_frame(self, *, lang: str = "zh", mu: bool = False) -> pd.DataFrame:
        """The table as a DataFrame with headed columns (for CSV/XLSX)."""
        zh = lang != "en"
        cols = {"code": "代码" if zh else "Code", "name": "名称" if zh else "Name",
                "level": "级别" if zh else "Level", "features": "图斑数" if zh else "Features",
                "area_m2": "椭球面积(平方米)" if zh else "Ellipsoidal area (m²)",
                "area_ha": "面积(公顷)" if zh else "Area (ha)",
                "share": "占比(%)" if zh else "Share (%)",
                "planar": "投影面积(平方米)" if zh else "Planar area (m²)"}
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
    store: GeoPackageStore,
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
    max_level
        Deepest code level listed (1–3).

    Examples
    --------
    >>> # land_use_balance(store, "GHYD", boundary_layer="XZQ", where={"XZQDM": "..."})
    """
    info = store.layer(layer)
    role = get_role(info.role)
    field_name = code_field or role.code_field
    if field_name is None:
        raise ConfigError(f"Layer {layer} (role {info.role}) has no land-use code field.",
                          layer=layer, fix="Say which field holds codes: --field NAME.",
                          message_zh=f"图层 {layer}（图层类型 {info.role}）没有用地分类代码字段。",
                          fix_zh="请用 --field 字段名 指明哪个字段是用地代码。")
    if field_name not in info.columns:
        raise NotFoundError(f"Layer {layer} has no field {field_name}.", layer=layer,
                            field=field_name, fix=f"Fields: {', '.join(info.columns)}.",
                            message_zh=f"图层 {layer} 中没有字段 {field_name}。",
                            fix_zh=f"现有字段：{'、'.join(info.columns)}。")
    scheme = Scheme.SANDIAO if field_name == "DLBM" else Scheme.YDYH2023
    frame = store.read_layer(layer, columns=[field_name], as_of=as_of, known_at=known_at)
    geoms = np.asarray(frame.geometry.values, dtype=object)
    crs = CRS.from_user_input(info.crs)
    notes: list[tuple[str, str]] = []
    boundary_text = None
    if boundary_layer:
        geoms, keep = _clip(store, geoms, boundary_layer, where or {}, as_of, known_at)
        frame = frame.iloc[keep]
        boundary_text = boundary_layer + (
            "".join(f" {k}={v}" for k, v in (where or {}).items()))
    invalid = ~shapely.is_valid(geoms) & ~shapely.is_missing(geoms)
    if invalid.any():
        geoms = geoms.copy()
        geoms[invalid] = shapely.make_valid(geoms[invalid])
        notes.append((f"{int(invalid.sum())} 个无效几何仅为量算按 make_valid 修复；运行 guotu check "
                      "查看并修正。",
                      f"{int(invalid.sum())} invalid geometries were repaired (make_valid) for "
                      "measuring only; run `guotu check` to see them."))
    area = ellipsoidal_area_m2(geoms, crs, workers=AREA_WORKERS)
    planar = planar_area_m2(geoms)
    codes = frame[field_name].astype("string").str.strip()
    coded = (codes.notna() & (codes != "")).to_numpy(dtype=bool)
    total, total_planar = float(area.sum()), float(planar.sum())
    # Group once by the full code, then roll the (few) distinct codes up their levels.
    by_code = pd.DataFrame({"code": codes[coded].to_numpy(dtype=object), "n": 1,
                            "area": area[coded], "planar": planar[coded]}
                           ).groupby("code", sort=False).sum()
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
        rows.append(BalanceRow(code, named.label("zh"), named.label("en"), level, int(n), a, p,
                               a / total if total else 0.0))
    uncoded = float(area[~coded].sum())
    if uncoded:
        notes.append((f"{int((~coded).sum())} 个图斑没有分类代码（{uncoded:.2f} 平方米），未计入分类。",
                      f"{int((~coded).sum())} features without a code ({uncoded:.2f} m²)."))
    read = describe_read(store, layer, as_of=as_of, known_at=known_at)
    return BalanceTable(layer, field_name, info.crs, boundary_text, tuple(rows), total,
                        total_planar, len(frame), uncoded, tuple(notes), read)


def _clip(store: GeoPackageStore, geoms: np.ndarray, boundary_layer: str,
          where: Mapping[str, str], as_of: date | None = None,
          known_at: datetime | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Clip ``geoms`` to the boundary; returns the clipped geometries and kept positions."""
    info = store.layer(boundary_layer)
    bframe = store.read_layer(boundary_layer, as_of=as_of, known_at=known_at)
    for key, value in where.items():
        if key not in info.columns:
            raise NotFoundError(f"Boundary layer {boundary_layer} has no field {key}.",
                                layer=boundary_layer, field=key,
                                fix=f"Fields: {', '.join(info.columns)}.",
                                message_zh=f"范围图层 {boundary_layer} 中没有字段 {key}。",
                                fix_zh=f"现有字段：{'、'.join(info.columns)}。")
        bframe = bframe[bframe[key].astype(str) == str(value)]
    if bframe.empty:
        condition = ", ".join(f"{k}={v}" for k, v in where.items())
        raise NotFoundError(f"No feature of {boundary_layer} matches {condition}.",
                            layer=boundary_layer, fix="Check the value (guotu layers shows "
                            "the fields).",
                            message_zh=f"图层 {boundary_layer} 中没有符合 {condition} 的要素。",
                            fix_zh="请检查取值（guotu layers 可列出各图层的字段）。")
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
