"""Plans and versions in SQL tables (see ``gpkg_schema.VERSIONING_DDL`` and
``postgis_schema.PG_DDL``); the audit log they write to is :mod:`guotu.store.audit`.

:class:`PlanCatalog` is the base of every store. Its SQL is written once, with ``?``
placeholders and ``RETURNING id``; a backend supplies three small hooks (declared on
:class:`~guotu.store.audit.AuditLog`, the base of the whole catalogue):

* ``_execute`` runs one statement and returns a cursor (GeoPackage: on its sqlite3
  connection; PostGIS rewrites ``?`` to ``%s`` and runs it on the connection of the current
  transaction or one from its pool);
* ``_store_errors`` turns the driver's exceptions into guotu's store errors;
* ``_transaction`` makes what runs inside one atomic write.

The memory store replaces the SQL primitives (``_insert_plan``, ``versions`` …)
instead. Values cross in portable forms (ISO text for dates and times, JSON text for details)
and are read back from either text or the driver's native types. Versions and audit entries
are only ever inserted; the tables' triggers refuse updates and deletes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from typing import Any

from guotu.domain.core.catalog import VersionSpec
from guotu.domain.core.model import (
    DECIDING,
    Plan,
    PlanLevel,
    PlanType,
    Version,
    VersionStatus,
    check_plan_name,
    lineage,
    pending_versions,
    version_in_force,
)
from guotu.errors import ConfigError, NotFoundError
from guotu.store.audit import AuditLog
from guotu.store.layout import as_timestamp, record_time

__all__ = ["PlanCatalog"]


def _iso(d: date | datetime | None) -> str | None:
    return None if d is None else d.isoformat()


def _date(value: str | date | None) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return None if not value else date.fromisoformat(value[:10])


def _version(row: Sequence[Any]) -> Version:
    return Version(
        id=int(row[0]),
        plan_id=int(row[1]),
        label=row[2],
        parent_id=None if row[3] is None else int(row[3]),
        status=VersionStatus(row[4]),
        valid_from=_date(row[5]),
        valid_to=_date(row[6]),
        recorded_at=as_timestamp(row[7]),
        approval_no=row[8],
        approval_organ=row[9],
        approval_date=_date(row[10]),
        author=row[11],
        reason=row[12],
    )


def _plan(row: Sequence[Any]) -> Plan:
    return Plan(
        id=int(row[0]),
        name=row[1],
        level=PlanLevel(row[2]),
        type=PlanType(row[3]),
        xzqdm=row[4],
        parent_plan_id=None if row[5] is None else int(row[5]),
        description=row[6],
    )


_VERSION_COLS = (
    "id, plan_id, label, parent_id, status, valid_from, valid_to, recorded_at, "
    "approval_no, approval_organ, approval_date, author, reason"
)
_PLAN_COLS = "id, name, level, type, xzqdm, parent_plan_id, description"


class PlanCatalog(AuditLog):
    """Plans, versions, time resolution and the audit log (see the module docstring)."""

    def _insert_returning_id(self, sql: str, params: Sequence[Any]) -> int:
        with self._store_errors("reading or recording plans and versions", "读写规划与版本"):
            return int(self._execute(sql + " RETURNING id", params).fetchone()[0])

    # -- plans -----------------------------------------------------------------------------
    def create_plan(
        self,
        name: str,
        *,
        level: PlanLevel,
        type: PlanType,
        xzqdm: str = "",
        parent_plan: str | None = None,
        description: str = "",
        actor: str = "",
        reason: str = "",
    ) -> Plan:
        """Create a plan (规划); names are unique in a workspace."""
        check_plan_name(name)
        if any(p.name == name for p in self.plans()):
            raise ConfigError(
                f"A plan called {name!r} already exists.",
                fix="Choose another name, or record a new version of it.",
                message_zh=f"已存在名为 {name!r} 的规划。",
                fix_zh="请换一个名称，或为该规划登记新版本。",
            )
        parent_id = self.plan(parent_plan).id if parent_plan else None
        with self._store_errors(f"creating plan {name}", f"新建规划 {name}"), self._transaction():
            plan = self._insert_plan(name, level, type, xzqdm, parent_id, description, False)
            self._audit(
                actor,
                "create_plan",
                f"plan:{name}",
                reason,
                {"level": level.value, "type": type.value, "xzqdm": xzqdm},
            )
        return plan

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
        plan_id = self._insert_returning_id(
            "INSERT INTO guotu_plans (name, level, type, xzqdm, parent_plan_id, description,"
            " is_implicit) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (name, level.value, type.value, xzqdm, parent_id, description, bool(implicit)),
        )
        return Plan(plan_id, name, level, type, xzqdm, parent_id, description)

    def plans(self) -> list[Plan]:
        """Every plan, by name."""
        rows = self._run(f"SELECT {_PLAN_COLS} FROM guotu_plans ORDER BY name").fetchall()
        return sorted((_plan(r) for r in rows), key=lambda p: p.name)

    def plan(self, name: str | int) -> Plan:
        """The plan with this name (or id)."""
        for p in self.plans():
            if p.name == name or p.id == name:
                return p
        known = ", ".join(p.name for p in self.plans()) or "none yet"
        raise NotFoundError(
            f"There is no plan {name!r}.",
            fix=f"Plans: {known}; create one with `guotu plan create`.",
            message_zh=f"不存在规划 {name!r}。",
            fix_zh=f"现有规划：{known}；可用 guotu plan create 新建。",
        )

    # -- versions --------------------------------------------------------------------------
    def versions(self, plan: str | int | None = None) -> list[Version]:
        """Versions of one plan (or of all), in the order they were recorded."""
        if plan is None:
            rows = self._run(f"SELECT {_VERSION_COLS} FROM guotu_versions ORDER BY id")
        else:
            rows = self._run(
                f"SELECT {_VERSION_COLS} FROM guotu_versions WHERE plan_id = ? ORDER BY id",
                (self.plan(plan).id,),
            )
        return [_version(r) for r in rows.fetchall()]

    def version(self, plan: str | int, label: str) -> Version:
        """The version ``label`` of ``plan``."""
        for v in self.versions(plan):
            if v.label == label:
                return v
        labels = ", ".join(v.label for v in self.versions(plan)) or "none yet"
        raise NotFoundError(
            f"Plan {plan!r} has no version {label!r}.",
            fix=f"Its versions: {labels}.",
            message_zh=f"规划 {plan!r} 没有版本 {label!r}。",
            fix_zh=f"其版本有：{labels}。",
        )

    def version_by_id(self, version_id: int) -> Version:
        """A version by its id."""
        row = self._run(
            f"SELECT {_VERSION_COLS} FROM guotu_versions WHERE id = ?", (int(version_id),)
        ).fetchone()
        if row is None:
            raise NotFoundError(
                f"There is no version {version_id}.", message_zh=f"不存在版本 {version_id}。"
            )
        return _version(row)

    def _insert_version(self, plan: Plan, spec: VersionSpec, parent_id: int | None) -> Version:
        check_plan_name(spec.label, "version label", "版本号")
        if spec.valid_from and spec.valid_to and spec.valid_to <= spec.valid_from:
            raise ConfigError(
                f"Version {spec.label}: valid_to {spec.valid_to} is not after "
                f"valid_from {spec.valid_from}.",
                fix="Give --valid-to later than --valid-from.",
                message_zh=f"版本 {spec.label}：失效日期 {spec.valid_to} 不晚于"
                f"生效日期 {spec.valid_from}。",
                fix_zh="请让 --valid-to 晚于 --valid-from。",
            )
        recorded = record_time()
        last = self._last_record_time()
        if last is not None and last >= recorded:  # keep record time strictly rising
            recorded = last + timedelta(microseconds=1)
        return self.version_by_id(self._insert_version_row(plan, spec, parent_id, recorded))

    def _last_record_time(self) -> datetime | None:
        last = self._run("SELECT max(recorded_at) FROM guotu_versions").fetchone()[0]
        return None if not last else as_timestamp(last)

    def _insert_version_row(
        self, plan: Plan, spec: VersionSpec, parent_id: int | None, recorded: datetime
    ) -> int:
        return self._insert_returning_id(
            "INSERT INTO guotu_versions (plan_id, label, parent_id, status, valid_from, valid_to,"
            " recorded_at, approval_no, approval_organ, approval_date, author, reason) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                plan.id,
                spec.label,
                parent_id,
                spec.status.value,
                _iso(spec.valid_from),
                _iso(spec.valid_to),
                recorded.isoformat(),
                spec.approval_no,
                spec.approval_organ,
                _iso(spec.approval_date),
                spec.author,
                spec.reason,
            ),
        )

    def lineage_of(self, version_id: int) -> list[int]:
        """Version ids from the root to ``version_id``."""
        return lineage(version_id, {v.id: v for v in self.versions()})

    def resolve_version(
        self, plan: str | int, *, as_of: date | None = None, known_at: datetime | None = None
    ) -> Version | None:
        """The version of ``plan`` in force on ``as_of`` (default today) as recorded by
        ``known_at`` (default now)."""
        return version_in_force(
            self.versions(plan), as_of or date.today(), known_at or record_time()
        )

    def pending(self, plan: str | int, *, known_at: datetime | None = None) -> list[Version]:
        """Versions of ``plan`` in 公示 or 报批, newest first."""
        return pending_versions(self.versions(plan), known_at or record_time())

    # -- what a read sees, and which version a write goes into -----------------------------
    def _version_seen(
        self, plan_id: int, as_of: date | None, known_at: datetime | None
    ) -> Version | None:
        """The version of plan ``plan_id`` a read of its content sees: the version in force
        on ``as_of`` (default today) as known at ``known_at`` (default now); when neither time
        is given and the plan has no approved version at all yet (drafts only, 编制中), the
        latest recorded one. Layers and tables follow the same rule."""
        found = self.resolve_version(plan_id, as_of=as_of, known_at=known_at)
        if found is None and as_of is None and known_at is None:
            recorded = self.versions(plan_id)
            if not any(v.status in DECIDING for v in recorded):  # drafts only so far
                return recorded[-1] if recorded else None
        return found

    def _version_for_write(
        self,
        name: str,
        plan_id: int,
        spec: VersionSpec | None,
        actor: str,
        reason: str,
        *,
        holds: Callable[[str, int], bool],
        noun: tuple[str, str],
    ) -> tuple[Version, list[int]]:
        """The version to record into, and the lineage whose content is the parent state.

        ``holds(name, version_id)`` tells whether a version already holds the content
        ``name`` (a layer or a table of that name); ``noun`` names it in messages (en, zh)."""
        layer = name if noun[0] == "layer" else None
        recorded = self.versions(plan_id)
        plan = self.plan(plan_id)
        if spec is None:
            spec = self._correction_spec(plan, recorded, actor, reason)
        existing = next((v for v in recorded if v.label == spec.label), None)
        if existing is not None and any(v.parent_id == existing.id for v in recorded):
            raise ConfigError(
                f"Version {spec.label!r} of plan {plan.name!r} already has amendments; adding a "
                f"{noun[0]} to it now would change them after the fact.",
                layer=layer,
                fix=f"Record the {noun[0]} in a new version (another --version label).",
                message_zh=f"规划 {plan.name!r} 的版本 {spec.label!r} 已有后续修改版本；现在向其添加"
                f"{noun[1]}会事后改变这些版本。",
                fix_zh=f"请以新版本登记该{noun[1]}（换一个 --version 名称）。",
            )
        if existing is not None:
            if holds(name, existing.id):
                raise ConfigError(
                    f"Version {spec.label!r} of plan {plan.name!r} already holds {noun[0]} "
                    f"{name}; a recorded version is never modified.",
                    layer=layer,
                    fix="Record the change as a new version (another --version label).",
                    message_zh=f"规划 {plan.name!r} 的版本 {spec.label!r} 已包含{noun[1]} {name}；"
                    "已登记的版本不能修改。",
                    fix_zh="请以新版本登记修改（换一个 --version 名称）。",
                )
            chain = self.lineage_of(existing.id)
            return existing, chain[:-1]
        if spec.parent is not None:
            parent: Version | None = self.version(plan.name, spec.parent)
        else:
            # The version it amends: the one in force when it takes effect (so a correction
            # branch recorded meanwhile is not picked by accident), else the latest recorded.
            parent = version_in_force(recorded, spec.valid_from or date.today(), datetime.max) or (
                recorded[-1] if recorded else None
            )
        target = self._insert_version(plan, spec, parent.id if parent else None)
        self._audit(
            actor or spec.author,
            "record_version",
            f"plan:{plan.name}",
            reason or spec.reason,
            {
                "version": spec.label,
                "status": spec.status.value,
                "parent": parent.label if parent else None,
            },
        )
        return target, ([] if parent is None else self.lineage_of(parent.id))

    @staticmethod
    def _correction_spec(
        plan: Plan, recorded: list[Version], actor: str, reason: str
    ) -> VersionSpec:
        """A write with no version named (``--replace``, ``check --repair``) corrects the
        version in force today: same valid time, recorded later, so it supersedes it. With
        none in force it follows the latest recorded version (a draft stays a draft)."""
        labels = {v.label for v in recorded}
        n = len(recorded) + 1
        while f"v{n}" in labels:
            n += 1
        current = version_in_force(recorded, date.today(), datetime.max)
        base = current or (recorded[-1] if recorded else None)
        if base is None:
            return VersionSpec(plan.name, f"v{n}", author=actor, reason=reason)
        status = VersionStatus.AMENDED if current is not None else base.status
        return VersionSpec(
            plan.name,
            f"v{n}",
            status=status,
            parent=base.label,
            valid_from=base.valid_from,
            valid_to=base.valid_to,
            author=actor,
            reason=reason,
        )
