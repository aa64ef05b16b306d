"""Reading the files bureaus hand over: Shapefile, GeoPackage, FileGDB, GeoJSON, CSV, XLSX.

Everything goes through GDAL (pyogrio) except the encoding sniffing of Shapefile .dbf
files: a .cpg file says the encoding when there is one; without it, the text bytes of the
.dbf are tried as UTF-8 and, failing that, read as GB18030 (a superset of GBK, which is what
Chinese ArcGIS and 三调 tools write). Either way no text is ever decoded twice (mojibake).

GDAL errors become :class:`~guotu.errors.LayerError` naming the file and the fix.
"""

from __future__ import annotations

import codecs
import logging
import warnings
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import pyarrow as pa
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
_TABLE_SUFFIXES = {".csv", ".xlsx"}


@dataclass(frozen=True)
class SourceInfo:
    """Where a layer came from."""

    path: str
    format: str
    layer: str
    encoding: str | None
    features: int


#: Code-page names seen in .cpg files → the codec that reads them. GB2312 and GBK files
#: routinely hold characters outside those tables (堃, 喆 …): GB18030 reads all of them.
_CPG_ALIASES = {"936": "GB18030", "CP936": "GB18030", "ANSI 936": "GB18030", "GBK": "GB18030",
                "GB2312": "GB18030", "EUC-CN": "GB18030", "GB18030": "GB18030",
                "65001": "UTF-8", "UTF8": "UTF-8", "UTF-8": "UTF-8", "950": "CP950",
                "BIG5": "CP950"}


def _codec_of_cpg(text: str, where: str) -> str:
    """The codec a .cpg text names (``1252`` → CP1252), or a LayerError."""
    name = text.strip().upper()
    if not name:
        return "UTF-8"
    codec = _CPG_ALIASES.get(name) or (f"CP{name}" if name.isdigit() else
                                       name.removeprefix("ANSI ").strip())
    if codec.isdigit():
        codec = f"CP{codec}"
    try:
        codecs.lookup(codec)
    except LookupError:
        raise LayerError(f"{where} names the encoding {text.strip()!r}, which is not known.",
                         file=where, fix="Write GBK, GB18030 or UTF-8 into the .cpg file.",
                         message_zh=f"{where} 写明的编码 {text.strip()!r} 无法识别。",
                         fix_zh="请在 .cpg 文件中写 GBK、GB18030 或 UTF-8。") from None
    return codec


def _dbf_text_is_utf8(raw: bytes) -> bool:
    """Whether the field names and records of a .dbf decode as UTF-8 (binary parts of the
    field descriptors, such as field widths of 128 and more, are skipped)."""
    if len(raw) < 32:
        return True
    header_len = int.from_bytes(raw[8:10], "little")
    names = b"".join(raw[i:i + 11] for i in range(32, max(32, header_len - 1), 32))
    try:
        names.decode("utf-8")
        raw[header_len:].decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def detect_dbf_encoding(shp: Path) -> tuple[str, str]:
    """Encoding of a Shapefile's attributes and how it was decided.

    Returns ``(codec, reason)``; reason is ``"cpg"`` or ``"detected"``. A .cpg names the
    encoding; without one, text that is not valid UTF-8 is read as GB18030 (a superset of
    GBK, what Chinese ArcGIS and 三调 tools write).
    """
    cpg = _sibling(shp, ".cpg")
    if cpg is not None:
        return _codec_of_cpg(cpg.read_text(encoding="ascii", errors="replace"), str(cpg)), "cpg"
    dbf = _sibling(shp, ".dbf")
    raw = dbf.read_bytes() if dbf is not None else b""
    return ("UTF-8" if _dbf_text_is_utf8(raw) else "GB18030"), "detected"


def _zip_encoding(path: Path) -> str | None:
    """The attribute encoding of a zipped Shapefile (the first .shp inside), if any."""
    try:
        with zipfile.ZipFile(path) as z:
            names = z.namelist()
            shp = next((n for n in names if n.lower().endswith(".shp")), None)
            if shp is None:
                return None
            stem = shp[:-4].lower()
            cpg = next((n for n in names if n.lower() == stem + ".cpg"), None)
            if cpg is not None:
                return _codec_of_cpg(z.read(cpg).decode("ascii", "replace"), f"{path}!{cpg}")
            dbf = next((n for n in names if n.lower() == stem + ".dbf"), None)
            raw = z.read(dbf) if dbf else b""
    except zipfile.BadZipFile as exc:
        raise LayerError(f"{path} is not a readable zip file ({exc}).", file=str(path),
                         fix="Check that the download or copy is complete.",
                         message_zh=f"{path} 不是可读取的 zip 文件（{exc}）。",
                         fix_zh="请检查下载或拷贝是否完整。") from exc
    return "UTF-8" if _dbf_text_is_utf8(raw) else "GB18030"


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
    elif fmt == "zipped data":
        encoding = _zip_encoding(p)
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
            frame = pyogrio.read_dataframe(
                p, layer=source_layer, encoding=encoding, use_arrow=True, fid_as_index=False,
                arrow_to_pandas_kwargs={"types_mapper": _nullable_integers})
            # Arrow decodes text lazily: turn text columns into Python strings here, so a
            # file whose .cpg lies fails in this try block and not far away.
            for col in frame.columns:
                if col != frame.geometry.name and pd.api.types.is_string_dtype(frame[col]):
                    frame[col] = frame[col].astype(object)
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


def _nullable_integers(arrow_type: pa.DataType) -> Any:
    """Integer columns stay integers even with nulls (an 18-digit BSM must not become a
    float and lose digits)."""
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    return None


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
