"""What a data file says about itself, checked against the file before anything is read.

GDAL reads damaged files as far as it can and says nothing: a FileGDB table cut short gives
its first 703 rows, a truncated ``.dbf`` gives 14 of 31 records, a ``.shp`` cut mid-file
gives features without geometry. Each container declares its own size and record count in
its header, so a copy that lost bytes (a USB stick pulled early, a download cut off) can be
told from a complete one without guessing:

* Shapefile: the ``.shp`` and ``.shx`` headers give their file length; the ``.shx`` holds one
  offset per record, each of which must lie inside the ``.shp``; the ``.dbf`` header gives
  the record count and length. All three must agree.
* FileGDB: each ``.gdbtable`` header gives its file size and number of valid rows; the
  ``.gdbtablx`` index gives its block count, each row offset must lie inside the table.
* GeoPackage: SQLite's own ``PRAGMA quick_check`` on a read-only connection.

:func:`check_container` raises :class:`~guotu.errors.LayerError` naming the file and the
fix, and gives the number of features a Shapefile declares; the reader compares that (and
GDAL's count of a FileGDB table's valid rows) with what it read.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import numpy as np

from guotu.errors import LayerError

__all__ = ["check_container", "dbf_text_bytes"]

_SHP_MAGIC = 9994
_SHP_HEADER = 100
_DBF_EOF = 0x1A


def _truncated(path: Path, what: str, what_zh: str, expected: int, actual: int) -> LayerError:
    return LayerError(
        f"{path} is incomplete: its header says {what} is {expected:,} bytes, the file has "
        f"{actual:,} (a copy or download that stopped early, or a damaged file).",
        file=str(path),
        fix="Copy the file again from its source and check its size; nothing was imported.",
        message_zh=f"{path} 不完整：文件头记载{what_zh}为 {expected:,} 字节，实际只有 {actual:,} "
        "字节（拷贝或下载未完成，或文件已损坏）。",
        fix_zh="请从原始来源重新拷贝该文件并核对大小；本次未导入任何数据。",
    )


def _damaged(path: Path, detail: str, detail_zh: str) -> LayerError:
    return LayerError(
        f"{path} is damaged: {detail}.",
        file=str(path),
        fix="Copy the file again from its source, or export it again from the program that "
        "made it; nothing was imported.",
        message_zh=f"{path} 已损坏：{detail_zh}。",
        fix_zh="请从原始来源重新拷贝，或在生成它的软件中重新导出；本次未导入任何数据。",
    )


def _sidecar(shp: Path, suffix: str) -> Path | None:
    for p in shp.parent.glob(shp.stem + ".*"):
        if p.suffix.lower() == suffix and p.stem == shp.stem:
            return p
    return None


# --- Shapefile -------------------------------------------------------------------------


def _main_header_length(path: Path, raw: bytes) -> int:
    """File length in bytes from a .shp/.shx main header (big-endian 16-bit words)."""
    if len(raw) < _SHP_HEADER:
        raise _truncated(path, "the header", "文件头", _SHP_HEADER, len(raw))
    if int.from_bytes(raw[0:4], "big") != _SHP_MAGIC:
        raise _damaged(
            path,
            "it does not start like a Shapefile (file code 9994)",
            "文件开头不是 Shapefile 的标识（文件代码 9994）",
        )
    return int.from_bytes(raw[24:28], "big") * 2


def _dbf_header(path: Path, raw: bytes, size: int) -> tuple[int, int, int]:
    """``(records, header_length, record_length)`` of a .dbf of ``size`` bytes whose first
    32 bytes are ``raw``."""
    if len(raw) < 32:
        raise _truncated(path, "the header", "文件头", 32, len(raw))
    records = int.from_bytes(raw[4:8], "little")
    header_len = int.from_bytes(raw[8:10], "little")
    record_len = int.from_bytes(raw[10:12], "little")
    if header_len < 33 or record_len < 1 or header_len > size:
        raise _damaged(
            path,
            f"its header is not a dBASE header (header {header_len} bytes, "
            f"record {record_len} bytes)",
            f"文件头不是 dBASE 格式（文件头 {header_len} 字节，记录 {record_len} 字节）",
        )
    return records, header_len, record_len


def _head(path: Path, size: int) -> bytes:
    with path.open("rb") as f:
        return f.read(size)


def _bytes_of(path: Path) -> np.ndarray:
    """The file's bytes, mapped rather than read (a .dbf of a province is gigabytes)."""
    if path.stat().st_size == 0:
        return np.empty(0, dtype=np.uint8)
    return np.memmap(path, dtype=np.uint8, mode="r")


def _check_shapefile(shp: Path) -> int:
    shp_size = shp.stat().st_size
    shp_len = _main_header_length(shp, _head(shp, _SHP_HEADER))
    if shp_len != shp_size:
        if shp_len > shp_size:
            raise _truncated(shp, "the file", "文件长度", shp_len, shp_size)
        raise _damaged(
            shp,
            f"its header says {shp_len:,} bytes but it has {shp_size:,}",
            f"文件头记载 {shp_len:,} 字节，实际为 {shp_size:,} 字节",
        )
    shx = _sidecar(shp, ".shx")
    dbf = _sidecar(shp, ".dbf")
    n_shx = None
    if shx is not None:
        shx_raw = shx.read_bytes()
        shx_len = _main_header_length(shx, shx_raw)
        if shx_len > len(shx_raw):
            raise _truncated(shx, "the file", "文件长度", shx_len, len(shx_raw))
        if (shx_len - _SHP_HEADER) % 8:
            raise _damaged(
                shx,
                "its length is not a whole number of index records",
                "文件长度不是整数个索引记录",
            )
        n_shx = (shx_len - _SHP_HEADER) // 8
        index = (
            np.frombuffer(shx_raw, dtype=">i4", count=2 * n_shx, offset=_SHP_HEADER)
            .reshape(-1, 2)
            .astype(np.int64)
            * 2
        )
        ends = index[:, 0] + 8 + index[:, 1]
        bad = np.flatnonzero((index[:, 0] < _SHP_HEADER) | (index[:, 1] < 0) | (ends > shp_len))
        if len(bad):
            k = int(bad[0])
            raise _damaged(
                shp,
                f"record {k + 1} of {n_shx} ends at byte {int(ends[k]):,}, "
                f"beyond the end of the file ({shp_len:,}); {len(bad)} records lie "
                "outside it",
                f"第 {k + 1} 条记录（共 {n_shx} 条）结束于第 "
                f"{int(ends[k]):,} 字节，超出文件末尾（{shp_len:,} 字节），共 {len(bad)} "
                "条记录在文件之外",
            )
    n_dbf = None
    deleted = 0
    if dbf is not None:
        dbf_raw = _bytes_of(dbf)
        n_dbf, header_len, record_len = _dbf_header(dbf, dbf_raw[:32].tobytes(), len(dbf_raw))
        expected = header_len + n_dbf * record_len
        if len(dbf_raw) < expected:
            raise _truncated(
                dbf, f"its {n_dbf} records", f" {n_dbf} 条记录", expected, len(dbf_raw)
            )
        flags = dbf_raw[header_len:expected:record_len]
        deleted = int((flags == ord("*")).sum())
    if n_shx is not None and n_dbf is not None and n_shx != n_dbf:
        raise LayerError(
            f"Shapefile {shp}: the index {shx.name if shx else ''} holds {n_shx} records and the "
            f"attribute table {dbf.name if dbf else ''} {n_dbf}; the files do not belong "
            "together or one is damaged.",
            file=str(shp),
            fix="Copy all files of the Shapefile (.shp, .shx, .dbf, .prj, .cpg) again from "
            "one export.",
            message_zh=f"Shapefile {shp}：索引文件 {shx.name if shx else ''} 有 {n_shx} 条记录，"
            f"属性表 {dbf.name if dbf else ''} 有 {n_dbf} 条，两者不属于同一份数据或其中之一已损坏。",
            fix_zh="请从同一次导出中重新拷贝该 Shapefile 的全部文件（.shp、.shx、.dbf、.prj、.cpg）。",
        )
    # GDAL skips the records a dBASE tool marked deleted ('*'), and reads the rest.
    return n_dbf - deleted if n_dbf is not None else (n_shx or 0)


def dbf_text_bytes(dbf: Path) -> tuple[bytes, bytes]:
    """The field names and the bytes of the character (``C``) fields of a .dbf, for
    deciding its encoding: ``(names, text)``. Numeric and date fields are left out (they
    are ASCII); a file too damaged to parse gives what can be read."""
    mapped = _bytes_of(dbf)
    if len(mapped) < 32:
        return b"", b""
    header = mapped[:32].tobytes()
    records = int.from_bytes(header[4:8], "little")
    header_len = int.from_bytes(header[8:10], "little")
    raw = mapped[: max(32, min(header_len, len(mapped)))].tobytes()
    record_len = int.from_bytes(header[10:12], "little")
    names: list[bytes] = []
    slices: list[tuple[int, int]] = []
    pos = 1  # the deletion flag
    for start in range(32, max(32, min(header_len, len(raw)) - 1), 32):
        desc = raw[start : start + 32]
        if len(desc) < 32 or desc[0] == 0x0D:
            break
        names.append(desc[:11].split(b"\x00", 1)[0])
        length = desc[16]
        if desc[11:12] == b"C":
            length += desc[17] * 256  # long character fields keep the high byte here
            slices.append((pos, pos + length))
        pos += length
    if record_len < 1 or header_len >= len(mapped):
        return b" ".join(names), b""
    n = min(records, (len(mapped) - header_len) // record_len)
    table = mapped[header_len : header_len + n * record_len].reshape(n, record_len)
    text = b"\n".join(table[:, a:b].tobytes() for a, b in slices if b <= record_len)
    return b" ".join(names), text


# --- FileGDB ---------------------------------------------------------------------------


def _check_gdb_table(table: Path) -> None:
    raw = table.read_bytes()
    if len(raw) < 40:
        raise _truncated(table, "the header", "文件头", 40, len(raw))
    version = int.from_bytes(raw[0:4], "little")
    if version not in (3, 4):
        return  # a layout we do not know: the reader's row count check still applies
    size = int.from_bytes(raw[24:32], "little")
    if size > len(raw):
        raise _truncated(table, "the table", "数据表", size, len(raw))
    tablx = table.with_suffix(".gdbtablx")
    if tablx.exists() and version == 3:
        _check_gdb_index(tablx, len(raw))


def _check_gdb_index(tablx: Path, table_size: int) -> None:
    raw = tablx.read_bytes()
    if len(raw) < 16:
        raise _truncated(tablx, "the header", "文件头", 16, len(raw))
    blocks = int.from_bytes(raw[4:8], "little")
    total_rows = int.from_bytes(raw[8:12], "little")
    width = int.from_bytes(raw[12:16], "little")
    if width not in (4, 5, 6):
        raise _damaged(
            tablx,
            f"its offsets are {width} bytes wide (4, 5 or 6 expected)",
            f"偏移量宽度为 {width} 字节（应为 4、5 或 6）",
        )
    expected = 16 + blocks * 1024 * width
    if len(raw) < expected:
        raise _truncated(tablx, "the row index", "行索引", expected, len(raw))
    if blocks * 1024 != total_rows and total_rows > blocks * 1024:
        raise _damaged(
            tablx,
            f"it indexes {total_rows} rows in {blocks} blocks of 1024",
            f"其 {blocks} 个 1024 行的块中登记了 {total_rows} 行",
        )
    n = blocks * 1024
    if n == 0:
        return
    cells = np.frombuffer(raw, dtype=np.uint8, count=n * width, offset=16).reshape(n, width)
    offsets = np.zeros(n, dtype=np.int64)
    for i in range(width):
        offsets |= cells[:, i].astype(np.int64) << (8 * i)
    beyond = np.flatnonzero(offsets >= table_size)
    if len(beyond):
        k = int(beyond[0])
        raise _damaged(
            tablx.with_suffix(".gdbtable"),
            f"row {k + 1} starts at byte {int(offsets[k]):,}, beyond the end of the "
            f"table ({table_size:,} bytes); {len(beyond)} rows lie outside it",
            f"第 {k + 1} 行起始于第 {int(offsets[k]):,} 字节，超出数据表末尾"
            f"（{table_size:,} 字节），共 {len(beyond)} 行在文件之外",
        )


# --- GeoPackage ------------------------------------------------------------------------


def _check_sqlite(path: Path) -> None:
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    try:
        with closing(sqlite3.connect(uri, uri=True)) as conn:
            conn.text_factory = lambda raw: raw.decode("utf-8", "replace")  # damaged names
            rows = conn.execute("PRAGMA quick_check(5)").fetchall()
            has_contents = conn.execute(
                "SELECT 1 FROM sqlite_master WHERE name = 'gpkg_contents'"
            ).fetchone()
    except sqlite3.DatabaseError as exc:
        raise _damaged(path, f"SQLite cannot read it ({exc})", f"SQLite 无法读取（{exc}）") from exc
    except UnicodeDecodeError as exc:  # SQLite's own message quotes damaged bytes
        raise _damaged(
            path, "SQLite cannot read it (a damaged page)", "SQLite 无法读取（数据页已损坏）"
        ) from exc
    problems = [str(r[0]) for r in rows if str(r[0]) != "ok"]
    if problems:
        raise _damaged(
            path,
            f"SQLite finds {len(problems)} problem(s): {problems[0]}",
            f"SQLite 检查发现 {len(problems)} 处问题：{problems[0]}",
        )
    if has_contents is None:
        raise LayerError(
            f"{path} is an SQLite file but not a GeoPackage (it has no gpkg_contents table).",
            file=str(path),
            fix="Export the layer as a GeoPackage (.gpkg) from QGIS or ArcGIS.",
            message_zh=f"{path} 是 SQLite 文件，但不是 GeoPackage（缺少 gpkg_contents 表）。",
            fix_zh="请在 QGIS 或 ArcGIS 中把图层导出为 GeoPackage（.gpkg）。",
        )


# --- entry points ----------------------------------------------------------------------


def check_container(path: Path, fmt: str) -> int | None:
    """Check that the file at ``path`` (of format ``fmt`` as the reader names it:
    ``Shapefile``, ``FileGDB``, ``GeoPackage`` …) is whole; raises LayerError if not.

    Returns the number of features a Shapefile's headers declare (``None`` for other
    formats, whose layers the reader counts through GDAL)."""
    if fmt == "Shapefile":
        return _check_shapefile(path)
    if fmt == "FileGDB":
        for table in sorted(path.glob("*.gdbtable")):
            _check_gdb_table(table)
    elif fmt == "GeoPackage":
        _check_sqlite(path)
    return None
