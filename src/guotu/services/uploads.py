"""Files uploaded to the server (plan review of a plan the user sends): saved, checked and
unpacked within limits, so that a hostile or broken upload costs a clear 4xx answer and
nothing else.

* The name is reduced to its last part and checked against the kinds we read
  (:data:`UPLOAD_SUFFIXES`); nothing the client says becomes a path outside the job's folder.
* The body is written in chunks and refused (:class:`~guotu.errors.TooLargeError`) as soon
  as it passes the limit.
* A zip is unpacked by us (:func:`guotu.io.archives.unpack_zip`, within the same limits as
  a zip given to ``guotu import``), not read in place by GDAL, and
  :func:`~guotu.io.archives.find_dataset` names the one dataset inside.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from guotu.errors import LayerError, TooLargeError
from guotu.io.archives import ZipLimits, find_dataset, too_large, unpack_zip

__all__ = [
    "UPLOAD_SUFFIXES",
    "UploadLimits",
    "find_dataset",
    "safe_name",
    "save_upload",
    "unpack_zip",
]

#: File kinds an upload may be: vector data, a zip of vector data, or an attribute/indicator
#: table.
UPLOAD_SUFFIXES = (".zip", ".gpkg", ".geojson", ".json", ".fgb", ".csv", ".xlsx")
#: Longest file name written (UTF-8 bytes; file systems allow 255).
_MAX_NAME_BYTES = 200


@dataclass(frozen=True, kw_only=True)
class UploadLimits(ZipLimits):
    """Limits of one upload (from :class:`~guotu.settings.Settings`): the zip limits of
    :class:`~guotu.io.archives.ZipLimits` and ``max_bytes``, the largest file sent."""

    max_bytes: int


def safe_name(filename: str | None) -> str:
    """The last part of an uploaded file's name, with characters that mean something to a
    file system replaced; the suffix must be one we read.

    Raises
    ------
    LayerError
        No name, or a kind of file we do not read.

    Examples
    --------
    >>> safe_name("C:\\\\规划\\\\控规 2024.zip")
    '控规 2024.zip'
    >>> safe_name("../../etc/passwd.geojson")
    'passwd.geojson'
    """
    base = re.split(r"[\\/]", filename or "")[-1].strip()
    base = re.sub(r'[\x00-\x1f:*?"<>|]', "_", base).lstrip(".")
    suffix = Path(base).suffix.lower()
    if not base or suffix not in UPLOAD_SUFFIXES:
        kinds = "、".join(UPLOAD_SUFFIXES)
        raise LayerError(
            f"Cannot read an upload named {filename!r}: send one of {', '.join(UPLOAD_SUFFIXES)} "
            "(a Shapefile or FileGDB goes zipped).",
            file=filename or None,
            fix="Zip the .shp with its .dbf, .shx, .prj (and .cpg) and upload the zip.",
            message_zh=f"无法读取上传的文件 {filename!r}：请上传 {kinds} 格式（Shapefile 和 "
            "FileGDB 请先压缩为 zip）。",
            fix_zh="请将 .shp 与同名 .dbf、.shx、.prj（及 .cpg）一起压缩为 zip 后上传。",
        )
    stem, suffix_kept = base[: -len(suffix)], base[-len(suffix) :]
    while len((stem + suffix_kept).encode("utf-8")) > _MAX_NAME_BYTES:  # file systems: 255 B
        stem = stem[:-1]
    return stem + suffix_kept


def save_upload(
    chunks: Iterable[bytes], filename: str | None, folder: Path, limits: UploadLimits
) -> Path:
    """Write an upload into ``folder`` (which must exist) under its :func:`safe_name`,
    stopping at ``limits.max_bytes``; an oversized file is removed before the error.

    Raises
    ------
    LayerError
        A name we cannot read, or an empty file.
    TooLargeError
        The file passes ``max_bytes``.
    """
    path = folder / safe_name(filename)
    written = 0
    try:
        with path.open("wb") as out:
            for chunk in chunks:
                written += len(chunk)
                if written > limits.max_bytes:
                    raise too_large(
                        f"The uploaded file {path.name}",
                        f"上传的文件 {path.name} ",
                        limits.max_bytes,
                        "max_upload_mb",
                    )
                out.write(chunk)
    except TooLargeError:
        path.unlink(missing_ok=True)
        raise
    if written == 0:
        path.unlink(missing_ok=True)
        raise LayerError(
            f"The uploaded file {path.name} is empty.",
            file=path.name,
            fix="Check that the file was chosen and copied completely.",
            message_zh=f"上传的文件 {path.name} 是空的。",
            fix_zh="请检查所选文件是否完整。",
        )
    return path
