"""The values a workspace's catalogue holds and the store port (:mod:`guotu.ports`) speaks in:
what a caller says about a version it records, a layer's record, a table's recordings and
rows, and a line of the audit log.

They are plain frozen values, the same whichever backend (GeoPackage, PostGIS, memory) keeps
them; the stores build them from their rows, services and the CLI and web layers read them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from guotu.domain.core.model import Version, VersionStatus

__all__ = ["AuditEntry", "LayerInfo", "TableInfo", "TableVersion", "VersionSpec", "YearValue"]


@dataclass(frozen=True)
class VersionSpec:
    """What a caller says about a version it records (the store adds id and record time).

    ``plan`` is a plan name (created beforehand with ``create_plan``); ``parent`` a version
    label of the same plan: the version this one amends. Without a parent, the plan's latest
    recorded version is the parent (if there is one).

    Examples
    --------
    >>> VersionSpec("示范县总体规划", "2021版").status.value
    'approved'
    """

    plan: str
    label: str
    status: VersionStatus = VersionStatus.APPROVED
    parent: str | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    approval_no: str = ""
    approval_organ: str = ""
    approval_date: date | None = None
    author: str = ""
    reason: str = ""


@dataclass(frozen=True)
class AuditEntry:
    """One line of the append-only audit log.

    ``department`` and ``address`` say where the actor acted from (their department id and
    the client's network address; ``""`` for the system's own entries and command-line
    writes). ``prev_hash`` and ``hash`` chain the entry to the one before it
    (:mod:`guotu.domain.access.audit_chain`): ``hash`` is computed from ``prev_hash`` and
    :meth:`chain_fields`.
    """

    id: int
    at: str
    actor: str
    action: str
    object: str
    reason: str
    detail: dict[str, Any]
    department: str = ""
    address: str = ""
    prev_hash: str = ""
    hash: str = ""

    def chain_fields(self) -> dict[str, Any]:
        """The fields the entry's hash covers (everything but the two hashes).

        Examples
        --------
        >>> sorted(AuditEntry(1, "2024-01-01T00:00:00", "张工", "sign_in", "user:张工", "", {}
        ...                   ).chain_fields())  # doctest: +NORMALIZE_WHITESPACE
        ['action', 'actor', 'address', 'at', 'department', 'detail', 'id', 'object', 'reason']
        """
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "department": self.department,
            "address": self.address,
            "action": self.action,
            "object": self.object,
            "reason": self.reason,
            "detail": self.detail,
        }

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict.

        Examples
        --------
        >>> AuditEntry(1, "2024-01-01T00:00:00", "张工", "create_plan", "plan:总规", "", {}
        ...            ).to_dict()["actor"]
        '张工'
        """
        return {
            "id": self.id,
            "at": self.at,
            "actor": self.actor,
            "action": self.action,
            "object": self.object,
            "reason": self.reason,
            "detail": self.detail,
            "department": self.department,
            "address": self.address,
            "prev_hash": self.prev_hash,
            "hash": self.hash,
        }


@dataclass(frozen=True)
class LayerInfo:
    """What the workspace knows about one layer."""

    name: str
    role: str
    features: int
    geometry_type: str
    crs: str
    columns: dict[str, str] = field(default_factory=dict)
    source: str = ""
    source_layer: str = ""
    field_map: dict[str, str] = field(default_factory=dict)
    imported_at: str = ""
    plan: str = ""

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable form used by ``guotu layers --json``.

        Examples
        --------
        >>> LayerInfo("GHYD", "planned_land_use", 3, "MULTIPOLYGON", "EPSG:4527").to_dict()["crs"]
        'EPSG:4527'
        """
        return {
            "name": self.name,
            "role": self.role,
            "features": self.features,
            "geometry_type": self.geometry_type,
            "crs": self.crs,
            "columns": self.columns,
            "source": self.source,
            "source_layer": self.source_layer,
            "field_map": self.field_map,
            "imported_at": self.imported_at,
            "plan": self.plan,
        }


@dataclass(frozen=True)
class YearValue:
    """One value of a table: ``item`` (指标名称 or 统计项, as written) in ``unit`` (as written;
    ``""`` none) for ``year``; ``source_row`` is the row of the source file (0: unknown, as in
    a table with a row per year)."""

    item: str
    unit: str
    year: int
    value: float
    source_row: int = 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict.

        Examples
        --------
        >>> YearValue("耕地保有量", "公顷", 2035, 1200.0).to_dict()["year"]
        2035
        """
        return {
            "item": self.item,
            "unit": self.unit,
            "year": self.year,
            "value": self.value,
            "source_row": self.source_row,
        }


@dataclass(frozen=True)
class TableVersion:
    """A version that recorded a table's content: the version, its plan, how many values and
    the file they came from."""

    name: str
    plan: str
    version: Version
    rows: int
    source: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        v = self.version
        return {
            "table": self.name,
            "plan": self.plan,
            "version": v.label,
            "version_id": v.id,
            "status": v.status.value,
            "valid_from": None if v.valid_from is None else v.valid_from.isoformat(),
            "valid_to": None if v.valid_to is None else v.valid_to.isoformat(),
            "recorded_at": v.recorded_at.isoformat(),
            "rows": self.rows,
            "source": self.source,
            "author": v.author,
            "reason": v.reason,
        }


@dataclass(frozen=True)
class TableInfo:
    """What the workspace knows about one table: its plan, how many versions recorded it, and
    the latest recording's size, source and record time."""

    name: str
    plan: str
    versions: int
    rows: int
    source: str
    recorded_at: str

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {
            "name": self.name,
            "plan": self.plan,
            "versions": self.versions,
            "rows": self.rows,
            "source": self.source,
            "recorded_at": self.recorded_at,
        }
