"""What a review reviews, decided once where the request comes in (the CLI's SOURCE argument,
the web API's ``source`` or upload): :data:`ReviewSource`.

* :class:`WorkspaceLayer`: the workspace's layer of the review kind's role (or the one named),
  read as of the review date;
* :class:`RecordedVersion`: a recorded plan version ``PLAN@LABEL``, the plan's layer of the
  review kind's role in that version;
* :class:`SourceFile`: a file (Shapefile, GeoPackage, GeoJSON …; for the indicator review a
  CSV/XLSX indicator table), read as ``guotu import`` reads it (:class:`ImportOptions`) into a
  throw-away workspace.

:func:`parse_review_source` reads the text a person typed; the web app, which never reads a
server file named in a request, accepts only a recorded version (``files_allowed=False``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from guotu.errors import ConfigError

__all__ = [
    "VERSION_REF",
    "ImportOptions",
    "RecordedVersion",
    "ReviewSource",
    "SourceFile",
    "WorkspaceLayer",
    "parse_review_source",
]

#: A recorded version reference: PLAN@LABEL, with no path separator on either side.
VERSION_REF = re.compile(r"^[^/\\@]+@[^/\\]+$")


@dataclass(frozen=True)
class WorkspaceLayer:
    """The workspace's layer of the review kind's role, or ``layer`` (``--layer``)."""

    layer: str | None = None


@dataclass(frozen=True)
class RecordedVersion:
    """A recorded plan version: the plan's layer of the review kind's role in version
    ``label`` (``layer`` chooses among several).

    Examples
    --------
    >>> str(RecordedVersion("示范县总体规划", "2021版"))
    '示范县总体规划@2021版'
    """

    plan: str
    label: str
    layer: str | None = None

    def __str__(self) -> str:
        return f"{self.plan}@{self.label}"


@dataclass(frozen=True)
class ImportOptions:
    """How a file under review is read, as ``guotu import`` reads it: the layer inside a
    multi-layer file, an attribute table joined on ``table_key``, column → field mapping,
    the CRS of a file without one, and whether features without geometry are accepted."""

    source_layer: str | None = None
    table: Path | None = None
    table_key: str | None = None
    field_map: Mapping[str, str] = field(default_factory=dict)
    crs: str | None = None
    allow_empty_geometry: bool = False


@dataclass(frozen=True)
class SourceFile:
    """A file under review (for the indicator review, the indicator table)."""

    path: Path
    options: ImportOptions = field(default_factory=ImportOptions)


#: What a review reviews.
ReviewSource = WorkspaceLayer | RecordedVersion | SourceFile


def parse_review_source(
    text: str | Path | None,
    *,
    kind: str,
    layer: str | None = None,
    files_allowed: bool = True,
    options: ImportOptions | None = None,
) -> ReviewSource:
    """The source a person named: nothing (the workspace layer, or ``layer``), ``PLAN@LABEL``
    (a recorded version, unless a file of that name exists or the name has a suffix) or a
    file (read with ``options``). The indicator review (``kind="indicators"``) always reads a
    file.

    Parameters
    ----------
    files_allowed
        ``False`` (the web app) accepts only ``PLAN@LABEL``: a request never names a file on
        the server.

    Raises
    ------
    ConfigError
        ``files_allowed`` is false and ``text`` is not ``PLAN@LABEL``.

    Examples
    --------
    >>> parse_review_source("示范县总体规划@2021版", kind="master-plan")
    RecordedVersion(plan='示范县总体规划', label='2021版', layer=None)
    >>> parse_review_source(None, kind="master-plan", layer="GHYD")
    WorkspaceLayer(layer='GHYD')
    >>> parse_review_source("地块.shp", kind="detailed-plan").path.name
    '地块.shp'
    """
    if text is None:
        return WorkspaceLayer(layer)
    name = str(text)
    if not files_allowed:
        if not VERSION_REF.match(name):
            raise ConfigError(
                f"{name!r} is not a recorded plan version PLAN@LABEL.",
                fix="Give PLAN@LABEL (see guotu plan list), or upload the file.",
                message_zh=f"{name!r} 不是已登记的规划版本 PLAN@LABEL。",
                fix_zh="请写 规划名@版本，或上传文件。",
            )
        plan, label = name.split("@", 1)
        return RecordedVersion(plan, label, layer)
    path = Path(name)
    if kind != "indicators" and "@" in name and not path.exists() and not path.suffix:
        plan, label = name.split("@", 1)
        return RecordedVersion(plan, label, layer)
    return SourceFile(path, options or ImportOptions())
