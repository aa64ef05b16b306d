"""Opening a workspace that a command may create (``guotu import``, ``guotu plan create``).

A command that fails must leave no workspace behind. The commands check their options first
(role, files, CRS, names, enumerations), before anything is opened; what only the data can
show (a file that does not read, a CRS that does not fit) fails later, and then
:func:`creating_workspace` removes the GeoPackage file the command created.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path

from guotu.ports import FeatureStore
from guotu.services.workspace import PG_SCHEMES, open_workspace, resolve_location

__all__ = ["creating_workspace"]


@contextlib.contextmanager
def creating_workspace(location: str) -> Iterator[FeatureStore]:
    """The workspace at ``location``, created if it does not exist; a GeoPackage file this
    call created is removed (with its journal files) when the block raises. A PostgreSQL
    schema created for it is left in place (it is empty).

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     with creating_workspace(str(Path(folder) / "county.gpkg")) as store:
    ...         layers = store.layers()
    ...     try:
    ...         with creating_workspace(str(Path(folder) / "failed.gpkg")) as store:
    ...             raise ValueError("an import that fails")
    ...     except ValueError:
    ...         pass
    ...     print(layers, sorted(p.name for p in Path(folder).iterdir()))
    [] ['county.gpkg']
    """
    text = resolve_location(location)
    path = None if text.startswith(PG_SCHEMES) else Path(text)
    is_new = path is not None and not path.exists()
    try:
        with open_workspace(location, create=True) as store:
            yield store
    except BaseException:
        if is_new and path is not None:
            for leftover in (
                path,
                *(path.with_name(path.name + suffix) for suffix in ("-journal", "-wal", "-shm")),
            ):
                leftover.unlink(missing_ok=True)
        raise
