"""The audit log for its administrator (审计管理员): check that nothing in it was changed or
deleted (``guotu audit verify``), and search it.

Every entry of the log is chained to the one before it by its hash
(:mod:`guotu.domain.access.audit_chain`; the stores write the chain, :mod:`guotu.store.audit`).
:func:`verify_audit` reads the whole log in order and names each entry that no longer fits:
one whose content was edited, and the first one after a deletion. It cannot see the newest
entries deleted while nothing was written after them: the next entry written shows the gap.
"""

from __future__ import annotations

from datetime import datetime

from guotu.domain.access.audit_chain import ChainBreak, verify_chain
from guotu.domain.core.catalog import AuditEntry
from guotu.ports import FeatureStore

__all__ = ["search_audit", "verify_audit"]


def verify_audit(store: FeatureStore) -> list[ChainBreak]:
    """The entries of the audit log of ``store`` that break its hash chain, in id order
    (``[]``: the log is intact). A :class:`~guotu.domain.access.audit_chain.ChainBreak`'s
    ``seq`` is the entry's id.

    Examples
    --------
    >>> from guotu.store.memory import MemoryStore
    >>> store = MemoryStore()
    >>> _ = store.audit("wang", "sign_in", "user:wang", address="10.0.0.8")
    >>> verify_audit(store)
    []
    """
    return verify_chain((e.id, e.chain_fields(), e.prev_hash, e.hash) for e in store.audit_log())


def search_audit(
    store: FeatureStore,
    *,
    actor: str | None = None,
    action: str | None = None,
    object_prefix: str | None = None,
    department: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    before_id: int | None = None,
    limit: int | None = 100,
) -> list[AuditEntry]:
    """Entries of the audit log matching every filter given, newest first: by who acted
    (``actor``, a user name as recorded), what they did (``action``: ``sign_in``,
    ``sign_in_failed``, ``write_layer`` …), on what (``object_prefix``: ``user:wang``,
    ``layer`` for every layer …), from which department, and when (``since <= at < until``;
    naive times are UTC, as the log records them). ``before_id`` pages on: pass the id of
    the last entry of the previous page. ``limit=None`` returns every match.

    Examples
    --------
    >>> from guotu.store.memory import MemoryStore
    >>> store = MemoryStore()
    >>> _ = store.audit("wang", "sign_in", "user:wang")
    >>> _ = store.audit("li", "export", "layer:永久基本农田")
    >>> [e.actor for e in search_audit(store, object_prefix="layer")]
    ['li']
    """
    return store.audit_records(
        actor=actor,
        action=action,
        object_prefix=object_prefix,
        department=department,
        since=since,
        until=until,
        before_id=before_id,
        limit=limit,
    )
