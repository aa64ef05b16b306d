"""Reading a CSV or XLSX attribute table (属性表) whole and checked, within the limits of the
settings (``max_table_mb``: a CSV's size, an XLSX's unpacked size, so a zip bomb is refused
before it is unpacked; ``max_table_rows``). A CSV is read as UTF-8 (with or without BOM), else
GB18030.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd

from guotu.errors import LayerError, TooLargeError
from guotu.io.archives import too_large
from guotu.io.source_files import MIB, TABLE_SUFFIXES, check_name_encoding
from guotu.settings import Settings, load_settings

__all__ = ["read_attribute_table"]


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
    check_name_encoding(p)
    settings = settings or load_settings()
    limit = int(settings.max_table_mb * MIB)
    if not p.exists():
        raise LayerError(
            f"Table {p} does not exist.",
            file=str(p),
            fix="Check the path.",
            message_zh=f"属性表 {p} 不存在。",
            fix_zh="请检查路径。",
        )
    suffix = p.suffix.lower()
    if suffix not in TABLE_SUFFIXES or not p.is_file():
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
