"""The geometries GDAL read, decoded or refused (:mod:`guotu.io.readers`): every geometry
present in the file is decoded, and one that is not (garbage WKB, an unclosed ring, a ring of
two points; GeoJSON geometry GDAL gave up on) is refused naming the feature
(:func:`feature_label`: its number in the file and its identifier).
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from guotu.errors import LayerError

__all__ = ["ID_FIELDS", "decode_geometries", "feature_label", "refuse_unreadable_json_geometry"]

#: Fields that identify a feature to a person, in the order they are tried.
ID_FIELDS = ("BSM", "DKBH", "DYBH", "XMDM", "TBBH", "YJJBNTTBBH", "XZQDM", "标识码", "地块编号")


def feature_label(frame: pd.DataFrame, pos: int) -> str:
    """``#12 (BSM=3709…)``: the feature's number in the file and its identifier, if any."""
    for f in ID_FIELDS:
        if f in frame.columns:
            value = frame[f].iloc[pos]
            if (
                value is not None
                and value is not pd.NA
                and not (isinstance(value, float) and np.isnan(value))
            ):
                return f"#{pos + 1} ({f}={value})"
    return f"#{pos + 1}"


def refuse_unreadable_json_geometry(
    p: Path, layer: str, geoms: np.ndarray, attrs: pd.DataFrame
) -> None:
    """GDAL gives NULL geometry for GeoJSON geometry it cannot parse (string coordinates);
    a feature whose ``geometry`` member is not null but came out NULL is refused."""
    missing = np.flatnonzero(np.array([g is None for g in geoms], dtype=bool))
    if not len(missing):
        return
    try:
        features = json.loads(p.read_bytes()).get("features", [])
    except (ValueError, AttributeError):
        return
    if len(features) != len(geoms):
        return
    lost = [int(i) for i in missing if features[int(i)].get("geometry") is not None]
    if lost:
        pos = lost[0]
        label = feature_label(attrs, pos)
        shown = json.dumps(features[pos]["geometry"], ensure_ascii=False)[:80]
        raise LayerError(
            f"Feature {label} of {p} has a geometry GDAL cannot read: {shown} "
            f"({len(lost)} such features).",
            file=str(p),
            layer=layer,
            feature=pos + 1,
            fix="Correct the geometry (type Point/LineString/Polygon/Multi…, coordinates as "
            "numbers) in the file.",
            message_zh=f"{p} 中要素 {label} 的几何无法解析：{shown}（共 {len(lost)} 个此类要素）。",
            fix_zh="请更正文件中的几何（类型须为 Point/LineString/Polygon/Multi… 等，坐标须为数值）。",
        )


def decode_geometries(wkb: np.ndarray, p: Path, layer: str, attrs: pd.DataFrame) -> np.ndarray:
    """Shapely geometries of the WKB column; a geometry the file holds that cannot be
    decoded is refused, naming the feature."""
    present = np.array([w is not None for w in wkb], dtype=bool)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        geoms = np.asarray(shapely.from_wkb(wkb, on_invalid="ignore"), dtype=object)
    broken = present & np.array([g is None for g in geoms], dtype=bool)
    if broken.any():
        pos = int(np.flatnonzero(broken)[0])
        reason, reason_zh = _wkb_problem(wkb[pos])
        label = feature_label(attrs, pos)
        raise LayerError(
            f"Feature {label} of {p} (layer {layer}) has a geometry that is not valid "
            f"geometry data: {reason} ({int(broken.sum())} such features).",
            file=str(p),
            layer=layer,
            feature=pos + 1,
            fix="Repair or delete that feature in the source (e.g. QGIS: Vector → Geometry "
            "Tools → Check Validity), then export again.",
            message_zh=f"{p}（图层 {layer}）中要素 {label} 的几何数据无法解析：{reason_zh}"
            f"（共 {int(broken.sum())} 个此类要素）。",
            fix_zh="请在源数据中修复或删除该要素（如 QGIS：矢量 → 几何工具 → 检查有效性）后重新导出。",
        )
    return geoms


def _wkb_problem(raw: bytes) -> tuple[str, str]:
    """Why one WKB does not decode, in English and Chinese."""
    try:
        shapely.from_wkb(raw)
    except shapely.errors.ShapelyError as exc:
        text = str(exc)
        if "closed" in text:
            return "a ring is not closed", "存在未闭合的环"
        if "number of points" in text.lower():
            return "a ring has fewer than 4 points", "存在少于 4 个点的环"
        return text.split("\n")[0], f"几何数据损坏（{text.splitlines()[0]}）"
    return "unknown", "原因未知"
