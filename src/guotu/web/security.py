"""The security layers around every request: who is asking, may they, and what every answer
carries.

Outermost first (``create_app`` installs them in this order):

1. :class:`SecurityHeaders` wraps the whole stack, Starlette's own error handler included, so
   every answer (pages, data, static files, 404, 500) carries the Content-Security-Policy and
   the other headers of :data:`SECURITY_HEADERS`; an answer to a signed-in user's request
   with JSON in it is ``Cache-Control: no-store``, and nothing of theirs is ``public``.
2. CORS (Starlette's), only when ``cors_origins`` names origins: without it no
   ``Access-Control-Allow-Origin`` is ever sent.
3. :class:`Authenticate` sets ``request.state.principal``: from an ``Authorization: Bearer
   gt_…`` token (one that is unknown, revoked or expired answers 401), or from the session
   cookie (HttpOnly, SameSite=Strict, Secure per ``secure_cookies``, path ``/``); without
   either the request is anonymous; a credential once resolved is kept for a moment
   (:mod:`guotu.web.callers`). With ``auth = none`` every request is the one local
   user, with the business roles (:func:`guotu.services.access.local_principal`), and a
   request from another machine is refused (403) whatever address the server listens on.
4. :class:`Gate` finds the route the request goes to and applies its policy
   (:mod:`guotu.web.route_policies`): 401 anonymous, 403 without the permission, 500 a
   route without a policy; a browser session whose password must be changed first (an
   initial password an administrator set, or one older than ``max_age_days``:
   :func:`~guotu.domain.access.passwords.password_change_due`) reaches only the routes of
   :data:`~guotu.web.route_policies.PASSWORD_CHANGE_ROUTES`, every other answers 403
   ``password-change-required`` (an access token is not limited: it was made with a password
   that was good then, and it expires); then, for unsafe methods, CSRF: a cookie-signed-in
   request needs ``X-CSRF-Token`` equal to its session's token (given by ``GET /auth/me`` and
   in the ``guotu_csrf`` cookie), a token-signed request is exempt, and any other (sign-in,
   or the local user of ``auth = none``) is refused when its ``Origin`` is another site's.
5. :class:`guotu.web.limits.RateLimit`: sign-ins per address, reviews and uploads per user
   (429 with ``Retry-After``); not with ``auth = none`` (one local user, nobody to share with).
6. :class:`guotu.web.limits.BodyLimit`: no body over ``max_upload_mb`` (413).

All of this runs before a request's body is read, so an anonymous upload is refused unread.
:func:`enforce_route_policy` (an app-wide dependency) checks the policy again against the
route the router actually chose.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import logging
from collections.abc import MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from fastapi import Request
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import MutableHeaders

from guotu.domain.access.passwords import PasswordRules, password_change_due
from guotu.domain.access.policy import ANONYMOUS, Principal
from guotu.domain.access.records import AccessToken, UserAccount
from guotu.errors import AuthenticationError, GuotuError, PermissionDeniedError
from guotu.services.access import local_principal
from guotu.services.identity import (
    password_change_required,
    principal_for,
    resolve_session,
    resolve_token,
)
from guotu.services.identity_accounts import moment
from guotu.services.workspace import StorePool
from guotu.settings import Settings
from guotu.web.callers import CallerCache
from guotu.web.deps import current_principal
from guotu.web.errors import error_response
from guotu.web.route_policies import (
    PASSWORD_CHANGE_ROUTES,
    RouteMatch,
    match_route,
    policy_of,
    refusal,
)

__all__ = [
    "CONTENT_SECURITY_POLICY",
    "CSRF_COOKIE",
    "CSRF_HEADER",
    "SECURITY_HEADERS",
    "SESSION_COOKIE",
    "Authenticate",
    "Caller",
    "Gate",
    "SecurityHeaders",
    "caller_of",
    "client_address",
    "csrf_token",
    "enforce_route_policy",
    "is_remote",
    "password_change_refusal",
]

log = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Receive = Any
Send = Any

#: The session cookie (HttpOnly) and the CSRF cookie the page's script reads.
SESSION_COOKIE = "guotu_session"
CSRF_COOKIE = "guotu_csrf"
#: The header a cookie-signed-in page sends its CSRF token in.
CSRF_HEADER = "X-CSRF-Token"
#: Methods that change something, so need CSRF protection.
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: The password rules a session's password is held to (its age).
_PASSWORD_RULES = PasswordRules()
#: Unsafe routes protected by the Origin check alone (signing in: SameSite and Origin).
_ORIGIN_ONLY = frozenset({("POST", "/auth/sign-in")})

#: No inline script anywhere. What the web UI needs besides ``'self'``: MapLibre GL JS starts
#: its workers from a ``blob:`` URL and draws images from ``data:``/``blob:`` URLs; inline
#: *styles* are allowed because the legend swatches and bars of the UI, ECharts' tooltips, the
#: API page and the HTML reports (review, 体检评估, site sheet) set ``style`` attributes or
#: carry one ``<style>`` element (a style cannot run code).
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "worker-src 'self' blob:",
        "child-src 'self' blob:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
#: Headers on every answer.
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def csrf_token(session_value: str) -> str:
    """The CSRF token of a session: derived from the session's secret value, so only a page
    that was given it (``GET /auth/me``, the ``guotu_csrf`` cookie) knows it, and it needs
    no storage.

    Examples
    --------
    >>> len(csrf_token("x")), csrf_token("x") == csrf_token("x") != csrf_token("y")
    (64, True)
    """
    return hmac.new(session_value.encode("utf-8"), b"guotu-csrf-v1", hashlib.sha256).hexdigest()


def client_address(scope: Scope) -> str:
    """The client's address as the server sees it (behind a proxy, uvicorn's
    ``--forwarded-allow-ips`` decides whether ``X-Forwarded-For`` is believed)."""
    client = scope.get("client")
    return str(client[0]) if client else ""


@dataclass(frozen=True)
class Caller:
    """Who a request is, as :class:`Authenticate` found it.

    ``via`` is ``session``, ``token``, ``local`` (``auth = none``) or ``""`` (anonymous).
    """

    principal: Principal
    via: str = ""
    account: UserAccount | None = None
    token: AccessToken | None = None
    session_value: str | None = None


_ANONYMOUS_CALLER = Caller(ANONYMOUS)
#: Unsafe requests under these paths change who may do what: the cache of callers is emptied.
_IDENTITY_PATHS = ("/auth/", "/admin/")
#: Every request of ``auth = none``: the one local user.
_LOCAL_CALLER = Caller(local_principal(), "local")


def _state(scope: Scope) -> dict[str, Any]:
    state: dict[str, Any] = scope.setdefault("state", {})
    return state


def caller_of(request: Request) -> Caller:
    """The :class:`Caller` of a request (anonymous when the middleware did not run)."""
    found = _state(request.scope).get("caller")
    return found if isinstance(found, Caller) else _ANONYMOUS_CALLER


async def _answer(scope: Scope, receive: Receive, send: Send, exc: GuotuError) -> None:
    headers = {}
    if isinstance(exc, AuthenticationError):
        headers["WWW-Authenticate"] = 'Bearer realm="guotu"'
    response = error_response(Request(scope), exc, headers)
    await response(scope, receive, send)


class SecurityHeaders:
    """ASGI middleware adding :data:`SECURITY_HEADERS` to every answer, and keeping a
    signed-in user's answers out of shared caches."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Any) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers[name] = value
                if scope.get("scheme") == "https":
                    headers.setdefault("Strict-Transport-Security", "max-age=31536000")
                caller = _state(scope).get("caller")
                if isinstance(caller, Caller) and caller.via in ("session", "token"):
                    if "json" in headers.get("content-type", ""):
                        headers["Cache-Control"] = "no-store"
                    elif "public" in headers.get("cache-control", ""):
                        headers["Cache-Control"] = headers["cache-control"].replace(
                            "public", "private"
                        )
            await send(message)

        await self.app(scope, receive, with_headers)


def _bearer(scope: Scope) -> str | None:
    for name, value in scope.get("headers") or ():
        if name == b"authorization":
            scheme, _, text = value.decode("latin-1").partition(" ")
            if scheme.lower() == "bearer":
                return str(text.strip())
    return None


class Authenticate:
    """ASGI middleware: who the request is (``request.state.principal`` and the
    :class:`Caller`); 401 for an access token that signs nobody in.

    A credential resolved once is kept for ``auth_cache_seconds``
    (:class:`~guotu.web.callers.CallerCache`): the next requests of that user are resolved
    without a store read and without leaving the event loop."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.settings = settings
        self.callers = CallerCache(settings.auth_cache_seconds)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if self.settings.auth == "none" and is_remote(client_address(scope)):
            await _answer(scope, receive, send, _local_only())
            return
        try:
            caller = await self._caller(scope)
        except GuotuError as exc:  # the store cannot be opened: said as the store's error
            await _answer(scope, receive, send, exc)
            return
        if caller is None:
            await _answer(scope, receive, send, _bad_token())
            return
        state = _state(scope)
        state["caller"] = caller
        state["principal"] = caller.principal
        state["callers"] = self.callers
        try:
            await self.app(scope, receive, send)
        finally:
            if scope["method"] in _UNSAFE and scope["path"].startswith(_IDENTITY_PATHS):
                self.callers.clear()  # sign-out, revocation, account or role changes

    async def _caller(self, scope: Scope) -> Caller | None:
        """The caller, or ``None`` for a bearer token that is not a usable token."""
        if self.settings.auth == "none":
            return _LOCAL_CALLER
        text = _bearer(scope)
        if text is not None:
            kept = self.callers.get("token", text)
            if kept is not None:
                return kept  # type: ignore[no-any-return]
            return await run_in_threadpool(self._by_token, scope, text, self.callers.generation)
        value = Request(scope).cookies.get(SESSION_COOKIE)
        if not value:
            return _ANONYMOUS_CALLER
        kept = self.callers.get("session", value)
        if kept is not None:
            return kept  # type: ignore[no-any-return]
        return await run_in_threadpool(self._by_session, scope, value, self.callers.generation)

    def _by_token(self, scope: Scope, text: str, generation: int) -> Caller | None:
        stores: StorePool = scope["app"].state.stores
        with stores.borrow() as store:
            found = resolve_token(store, text)
            if found is None:
                return None
            account, token = found
            principal = principal_for(store, account, token=token)
        caller = Caller(principal, "token", account, token)
        self.callers.put("token", text, caller, generation, expires_at=token.expires_at)
        return caller

    def _by_session(self, scope: Scope, value: str, generation: int) -> Caller:
        stores: StorePool = scope["app"].state.stores
        with stores.borrow() as store:
            account = resolve_session(store, value, limits=self.settings.sign_in_limits)
            if account is None:
                return _ANONYMOUS_CALLER
            principal = principal_for(store, account)
        caller = Caller(principal, "session", account, session_value=value)
        self.callers.put("session", value, caller, generation)
        return caller


def is_remote(address: str) -> bool:
    """Whether a client address is another machine's (an IP address that is not loopback;
    a Unix socket or a test client's name is not).

    Examples
    --------
    >>> is_remote("10.0.0.5"), is_remote("127.0.0.1"), is_remote("::ffff:127.0.0.1")
    (True, False, False)
    """
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return not ip.is_loopback


def _local_only() -> PermissionDeniedError:
    return PermissionDeniedError(
        "This server has no sign-in (auth = none) and serves this machine only.",
        fix="Ask the administrator to configure sign-in (auth = local, ldap or oidc).",
        message_zh="本服务器未启用登录（auth = none），仅供本机使用。",
        fix_zh="请管理员配置登录方式（auth = local、ldap 或 oidc）。",
    )


def _bad_token() -> AuthenticationError:
    return AuthenticationError(
        "The access token is not valid: unknown, revoked or expired.",
        fix="Make a new token (GET/POST /auth/tokens after signing in).",
        message_zh="访问令牌无效：不存在、已撤销或已过期。",
        fix_zh="请登录后重新生成访问令牌。",
    )


def _csrf_refused() -> PermissionDeniedError:
    return PermissionDeniedError(
        "The request lacks the CSRF token of the session (header X-CSRF-Token), or it is wrong.",
        fix="Reload the page; a script sends the token GET /auth/me gives in X-CSRF-Token.",
        message_zh="请求缺少本次登录的 CSRF 令牌（请求头 X-CSRF-Token），或令牌不正确。",
        fix_zh="请刷新页面；脚本须在 X-CSRF-Token 请求头中携带 GET /auth/me 给出的令牌。",
    )


def _origin_refused() -> PermissionDeniedError:
    return PermissionDeniedError(
        "The request comes from a page of another site.",
        fix="Use guotu's own pages, or ask the administrator to allow that origin.",
        message_zh="请求来自其他网站的页面，已拒绝。",
        fix_zh="请使用本系统的页面，或请管理员把该来源加入 cors_origins。",
    )


def password_change_refusal(
    caller: Caller, key: tuple[str, str], rules: PasswordRules = _PASSWORD_RULES
) -> GuotuError | None:
    """The 403 a browser session whose password must be changed first gets from the route
    ``key`` (every route but :data:`~guotu.web.route_policies.PASSWORD_CHANGE_ROUTES`), or
    ``None``. Only sessions: an access token keeps working until it expires.

    Examples
    --------
    >>> wang = UserAccount("wang", "王工", None, frozenset(), password_hash="$argon2id$…")
    >>> session = Caller(Principal("wang"), "session", wang)
    >>> password_change_refusal(session, ("GET", "/collections")).code
    'password-change-required'
    >>> password_change_refusal(session, ("POST", "/auth/password")) is None
    True
    >>> password_change_refusal(Caller(Principal("wang"), "token", wang), ("GET", "/")) is None
    True
    """
    if caller.via != "session" or caller.account is None or key in PASSWORD_CHANGE_ROUTES:
        return None
    reason = password_change_due(caller.account, moment(), rules)
    if reason is None:
        return None
    return password_change_required(
        reason,
        fix="Change it on the page /ui/password (or POST /auth/password), then go on.",
        fix_zh="请在 /ui/password 页面修改密码（或 POST /auth/password），然后继续操作。",
        rules=rules,
    )


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return str(value.decode("latin-1"))
    return None


class Gate:
    """ASGI middleware applying the route's policy, then CSRF and the Origin check."""

    def __init__(self, app: Any, settings: Settings) -> None:
        self.app = app
        self.allowed_origins = frozenset(o.rstrip("/") for o in settings.cors_origins)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = _state(scope)
        caller = state.get("caller")
        caller = caller if isinstance(caller, Caller) else _ANONYMOUS_CALLER
        method = scope["method"]
        found = match_route(scope["app"], method, scope["path"])
        if found is not None:
            state["route_match"] = found
            refused = password_change_refusal(caller, found.key) or refusal(
                found.policy, caller.principal, caller.via
            )
            if refused is not None:
                if found.policy is None:
                    log.error("route %s %s has no access policy: refused", *found.key)
                await _answer(scope, receive, send, refused)
                return
        if method in _UNSAFE:
            problem = self._unsafe_problem(scope, caller)
            if problem is not None:
                await _answer(scope, receive, send, problem)
                return
        await self.app(scope, receive, send)

    def _unsafe_problem(self, scope: Scope, caller: Caller) -> GuotuError | None:
        """Why an unsafe request may be forged by another site's page, or ``None``."""
        if caller.via == "token":
            return None  # a browser never adds a bearer token on its own
        found: RouteMatch | None = _state(scope).get("route_match")
        if caller.via == "session" and (found is None or found.key not in _ORIGIN_ONLY):
            sent = _header(scope, CSRF_HEADER.lower().encode()) or ""
            wanted = csrf_token(caller.session_value or "")
            return None if hmac.compare_digest(sent, wanted) else _csrf_refused()
        origin = _header(scope, b"origin")
        if origin is None:
            return None  # browsers send Origin with every cross-site POST
        if origin.rstrip("/") in self.allowed_origins:
            return None
        if origin != "null" and urlsplit(origin).netloc == (_header(scope, b"host") or ""):
            return None
        return _origin_refused()


def enforce_route_policy(request: Request) -> None:
    """App-wide dependency: the route the router chose is the one :class:`Gate` checked, or
    its policy is checked now (never served without one)."""
    route = request.scope.get("route")
    checked: RouteMatch | None = _state(request.scope).get("route_match")
    if checked is not None and checked.route is route:
        return
    caller = caller_of(request)
    method = "GET" if request.method == "HEAD" else request.method
    key = (method, str(getattr(route, "path_format", request.url.path)))
    refused = password_change_refusal(caller, key) or refusal(
        policy_of(route), current_principal(request), caller.via
    )
    if refused is not None:
        raise refused
