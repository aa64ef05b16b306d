"""Import a layer into the workspace: read, map fields, check, reproject, write atomically.

The steps, each of which either passes or raises one :class:`~guotu.errors.InputError`
naming the file, layer, feature and field and saying how to fix it (exit code 2), before
anything is written:

1. read the file (encoding of Shapefiles from .cpg, GBK/GB18030 detected without one);
2. map its columns to standard names (auto-detected Chinese/pinyin names, ``--map``
   overrides, the mapping saved with the layer and reused when the layer is replaced);
3. join a CSV/XLSX attribute table by key, if given;
4. check the geometry kind against the role, coordinates for sanity and the CRS;
5. coerce standard fields to their types (numbers, dates, land-use codes as text);
6. reproject to the workspace CRS (chosen from the data's longitude when the first layer
   arrives) and write the layer in one transaction.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError as CRSError_

from guotu.domain.codes.classification import normalize_code
from guotu.domain.core.fields import FIELDS, FieldKind
from guotu.domain.core.model import check_layer_name
from guotu.domain.core.roles import GeometryKind, Role, detect_field_mapping, get_role
from guotu.domain.geometry.crs import parse_crs, workspace_crs_for_longitude
from guotu.errors import ConfigError, CRSError, LayerError
from guotu.io.readers import (
    SourceInfo,
    feature_label,
    read_attribute_table,
    read_vector,
    require_file,
)
from guotu.settings import Settings
from guotu.store.catalog import VersionSpec
from guotu.store.geopackage import GeoPackageStore, LayerInfo

__all__ = ["ImportResult", "import_file", "normalise_code"]

log = logging.getLogger(__name__)

#: Largest absolute value accepted in a numeric field; larger ones are taken as corrupt.
MAX_ABS_VALUE = 1e12
#: How far outside its CRS's area of use (degrees) data may lie before it is refused.
AREA_OF_USE_MARGIN_DEG = 3.0


@dataclass(frozen=True)
class ImportResult:
    """What an import did."""

    layer: LayerInfo
    source: SourceInfo
    field_map: dict[str, str]
    source_crs: str
    workspace_crs: str
    workspace_crs_chosen: bool = False
    table_rows_joined: int | None = None
    warnings: tuple[str, ...] = field(default=())
    empty_geometries: int = 0
    warnings_zh: tuple[str, ...] = field(default=())  # the same warnings in Chinese

    def to_dict(self) -> dict[str, Any]:
        """Machine-readable form for ``--json``."""
        return {
            "layer": self.layer.to_dict(),
            "source": self.source.__dict__,
            "field_map": self.field_map,
            "source_crs": self.source_crs,
            "workspace_crs": self.workspace_crs,
            "workspace_crs_chosen": self.workspace_crs_chosen,
            "table_rows_joined": self.table_rows_joined,
            "warnings": list(self.warnings),
            "warnings_zh": list(self.warnings_zh),
            "empty_geometries": self.empty_geometries,
        }


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


def import_file(
    store: GeoPackageStore,
    path: str | Path,
    *,
    role: str,
    layer: str | None = None,
    source_layer: str | None = None,
    field_map: Mapping[str, str] | None = None,
    crs: str | None = None,
    table: str | Path | None = None,
    table_key: str | None = None,
    replace: bool = False,
    workspace_crs: str | None = None,
    version: VersionSpec | None = None,
    actor: str = "",
    reason: str = "",
    encoding: str | None = None,
    allow_empty_geometry: bool = False,
    settings: Settings | None = None,
) -> ImportResult:
    """Import one layer of ``path`` into ``store`` as ``layer`` (default: the role id).

    Parameters
    ----------
    role
        Role id or Chinese name (see ``guotu roles``).
    field_map
        ``{source column: standard field}`` overrides of the automatic mapping.
    crs
        Declared CRS of the file (needed when it has none; overrides the one it has).
    table, table_key
        A CSV/XLSX attribute table left-joined on ``table_key`` (a standard field name
        after mapping, or a column name present in both).
    workspace_crs
        CRS for a new, empty workspace instead of the CGCS2000 GK zone of the data.
    version, actor, reason
        Record the layer in this version of a plan (see :class:`VersionSpec`); who imports
        it and why, for the audit log.
    encoding
        The encoding of the file's text, overriding a Shapefile's ``.cpg`` (checked
        strictly against the bytes all the same).
    allow_empty_geometry
        Keep features whose geometry is NULL or empty (refused otherwise); the result's
        ``empty_geometries`` counts them.
    settings
        Limits (``max_table_mb``, ``max_unzipped_mb`` …); default
        :func:`guotu.settings.load_settings`.

    Examples
    --------
    >>> # import_file(store, "三区三线.gpkg", role="生态保护红线", source_layer="STBHHX")
    """
    the_role = get_role(role)
    require_file(path)
    name = (layer or the_role.id).strip()
    existing = {i.name: i for i in store.layers()}
    same = next((n for n in existing if n.casefold() == name.casefold()), None)
    if same is not None and same != name:
        name = same  # SQL table names ignore case: GHYD and ghyd are one layer
    if name not in existing:
        _check_layer_name(name, path)
    if name in existing and not replace and version is None:
        raise LayerError(
            f"The workspace already has a layer {name!r}.",
            layer=name,
            file=str(path),
            fix="Choose another --layer name, add --replace to record the file as "
            "a new version of it (nothing is overwritten), or give --plan/--version.",
            message_zh=f"工作空间中已有图层 {name!r}。",
            fix_zh="请用 --layer 换一个图层名，或加上 --replace 将文件登记为该图层的"
            "新版本（原数据不会被覆盖），或用 --plan/--version 登记到规划版本。",
        )
    frame, source = read_vector(
        path, source_layer=source_layer, layer_hint=name, encoding=encoding, settings=settings
    )
    where = {"file": str(path), "layer": source.layer}
    overrides = dict(field_map or {})
    if not overrides and name in existing:
        overrides = {
            k: v for k, v in existing[name].field_map.items() if k in frame.columns and k != v
        }
    try:
        mapping = detect_field_mapping(
            [c for c in frame.columns if c != frame.geometry.name], the_role, overrides
        )
    except ConfigError as exc:  # a bad --map: say which file it was about
        exc.file = exc.file or str(path)
        raise
    frame = frame.rename(columns=mapping)
    _check_column_names(frame, where)
    warnings_: list[tuple[str, str]] = []  # (zh, en)
    joined: int | None = None
    if table is not None:
        frame, joined, more = _join_table(frame, table, table_key, the_role, where, settings)
        warnings_ += more
    _check_required_columns(frame, the_role, where, mapping)
    geometry_type, empty = _check_geometry(frame, the_role, where, allow_empty_geometry)
    if empty:
        warnings_.append(
            (
                f"{empty} 个要素没有几何（因 --allow-empty-geometry 而保留）。",
                f"{empty} features have no geometry (kept: --allow-empty-geometry).",
            )
        )
    frame = _coerce_fields(frame, where)
    source_crs = _source_crs(frame, crs, where)
    frame = frame.set_crs(source_crs, allow_override=True)
    _check_coordinates(frame, source_crs, where)
    chosen = False
    target = store.crs
    if (
        target is not None
        and workspace_crs
        and not parse_crs(workspace_crs, source="--workspace-crs").equals(target)
    ):
        raise CRSError(
            f"--workspace-crs {workspace_crs}: the workspace already uses {target.name}.",
            **where,
            fix="Leave out --workspace-crs, or import into a new workspace.",
            message_zh=f"--workspace-crs {workspace_crs}：工作空间已使用 {target.name}。",
            fix_zh="请去掉 --workspace-crs，或导入到新的工作空间。",
        )
    if target is None:
        target = (
            parse_crs(workspace_crs, source="--workspace-crs")
            if workspace_crs
            else _crs_for_data(frame, source_crs)
        )
        chosen = True
    if not target.is_projected:
        raise CRSError(
            f"The workspace CRS must be projected (metres); {target.name} is not.",
            fix="Use a CGCS2000 Gauss-Krüger CRS such as EPSG:4527.",
            message_zh=f"工作空间的坐标参考系必须是投影坐标系（单位：米），{target.name} 不是。",
            fix_zh="请使用 CGCS2000 高斯-克吕格投影坐标系，如 EPSG:4527。",
        )
    if not source_crs.equals(target):
        frame = frame.to_crs(target)
    column_types = _column_types(frame)
    # A new workspace's CRS is fixed in the same transaction as its first layer.
    info = store.write_layer(
        name,
        the_role.id,
        frame,
        column_types=column_types,
        geometry_type=geometry_type,
        source=str(path),
        source_layer=source.layer,
        field_map=mapping,
        replace=replace,
        crs=target if chosen else None,
        version=version,
        actor=actor,
        reason=reason,
    )
    return ImportResult(
        info,
        source,
        mapping,
        _crs_text(source_crs),
        _crs_text(target),
        chosen,
        joined,
        tuple(en for _, en in warnings_),
        empty,
        tuple(zh for zh, _ in warnings_),
    )


#: Column names the workspace uses itself (compared case-insensitively).
_RESERVED_COLUMNS = {"fid", "geom", "guotu_added_in", "guotu_hash"}


def _check_column_names(frame: gpd.GeoDataFrame, where: dict[str, str]) -> None:
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


def _check_layer_name(name: str, path: str | Path) -> None:
    try:
        check_layer_name(name)
    except LayerError as exc:
        exc.file = str(path)
        raise


def _join_table(
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
    left = frame[key].map(_key_text)
    right = tab[key].map(_key_text)
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


def _key_text(value: object) -> str | None:
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


def _check_required_columns(
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


_POLY = {"Polygon", "MultiPolygon"}
_LINE = {"LineString", "MultiLineString"}


def _check_geometry(
    frame: gpd.GeoDataFrame, role: Role, where: dict[str, str], allow_empty: bool
) -> tuple[str, int]:
    """The layer's geometry type, and how many features without geometry it keeps (refused
    unless ``allow_empty``). Wrong kinds and coordinates that are not finite numbers are
    refused, naming the first such feature."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    types = shapely.get_type_id(geoms)
    names = np.array(
        [
            "Missing",
            "Point",
            "LineString",
            "LinearRing",
            "Polygon",
            "MultiPoint",
            "MultiLineString",
            "MultiPolygon",
            "GeometryCollection",
        ]
    )[types + 1]
    allowed = {
        GeometryKind.POLYGON: _POLY,
        GeometryKind.LINE: _LINE,
        GeometryKind.POINT: {"Point", "MultiPoint"},
        GeometryKind.POLYGON_OR_LINE: _POLY | _LINE,
    }[role.geometry]
    present = ~np.isin(names, ["Missing"]) & ~shapely.is_empty(geoms)
    empty = int((~present).sum())
    if empty and not allow_empty:
        pos = int(np.flatnonzero(~present)[0])
        raise LayerError(
            f"Feature {feature_label(frame, pos)} has no geometry (NULL or empty; "
            f"{empty} of {len(frame)} features), but a layer of role {role.id} "
            f"({role.name_zh}) is a map: every feature needs its shape.",
            feature=pos + 1,
            **where,
            fix="Draw or delete those features in the source, or accept them "
            "explicitly with --allow-empty-geometry (the import result counts them).",
            message_zh=f"要素 {feature_label(frame, pos)} 没有几何图形（为空或 NULL；共 {empty} / "
            f"{len(frame)} 个要素），而图层类型 {role.id}（{role.name_zh}）的每个要素都必须有图形。",
            fix_zh="请在源数据中补绘或删除这些要素，或加 --allow-empty-geometry 明确接受"
            "（导入结果会列出其数量）。",
        )
    bad = present & ~np.isin(names, sorted(allowed))
    if bad.any():
        pos = int(np.flatnonzero(bad)[0])
        raise LayerError(
            f"Feature {feature_label(frame, pos)} is a {names[pos]}, but role {role.id} "
            f"({role.name_zh}) takes {' or '.join(sorted(allowed))} ({int(bad.sum())} such "
            "features).",
            feature=pos + 1,
            **where,
            fix="Split mixed geometry types into separate files, or choose the right --role.",
            message_zh=f"要素 {feature_label(frame, pos)} 的几何类型是 {names[pos]}，但图层类型 "
            f"{role.id}（{role.name_zh}）只接受 {' 或 '.join(sorted(allowed))}（共 "
            f"{int(bad.sum())} 个此类要素）。",
            fix_zh="请把不同几何类型的要素拆分到不同文件，或用 --role 选择正确的图层类型。",
        )
    coords, index = shapely.get_coordinates(geoms, include_z=True, return_index=True)
    with np.errstate(invalid="ignore"):
        # z may be NaN for 2D coordinates; x and y must be finite, z finite or NaN (absent)
        wrong = ~np.isfinite(coords[:, :2]).all(axis=1) | np.isinf(coords[:, 2])
    if wrong.any():
        rows = np.unique(index[wrong])
        row = int(rows[0])
        raise LayerError(
            f"Feature {feature_label(frame, row)} has coordinates that are not "
            f"numbers (NaN or infinite; {len(rows)} such features).",
            feature=row + 1,
            **where,
            fix="Repair or delete that feature in the source file.",
            message_zh=f"要素 {feature_label(frame, row)} 的坐标不是有效数值"
            f"（NaN 或无穷大；共 {len(rows)} 个此类要素）。",
            fix_zh="请在源文件中修复或删除该要素。",
        )
    kinds = set(names[present].tolist())
    has_poly, has_line = bool(kinds & _POLY), bool(kinds & _LINE)
    if has_poly and has_line:
        return "GEOMETRY", empty
    if has_line or (not has_poly and role.geometry == GeometryKind.LINE):
        frame.geometry.values[:] = _promote(geoms, "line")
        return "MULTILINESTRING", empty
    if role.geometry in (GeometryKind.POLYGON, GeometryKind.POLYGON_OR_LINE):
        frame.geometry.values[:] = _promote(geoms, "polygon")
        return "MULTIPOLYGON", empty
    return "GEOMETRY", empty


def _promote(geoms: np.ndarray, kind: str) -> np.ndarray:
    """Polygons → MultiPolygons (lines → MultiLineStrings), vectorized; others stay."""
    out = geoms.copy()
    single = shapely.GeometryType.POLYGON if kind == "polygon" else shapely.GeometryType.LINESTRING
    mask = (shapely.get_type_id(geoms) == single) & ~shapely.is_empty(geoms)
    if mask.any():
        maker = shapely.multipolygons if kind == "polygon" else shapely.multilinestrings
        out[mask] = maker(geoms[mask][:, None])
    return out


def _coerce_fields(frame: gpd.GeoDataFrame, where: dict[str, str]) -> gpd.GeoDataFrame:
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
        out[i] = _key_text(arr[i])  # 1001.0 → "1001", never "1.001e3"
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


def _source_crs(frame: gpd.GeoDataFrame, declared: str | None, where: dict[str, str]) -> CRS:
    if declared:
        return parse_crs(declared)
    if frame.crs is None:
        raise CRSError(
            f"{where['file']} (layer {where['layer']}) has no coordinate reference system "
            "(a Shapefile without .prj, or a file that does not say).",
            **where,
            fix="Declare it: --crs EPSG:4527 (CGCS2000 3° GK zone 39, easting with zone "
            "number) or --crs EPSG:4548 (same zone without it) or --crs EPSG:4490 (lon/lat).",
            message_zh=f"{where['file']}（图层 {where['layer']}）没有坐标参考系"
            "（缺少 .prj 的 Shapefile，或文件本身未注明坐标系）。",
            fix_zh="请用 --crs 声明坐标系：--crs EPSG:4527（CGCS2000 3 度带高斯-克吕格第 39 带，"
            "横坐标含带号）、--crs EPSG:4548（同一带，横坐标不含带号）或 --crs EPSG:4490"
            "（经纬度）。",
        )
    return CRS.from_user_input(frame.crs)


def _check_coordinates(frame: gpd.GeoDataFrame, crs: CRS, where: dict[str, str]) -> None:
    """Refuse features that cannot lie where ``crs`` is used: outside its area of use (with
    a margin of :data:`AREA_OF_USE_MARGIN_DEG`), or where the projection does not come back
    to the same point (a Web Mercator x of 39.5 million metres "wraps" round the earth)."""
    geoms = np.asarray(frame.geometry.values, dtype=object)
    present = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
    if not present.any():
        return
    bounds = shapely.bounds(geoms[present])
    x0, y0 = np.nanmin(bounds[:, 0]), np.nanmin(bounds[:, 1])
    x1, y1 = np.nanmax(bounds[:, 2]), np.nanmax(bounds[:, 3])
    xs = np.array([x0, x1, x0, x1, (x0 + x1) / 2, (x0 + x1) / 2, x0, x1])
    ys = np.array([y0, y0, y1, y1, y0, y1, (y0 + y1) / 2, (y0 + y1) / 2])
    if not _implausible(crs, xs, ys).any():
        return
    cx = (bounds[:, 0] + bounds[:, 2]) / 2
    cy = (bounds[:, 1] + bounds[:, 3]) / 2
    bad = _implausible(crs, cx, cy)
    if not bad.any():
        bad = _implausible(crs, bounds[:, 0], bounds[:, 1]) | _implausible(
            crs, bounds[:, 2], bounds[:, 3]
        )
    if not bad.any():
        return
    k = int(np.flatnonzero(bad)[0])
    row = int(np.flatnonzero(present)[k])
    hint, hint_zh = _guess_crs(cx[k], cy[k]) or (None, None)
    x, y = _coordinate_text(cx[k]), _coordinate_text(cy[k])
    raise CRSError(
        f"Feature {feature_label(frame, row)} lies at x={x}, y={y}, which "
        f"is not where {crs.name} is used ({int(bad.sum())} features out of range): the "
        "coordinates are absurd or the CRS is wrong.",
        feature=row + 1,
        **where,
        fix=(hint or "Check the coordinates, or declare the right CRS with --crs EPSG:…."),
        message_zh=f"要素 {feature_label(frame, row)} 位于 x={x}，y={y}，"
        f"不在 {crs.name} 的适用范围内（共 {int(bad.sum())} 个要素超出范围）：坐标有误，"
        "或坐标系不对。",
        fix_zh=(hint_zh or "请检查坐标，或用 --crs EPSG:… 声明正确的坐标系。"),
    )


def _coordinate_text(value: float) -> str:
    """A coordinate as a person reads it: metres to the millimetre, absurd ones short."""
    return f"{value:.3f}" if abs(value) < 1e12 else f"{value:.6g}"


def _area_of_use(crs: CRS) -> tuple[float, float, float, float] | None:
    """``(west, south, east, north)`` in degrees where ``crs`` is used: its own, or that of
    the EPSG CRS it matches (a .prj written by ArcGIS names no authority)."""
    aou = crs.area_of_use
    if aou is None:
        with contextlib.suppress(CRSError_, ValueError):
            code = crs.to_epsg(min_confidence=70)
            if code is not None:
                aou = CRS.from_epsg(code).area_of_use
    return None if aou is None else (aou.west, aou.south, aou.east, aou.north)


def _implausible(crs: CRS, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
    """Which points cannot be in ``crs``: not finite, off the globe, outside the area of use
    (plus margin), or (projected CRSs) not mapped back onto themselves within a metre."""
    lon, lat = _to_lonlat(crs, xs, ys)
    with np.errstate(invalid="ignore"):
        bad = ~np.isfinite(lon) | ~np.isfinite(lat) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
        aou = _area_of_use(crs)
        if aou is not None:
            west, south, east, north = aou
            m = AREA_OF_USE_MARGIN_DEG
            bad |= (lon < west - m) | (lon > east + m) | (lat < south - m) | (lat > north + m)
        if crs.is_projected and not bad.all():
            with np.errstate(all="ignore"):
                back_x, back_y = _transformer(crs, inverse=True).transform(lon, lat)
            bad |= ~(np.abs(np.asarray(back_x) - xs) < 1.0) | ~(
                np.abs(np.asarray(back_y) - ys) < 1.0
            )
    return np.asarray(bad, dtype=bool)


@functools.lru_cache(maxsize=32)
def _cached_transformer(wkt: str, inverse: bool) -> Transformer:
    crs = CRS.from_wkt(wkt)
    if inverse:
        return Transformer.from_crs(crs.geodetic_crs, crs, always_xy=True)
    return Transformer.from_crs(crs, crs.geodetic_crs, always_xy=True)


def _transformer(crs: CRS, *, inverse: bool = False) -> Transformer:
    return _cached_transformer(crs.to_wkt(), inverse)


def _to_lonlat(crs: CRS, xs: np.ndarray, ys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Longitude and latitude (degrees, x first) of points in ``crs``; NaN where PROJ fails."""
    if crs.is_geographic:
        return np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    with np.errstate(all="ignore"):
        lon, lat = _transformer(crs).transform(xs, ys)
    return np.asarray(lon, dtype=float), np.asarray(lat, dtype=float)


def _guess_crs(x: float, y: float) -> tuple[str, str] | None:
    """A likely fix for coordinates out of range, in English and Chinese."""
    if 73 <= x <= 136 and 3 <= y <= 54:
        return (
            "The numbers look like longitude/latitude: declare --crs EPSG:4490.",
            "这些数值看起来是经纬度：请声明 --crs EPSG:4490。",
        )
    if 3e5 <= y <= 6e6 and 25e6 <= x < 46e6:
        zone = int(x // 1e6)
        return (
            f"The eastings carry zone number {zone}: declare --crs EPSG:"
            f"{4513 + zone - 25} (CGCS2000 3° GK zone {zone}).",
            f"横坐标含带号 {zone}：请声明 --crs EPSG:{4513 + zone - 25}"
            f"（CGCS2000 3 度带高斯-克吕格第 {zone} 带）。",
        )
    if 3e5 <= x <= 6e6 and 25e6 <= y < 46e6:
        return (
            "x and y look swapped (northing first); swap them or fix the CRS's axis order.",
            "x 与 y 似乎颠倒了（纵坐标在前）：请互换坐标，或更正坐标系的轴顺序。",
        )
    return None


def _crs_for_data(frame: gpd.GeoDataFrame, crs: CRS) -> CRS:
    minx, miny, maxx, maxy = frame.total_bounds
    if not np.isfinite([minx, miny, maxx, maxy]).all():
        raise CRSError(
            "The first layer of a new workspace has no geometry to choose the workspace CRS from.",
            fix="Give it: --workspace-crs EPSG:4527 (or the Gauss-Krüger zone of your area).",
            message_zh="新工作空间的第一个图层没有几何图形，无法据此选定工作空间坐标系。",
            fix_zh="请指定：--workspace-crs EPSG:4527（或本地区的高斯-克吕格分带）。",
        )
    lons, lats = _to_lonlat(crs, np.array([(minx + maxx) / 2]), np.array([(miny + maxy) / 2]))
    lon, lat = float(lons[0]), float(lats[0])
    if crs.is_projected and not _is_china_gk(crs) and not (73 <= lon <= 136):
        return crs  # a user's own projected CRS outside China: keep it
    return CRS.from_epsg(workspace_crs_for_longitude(float(lon), float(lat)))


def _is_china_gk(crs: CRS) -> bool:
    auth = crs.to_authority()
    return bool(auth) and auth[0] == "EPSG" and 4491 <= int(auth[1]) <= 4554


def _column_types(frame: gpd.GeoDataFrame) -> dict[str, str]:
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


def _crs_text(crs: CRS) -> str:
    auth = crs.to_authority()
    return f"{auth[0]}:{auth[1]}" if auth else crs.name
