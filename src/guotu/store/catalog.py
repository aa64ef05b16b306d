"""Plans, versions and the audit log in SQL tables (see ``gpkg_schema.VERSIONING_DDL``).

:class:`PlanCatalog` is a mixin for SQL stores: it needs ``self._conn`` (a DB-API connection
taking ``?`` parameters), ``self._transaction()`` and ``self.path``. Versions and audit entries
are only ever inserted; the tables' triggers refuse updates and deletes.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from guotu.domain.model import (
    Plan,
    PlanLevel,
    PlanType,
    Version,
    VersionStatus,
    lineage,
    pending_versions,
    version_in_force,
)
from guotu.errors import ConfigError, NotFoundError

__all__ = ["AuditEntry", "PlanCatalog", "VersionSpec"]


@dataclass(frozen=True)
class VersionSpec:
    """What a caller says about a version it records (the store adds id and record time).

    ``plan`` is a plan name (created beforehand with :meth:`PlanCatalog.create_plan`);
    ``parent`` a version label of the same plan: the version this one amends. Without a
    parent, the plan's latest recorded version is the parent (if there is one).
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
    """One line of the append-only audit log."""

    id: int
    at: str
    actor: str
    action: str
    object: str
    reason: str
    detail: dict[str, Any]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return {"id": self.id, "at": self.at, "actor": self.actor, "action": self.action,
                "object": self.object, "reason": self.reason, "detail": self.detail}


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _iso(d: date | datetime | None) -> str | None:
    return None if d is None else d.isoformat()


def _date(text: str | None) -> date | None:
    return None if not text else date.fromisoformat(text[:10])


def _version(row: Sequence[Any]) -> Version:
    return Version(
        id=int(row[0]), plan_id=int(row[1]), label=row[2], parent_id=row[3],
        status=VersionStatus(row[4]), valid_from=_date(row[5]), valid_to=_date(row[6]),
        recorded_at=datetime.fromisoformat(row[7]), approval_no=row[8], approval_organ=row[9],
        approval_date=_date(row[10]), author=row[11], reason=row[12])


def _plan(row: Sequence[Any]) -> Plan:
    return Plan(id=int(row[0]), name=row[1], level=PlanLevel(row[2]), type=PlanType(row[3]),
                xzqdm=row[4], parent_plan_id=row[5], description=row[6])


_VERSION_COLS = ("id, plan_id, label, parent_id, status, valid_from, valid_to, recorded_at, "
                 "approval_no, approval_organ, approval_date, author, reason")
_PLAN_COLS = "id, name, level, type, xzqdm, parent_plan_id, description"


class PlanCatalog:
    """Plans, versions, time resolution and the audit log, for SQL stores."""

    _conn: sqlite3.Connection
    path: Path

    def _transaction(self) -> contextlib.AbstractContextManager[None]:  # pragma: no cover
        raise NotImplementedError

    # -- plans -----------------------------------------------------------------------------
    def create_plan(self, name: str, *, level: PlanLevel, type: PlanType, xzqdm: str = "",
                    parent_plan: str | None = None, description: str = "", actor: str = "",
                    reason: str = "") -> Plan:
        """Create a plan (规划); names are unique in a workspace."""
        if any(p.name == name for p in self.plans()):
            raise ConfigError(f"A plan called {name!r} already exists.",
                              fix="Choose another name, or record a new version of it.",
                              message_zh=f"已存在名为 {name!r} 的规划。",
                              fix_zh="请换一个名称，或为该规划登记新版本。")
        parent_id = self.plan(parent_plan).id if parent_plan else None
        with self._transaction():
            plan = self._insert_plan(name, level, type, xzqdm, parent_id, description, False)
            self._audit(actor, "create_plan", f"plan:{name}", reason,
                        {"level": level.value, "type": type.value, "xzqdm": xzqdm})
        return plan

    def _insert_plan(self, name: str, level: PlanLevel, type: PlanType, xzqdm: str,
                     parent_id: int | None, description: str, implicit: bool) -> Plan:
        cur = self._conn.execute(
            "INSERT INTO guotu_plans (name, level, type, xzqdm, parent_plan_id, description,"
            " is_implicit) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, level.value, type.value, xzqdm, parent_id, description, int(implicit)))
        return Plan(int(cur.lastrowid or 0), name, level, type, xzqdm, parent_id, description)

    def plans(self) -> list[Plan]:
        """Every plan, by name."""
        rows = self._conn.execute(f"SELECT {_PLAN_COLS} FROM guotu_plans ORDER BY name")
        return [_plan(r) for r in rows.fetchall()]

    def plan(self, name: str | int) -> Plan:
        """The plan with this name (or id)."""
        for p in self.plans():
            if p.name == name or p.id == name:
                return p
        known = ", ".join(p.name for p in self.plans()) or "none yet"
        raise NotFoundError(f"There is no plan {name!r}.", fix=f"Plans: {known}; create one "
                            "with `guotu plan create`.", message_zh=f"不存在规划 {name!r}。",
                            fix_zh=f"现有规划：{known}；可用 guotu plan create 新建。")

    # -- versions --------------------------------------------------------------------------
    def versions(self, plan: str | int | None = None) -> list[Version]:
        """Versions of one plan (or of all), in the order they were recorded."""
        if plan is None:
            rows = self._conn.execute(f"SELECT {_VERSION_COLS} FROM guotu_versions ORDER BY id")
        else:
            rows = self._conn.execute(f"SELECT {_VERSION_COLS} FROM guotu_versions WHERE "
                                      "plan_id = ? ORDER BY id", (self.plan(plan).id,))
        return [_version(r) for r in rows.fetchall()]

    def version(self, plan: str | int, label: str) -> Version:
        """The version ``label`` of ``plan``."""
        for v in self.versions(plan):
            if v.label == label:
                return v
        labels = ", ".join(v.label for v in self.versions(plan)) or "none yet"
        raise NotFoundError(f"Plan {plan!r} has no version {label!r}.",
                            fix=f"Its versions: {labels}.",
                            message_zh=f"规划 {plan!r} 没有版本 {label!r}。",
                            fix_zh=f"其版本有：{labels}。")

    def version_by_id(self, version_id: int) -> Version:
        """A version by its id."""
        row = self._conn.execute(f"SELECT {_VERSION_COLS} FROM guotu_versions WHERE id = ?",
                                 (version_id,)).fetchone()
        if row is None:
            raise NotFoundError(f"There is no version {version_id}.",
                                message_zh=f"不存在版本 {version_id}。")
        return _version(row)

    def _insert_version(self, plan: Plan, spec: VersionSpec, parent_id: int | None) -> Version:
        if spec.valid_from and spec.valid_to and spec.valid_to <= spec.valid_from:
            raise ConfigError(f"Version {spec.label}: valid_to {spec.valid_to} is not after "
                              f"valid_from {spec.valid_from}.",
                              fix="Give --valid-to later than --valid-from.",
                              message_zh=f"版本 {spec.label}：失效日期 {spec.valid_to} 不晚于"
                              f"生效日期 {spec.valid_from}。",
                              fix_zh="请让 --valid-to 晚于 --valid-from。")
        recorded = _now()
        last = self._conn.execute("SELECT max(recorded_at) FROM guotu_versions").fetchone()[0]
        if last and datetime.fromisoformat(last) >= recorded:  # keep record time strictly rising
            recorded = datetime.fromisoformat(last) + timedelta(microseconds=1)
        cur = self._conn.execute(
            "INSERT INTO guotu_versions (plan_id, label, parent_id, status, valid_from, valid_to,"
            " recorded_at, approval_no, approval_organ, approval_date, author, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (plan.id, spec.label, parent_id, spec.status.value, _iso(spec.valid_from),
             _iso(spec.valid_to), recorded.isoformat(), spec.approval_no, spec.approval_organ,
             _iso(spec.approval_date), spec.author, spec.reason))
        return self.version_by_id(int(cur.lastrowid or 0))

    def lineage_of(self, version_id: int) -> list[int]:
        """Version ids from the root to ``version_id``."""
        return lineage(version_id, {v.id: v for v in self.versions()})

    def resolve_version(self, plan: str | int, *, as_of: date | None = None,
                        known_at: datetime | None = None) -> Version | None:
        """The version of ``plan`` in force on ``as_of`` (default today) as recorded by
        ``known_at`` (default now)."""
        return version_in_force(self.versions(plan), as_of or date.today(), known_at or _now())

    def pending(self, plan: str | int, *, known_at: datetime | None = None) -> list[Version]:
        """Versions of ``plan`` in 公示 or 报批, newest first."""
        return pending_versions(self.versions(plan), known_at or _now())

    # -- audit -----------------------------------------------------------------------------
    def _audit(self, actor: str, action: str, obj: str, reason: str = "",
               detail: dict[str, Any] | None = None) -> None:
        self._conn.execute(
            "INSERT INTO guotu_audit (at, actor, action, object, reason, detail) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (_now().isoformat(), actor or "guotu", action, obj, reason,
             json.dumps(detail or {}, ensure_ascii=False, default=str)))

    def audit_log(self, *, object_prefix: str | None = None, limit: int | None = None
                  ) -> list[AuditEntry]:
        """The audit log, oldest first (optionally only objects starting with a prefix)."""
        sql = "SELECT id, at, actor, action, object, reason, detail FROM guotu_audit"
        params: tuple[Any, ...] = ()
        if object_prefix:
            sql += " WHERE object = ? OR object LIKE ? ESCAPE '\\'"
            escaped = object_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            params = (object_prefix, escaped + ":%")
        sql += " ORDER BY id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [AuditEntry(int(r[0]), r[1], r[2], r[3], r[4], r[5], json.loads(r[6]))
                for r in self._conn.execute(sql, params).fetchall()]

