"""Writing a report file whole or not at all.

:func:`write_atomic` writes into a temporary file in the target's folder and moves it over
the target with :func:`os.replace` only once complete, so a failed write leaves no partial
file and an open old file is never half overwritten. Every report writer (the review's HTML,
PDF, XLSX and the GeoPackages of findings) writes through it.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable
from pathlib import Path

from guotu.errors import ConfigError, InputError

__all__ = ["write_atomic"]


def _check_parent(path: Path, what: tuple[str, str]) -> None:
    if path.is_dir():
        raise ConfigError(
            f"{path} is a folder; the {what[1]} needs a file name.",
            file=str(path),
            fix="Give a file name inside the folder.",
            message_zh=f"{path} 是文件夹；{what[0]}需要一个文件名。",
            fix_zh="请在该文件夹下给出文件名。",
        )
    if not path.parent.is_dir():
        raise ConfigError(
            f"The folder of {path} does not exist.",
            file=str(path),
            fix="Create the folder or give another path.",
            message_zh=f"{path} 所在的文件夹不存在。",
            fix_zh="请先创建文件夹，或换一个路径。",
        )


def write_atomic(path: Path, what: tuple[str, str], write: Callable[[Path], None]) -> Path:
    """Call ``write(tmp)`` on a fresh temporary name in ``path``'s folder, then move it over
    ``path``; on any failure the temporary file is removed and ``path`` is left as it was.
    ``what`` names the file in messages, in Chinese and English (``("HTML 报告", "HTML report")``).

    Raises
    ------
    ConfigError
        ``path``'s folder does not exist, or ``path`` is a folder.
    InputError
        ``path`` exists and cannot be replaced (open and locked by another program).
    """
    path = Path(path)
    _check_parent(path, what)
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(6)}.tmp{path.suffix}")
    try:
        write(tmp)
        try:
            os.replace(tmp, path)
        except OSError as exc:
            raise InputError(
                f"Cannot replace {path}: {exc.strerror}.",
                file=str(path),
                fix="Close the file in the program that has it open, or give another file name.",
                message_zh=f"无法覆盖 {path}：{exc.strerror}。",
                fix_zh="请在打开该文件的程序中关闭它，或换一个文件名。",
            ) from exc
    except BaseException:
        for leftover in (
            tmp,
            tmp.with_name(tmp.name + "-journal"),
            tmp.with_name(tmp.name + "-wal"),
            tmp.with_name(tmp.name + "-shm"),
        ):
            leftover.unlink(missing_ok=True)
        raise
    return path
