"""Signing in through the unified identity platform (统一身份认证, OpenID Connect), over HTTP.

* ``GET /auth/methods``: how people sign in here, for the sign-in page (``{"auth",
  "password", "oidc"}``; nobody needs to be signed in to ask).
* ``GET /auth/oidc/start?next=/ui/…``: sends the browser to the provider (303) with a new
  ``state``, ``nonce`` and PKCE challenge, and sets the flow cookie ``guotu_oidc``
  (:mod:`guotu.services.identity_oidc`: encrypted, 10 minutes, HttpOnly, path
  ``/auth/oidc``, SameSite=Lax: it must come back with the provider's redirect, a
  navigation from another site).
* ``GET /auth/oidc/callback?code=…&state=…``: the provider's answer. On success the session
  starts exactly as at ``POST /auth/sign-in`` (the same cookies, a new session each time)
  and the browser goes on to ``next`` (a path of this site; else the one map).

A failure sends a browser back to the sign-in page, ``/ui/login?error=<code>``, which says
it in Chinese: ``oidc_failed`` (refused: the code, the ID token or the account),
``oidc_expired`` (no flow, an expired or reused one), ``oidc_denied`` (the provider did not
sign the person in), ``oidc_unavailable`` (the provider cannot be reached), ``oidc_off``
(``auth`` is not ``oidc``). The provider's own error text is never shown. A script that asks
for JSON only (``Accept: application/json``) gets the error envelope instead: 401, 503
(the provider cannot be reached) or 400.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from guotu.domain.access.records import UserAccount
from guotu.errors import AuthenticationError, ConfigError, DirectoryUnavailableError, GuotuError
from guotu.io.oidc_provider import OidcProvider, OidcSettings
from guotu.services.identity_oidc import FLOW_MINUTES, ClaimNames, OidcSignIn
from guotu.services.workspace import StorePool
from guotu.settings import Settings
from guotu.web.auth import begin_session, set_session_cookies
from guotu.web.security import SESSION_COOKIE, client_address

__all__ = ["FLOW_COOKIE", "oidc_of", "router"]

router = APIRouter(tags=["auth 登录"], include_in_schema=False)

#: The cookie holding a started sign-in's flow, and where the browser sends it.
FLOW_COOKIE = "guotu_oidc"
_FLOW_PATH = "/auth/oidc"
#: Where a sign-in goes when ``next`` is not a page of this site.
_HOME = "/ui/"
#: The query parameters of the provider's answer that are read, and their longest text.
_ANSWER = {"code": 2048, "state": 256, "error": 64}


def oidc_of(settings: Settings, environ: Mapping[str, str] | None = None) -> OidcSignIn | None:
    """The unified sign-in of ``auth = oidc`` (``None`` otherwise); the client secret is
    read from the environment variable ``oidc_client_secret_env`` names.

    Raises
    ------
    ConfigError
        The variable is not set, or the CA file cannot be read.
    """
    if settings.auth != "oidc":
        return None
    env = os.environ if environ is None else environ
    name = settings.oidc_client_secret_env
    secret = env.get(name, "")
    if not secret:
        raise ConfigError(
            f"The OIDC client secret's variable is not set: {name} is empty or missing.",
            field="oidc_client_secret_env",
            fix="Set that environment variable to the client secret the provider gave.",
            message_zh=f"未提供统一身份认证的客户端密钥：环境变量 {name} 未设置或为空。",
            fix_zh="请把该环境变量设为统一身份认证平台分配的客户端密钥。",
        )
    provider = OidcProvider(
        OidcSettings(
            settings.oidc_issuer,
            settings.oidc_client_id,
            secret,
            scopes=tuple(settings.oidc_scopes.split()),
            ca_file=settings.oidc_ca_file or None,
        )
    )
    claims = ClaimNames(
        username=settings.oidc_username_claim,
        department=settings.oidc_department_claim,
        groups=settings.oidc_groups_claim,
    )
    return OidcSignIn(provider, claims=claims, group_roles=settings.oidc_group_role_map)


def _next_page(text: str | None) -> str:
    """``text`` when it is a path of this site (not ``//host`` or ``/\\host``, which a
    browser reads as another site, nor the sign-in page), else the one map."""
    if not text or len(text) > 1024 or any(ord(c) < 32 or c == "\\" for c in text):
        return _HOME
    parts = urlsplit(text)
    if not text.startswith("/") or text.startswith("//") or parts.scheme or parts.netloc:
        return _HOME
    if parts.path.startswith(("/ui/login", "/auth/")):
        return _HOME
    return text


def _off() -> ConfigError:
    return ConfigError(
        "This server does not sign in through a unified identity platform (auth is not oidc).",
        field="auth",
        fix="Sign in with a user name and password, or set auth to oidc.",
        message_zh="本服务器未启用统一身份认证登录（auth 不是 oidc）。",
        fix_zh="请用用户名和密码登录，或请管理员把 auth 设为 oidc。",
    )


def _wants_json(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "application/json" in accept and "text/html" not in accept


def _error_code(exc: GuotuError) -> str:
    if isinstance(exc, DirectoryUnavailableError):
        return "oidc_unavailable"
    if isinstance(exc, ConfigError):
        return "oidc_off"
    return {"state": "oidc_expired", "error": "oidc_denied"}.get(exc.field or "", "oidc_failed")


def _clear_flow(response: Response, settings: Settings) -> None:
    response.delete_cookie(
        FLOW_COOKIE,
        path=_FLOW_PATH,
        secure=settings.cookies_secure,
        httponly=True,
        samesite="lax",
    )


def _failed(request: Request, exc: GuotuError) -> Response:
    """A browser back to the sign-in page with the error's code (a script: the error)."""
    if _wants_json(request):
        raise exc
    query = urlencode({"error": _error_code(exc)})
    response = RedirectResponse(f"/ui/login?{query}", status_code=303)
    response.headers["Cache-Control"] = "no-store"
    _clear_flow(response, request.app.state.settings)
    return response


@router.get("/auth/methods", summary="How people sign in here (for the sign-in page)")
def get_methods(request: Request) -> JSONResponse:
    """The ``auth`` mode, whether a user name and password sign in, and whether the unified
    identity platform does."""
    auth = request.app.state.settings.auth
    return JSONResponse({"auth": auth, "password": auth != "none", "oidc": auth == "oidc"})


@router.get("/auth/oidc/start", summary="Sign in through the unified identity platform")
def get_oidc_start(request: Request) -> Response:
    """Send the browser to the provider with a new flow."""
    settings: Settings = request.app.state.settings
    sign_in: OidcSignIn | None = request.app.state.oidc
    if sign_in is None:
        return _failed(request, _off())
    redirect_uri = settings.oidc_redirect_url or str(request.url_for("get_oidc_callback"))
    try:
        url, sealed = sign_in.start(
            redirect_uri=redirect_uri, next_page=_next_page(request.query_params.get("next"))
        )
    except DirectoryUnavailableError as exc:
        return _failed(request, exc)
    response = RedirectResponse(url, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    response.set_cookie(
        FLOW_COOKIE,
        sealed,
        max_age=FLOW_MINUTES * 60,
        path=_FLOW_PATH,
        secure=settings.cookies_secure,
        httponly=True,
        samesite="lax",
    )
    return response


@router.get("/auth/oidc/callback", summary="The unified identity platform's answer")
def get_oidc_callback(request: Request) -> Response:
    """Finish the flow: check the answer, sign the account in, go on to ``next``."""
    settings: Settings = request.app.state.settings
    sign_in: OidcSignIn | None = request.app.state.oidc
    if sign_in is None:
        return _failed(request, _off())
    params = {
        name: value[:longest]
        for name, longest in _ANSWER.items()
        if (value := request.query_params.get(name)) is not None
    }
    address = client_address(request.scope)
    stores: StorePool = request.app.state.stores
    outcome: tuple[UserAccount, str, str] | GuotuError
    with stores.borrow() as store:
        try:
            account, next_page = sign_in.finish(
                store,
                sealed=request.cookies.get(FLOW_COOKIE),
                params=params,
                address=address,
            )
        except (AuthenticationError, DirectoryUnavailableError) as exc:  # the store is fine
            outcome = exc
        else:
            previous = request.cookies.get(SESSION_COOKIE)
            value = begin_session(store, account, address=address, previous=previous)
            outcome = (account, next_page, value)
    if isinstance(outcome, GuotuError):
        return _failed(request, outcome)
    _account, next_page, value = outcome
    response = RedirectResponse(next_page, status_code=303)
    response.headers["Cache-Control"] = "no-store"
    set_session_cookies(response, settings, value)
    _clear_flow(response, settings)
    return response
