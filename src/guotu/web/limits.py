"""Request limits of the web app: body size and request rates.

:class:`BodyLimit`: no request body beyond ``Settings.max_upload_mb``. Starlette parses a
multipart upload (writing its files to disk) before a handler runs, so a limit checked in the
handler comes too late: this ASGI middleware answers 413 at once when ``Content-Length`` says
the body is too large, and counts the bytes of bodies sent without one (chunked), stopping the
request as soon as the count passes the limit and answering 413 in place of whatever the app
would have said.

:class:`RateLimit`: sign-in attempts per client address (``sign_ins_per_minute``) and plan
reviews and uploads per user, or per address when anonymous (``uploads_per_minute``), in a
sliding minute. Beyond it the answer is 429 with ``Retry-After`` (seconds) and a Chinese
message. The counts are kept in the process: with several worker processes each counts
its own (the limit per address is then at most the workers times the setting).
"""

from __future__ import annotations

import json
import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request

from guotu.errors import TooLargeError
from guotu.web.errors import choose_lang, status_response

__all__ = ["RATE_LIMITED", "BodyLimit", "RateLimit", "SlidingWindow"]

Scope = dict[str, Any]
Receive = Any
Send = Any


def _too_large(limit_bytes: int) -> TooLargeError:
    limit = f"{limit_bytes / (1024 * 1024):.3g} MB"
    return TooLargeError(
        f"The request body is larger than the limit of {limit}.",
        fix="Send a smaller file, or ask the administrator to raise max_upload_mb.",
        message_zh=f"请求内容超过了 {limit} 的限制。",
        fix_zh="请上传更小的文件，或请管理员调高设置 max_upload_mb。",
    )


class BodyLimit:
    """ASGI middleware refusing request bodies over ``max_bytes`` (413)."""

    def __init__(self, app: Any, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            await self._refuse(scope, send)
            return
        seen = 0
        exceeded = started = False

        async def counted() -> Any:
            nonlocal seen, exceeded
            message = await receive()
            if message.get("type") == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    exceeded = True
                    raise _too_large(self.max_bytes)
            return message

        async def guarded(message: Any) -> None:
            # Once the body is too large, whatever the app answers (FastAPI turns a failed
            # body read into 400) is replaced by the 413.
            nonlocal started
            if exceeded:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, guarded)
        except Exception:
            if not exceeded:
                raise
        if exceeded and not started:
            await self._refuse(scope, send)

    async def _refuse(self, scope: Scope, send: Send) -> None:
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        accept = dict(scope.get("headers") or []).get(b"accept-language", b"").decode("latin-1")
        lang = choose_lang((query.get("lang") or [None])[-1], accept)
        err = _too_large(self.max_bytes)
        body = json.dumps(
            {
                "code": err.code,
                "message": err.render(lang),
                "status": 413,
                "fix": err.fix,
                "fix_zh": err.fix_zh,
            },
            ensure_ascii=False,
        ).encode("utf-8")
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


#: Routes with a rate limit, and which: ``sign_in`` (per address) or ``upload`` (per user).
RATE_LIMITED: Mapping[tuple[str, str], str] = {
    ("POST", "/auth/sign-in"): "sign_in",
    ("POST", "/auth/password"): "sign_in",  # it checks a password too
    ("GET", "/auth/oidc/callback"): "sign_in",  # each one asks the identity provider
    ("POST", "/review/{kind}"): "upload",
    ("POST", "/review/{kind}/jobs"): "upload",
    ("POST", "/cases/{case_id}/files"): "upload",
}
#: Most keys (addresses, users) one window remembers before forgetting the idle ones.
_MAX_KEYS = 50_000


class SlidingWindow:
    """At most ``limit`` events per key in any ``window_s`` seconds.

    Examples
    --------
    >>> clock = iter([0.0, 1.0, 2.0, 61.0]).__next__
    >>> w = SlidingWindow(2, clock=clock)
    >>> [w.admit("a") for _ in range(4)]
    [0.0, 0.0, 58.0, 0.0]
    """

    def __init__(
        self, limit: int, *, window_s: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self.clock = clock
        self._events: dict[str, deque[float]] = {}

    def admit(self, key: str) -> float:
        """Count one event of ``key`` and answer 0; or, over the limit, count nothing and
        answer the seconds until the next one is admitted."""
        now = self.clock()
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.window_s:
            events.popleft()
        if len(events) >= self.limit:
            return max(self.window_s - (now - events[0]), 0.0)
        events.append(now)
        if len(self._events) > _MAX_KEYS:
            self._forget(now)
        return 0.0

    def _forget(self, now: float) -> None:
        idle = [k for k, ev in self._events.items() if not ev or now - ev[-1] >= self.window_s]
        for key in idle:
            del self._events[key]
        if len(self._events) > _MAX_KEYS:  # a flood of distinct keys: start over
            self._events.clear()


class RateLimit:
    """ASGI middleware answering 429 beyond the rate limits of :data:`RATE_LIMITED` (it reads
    the route and the caller the security middlewares found)."""

    def __init__(
        self,
        app: Any,
        *,
        sign_ins_per_minute: int,
        uploads_per_minute: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.app = app
        self.windows = {
            "sign_in": SlidingWindow(sign_ins_per_minute, clock=clock),
            "upload": SlidingWindow(uploads_per_minute, clock=clock),
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope.get("state") or {}
        found = state.get("route_match")
        kind = RATE_LIMITED.get(getattr(found, "key", None) or ("", ""))
        if kind is not None:
            client = scope.get("client")
            address = str(client[0]) if client else ""
            who = getattr(state.get("principal"), "username", None)
            key = f"user:{who}" if kind == "upload" and who else f"address:{address}"
            wait = self.windows[kind].admit(key)
            if wait > 0:
                await self._refuse(scope, receive, send, kind, math.ceil(wait))
                return
        await self.app(scope, receive, send)

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, kind: str, wait: int) -> None:
        what_zh, what_en = (
            ("登录尝试", "sign-in attempts") if kind == "sign_in" else ("提交", "submissions")
        )
        response = status_response(
            Request(scope),
            429,
            "too-many-requests",
            f"{what_zh}过于频繁，请 {wait} 秒后再试。",
            f"Too many {what_en}: try again in {wait} seconds.",
            {"Retry-After": str(wait)},
        )
        await response(scope, receive, send)
