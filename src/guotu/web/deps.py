"""FastAPI dependencies the routers share, so that a router never imports the app.

:func:`open_store` lends the request an open store of the workspace from the app's
:class:`~guotu.services.workspace.StorePool` (``app.state.stores``, set up by
:func:`guotu.web.app.create_app`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request

from guotu.domain.access.policy import ANONYMOUS, Principal
from guotu.domain.core.catalog import AuditEntry
from guotu.ports import FeatureStore
from guotu.services.workspace import StorePool

__all__ = ["Who", "audit_sink", "current_principal", "open_store"]


def open_store(request: Request) -> Iterator[FeatureStore]:
    """FastAPI dependency: an open store of the workspace, for this request alone.

    It is borrowed from the app's store pool and given back after the request (or closed,
    when the request raised), so a request does not pay for opening the workspace.
    """
    stores: StorePool = request.app.state.stores
    with stores.borrow() as store:
        yield store


def audit_sink(request: Request) -> Callable[[AuditEntry], None] | None:
    """Where a handler records audit events of reads: the app's
    :class:`~guotu.services.audit_writer.AuditWriter` (written in batches, off the request
    path), or ``None`` (written at once) for an app without one."""
    writer = getattr(request.app.state, "audit_writer", None)
    return None if writer is None else writer.record


def current_principal(request: Request) -> Principal:
    """FastAPI dependency: who is asking. The security middleware
    (:mod:`guotu.web.security`) sets ``request.state.principal`` from the session cookie or
    the bearer token; without one the request is anonymous (:data:`ANONYMOUS`)."""
    principal = getattr(request.state, "principal", None)
    return principal if isinstance(principal, Principal) else ANONYMOUS


#: A handler parameter typed ``who: Who`` is the principal of its request.
Who = Annotated[Principal, Depends(current_principal)]
