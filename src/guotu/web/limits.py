"""Request-size limit of the web app: no request body beyond ``Settings.max_upload_mb``.

Starlette parses a multipart upload (writing its files to disk) before a handler runs, so a
limit checked in the handler comes too late: this ASGI middleware answers 413 at once when
``Content-Length`` says the body is too large, and counts the bytes of bodies sent without
one (chunked), stopping the request as soon as the count passes the limit and answering
413 in place of whatever the app would have said.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qs

from guotu.errors import TooLargeError
from guotu.web.errors import choose_lang

__all__ = ["BodyLimit"]

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
