"""Connections to a PostGIS workspace: the one place psycopg's exceptions become guotu's
store errors, the workspace's name in messages (never a password), the schema a DSN selects,
and a small pool of autocommit connections.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus

from guotu.errors import StoreError, StoreIntegrityError, StoreUnavailableError

__all__ = ["ConnectionPool", "display_name", "pg_errors", "schema_from_dsn"]


@contextlib.contextmanager
def pg_errors(where: str, action: str, action_zh: str) -> Iterator[None]:
    """Turn psycopg exceptions into guotu's store errors (``action`` in English and Chinese)."""
    try:
        yield
    except psycopg.errors.LockNotAvailable as exc:
        raise StoreError(
            f"Workspace {where} is being written by another process; {action} was not done.",
            file=where,
            fix="Wait for the other import to finish and run it again.",
            message_zh=f"工作空间 {where} 正被另一个进程写入，未能{action_zh}。",
            fix_zh="请等另一个导入完成后再运行一次。",
        ) from exc
    except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
        text = _first_line(exc)
        raise StoreUnavailableError(
            f"Workspace {where}: the database could not be reached; {action} was not done "
            f"({text}).",
            file=where,
            fix="Check that the PostgreSQL server is running and the DSN is right, then run "
            "it again.",
            message_zh=f"工作空间 {where}：无法连接数据库，未能{action_zh}（{text}）。",
            fix_zh="请确认 PostgreSQL 服务在运行且连接串正确，然后再运行一次。",
        ) from exc
    except (
        psycopg.errors.UndefinedTable,
        psycopg.errors.UndefinedColumn,
        psycopg.errors.InvalidSchemaName,
        psycopg.errors.UndefinedFunction,
    ) as exc:
        text = _first_line(exc)
        raise StoreIntegrityError(
            f"Workspace {where} is missing part of its tables ({text}); {action} was not done.",
            file=where,
            fix="The schema was changed outside guotu: restore it from a backup.",
            message_zh=f"工作空间 {where} 缺少部分数据表（{text}），未能{action_zh}。",
            fix_zh="该模式在 guotu 之外被改动过：请从备份恢复。",
        ) from exc
    except psycopg.Error as exc:
        text = _first_line(exc)
        raise StoreError(
            f"Workspace {where}: {action} failed: {text}.",
            file=where,
            message_zh=f"工作空间 {where}：{action_zh}失败：{text}。",
        ) from exc


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def display_name(dsn: str, schema: str) -> str:
    """The workspace's name in messages: the DSN without its password, and the schema."""
    try:
        info = conninfo_to_dict(dsn)
    except psycopg.Error:
        return f"postgresql (schema {schema})"
    host = str(info.get("host") or "localhost")
    port = f":{info['port']}" if info.get("port") else ""
    user = f"{info['user']}@" if info.get("user") else ""
    return f"postgresql://{user}{host}{port}/{info.get('dbname') or ''} (schema {schema})"


def schema_from_dsn(dsn: str) -> str | None:
    """The first schema of a ``search_path`` set in the DSN's ``options``, if any.

    Examples
    --------
    >>> schema_from_dsn("postgresql://u@h/db?options=-c%20search_path%3Dcounty_a,public")
    'county_a'
    >>> schema_from_dsn("postgresql://u@h/db") is None
    True
    """
    try:
        options = str(conninfo_to_dict(dsn).get("options") or "")
    except psycopg.Error:
        return None
    found = re.search(r"(?:-c\s*|--)search_path\s*=\s*([^\s]+)", options)
    if not found:
        return None
    for part in found.group(1).split(","):
        name = part.strip().strip('"')
        if name and name != "$user":
            return name
    return None


class ConnectionPool:
    """A small pool of autocommit connections, each configured by ``configure``."""

    def __init__(
        self,
        conninfo: str,
        configure: Callable[[psycopg.Connection[Any]], None],
        max_size: int = 4,
        timeout_s: float = 30.0,
        prepare_threshold: int = 2,
    ) -> None:
        self._conninfo = conninfo
        self._configure = configure
        self._idle: list[psycopg.Connection[Any]] = []
        self._lock = threading.Lock()
        self._slots = threading.BoundedSemaphore(max_size)
        self._timeout_s = timeout_s
        self._prepare_threshold = prepare_threshold
        self._closed = False

    def _connect(self) -> psycopg.Connection[Any]:
        conn = psycopg.connect(
            self._conninfo, autocommit=True, prepare_threshold=self._prepare_threshold
        )
        try:
            self._configure(conn)
        except BaseException:
            conn.close()
            raise
        return conn

    @contextlib.contextmanager
    def connection(self) -> Iterator[psycopg.Connection[Any]]:
        if self._closed:
            raise psycopg.InterfaceError("the workspace is closed")
        if not self._slots.acquire(timeout=self._timeout_s):
            raise psycopg.OperationalError(
                f"no free connection in the pool after {self._timeout_s:g} s"
            )
        try:
            with self._lock:
                conn = self._idle.pop() if self._idle else None
            if conn is None or conn.closed or conn.broken:
                conn = self._connect()
            try:
                yield conn
            finally:
                self._give_back(conn)
        finally:
            self._slots.release()

    def _give_back(self, conn: psycopg.Connection[Any]) -> None:
        if conn.closed or conn.broken or self._closed:
            conn.close()
            return
        if conn.info.transaction_status != TransactionStatus.IDLE:
            try:
                conn.rollback()
            except psycopg.Error:
                conn.close()
                return
        with self._lock:
            self._idle.append(conn)

    def backend_pids(self) -> list[int]:
        """Server process ids of the idle connections (for tests and diagnostics)."""
        with self._lock:
            return [c.info.backend_pid for c in self._idle if not c.closed]

    def close(self) -> None:
        self._closed = True
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()
