"""Opening workspaces: a GeoPackage file, or a schema of a PostgreSQL + PostGIS database.

:class:`StorePool` keeps opened stores of one workspace for a long-running process (the web
app), so a request does not pay for opening the workspace.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from pyproj import CRS

from guotu.errors import ConfigError, CRSError, EnvironmentSetupError
from guotu.ports import FeatureStore
from guotu.store.geopackage import GeoPackageStore

__all__ = [
    "MAX_IDLE_STORES",
    "PG_SCHEMES",
    "StorePool",
    "data_version",
    "display_location",
    "open_workspace",
    "resolve_location",
    "workspace_crs",
]

log = logging.getLogger(__name__)

#: The URL schemes of a PostgreSQL + PostGIS workspace; any other ``xxx://`` is refused.
PG_SCHEMES = ("postgresql://", "postgres://")
_URL = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
#: Open stores a :class:`StorePool` keeps between requests (more are opened under load, and
#: closed when given back). A GeoPackage store is one sqlite3 connection; a PostGIS store a
#: pool of up to 4 connections, of which a store used by one request at a time opens one.
MAX_IDLE_STORES = 8


def display_location(location: str | Path) -> str:
    """A workspace location as it may be shown or logged: a password in a URL is masked.

    Examples
    --------
    >>> display_location("postgresql://guotu:s3cret@db.local:5432/yzt")
    'postgresql://guotu:***@db.local:5432/yzt'
    >>> display_location("demo_county.gpkg")
    'demo_county.gpkg'
    """
    return re.sub(r"^([a-z][a-z0-9+.-]*://[^/:@]*):[^/@]*@", r"\1:***@", str(location))


def resolve_location(location: str | Path) -> str:
    """The workspace location ``location`` stands for: ``env:NAME`` is the value of the
    environment variable ``NAME`` (so a DSN with a password never sits on a command line
    or in a config file); anything else is itself.

    Raises
    ------
    ConfigError
        ``env:NAME`` of an unset variable, or a URL of a scheme other than
        ``postgresql://`` and ``postgres://`` (``http://``, ``sqlite://`` …).

    Examples
    --------
    >>> resolve_location("demo_county.gpkg")
    'demo_county.gpkg'
    >>> resolve_location("mysql://u@h/db")  # doctest: +IGNORE_EXCEPTION_DETAIL
    Traceback (most recent call last):
    guotu.errors.ConfigError: Workspace mysql://…: ...
    """
    text = str(location)
    if not text.startswith("env:"):
        return _checked_scheme(text, text)
    name = text[4:]
    value = os.environ.get(name, "") if name else ""
    if not value:
        raise ConfigError(
            f"Workspace {text}: the environment variable {name or '(no name)'} is not set.",
            fix=f"Set it to a DSN (export {name or 'NAME'}=postgresql://user@host/db) or a "
            "GeoPackage path.",
            message_zh=f"工作空间 {text}：环境变量 {name or '（无名称）'} 未设置。",
            fix_zh=f"请把它设为连接串（export {name or 'NAME'}=postgresql://user@host/db）"
            "或 GeoPackage 路径。",
        )
    return _checked_scheme(value, text)


def _checked_scheme(value: str, given: str) -> str:
    """``value`` itself, unless it is a URL of a scheme guotu cannot open. The message names
    the scheme only: the rest of a URL may hold a password."""
    found = _URL.match(value)
    if found is None or value.startswith(PG_SCHEMES):
        return value
    scheme = found.group(1)
    shown = given if given.startswith("env:") else f"{scheme}://…"
    raise ConfigError(
        f"Workspace {shown}: {scheme}:// is not a workspace location guotu can open.",
        fix="Give a GeoPackage file path (county.gpkg), a PostgreSQL URL (postgresql://… or "
        "postgres://…), or env:NAME naming an environment variable that holds one of them.",
        message_zh=f"工作空间 {shown}：不支持 {scheme}:// 地址。",
        fix_zh="可用的工作空间位置：GeoPackage 文件路径（如 county.gpkg）、PostgreSQL 连接串"
        "（postgresql://… 或 postgres://…），或 env:变量名（该环境变量中存放以上之一）。",
    )


def open_workspace(location: str | Path, *, create: bool = False) -> FeatureStore:
    """Open the workspace at ``location``.

    ``location`` is a GeoPackage path, a PostgreSQL URL (``postgresql://`` or
    ``postgres://``; the workspace is the schema ``guotu``, or the first schema of a
    ``search_path`` given in the URL's ``options``), or ``env:NAME``: the location is in the
    environment variable ``NAME`` (the way to give a DSN with a password, e.g.
    ``-w env:GUOTU_PG_DSN``). Returns a ``GeoPackageStore`` or a ``PostGISStore``, typed as
    the port both implement, :class:`guotu.ports.FeatureStore`.

    Examples
    --------
    >>> # with open_workspace("demo_county.gpkg") as store: store.layers()
    >>> # with open_workspace("env:GUOTU_PG_DSN", create=True) as store: store.layers()
    """
    text = resolve_location(location)
    if text.startswith(PG_SCHEMES):
        try:
            from guotu.store.postgis import PostGISStore
        except ImportError as exc:
            raise EnvironmentSetupError(
                "PostgreSQL/PostGIS workspaces need psycopg, which is not installed.",
                fix="pip install 'guotu[postgis]'",
                message_zh="PostgreSQL/PostGIS 工作空间需要 psycopg，但它未安装。",
                fix_zh="请执行 pip install 'guotu[postgis]'",
            ) from exc
        return PostGISStore.open(text, create=create)
    return GeoPackageStore.open(Path(text), create=create)


def workspace_crs(store: FeatureStore) -> CRS:
    """The workspace's CRS; :class:`~guotu.errors.CRSError` when it holds no layer yet (the
    first imported layer fixes the CRS)."""
    crs = store.crs
    if crs is None:
        raise CRSError(
            "The workspace has no CRS yet: it holds no layer.",
            fix="Import a layer first.",
            message_zh="工作空间尚无坐标参考系：其中还没有图层。",
            fix_zh="请先导入图层。",
        )
    return crs


def data_version(store: FeatureStore) -> str:
    """A token that changes whenever data is recorded in the workspace (every write goes
    through the append-only audit log; sign-ins and other events recorded there do not
    count): the key of caches of tiles, query indexes and access policies.

    What is *in force* also changes with the date, so a cache of as-of reads must key on
    the as-of date as well.
    """
    return f"{store.path}#{store.data_head()}"


def _file_identity(store: FeatureStore) -> tuple[int, int] | None:
    """(device, inode) of a store's file (a GeoPackage's path is a file path; a database's
    or memory's is text), None for other stores or no file: a workspace replaced by a new
    file (``guotu demo --force``) must not be read through a connection to the old one."""
    path = store.path
    if not isinstance(path, Path):
        return None
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_dev, st.st_ino


def _is_idle(store: FeatureStore) -> bool:
    """Whether a returned store holds no open transaction (a PostGIS store also rolls back
    and checks its pooled connections itself)."""
    return not store.has_open_transaction


class StorePool:
    """Open stores of the workspace at ``location``, reused across requests.

    :meth:`borrow` lends a store to one caller at a time: a store (and so its sqlite3
    connection) is never used by two threads at once, whichever threads a web framework runs
    a request's parts on. A store is given back when the caller is done, and kept for the
    next one (at most ``max_idle``; the others are closed).

    Reuse is safe because the stores keep no data between calls: every read runs in its own
    autocommit statement (GeoPackage) or on a pooled autocommit connection (PostGIS), so it
    sees every write committed before it, by any process, and the data version
    (:func:`data_version`, the key of the app's caches) is read afresh by each request.
    What could make a store unsafe to reuse is checked:

    * a caller that failed (any exception) closes the store instead of giving it back: it
      might hold an aborted transaction, or a half-read cursor that pins an old snapshot;
    * a store handed back inside a transaction is closed;
    * a GeoPackage file replaced by another file since the store was opened (checked with
      one ``stat`` per borrow) closes the store and opens the new file.

    :meth:`close` closes the idle stores; stores lent out are closed when given back.

    Examples
    --------
    >>> pool = StorePool("demo_county.gpkg")
    >>> # with pool.borrow() as store: store.layers()
    >>> pool.close()
    """

    def __init__(
        self,
        location: str | Path,
        *,
        max_idle: int = MAX_IDLE_STORES,
        opener: Callable[[str | Path], FeatureStore] = open_workspace,
    ) -> None:
        self.location = location
        self.max_idle = max(0, max_idle)
        self._open = opener
        self._idle: list[tuple[FeatureStore, tuple[int, int] | None]] = []
        self._lent: dict[int, tuple[int, int] | None] = {}
        self._lock = threading.Lock()
        self._closed = False
        self.opened = 0  # stores opened so far (for tests and diagnostics)

    def acquire(self) -> FeatureStore:
        """A store for the caller alone; give it back with :meth:`release`."""
        while True:
            with self._lock:
                entry = self._idle.pop() if self._idle else None
            if entry is None:
                break
            store, identity = entry
            if identity is not None and _file_identity(store) != identity:
                self._discard(store, "the workspace file was replaced")
                continue
            with self._lock:
                self._lent[id(store)] = identity
            return store
        store = self._open(self.location)
        identity = _file_identity(store)
        with self._lock:
            self.opened += 1
            self._lent[id(store)] = identity
        return store

    def release(self, store: FeatureStore, *, failed: bool = False) -> None:
        """Give ``store`` back; with ``failed`` (the caller raised) it is closed instead."""
        with self._lock:
            identity = self._lent.pop(id(store), None)
            keep = not failed and not self._closed and len(self._idle) < self.max_idle
        if keep and not _is_idle(store):
            keep = False
            log.warning("a workspace store was given back inside a transaction; closed")
        if keep:
            with self._lock:
                if not self._closed and len(self._idle) < self.max_idle:
                    self._idle.append((store, identity))
                    return
        self._discard(store, "failed request" if failed else "not kept")

    @contextlib.contextmanager
    def borrow(self) -> Iterator[FeatureStore]:
        """A store for the ``with`` block, given back at its end (closed if it raised)."""
        store = self.acquire()
        try:
            yield store
        except BaseException:
            self.release(store, failed=True)
            raise
        self.release(store)

    def start(self) -> None:
        """Keep stores again after :meth:`close` (an app started a second time)."""
        with self._lock:
            self._closed = False

    def close(self) -> None:
        """Close every idle store; stores lent out are closed when they are given back."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, []
        for store, _identity in idle:
            self._discard(store, "pool closed")

    @property
    def idle(self) -> int:
        """How many open stores wait for the next request."""
        return len(self._idle)

    def _discard(self, store: FeatureStore, why: str) -> None:
        log.debug("closing a workspace store (%s)", why)
        try:
            store.close()
        except Exception:  # closing a broken connection: nothing more to do with it
            log.warning("closing a workspace store (%s) failed", why, exc_info=True)
