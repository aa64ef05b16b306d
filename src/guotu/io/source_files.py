"""What a source file must be before anything reads it (:mod:`guotu.io.readers`,
:mod:`guotu.io.attribute_tables`): a name GDAL can open (UTF-8, not a GBK name copied from
Windows), a file that exists, a format guotu reads (by its suffix: :data:`VECTOR_SUFFIXES`,
:data:`TABLE_SUFFIXES`), a Shapefile with its ``.shx`` and ``.dbf``; and the layers a source
holds.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import pyogrio
from pyogrio.errors import DataLayerError, DataSourceError

from guotu.errors import LayerError

__all__ = [
    "MIB",
    "TABLE_SUFFIXES",
    "VECTOR_SUFFIXES",
    "check_name_encoding",
    "check_shapefile_parts",
    "format_of",
    "gdal_text",
    "list_source_layers",
    "require_file",
    "sibling_file",
]

VECTOR_SUFFIXES = {
    ".shp": "Shapefile",
    ".gpkg": "GeoPackage",
    ".gdb": "FileGDB",
    ".geojson": "GeoJSON",
    ".json": "GeoJSON",
    ".fgb": "FlatGeobuf",
    ".zip": "zipped data",
}
TABLE_SUFFIXES = {".csv", ".xlsx"}
MIB = 1024 * 1024


def sibling_file(shp: Path, suffix: str) -> Path | None:
    """The file of the Shapefile ``shp`` with ``suffix`` (``.dbf``, ``.cpg`` …, in any case),
    ``None`` when there is none."""
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


def check_name_encoding(p: Path) -> None:
    """Refuse a file name that is not UTF-8 (GDAL cannot open it), naming the fix."""
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
    check_name_encoding(p)
    if not p.exists():
        raise LayerError(
            f"File {p} does not exist.",
            file=str(p),
            fix="Check the path (use quotes around paths with spaces).",
            message_zh=f"文件 {p} 不存在。",
            fix_zh="请检查路径（路径含空格时请加引号）。",
        )
    return p


def format_of(path: Path) -> str:
    """The spatial format of ``path`` by its suffix (:data:`VECTOR_SUFFIXES`); a folder
    (other than a FileGDB), an unknown suffix or a ``.gdb`` that is not a folder is refused.

    Examples
    --------
    >>> format_of(Path("三区三线.geojson")), format_of(Path("规划用地.SHP"))
    ('GeoJSON', 'Shapefile')
    """
    if path.is_dir() and path.suffix.lower() != ".gdb":
        raise LayerError(
            f"{path} is a folder, not a data file.",
            file=str(path),
            fix="Give a .shp, .gpkg, .gdb, .geojson, .csv or .xlsx file.",
            message_zh=f"{path} 是文件夹，不是数据文件。",
            fix_zh="请指定 .shp、.gpkg、.gdb、.geojson、.csv 或 .xlsx 文件。",
        )
    fmt = VECTOR_SUFFIXES.get(path.suffix.lower())
    if fmt is None:
        known = ", ".join(sorted(VECTOR_SUFFIXES))
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
            f"{p} cannot be opened: {gdal_text(exc)}.",
            file=str(p),
            fix="Check that the file is complete (not truncated) and of the format its name says.",
            message_zh=f"无法打开 {p}：{gdal_text(exc)}。",
            fix_zh="请检查文件是否完整（未被截断），格式是否与扩展名相符。",
        ) from exc


def check_shapefile_parts(p: Path) -> None:
    """Refuse the Shapefile ``p`` when its ``.shx`` or ``.dbf`` is missing."""
    for suffix, what, what_zh in (
        (".shx", "index", "空间索引"),
        (".dbf", "attribute table", "属性表"),
    ):
        if sibling_file(p, suffix) is None:
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


def gdal_text(exc: BaseException) -> str:
    """The first line of a GDAL error's text, without its full stop (the class name when
    it has none).

    Examples
    --------
    >>> gdal_text(OSError("'x.shp' not recognized as a supported file format.")), gdal_text(OSError())
    ("'x.shp' not recognized as a supported file format", 'OSError')
    """
    text = str(exc).strip().rstrip(".")
    return text.splitlines()[0] if text else type(exc).__name__
