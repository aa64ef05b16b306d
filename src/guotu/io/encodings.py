"""Which encoding a file's text is really in, decided from its bytes.

A Shapefile's ``.cpg`` names the code page of its ``.dbf``, but often wrongly: tools write
``GBK`` or ``1252`` next to UTF-8 data, and a wrong name turns 住宅项目 into 浣忓畢椤圭洰
without any error. So the declared encoding is checked against the bytes of the character
fields:

* bytes that are valid UTF-8 and hold Chinese characters are UTF-8, whatever the ``.cpg``
  says (GBK text of any length is practically never valid UTF-8);
* bytes that do not decode strictly in the declared encoding are refused, with the
  encoding they do decode in;
* a single-byte code page (1252, ISO-8859-1 …) declared for bytes that read as Chinese in
  GB18030 is refused too.

Without a ``.cpg``, valid UTF-8 is UTF-8 and anything else must decode as GB18030 (a superset
of GBK, which Chinese ArcGIS and 三调 tools write). ``--encoding`` overrides the ``.cpg`` and
is itself checked strictly. Refusals are :class:`~guotu.errors.LayerError` naming the file,
the field and the record, with a sample of how the text reads in each encoding.
"""

from __future__ import annotations

import codecs
import re
from pathlib import Path

from guotu.errors import LayerError
from guotu.io.containers import dbf_text_bytes

__all__ = ["check_utf8_text", "codec_name", "shapefile_encoding"]

#: Code-page names seen in .cpg files → the codec that reads them. GB2312 and GBK files
#: routinely hold characters outside those tables (堃, 喆 …): GB18030 reads all of them.
_ALIASES = {
    "936": "GB18030",
    "CP936": "GB18030",
    "ANSI 936": "GB18030",
    "GBK": "GB18030",
    "GB2312": "GB18030",
    "EUC-CN": "GB18030",
    "GB18030": "GB18030",
    "65001": "UTF-8",
    "UTF8": "UTF-8",
    "UTF-8": "UTF-8",
    "950": "CP950",
    "BIG5": "CP950",
}
_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
#: Share of the non-ASCII characters that must be Chinese for text to "read as Chinese".
_CJK_SHARE = 0.6


def codec_name(text: str, where: str, *, option: str = ".cpg") -> str:
    """The Python codec for an encoding name as written in a .cpg file or ``--encoding``
    (``1252`` → ``CP1252``, ``GBK`` → ``GB18030``).

    Examples
    --------
    >>> codec_name("936", "a.cpg"), codec_name(" utf-8 ", "a.cpg"), codec_name("1252", "a.cpg")
    ('GB18030', 'UTF-8', 'CP1252')
    """
    name = text.strip().upper()
    if not name:
        return "UTF-8"
    codec = _ALIASES.get(name) or (
        f"CP{name}" if name.isdigit() else name.removeprefix("ANSI ").strip()
    )
    if codec.isdigit():
        codec = f"CP{codec}"
    try:
        codecs.lookup(codec)
    except LookupError:
        fix_en = (
            "Write GBK, GB18030 or UTF-8 into the .cpg file, or give --encoding."
            if option == ".cpg"
            else "Give --encoding GBK, GB18030 or UTF-8."
        )
        fix_zh = (
            "请在 .cpg 文件中写 GBK、GB18030 或 UTF-8，或用 --encoding 指定。"
            if option == ".cpg"
            else "请用 --encoding 指定 GBK、GB18030 或 UTF-8。"
        )
        raise LayerError(
            f"{where} names the encoding {text.strip()!r}, which is not known.",
            file=where,
            fix=fix_en,
            message_zh=f"{where} 写明的编码 {text.strip()!r} 无法识别。",
            fix_zh=fix_zh,
        ) from None
    return codec


def _decodes(raw: bytes, codec: str) -> str | None:
    try:
        return raw.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


def _reads_as_chinese(text: str | None) -> bool:
    if not text:
        return False
    wide = [c for c in text if ord(c) > 127]
    return bool(wide) and sum(bool(_CJK.match(c)) for c in wide) >= _CJK_SHARE * len(wide)


def _is_single_byte(codec: str) -> bool:
    name = codecs.lookup(codec).name
    return name in ("latin-1", "iso8859-1", "ascii") or name.startswith(("cp125", "iso8859"))


def _sample(text: str, limit: int = 12) -> str:
    """A short piece of text with non-ASCII characters, to show how it reads."""
    for part in re.split(r"[\s\x00]+", text):
        if any(ord(c) > 127 for c in part):
            return part[:limit]
    return text.strip()[:limit]


def _first_bad_cell(dbf: Path, codec: str) -> tuple[str, int] | None:
    """``(field, record number)`` of the first character field value that does not decode
    in ``codec``."""
    raw = dbf.read_bytes()
    header_len = int.from_bytes(raw[8:10], "little")
    record_len = int.from_bytes(raw[10:12], "little")
    fields: list[tuple[str, int, int]] = []
    pos = 1
    for start in range(32, header_len - 1, 32):
        desc = raw[start : start + 32]
        if len(desc) < 32 or desc[0] == 0x0D:
            break
        length = desc[16] + (desc[17] * 256 if desc[11:12] == b"C" else 0)
        if desc[11:12] == b"C":
            fields.append((desc[:11].split(b"\x00", 1)[0].decode("latin-1"), pos, pos + length))
        pos += length
    n = (len(raw) - header_len) // max(record_len, 1)
    for i in range(n):
        rec = raw[header_len + i * record_len : header_len + (i + 1) * record_len]
        for name, a, b in fields:
            if _decodes(rec[a:b], codec) is None:
                return name, i + 1
    return None


def _wrong_encoding(
    shp: Path,
    declared_by: str,
    declared: str,
    really: str | None,
    sample_declared: str,
    sample_really: str,
    cell: tuple[str, int] | None,
) -> LayerError:
    """The refusal of a .dbf whose text is not in the encoding ``declared_by`` (a .cpg file
    name, ``--encoding`` or empty for "no .cpg") says."""
    where = f"field {cell[0]}, record {cell[1]}" if cell else ""
    where_zh = f"字段 {cell[0]} 第 {cell[1]} 条记录" if cell else ""
    field = cell[0] if cell else None
    if really is None:
        said, said_zh = (
            (f"{declared} ({declared_by})", f"{declared} 编码（{declared_by}）")
            if declared_by
            else ("UTF-8 or GBK", "UTF-8 或 GBK 编码")
        )
        return LayerError(
            f"{shp}: the attribute text is not {said}"
            + (" nor UTF-8 or GBK" if declared_by else "")
            + (f" ({where})." if where else "."),
            file=str(shp),
            field=field,
            fix="Find out the encoding the data was written in and give it with --encoding.",
            message_zh=f"{shp}：属性文字不是 {said_zh}"
            + ("，也不是 UTF-8 或 GBK 编码" if declared_by else "")
            + (f"（{where_zh}）。" if where_zh else "。"),
            fix_zh="请确认数据写出时所用的编码，并用 --encoding 指定。",
        )
    shown = (
        f"as {declared} it reads {sample_declared!r}, as {really} {sample_really!r}"
        if sample_declared
        else f"as {really} it reads {sample_really!r}"
    )
    shown_zh = (
        f"按 {declared} 读作“{sample_declared}”，按 {really} 读作“{sample_really}”"
        if sample_declared
        else f"按 {really} 读作“{sample_really}”"
    )
    if where:
        shown, shown_zh = f"{where}: {shown}", f"{where_zh}：{shown_zh}"
    return LayerError(
        f"{shp}: {declared_by} says the attribute text is {declared}, but it is {really} "
        f"({shown}).",
        file=str(shp),
        field=field,
        fix=f"Write {really} into the .cpg file next to the .shp, or import with "
        f"--encoding {really}.",
        message_zh=f"{shp}：{declared_by} 写明属性文字为 {declared} 编码，但实际是 {really} "
        f"编码（{shown_zh}）。",
        fix_zh=f"请把 .shp 旁 .cpg 文件的内容改为 {really}，或导入时加 --encoding {really}。",
    )


def shapefile_encoding(
    shp: Path, dbf: Path | None, cpg: Path | None, override: str | None = None
) -> tuple[str, str]:
    """The codec of a Shapefile's attributes and how it was decided: ``"encoding option"``,
    ``"cpg"`` or ``"detected"``.

    Raises
    ------
    LayerError
        The declared encoding does not fit the bytes (see the module docstring).
    """
    names, text = dbf_text_bytes(dbf) if dbf is not None else (b"", b"")
    raw = names + b"\n" + text
    if override:
        codec, how, by = (
            codec_name(override, "--encoding", option="--encoding"),
            "encoding option",
            "--encoding",
        )
        said = override.strip()
    elif cpg is not None:
        said = cpg.read_bytes().decode("ascii", "replace").strip()
        codec, how, by = codec_name(said, str(cpg)), "cpg", cpg.name
    else:
        codec, how, by, said = "", "detected", "", ""
    if raw.isascii():
        return codec or "UTF-8", how
    utf8 = _decodes(raw, "UTF-8")
    gb = _decodes(raw, "GB18030")
    if not codec:
        if utf8 is not None:
            return "UTF-8", how
        if gb is not None:
            return "GB18030", how
        cell = _first_bad_cell(dbf, "GB18030") if dbf is not None else None
        raise _wrong_encoding(shp, "", "GB18030", None, "", "", cell)
    declared = _decodes(raw, codec)
    is_utf8 = codecs.lookup(codec).name == "utf-8"
    if override is None and not is_utf8 and utf8 is not None and _CJK.search(utf8):
        raise _wrong_encoding(shp, by, said, "UTF-8", _sample(declared or ""), _sample(utf8), None)
    if declared is None:
        really = "UTF-8" if utf8 is not None else ("GBK" if _reads_as_chinese(gb) else None)
        cell = _first_bad_cell(dbf, codec) if dbf is not None else None
        shown = _sample(utf8 if utf8 is not None else (gb or ""))
        raise _wrong_encoding(shp, by, said, really, "", shown, cell)
    if override is None and _is_single_byte(codec) and _reads_as_chinese(gb):
        raise _wrong_encoding(shp, by, said, "GBK", _sample(declared), _sample(gb or ""), None)
    return codec, how


def check_utf8_text(path: Path, raw: bytes, what: str, what_zh: str) -> None:
    """Refuse a text file that must be UTF-8 (GeoJSON, YAML) when it is not, saying so
    when it reads as GBK."""
    try:
        raw.decode("utf-8")
        return
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
    gb = _decodes(raw, "GB18030")
    if gb is not None and _reads_as_chinese(gb):
        shown = _sample(gb.splitlines()[line - 1] if line <= len(gb.splitlines()) else gb)
        raise LayerError(
            f"{path}: {what} must be UTF-8, but this one is GBK (line {line} reads {shown!r} "
            "in GBK).",
            file=str(path),
            fix="Save it again as UTF-8 (e.g. iconv -f GBK -t UTF-8), or give --encoding GBK.",
            message_zh=f"{path}：{what_zh}必须是 UTF-8 编码，此文件却是 GBK 编码（第 {line} 行按 "
            f"GBK 读作“{shown}”）。",
            fix_zh="请将其另存为 UTF-8 编码（如 iconv -f GBK -t UTF-8），或导入时加 --encoding GBK。",
        )
    raise LayerError(
        f"{path}: {what} must be UTF-8, but line {line} is not valid UTF-8.",
        file=str(path),
        fix="Save it again as UTF-8, or give the encoding it was written in with --encoding.",
        message_zh=f"{path}：{what_zh}必须是 UTF-8 编码，但第 {line} 行不是有效的 UTF-8。",
        fix_zh="请将其另存为 UTF-8 编码，或用 --encoding 指定它写出时的编码。",
    )
