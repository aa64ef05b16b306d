"""Non-spatial versioned tables: plan targets (规划目标), socio-economic statistics (社会经济统计)
and any other table of values by item and year, kept in the workspace like layers.

Why a table is plan-version content, not a store of its own
-----------------------------------------------------------
DESIGN §4 makes a version the unit of what a plan says: "layers, features, indicator tables
and its documents". A plan's targets are such an indicator table, and a statistics yearbook
is current-state data like a land survey. So a table is recorded **in a version of a plan**,
the way a layer is, and reuses everything the catalogue (:class:`PlanCatalog`) already
decides — which version is in force on a date as known at a time, lineage, amendments,
immutability, the audit log — instead of a second, parallel versioning scheme:

* with ``version`` (``--plan P --version V``) it is part of that version of that plan (the
  master plan's 2021版 targets, amended with the plan);
* without, it has an implicit plan of its own, ``table:<name>``: the first write is its
  version v1, and each later write records v2, v3 … that correct the version in force (same
  valid time, later record time), as ``write_layer(replace=True)`` does for a layer.

A read resolves the version with the rule every read uses (:meth:`PlanCatalog._version_seen`:
``as_of`` valid time, ``known_at`` record time, the latest draft only while nothing was ever
approved). The content of a version is the table recorded by the nearest version along its
lineage that recorded it, so a plan amendment that changes only layers keeps its targets.
Nothing is overwritten: each recording stores its whole table (a few hundred numbers: no
sharing of unchanged rows as for features), in append-only tables (``guotu_table_versions``,
``guotu_table_rows``; triggers refuse UPDATE and DELETE), and the write is audited
(``write_table`` on ``table:<name>``).

Rows are typed (:class:`~guotu.domain.core.catalog.YearValue`): the item and its unit as the
bureau wrote them, the year, the value and the row of the source file. The table is kept as
written; matching to an indicator catalogue and converting units happen when it is read
(:mod:`guotu.services.monitoring_inputs`), like indicators computed from stored features.

:class:`TableCatalog` holds this logic once, in SQL with ``?`` placeholders run through the
catalogue's hooks. Per-backend hooks: :meth:`TableCatalog._execute_many` (many rows in one
call: sqlite3's ``executemany``; psycopg's on the transaction's connection) and
:meth:`TableCatalog._lock_for_write` (PostGIS takes its writer lock; a GeoPackage transaction
already holds SQLite's). The memory store replaces the three SQL primitives
(``_table_records``, ``_table_content``, ``_insert_table``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from guotu.domain.core.catalog import TableInfo, TableVersion, VersionSpec, YearValue
from guotu.domain.core.model import PlanLevel, PlanType, check_plan_name
from guotu.domain.core.plan_labels import IMPLICIT_TABLE_PREFIX
from guotu.errors import ConfigError
from guotu.store.catalog import PlanCatalog
from guotu.store.messages import no_table_error

__all__ = ["TableCatalog", "checked_rows"]

#: Plan name prefix of a table recorded without a plan (as ``layer:`` for layers).
IMPLICIT_PREFIX = IMPLICIT_TABLE_PREFIX


def checked_rows(name: str, rows: Sequence[YearValue]) -> list[YearValue]:
    """``rows`` as stored: text stripped, years whole, values finite numbers.

    Raises
    ------
    ConfigError
        A row without an item, a year outside 1900–2100 or a value that is not a finite
        number (naming the table and the row).
    """
    out = []
    for k, r in enumerate(rows):
        item = str(r.item).strip()
        where = f"row {r.source_row}" if r.source_row else f"value {k + 1}"
        where_zh = f"第 {r.source_row} 行" if r.source_row else f"第 {k + 1} 个值"
        try:
            year, value = int(r.year), float(r.value)
        except (TypeError, ValueError):
            year, value = 0, math.nan
        if not item or not 1900 <= year <= 2100 or not math.isfinite(value):
            raise ConfigError(
                f"Table {name}, {where}: {r.item!r} {r.year!r} {r.value!r} is not an item, a "
                "year (1900–2100) and a finite number.",
                feature=where,
                fix="Give every value a name, a year and a number.",
                message_zh=f"表 {name} {where_zh}：{r.item!r} {r.year!r} {r.value!r} 不是有效的"
                "名称、年份（1900–2100）和有限数值。",
                fix_zh="请为每个数值填写名称、年份和数字。",
            )
        out.append(YearValue(item, str(r.unit or "").strip(), year, value, int(r.source_row or 0)))
    return out


class TableCatalog(PlanCatalog):
    """Tables of values by item and year, versioned in plans (see the module docstring)."""

    # -- per-backend hooks (and ``_execute_many``, declared on the audit log) ---------------
    def _lock_for_write(self) -> None:
        """Take the workspace's writer lock inside a write transaction (hook; SQLite's
        ``BEGIN IMMEDIATE`` already holds it)."""

    # -- SQL primitives (the memory store replaces these) ------------------------------------
    def _table_records(self, name: str | None = None) -> list[tuple[str, int, int, str]]:
        """(name, version id, rows, source) of every recording (of table ``name``), in
        record order."""
        sql = "SELECT name, version_id, row_count, source FROM guotu_table_versions"
        params: tuple[Any, ...] = ()
        if name is not None:
            sql += " WHERE name = ?"
            params = (name,)
        with self._store_errors("reading tables", "读取表"):
            found = self._execute(sql + " ORDER BY version_id, name", params).fetchall()
        return [(str(r[0]), int(r[1]), int(r[2]), str(r[3] or "")) for r in found]

    def _table_content(self, name: str, version_id: int) -> list[YearValue]:
        """The rows recorded for table ``name`` by version ``version_id``."""
        with self._store_errors(f"reading table {name}", f"读取表 {name}"):
            found = self._execute(
                "SELECT item, unit, year, value, source_row FROM guotu_table_rows WHERE "
                "name = ? AND version_id = ? ORDER BY seq",
                (name, int(version_id)),
            ).fetchall()
        return [YearValue(str(r[0]), str(r[1]), int(r[2]), float(r[3]), int(r[4])) for r in found]

    def _insert_table(
        self, name: str, version_id: int, rows: Sequence[YearValue], source: str
    ) -> None:
        """Record ``rows`` as the content of table ``name`` in version ``version_id``."""
        self._execute(
            "INSERT INTO guotu_table_versions (name, version_id, row_count, source) "
            "VALUES (?, ?, ?, ?)",
            (name, version_id, len(rows), source),
        )
        self._execute_many(
            "INSERT INTO guotu_table_rows (name, version_id, seq, item, unit, year, value, "
            "source_row) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (name, version_id, k, r.item, r.unit, r.year, r.value, r.source_row)
                for k, r in enumerate(rows)
            ],
        )

    # -- reading ---------------------------------------------------------------------------
    def tables(self) -> list[TableInfo]:
        """Every table, by name."""
        by_name: dict[str, list[tuple[str, int, int, str]]] = {}
        for rec in self._table_records():
            by_name.setdefault(rec[0], []).append(rec)
        if not by_name:
            return []
        versions = {v.id: v for v in self.versions()}
        plans = {p.id: p.name for p in self.plans()}
        out = []
        for name in sorted(by_name):
            recs = by_name[name]
            last = max(recs, key=lambda r: (versions[r[1]].recorded_at, r[1]))
            v = versions[last[1]]
            out.append(
                TableInfo(
                    name, plans[v.plan_id], len(recs), last[2], last[3], v.recorded_at.isoformat()
                )
            )
        return out

    def table(self, name: str) -> TableInfo:
        """The table called ``name`` (``NotFoundError`` lists the others)."""
        infos = self.tables()
        for info in infos:
            if info.name == name:
                return info
        raise no_table_error(self.path, name, [i.name for i in infos])

    def table_versions(self, name: str) -> list[TableVersion]:
        """Every version that recorded table ``name``, in record order."""
        recs = self._table_records(name)
        if not recs:
            self.table(name)  # raises the helpful NotFoundError
        plans = {p.id: p.name for p in self.plans()}
        out = []
        for _name, vid, rows, source in recs:
            v = self.version_by_id(vid)
            out.append(TableVersion(name, plans[v.plan_id], v, rows, source))
        return sorted(out, key=lambda t: (t.version.recorded_at, t.version.id))

    def table_version(
        self,
        name: str,
        *,
        as_of: date | None = None,
        known_at: datetime | None = None,
        version_id: int | None = None,
    ) -> TableVersion | None:
        """The recording a read of table ``name`` sees: that of the nearest version, along
        the lineage of its plan's version in force on ``as_of`` (default today) as known at
        ``known_at`` (default now) — or of version ``version_id`` — that recorded the table;
        ``None`` when there is none (nothing in force, or recorded only later)."""
        recorded = {t.version.id: t for t in self.table_versions(name)}
        if version_id is None:
            plan_id = next(iter(recorded.values())).version.plan_id
            seen = self._version_seen(plan_id, as_of, known_at)
            if seen is None:
                return None
            version_id = seen.id
        for vid in reversed(self.lineage_of(int(version_id))):
            if vid in recorded:
                return recorded[vid]
        return None

    def read_table(
        self,
        name: str,
        *,
        as_of: date | None = None,
        known_at: datetime | None = None,
        version_id: int | None = None,
    ) -> list[YearValue]:
        """The rows of table ``name`` that :meth:`table_version` picks, in their recorded
        order (``[]`` when no version is in force)."""
        found = self.table_version(name, as_of=as_of, known_at=known_at, version_id=version_id)
        return [] if found is None else self._table_content(name, found.version.id)

    # -- writing ---------------------------------------------------------------------------
    def _table_in_version(self, name: str, version_id: int) -> bool:
        return any(r[1] == version_id for r in self._table_records(name))

    def write_table(
        self,
        name: str,
        rows: Sequence[YearValue],
        *,
        source: str = "",
        version: VersionSpec | None = None,
        actor: str = "",
        reason: str = "",
    ) -> TableVersion:
        """Record ``rows`` as the content of table ``name`` in a version, in one transaction.

        Without ``version`` the table has an implicit plan ``table:<name>``: the first write
        records v1, each later one v2, v3 … (nothing is overwritten). With ``version`` the
        rows are recorded in that version of a plan (created if the label is new, amending
        ``version.parent`` or the plan's latest version); a version already holding the table
        is never changed. ``source`` names the file the rows came from.

        Raises
        ------
        ConfigError
            A bad name or row, a version that already holds the table or has amendments, or
            a plan other than the table's own.
        NotFoundError
            ``version.plan`` does not exist.
        """
        check_plan_name(name, "table name", "表名")
        checked = checked_rows(name, rows)
        with self._store_errors(f"writing table {name}", f"写入表 {name}"), self._transaction():
            self._lock_for_write()
            recs = self._table_records(name)
            own = self.version_by_id(recs[0][1]).plan_id if recs else None
            if version is not None:
                plan_id = self.plan(version.plan).id
                if own is not None and own != plan_id:
                    owner = self.plan(own).name
                    raise ConfigError(
                        f"Table {name} belongs to plan {owner!r}, not {version.plan!r}.",
                        fix=f"Record it in a version of {owner!r}.",
                        message_zh=f"表 {name} 属于规划 {owner!r}，不属于 {version.plan!r}。",
                        fix_zh=f"请登记到 {owner!r} 的版本。",
                    )
            elif own is not None:
                plan_id = own
            else:
                plan_id = self._insert_plan(
                    f"{IMPLICIT_PREFIX}{name}",
                    PlanLevel.COUNTY,
                    PlanType.DATA,
                    "",
                    None,
                    f"implicit plan of table {name}",
                    True,
                ).id
            target, _chain = self._version_for_write(
                name,
                plan_id,
                version,
                actor,
                reason,
                holds=self._table_in_version,
                noun=("table", "表"),
            )
            self._insert_table(name, target.id, checked, source)
            self._audit(
                actor,
                "write_table",
                f"table:{name}",
                reason or target.reason,
                {
                    "version_id": target.id,
                    "version": target.label,
                    "rows": len(checked),
                    "source": source,
                },
            )
        return TableVersion(name, self.plan(plan_id).name, target, len(checked), source)
