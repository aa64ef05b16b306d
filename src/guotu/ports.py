"""The storage contract every store implements (GeoPackage, PostGIS, memory).

Services depend on this protocol, not on a backend; it speaks in the domain's values
(:mod:`guotu.domain.core.catalog`, :mod:`guotu.domain.core.model`), never in an adapter's.
Every store passes the same contract test suite (``tests/store/``).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any, Protocol, Self

import geopandas as gpd
from pyproj import CRS

from guotu.domain.access.policy import LayerPolicy
from guotu.domain.access.records import AccessToken, Department, Session, UserAccount
from guotu.domain.core.catalog import (
    AuditEntry,
    LayerInfo,
    TableInfo,
    TableVersion,
    VersionSpec,
    YearValue,
)
from guotu.domain.core.model import Plan, PlanLevel, PlanType, Version
from guotu.domain.workflow.records import (
    ApprovalCase,
    ApprovalFigures,
    CaseFile,
    CaseStatus,
    RecordedEvent,
    VisitRecord,
)

__all__ = ["FeatureStore"]


class FeatureStore(Protocol):
    """A versioned store of one-map layers and tables.

    Layers belong to plans; plans have versions; a layer's features in a version are those
    added along the version's lineage and not retired along it. Tables (plan targets,
    statistics: values by item and year, no geometry) are plan-version content too: a
    version's table is the one recorded by the nearest version along its lineage that
    recorded it (see :mod:`guotu.store.tables` for why). Reads resolve a version by valid
    time (``as_of``) and record time (``known_at``). Writes are atomic and append-only.
    """

    @property
    def path(self) -> Path | str:
        """The workspace as messages name it: a GeoPackage file (a :class:`~pathlib.Path`),
        or a database and schema, or ``memory:NAME`` (text; a DSN's password never shows)."""

    @property
    def has_open_transaction(self) -> bool:
        """Whether a write transaction is open on the store (a store handed back to a pool
        inside one must be closed, not reused)."""

    @property
    def crs(self) -> CRS | None:
        """The workspace CRS (``None`` until the first layer fixes it)."""

    def set_crs(self, crs: CRS) -> None:
        """Fix the workspace CRS; allowed only while the store has no layer."""

    def close(self) -> None:
        """Release connections."""

    # layers
    def layers(self) -> list[LayerInfo]:
        """Every layer, by name."""

    def layer(self, name: str) -> LayerInfo:
        """One layer (``NotFoundError`` lists the others)."""

    def layer_role(self, name: str) -> str:
        """The role id of layer ``name`` (``NotFoundError`` lists the layers)."""

    def layers_with_role(self, role: str) -> list[LayerInfo]:
        """Every layer of a role."""

    def layer_version(
        self, name: str, *, as_of: date | None = None, known_at: datetime | None = None
    ) -> Version | None:
        """The version a read of ``name`` sees at these times."""

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
        """Features of a layer in a version, indexed by fid (revision id)."""

    def read_revisions(
        self, name: str, fids: Sequence[int], columns: Sequence[str] | None = None
    ) -> gpd.GeoDataFrame:
        """Feature revisions by fid, whatever version they belong to."""

    def version_changes(self, name: str, version_id: int) -> tuple[list[int], list[int]]:
        """(fids added, fids retired) by one version in one layer."""

    def feature_history(self, name: str, key: str) -> list[dict[str, Any]]:
        """Revisions of the feature with this id-field value: fid, added_in, retired_in."""

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
        """Record a layer's content in a version (atomic; unchanged features shared);
        ``crs`` fixes a new workspace's CRS in the same transaction."""

    # tables (non-spatial, versioned like layers)
    def tables(self) -> list[TableInfo]:
        """Every table, by name."""

    def table(self, name: str) -> TableInfo:
        """One table (``NotFoundError`` lists the others)."""

    def table_versions(self, name: str) -> list[TableVersion]:
        """Every version that recorded table ``name``, in record order."""

    def table_version(
        self,
        name: str,
        *,
        as_of: date | None = None,
        known_at: datetime | None = None,
        version_id: int | None = None,
    ) -> TableVersion | None:
        """The recording a read of ``name`` sees at these times (or in that version)."""

    def read_table(
        self,
        name: str,
        *,
        as_of: date | None = None,
        known_at: datetime | None = None,
        version_id: int | None = None,
    ) -> list[YearValue]:
        """The rows of the recording :meth:`table_version` picks (``[]`` if none)."""

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
        """Record a table's content in a version (atomic; without ``version`` each write is
        a new version of the table's implicit plan ``table:<name>``)."""

    # plans and versions
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
        """Create a plan."""

    def plans(self) -> list[Plan]:
        """Every plan."""

    def plan(self, name: str | int) -> Plan:
        """One plan by name or id."""

    def versions(self, plan: str | int | None = None) -> list[Version]:
        """Versions (of one plan), in record order."""

    def version(self, plan: str | int, label: str) -> Version:
        """One version by plan and label."""

    def version_by_id(self, version_id: int) -> Version:
        """One version by id."""

    def lineage_of(self, version_id: int) -> list[int]:
        """Version ids from the root down to ``version_id``."""

    def resolve_version(
        self, plan: str | int, *, as_of: date | None = None, known_at: datetime | None = None
    ) -> Version | None:
        """The version of a plan in force at these times."""

    def pending(self, plan: str | int, *, known_at: datetime | None = None) -> list[Version]:
        """Versions of a plan on their way to approval."""

    def audit_log(
        self, *, object_prefix: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """The append-only audit log."""

    def audit_head(self) -> tuple[int, int]:
        """(number of audit entries, last entry id): changes with every entry."""

    def data_head(self) -> int:
        """The audit id of the last data write (not of events such as sign-ins): changes
        with every write that can change what is read, the key of caches."""

    # -- identity, access policies and the audit log (issue 16) ------------------------------
    # Departments, accounts, layer policies and tokens are append-only: ``put_*`` records a
    # new state with its record time and an audit entry (never a password hash or a secret);
    # the current state is the latest record of each key. Sessions are kept in place.

    def audit(
        self,
        actor: str,
        action: str,
        obj: str,
        *,
        reason: str = "",
        detail: dict[str, Any] | None = None,
        department: str = "",
        address: str = "",
    ) -> AuditEntry:
        """Append one entry to the audit log, chained to the one before it
        (:mod:`guotu.domain.access.audit_chain`), and return it (with its hashes)."""

    def audit_events(self, events: Sequence[AuditEntry]) -> list[AuditEntry]:
        """Append several events (their actor, action, object, reason, detail, department
        and address) in one transaction, chained in their order; returned numbered and
        hashed."""

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
        """Audit entries matching every filter given, newest first: ``since <= at < until``
        (naive times are UTC), ``id < before_id`` (the next page), at most ``limit``."""

    def departments(self) -> list[Department]:
        """Every department, current state, by id."""

    def put_department(
        self,
        department: Department,
        *,
        actor: str,
        reason: str = "",
        actor_department: str = "",
        address: str = "",
    ) -> None:
        """Record a department's new state (create, rename, deactivate). ``actor_department``
        and ``address`` (of every ``put_*``) go to the audit entry."""

    def users(self) -> list[UserAccount]:
        """Every account, current state, by user name."""

    def user(self, username: str) -> UserAccount | None:
        """One account's current state (user names compare case-insensitively)."""

    def put_user(
        self,
        account: UserAccount,
        *,
        actor: str,
        action: str = "update_user",
        reason: str = "",
        actor_department: str = "",
        address: str = "",
    ) -> None:
        """Record an account's new state; ``action`` names it in the audit log
        (``create_user``, ``grant``, ``lock``, ``sign_in_failed`` …)."""

    def user_history(self, username: str) -> list[UserAccount]:
        """Every recorded state of an account, oldest first."""

    def layer_policies(self) -> dict[str, LayerPolicy]:
        """The current access policy of every layer that has one, by layer name."""

    def put_layer_policy(
        self,
        policy: LayerPolicy,
        *,
        actor: str,
        reason: str = "",
        actor_department: str = "",
        address: str = "",
    ) -> None:
        """Record a layer's new grade and access policy."""

    def tokens(self, username: str | None = None) -> list[AccessToken]:
        """Access tokens (of one user), current state, newest first."""

    def token(self, token_id: str) -> AccessToken | None:
        """One access token's current state."""

    def put_token(
        self,
        token: AccessToken,
        *,
        actor: str,
        action: str = "create_token",
        actor_department: str = "",
        address: str = "",
    ) -> None:
        """Record a token (created, or revoked: ``revoked_at`` set)."""

    def session(self, id_hash: str) -> Session | None:
        """A live session by the hash of its value."""

    def put_session(self, session: Session) -> None:
        """Start a session, or record that it was seen again (``last_seen_at``)."""

    def end_session(self, id_hash: str) -> None:
        """End a session (sign-out, timeout); unknown hashes are ignored."""

    def end_sessions_of(self, username: str) -> int:
        """End every session of a user (locked, disabled, password changed); how many."""

    # -- approval cases (issue 17) -----------------------------------------------------------
    def create_approval_case(
        self,
        case: ApprovalCase,
        status: CaseStatus,
        *,
        id_prefix: str,
        actor: str,
        actor_department: str = "",
        address: str = "",
    ) -> ApprovalCase:
        """Record a new case under the next number of ``id_prefix``, with its status."""

    def approval_case(self, case_id: str) -> ApprovalCase | None:
        """A case as recorded at intake."""

    def approval_statuses(
        self,
        *,
        case_id: str | None = None,
        open_only: bool = False,
        waiting: Sequence[str] = (),
        workflow: str | None = None,
        due_before: date | None = None,
        case_ids: Sequence[str] | None = None,
        order: str = "case",
        limit: int | None = None,
    ) -> list[CaseStatus]:
        """Where cases stand now, filtered, ordered, at most ``limit``."""

    def approval_events(self, case_id: str) -> list[RecordedEvent]:
        """Every event of a case, in order."""

    def approval_events_with(self, kind: str, value: str | None = None) -> list[RecordedEvent]:
        """Events of ``kind`` (whose value is ``value``), of any case."""

    def approval_cases_acted_by(self, username: str) -> list[str]:
        """The cases a user recorded an event on."""

    def append_approval_events(
        self,
        case_id: str,
        events: Sequence[RecordedEvent],
        status: CaseStatus,
        *,
        expected: int,
        visits: Sequence[VisitRecord] = (),
        actor: str,
        actor_department: str = "",
        address: str = "",
    ) -> None:
        """Append events to a case that has ``expected`` events (else ConflictError)."""

    def approval_visits(self, workflow: str | None = None) -> list[VisitRecord]:
        """Every closed stay in a stage, oldest first."""

    def approval_figures(self, today: date, workflow: str | None = None) -> ApprovalFigures:
        """The counts the approval statistics are made of."""

    def put_approval_file(
        self,
        case_id: str,
        *,
        material: str,
        filename: str,
        media_type: str,
        content: bytes,
        actor: str,
        actor_department: str = "",
        address: str = "",
    ) -> CaseFile:
        """Keep a material or issued document of a case."""

    def approval_files(self, case_id: str) -> list[CaseFile]:
        """The materials of a case, in order."""

    def approval_file_content(self, sha256: str) -> bytes | None:
        """The bytes of a kept file."""

    def __enter__(self) -> Self:
        """Context manager: closes on exit."""

    def __exit__(self, *exc: object) -> None:
        """Close."""
