"""The identity records the store keeps: departments, user accounts, access tokens, sessions.

Departments, accounts, layer policies and tokens are kept like plan versions: every change is
a new record with its record time (``recorded_at``), nothing is overwritten, and every change
is in the audit log. Sessions are the exception: short-lived, touched as they are used, and
removed when they end (their sign-in and sign-out are audited).

Secrets never appear here in clear: a password is its argon2id hash, a token and a session
are the SHA-256 of their random value (the value itself is shown to its owner once).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

__all__ = [
    "AccessToken",
    "AccountSource",
    "Actor",
    "Department",
    "DepartmentKind",
    "Session",
    "UserAccount",
]


@dataclass(frozen=True)
class Actor:
    """Who makes a change, as the audit log records it: name, department, address.

    Services take ``actor`` as a plain name (the CLI: the OS user) or as an :class:`Actor`
    (the web: the signed-in user, their department and the client's address).
    """

    name: str
    department: str = ""
    address: str = ""

    @classmethod
    def of(cls, actor: str | Actor) -> Actor:
        """``actor`` as an :class:`Actor` (a name alone has no department or address).

        Examples
        --------
        >>> Actor.of("张工"), Actor.of(Actor("li", "gengdi", "10.0.0.8")).address
        (Actor(name='张工', department='', address=''), '10.0.0.8')
        """
        return actor if isinstance(actor, Actor) else cls(actor)

    def keywords(self) -> dict[str, str]:
        """The store's audit keywords: ``actor``, ``actor_department``, ``address``."""
        return {"actor": self.name, "actor_department": self.department, "address": self.address}


class DepartmentKind(StrEnum):
    """Inside the bureau's government, or an outside party (a 设计单位)."""

    INTERNAL = "internal"
    EXTERNAL = "external"


@dataclass(frozen=True)
class Department:
    """A department (科室, 委办局, 乡镇政府, 设计单位 …).

    Attributes
    ----------
    id
        Stable short id (``gengdi``); users and policies name departments by it.
    regions
        行政区 code prefixes a department covering part of the area is limited to (a 乡镇:
        ``("330102001",)``); empty for the whole workspace.
    """

    id: str
    name: str
    kind: DepartmentKind = DepartmentKind.INTERNAL
    regions: tuple[str, ...] = ()
    active: bool = True
    recorded_at: datetime | None = None


class AccountSource(StrEnum):
    """Where an account signs in: a local password, the LDAP directory, the OIDC provider."""

    LOCAL = "local"
    LDAP = "ldap"
    OIDC = "oidc"


@dataclass(frozen=True)
class UserAccount:
    """A user: who they are, their department and roles, and their sign-in state.

    Attributes
    ----------
    roles
        Access role ids (:mod:`guotu.domain.access.roles`).
    password_hash
        The argon2id hash (local accounts only).
    failed_sign_ins, locked_until
        Consecutive failed sign-ins and, once they reach the limit, until when the account
        is locked.
    """

    username: str
    display_name: str
    department: str | None
    roles: frozenset[str]
    source: AccountSource = AccountSource.LOCAL
    password_hash: str | None = None
    active: bool = True
    failed_sign_ins: int = 0
    locked_until: datetime | None = None
    password_changed_at: datetime | None = None
    recorded_at: datetime | None = None


@dataclass(frozen=True)
class AccessToken:
    """A personal access token for GDAL, QGIS and scripts.

    Attributes
    ----------
    id
        The token's public id (the part before the secret in what its owner is given).
    secret_hash
        SHA-256 (hex) of the secret.
    scopes
        The actions it may be used for (``read``, ``export``); never more than its owner's
        roles allow at the time of use.
    """

    id: str
    username: str
    name: str
    secret_hash: str
    scopes: frozenset[str]
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None
    recorded_at: datetime | None = None

    def is_usable(self, now: datetime) -> bool:
        """Not revoked and not expired at ``now``."""
        return self.revoked_at is None and now < self.expires_at


@dataclass(frozen=True)
class Session:
    """A signed-in browser session (the cookie holds the random value; this its hash)."""

    id_hash: str
    username: str
    created_at: datetime
    last_seen_at: datetime
    address: str = ""
