"""What the ``/auth`` routes take and answer, as models for the OpenAPI document (``/api``).

Scripts sign in, ask who they are and manage their access tokens through these routes
(:mod:`guotu.web.auth`), so the document states their bodies: the models here mirror what
the handlers write (``_user_doc``, ``_token_doc``) and are named by ``response_model`` on
each route. Signing in reads its fields itself (JSON or a form): :data:`SIGN_IN_BODY` is the
request body the document states for it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from guotu.domain.access.passwords import PasswordRules

__all__ = [
    "SIGN_IN_BODY",
    "AccessTokenInfo",
    "AccessTokens",
    "Credentials",
    "DepartmentRef",
    "MadeToken",
    "Me",
    "PasswordChange",
    "PasswordChanged",
    "RoleName",
    "SignedIn",
    "UserInfo",
]


class Credentials(BaseModel):
    """A user name and password (a JSON object, or the fields of a form)."""

    username: str = Field(min_length=1, max_length=200)
    password: str = Field(max_length=1024)


class DepartmentRef(BaseModel):
    """A department: its id and name."""

    id: str
    name: str


class RoleName(BaseModel):
    """An access role and its names."""

    id: str
    name_zh: str
    name_en: str


class UserInfo(BaseModel):
    """What a user is shown of themselves (never a password hash)."""

    username: str
    display_name: str
    source: str = Field(description="Where the account comes from: local, ldap …")
    department: DepartmentRef | None
    roles: list[RoleName]
    permissions: list[str]


#: ``password_change`` of ``/auth/me``.
_PASSWORD_CHANGE = Field(
    default=None,
    description="initial (set by an administrator) or expired (older than "
    f"{PasswordRules().max_age_days} days): the password must be changed (POST "
    "/auth/password) before the session may do anything else; null otherwise",
)


class SignedIn(BaseModel):
    """The user just signed in, and the CSRF token to send in ``X-CSRF-Token``."""

    user: UserInfo
    csrf_token: str


class Me(BaseModel):
    """Who the request is, how it signed in, and the session's CSRF token."""

    user: UserInfo
    via: Literal["session", "token", "local"] = Field(
        description="session (browser), token (access token) or local (auth = none)"
    )
    scopes: list[str] | None = Field(description="The access token's scopes; null otherwise")
    csrf_token: str | None = Field(description="The session's CSRF token; null through a token")
    password_change: Literal["initial", "expired"] | None = _PASSWORD_CHANGE


class PasswordChange(BaseModel):
    """The signed-in user's current password and the new one, typed twice."""

    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)
    new_password_again: str = Field(min_length=1, max_length=1024)


class PasswordChanged(BaseModel):
    """The password is changed: the browser's new session (every other session of the user
    ended) and its CSRF token."""

    username: str
    password_changed_at: str = Field(json_schema_extra={"format": "date-time"})
    csrf_token: str


class AccessTokenInfo(BaseModel):
    """An access token as its owner sees it: never its secret."""

    id: str
    name: str
    scopes: list[str]
    # UTC times as the answers write them (2026-03-01T08:00:00Z)
    created_at: str = Field(json_schema_extra={"format": "date-time"})
    expires_at: str = Field(json_schema_extra={"format": "date-time"})
    revoked_at: str | None = Field(json_schema_extra={"format": "date-time"})


class AccessTokens(BaseModel):
    """The signed-in user's access tokens, newest first."""

    tokens: list[AccessTokenInfo]


class MadeToken(BaseModel):
    """A new access token; ``text`` (``gt_<id>_<secret>``) is shown in this answer only."""

    token: AccessTokenInfo
    text: str = Field(pattern="^gt_")


def _sign_in_body() -> dict[str, Any]:
    schema = Credentials.model_json_schema()
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": schema},
                "application/x-www-form-urlencoded": {"schema": schema},
            },
        }
    }


#: The request body of ``POST /auth/sign-in`` (its ``openapi_extra``).
SIGN_IN_BODY: dict[str, Any] = _sign_in_body()
