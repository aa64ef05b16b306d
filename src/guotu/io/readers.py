"""Reading the files bureaus hand over: Shapefile, GeoPackage, FileGDB, GeoJSON, CSV, XLSX.

A file is either read whole and right or refused with a :class:`~guotu.errors.LayerError`
naming the file (and layer, feature and field) and the fix. Before GDAL reads anything:

* the container is checked against what it says of itself
  (:mod:`guotu.io.containers`: Shapefile and FileGDB headers, SQLite's quick check);
* the text encoding is decided from the bytes (:mod:`guotu.io.encodings`): a ``.cpg`` that
  names the wrong code page is refused, not obeyed; GeoJSON must be UTF-8;
* a zip is unpacked within limits (:mod:`guotu.io.archives`) and read like a folder;
* the file's name, existence, format and parts are checked (:mod:`guotu.io.source_files`).

While GDAL reads, its warnings are failures, not noise. After it has read, the number of
features is compared with the number the container declares, and every geometry that is
present in the file but cannot be decoded (garbage WKB, an unclosed ring, a ring of two
points) is refused naming the feature (:mod:`guotu.io.geometry_decoding`).

Attribute tables (CSV, XLSX) are read by :mod:`guotu.io.attribute_tables`. This module also
exports :func:`require_file`, :func:`list_source_layers`, :func:`feature_label` and
:func:`read_attribute_table`, so an importer needs one module to read what bureaus hand over.
"""

from __future__ import annotations

import logging
import tempfile
import warnings
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
from guotu.io.archives import ZipLimits, find_dataset, unpack_zip
from guotu.io.attribute_tables import read_attribute_table
from guotu.io.containers import check_container
from guotu.io.encodings import check_utf8_text, codec_name, shapefile_encoding
from guotu.io.geometry_decoding import (
    decode_geometries,
    feature_label,
    refuse_unreadable_json_geometry,
)
from guotu.io.source_files import (
    MIB,
    VECTOR_SUFFIXES,
    check_shapefile_parts,
    format_of,
    gdal_text,
    list_source_layers,
    require_file,
    sibling_file,
)
from guotu.settings import Settings, load_settings

__all__ = [
    "SourceInfo",
    "feature_label",
    "list_source_layers",
    "read_attribute_table",
    "read_vector",
    "require_file",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceInfo:
    """Where a layer came from."""

    path: str
    format: str
    layer: str
    encoding: str | None
    features: int


def _zip_limits(settings: Settings) -> ZipLimits:
    return ZipLimits(
        max_unzipped_bytes=int(settings.max_unzipped_mb * MIB),
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
    fmt = format_of(p)
    if fmt == "zipped data":
        return _read_zip(p, source_layer, layer_hint, encoding, settings)
    declared: int | None = check_container(p, fmt)
    codec: str | None = None
    if fmt == "Shapefile":
        check_shapefile_parts(p)
        codec, how = shapefile_encoding(
            p, sibling_file(p, ".dbf"), sibling_file(p, ".cpg"), encoding
        )
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
            f"{p} (layer {layer}) cannot be read: {gdal_text(exc)}.",
            **where,
            fix="Check that the file is complete and not truncated; open it in "
            "QGIS to see whether GDAL can read it.",
            message_zh=f"无法读取 {p}（图层 {layer}）：{gdal_text(exc)}。",
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
    geoms = decode_geometries(wkb, p, layer, attrs)
    if _is_json(p):
        refuse_unreadable_json_geometry(p, layer, geoms, attrs)
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
    return VECTOR_SUFFIXES.get(p.suffix.lower()) == "GeoJSON"


def _nullable_integers(arrow_type: pa.DataType) -> Any:
    """Integer columns stay integers even with nulls (an 18-digit BSM must not become a
    float and lose digits)."""
    if pa.types.is_integer(arrow_type):
        return pd.Int64Dtype()
    return None
