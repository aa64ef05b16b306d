"""The in-memory store: the reference implementation of the storage contract.

:class:`MemoryStore` holds plans, versions, feature revisions and the audit log in Python
lists and dicts; no SQL. It answers every read exactly as the SQL stores do (same frames,
same errors), so the contract suite (``tests/store/``) runs every test against it too, and
services can be tested against it without a file or a server.

The plan catalogue logic (time resolution, lineage, which version a write goes into) and the
write path of layers are those every store shares (:class:`~guotu.store.layers.LayerCatalog`);
this module replaces their SQL primitives and hooks. A write is atomic: a failure restores the
state it started from.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import geopandas as gpd
import numpy as np
import numpy.typing as npt
import shapely
from pyproj import CRS

from guotu.domain.access.audit_chain import GENESIS
from guotu.domain.core.catalog import AuditEntry, LayerInfo, VersionSpec, YearValue
from guotu.domain.core.model import Plan, PlanLevel, PlanType, Version
from guotu.domain.core.roles import get_role
from guotu.domain.workflow.records import ApprovalFigures
from guotu.errors import NotFoundError, StoreError
from guotu.store.approval_records import (
    CASES,
    ORDERS,
    STATUS_COLUMNS,
    VISITS,
    StatusQuery,
    figures_of,
    visit_of,
)
from guotu.store.approvals import ApprovalCatalog
from guotu.store.audit import AuditFilter
from guotu.store.gpkg_blob import decode_blobs
from guotu.store.identity_records import SESSION_COLUMNS, History
from guotu.store.layers import LayerCatalog, LayerContent
from guotu.store.layout import crs_id, srid_of
from guotu.store.messages import no_layer_error
from guotu.store.revisions import checked_columns, layer_frame

__all__ = ["MemoryStore"]


@dataclass
class _Table:
    """Feature revisions of one layer: fid, geometry, attribute values, version, hash."""

    columns: list[str]
    fids: list[int] = field(default_factory=list)
    geoms: list[Any] = field(default_factory=list)
    values: list[tuple[Any, ...]] = field(default_factory=list)
    added_in: list[int] = field(default_factory=list)
    hashes: list[int] = field(default_factory=list)

    def value(self, row: int, column: str) -> Any:
        i = self.columns.index(column)
        vals = self.values[row]
        return vals[i] if i < len(vals) else None


@dataclass
class _Layer:
    info: LayerInfo
    plan_id: int


def _status_key(i: int) -> Callable[[Sequence[Any]], tuple[bool, Any]]:
    """Sort by column ``i``, missing values last."""
    return lambda r: (r[i] is None, r[i] or "")


class MemoryStore(LayerCatalog, ApprovalCatalog):
    """A workspace held in memory (lost on close); see the module docstring."""

    def __init__(self, name: str = "memory") -> None:
        self.path = f"memory:{name}"
        self._meta: dict[str, str] = {}
        self._plans: list[Plan] = []
        self._versions: list[Version] = []
        self._audit_rows: list[AuditEntry] = []
        self._layers: dict[str, _Layer] = {}
        self._tables: dict[str, _Table] = {}
        self._retired: dict[tuple[str, int], list[int]] = {}
        self._layer_versions: dict[tuple[str, int], tuple[int, int, int]] = {}
        self._table_recs: list[tuple[str, int, int, str]] = []
        self._table_rows: dict[tuple[str, int], list[YearValue]] = {}
        self._histories: dict[str, list[tuple[Any, ...]]] = {}
        self._sessions: dict[str, tuple[Any, ...]] = {}
        self._statuses: dict[str, tuple[Any, ...]] = {}
        self._depth = 0

    @classmethod
    def open(cls, name: str = "memory", *, create: bool = True) -> MemoryStore:
        """A new, empty in-memory workspace (``create`` is accepted for symmetry)."""
        return cls(name)

    def close(self) -> None:
        """Nothing to release."""

    def __enter__(self) -> MemoryStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def has_open_transaction(self) -> bool:
        """Whether a write is under way on the store."""
        return self._depth > 0

    # -- the catalogue's primitives ----------------------------------------------------------
    def _store_errors(self, action: str, action_zh: str) -> contextlib.AbstractContextManager[None]:
        return contextlib.nullcontext()

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:  # pragma: no cover
        raise NotImplementedError("MemoryStore runs no SQL")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._depth:
            yield
            return
        saved = (
            dict(self._meta),
            len(self._plans),
            len(self._versions),
            len(self._audit_rows),
            dict(self._layers),
            {n: (len(t.fids), list(t.columns)) for n, t in self._tables.items()},
            dict(self._retired),
            dict(self._layer_versions),
            len(self._table_recs),
            dict(self._table_rows),
            {t: len(rows) for t, rows in self._histories.items()},
            dict(self._sessions),
            dict(self._statuses),
        )
        self._depth += 1
        try:
            with self._audit_flushed():
                yield
        except BaseException:
            (
                meta,
                plans,
                versions,
                audit,
                layers,
                tables,
                retired,
                layer_versions,
                table_recs,
                table_rows,
                histories,
                sessions,
                statuses,
            ) = saved
            self._meta = meta
            self._histories = {t: self._histories[t][:n] for t, n in histories.items()}
            self._sessions, self._statuses = sessions, statuses
            del self._table_recs[table_recs:]
            self._table_rows = table_rows
            del self._plans[plans:], self._versions[versions:], self._audit_rows[audit:]
            self._layers, self._retired, self._layer_versions = layers, retired, layer_versions
            self._tables = {n: t for n, t in self._tables.items() if n in tables}
            for n, (rows, columns) in tables.items():
                t = self._tables[n]
                t.columns = columns
                for part in (t.fids, t.geoms, t.values, t.added_in, t.hashes):
                    del part[rows:]
            raise
        finally:
            self._depth -= 1

    def _insert_plan(
        self,
        name: str,
        level: PlanLevel,
        type: PlanType,
        xzqdm: str,
        parent_id: int | None,
        description: str,
        implicit: bool,
    ) -> Plan:
        plan = Plan(len(self._plans) + 1, name, level, type, xzqdm, parent_id, description)
        self._plans.append(plan)
        return plan

    def plans(self) -> list[Plan]:
        """Every plan, by name."""
        return sorted(self._plans, key=lambda p: p.name)

    def versions(self, plan: str | int | None = None) -> list[Version]:
        """Versions of one plan (or of all), in the order they were recorded."""
        if plan is None:
            return list(self._versions)
        plan_id = self.plan(plan).id
        return [v for v in self._versions if v.plan_id == plan_id]

    def version_by_id(self, version_id: int) -> Version:
        """A version by its id."""
        if 1 <= int(version_id) <= len(self._versions):
            return self._versions[int(version_id) - 1]
        raise NotFoundError(
            f"There is no version {version_id}.", message_zh=f"不存在版本 {version_id}。"
        )

    def _last_record_time(self) -> datetime | None:
        return max((v.recorded_at for v in self._versions), default=None)

    def _insert_version_row(
        self, plan: Plan, spec: VersionSpec, parent_id: int | None, recorded: datetime
    ) -> int:
        version = Version(
            id=len(self._versions) + 1,
            plan_id=plan.id,
            label=spec.label,
            parent_id=parent_id,
            status=spec.status,
            valid_from=spec.valid_from,
            valid_to=spec.valid_to,
            recorded_at=recorded,
            approval_no=spec.approval_no,
            approval_organ=spec.approval_organ,
            approval_date=spec.approval_date,
            author=spec.author,
            reason=spec.reason,
        )
        if any(v.plan_id == plan.id and v.label == spec.label for v in self._versions):
            raise StoreError(f"Plan {plan.name!r} already has a version {spec.label!r}.")
        self._versions.append(version)
        return version.id

    def _last_audit(self) -> tuple[int, str]:
        rows = self._audit_rows
        return (rows[-1].id, rows[-1].hash) if rows else (0, GENESIS)

    def _insert_audits(self, entries: Sequence[AuditEntry]) -> None:
        self._audit_rows.extend(entries)

    def _set_data_head(self, entry_id: int) -> None:
        self._meta["data_head"] = str(entry_id)

    def _data_head(self) -> int | None:
        head = self._meta.get("data_head")
        return None if head is None else int(head)

    def audit_head(self) -> tuple[int, int]:
        """(number of audit entries, last entry id)."""
        rows = self._audit_rows
        return len(rows), rows[-1].id if rows else 0

    def audit_log(
        self, *, object_prefix: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """The audit log, oldest first (optionally only objects starting with a prefix)."""
        query = AuditFilter(object_prefix=object_prefix)
        rows = [e for e in self._audit_rows if query.admits(e)]
        return rows[:limit] if limit else rows

    def audit_records(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        object_prefix: str | None = None,
        department: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        before_id: int | None = None,
        limit: int | None = None,
    ) -> list[AuditEntry]:
        """Entries matching every filter given, newest first (see the SQL stores')."""
        query = AuditFilter(actor, action, object_prefix, department, since, until, before_id)
        rows = [e for e in reversed(self._audit_rows) if query.admits(e)]
        return rows[:limit] if limit else rows

    # -- identity primitives (see guotu.store.identity) ----------------------------------------
    def _append_state(self, history: History, row: Sequence[Any]) -> None:
        self._histories.setdefault(history.table, []).append(tuple(row))

    def _current_states(self, history: History) -> list[Sequence[Any]]:
        latest = {r[history.key_index]: r for r in self._histories.get(history.table, [])}
        return list(latest.values())

    def _states_of(
        self, history: History, key: str, *, latest: bool = False
    ) -> list[Sequence[Any]]:
        rows = self._histories.get(history.table, [])
        found: list[Sequence[Any]] = [r for r in rows if r[history.key_index] == key]
        return found[-1:] if latest else found

    def _session_row(self, id_hash: str) -> Sequence[Any] | None:
        return self._sessions.get(id_hash)

    def _save_session(self, row: Sequence[Any]) -> None:
        old = self._sessions.get(row[0])
        self._sessions[row[0]] = tuple(row) if old is None else (*old[:4], *row[4:])

    def _delete_sessions(self, column: str, value: str) -> int:
        i = SESSION_COLUMNS.index(column)
        gone = [h for h, r in self._sessions.items() if r[i] == value]
        for h in gone:
            del self._sessions[h]
        return len(gone)

    # -- approval primitives (see guotu.store.approvals) ---------------------------------------
    def _all_states(self, history: History) -> list[Sequence[Any]]:
        return list(self._histories.get(history.table, []))

    def _find_states(self, history: History, column: str, value: str) -> list[Sequence[Any]]:
        i = history.columns.index(column)
        return [r for r in self._histories.get(history.table, []) if r[i] == value]

    def _put_status(self, row: Sequence[Any]) -> None:
        self._statuses[row[0]] = tuple(row)

    def _status_rows(self, q: StatusQuery) -> list[Sequence[Any]]:
        col = {c: i for i, c in enumerate(STATUS_COLUMNS)}
        due = col["due_on"]
        rows: list[Sequence[Any]] = [
            r
            for k, r in self._statuses.items()
            if (q.case_id is None or k == q.case_id)
            and not (q.open_only and r[col["closed"]])
            and (not q.waiting or any(f"|{w}|" in r[col["waiting"]] for w in q.waiting))
            and (q.workflow is None or r[col["workflow"]] == q.workflow)
            and (q.due_before is None or (r[due] is not None and r[due] < q.due_before.isoformat()))
            and (q.case_ids is None or k in q.case_ids)
        ]
        for key in reversed(ORDERS[q.order]):
            rows.sort(key=_status_key(col[key.lstrip("-")]), reverse=key.startswith("-"))
        return rows[: q.limit] if q.limit is not None else rows

    def approval_figures(self, today: date, workflow: str | None = None) -> ApprovalFigures:
        col = {c: i for i, c in enumerate(STATUS_COLUMNS)}
        rows = [r for r in self._statuses.values() if workflow in (None, r[col["workflow"]])]
        counts: dict[tuple[str, str, bool], int] = {}
        for r in rows:
            key = (r[col["workflow"]], r[col["stage"]], bool(r[col["closed"]]))
            counts[key] = counts.get(key, 0) + 1
        late = [
            (r[col["waiting"]],)
            for r in rows
            if not r[col["closed"]] and r[col["due_on"]] and r[col["due_on"]] < today.isoformat()
        ]
        days: dict[tuple[str, str, int], list[int]] = {}
        for v in map(visit_of, self._histories.get(VISITS.table, [])):
            if workflow in (None, v.workflow):
                got = days.setdefault((v.workflow, v.stage, v.working_days), [0, 0])
                got[0] += 1
                got[1] += v.late
        return figures_of(
            [(*k, n) for k, n in counts.items()], late, [(*k, n, m) for k, (n, m) in days.items()]
        )

    def _max_case_id(self, prefix: str) -> str | None:
        ids = [r[0] for r in self._histories.get(CASES.table, []) if r[0].startswith(prefix)]
        return max(ids, default=None)

    def _table_records(self, name: str | None = None) -> list[tuple[str, int, int, str]]:
        return sorted(
            (r for r in self._table_recs if name is None or r[0] == name),
            key=lambda r: (r[1], r[0]),
        )

    def _table_content(self, name: str, version_id: int) -> list[YearValue]:
        return list(self._table_rows.get((name, int(version_id)), []))

    def _insert_table(
        self, name: str, version_id: int, rows: Sequence[YearValue], source: str
    ) -> None:
        if (name, version_id) in self._table_rows:
            raise StoreError(f"Version {version_id} already holds table {name!r}.")
        self._table_recs.append((name, version_id, len(rows), source))
        self._table_rows[(name, version_id)] = list(rows)

    def _layer_plan_id(self, name: str) -> int:
        if name not in self._layers:
            self.layer(name)  # raises the helpful NotFoundError
        return self._layers[name].plan_id

    def _layer_in_version(self, name: str, version_id: int) -> bool:
        return (name, version_id) in self._layer_versions

    # -- metadata and layers -----------------------------------------------------------------
    def meta(self, key: str) -> str | None:
        """A value of guotu's key/value metadata."""
        return self._meta.get(key)

    def layers(self) -> list[LayerInfo]:
        """Every layer, by name."""
        return [self._layers[n].info for n in sorted(self._layers)]

    def layer(self, name: str) -> LayerInfo:
        """The layer called ``name`` (``NotFoundError`` lists the others)."""
        if name in self._layers:
            return self._layers[name].info
        raise no_layer_error(self.path, name, sorted(self._layers))

    # -- reading -----------------------------------------------------------------------------
    def _rows_in(self, name: str, chain: Sequence[int]) -> list[int]:
        """Row positions of the revisions of ``name`` in the version whose lineage is ``chain``."""
        table = self._tables[name]
        ids = set(chain)
        gone = {f for v in chain for f in self._retired.get((name, v), [])}
        return [
            i
            for i, (fid, added) in enumerate(zip(table.fids, table.added_in, strict=True))
            if added in ids and fid not in gone
        ]

    def read_layer(
        self,
        name: str,
        *,
        bbox: Sequence[float] | None = None,
        columns: Sequence[str] | None = None,
        as_of: date | None = None,
        known_at: datetime | None = None,
        version_id: int | None = None,
    ) -> gpd.GeoDataFrame:
        """Features of layer ``name`` in a version, indexed by fid (see the contract)."""
        info = self.layer(name)
        cols = checked_columns(info, columns)
        rows = self._rows_in(name, self._layer_chain(name, as_of, known_at, version_id))
        table = self._tables[name]
        if bbox is not None and rows:
            minx, miny, maxx, maxy = (float(v) for v in bbox)
            geoms = np.asarray([table.geoms[i] for i in rows], dtype=object)
            env = shapely.bounds(geoms)
            ok = ~(shapely.is_missing(geoms) | shapely.is_empty(geoms))
            hit = ok & (
                (env[:, 2] >= minx)
                & (env[:, 0] <= maxx)
                & (env[:, 3] >= miny)
                & (env[:, 1] <= maxy)
            )
            rows = [r for r, h in zip(rows, hit.tolist(), strict=True) if h]
        return self._frame(name, rows, cols, info)

    def read_revisions(
        self, name: str, fids: Sequence[int], columns: Sequence[str] | None = None
    ) -> gpd.GeoDataFrame:
        """Feature revisions of layer ``name`` by fid, whatever version they belong to."""
        info = self.layer(name)
        cols = checked_columns(info, columns)
        wanted = {int(f) for f in fids}
        rows = [i for i, f in enumerate(self._tables[name].fids) if f in wanted]
        return self._frame(name, rows, cols, info)

    def version_changes(self, name: str, version_id: int) -> tuple[list[int], list[int]]:
        """(fids added, fids retired) by one version in layer ``name``."""
        self.layer(name)
        table = self._tables[name]
        added = [f for f, v in zip(table.fids, table.added_in, strict=True) if v == version_id]
        return added, sorted(self._retired.get((name, version_id), []))

    def feature_history(self, name: str, key: str) -> list[dict[str, Any]]:
        """Revisions of the feature whose role id field is ``key``: fid, added_in,
        retired_in (version labels as ``plan/label``)."""
        id_field = get_role(self.layer(name).role).id_field
        table = self._tables.get(name)
        if table is None or id_field not in table.columns:
            return []
        labels = {v.id: f"{self.plan(v.plan_id).name}/{v.label}" for v in self.versions()}
        out = []
        for row, fid in enumerate(table.fids):
            if table.value(row, id_field) == key:
                retired = sorted(
                    v for (n, v), fids in self._retired.items() if n == name and fid in fids
                )
                out.append(
                    {
                        "fid": fid,
                        "added_in": labels[table.added_in[row]],
                        "retired_in": [labels[v] for v in retired],
                    }
                )
        return out

    def _frame(
        self, name: str, rows: list[int], cols: list[str], info: LayerInfo
    ) -> gpd.GeoDataFrame:
        table = self._tables[name]
        data = [[table.value(i, c) for i in rows] for c in cols]
        return layer_frame(
            [table.fids[i] for i in rows],
            [table.geoms[i] for i in rows],
            cols,
            data,
            info.columns,
            info.crs,
        )

    def revision_count(self, name: str) -> int:
        """How many feature revisions layer ``name`` stores (all versions together)."""
        self.layer(name)
        return len(self._tables[name].fids)

    # -- the write path's hooks (see guotu.store.layers) ---------------------------------------
    def _content_srid(self, crs: CRS) -> int:
        return srid_of(crs)

    def _fix_crs(self, crs: CRS) -> None:
        self._meta["crs"] = crs_id(crs)

    def _create_layer(self, content: LayerContent, role: str, geometry_type: str) -> None:
        self._tables[content.name] = _Table(columns=list(content.columns))

    def _add_columns(self, name: str, columns: Sequence[str], types: dict[str, str]) -> None:
        table = self._tables[name]
        table.columns = [*table.columns, *columns]

    def _revisions_in(self, name: str, chain: Sequence[int]) -> list[tuple[int, int]]:
        table = self._tables[name]
        return [(table.fids[i], table.hashes[i]) for i in self._rows_in(name, chain)]

    def _insert_revisions(
        self, content: LayerContent, rows: npt.NDArray[np.intp], version_id: int
    ) -> None:
        table = self._tables[content.name]
        picked = rows.tolist()
        geoms = decode_blobs([content.blobs[i] for i in picked])  # what a GeoPackage gives back
        order = [table.columns.index(c) for c in content.columns]
        next_fid = (table.fids[-1] if table.fids else 0) + 1
        for geom, i in zip(geoms, picked, strict=True):
            row: list[Any] = [None] * len(table.columns)
            for j, k in enumerate(order):
                row[k] = content.values[j][i]
            table.fids.append(next_fid)
            table.geoms.append(geom)
            table.values.append(tuple(row))
            table.added_in.append(version_id)
            table.hashes.append(content.hashes[i])
            next_fid += 1

    def _retire(self, name: str, version_id: int, fids: Sequence[int]) -> None:
        if fids:
            self._retired[(name, version_id)] = [int(f) for f in fids]

    def _record_layer_version(
        self, name: str, version_id: int, features: int, added: int, retired: int
    ) -> None:
        self._layer_versions[(name, version_id)] = (features, added, retired)

    def _record_layer(self, info: LayerInfo, plan_id: int) -> None:
        self._layers[info.name] = _Layer(info, plan_id)
