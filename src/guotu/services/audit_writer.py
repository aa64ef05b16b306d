"""Audit events written off the request path, many to a commit.

Every read of a 受限 layer is recorded (GB/T 22239-2019: 安全审计), and a tile or a site query
of a permitted user is one. Written on the request, each is a transaction of its own, with
the workspace's writer lock and a commit: about a millisecond on a GeoPackage, more than the
whole answer it records. :class:`AuditWriter` takes such events from the requests and writes
them from one thread of its own, every ``interval`` seconds (0.2 s), all that have gathered
in one transaction (:meth:`~guotu.ports.FeatureStore.audit_events`), in their order.

What it promises, and what it does not:

* an event is in the log within ``interval`` of the answer that recorded it, chained like
  every other entry; :meth:`AuditWriter.close` (the server's shutdown) writes what is left;
* nothing is dropped for being too many: past ``max_pending`` events waiting, :meth:`record`
  writes on the request itself (back-pressure, the old cost), and when the store cannot be
  written the events stay queued and are tried again;
* a process killed outright (SIGKILL, power loss) loses the events of its last ``interval``:
  reads, never writes (a data write and its audit entry are one transaction, always);
* a writer that is not running (a test client without its lifespan, a command) writes each
  event at once, as before.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from contextlib import AbstractContextManager

from guotu.domain.core.catalog import AuditEntry
from guotu.errors import GuotuError
from guotu.ports import FeatureStore

__all__ = ["AuditWriter", "audit_event"]

log = logging.getLogger(__name__)

#: Seconds between batches.
DEFAULT_INTERVAL = 0.2
#: Events waiting at most before :meth:`AuditWriter.record` writes on the request.
DEFAULT_MAX_PENDING = 10_000


def audit_event(
    actor: str,
    action: str,
    obj: str,
    *,
    reason: str = "",
    detail: dict[str, object] | None = None,
    department: str = "",
    address: str = "",
) -> AuditEntry:
    """An event to record: an :class:`AuditEntry` the store has not numbered, timed or
    chained yet (it does that when it writes it).

    Examples
    --------
    >>> e = audit_event("li", "read_restricted", "layer:YJJBNT", detail={"what": "tilejson"})
    >>> (e.id, e.actor, e.object, e.detail)
    (0, 'li', 'layer:YJJBNT', {'what': 'tilejson'})
    """
    return AuditEntry(0, "", actor, action, obj, reason, dict(detail or {}), department, address)


class AuditWriter:
    """A thread writing audit events in batches to the stores ``borrow`` lends.

    Examples
    --------
    >>> from guotu.store.memory import MemoryStore
    >>> from contextlib import nullcontext
    >>> store = MemoryStore()
    >>> writer = AuditWriter(lambda: nullcontext(store))
    >>> writer.record(audit_event("li", "read_restricted", "layer:YJJBNT"))  # not started
    >>> [e.action for e in store.audit_log()][-1:]
    ['read_restricted']
    >>> writer.start(); writer.record(audit_event("li", "read_restricted", "layer:GHYD"))
    >>> writer.close(); [e.object for e in store.audit_log()][-1:]
    ['layer:GHYD']
    """

    def __init__(
        self,
        borrow: Callable[[], AbstractContextManager[FeatureStore]],
        *,
        interval: float = DEFAULT_INTERVAL,
        max_pending: int = DEFAULT_MAX_PENDING,
    ) -> None:
        self._borrow = borrow
        self.interval = interval
        self.max_pending = max(1, max_pending)
        self._pending: deque[AuditEntry] = deque()
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None
        self._stopping = False
        self.written = 0  # events written so far (for tests and metrics)

    @property
    def running(self) -> bool:
        """Whether the writing thread runs (else :meth:`record` writes at once)."""
        return self._thread is not None and self._thread.is_alive() and not self._stopping

    def start(self) -> None:
        """Start the writing thread (once)."""
        with self._wake:
            if self._thread is not None:
                return
            self._stopping = False
            self._thread = threading.Thread(target=self._run, name="guotu-audit", daemon=True)
            self._thread.start()

    def record(self, event: AuditEntry) -> None:
        """Record ``event``: queued for the next batch, or written now when the writer does
        not run or too many are waiting."""
        with self._wake:
            queued = self.running and len(self._pending) < self.max_pending
            if queued:
                self._pending.append(event)
        if not queued:
            self._write([event])

    def pending(self) -> int:
        """Events waiting to be written."""
        return len(self._pending)

    def flush(self) -> int:
        """Write every waiting event now; how many were written."""
        with self._wake:
            batch = list(self._pending)
            self._pending.clear()
        if batch:
            try:
                self._write(batch)
            except Exception:
                with self._wake:  # put back in front, in order; tried again later
                    self._pending.extendleft(reversed(batch))
                raise
        return len(batch)

    def close(self) -> None:
        """Stop the thread and write what is left."""
        with self._wake:
            self._stopping = True
            self._wake.notify_all()
            thread, self._thread = self._thread, None
        if thread is not None:
            thread.join()
        self.flush()

    def _write(self, events: list[AuditEntry]) -> None:
        with self._borrow() as store:
            store.audit_events(events)
        self.written += len(events)

    def _run(self) -> None:
        while True:
            with self._wake:
                if self._stopping:
                    return
                self._wake.wait(self.interval)
                if self._stopping:
                    return
            try:
                self.flush()
            except GuotuError as exc:  # the store is down: kept, tried again
                log.warning("audit events not yet written (%d waiting): %s", self.pending(), exc)
            except Exception:  # a bug must not stop the log: said, kept, tried again
                log.exception("audit writer failed; %d events waiting", self.pending())
