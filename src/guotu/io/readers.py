"""Reading the files bureaus hand over: Shapefile, GeoPackage, FileGDB, GeoJSON, CSV, XLSX.

A file is either read whole and right or refused with a :class:`~guotu.errors.LayerError`
naming the file (and layer, feature and field) and the fix. Before GDAL reads anything:

* the container is checked against what it says of itself
  (:mod:`guotu.io.containers`: Shapefile and FileGDB headers, SQLite's quick check);
* the text encoding is decided from the bytes (:mod:`guotu.io.encodings`): a ``.cpg`` that
  names the wrong code page is refused, not obeyed; GeoJSON must be UTF-8;
* a zip is unpacked within limits (:mod:`guotu.io.archives`) and read like a folder.

While GDAL reads, its warnings are failures, not noise. After it has read, the number of
features is compared with the number the container declares, and every geometry that is
present in the file but cannot be decoded (garbage WKB, an unclosed ring, a ring of two
points) is refused naming the feature.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow as pa
import pyogrio
import shapely
from pyarrow.lib import ArrowException
from pyogrio.errors import DataLayerError, DataSourceError

from guotu.errors import LayerError, TooLargeError
from guotu.io.archives import ZipLimits, find_dataset, too_large, unpack_zip
from guotu.io.containers import check_container
from guotu.io.encodings import check_utf8_text, codec_name, shapefile_encoding
from guotu.settings import Settings, load_settings

__all__ = [
    "ID_FIELDS",
    "SourceInfo",
    "feature_label",
    "list_source_layers",
    "read_attribute_table",
    "read_vector",
    "require_file",
]

log = logging.getLogger(__name__)

_VECTOR_SUFFIXES = {
    ".shp": "Shapefile",
    ".gpkg": "GeoPackage",
    ".gdb": "FileGDB",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".zip": "zipped data",
}
_TABLE_SUFFIXES = {".csv", ".xlsx"}
_MIB = 1024 * 1024


@dataclass(frozen=True)
class SourceInfo:
    """Where a layer came from."""

    path: str
    format: str
    layer: str
    encoding: str | None
    features: int


def _sibling(shp: Path, suffix: str) -> Path | None:
    for p in shp.parent.glob(shp.stem + ".*"):
        if p.suffix.lower() == suffix and p.stem == shp.stem:
            return p
    return None


def _display_name(p: Path) -> str:
    """A file name that prints: one whose bytes are not UTF-8 is shown as GBK would read it."""
    text = str(p)
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return os.fsencode(p).decode("gb18030", "replace")


def _check_name_encoding(p: Path) -> None:
    try:
        str(p).encode("utf-8")
    except UnicodeEncodeError:
        shown = _display_name(p)
        raise LayerError(
            f"The name of {shown} is not UTF-8 (it was probably copied from a Windows system "
            "in GBK); GDAL cannot open it.",
            file=shown,
            fix="Rename the file (and its .dbf, .shx, .prj, .cpg), e.g. with "
            "`convmv -f gbk -t utf8 --notest FILE`.",
            message_zh=f"文件名 {shown} 不是 UTF-8 编码（多半是从 GBK 编码的 Windows 系统拷贝而来），"
            "GDAL 无法打开。",
            fix_zh="请重命名该文件（及同名的 .dbf、.shx、.prj、.cpg），如用 "
            "`convmv -f gbk -t utf8 --notest 文件名`。",
        ) from None


def require_file(path: str | Path) -> Path:
    """``path`` as a Path, refused when it does not exist or its name cannot be opened."""
    p = Path(path)
    _check_name_encoding(p)
    if not p.exists():
        raise LayerError(
            f"File {p} does not exist.",
            file=str(p),
            fix="Check the path (use quotes around paths with spaces).",
            message_zh=f"文件 {p} 不存在。",
            fix_zh="请检查路径（路径含空格时请加引号）。",
        )
    return p


def _format_of(path: Path) -> str:
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise LayerError(
            f"{path} is a folder, not a data file.",
            file=str(path),
            fix="Give a .shp, .gpkg, .gdb, .geojson, .csv or .xlsx file.",
            message_zh=f"{path} 是文件夹，不是数据文件。",
            fix_zh="请指定 .shp、.gpkg、.gdb、.geojson、.csv 或 .xlsx 文件。",
        )
    fmt = _VECTOR_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_VECTOR_SUFFIXES))
        raise LayerError(
            f"{path} is not a spatial format guotu reads.",
            file=str(path),
            fix=f"Give a file ending in one of: {known} (tables: .csv, .xlsx with --table).",
            message_zh=f"{path} 不是 guotu 能读取的空间数据格式。",
            fix_zh=f"请指定扩展名为以下之一的文件：{known}（属性表 .csv、.xlsx "
            "请用 --table 导入）。",
        )
    if fmt == "FileGDB" and not path.is_dir():
        raise LayerError(
            f"{path} is not a FileGDB folder.",
            file=str(path),
            fix="Give the .gdb folder itself, copied whole.",
            message_zh=f"{path} 不是 FileGDB 文件夹。",
            fix_zh="请指定完整拷贝的 .gdb 文件夹本身。",
        )
    return fmt


def list_source_layers(path: str | Path) -> list[str]:
    """Names of the layers inside a data source."""
    p = Path(path)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            return [str(row[0]) for row in pyogrio.list_layers(p)]
    except (DataSourceError, DataLayerError, OSError, UnicodeDecodeError) as exc:
        raise LayerError(
            f"{p} cannot be opened: {_gdal_text(exc)}.",
            file=str(p),
            fix="Check that the file is complete (not truncated) and of the format its name says.",
            message_zh=f"无法打开 {p}：{_gdal_text(exc)}。",
            fix_zh="请检查文件是否完整（未被截断），格式是否与扩展名相符。",
        ) from exc


def _check_shapefile_parts(p: Path) -> None:
    for suffix, what, what_zh in (
        (".shx", "index", "空间索引"),
        (".dbf", "attribute table", "属性表"),
    ):
        if _sibling(p, suffix) is None:
            raise LayerError(
                f"Shapefile {p} has no {suffix} file ({what}); a Shapefile is several files "
                "with the same name.",
                file=str(p),
                fix=f"Copy {p.stem}{suffix} next to {p.name} (all of .shp, .shx, .dbf, .prj, "
                ".cpg).",
                message_zh=f"Shapefile {p} 缺少 {suffix} 文件（{what_zh}）；Shapefile 由多个同名"
                "文件组成。",
                fix_zh=f"请把 {p.stem}{suffix} 复制到 {p.name} 所在文件夹（.shp、.shx、.dbf、"
                ".prj、.cpg 应放在一起）。",
            )


def _zip_limits(settings: Settings) -> ZipLimits:
    return ZipLimits(
        max_unzipped_bytes=int(settings.max_unzipped_mb * _MIB),
        max_members=settings.max_zip_members,
    )


def _read_zip(
    p: Path,
    source_layer: str | None,
    layer_hint: str | None,
    encoding: str | None,
    settings: Settings,
) -> tuple[gpd.GeoDataFrame, SourceInfo]:
    """Unpack a zip within the limits, then read the one dataset inside like a file; errors
    name ``zip!member``, never the temporary folder."""
    with tempfile.TemporaryDirectory(prefix="guotu-zip-") as tmp:
        folder = Path(tmp)
        try:
            root = unpack_zip(p, folder, _zip_limits(settings))
            dataset = find_dataset(root, p.name, source_layer)
            inner = source_layer if source_layer and source_layer != dataset.stem else None
            frame, info = read_vector(
                dataset,
                source_layer=inner,
                layer_hint=layer_hint,
                encoding=encoding,
                settings=settings,
            )
        except LayerError as exc:
            _rename_in_error(exc, str(folder / (p.stem or "data")), f"{p}!")
            _rename_in_error(exc, str(folder), f"{p}!")
            raise
    return frame, SourceInfo(
        str(p), "zipped " + info.format, info.layer, info.encoding, info.features
    )


def _rename_in_error(exc: LayerError, old: str, new: str) -> None:
    for attr in ("message", "message_zh", "file", "fix", "fix_zh"):
        value = getattr(exc, attr)
        if isinstance(value, str):
            setattr(exc, attr, value.replace(old + "/", new).replace(old, new.rstrip("!")))
    exc.args = (exc.message,)


def read_vector(
    path: str | Path,
    *,
    source_layer: str | None = None,
    layer_hint: str | None = None,
    encoding: str | None = None,
    settings: Settings | None = None,
) -> tuple[gpd.GeoDataFrame, SourceInfo]:
    """Read one layer of a spatial file, whole and checked (see the module docstring).

    ``source_layer`` names the layer in a multi-layer source; without it a single-layer
    source is read, or the layer named ``layer_hint`` if the source has one of that name.
    ``encoding`` overrides a Shapefile's ``.cpg`` (and reads a GeoJSON that is not UTF-8).
    Features whose geometry is NULL or empty in the file have ``None`` geometry; whether
    that is allowed is for the caller to decide.
    """
    p = require_file(path)
    settings = settings or load_settings()
    fmt = _format_of(p)
    if fmt == "zipped data":
        return _read_zip(p, source_layer, layer_hint, encoding, settings)
    declared: int | None = check_container(p, fmt)
    codec: str | None = None
    if fmt == "Shapefile":
        _check_shapefile_parts(p)
        codec, how = shapefile_encoding(p, _sibling(p, ".dbf"), _sibling(p, ".cpg"), encoding)
        log.info("%s: attribute encoding %s (%s)", p, codec, how)
    elif fmt == "GeoJSON":
        if encoding:
            return _read_recoded_geojson(p, encoding, source_layer, layer_hint, settings)
        check_utf8_text(p, p.read_bytes(), "GeoJSON", "GeoJSON 文件")
    layers = list_source_layers(p)
    source_layer = _choose_layer(p, layers, source_layer, layer_hint)
    if fmt == "FileGDB":
        declared = _gdal_count(p, source_layer)
    frame = _read_checked(p, source_layer, codec)
    if declared is not None and len(frame) != declared:
        raise LayerError(
            f"{p} (layer {source_layer}) declares {declared:,} features, but only "
            f"{len(frame):,} could be read: the file is damaged or incomplete.",
            file=str(p),
            layer=source_layer,
            fix="Copy the file again from its source, or export it again; nothing was imported.",
            message_zh=f"{p}（图层 {source_layer}）文件头记载 {declared:,} 个要素，实际只能读出 "
            f"{len(frame):,} 个：文件已损坏或不完整。",
            fix_zh="请从原始来源重新拷贝，或重新导出该数据；本次未导入任何数据。",
        )
    return frame, SourceInfo(str(p), fmt, source_layer, codec, len(frame))


def _read_recoded_geojson(
    p: Path, encoding: str, source_layer: str | None, layer_hint: str | None, settings: Settings
) -> tuple[gpd.GeoDataFrame, SourceInfo]:
    """A GeoJSON written in another encoding, read through a UTF-8 copy."""
    codec = codec_name(encoding, "--encoding", option="--encoding")
    try:
        text = p.read_bytes().decode(codec)
    except UnicodeDecodeError as exc:
        raise LayerError(
            f"{p} is not in the encoding {encoding} (byte {exc.start}).",
            file=str(p),
            fix="Give the encoding it was written in.",
            message_zh=f"{p} 不是 {encoding} 编码（第 {exc.start} 字节）。",
            fix_zh="请用 --encoding 指定它写出时的编码。",
        ) from None
    with tempfile.TemporaryDirectory(prefix="guotu-json-") as tmp:
        copy = Path(tmp) / (p.stem + ".geojson")
        copy.write_text(text, encoding="utf-8")
        try:
            frame, info = read_vector(
                copy, source_layer=source_layer, layer_hint=layer_hint, settings=settings
            )
        except LayerError as exc:
            _rename_in_error(exc, str(copy), str(p))
            raise
    return frame, SourceInfo(str(p), "GeoJSON", info.layer, codec, info.features)


def _choose_layer(
    p: Path, layers: list[str], source_layer: str | None, layer_hint: str | None
) -> str:
    if source_layer is None:
        if len(layers) == 1:
            return layers[0]
        if layer_hint in layers:
            assert layer_hint is not None
            return layer_hint
        if not layers:
            raise LayerError(
                f"{p} holds no layers.",
                file=str(p),
                fix="Check that it is the right file and that it is complete.",
                message_zh=f"{p} 中没有任何图层。",
                fix_zh="请检查是否为正确的文件、文件是否完整。",
            )
        raise LayerError(
            f"{p} holds {len(layers)} layers; say which one to import.",
            file=str(p),
            fix=f"Add --source-layer NAME with one of: {', '.join(layers)}.",
            message_zh=f"{p} 包含 {len(layers)} 个图层，请指定要导入哪一个。",
            fix_zh=f"请加上 --source-layer 图层名，可选：{'、'.join(layers)}。",
        )
    if source_layer not in layers:
        raise LayerError(
            f"{p} has no layer {source_layer!r}.",
            file=str(p),
            layer=source_layer,
            fix=f"Layers in it: {', '.join(layers)}.",
            message_zh=f"{p} 中没有图层 {source_layer!r}。",
            fix_zh=f"其中的图层有：{'、'.join(layers)}。",
        )
    return source_layer


def _gdal_count(p: Path, layer: str) -> int | None:
    """GDAL's count of a layer's features without reading them (a FileGDB table's header
    count of valid rows), or None when GDAL would have to count by reading."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            count = int(pyogrio.read_info(p, layer=layer)["features"])
    except (DataSourceError, DataLayerError, OSError, ValueError):
        return None
    return count if count >= 0 else None


def _read_checked(p: Path, layer: str, codec: str | None) -> gpd.GeoDataFrame:
    """GDAL's read of one layer, with its warnings as failures and every present geometry
    decoded or refused."""
    where = {"file": str(p), "layer": layer}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            meta, table = pyogrio.read_arrow(p, layer=layer, encoding=codec)
            geom_col = meta.get("geometry_name") or "wkb_geometry"
            if geom_col not in table.column_names:
                raise LayerError(
                    f"{p} (layer {layer}) has no geometry.",
                    **where,
                    fix="Import tables with --table FILE --key FIELD on a spatial layer.",
                    message_zh=f"{p}（图层 {layer}）没有几何图形。",
                    fix_zh="纯属性表请在导入空间图层时用 --table 文件 --key 字段 挂接。",
                )
            wkb = table.column(geom_col).to_numpy(zero_copy_only=False)
            attrs = table.drop_columns([geom_col]).to_pandas(types_mapper=_nullable_integers)
            # Arrow decodes text lazily: turn text columns into Python strings here, so a
            # file whose text is not in its encoding fails in this try block.
            for col in attrs.columns:
                if pd.api.types.is_string_dtype(attrs[col]):
                    attrs[col] = attrs[col].astype(object)
    except (UnicodeDecodeError, ArrowException) as exc:
        raise LayerError(
            f"{p}: the text of layer {layer} is not in {codec or 'UTF-8'}.",
            **where,
            fix="Give the encoding the file was written in with --encoding.",
            message_zh=f"{p}：图层 {layer} 的属性文字不是 {codec or 'UTF-8'} 编码。",
            fix_zh="请用 --encoding 指定文件写出时所用的编码。",
        ) from exc
    except (DataSourceError, DataLayerError, OSError, ValueError) as exc:
        raise LayerError(
            f"{p} (layer {layer}) cannot be read: {_gdal_text(exc)}.",
            **where,
            fix="Check that the file is complete and not truncated; open it in "
            "QGIS to see whether GDAL can read it.",
            message_zh=f"无法读取 {p}（图层 {layer}）：{_gdal_text(exc)}。",
            fix_zh="请检查文件是否完整、未被截断；可在 QGIS 中打开，确认 GDAL 能否读取。",
        ) from exc
    gdal = [str(w.message).strip() for w in caught if issubclass(w.category, RuntimeWarning)]
    if gdal:
        more = len(gdal) - 1
        raise LayerError(
            f"GDAL reports a problem while reading {p} (layer {layer}): {gdal[0]}"
            + (f" (and {more} more)" if more else "")
            + ".",
            **where,
            fix="Repair the file at its source (GDAL would have read it incompletely); "
            "nothing was imported.",
            message_zh=f"读取 {p}（图层 {layer}）时 GDAL 报告问题：{_gdal_zh(gdal[0])}"
            + (f"（另有 {more} 条）" if more else "")
            + "。",
            fix_zh="请在源头修复该文件（否则数据会被不完整地读入）；本次未导入任何数据。",
        )
    geoms = _decode_geometries(wkb, p, layer, attrs)
    if _is_json(p):
        _refuse_unreadable_json_geometry(p, layer, geoms, attrs)
    return gpd.GeoDataFrame(attrs, geometry=geoms, crs=meta.get("crs"))


#: GDAL warnings seen on damaged files, in Chinese (the GDAL text follows in brackets).
_GDAL_ZH = (
    ("Non closed ring", "存在未闭合的环"),
    ("Unsupported geometry type", "几何类型无法识别，该要素的几何将被置空"),
    ("parsed incompletely", "字段值无法完整解析为数值"),
    ("already exists", "存在重名字段，后一个将被丢弃"),
    ("not successfully written", "字段值无法写出"),
)


def _gdal_zh(text: str) -> str:
    """A GDAL message in Chinese where it is a known one, with GDAL's own text after it."""
    zh = next((z for key, z in _GDAL_ZH if key.lower() in text.lower()), None)
    return f"{zh}（GDAL 原文：{text}）" if zh else f"GDAL 原文：{text}"


def _is_json(p: Path) -> bool:
    """Whether ``p`` is read as GeoJSON."""
    return _VECTOR_SUFFIXES.get(p.suffix.lower()) == "GeoJSON"


def _refuse_unreadable_json_geometry(
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


def _decode_geometries(wkb: np.ndarray, p: Path, layer: str, attrs: pd.DataFrame) -> np.ndarray:
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


def _nullable_integers(arrow_type: pa.DataType) -> Any:
    """Integer columns stay integers even with nulls (an 18-digit BSM must not become a
    float and lose digits)."""
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    return None


def _xlsx_unpacked_bytes(p: Path, limit: int, max_members: int) -> None:
    """Refuse an XLSX whose content would unpack beyond ``limit`` bytes (a zip bomb)."""
    try:
        with zipfile.ZipFile(p) as z:
            infos = z.infolist()
    except (zipfile.BadZipFile, OSError) as exc:
        raise LayerError(
            f"Table {p} is not a readable XLSX file ({exc}).",
            file=str(p),
            fix="Open and save it again in Excel/WPS as .xlsx.",
            message_zh=f"属性表 {p} 不是可读取的 XLSX 文件（{exc}）。",
            fix_zh="请在 Excel/WPS 中打开后重新另存为 .xlsx。",
        ) from exc
    if len(infos) > max_members:
        raise TooLargeError(
            f"Table {p} holds {len(infos)} parts, more than {max_members}.",
            file=str(p),
            fix="Save it again from Excel/WPS.",
            message_zh=f"属性表 {p} 含 {len(infos)} 个部件，超过 {max_members} 个。",
            fix_zh="请在 Excel/WPS 中重新保存。",
        )
    total = sum(i.file_size for i in infos)
    if total > limit:
        raise too_large(f"Table {p} unpacked", f"属性表 {p} 解压后", limit, "max_table_mb")


def read_attribute_table(path: str | Path, *, settings: Settings | None = None) -> pd.DataFrame:
    """Read a CSV or XLSX attribute table (first sheet; header in the first row), within the
    limits ``max_table_mb`` (a CSV's size, an XLSX's unpacked size) and ``max_table_rows``.

    CSV is tried as UTF-8 (with or without BOM), then GB18030.
    """
    p = Path(path)
    _check_name_encoding(p)
    settings = settings or load_settings()
    limit = int(settings.max_table_mb * _MIB)
    if not p.exists():
        raise LayerError(
            f"Table {p} does not exist.",
            file=str(p),
            fix="Check the path.",
            message_zh=f"属性表 {p} 不存在。",
            fix_zh="请检查路径。",
        )
    suffix = p.suffix.lower()
    if suffix not in _TABLE_SUFFIXES or not p.is_file():
        raise LayerError(
            f"{p} is not a table guotu reads.",
            file=str(p),
            fix="Give a .csv or .xlsx file.",
            message_zh=f"{p} 不是 guotu 能读取的属性表。",
            fix_zh="请指定 .csv 或 .xlsx 文件。",
        )
    if suffix == ".csv" and p.stat().st_size > limit:
        raise too_large(f"Table {p}", f"属性表 {p} ", limit, "max_table_mb")
    if suffix == ".xlsx":
        _xlsx_unpacked_bytes(p, limit, settings.max_zip_members)
    try:
        if suffix == ".csv":
            try:
                table = pd.read_csv(
                    p, encoding="utf-8-sig", dtype=str, keep_default_na=False, na_values=[""]
                )
            except UnicodeDecodeError:
                table = pd.read_csv(
                    p, encoding="gb18030", dtype=str, keep_default_na=False, na_values=[""]
                )
        else:
            table = pd.read_excel(p, sheet_name=0, dtype=object, engine="openpyxl")
    except UnicodeDecodeError as exc:
        raise LayerError(
            f"Table {p} is neither UTF-8 nor GBK text.",
            file=str(p),
            fix="Save it again as UTF-8 CSV.",
            message_zh=f"属性表 {p} 既不是 UTF-8 也不是 GBK 编码的文本。",
            fix_zh="请另存为 UTF-8 编码的 CSV。",
        ) from exc
    except (ValueError, OSError, KeyError, IndexError, TypeError) as exc:
        raise LayerError(
            f"Table {p} cannot be read: {exc}.",
            file=str(p),
            fix="Check that it is a complete CSV/XLSX file with a header row.",
            message_zh=f"无法读取属性表 {p}：{exc}。",
            fix_zh="请检查它是否为完整的 CSV/XLSX 文件，且第一行为表头。",
        ) from exc
    except Exception as exc:  # openpyxl raises zipfile/XML errors of its own on corrupt files
        if type(exc).__module__.startswith(("zipfile", "openpyxl", "xml", "pandas")):
            raise LayerError(
                f"Table {p} is not a readable XLSX/CSV file ({exc}).",
                file=str(p),
                fix="Open and save it again in Excel/WPS.",
                message_zh=f"属性表 {p} 不是可读取的 XLSX/CSV 文件（{exc}）。",
                fix_zh="请在 Excel/WPS 中打开后重新保存。",
            ) from exc
        raise
    if len(table) > settings.max_table_rows:
        raise TooLargeError(
            f"Table {p} has {len(table):,} rows, more than the limit of "
            f"{settings.max_table_rows:,} (setting max_table_rows).",
            file=str(p),
            fix="Split the table, or raise the setting max_table_rows (GUOTU_MAX_TABLE_ROWS).",
            message_zh=f"属性表 {p} 有 {len(table):,} 行，超过上限 {settings.max_table_rows:,} 行"
            "（设置 max_table_rows）。",
            fix_zh="请拆分该表，或调高设置 max_table_rows（环境变量 GUOTU_MAX_TABLE_ROWS）。",
        )
    return table


def _gdal_text(exc: BaseException) -> str:
    text = str(exc).strip().rstrip(".")
    return text.splitlines()[0] if text else type(exc).__name__
