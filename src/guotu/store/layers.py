"""Layers in plans, and the one write path every store takes to record a layer's content.

:class:`LayerCatalog` is the base of the three stores (GeoPackage, PostGIS, memory). Its
:meth:`~LayerCatalog.write_layer` holds, once, everything a write decides: the checks (the
workspace CRS and the data's, the layer name, a layer that exists or differs only in case,
a layer another writer created meanwhile), the content hashes, the plan and version it goes
into, which revisions are shared, added and retired, the layer's record and the audit entry.
A backend only stores what it is told, through small hooks, the way a SQL provider of
pygeoapi overrides only its dialect's parts:

==============================  =============================================================
hook                            what the backend does
==============================  =============================================================
``_check_names``                refuse names the database cannot hold (PostGIS: 63 bytes)
``_content_srid``               the SRS id geometry blobs are encoded (and hashed) with
``_fix_crs``                    record the workspace CRS (GeoPackage: and its SRS row)
``_create_layer``               make the table of a new layer
``_add_columns``                add columns a new content brings to an existing layer
``_revisions_in``               (fid, hash) of the layer's revisions in a version's lineage
``_insert_revisions``           store the new revisions (sqlite3 rows, COPY, Python lists)
``_retire``                     record the revisions a version retires
``_index_new_layer``            build a new layer's spatial index after its first rows
``_record_layer_version``       what a version did to the layer (counts)
``_record_layer``               the layer's record (``guotu_layers``)
``_after_layer_write``          anything else (GeoPackage: extent and the ``_现行`` view)
==============================  =============================================================

``_record_layer_version``, ``_record_layer`` and ``_retire`` have one SQL form for both SQL
backends; the memory store overrides them. Every write runs in the backend's
``_transaction`` holding its writer lock (``_lock_for_write``): the checks are made before
anything is computed, and again under the lock, so a write whose view of the workspace went
stale meanwhile is refused before anything is written (or, when only the layer it replaces
changed, computed again). A failure anywhere leaves the store exactly as it was.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
from pyproj import CRS

from guotu.domain.core.catalog import LayerInfo, VersionSpec
from guotu.domain.core.model import Plan, PlanLevel, PlanType, Version, check_layer_name
from guotu.domain.core.plan_labels import implicit_layer_plan
from guotu.errors import ConfigError
from guotu.store.gpkg_blob import encode_blobs
from guotu.store.layout import SQL_TYPES, column_values, crs_id, now
from guotu.store.messages import (
    crs_already_set_error,
    layer_case_clash_error,
    layer_exists_error,
    no_crs_error,
    no_layer_error,
    other_crs_error,
)
from guotu.store.revisions import content_hashes, match_revisions
from guotu.store.tables import TableCatalog

__all__ = ["LayerCatalog", "LayerContent"]


@dataclass(frozen=True)
class LayerContent:
    """A layer's new content as every backend stores it: the attribute columns in the
    frame's order with their SQL types, the geometries, their GeoPackage blobs (encoded with
    ``srid``), the column values as written and a content hash per feature."""

    name: str
    columns: list[str]
    types: dict[str, str]
    geoms: npt.NDArray[np.object_]
    blobs: list[bytes | None]
    values: list[list[Any]]
    hashes: list[int]
    srid: int


@dataclass(frozen=True)
class _WriteState:
    """What a write saw of the workspace: the CRS the layer is written in, whether the write
    fixes it (a new workspace), and the layer's record if it exists."""

    crs: CRS
    is_new_crs: bool
    existing: LayerInfo | None

    def is_same_as(self, other: _WriteState) -> bool:
        return (
            self.is_new_crs == other.is_new_crs
            and self.existing == other.existing
            and self.crs.equals(other.crs)
        )


class LayerCatalog(TableCatalog):
    """Layers in plans: lookups, the workspace CRS and the one write path (see the module
    docstring)."""

    # -- what every backend answers ----------------------------------------------------------
    def meta(self, key: str) -> str | None:  # pragma: no cover - every backend implements it
        """A value of guotu's key/value metadata (backend hook)."""
        raise NotImplementedError

    def layers(self) -> list[LayerInfo]:  # pragma: no cover - every backend implements it
        """Every layer, by name (backend hook)."""
        raise NotImplementedError

    # -- lookups ---------------------------------------------------------------------------
    @property
    def crs(self) -> CRS | None:
        """The workspace CRS, or ``None`` while it holds no layer."""
        text = self.meta("crs")
        return None if text is None else CRS.from_user_input(text)

    def layer(self, name: str) -> LayerInfo:
        """The layer called ``name``.

        Raises
        ------
        NotFoundError
            Listing the layers there are.
        """
        infos = self.layers()
        for info in infos:
            if info.name == name:
                return info
        raise no_layer_error(self.path, name, [i.name for i in infos])

    def layer_role(self, name: str) -> str:
        """The role id of layer ``name``."""
        return self.layer(name).role

    def layers_with_role(self, role: str) -> list[LayerInfo]:
        """Every layer of role ``role`` (by role id)."""
        return [i for i in self.layers() if i.role == role]

    def layer_version(
        self, name: str, *, as_of: date | None = None, known_at: datetime | None = None
    ) -> Version | None:
        """The version a read of layer ``name`` sees: the version of its plan in force on
        ``as_of`` (default today) as known at ``known_at`` (default now). When neither time is
        given and the plan has no approved version at all yet (drafts only, 编制中), the latest
        recorded one."""
        return self._version_seen(self._layer_plan_id(name), as_of, known_at)

    def _layer_chain(
        self, name: str, as_of: date | None, known_at: datetime | None, version_id: int | None
    ) -> list[int]:
        """The lineage whose revisions a read of layer ``name`` returns (``[]``: none)."""
        if version_id is not None:
            return self.lineage_of(version_id)
        version = self.layer_version(name, as_of=as_of, known_at=known_at)
        return [] if version is None else self.lineage_of(version.id)

    def _layer_plan_id(self, name: str) -> int:
        row = self._run("SELECT plan_id FROM guotu_layers WHERE name = ?", (name,)).fetchone()
        if row is None:
            self.layer(name)  # raises the helpful NotFoundError
        return int(row[0])

    def _layer_in_version(self, name: str, version_id: int) -> bool:
        return (
            self._run(
                "SELECT 1 FROM guotu_layer_versions WHERE layer = ? AND version_id = ?",
                (name, version_id),
            ).fetchone()
            is not None
        )

    # -- the workspace CRS -----------------------------------------------------------------
    def set_crs(self, crs: CRS) -> None:
        """Fix the workspace CRS; allowed only while the workspace has no layer."""
        current = self.crs
        if current is not None and current != crs:
            raise crs_already_set_error(self.path, current.to_string())
        with self._store_errors("setting the CRS", "设置坐标参考系"), self._transaction():
            self._fix_crs(crs)

    # -- the one write path ----------------------------------------------------------------
    def write_layer(
        self,
        name: str,
        role: str,
        frame: gpd.GeoDataFrame,
        *,
        column_types: dict[str, str],
        geometry_type: str,
        source: str = "",
        source_layer: str = "",
        field_map: dict[str, str] | None = None,
        replace: bool = False,
        version: VersionSpec | None = None,
        actor: str = "",
        reason: str = "",
        crs: CRS | None = None,
    ) -> LayerInfo:
        """Record ``frame`` as the content of layer ``name`` in a version, in one transaction.

        Without ``version`` the layer has an implicit plan of its own: the first write is
        its version v1, and a write with ``replace`` records v2, v3 … (nothing is
        overwritten). With ``version`` the content is recorded in that version of a plan
        (created if the label is new, amending ``version.parent`` or the plan's latest
        version). Features whose geometry and attributes are unchanged from the parent are
        shared, not copied: storage grows with the change. ``crs`` fixes the CRS of a
        workspace that has none yet, in the same transaction; a frame with a CRS must be in
        the workspace's (a frame without one is taken to be).

        Raises
        ------
        ConfigError
            The data's CRS (``crs`` or the frame's) is not the workspace's; a name that
            differs from a layer's only in case; a plan or version that cannot take it.
        LayerError
            The layer exists and neither ``replace`` nor ``version`` was given, or another
            writer created it since this write began (nothing is written).
        StoreError
            The workspace has no CRS and none was given, or the store failed.
        """
        self._check_names(name, [c for c in frame.columns if c != frame.geometry.name])
        seen = self._write_state(name, frame, crs, replace=replace, version=version, before=None)
        content = self._layer_content(name, frame, column_types, seen)
        with self._store_errors(f"writing layer {name}", f"写入图层 {name}"), self._transaction():
            self._lock_for_write()
            state = self._write_state(
                name, frame, crs, replace=replace, version=version, before=seen
            )
            if not state.is_same_as(seen):  # another writer changed it meanwhile: again
                content = self._layer_content(name, frame, column_types, state)
            if state.is_new_crs:
                self._fix_crs(state.crs)
            plan_id = self._plan_for_write(name, role, version, state.existing)
            target, parent_chain = self._version_for_write(
                name,
                plan_id,
                version,
                actor,
                reason,
                holds=self._layer_in_version,
                noun=("layer", "图层"),
            )
            old_types = {} if state.existing is None else state.existing.columns
            if state.existing is None:
                self._create_layer(content, role, geometry_type)
            else:
                new = [c for c in content.columns if c not in old_types]
                self._add_columns(name, new, content.types)
            keep, retire, add = match_revisions(
                self._revisions_in(name, parent_chain), content.hashes
            )
            rows = np.flatnonzero(add)
            self._insert_revisions(content, rows, target.id)
            self._retire(name, target.id, retire)
            if state.existing is None:
                self._index_new_layer(content, rows)
            features = keep + len(rows)
            self._record_layer_version(name, target.id, features, len(rows), len(retire))
            info = LayerInfo(
                name=name,
                role=role,
                features=features,
                geometry_type=geometry_type,
                crs=crs_id(state.crs),
                columns=content.types
                | {c: t for c, t in old_types.items() if c not in content.types},
                source=source,
                source_layer=source_layer,
                field_map=dict(field_map or {}),
                imported_at=now(),
                plan=self.plan(plan_id).name,
            )
            self._record_layer(info, plan_id)
            self._after_layer_write(info, plan_id, content.srid)
            self._audit(
                actor,
                "write_layer",
                f"layer:{name}",
                reason or target.reason,
                {
                    "version_id": target.id,
                    "version": target.label,
                    "added": len(rows),
                    "retired": len(retire),
                    "unchanged": keep,
                    "source": source,
                },
            )
        return self.layer(name)

    def _write_state(
        self,
        name: str,
        frame: gpd.GeoDataFrame,
        crs: CRS | None,
        *,
        replace: bool,
        version: VersionSpec | None,
        before: _WriteState | None,
    ) -> _WriteState:
        """Check a write of ``frame`` as layer ``name`` against the workspace as it is now
        (refusing it with the error every store gives), and say what it saw. ``before``: what
        the same write saw when it began (this check then runs under the writer lock)."""
        fixed = self.crs
        if fixed is None and crs is None:
            raise no_crs_error(self.path, name)
        if fixed is not None and crs is not None and not fixed.equals(crs):
            raise other_crs_error(self.path, name, fixed.name, crs.name)
        target = fixed or crs
        assert target is not None
        if frame.crs is not None and not CRS.from_user_input(frame.crs).equals(target):
            raise other_crs_error(self.path, name, target.name, CRS.from_user_input(frame.crs).name)
        existing = {i.name: i for i in self.layers()}
        clash = next((n for n in existing if n != name and n.casefold() == name.casefold()), None)
        if clash is not None:
            raise layer_case_clash_error(self.path, name, clash)
        info = existing.get(name)
        if info is not None and before is not None and before.existing is None:
            raise layer_exists_error(self.path, name, just_created=True)
        if info is not None and not replace and version is None:
            raise layer_exists_error(self.path, name)
        if info is None:
            check_layer_name(name)
        return _WriteState(target, fixed is None, info)

    def _layer_content(
        self,
        name: str,
        frame: gpd.GeoDataFrame,
        column_types: dict[str, str],
        state: _WriteState,
    ) -> LayerContent:
        """``frame`` as the backend stores it; an existing layer's column types win."""
        cols = [c for c in frame.columns if c != frame.geometry.name]
        old_types = {} if state.existing is None else state.existing.columns
        types = {c: old_types.get(c) or SQL_TYPES[column_types.get(c, "text")] for c in cols}
        geoms = np.asarray(frame.geometry.values, dtype=object)
        srid = self._content_srid(state.crs)
        blobs = encode_blobs(geoms, srid)
        values = [column_values(frame[c], types[c]) for c in cols]
        hashes = content_hashes(blobs, values, cols)
        return LayerContent(name, cols, types, geoms, blobs, values, hashes, srid)

    def _plan_for_write(
        self, name: str, role: str, version: VersionSpec | None, info: LayerInfo | None
    ) -> int:
        """The id of the plan the write records into: the layer's own (implicit) plan, or the
        plan of ``version`` (which must be the layer's, if it has one)."""
        if version is None:
            if info is not None:
                return self._layer_plan_id(name)
            return self._implicit_plan(name, role).id
        plan = self.plan(version.plan)
        if info is not None and info.plan and info.plan != plan.name:
            raise ConfigError(
                f"Layer {name} belongs to plan {info.plan!r}, not {plan.name!r}.",
                layer=name,
                fix=f"Record it in a version of {info.plan!r}, or import it under another "
                "--layer name.",
                message_zh=f"图层 {name} 属于规划 {info.plan!r}，不属于 {plan.name!r}。",
                fix_zh=f"请登记到 {info.plan!r} 的版本，或用 --layer 换名导入。",
            )
        return plan.id

    def _implicit_plan(self, name: str, role: str) -> Plan:
        kind = PlanType.SURVEY if role in ("land_survey", "change_patch") else PlanType.DATA
        return self._insert_plan(
            implicit_layer_plan(name),
            PlanLevel.COUNTY,
            kind,
            "",
            None,
            f"implicit plan of layer {name}",
            True,
        )

    # -- backend hooks of the write path ---------------------------------------------------
    def _check_names(self, name: str, columns: Sequence[str]) -> None:
        """Refuse a layer or column name the backend cannot hold (hook; default: any)."""

    def _content_srid(self, crs: CRS) -> int:  # pragma: no cover - every backend implements it
        """The SRS id geometry blobs of ``crs`` are encoded (and hashed) with (hook)."""
        raise NotImplementedError

    def _fix_crs(self, crs: CRS) -> None:  # pragma: no cover - every backend implements it
        """Record ``crs`` as the workspace CRS, inside the write transaction (hook)."""
        raise NotImplementedError

    def _create_layer(
        self, content: LayerContent, role: str, geometry_type: str
    ) -> None:  # pragma: no cover - every backend implements it
        """Make the (empty) table of the new layer ``content.name`` (hook)."""
        raise NotImplementedError

    def _add_columns(
        self, name: str, columns: Sequence[str], types: dict[str, str]
    ) -> None:  # pragma: no cover - every backend implements it
        """Add ``columns`` (of SQL ``types``) to the existing layer ``name`` (hook)."""
        raise NotImplementedError

    def _revisions_in(
        self, name: str, chain: Sequence[int]
    ) -> list[tuple[int, int]]:  # pragma: no cover - every backend implements it
        """(fid, content hash) of layer ``name``'s revisions in the version whose lineage is
        ``chain`` (hook)."""
        raise NotImplementedError

    def _insert_revisions(
        self, content: LayerContent, rows: npt.NDArray[np.intp], version_id: int
    ) -> None:  # pragma: no cover - every backend implements it
        """Store the features ``rows`` of ``content`` as new revisions added by version
        ``version_id``, fids rising in the order of ``rows`` (hook)."""
        raise NotImplementedError

    def _retire(self, name: str, version_id: int, fids: Sequence[int]) -> None:
        """Record that version ``version_id`` retires revisions ``fids`` of layer ``name``."""
        self._execute_many(
            "INSERT INTO guotu_retired (layer, version_id, fid) VALUES (?, ?, ?)",
            [(name, version_id, int(f)) for f in fids],
        )

    def _index_new_layer(self, content: LayerContent, rows: npt.NDArray[np.intp]) -> None:
        """Build a new layer's indexes after its first rows (hook; default: none)."""

    def _record_layer_version(
        self, name: str, version_id: int, features: int, added: int, retired: int
    ) -> None:
        """Record what version ``version_id`` holds of layer ``name``."""
        self._execute(
            "INSERT INTO guotu_layer_versions (layer, version_id, features, added, retired) "
            "VALUES (?, ?, ?, ?, ?)",
            (name, version_id, features, added, retired),
        )

    def _record_layer(self, info: LayerInfo, plan_id: int) -> None:
        """Insert or update the layer's record."""
        self._execute(
            "INSERT INTO guotu_layers (name, role, features, geometry_type, crs, columns, "
            "source, source_layer, field_map, imported_at, plan_id) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET "
            "role = excluded.role, features = excluded.features, geometry_type = "
            "excluded.geometry_type, crs = excluded.crs, columns = excluded.columns, source = "
            "excluded.source, source_layer = excluded.source_layer, field_map = "
            "excluded.field_map, imported_at = excluded.imported_at, plan_id = excluded.plan_id",
            (
                info.name,
                info.role,
                info.features,
                info.geometry_type,
                info.crs,
                json.dumps(info.columns, ensure_ascii=False),
                info.source,
                info.source_layer,
                json.dumps(info.field_map, ensure_ascii=False),
                info.imported_at,
                plan_id,
            ),
        )

    def _after_layer_write(self, info: LayerInfo, plan_id: int, srid: int) -> None:
        """Anything else a backend keeps up to date after a write (hook; default: none)."""
