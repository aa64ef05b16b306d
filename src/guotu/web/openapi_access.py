"""What the OpenAPI document (``/api``) says about access control, derived from the tables
the server enforces and never written by hand per route.

:func:`declare_access` reads each operation's policy in
:data:`guotu.web.route_policies.ROUTE_POLICIES` and asks the gate's own decision,
:func:`guotu.web.route_policies.refusal`, what it answers the callers that can reach a route:

* **security schemes**: ``accessToken`` (HTTP bearer: a personal access token
  ``gt_<id>_<secret>``, for GDAL, QGIS and scripts) and ``sessionCookie`` (the browser
  session, the ``guotu_session`` cookie);
* **each operation's** ``security``: the schemes its policy lets through (a token carries the
  scopes ``read`` and ``export`` at most, so it passes no ``review`` or administrator's route,
  and no route that needs a browser session), and ``{}`` (anonymous) on public routes;
* **401** where an anonymous caller is refused, with the ``WWW-Authenticate`` header the
  gate sends; **403** where a signed-in caller can be refused (no permission, or a token
  where a session is needed), and on every unsafe method (CSRF for a session, the
  ``Origin`` check otherwise); **429** with ``Retry-After`` on the routes of
  :data:`guotu.web.limits.RATE_LIMITED`. Each refers to the shared error schema (the OGC
  exception form under the OGC routes), and a status the route declares itself (the job
  queue's 429, a refused sign-in's 401) keeps its own description, with the rule's added;
* ``x-guotu-policy``: the operation's policy as the table writes it (``/api.html`` shows it);
* a note in ``info.description`` for what holds on **every** route, so it is not repeated on
  each: an access token that signs nobody in is answered 401 anywhere (send none to read as
  anonymous); a browser session whose password must be changed first is answered 403
  anywhere but the routes of :data:`guotu.web.route_policies.PASSWORD_CHANGE_ROUTES`; with
  ``auth = none`` a request from another machine is answered 403 anywhere.

With ``auth = none`` there is nobody to sign in: the document declares no security scheme and
no 401, and 403 only where the local user is refused (an administrator's route, a route that
needs a browser session, and the ``Origin`` check of unsafe methods); the rate limits are off
(:func:`guotu.web.app.create_app` installs them only with sign-in).

An operation whose ``(METHOD, path)`` is not in the table is left as it is (an app with such a
route is not built: :func:`guotu.web.route_policies.require_declared`), so routes added later,
in or out of the document, need nothing here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from guotu.domain.access.policy import ANONYMOUS, Principal
from guotu.domain.access.roles import ROLES
from guotu.services.access import local_principal
from guotu.services.identity import TOKEN_SCOPES, ScopedPrincipal
from guotu.web.limits import RATE_LIMITED
from guotu.web.openapi30 import error_response
from guotu.web.route_policies import ROUTE_POLICIES, refusal
from guotu.web.security import CSRF_HEADER, SESSION_COOKIE

__all__ = [
    "BEARER",
    "COOKIE",
    "POLICY_KEY",
    "RouteAccess",
    "access_of",
    "declare_access",
    "security_schemes",
]

#: The names of the two security schemes in ``components/securitySchemes``.
BEARER = "accessToken"
COOKIE = "sessionCookie"
#: The extension naming an operation's policy.
POLICY_KEY = "x-guotu-policy"
#: Methods the gate checks for CSRF and Origin (RFC 9110's unsafe methods).
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_EVERY_ROLE = frozenset(r.id for r in ROLES)
#: Who can reach a route when people sign in: (how, principal). Nobody (refused: 401);
#: someone without roles (refused: 403 for want of a permission); someone with every role,
#: by session and by token (the schemes that pass; a token refused where a session passes:
#: 403 for what a token cannot do).
_SIGNED_IN_CALLERS: tuple[tuple[str, Principal], ...] = (
    ("", ANONYMOUS),
    ("session", Principal("someone")),
    ("session", Principal("someone", _EVERY_ROLE)),
    ("token", ScopedPrincipal("someone", _EVERY_ROLE, scopes=TOKEN_SCOPES)),
)
#: What each kind of rate limit counts (Chinese, English).
_RATE_TEXT = {
    "sign_in": ("同一地址的登录尝试", "sign-in attempts from one address"),
    "upload": ("同一用户的审查与上传", "reviews and uploads of one user"),
}
_WWW_AUTHENTICATE = {
    "description": 'How to sign in: `Bearer realm="guotu"` (an access token).',
    "required": True,
    "schema": {"type": "string", "example": 'Bearer realm="guotu"'},
}


def security_schemes() -> dict[str, Any]:
    """The ``components/securitySchemes`` of a server where people sign in.

    Examples
    --------
    >>> sorted(security_schemes())
    ['accessToken', 'sessionCookie']
    >>> security_schemes()["sessionCookie"]["name"]
    'guotu_session'
    """
    return {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "gt_<id>_<secret>",
            "description": "个人访问令牌（`guotu token add` 或 `POST /auth/tokens` 生成），供 "
            "GDAL、QGIS 与脚本使用：`Authorization: Bearer gt_…`。令牌的范围最多为 read、"
            "export。无效（不存在、已撤销或已过期）的令牌在任何地址都答复 401。\n\n"
            "A personal access token (`guotu token add`, or `POST /auth/tokens`) for GDAL, "
            "QGIS and scripts. Its scopes are read and export at most. A token that is "
            "unknown, revoked or expired is answered 401 on every route.",
        },
        COOKIE: {
            "type": "apiKey",
            "in": "cookie",
            "name": SESSION_COOKIE,
            "description": "浏览器会话（`POST /auth/sign-in` 设置，HttpOnly）。以会话发出的 "
            f"POST、PUT、DELETE 须在 `{CSRF_HEADER}` 请求头中携带 `GET /auth/me` 给出的 "
            "csrf_token。\n\n"
            "The browser session (set by `POST /auth/sign-in`, HttpOnly). A POST, PUT or "
            f"DELETE signed in by it sends the session's csrf_token (from `GET /auth/me`) in "
            f"the `{CSRF_HEADER}` header.",
        },
    }


@dataclass(frozen=True)
class RouteAccess:
    """What one route's policy means to its callers.

    ``schemes`` are the security schemes that pass it (none with ``auth = none``);
    ``is_open`` says anonymous callers pass; ``refusals`` maps 401, 403 and 429 to the
    reasons (Chinese, English) the route gives them for.
    """

    policy: str
    schemes: tuple[str, ...] = ()
    is_open: bool = False
    refusals: dict[int, list[tuple[str, str]]] = field(default_factory=dict)

    def security(self) -> list[dict[str, list[str]]]:
        """The operation's ``security`` (alternatives): ``{}`` first when anonymous passes."""
        return ([{}] if self.is_open else []) + [{name: []} for name in self.schemes]


def _add(found: dict[int, list[tuple[str, str]]], status: int, reason: tuple[str, str]) -> None:
    reasons = found.setdefault(status, [])
    if reason not in reasons:
        reasons.append(reason)


def access_of(method: str, policy: str, *, auth: str, rate_limit: str | None = None) -> RouteAccess:
    """What ``policy`` on a ``method`` route means with sign-in mode ``auth`` and the route's
    kind of rate limit (``None``: none), as the gate decides it.

    Examples
    --------
    >>> sorted(access_of("GET", "permission:review", auth="local").refusals)
    [401, 403]
    >>> access_of("GET", "permission:review", auth="local").schemes
    ('sessionCookie',)
    >>> access_of("GET", "public", auth="local").security()
    [{}, {'accessToken': []}, {'sessionCookie': []}]
    >>> sorted(access_of("POST", "public", auth="local", rate_limit="sign_in").refusals)
    [403, 429]
    >>> sorted(access_of("GET", "permission:export", auth="none").refusals)
    []
    """
    found: dict[int, list[tuple[str, str]]] = {}
    signing_in = auth != "none"
    callers = _SIGNED_IN_CALLERS if signing_in else (("local", local_principal()),)
    schemes: list[str] = []
    is_open = False
    for via, who in callers:
        refused = refusal(policy, who, via)
        if refused is None:
            is_open = is_open or who.is_anonymous
            scheme = {"session": COOKIE, "token": BEARER}.get(via)
            if scheme and scheme not in schemes:
                schemes.append(scheme)
            continue
        zh, en = refused.message_zh or refused.message, refused.message
        if via == "token":
            zh, en = f"（访问令牌）{zh}", f"(Access token) {en}"
        elif via == "local":
            zh, en = f"（本机用户，auth = none）{zh}", f"(The local user, auth = none) {en}"
        _add(found, refused.http_status, (zh, en))
    if method.upper() in _UNSAFE:
        if signing_in:
            _add(
                found,
                403,
                (
                    f"以浏览器会话提交时缺少正确的 {CSRF_HEADER} 请求头，或请求来自其他网站的页面。",
                    f"Through a session without the right {CSRF_HEADER} header, or from a page "
                    "of another site (Origin).",
                ),
            )
        else:
            _add(found, 403, ("请求来自其他网站的页面。", "From a page of another site (Origin)."))
    if rate_limit is not None and signing_in:
        what_zh, what_en = _RATE_TEXT.get(rate_limit, ("请求", "requests"))
        _add(
            found,
            429,
            (
                f"{what_zh}过于频繁：请在 Retry-After 所示秒数后再试。",
                f"Too many {what_en}: try again after Retry-After seconds.",
            ),
        )
    ordered = tuple(s for s in (BEARER, COOKIE) if s in schemes) if signing_in else ()
    return RouteAccess(policy, ordered, is_open and signing_in, found)


def _status_order(item: tuple[str, Any]) -> tuple[bool, str]:
    return item[0] == "default", item[0]


def _describe(reasons: Iterable[tuple[str, str]]) -> str:
    listed = list(reasons)
    return "".join(zh for zh, _ in listed) + "\n\n" + " ".join(en for _, en in listed)


def _response(
    status: int,
    reasons: list[tuple[str, str]],
    existing: Mapping[str, Any] | None,
    *,
    ogc: bool,
) -> dict[str, Any]:
    """The response object of a refusal, added to what the route declared itself."""
    text = _describe(reasons)
    own = str(existing.get("description") or "") if existing else ""
    out = dict(existing or {})
    out.update(error_response(status, ogc=ogc, description=f"{own}\n\n{text}" if own else text))
    headers = dict(out.get("headers") or {})
    if status == 401:
        headers["WWW-Authenticate"] = _WWW_AUTHENTICATE
    if status == 429:
        headers["Retry-After"] = {
            "description": "Seconds until the next request is admitted.",
            # the route's own 429 (a full job queue) comes without it
            "required": existing is None,
            "schema": {"type": "integer", "minimum": 0},
        }
    if headers:
        out["headers"] = headers
    return out


_NOTE_SIGN_IN = (
    "访问控制：每个操作的 `security` 列出可用的登录方式（浏览器会话或个人访问令牌），"
    f"`{POLICY_KEY}` 为其访问策略（public、signed_in、session、permission:…）；"
    "401、403、429 按访问策略与频率限制逐个声明。携带无效（不存在、已撤销或已过期）访问令牌的"
    "请求在任何地址（公开地址也不例外）都答复 401，此项不逐个声明：匿名读取公开数据时不要携带令牌。"
    "须先修改密码（管理员设置的初始密码，或超过 90 天未修改）的浏览器会话，除 GET /auth/me、"
    "POST /auth/password、登录与退出登录外在任何地址都答复 403（password-change-required），"
    "此项也不逐个声明。",
    "Access control: each operation's `security` lists how a caller may sign in (a browser "
    f"session or a personal access token) and `{POLICY_KEY}` its access policy (public, "
    "signed_in, session, permission:…); its 401, 403 and 429 follow from them and from the "
    "rate limits. A request with an access token that is unknown, revoked or expired is "
    "answered 401 on every route, public ones included, which is not repeated on each: send "
    "no token to read public data anonymously. A browser session whose password must be "
    "changed first (an initial one an administrator set, or one older than 90 days) is "
    "answered 403 (password-change-required) on every route but GET /auth/me, POST "
    "/auth/password and signing in and out, which is not repeated on each either.",
)
_NOTE_LOCAL = (
    "本服务器未启用登录（auth = none）：本机的每个请求都以本机用户身份执行，不读取任何凭据；"
    "来自其他机器的请求在任何地址都答复 403（此项不逐个声明）。",
    "This server has no sign-in (auth = none): every request from this machine acts as the "
    "local user and no credential is read; a request from another machine is answered 403 "
    "on every route (not repeated on each).",
)


def declare_access(
    doc: dict[str, Any],
    *,
    auth: str,
    is_ogc: Callable[[str], bool],
    policies: Mapping[tuple[str, str], str] = ROUTE_POLICIES,
    rate_limited: Mapping[tuple[str, str], str] = RATE_LIMITED,
) -> dict[str, Any]:
    """``doc`` (changed in place) with what each operation's access policy answers: its
    ``security``, its 401, 403 and 429, ``x-guotu-policy``, the security schemes and the
    general note (module docstring). ``auth`` is the sign-in mode (``none``, ``local``,
    ``ldap``); ``is_ogc(path)`` tells the OGC exception form from the JSON envelope.
    """
    signing_in = auth != "none"
    for path, item in doc.get("paths", {}).items():
        for method, op in item.items():
            key = (method.upper(), path)
            if not isinstance(op, dict) or key not in policies:
                continue
            access = access_of(method, policies[key], auth=auth, rate_limit=rate_limited.get(key))
            op[POLICY_KEY] = access.policy
            if signing_in:
                op["security"] = access.security()
            responses = op.setdefault("responses", {})
            for status, reasons in sorted(access.refusals.items()):
                responses[str(status)] = _response(
                    status, reasons, responses.get(str(status)), ogc=bool(is_ogc(path))
                )
            op["responses"] = dict(sorted(responses.items(), key=_status_order))
    if signing_in:
        doc.setdefault("components", {}).setdefault("securitySchemes", {}).update(
            security_schemes()
        )
    zh, en = _NOTE_SIGN_IN if signing_in else _NOTE_LOCAL
    info = doc.setdefault("info", {})
    info["description"] = "\n\n".join(
        part for part in (str(info.get("description") or ""), zh, en) if part
    )
    return doc
