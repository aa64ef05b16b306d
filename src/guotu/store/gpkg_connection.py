"""The sqlite3 connection of a GeoPackage workspace, and the one place sqlite3's exceptions
become guotu's store errors.

A connection is opened in autocommit mode (the store opens its own transactions), may be used
from another thread than the one that opened it (one caller at a time: the web app lends a
store to one request), and runs every statement through :func:`driver_errors`, so no sqlite3
exception escapes a store.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from guotu.errors import StoreError, StoreIntegrityError, StoreUnavailableError
from guotu.store.gpkg_blob import register_functions
from guotu.store.gpkg_schema import SQLITE_HEADER, not_a_workspace_error

__all__ = ["GuardedConnection", "check_sqlite_header", "connect", "driver_errors"]


@contextlib.contextmanager
def driver_errors(path: Path, action: str, action_zh: str) -> Iterator[None]:
    """Turn sqlite3 exceptions into guotu's store errors (``action`` in English and Chinese)."""
    try:
        yield
    except sqlite3.OperationalError as exc:
        text = str(exc)
        if "locked" in text or "busy" in text:
            raise StoreError(
                f"Workspace {path} is being written by another process; {action} was not done.",
                file=str(path),
                fix="Wait for the other import to finish and run it again.",
                message_zh=f"工作空间 {path} 正被另一个进程写入，未能{action_zh}。",
                fix_zh="请等另一个导入完成后再运行一次。",
            ) from exc
        raise StoreError(
            f"Workspace {path}: {action} failed: {text}.",
            file=str(path),
            message_zh=f"工作空间 {path}：{action_zh}失败：{text}。",
        ) from exc
    except sqlite3.IntegrityError as exc:
        raise StoreIntegrityError(
            f"Workspace {path}: {action} was refused: {exc}.",
            file=str(path),
            message_zh=f"工作空间 {path}：{action_zh}被拒绝：{exc}。",
        ) from exc
    except sqlite3.DatabaseError as exc:
        raise StoreIntegrityError(
            f"{path} is not a readable GeoPackage ({exc}); {action} was not done.",
            file=str(path),
            fix="Give a workspace created by guotu, or a new file name.",
            message_zh=f"{path} 不是可读取的 GeoPackage（{exc}），未能{action_zh}。",
            fix_zh="请指定由 guotu 创建的工作空间，或一个新的文件名。",
        ) from exc


def check_sqlite_header(path: Path) -> None:
    """Refuse a file that is not an SQLite database at all (before SQLite reads it)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise StoreUnavailableError(
            f"Cannot read workspace {path}: {exc}.",
            file=str(path),
            message_zh=f"无法读取工作空间 {path}：{exc}。",
        ) from exc
    if head != SQLITE_HEADER:
        raise not_a_workspace_error(
            path,
            "it is not a GeoPackage (not even an SQLite file)",
            "它不是 GeoPackage 文件（也不是 SQLite 数据库）",
        )


class GuardedConnection(sqlite3.Connection):
    """A sqlite3 connection whose statements raise guotu's store errors, never sqlite3's."""

    workspace_path: Path = Path("?")

    def execute(self, sql: str, parameters: Any = (), /) -> sqlite3.Cursor:
        with driver_errors(self.workspace_path, "accessing the workspace", "访问工作空间"):
            return super().execute(sql, parameters)

    def executemany(self, sql: str, parameters: Any, /) -> sqlite3.Cursor:
        with driver_errors(self.workspace_path, "writing to the workspace", "写入工作空间"):
            return super().executemany(sql, parameters)


def connect(path: Path, busy_timeout_s: float) -> GuardedConnection:
    """An autocommit connection to the file at ``path`` with the SQL functions GeoPackage's
    R-tree triggers call registered; a second writer waits ``busy_timeout_s``.

    Raises
    ------
    StoreUnavailableError
        SQLite cannot open the file.
    """
    try:
        conn = sqlite3.connect(
            str(path),
            isolation_level=None,
            timeout=busy_timeout_s,
            check_same_thread=False,
            factory=GuardedConnection,
        )
    except sqlite3.Error as exc:
        raise StoreUnavailableError(
            f"Cannot open workspace {path}: {exc}.",
            file=str(path),
            message_zh=f"无法打开工作空间 {path}：{exc}。",
        ) from exc
    conn.workspace_path = path
    register_functions(conn)
    return conn
