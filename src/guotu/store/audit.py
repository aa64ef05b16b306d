"""The audit log, written once for every store: append-only and hash-chained.

Every entry carries the hash of the one before it (:mod:`guotu.domain.access.audit_chain`):
``hash = chain_hash(prev_hash, entry.chain_fields())`` over id, time, actor, department,
address, action, object, reason and detail. Ids run 1, 2, 3 … without gaps, so a deleted
entry shows as a gap and an edited one as a hash that no longer fits
(:func:`guotu.services.audit.verify_audit`).

How a write is chained, the same way on every backend:

* :meth:`AuditLog._audit` only *queues* an entry in the write transaction under way (one
  queue per store and thread); the outermost transaction of every backend runs inside
  :meth:`AuditLog._audit_flushed`, which appends the queue just before it commits;
* the append (:meth:`AuditLog._flush_audit`) takes the audit lock (:meth:`_lock_audit`:
  PostgreSQL a transaction-level advisory lock of its own; SQLite's ``BEGIN IMMEDIATE``
  already holds the file's writer lock), reads the last id and hash, numbers and hashes the
  queued entries and inserts them (their ``at`` is that moment, so times rise with ids).
  The lock is held until the commit, so two writers can never chain to the same
  predecessor; and since entries are appended at the end of a write, a long import holds it
  only for its last moments (a sign-in waits for the commit, not for the whole import);
* the last id and hash are also kept in ``guotu_meta`` (``audit_head``), so an entry written
  after the last one was deleted behind the store's back shows the gap.

``ids`` are assigned by the store, never by a database sequence: PostgreSQL sequences are not
rolled back, and a gap left by a failed write would read as a deleted entry.

Backend hooks: ``_execute``, ``_execute_many``, ``_store_errors``, ``_transaction`` (shared
with the whole catalogue) and ``_lock_audit``; the memory store replaces the three SQL
primitives (``_last_audit``, ``_insert_audits``, the reads).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from guotu.domain.access.audit_chain import GENESIS, chain_hash
from guotu.domain.core.catalog import AuditEntry
from guotu.store.layout import record_time

__all__ = ["AuditFilter", "AuditLog", "audit_entry"]

_LOCAL_LOCK = threading.Lock()
_COLUMNS = "id, at, actor, action, object, reason, detail, department, address, prev_hash, hash"


def audit_entry(row: Sequence[Any]) -> AuditEntry:
    """An entry from a row of ``_COLUMNS`` (times and details as text or native values)."""
    at = row[1] if isinstance(row[1], str) else row[1].isoformat()
    detail = row[6] if isinstance(row[6], dict) else json.loads(row[6])
    return AuditEntry(
        int(row[0]),
        at,
        row[2],
        row[3],
        row[4],
        row[5],
        detail,
        row[7] or "",
        row[8] or "",
        row[9] or "",
        row[10] or "",
    )


def _record_time_text(moment: datetime) -> str:
    """``moment`` as the log records times: UTC, without a time zone, ISO."""
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat()


@dataclass(frozen=True)
class AuditFilter:
    """What a search of the log asks for (every given part must hold); see
    :meth:`AuditLog.audit_records`."""

    actor: str | None = None
    action: str | None = None
    object_prefix: str | None = None
    department: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    before_id: int | None = None

    def admits(self, entry: AuditEntry) -> bool:
        """Whether ``entry`` matches (the memory store's search; the SQL stores' is
        :meth:`where`)."""
        prefix = self.object_prefix
        return (
            (self.actor is None or entry.actor == self.actor)
            and (self.action is None or entry.action == self.action)
            and (self.department is None or entry.department == self.department)
            and (not prefix or entry.object == prefix or entry.object.startswith(prefix + ":"))
            and (self.since is None or entry.at >= _record_time_text(self.since))
            and (self.until is None or entry.at < _record_time_text(self.until))
            and (self.before_id is None or entry.id < self.before_id)
        )

    def where(self) -> tuple[str, tuple[Any, ...]]:
        """The SQL condition (``?`` placeholders) and its parameters."""
        parts: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("actor", self.actor),
            ("action", self.action),
            ("department", self.department),
        ):
            if value is not None:
                parts.append(f"{column} = ?")
                params.append(value)
        if self.object_prefix:
            escaped = (
                self.object_prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            )
            parts.append("(object = ? OR object LIKE ? ESCAPE '\\')")
            params += [self.object_prefix, escaped + ":%"]
        if self.since is not None:
            parts.append("at >= ?")
            params.append(_record_time_text(self.since))
        if self.until is not None:
            parts.append("at < ?")
            params.append(_record_time_text(self.until))
        if self.before_id is not None:
            parts.append("id < ?")
            params.append(int(self.before_id))
        return (" WHERE " + " AND ".join(parts)) if parts else "", tuple(params)


class AuditLog:
    """The audit log every store keeps, and the hooks every part of the catalogue uses (see
    the module docstring)."""

    #: The workspace as messages name it: a GeoPackage file, or a database and schema.
    path: Path | str
    _audit_local: threading.local | None = None

    # -- backend hooks ---------------------------------------------------------------------
    def _transaction(self) -> contextlib.AbstractContextManager[None]:  # pragma: no cover
        """One atomic write: everything inside is recorded, or nothing (backend hook).
        Nested calls join the transaction under way; the outermost runs its body inside
        :meth:`_audit_flushed`."""
        raise NotImplementedError

    def _store_errors(
        self, action: str, action_zh: str
    ) -> contextlib.AbstractContextManager[None]:  # pragma: no cover
        """Driver exceptions raised inside become guotu's store errors (backend hook)."""
        raise NotImplementedError

    def _execute(self, sql: str, params: Sequence[Any] = ()) -> Any:  # pragma: no cover
        """Run one statement written with ``?`` placeholders; a cursor (backend hook)."""
        raise NotImplementedError

    def _execute_many(
        self, sql: str, rows: Sequence[Sequence[Any]]
    ) -> None:  # pragma: no cover - every SQL backend implements it
        """Run one statement written with ``?`` placeholders for each of ``rows``, inside a
        write transaction (backend hook)."""
        raise NotImplementedError

    def _lock_audit(self) -> None:
        """Take the audit log's lock until the transaction ends (hook; SQLite's
        ``BEGIN IMMEDIATE`` already holds the writer lock, the memory store has one writer)."""

    def _run(self, sql: str, params: Sequence[Any] = ()) -> Any:
        with self._store_errors("reading or recording plans and versions", "读写规划与版本"):
            return self._execute(sql, params)

    def _read_audit(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        with self._store_errors("reading the audit log", "读取审计日志"):
            return list(self._execute(sql, params).fetchall())

    # -- the queue of a write transaction ------------------------------------------------------
    def _audit_queue(self) -> list[AuditEntry]:
        local = self._audit_local
        if local is None:
            with _LOCAL_LOCK:
                local = self._audit_local
                if local is None:
                    local = self._audit_local = threading.local()
        queue: list[AuditEntry] | None = getattr(local, "queue", None)
        if queue is None:
            queue = local.queue = []
        return queue

    @contextlib.contextmanager
    def _audit_flushed(self) -> Iterator[None]:
        """Around the body of an outermost write transaction: the entries it queued are
        appended at its end, before the commit; a failed write appends none."""
        queue = self._audit_queue()
        queue.clear()
        try:
            yield
            self._flush_audit()
        finally:
            queue.clear()

    def _audit(
        self,
        actor: str,
        action: str,
        obj: str,
        reason: str = "",
        detail: dict[str, Any] | None = None,
        *,
        department: str = "",
        address: str = "",
    ) -> None:
        """Queue an entry in the write under way (or in a transaction of its own)."""
        detail = json.loads(json.dumps(detail or {}, ensure_ascii=False, default=str))
        entry = AuditEntry(
            0, "", actor or "guotu", action, obj, reason, detail, department or "", address or ""
        )
        with self._transaction():
            self._audit_queue().append(entry)

    def _flush_audit(self, *, event: bool = False) -> list[AuditEntry]:
        """Append the queued entries now, chained; inside a write transaction. Unless they
        record an ``event`` (a sign-in, a read: :meth:`audit`), they mark a data write
        (:meth:`data_head`)."""
        queue = self._audit_queue()
        if not queue:
            return []
        pending = list(queue)
        queue.clear()
        with self._store_errors("recording the audit log", "记录审计日志"):
            self._lock_audit()
            last_id, last_hash = self._last_audit()
            at = record_time().isoformat()
            written = []
            for entry in pending:
                last_id += 1
                entry = replace(entry, id=last_id, at=at, prev_hash=last_hash)
                last_hash = chain_hash(last_hash, entry.chain_fields())
                written.append(replace(entry, hash=last_hash))
            self._insert_audits(written)
            if not event:
                self._set_data_head(written[-1].id)
        return written

    # -- SQL primitives (the memory store replaces these) ------------------------------------
    def _last_audit(self) -> tuple[int, str]:
        """(id, hash) of the last entry appended (0 and the genesis hash for none)."""
        row = self._execute("SELECT id, hash FROM guotu_audit ORDER BY id DESC LIMIT 1").fetchone()
        last = (0, GENESIS) if row is None else (int(row[0]), str(row[1]))
        head = self._execute("SELECT value FROM guotu_meta WHERE key = 'audit_head'").fetchone()
        if head is not None:
            head_id, _, head_hash = str(head[0]).partition(" ")
            if int(head_id) > last[0]:  # the last entries were deleted behind our back
                return int(head_id), head_hash
        return last

    def _insert_audits(self, entries: Sequence[AuditEntry]) -> None:
        """Insert chained entries and remember the last one as the head."""
        self._execute_many(
            f"INSERT INTO guotu_audit ({_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    e.id,
                    e.at,
                    e.actor,
                    e.action,
                    e.object,
                    e.reason,
                    json.dumps(e.detail, ensure_ascii=False),
                    e.department,
                    e.address,
                    e.prev_hash,
                    e.hash,
                )
                for e in entries
            ],
        )
        self._set_audit_head(entries[-1].id, entries[-1].hash)

    def _set_audit_head(self, entry_id: int, entry_hash: str) -> None:
        self._execute(
            "INSERT INTO guotu_meta (key, value) VALUES ('audit_head', ?) ON CONFLICT (key) "
            "DO UPDATE SET value = excluded.value",
            (f"{entry_id} {entry_hash}",),
        )

    def _set_data_head(self, entry_id: int) -> None:
        self._execute(
            "INSERT INTO guotu_meta (key, value) VALUES ('data_head', ?) ON CONFLICT (key) "
            "DO UPDATE SET value = excluded.value",
            (str(entry_id),),
        )

    def _data_head(self) -> int | None:
        (row,) = self._read_audit("SELECT max(value) FROM guotu_meta WHERE key = 'data_head'")
        return None if row[0] is None else int(row[0])

    def _chain_existing_audit(self) -> int:
        """Number and chain the entries of a log written before the chain existed (the
        upgrade to schema 4; the caller lifts the table's no-update guard around it): ids
        become 1, 2, 3 … in their order (a PostgreSQL log may have gaps left by failed
        writes), hashes are filled in. Returns how many entries there are."""
        rows = self._execute(f"SELECT {_COLUMNS} FROM guotu_audit ORDER BY id").fetchall()
        entries = [audit_entry(r) for r in rows]
        moved = [(n, e.id) for n, e in enumerate(entries, 1) if e.id != n]
        if moved:  # through negative ids: no two rows ever hold the same one
            self._execute_many(
                "UPDATE guotu_audit SET id = ? WHERE id = ?", [(-n, o) for n, o in moved]
            )
            self._execute_many(
                "UPDATE guotu_audit SET id = ? WHERE id = ?", [(n, -n) for n, _ in moved]
            )
        previous, updates = GENESIS, []
        for n, entry in enumerate(entries, 1):
            own = chain_hash(previous, replace(entry, id=n).chain_fields())
            updates.append((previous, own, n))
            previous = own
        if updates:
            self._execute_many(
                "UPDATE guotu_audit SET prev_hash = ?, hash = ? WHERE id = ?", updates
            )
            self._set_audit_head(len(entries), previous)
        return len(entries)

    # -- the port ----------------------------------------------------------------------------
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
        """Append one entry to the audit log now (a transaction of its own), chained to the
        one before it, and return it with its id and hashes.

        This is how services record what changes nothing else: sign-ins and failed
        sign-ins, reads of restricted layers, exports, admin actions. ``detail`` is stored as
        JSON (values that are not JSON become text); never put a secret in it.
        """
        with self._store_errors("recording the audit log", "记录审计日志"), self._transaction():
            self._audit(actor, action, obj, reason, detail, department=department, address=address)
            written = self._flush_audit(event=True)
        return written[-1]

    def audit_events(self, events: Sequence[AuditEntry]) -> list[AuditEntry]:
        """Append several entries in one transaction, chained in their order, and return
        them numbered and hashed; only their actor, action, object, reason, detail,
        department and address are read (id, time and hashes are the store's). This is how
        a batch of events gathered off the request path (reads of 受限 layers) is written:
        one commit for many."""
        if not events:
            return []
        with self._store_errors("recording the audit log", "记录审计日志"), self._transaction():
            for e in events:
                self._audit(
                    e.actor,
                    e.action,
                    e.object,
                    e.reason,
                    e.detail,
                    department=e.department,
                    address=e.address,
                )
            return self._flush_audit(event=True)

    def audit_head(self) -> tuple[int, int]:
        """(number of audit entries, last entry id): changes with every write, costs one
        indexed query (the key of caches of tiles and query indexes)."""
        (row,) = self._read_audit("SELECT count(*), coalesce(max(id), 0) FROM guotu_audit")
        return int(row[0]), int(row[1])

    def data_head(self) -> int:
        """The id of the audit entry of the last data write (a layer, version, table, account,
        department, policy or token recorded), not of events such as sign-ins: the key of
        caches of tiles, query indexes and access policies. A workspace written before it
        was kept gives its last entry's id."""
        head = self._data_head()
        return self.audit_head()[1] if head is None else head

    def audit_log(
        self, *, object_prefix: str | None = None, limit: int | None = None
    ) -> list[AuditEntry]:
        """The audit log, oldest first (optionally only objects starting with a prefix)."""
        where, params = AuditFilter(object_prefix=object_prefix).where()
        sql = f"SELECT {_COLUMNS} FROM guotu_audit{where} ORDER BY id"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [audit_entry(r) for r in self._read_audit(sql, params)]

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
        """Entries matching every filter given, **newest first**: ``since <= at < until``
        (naive times are UTC, as the log records them), ``id < before_id`` (the next page
        of a search), at most ``limit``."""
        query = AuditFilter(actor, action, object_prefix, department, since, until, before_id)
        where, params = query.where()
        sql = f"SELECT {_COLUMNS} FROM guotu_audit{where} ORDER BY id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        return [audit_entry(r) for r in self._read_audit(sql, params)]
