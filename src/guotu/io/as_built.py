"""Reading an as-built survey (竣工测量成果) for 规划核实: one file in, an
:class:`~guotu.domain.workflow.as_built.AsBuiltSurvey` out, or a refusal naming the file,
layer, feature and field and the fix.

The file (GeoJSON, GeoPackage, Shapefile, FileGDB or a zip of one) is read by
:func:`guotu.io.readers.read_vector`, with everything that module checks (container, encoding,
GDAL warnings, undecodable geometry). Then:

* the buildings layer: the one named, or the one layer of the file that is not a green layer;
* its fields, by Chinese name or pinyin code (case does not matter): 编号/建筑编号/楼号/BH
  (optional: the feature number stands in), 层数/建筑层数/CS, 高度/建筑高度/GD/JZGD,
  建筑面积/JZMJ. A 计容建筑面积 column, when present, is the floor area counted toward the FAR
  and is read instead of 建筑面积;
* the green space: a green layer of the same file (named 绿地, 绿化 … or LD, or given), or of
  another file (``green_path``), as polygons (an empty green layer: 0 m²); and/or a 绿地面积/LDMJ
  column on the buildings layer holding the surveyed total (every row that fills it the same),
  which the verification uses before the polygons.

It is refused, never repaired or reprojected: a file without a CRS, in a geographic CRS
(degrees) or in another CRS than the workspace's (reprojecting would make the lengths and areas
differ from those in the survey report); a geometry that is missing, not a polygon or not valid;
a floor count, height or floor area that is missing, not a number, not positive (floors: not a
whole number); two buildings with one id.
"""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely
from pyproj import CRS

from guotu.domain.geometry.crs import parse_crs
from guotu.domain.workflow.as_built import AsBuiltBuilding, AsBuiltSurvey, Polygonal
from guotu.errors import CRSError, GeometryError, InputError, LayerError
from guotu.io.readers import list_source_layers, read_vector, require_file
from guotu.io.source_files import format_of
from guotu.settings import Settings

__all__ = ["FIELD_NAMES", "read_as_built"]

#: Each quantity's accepted column names, in groups: the first group with a column in the file
#: is read (计容建筑面积 before 建筑面积); two columns of one group are ambiguous and refused.
FIELD_NAMES: dict[str, tuple[tuple[str, ...], ...]] = {
    "编号": (("编号", "建筑编号", "楼号", "BH"),),
    "层数": (("层数", "建筑层数", "CS"),),
    "高度": (("高度", "建筑高度", "GD", "JZGD"),),
    "建筑面积": (("计容建筑面积",), ("建筑面积", "JZMJ")),
    "绿地面积": (("绿地面积", "LDMJ"),),
}

_ENGLISH = {
    "编号": "id",
    "层数": "floors",
    "高度": "height",
    "建筑面积": "floor area",
    "绿地面积": "green area",
}
_REQUIRED = ("层数", "高度", "建筑面积")
_GREEN_WORDS = ("绿地", "绿化")


def _is_green_layer(name: str) -> bool:
    """Whether a layer's name says it holds the green space (绿地, 绿化 …, or LD)."""
    return name.strip().upper() == "LD" or any(w in name for w in _GREEN_WORDS)


def _where(p: Path, layer: str) -> dict[str, str]:
    return {"file": str(p), "layer": layer}


def _check_crs(frame: gpd.GeoDataFrame, target: CRS, where: dict[str, str]) -> None:
    """Refuse a layer without a CRS, in degrees, or in another CRS than ``target``."""
    f, layer = where["file"], where["layer"]
    if frame.crs is None:
        raise CRSError(
            f"{f} (layer {layer}) has no coordinate reference system.",
            **where,
            fix=f"Define it as the workspace CRS {target.name} (a Shapefile needs its .prj).",
            message_zh=f"{f}（图层 {layer}）没有坐标参考系。",
            fix_zh=f"请将其坐标系定义为工作空间坐标系 {target.name}（Shapefile 须附 .prj 文件）。",
        )
    crs = CRS.from_user_input(frame.crs)
    if not crs.is_projected:
        raise CRSError(
            f"{f} (layer {layer}) is in {crs.name}, in degrees; the verification measures "
            "in metres.",
            **where,
            fix=f"Deliver the survey in the workspace CRS {target.name}.",
            message_zh=f"{f}（图层 {layer}）的坐标系 {crs.name} 以度为单位，规划核实须以米量测。",
            fix_zh=f"请以工作空间坐标系 {target.name} 提交竣工测量成果。",
        )
    if not crs.equals(target, ignore_axis_order=True):
        raise CRSError(
            f"{f} (layer {layer}) is in {crs.name}, not in the workspace CRS {target.name}.",
            **where,
            fix=f"Deliver the survey in {target.name}; it is not reprojected here, so that its "
            "lengths and areas stay those of the survey report.",
            message_zh=f"{f}（图层 {layer}）的坐标系为 {crs.name}，不是工作空间坐标系 "
            f"{target.name}。",
            fix_zh=f"请以 {target.name} 提交；此处不做坐标转换，以免量测的长度、面积与竣工测量"
            "报告不一致。",
        )


def _columns(frame: gpd.GeoDataFrame, where: dict[str, str]) -> dict[str, str | None]:
    """The column holding each quantity of :data:`FIELD_NAMES` (``None``: not in the file);
    a required one missing, or two columns for one, is refused."""
    present = {str(c).strip().upper(): str(c) for c in frame.columns if c != frame.geometry.name}
    shown, shown_en = "、".join(present.values()) or "（无）", ", ".join(present.values()) or "-"
    out: dict[str, str | None] = {}
    for name, groups in FIELD_NAMES.items():
        out[name] = None
        for group in groups:
            found = [present[a.upper()] for a in group if a.upper() in present]
            if len(found) > 1:
                raise LayerError(
                    f"{where['file']} (layer {where['layer']}): the columns {' and '.join(found)} "
                    f"both hold the {_ENGLISH[name]} ({name}).",
                    **where,
                    field=found[1],
                    fix="Keep one of them (delete or rename the other).",
                    message_zh=f"{where['file']}（图层 {where['layer']}）中字段 "
                    f"{'与'.join(found)} 都表示{name}。",
                    fix_zh="请只保留其中一个（删除或改名另一个）。",
                )
            if found:
                out[name] = found[0]
                break
        if out[name] is None and name in _REQUIRED:
            names = [a for g in groups for a in g]
            raise LayerError(
                f"{where['file']} (layer {where['layer']}) has no {_ENGLISH[name]} ({name}) "
                f"column; accepted names: {', '.join(names)}.",
                **where,
                field=name,
                fix=f"Add the column or rename the one that holds it; columns: {shown_en}.",
                message_zh=f"{where['file']}（图层 {where['layer']}）缺少{name}字段，可用字段名："
                f"{'、'.join(names)}。",
                fix_zh=f"请添加该字段，或将对应字段改名为上述名称之一；现有字段：{shown}。",
            )
    return out


def _label(frame: pd.DataFrame, pos: int, id_column: str | None) -> str:
    """``#2 (BH=2号楼)``: the feature's number in the file and its id, if it has one."""
    value = _id_value(frame, pos, id_column)
    return f"#{pos + 1} ({id_column}={value})" if value else f"#{pos + 1}"


def _id_value(frame: pd.DataFrame, pos: int, id_column: str | None) -> str:
    if id_column is None:
        return ""
    raw = frame[id_column].iloc[pos]
    if raw is None or raw is pd.NA or (isinstance(raw, float) and math.isnan(raw)):
        return ""
    text = str(raw).strip()
    return text[:-2] if isinstance(raw, float) and text.endswith(".0") else text


def _number(
    frame: pd.DataFrame, pos: int, column: str, name: str, id_col: str | None, w: dict[str, str]
) -> float:
    """The value of ``column`` at row ``pos`` as a positive number (floors: whole), or refused."""
    raw: Any = frame[column].iloc[pos]
    label, f, layer = _label(frame, pos, id_col), w["file"], w["layer"]
    at_en = f"{f} (layer {layer}), feature {label}, field {column} ({_ENGLISH[name]})"
    at_zh = f"{f}（图层 {layer}）要素 {label} 的字段 {column}（{name}）"
    unit = "（单位：米）" if name == "高度" else "（单位：平方米）" if name != "层数" else ""
    if (
        raw is None
        or raw is pd.NA
        or (isinstance(raw, float) and math.isnan(raw))
        or (isinstance(raw, str) and not raw.strip())
    ):
        problem_en, problem_zh = "is empty", "为空"
    else:
        try:
            value = float(raw.strip() if isinstance(raw, str) else raw)
        except (TypeError, ValueError):
            value = math.nan
        if not math.isfinite(value):
            problem_en, problem_zh = f"holds {raw!r}, not a number", f"为 {raw!r}，不是数值"
        elif value <= 0:
            problem_en, problem_zh = f"is {raw!r}; it must be > 0", f"为 {raw!r}，必须大于 0"
        elif name == "层数" and value != int(value):
            problem_en, problem_zh = f"is {raw!r}, not a whole number", f"为 {raw!r}，不是整数"
        else:
            return value
    raise LayerError(
        f"{at_en} {problem_en}.",
        **w,
        feature=pos + 1,
        field=column,
        fix=f"Enter the surveyed {_ENGLISH[name]} as a number alone (no unit) in the file.",
        message_zh=f"{at_zh}{problem_zh}。",
        fix_zh=f"请在文件中填写实测{name}{unit}，只填数值，不带单位。",
    )


def _polygon(geom: Any, pos: int, label: str, where: dict[str, str]) -> Polygonal:
    """The feature's geometry as a valid 2-D polygon, or refused."""
    f, layer = where["file"], where["layer"]
    at_en, at_zh = f"{f} (layer {layer}), feature {label}", f"{f}（图层 {layer}）要素 {label}"
    if geom is None or geom.is_empty:
        problem_en, problem_zh = "has no geometry", "没有几何"
    elif not isinstance(geom, shapely.Polygon | shapely.MultiPolygon):
        problem_en, problem_zh = f"is a {geom.geom_type}", f"的几何为 {geom.geom_type}"
    elif not geom.is_valid:
        reason = shapely.is_valid_reason(geom)
        problem_en, problem_zh = f"has an invalid polygon: {reason}", f"的面无效：{reason}"
    else:
        return shapely.force_2d(geom)
    raise GeometryError(
        f"{at_en} {problem_en}; an outline must be a valid Polygon or MultiPolygon.",
        **where,
        feature=pos + 1,
        fix="Draw it as a valid polygon in the source (QGIS: Fix Geometries), then export again.",
        message_zh=f"{at_zh}{problem_zh}；轮廓必须是有效的面（Polygon 或 MultiPolygon）。",
        fix_zh="请在源数据中将其绘制为有效的面（如 QGIS“修复几何”）后重新导出。",
    )


def _buildings(
    frame: gpd.GeoDataFrame, cols: dict[str, str | None], where: dict[str, str]
) -> tuple[AsBuiltBuilding, ...]:
    id_col = cols["编号"]
    seen: dict[str, int] = {}
    out = []
    geoms = frame.geometry.to_numpy()
    for pos in range(len(frame)):
        bid = _id_value(frame, pos, id_col) or f"#{pos + 1}"
        if bid in seen:
            raise LayerError(
                f"{where['file']} (layer {where['layer']}): features #{seen[bid] + 1} and "
                f"#{pos + 1} both have the id {bid!r} (field {id_col}).",
                **where,
                feature=pos + 1,
                field=id_col,
                fix="Give every building its own id (编号).",
                message_zh=f"{where['file']}（图层 {where['layer']}）中要素 #{seen[bid] + 1} 与 "
                f"#{pos + 1} 的编号（字段 {id_col}）都是 {bid!r}。",
                fix_zh="请为每栋建筑填写不同的编号。",
            )
        seen[bid] = pos
        label = _label(frame, pos, id_col)
        footprint = _polygon(geoms[pos], pos, label, where)
        floors, height, area = (
            _number(frame, pos, str(cols[name]), name, id_col, where) for name in _REQUIRED
        )
        out.append(AsBuiltBuilding(bid, footprint, int(floors), height, area, fid=pos + 1))
    return tuple(out)


def _green_total(
    frame: gpd.GeoDataFrame, column: str | None, id_col: str | None, where: dict[str, str]
) -> float | None:
    """The surveyed green total of a 绿地面积 column: the same on every row that fills it."""
    if column is None:
        return None
    filled = [
        (pos, frame[column].iloc[pos])
        for pos in range(len(frame))
        if not pd.isna(frame[column].iloc[pos]) and str(frame[column].iloc[pos]).strip()
    ]
    values = [(pos, _number(frame, pos, column, "绿地面积", id_col, where)) for pos, _ in filled]
    differ = [(pos, v) for pos, v in values if v != values[0][1]]
    if differ:
        (first, one), (other, two) = values[0], differ[0]
        raise LayerError(
            f"{where['file']} (layer {where['layer']}): the green total ({column}) is "
            f"{one:g} on feature #{first + 1} but {two:g} on #{other + 1}.",
            **where,
            feature=other + 1,
            field=column,
            fix="Give the project's surveyed green area once, or the same on every row.",
            message_zh=f"{where['file']}（图层 {where['layer']}）的绿地面积（字段 {column}）在"
            f"要素 #{first + 1} 为 {one:g}，在要素 #{other + 1} 却为 {two:g}。",
            fix_zh="绿地面积是项目的实测总面积：请只填一次，或每行填写相同的值。",
        )
    return values[0][1] if values else None


def _green_polygons(
    path: Path, layer: str | None, target: CRS, settings: Settings | None
) -> tuple[Polygonal, ...]:
    frame, info = read_vector(path, source_layer=layer, settings=settings)
    where = _where(path, info.layer)
    _check_crs(frame, target, where)
    geoms = frame.geometry.to_numpy()
    return tuple(_polygon(geoms[pos], pos, f"#{pos + 1}", where) for pos in range(len(frame)))


def _choose_layers(
    p: Path, layer: str | None, green_layer: str | None
) -> tuple[str | None, str | None]:
    """The buildings layer and the green layer of the same file (``None``: none, or a zip
    whose one dataset :func:`read_vector` finds)."""
    if format_of(p) == "zipped data":
        return layer, green_layer
    layers = list_source_layers(p)
    if green_layer is not None and green_layer not in layers:
        raise LayerError(
            f"{p} has no layer {green_layer!r}.",
            file=str(p),
            layer=green_layer,
            fix=f"Layers in it: {', '.join(layers)}.",
            message_zh=f"{p} 中没有图层 {green_layer!r}。",
            fix_zh=f"其中的图层有：{'、'.join(layers)}。",
        )
    greens = [n for n in layers if n == green_layer or (green_layer is None and _is_green_layer(n))]
    if layer is not None:
        return layer, (greens[0] if greens and greens[0] != layer else None)
    rest = [n for n in layers if n not in greens]
    if len(rest) == 1:
        return rest[0], (greens[0] if greens else None)
    listed = "、".join(layers) or "（无）"
    raise LayerError(
        f"{p} holds {len(rest)} layers that could be the buildings: {', '.join(rest) or '-'}.",
        file=str(p),
        fix=f"Name the buildings layer (layers: {', '.join(layers)}).",
        message_zh=f"{p} 中有 {len(rest)} 个图层可能是建筑图层，无法确定读取哪一个。",
        fix_zh=f"请指定建筑图层（现有图层：{listed}）；绿地图层请命名为“绿地”。",
    )


def read_as_built(
    path: str | Path,
    *,
    crs: CRS | str | int,
    layer: str | None = None,
    green_layer: str | None = None,
    green_path: str | Path | None = None,
    surveyed_on: date | None = None,
    surveyor: str = "",
    settings: Settings | None = None,
) -> AsBuiltSurvey:
    """Read the as-built survey at ``path`` in the workspace CRS ``crs`` (see the module
    docstring for the layers and fields it reads).

    ``layer`` names the buildings layer and ``green_layer`` the green layer (of ``green_path``
    when given, else of the same file); ``surveyed_on`` and ``surveyor`` are recorded with it.

    Raises
    ------
    LayerError, GeometryError, CRSError
        (all :class:`~guotu.errors.InputError`, exit 2) naming the file, layer, feature and
        field, and the fix.

    Examples
    --------
    >>> import tempfile
    >>> box = shapely.box(39_540_010, 4_052_010, 39_540_030, 4_052_050)
    >>> frame = gpd.GeoDataFrame({"BH": ["1号楼"], "CS": [12], "JZGD": [39.6],
    ...     "JZMJ": [9600.0]}, geometry=[box], crs="EPSG:4527")
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     frame.to_file(Path(tmp) / "jgcl.geojson")
    ...     survey = read_as_built(Path(tmp) / "jgcl.geojson", crs="EPSG:4527")
    >>> [(b.id, b.floors, b.height_m, b.floor_area_m2) for b in survey.buildings]
    [('1号楼', 12, 39.6, 9600.0)]
    """
    target = parse_crs(crs, source="workspace CRS")
    p = require_file(path)
    building_layer, same_file_green = _choose_layers(p, layer, None if green_path else green_layer)
    frame, info = read_vector(p, source_layer=building_layer, settings=settings)
    where = _where(p, info.layer)
    _check_crs(frame, target, where)
    if frame.empty:
        raise LayerError(
            f"{p} (layer {info.layer}) holds no buildings.",
            **where,
            fix="Check that it is the as-built survey and that it is complete.",
            message_zh=f"{p}（图层 {info.layer}）中没有任何建筑。",
            fix_zh="请检查是否为竣工测量成果、数据是否完整。",
        )
    cols = _columns(frame, where)
    buildings = _buildings(frame, cols, where)
    total = _green_total(frame, cols["绿地面积"], cols["编号"], where)
    greens: tuple[Polygonal, ...] = ()
    green_source = require_file(green_path) if green_path is not None else p
    green_name = green_layer if green_path is not None else same_file_green
    if green_path is not None or same_file_green is not None:
        greens = _green_polygons(green_source, green_name, target, settings)
        total = 0.0 if not greens and total is None else total  # an empty layer: none surveyed
    try:
        return AsBuiltSurvey(
            buildings, target, total, greens, surveyed_on, surveyor, str(p), info.layer
        )
    except InputError as exc:  # what the domain refuses still names the file
        exc.file, exc.layer = exc.file or str(p), exc.layer or info.layer
        raise
