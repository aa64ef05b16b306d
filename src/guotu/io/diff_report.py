"""Writing a plan diff: XLSX (summary, changed features, 用地变化 matrix) and a GeoPackage of
the changed geometries for QGIS (written with GDAL to a new file, never the workspace).

Codes are written with their names in the classification of their own layer (三调 for a
现状地类图斑 layer, 用地用海 2023 for a planned land-use layer)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyogrio

__all__ = ["write_diff_gpkg", "write_diff_xlsx"]

_KINDS_ZH = {"added": "新增", "removed": "删除", "changed": "修改"}


def _named(code: Any, names: dict[str, Any], zh: bool) -> str:
    """``0103 旱地``: a code with its label
    (:meth:`guotu.domain.codes.code_names.CodeName.text`)."""
    if not isinstance(code, str) or not code:
        return ""
    if code == "∅":  # the matrix's key for no counterpart (guotu.services.diff.NONE_CODE)
        return "（无）" if zh else "(none)"
    entry = names.get(code)
    return code if entry is None else str(entry.text("zh" if zh else "en"))


def _code_of(frame: gpd.GeoDataFrame, field: str | None, fid: int | None) -> Any:
    if field is None or fid is None or fid not in frame.index:
        return None
    return frame.at[fid, field]


def write_diff_xlsx(path: Path, diff: Any, *, lang: str = "zh") -> None:
    """Three sheets: 汇总 (per layer), 变化要素 (each change, with its areas before and after
    and its use before and after), 用地变化矩阵 (公顷)."""
    zh = lang != "en"
    names = {d.layer: d.code_names() for d in diff.layers}
    summary = pd.DataFrame(
        [
            {
                ("图层" if zh else "Layer"): d.layer,
                ("新增" if zh else "Added"): d.count("added"),
                ("删除" if zh else "Removed"): d.count("removed"),
                ("变更" if zh else "Changed"): d.count("changed"),
            }
            for d in diff.layers
        ]
    )
    changes = pd.DataFrame(
        [
            {
                ("图层" if zh else "Layer"): d.layer,
                ("类型" if zh else "Kind"): _KINDS_ZH.get(c.kind, c.kind) if zh else c.kind,
                ("编号" if zh else "Key"): c.key,
                ("原fid" if zh else "Old fid"): c.old_fid,
                ("新fid" if zh else "New fid"): c.new_fid,
                ("原用途" if zh else "From use"): _named(
                    _code_of(d.old, d.code_field, c.old_fid), names[d.layer], zh
                ),
                ("新用途" if zh else "To use"): _named(
                    _code_of(d.new, d.code_field, c.new_fid), names[d.layer], zh
                ),
                ("原面积(平方米)" if zh else "Old area (m²)"): round(c.area_old_m2, 2),
                ("新面积(平方米)" if zh else "New area (m²)"): round(c.area_new_m2, 2),
                ("面积变化(平方米)" if zh else "Area change (m²)"): round(
                    c.area_new_m2 - c.area_old_m2, 2
                ),
                ("几何变化" if zh else "Geometry changed"): c.is_geometry_changed,
                ("属性变化" if zh else "Changed fields"): "; ".join(
                    f"{k}: {a} → {b}" for k, (a, b) in c.changed_fields.items()
                ),
            }
            for d in diff.layers
            for c in d.changes
        ]
    )
    matrix = pd.DataFrame(
        [
            {
                ("图层" if zh else "Layer"): d.layer,
                ("原用途" if zh else "From"): _named(a, names[d.layer], zh),
                ("现用途" if zh else "To"): _named(b, names[d.layer], zh),
                ("面积(公顷)" if zh else "Area (ha)"): round(v / 1e4, 6),
            }
            for d in diff.layers
            for (a, b), v in sorted(d.matrix.items())
        ]
    )
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        summary.to_excel(xl, sheet_name="汇总" if zh else "Summary", index=False)
        changes.to_excel(xl, sheet_name="变化要素" if zh else "Changes", index=False)
        matrix.to_excel(xl, sheet_name="用地变化矩阵" if zh else "Change matrix", index=False)


def write_diff_gpkg(path: Path, diff: Any) -> dict[str, int]:
    """Layers ``<layer>_old`` (removed or before the change) and ``<layer>_new`` (added or
    after), each with its fid and change kind. Returns features written per layer."""
    path.unlink(missing_ok=True)
    written: dict[str, int] = {}
    for d in diff.layers:
        kind_old = {c.old_fid: c.kind for c in d.changes if c.old_fid is not None}
        kind_new = {c.new_fid: c.kind for c in d.changes if c.new_fid is not None}
        for suffix, frame, kinds in (("old", d.old, kind_old), ("new", d.new, kind_new)):
            if frame.empty:
                continue
            out = gpd.GeoDataFrame(
                frame.reset_index().rename(columns={"fid": "guotu_fid"}),
                geometry=frame.geometry.name,
                crs=frame.crs,
            )
            out["change"] = [kinds.get(int(f), "") for f in out["guotu_fid"]]
            name = f"{d.layer}_{suffix}"
            pyogrio.write_dataframe(out, path, layer=name, driver="GPKG", append=path.exists())
            written[name] = len(out)
    return written
