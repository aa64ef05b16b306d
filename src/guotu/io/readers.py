"""Reading the files bureaus hand over: Shapefile, GeoPackage, FileGDB, GeoJSON, CSV, XLSX.

Everything goes through GDAL (pyogrio) except the encoding sniffing of Shapefile .dbf
files: a .cpg file says the encoding when there is one; without it, the text bytes of the
.dbf are tried as UTF-8 and, failing that, read as GB18030 (a superset of GBK, which is what
Chinese ArcGIS and 三调 tools write). Either way no text is ever decoded twice (mojibake).

GDAL errors become :class:`~guotu.errors.LayerError` naming the file and the fix.
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pyogrio
from pyarrow.lib import ArrowException
from pyogrio.errors import DataLayerError, DataSourceError

from guotu.errors import LayerError

__all__ = ["SourceInfo", "detect_dbf_encoding", "list_source_layers", "read_attribute_table",
           "read_vector"]

log = logging.getLogger(__name__)

_VECTOR_SUFFIXES = {".shp": "Shapefile", ".gpkg": "GeoPackage", ".gdb": "FileGDB",
                    ".geojson": "GeoJSON", ".json": "GeoJSON", ".fgb": "FlatGeobuf",
                    ".zip": "zipped data"}
_TABLE_SUFFIXES = {".csv", ".xlsx", ".xls"}


@dataclass(frozen=True)
class SourceInfo:
    """Where a layer came from."""

    path: str
    format: str
    layer: str
    encoding: str | None
    features: int


def detect_dbf_encoding(shp: Path) -> tuple[str, str]:
    """Encoding of a Shapefile's attributes and how it was decided.

    Returns ``(encoding, reason)``; reason is ``"cpg"`` or ``"detected"``.
    """
    cpg = shp.with_suffix(".cpg")
    if not cpg.exists():
        cpg = next((p for p in shp.parent.glob(shp.stem + ".*") if p.suffix.lower() == ".cpg"),
                   cpg)
    if cpg.exists():
        name = cpg.read_text(encoding="ascii", errors="replace").strip()
        aliases = {"936": "GBK", "CP936": "GBK", "65001": "UTF-8", "UTF8": "UTF-8"}
        return aliases.get(name.upper(), name or "UTF-8"), "cpg"
    dbf = _sibling(shp, ".dbf")
    raw = dbf.read_bytes() if dbf is not None else b""
    if len(raw) < 32:
        return "UTF-8", "detected"
    header_len = int.from_bytes(raw[8:10], "little")
    body = raw[32:header_len] + raw[header_len:]  # field names and records
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return "GB18030", "detected"
    return "UTF-8", "detected"


def _sibling(shp: Path, suffix: str) -> Path | None:
    for p in shp.parent.glob(shp.stem + ".*"):
        if p.suffix.lower() == suffix:
            return p
    return None


def _format_of(path: Path) -> str:
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise LayerError(f"{path} is a folder, not a data file.", file=str(path),
                         fix="Give a .shp, .gpkg, .gdb, .geojson, .csv or .xlsx file.",
                         message_zh=f"{path} 是文件夹，不是数据文件。",
                         fix_zh="请指定 .shp、.gpkg、.gdb、.geojson、.csv 或 .xlsx 文件。")
    fmt = _VECTOR_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(_VECTOR_SUFFIXES))
        raise LayerError(f"{path} is not a spatial format guotu reads.", file=str(path),
                         fix=f"Give a file ending in one of: {known} (tables: .csv, .xlsx "
                         "with --table).",
                         message_zh=f"{path} 不是 guotu 能读取的空间数据格式。",
                         fix_zh=f"请指定扩展名为以下之一的文件：{known}（属性表 .csv、.xlsx "
                         "请用 --table 导入）。")
    return fmt


def list_source_layers(path: str | Path) -> list[str]:
    """Names of the layers inside a data source."""
    p = Path(path)
    try:
        return [str(row[0]) for row in pyogrio.list_layers(p)]
    except (DataSourceError, DataLayerError, OSError) as exc:
        raise LayerError(f"{p} cannot be opened: {_gdal_text(exc)}.", file=str(p),
                         fix="Check that the file is complete (not truncated) and of the "
                         "format its name says.",
                         message_zh=f"无法打开 {p}：{_gdal_text(exc)}。",
                         fix_zh="请检查文件是否完整（未被截断），格式是否与扩展名相符。") from exc


def _check_shapefile_parts(p: Path) -> None:
    for suffix, what, what_zh in ((".shx", "index", "空间索引"),
                                  (".dbf", "attribute table", "属性表")):
        if _sibling(p, suffix) is None:
            raise LayerError(
                f"Shapefile {p} has no {suffix} file ({what}); a Shapefile is several files "
                "with the same name.", file=str(p),
                fix=f"Copy {p.stem}{suffix} next to {p.name} (all of .shp, .shx, .dbf, .prj, "
                ".cpg).",
                message_zh=f"Shapefile {p} 缺少 {suffix} 文件（{what_zh}）；Shapefile 由多个同名"
                "文件组成。",
                fix_zh=f"请把 {p.stem}{suffix} 复制到 {p.name} 所在文件夹（.shp、.shx、.dbf、"
                ".prj、.cpg 应放在一起）。")


def read_vector(path: str | Path, *, source_layer: str | None = None,
                layer_hint: str | None = None) -> tuple[gpd.GeoDataFrame, SourceInfo]:
    """Read one layer of a spatial file.

    ``source_layer`` names the layer in a multi-layer source; without it a single-layer
    source is read, or the layer named ``layer_hint`` if the source has one of that name.
    """
    p = Path(path)
    if not p.exists():
        raise LayerError(f"File {p} does not exist.", file=str(p),
                         fix="Check the path (use quotes around paths with spaces).",
                         message_zh=f"文件 {p} 不存在。",
                         fix_zh="请检查路径（路径含空格时请加引号）。")
    fmt = _format_of(p)
    encoding: str | None = None
    if fmt == "Shapefile":
        _check_shapefile_parts(p)
        encoding, how = detect_dbf_encoding(p)
        log.info("%s: attribute encoding %s (%s)", p, encoding, how)
    layers = list_source_layers(p)
    if source_layer is None:
        if len(layers) == 1:
            source_layer = layers[0]
        elif layer_hint in layers:
            source_layer = layer_hint
        else:
            raise LayerError(
                f"{p} holds {len(layers)} layers; say which one to import.", file=str(p),
                fix=f"Add --source-layer NAME with one of: {', '.join(layers)}.",
                message_zh=f"{p} 包含 {len(layers)} 个图层，请指定要导入哪一个。",
                fix_zh=f"请加上 --source-layer 图层名，可选：{'、'.join(layers)}。")
    elif source_layer not in layers:
        raise LayerError(f"{p} has no layer {source_layer!r}.", file=str(p), layer=source_layer,
                         fix=f"Layers in it: {', '.join(layers)}.",
                         message_zh=f"{p} 中没有图层 {source_layer!r}。",
                         fix_zh=f"其中的图层有：{'、'.join(layers)}。")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            warnings.simplefilter("ignore", UserWarning)
            # Arrow is faster, but decodes text lazily: a Shapefile whose .cpg lies would fail
            # later, far from here, so Shapefiles are read without it.
            frame = pyogrio.read_dataframe(p, layer=source_layer, encoding=encoding,
                                           use_arrow=fmt != "Shapefile", fid_as_index=False)
    except (UnicodeDecodeError, ArrowException) as exc:
        raise LayerError(
            f"{p}: the text of layer {source_layer} is not in {encoding}.", file=str(p),
            layer=source_layer,
            fix="Write the right encoding into a .cpg file next to the .shp (e.g. GBK or "
            "UTF-8).",
            message_zh=f"{p}：图层 {source_layer} 的属性文字不是 {encoding} 编码。",
            fix_zh="请在 .shp 旁的 .cpg 文件中写明正确的编码（如 GBK 或 UTF-8）。") from exc
    except (DataSourceError, DataLayerError, OSError, ValueError) as exc:
        raise LayerError(f"{p} (layer {source_layer}) cannot be read: {_gdal_text(exc)}.",
                         file=str(p), layer=source_layer,
                         fix="Check that the file is complete and not truncated; open it in "
                         "QGIS to see whether GDAL can read it.",
                         message_zh=f"无法读取 {p}（图层 {source_layer}）：{_gdal_text(exc)}。",
                         fix_zh="请检查文件是否完整、未被截断；可在 QGIS 中打开，确认 GDAL "
                         "能否读取。") from exc
    if not isinstance(frame, gpd.GeoDataFrame):
        raise LayerError(f"{p} (layer {source_layer}) has no geometry.", file=str(p),
                         layer=source_layer,
                         fix="Import tables with --table FILE --key FIELD on a spatial layer.",
                         message_zh=f"{p}（图层 {source_layer}）没有几何图形。",
                         fix_zh="纯属性表请在导入空间图层时用 --table 文件 --key 字段 挂接。")
    info = SourceInfo(str(p), fmt, source_layer, encoding, len(frame))
    return frame, info


def read_attribute_table(path: str | Path) -> pd.DataFrame:
    """Read a CSV or XLSX attribute table (first sheet; header in the first row).

    CSV is tried as UTF-8 (with or without BOM), then GB18030.
    """
    p = Path(path)
    if not p.exists():
        raise LayerError(f"Table {p} does not exist.", file=str(p), fix="Check the path.",
                         message_zh=f"属性表 {p} 不存在。", fix_zh="请检查路径。")
    suffix = p.suffix.lower()
    if suffix not in _TABLE_SUFFIXES:
        raise LayerError(f"{p} is not a table guotu reads.", file=str(p),
                         fix="Give a .csv or .xlsx file.",
                         message_zh=f"{p} 不是 guotu 能读取的属性表。",
                         fix_zh="请指定 .csv 或 .xlsx 文件。")
    try:
        if suffix == ".csv":
            try:
                return pd.read_csv(p, encoding="utf-8-sig", dtype=str, keep_default_na=False,
                                   na_values=[""])
            except UnicodeDecodeError:
                return pd.read_csv(p, encoding="gb18030", dtype=str, keep_default_na=False,
                                   na_values=[""])
        return pd.read_excel(p, sheet_name=0, dtype=object, engine="openpyxl")
    except (ValueError, OSError, KeyError) as exc:
        raise LayerError(f"Table {p} cannot be read: {exc}.", file=str(p),
                         fix="Check that it is a complete CSV/XLSX file with a header row.",
                         message_zh=f"无法读取属性表 {p}：{exc}。",
                         fix_zh="请检查它是否为完整的 CSV/XLSX 文件，且第一行为表头。"
                         ) from exc
    except Exception as exc:  # openpyxl raises zipfile/XML errors of its own on corrupt files
        if type(exc).__module__.startswith(("zipfile", "openpyxl", "xml")):
            raise LayerError(f"Table {p} is not a readable XLSX file ({exc}).", file=str(p),
                             fix="Open and save it again in Excel/WPS as .xlsx.",
                             message_zh=f"属性表 {p} 不是可读取的 XLSX 文件（{exc}）。",
                             fix_zh="请在 Excel/WPS 中打开后重新另存为 .xlsx。") from exc
        raise


def _gdal_text(exc: BaseException) -> str:
    text = str(exc).strip().rstrip(".")
    return text.splitlines()[0] if text else type(exc).__name__
