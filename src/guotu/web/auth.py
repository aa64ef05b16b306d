"""Signing in and out, who am I, and personal access tokens, over HTTP.

* ``POST /auth/sign-in`` (JSON ``{"username", "password"}`` or a form with those fields):
  sets the session cookie (HttpOnly, SameSite=Strict, Secure per ``secure_cookies``) and the
  ``guotu_csrf`` cookie, and answers the user (never a hash) with ``csrf_token``. A refusal is
  401 with one sentence whatever the reason (:data:`guotu.services.identity.SIGN_IN_REFUSED`).
* ``POST /auth/sign-out``: ends the session and clears the cookies (204).
* ``GET /auth/me``: the user, department, roles, permissions, the session's ``csrf_token``
  (``null`` through a token) and ``password_change``: ``initial`` or ``expired`` when the
  account's password must be changed before the session may do anything else
  (:func:`~guotu.domain.access.passwords.password_change_due`; the sign-in page asks it
  straight after signing in), else ``null``; 401 when nobody is signed in. The change itself is
  :mod:`guotu.web.auth_password`.
* ``GET /auth/tokens``, ``POST /auth/tokens`` (JSON ``{"name", "scopes", "days"}``),
  ``DELETE /auth/tokens/{id}``: the signed-in user's own access tokens; the text of a new
  token (``gt_<id>_<secret>``) is in the answer to its creation and nowhere else.

With ``auth = none`` nobody signs in (sign-in answers 400) and ``/auth/me`` is the local user.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from guotu.domain.access.passwords import PasswordChangeReason, password_change_due
from guotu.domain.access.policy import Principal
from guotu.domain.access.records import AccessToken, UserAccount
from guotu.domain.access.roles import get_access_role
from guotu.errors import AuthenticationError, ConfigError, InputError, NotFoundError
from guotu.ports import FeatureStore
from guotu.services.identity import (
    create_token,
    end_session,
    principal_for,
    revoke_token,
    sign_in,
    start_session,
)
from guotu.services.identity_accounts import moment
from guotu.services.workspace import StorePool
from guotu.settings import Settings
from guotu.web.auth_models import SIGN_IN_BODY, AccessTokens, MadeToken, Me, SignedIn
from guotu.web.deps import open_store
from guotu.web.security import (
    CSRF_COOKIE,
    SESSION_COOKIE,
    caller_of,
    client_address,
    csrf_token,
)

__all__ = [
    "begin_session",
    "router",
    "set_session_cookies",
]

#: In /api: scripts sign in, ask who they are and manage their tokens here (a route only a
#: browser follows, such as a redirect, says ``include_in_schema=False``).
router = APIRouter(tags=["auth 登录"])
Store = Annotated[FeatureStore, Depends(open_store)]
#: Largest sign-in body read.
_MAX_SIGN_IN_BYTES = 8 * 1024


def _sign_in_off() -> ConfigError:
    return ConfigError(
        "This server has no sign-in (auth = none): it serves one local user.",
        field="auth",
        fix="Set auth to local, ldap or oidc to have accounts.",
        message_zh="本服务器未启用登录（auth = none），仅供本机单人使用。",
        fix_zh="如需账号登录，请把 auth 设为 local、ldap 或 oidc。",
    )


def _user_doc(
    account: UserAccount | None, principal: Principal, department_name: str | None
) -> dict[str, Any]:
    """What a user is shown of themselves (never a hash)."""
    roles = sorted(principal.roles)
    return {
        "username": principal.username,
        "display_name": account.display_name if account else "本机用户",
        "source": account.source.value if account else "local",
        "department": (
            {"id": principal.department, "name": department_name or principal.department}
            if principal.department
            else None
        ),
        "roles": [
            {"id": r, "name_zh": get_access_role(r).name_zh, "name_en": get_access_role(r).name_en}
            for r in roles
        ],
        "permissions": sorted(p.value for p in principal.permissions),
    }


def _password_change_of(account: UserAccount | None) -> PasswordChangeReason | None:
    """Why ``account``'s password must be changed now (``initial``, ``expired``), or ``None``
    (no account: the local user of ``auth = none``)."""
    return password_change_due(account, moment()) if account is not None else None


def _department_name(store: FeatureStore, department: str | None) -> str | None:
    found = next((d for d in store.departments() if d.id == department), None)
    return found.name if found else None


async def _credentials(request: Request) -> tuple[str, str]:
    """``username`` and ``password`` from a JSON body or a form."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > _MAX_SIGN_IN_BYTES:
        raise InputError(
            "The sign-in request is too large.",
            message_zh="登录请求过大。",
        )
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    fields: Mapping[str, Any]
    if kind in ("application/x-www-form-urlencoded", "multipart/form-data"):
        fields = await request.form(max_files=0, max_fields=8)
    else:
        try:
            body = json.loads(await request.body() or b"null")
        except ValueError:
            body = None
        fields = body if isinstance(body, dict) else {}
    username, password = fields.get("username"), fields.get("password")
    if not isinstance(username, str) or not isinstance(password, str) or not username:
        raise InputError(
            "A sign-in needs a user name and a password (JSON or form fields username, password).",
            field="username",
            fix="Send both fields.",
            message_zh="登录需要用户名和密码（JSON 或表单字段 username、password）。",
            fix_zh="请同时填写用户名和密码。",
        )
    return username, password


def begin_session(
    store: FeatureStore, account: UserAccount, *, address: str, previous: str | None
) -> str:
    """Start a session of ``account`` after a successful sign-in, ending the browser's
    ``previous`` one first (a new session each sign-in: no session fixation); the value of
    the new session's cookie."""
    if previous:
        end_session(store, previous, actor=account.username, address=address)
    _session, value = start_session(store, account, address=address)
    return value


def set_session_cookies(response: Response, settings: Settings, value: str) -> None:
    """Set the session cookie (HttpOnly, SameSite=Strict, Secure per ``secure_cookies``)
    and the CSRF cookie the pages' scripts read."""
    secure = settings.cookies_secure
    response.set_cookie(
        SESSION_COOKIE, value, httponly=True, samesite="strict", secure=secure, path="/"
    )
    response.set_cookie(
        CSRF_COOKIE, csrf_token(value), httponly=False, samesite="strict", secure=secure, path="/"
    )


def _clear_cookies(response: Response, settings: Settings) -> None:
    for name in (SESSION_COOKIE, CSRF_COOKIE):
        response.delete_cookie(
            name,
            path="/",
            secure=settings.cookies_secure,
            httponly=name == SESSION_COOKIE,
            samesite="strict",
        )


@router.post(
    "/auth/sign-in",
    summary="Sign in (sets the session cookie)",
    response_model=SignedIn,
    responses={401: {"description": "Wrong user name or password, or an unusable account."}},
    openapi_extra=SIGN_IN_BODY,
)
async def post_sign_in(request: Request) -> JSONResponse:
    """Check the user name and password, start a session and answer the user."""
    settings: Settings = request.app.state.settings
    if settings.auth == "none":
        raise _sign_in_off()
    username, password = await _credentials(request)
    address = client_address(request.scope)
    stores: StorePool = request.app.state.stores
    previous = request.cookies.get(SESSION_COOKIE)

    def work() -> tuple[dict[str, Any], str]:
        with stores.borrow() as store:
            try:
                account = sign_in(
                    store,
                    username,
                    password,
                    address=address,
                    directory=request.app.state.directory,
                    limits=settings.sign_in_limits,
                    group_roles=settings.group_role_map,
                    hashing=request.app.state.hashing,
                )
            except AuthenticationError as exc:  # the store is fine: keep it for the next one
                refused = exc
            else:
                value = begin_session(store, account, address=address, previous=previous)
                principal = principal_for(store, account)
                name = _department_name(store, account.department)
                return _user_doc(account, principal, name), value
        raise refused

    doc, value = await run_in_threadpool(work)
    response = JSONResponse(
        {"user": doc, "csrf_token": csrf_token(value)}, headers={"Cache-Control": "no-store"}
    )
    set_session_cookies(response, settings, value)
    return response


@router.post("/auth/sign-out", status_code=204, summary="Sign out (ends the session)")
def post_sign_out(request: Request) -> Response:
    """End the session of the cookie, if any, and clear the cookies."""
    settings: Settings = request.app.state.settings
    caller = caller_of(request)
    value = request.cookies.get(SESSION_COOKIE)
    if value and settings.auth != "none":
        with request.app.state.stores.borrow() as store:
            actor = caller.principal.username or "-"
            end_session(store, value, actor=actor, address=client_address(request.scope))
    response = Response(status_code=204)
    _clear_cookies(response, settings)
    return response


@router.get(
    "/auth/me",
    summary="The signed-in user, roles, permissions and CSRF token",
    response_model=Me,
)
def get_me(request: Request) -> JSONResponse:
    """Who the request is, and the CSRF token a page sends back in ``X-CSRF-Token``."""
    caller = caller_of(request)
    name = None
    if caller.account is not None and caller.account.department:
        with request.app.state.stores.borrow() as store:
            name = _department_name(store, caller.account.department)
    doc = _user_doc(caller.account, caller.principal, name)
    return JSONResponse(
        {
            "user": doc,
            "via": caller.via,
            "scopes": sorted(caller.token.scopes) if caller.token else None,
            "csrf_token": csrf_token(caller.session_value) if caller.session_value else None,
            "password_change": _password_change_of(caller.account),
        }
    )


def _token_doc(token: AccessToken) -> dict[str, Any]:
    return {
        "id": token.id,
        "name": token.name,
        "scopes": sorted(token.scopes),
        "created_at": token.created_at.isoformat(timespec="seconds") + "Z",
        "expires_at": token.expires_at.isoformat(timespec="seconds") + "Z",
        "revoked_at": (
            token.revoked_at.isoformat(timespec="seconds") + "Z" if token.revoked_at else None
        ),
    }


def _own(request: Request) -> str:
    username = caller_of(request).principal.username
    if request.app.state.settings.auth == "none" or username is None:
        raise _sign_in_off()
    return username


@router.get(
    "/auth/tokens", summary="The signed-in user's access tokens", response_model=AccessTokens
)
def get_tokens(request: Request, store: Store) -> dict[str, Any]:
    """Their tokens, newest first (ids, names, scopes and dates; never a secret)."""
    return {"tokens": [_token_doc(t) for t in store.tokens(_own(request))]}


class NewToken(BaseModel):
    """What a new token is: its name, scopes and lifetime."""

    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=lambda: ["read"])
    days: int = Field(default=90, ge=1, le=365)


@router.post(
    "/auth/tokens",
    status_code=201,
    summary="Make an access token (shown once)",
    response_model=MadeToken,
)
def post_token(request: Request, store: Store, body: NewToken) -> JSONResponse:
    """Make a token for the signed-in user; ``text`` is shown in this answer only."""
    username = _own(request)
    token, text = create_token(store, username, body.name, body.scopes, body.days, actor=username)
    return JSONResponse(
        {"token": _token_doc(token), "text": text},
        status_code=201,
        headers={"Cache-Control": "no-store"},
    )


@router.delete("/auth/tokens/{token_id}", status_code=204, summary="Revoke an access token")
def delete_token(
    request: Request,
    store: Store,
    token_id: Annotated[str, PathParam(pattern="^[0-9a-f]{16}$")],
) -> Response:
    """Revoke one of the signed-in user's tokens (another user's is not found)."""
    username = _own(request)
    token = store.token(token_id)
    if token is None or token.username.lower() != username.lower():
        raise NotFoundError(
            f"You have no access token {token_id!r}.",
            field="token_id",
            message_zh=f"您没有编号为“{token_id}”的访问令牌。",
            fix_zh="请查看令牌列表中的编号。",
        )
    revoke_token(store, token_id, actor=username)
    return Response(status_code=204)
