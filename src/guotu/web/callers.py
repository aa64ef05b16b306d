"""Who a credential is, kept for a moment so that a signed-in request does not pay for it.

Finding the principal of a bearer token or a session cookie reads the token or session, the
account and its department from the store, on a worker thread (the store is not the event
loop's): measured on this machine, 75-90 µs of reads and about 130 µs for the hand-off to
the thread, on every request of a signed-in user, a tile as much as a report.
:class:`CallerCache` keeps the answer for ``auth_cache_seconds`` (2 s by default), keyed by a
hash of the credential, so a map that asks for forty tiles resolves its user once.

What the cache may not do is keep someone in who has been put out. So:

* an entry lives ``auth_cache_seconds`` at most, and never past the token's expiry: a token
  revoked, an account disabled or locked, a session ended by *another* process (a second
  server worker, the command line) stops working on this one within that time;
* any unsafe request to ``/auth/…`` or ``/admin/…`` served by this process (sign-out, a token
  revoked, an account disabled, roles changed) empties the cache when it ends, so such a
  change made here takes effect here at once; an answer being resolved while the cache is
  emptied is not kept (:attr:`CallerCache.generation`);
* only callers that sign someone in are kept: an anonymous request costs nothing to resolve,
  and an unknown token is resolved again each time (it answers 401).

``auth_cache_seconds = 0`` turns the cache off (every request resolves its credential).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

__all__ = ["CallerCache"]

#: Credentials kept at most (least recently used go first).
_MAX_ENTRIES = 4_096


def _key(kind: str, secret: str) -> bytes:
    """The key of a credential: its SHA-256, so the cache holds no usable secret."""
    return hashlib.sha256(f"{kind}\0{secret}".encode()).digest()


class CallerCache:
    """Resolved callers by credential, for ``seconds`` at most.

    Examples
    --------
    >>> clock = [100.0]
    >>> cache = CallerCache(2.0, clock=lambda: clock[0])
    >>> generation = cache.generation
    >>> cache.put("token", "gt_x", "wang", generation)
    >>> cache.get("token", "gt_x"), cache.get("token", "gt_y")
    ('wang', None)
    >>> clock[0] = 102.5
    >>> cache.get("token", "gt_x") is None
    True
    >>> cache.put("token", "gt_x", "wang", generation)
    >>> cache.clear(); cache.get("token", "gt_x") is None
    True
    >>> cache.put("token", "gt_x", "wang", generation)  # resolved before the clear: not kept
    >>> cache.get("token", "gt_x") is None
    True
    """

    def __init__(
        self,
        seconds: float,
        *,
        max_entries: int = _MAX_ENTRIES,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.seconds = max(0.0, float(seconds))
        self.max_entries = max(1, max_entries)
        self._clock = clock
        self._entries: OrderedDict[bytes, tuple[float, Any]] = OrderedDict()
        self._lock = threading.Lock()
        self.generation = 0
        self.hits = 0
        self.misses = 0

    @property
    def enabled(self) -> bool:
        """Whether callers are kept at all (``seconds > 0``)."""
        return self.seconds > 0

    def get(self, kind: str, secret: str) -> Any | None:
        """The caller kept for this credential, or ``None`` (never seen, or too old)."""
        if not self.enabled:
            return None
        key = _key(kind, secret)
        now = self._clock()
        with self._lock:
            found = self._entries.get(key)
            if found is None or found[0] <= now:
                if found is not None:
                    del self._entries[key]
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[1]

    def put(
        self,
        kind: str,
        secret: str,
        caller: Any,
        generation: int,
        *,
        expires_at: datetime | None = None,
    ) -> None:
        """Keep ``caller`` for this credential, unless the cache was emptied since
        ``generation`` was read (the answer may predate the change that emptied it); never
        past ``expires_at`` (a token's expiry)."""
        if not self.enabled:
            return
        now = self._clock()
        until = now + self.seconds
        if expires_at is not None:
            left = (expires_at.astimezone(UTC) - datetime.now(UTC)).total_seconds()
            until = min(until, now + left)
        if until <= now:
            return
        key = _key(kind, secret)
        with self._lock:
            if generation != self.generation:
                return
            self._entries[key] = (until, caller)
            self._entries.move_to_end(key)
            while len(self._entries) > self.max_entries:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        """Forget every caller (an identity changed through this process)."""
        with self._lock:
            self._entries.clear()
            self.generation += 1

    def __len__(self) -> int:
        return len(self._entries)
