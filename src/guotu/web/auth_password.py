"""A signed-in user changing their own password (GB/T 22239-2019 level 3: 口令定期更换,
初始口令修改), over HTTP.

* ``GET /ui/password``: the page (``static/ui/password.*``), Chinese first; it says why when
  the change is due (``password_change`` of ``GET /auth/me``), and goes on to ``next`` (a path
  of this site) or the map once the password is changed. The sign-in page sends a user whose
  password must be changed here; the map links to it (修改密码).
* ``POST /auth/password`` (JSON ``{"current_password", "new_password",
  "new_password_again"}``; a browser session with its CSRF token, rate-limited like signing
  in): :func:`guotu.services.identity.change_password` checks the current password (a wrong
  one counts as a failed sign-in: 403, and the account locks at the limit) and the new one
  (typed the same twice, not the current one, the password rules: 400 naming what is wrong),
  hashes it with the server's argon2id parameters, records ``password_changed_at`` and audits
  ``change_password`` with the user's department and address. Every session of the user
  ends; this browser gets a new one (new cookies; the answer holds its ``csrf_token``), so
  whoever held another session is out. Access tokens are left as they are. A directory
  (LDAP) or 统一认证 (OIDC) account's password is changed there (400).

Until a due change is made (an initial password an administrator set, or one older than
``max_age_days``) the session reaches nothing but these, ``GET /auth/me`` and signing out
(:class:`guotu.web.security.Gate`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse
from starlette.concurrency import run_in_threadpool

from guotu.domain.access.records import UserAccount
from guotu.errors import (
    AuthenticationError,
    InputError,
    NotFoundError,
    PermissionDeniedError,
)
from guotu.services.identity import change_password, start_session
from guotu.services.workspace import StorePool
from guotu.settings import Settings
from guotu.web.auth import set_session_cookies
from guotu.web.auth_models import PasswordChange, PasswordChanged
from guotu.web.security import caller_of, client_address, csrf_token
from guotu.web.ui import UI_DIR

__all__ = ["router"]

#: In /api: scripts change the password here too (the page stays out of it).
router = APIRouter(tags=["auth 登录"])


@router.get("/ui/password", response_class=HTMLResponse, include_in_schema=False)
def password_page() -> FileResponse:
    """The page where signed-in users change their own password (修改密码)."""
    return FileResponse(
        UI_DIR / "password.html",
        media_type="text/html; charset=utf-8",
        headers={"Cache-Control": "no-cache"},
    )


@router.post(
    "/auth/password",
    summary="Change one's own password (ends the other sessions)",
    response_model=PasswordChanged,
    responses={
        400: {"description": "The new password: typed differently, the current one, or weak."},
        403: {"description": "The current password is wrong (counted as a failed sign-in)."},
    },
)
async def post_password(request: Request, body: PasswordChange) -> JSONResponse:
    """Check the current password, set the new one, and renew the browser's session."""
    settings: Settings = request.app.state.settings
    account = caller_of(request).account
    if account is None:  # the policy lets only a signed-in session through
        raise InputError(
            "There is no signed-in account whose password could be changed.",
            message_zh="没有已登录的账号，无法修改密码。",
        )
    if body.new_password != body.new_password_again:
        raise InputError(
            "The two new passwords typed differ.",
            field="new_password_again",
            fix="Type the same new password twice.",
            message_zh="两次输入的新密码不一致。",
            fix_zh="请两次输入相同的新密码。",
        )
    address = client_address(request.scope)
    stores: StorePool = request.app.state.stores

    def work() -> tuple[UserAccount, str]:
        with stores.borrow() as store:
            try:
                changed = change_password(
                    store,
                    account.username,
                    body.current_password,
                    body.new_password,
                    address=address,
                    limits=settings.sign_in_limits,
                    hashing=request.app.state.hashing,
                )
            except (InputError, PermissionDeniedError, AuthenticationError, NotFoundError) as exc:
                # refused: the store is fine, keep it for the next request
                refused = exc
            else:
                _session, value = start_session(store, changed, address=address)
                return changed, value
        raise refused

    changed, value = await run_in_threadpool(work)
    when = changed.password_changed_at or datetime.now(UTC).replace(tzinfo=None)
    response = JSONResponse(
        {
            "username": changed.username,
            "password_changed_at": when.isoformat(timespec="seconds") + "Z",
            "csrf_token": csrf_token(value),
        },
        headers={"Cache-Control": "no-store"},
    )
    set_session_cookies(response, settings, value)
    return response
