"""Zip archives of data, unpacked within limits: a hostile or broken archive costs a clear
refusal and nothing else.

* Member names are checked (no absolute paths, no ``..``, no links) and decoded as GBK when
  the zip was made without the UTF-8 flag (Chinese Windows zip tools).
* The declared sizes and compression ratios are checked before anything is written, and
  the bytes actually written are counted as well, so a zip whose headers lie stops at the
  limit too (zip bombs).
* :func:`find_dataset` names the one dataset inside (a Shapefile, GeoPackage, FileGDB,
  GeoJSON or FlatGeobuf) or says which ones it found.

Uploads to the server and zips given to ``guotu import`` go through the same code.
"""

from __future__ import annotations

import re
import shutil
import stat
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from guotu.errors import LayerError, TooLargeError

__all__ = ["ZipLimits", "find_dataset", "too_large", "unpack_zip"]

#: Dataset kinds looked for inside a zip, in the order they are preferred.
_DATASET_SUFFIXES = (".shp", ".gpkg", ".gdb", ".geojson", ".json", ".fgb")
_MIB = 1024 * 1024
#: Members smaller than this are not held to the compression-ratio limit (tiny files of
#: repeated bytes compress far beyond any ratio without being a threat).
_RATIO_FREE_BYTES = _MIB


@dataclass(frozen=True, kw_only=True)
class ZipLimits:
    """Limits of unpacking one zip (from :class:`~guotu.settings.Settings`).

    Attributes
    ----------
    max_unzipped_bytes
        Largest total a zip may unpack to (setting ``max_unzipped_mb``).
    max_members
        Most members a zip may hold (setting ``max_zip_members``).
    max_ratio
        Largest uncompressed/compressed ratio of a zip member over 1 MiB (vector data rarely
        compresses beyond 20:1; bombs go past 1000:1).
    """

    max_unzipped_bytes: int
    max_members: int = 10_000
    max_ratio: float = 200.0


def too_large(what: str, what_zh: str, limit_bytes: int, setting: str) -> TooLargeError:
    """The refusal of something larger than the limit ``limit_bytes`` of ``setting``."""
    limit = f"{limit_bytes / _MIB:.3g} MB"
    env = f"GUOTU_{setting.upper()}"
    return TooLargeError(
        f"{what} is larger than the limit of {limit} (setting {setting}).",
        fix=f"Use a smaller file, or raise the setting {setting} (environment variable {env}).",
        message_zh=f"{what_zh}超过了 {limit} 的上限（设置 {setting}）。",
        fix_zh=f"请使用更小的文件，或调高设置 {setting}（环境变量 {env}）。",
    )


def _member_path(info: zipfile.ZipInfo, archive: str) -> PurePosixPath:
    """The member's relative path (name decoded by :func:`_member_name`), refused when it
    would leave the folder it is unpacked into."""
    name = _member_name(info).replace("\\", "/")
    parts = PurePosixPath(name).parts
    is_link = stat.S_ISLNK(info.external_attr >> 16)
    if name.startswith("/") or re.match(r"^[A-Za-z]:", name) or ".." in parts or is_link:
        raise LayerError(
            f"The zip {archive} holds a member {info.filename!r} that points outside the archive "
            "(an absolute path, '..' or a link).",
            file=archive,
            fix="Zip the data folder itself, without links or absolute paths.",
            message_zh=f"zip 文件 {archive} 中的 {info.filename!r} 指向压缩包以外（绝对路径、'..' 或"
            "链接）。",
            fix_zh="请直接压缩数据文件夹，不要包含链接或绝对路径。",
        )
    return PurePosixPath(*parts)


def _member_name(info: zipfile.ZipInfo) -> str:
    """The member's name, decoded as GBK when the zip was made without the UTF-8 flag (the
    Windows zip tools of Chinese systems write names in the local code page)."""
    if info.flag_bits & 0x800:
        return info.filename
    try:
        return info.filename.encode("cp437").decode("gb18030")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return info.filename


def unpack_zip(path: Path, folder: Path, limits: ZipLimits) -> Path:
    """Unpack the zip ``path`` into ``folder/<stem>/`` within ``limits``; returns that folder.

    Raises
    ------
    LayerError
        Not a zip, or a member that points outside the archive.
    TooLargeError
        Too many members, a total or a ratio beyond the limits (checked on the headers first,
        then on the bytes actually written).
    """
    name = path.name
    target = folder / (path.stem or "data")
    try:
        with zipfile.ZipFile(path) as archive:
            infos = [i for i in archive.infolist() if not i.is_dir()]
            if len(infos) > limits.max_members:
                raise TooLargeError(
                    f"The zip {name} holds {len(infos)} files, more than the limit of "
                    f"{limits.max_members}.",
                    file=name,
                    fix="Zip only the plan's data files.",
                    message_zh=f"zip 文件 {name} 含 {len(infos)} 个文件，超过 {limits.max_members} 个"
                    "的限制。",
                    fix_zh="请只压缩规划数据文件。",
                )
            declared = sum(i.file_size for i in infos)
            if declared > limits.max_unzipped_bytes:
                raise too_large(
                    f"The zip {name} unpacked",
                    f"zip 文件 {name} 解压后",
                    limits.max_unzipped_bytes,
                    "max_unzipped_mb",
                )
            for info in infos:
                ratio = info.file_size / max(info.compress_size, 1)
                if info.file_size > _RATIO_FREE_BYTES and ratio > limits.max_ratio:
                    raise TooLargeError(
                        f"The zip {name} looks like a zip bomb: {info.filename} unpacks to "
                        f"{ratio:.0f} times its packed size (limit {limits.max_ratio:g}).",
                        file=name,
                        fix="Zip the plan's data files as they are.",
                        message_zh=f"zip 文件 {name} 疑似“压缩炸弹”：其中 {info.filename} 解压后是"
                        f"压缩大小的 {ratio:.0f} 倍（限制 {limits.max_ratio:g} 倍）。",
                        fix_zh="请直接压缩规划数据文件。",
                    )
            paths = [target.joinpath(*_member_path(info, name).parts) for info in infos]
            written = 0
            for info, out_path in zip(infos, paths, strict=True):
                out_path.parent.mkdir(parents=True, exist_ok=True)
                with archive.open(info) as src, out_path.open("wb") as dst:
                    own = 0
                    while block := src.read(_MIB):
                        own += len(block)
                        written += len(block)
                        if own > info.file_size or written > limits.max_unzipped_bytes:
                            raise too_large(
                                f"The zip {name} unpacked",
                                f"zip 文件 {name} 解压后",
                                limits.max_unzipped_bytes,
                                "max_unzipped_mb",
                            )
                        dst.write(block)
    except zipfile.BadZipFile as exc:
        raise LayerError(
            f"The file {name} is not a readable zip ({exc}).",
            file=name,
            fix="Check that the file is complete, or zip it again.",
            message_zh=f"文件 {name} 不是可读取的 zip 文件（{exc}）。",
            fix_zh="请检查文件是否完整，或重新压缩。",
        ) from exc
    except (RuntimeError, NotImplementedError, OSError) as exc:
        # encrypted members, unsupported compression, names that clash (a file and a folder
        # of the same name) or that the file system refuses
        shutil.rmtree(target, ignore_errors=True)
        raise LayerError(
            f"The zip {name} cannot be unpacked: {type(exc).__name__}.",
            file=name,
            fix="Zip the plan's files again, without a password, with "
            "the usual (deflate) compression.",
            message_zh=f"zip 文件 {name} 无法解压（{type(exc).__name__}）。",
            fix_zh="请不加密码、用常规（deflate）压缩方式重新压缩规划数据文件。",
        ) from None
    except (TooLargeError, LayerError):
        shutil.rmtree(target, ignore_errors=True)
        raise
    return target


def find_dataset(root: Path, uploaded: str, source_layer: str | None = None) -> Path:
    """The one vector dataset under ``root`` (an unpacked zip): a Shapefile, GeoPackage,
    FileGDB folder, GeoJSON or FlatGeobuf. With several, ``source_layer`` picks the one
    whose name (without suffix) it is.

    Raises
    ------
    LayerError
        No dataset, or several and none named by ``source_layer``.
    """
    found: list[Path] = []
    for p in sorted(root.rglob("*")):
        if any(part.startswith("__MACOSX") for part in p.parts):
            continue
        suffix = p.suffix.lower()
        in_gdb = ".gdb" in {q.suffix.lower() for q in p.parents}
        if (suffix == ".gdb" and p.is_dir()) or (
            suffix in _DATASET_SUFFIXES and p.is_file() and not in_gdb
        ):
            found.append(p)
    if source_layer is not None:
        named = [p for p in found if p.stem == source_layer]
        if len(named) == 1:
            return named[0]
    if len(found) == 1:
        return found[0]
    shown = [p.relative_to(root).as_posix() for p in found]
    if not found:
        raise LayerError(
            f"The zip {uploaded} holds no vector data (.shp, .gpkg, .gdb, .geojson, .fgb).",
            file=uploaded,
            fix="Zip the plan layer's files (for a Shapefile: .shp, .dbf, .shx, "
            ".prj and .cpg together).",
            message_zh=f"zip 文件 {uploaded} 中没有矢量数据（.shp、.gpkg、.gdb、.geojson、.fgb）。",
            fix_zh="请压缩规划图层的全部文件（Shapefile 需 .shp、.dbf、.shx、.prj、.cpg 同时压缩）。",
        )
    raise LayerError(
        f"The zip {uploaded} holds {len(found)} datasets: {', '.join(shown)}; say which one "
        "to review.",
        file=uploaded,
        fix="Give source_layer as the name of one of them (without suffix), or zip one layer.",
        message_zh=f"zip 文件 {uploaded} 中有 {len(found)} 个数据集：{'、'.join(shown)}，请指定审查"
        "哪一个。",
        fix_zh="请用 source_layer 指定其中一个的名称（不含扩展名），或只压缩一个图层。",
    )
