"""Signing in through the unified identity platform (统一身份认证, OpenID Connect).

:meth:`OidcSignIn.start` makes a new ``state``, ``nonce`` and PKCE code verifier and gives
the provider's authorization URL and the *flow*: those values, the redirect URI and the page
to return to, encrypted and authenticated (JWE, ``dir`` + ``A256GCM``, by joserfc) with a key
derived from the client secret, valid for :data:`FLOW_MINUTES`. The web keeps it in a
short-lived HttpOnly cookie of the browser that started, so every worker process can finish
what any one started and the server keeps nothing per visitor.

:meth:`OidcSignIn.finish` takes the provider's answer back: the flow must be there, unexpired,
its ``state`` the one returned and not used before (in this process); then the code is
redeemed for an ID token checked against the provider's keys (:mod:`guotu.io.oidc_provider`),
and its claims become an ``oidc`` account as a directory's entry does for LDAP
(:mod:`guotu.services.identity_sign_in`): created or brought up to date at each sign-in with
its display name, department (the claim matched to a department of the workspace by id, then
by name) and roles (the groups claim mapped by ``group_roles``). Refused: a name held by a
local or LDAP account, a disabled or locked account, groups giving roles one person may not
hold together (三员分立). Every attempt is audited (``sign_in``, ``sign_in_failed`` with the
reason and the client's address); the person is told one sentence (:data:`OIDC_REFUSED`).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import threading
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any, NoReturn

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwe import JWERegistry
from joserfc.jwk import OctKey

from guotu.domain.access.records import AccountSource, UserAccount
from guotu.domain.access.roles import duty_conflicts
from guotu.errors import AuthenticationError, DirectoryUnavailableError
from guotu.io.oidc_provider import OidcProvider
from guotu.ports import FeatureStore
from guotu.services.identity_accounts import account_refusal, moment

__all__ = ["FLOW_MINUTES", "OIDC_REFUSED", "ClaimNames", "OidcSignIn", "oidc_refused"]

log = logging.getLogger(__name__)

#: How long a started sign-in may take at the provider.
FLOW_MINUTES = 10
#: The one answer to a unified sign-in that did not succeed, whatever the reason.
OIDC_REFUSED = (
    "统一身份认证登录未成功，或账号暂不可用。",
    "The unified identity sign-in did not succeed, or the account cannot be used now.",
)
#: What a user name may be (as for local accounts).
_USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
#: The flow's encryption (direct key agreement, AES-256-GCM).
_FLOW_JWE = JWERegistry(algorithms=["dir", "A256GCM"])
#: Longest text taken from a claim.
_MAX_CLAIM = 256


def oidc_refused(field: str | None = None) -> AuthenticationError:
    """The error every failed unified sign-in raises (Chinese first; one text for every
    reason). ``field`` says which part of the answer was wrong, for the web to choose its
    message: ``state`` (no flow, an expired or reused one), ``error`` (the provider says
    no), ``None`` (anything else)."""
    zh, en = OIDC_REFUSED
    return AuthenticationError(
        en,
        field=field,
        fix="Sign in again; if it keeps failing, ask the system administrator.",
        message_zh=zh,
        fix_zh="请重新登录；如仍不成功，请联系系统管理员。",
    )


@dataclass(frozen=True)
class ClaimNames:
    """Which claims of the ID token (or userinfo) say who the person is."""

    username: str = "preferred_username"
    display_name: str = "name"
    department: str = "department"
    groups: str = "groups"


@dataclass(frozen=True)
class _Flow:
    """A started sign-in, as its cookie holds it."""

    state: str
    nonce: str
    code_verifier: str
    redirect_uri: str
    next_page: str


class OidcSignIn:
    """The unified sign-in of one server: the provider, how its claims map to an account,
    and the flows finished in this process (a ``state`` is used once)."""

    def __init__(
        self,
        provider: OidcProvider,
        *,
        claims: ClaimNames = ClaimNames(),
        group_roles: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        self.provider = provider
        self.claims = claims
        self.group_roles = {g: frozenset(r) for g, r in (group_roles or {}).items()}
        secret = provider.settings.client_secret.encode("utf-8")
        digest = hmac.new(secret, b"guotu-oidc-flow-v1", hashlib.sha256).digest()
        self._key = OctKey.import_key(digest)
        self._used: dict[str, float] = {}
        self._lock = threading.Lock()

    def start(self, *, redirect_uri: str, next_page: str) -> tuple[str, str]:
        """The provider's authorization URL and the sealed flow (the cookie's value).

        Raises
        ------
        DirectoryUnavailableError
            The provider's discovery document cannot be had.
        """
        flow = _Flow(
            state=secrets.token_urlsafe(24),
            nonce=secrets.token_urlsafe(24),
            code_verifier=secrets.token_urlsafe(48),
            redirect_uri=redirect_uri,
            next_page=next_page,
        )
        url = self.provider.authorization_url(
            redirect_uri=redirect_uri,
            state=flow.state,
            nonce=flow.nonce,
            code_verifier=flow.code_verifier,
        )
        claims = {
            "state": flow.state,
            "nonce": flow.nonce,
            "verifier": flow.code_verifier,
            "redirect_uri": flow.redirect_uri,
            "next": flow.next_page,
            "exp": int(time.time()) + FLOW_MINUTES * 60,
        }
        sealed = jwt.encode({"alg": "dir", "enc": "A256GCM"}, claims, self._key, registry=_FLOW_JWE)
        return url, sealed

    def _unseal(self, sealed: str) -> _Flow | None:
        """The flow a cookie holds, or ``None`` (missing, forged, for another key, expired)."""
        if not sealed or len(sealed) > 4096:
            return None
        try:
            token = jwt.decode(sealed, self._key, registry=_FLOW_JWE)
            jwt.JWTClaimsRegistry(leeway=0, exp={"essential": True}).validate(token.claims)
            values = token.claims
            return _Flow(
                state=str(values["state"]),
                nonce=str(values["nonce"]),
                code_verifier=str(values["verifier"]),
                redirect_uri=str(values["redirect_uri"]),
                next_page=str(values["next"]),
            )
        except (JoseError, KeyError, ValueError):
            return None

    def _first_use(self, state: str) -> bool:
        """Whether ``state`` is finished here for the first time (then it is marked used)."""
        now = time.monotonic()
        with self._lock:
            for old in [s for s, until in self._used.items() if until <= now]:
                del self._used[old]
            if state in self._used:
                return False
            if len(self._used) >= 100_000:  # a flood of started flows: forget the oldest
                self._used.pop(next(iter(self._used)))
            self._used[state] = now + FLOW_MINUTES * 60 + 60
            return True

    def finish(
        self,
        store: FeatureStore,
        *,
        sealed: str | None,
        params: Mapping[str, str],
        address: str,
        now: datetime | None = None,
    ) -> tuple[UserAccount, str]:
        """The account the provider's answer (``params``: ``code``, ``state`` or ``error``)
        signs in, and the page to go to.

        Raises
        ------
        AuthenticationError
            Whatever the reason (:func:`oidc_refused`; the audit log has the reason).
        DirectoryUnavailableError
            The provider cannot be reached (audited; no account is touched).
        """
        when = moment(now)
        flow = self._unseal(sealed or "")
        returned = params.get("state", "")
        if flow is None:
            _refuse(store, "-", address, "no sign-in flow, or it expired", "state")
        if not hmac.compare_digest(returned.encode(), flow.state.encode()):
            _refuse(store, "-", address, "the state is not the flow's", "state")
        if not self._first_use(flow.state):
            _refuse(store, "-", address, "the sign-in flow was used before", "state")
        error = params.get("error")
        if error is not None:
            shown = error if re.fullmatch(r"[a-z_]{1,40}", error) else "?"
            _refuse(store, "-", address, f"the provider answered {shown}", "error")
        code = params.get("code", "")
        if not code or len(code) > 2048:
            _refuse(store, "-", address, "the provider's answer has no code", None)
        names = self.claims
        try:
            claims = self.provider.redeem(
                code,
                redirect_uri=flow.redirect_uri,
                code_verifier=flow.code_verifier,
                nonce=flow.nonce,
                wanted=(names.username, names.groups),
            )
        except DirectoryUnavailableError:
            _audit_refusal(store, "-", address, "identity provider unavailable")
            raise
        except AuthenticationError as exc:
            _refuse(store, "-", address, exc.message, None)
        return self._account(store, claims, when, address), flow.next_page

    def _account(
        self, store: FeatureStore, claims: Mapping[str, Any], when: datetime, address: str
    ) -> UserAccount:
        """Create or update the account the claims describe, audit the sign-in."""
        names = self.claims
        username = _text(claims.get(names.username))
        if username is None or not _USERNAME.match(username):
            reason = f"the {names.username} claim is missing or not a usable user name"
            _refuse(store, "-", address, f"{reason} (sub {_text(claims.get('sub'))!r})", None)
        known = store.user(username)
        if known is not None and known.source is not AccountSource.OIDC:
            _refuse(store, username, address, f"a {known.source.value} account has this name")
        if known is not None and (refusal := account_refusal(known, when)) is not None:
            _refuse(store, username, address, refusal)
        groups = _groups(claims.get(names.groups))
        roles = frozenset(r for g in groups for r in self.group_roles.get(g, ()))
        if duty_conflicts(roles):
            reason = "the provider's groups give roles one person may not hold"
            _refuse(store, username, address, reason)
        wanted = _text(claims.get(names.department))
        department = _department(store, wanted)
        if wanted and department is None:
            log.warning(
                "OIDC user %r: department %r matches none of the workspace", username, wanted
            )
        base = known or UserAccount(
            username=username,
            display_name=username,
            department=None,
            roles=frozenset(),
            source=AccountSource.OIDC,
        )
        updated = replace(
            base,
            display_name=_text(claims.get(names.display_name)) or username,
            department=department,
            roles=roles,
            failed_sign_ins=0,
            locked_until=None,
        )
        name = updated.username  # an existing account keeps its spelling
        if known is None:
            store.put_user(updated, actor=name, action="create_user", reason="unified identity")
        elif updated != known:
            store.put_user(updated, actor=name, action="update_from_directory")
        store.audit(
            name,
            "sign_in",
            f"user:{name}",
            detail={"source": AccountSource.OIDC.value},
            department=department or "",
            address=address,
        )
        return store.user(name) or updated


def _text(value: Any) -> str | None:
    """A claim as text (a non-empty string not longer than :data:`_MAX_CLAIM`), or ``None``."""
    if isinstance(value, str) and value.strip() and len(value) <= _MAX_CLAIM:
        return value.strip()
    return None


def _groups(value: Any) -> tuple[str, ...]:
    """The groups claim: a list of names (or one name); anything else is no group."""
    items = value if isinstance(value, list) else [value]
    return tuple(sorted({t for t in map(_text, items[:1000]) if t is not None}))


def _department(store: FeatureStore, wanted: str | None) -> str | None:
    """The active department whose id, else whose name, is ``wanted``."""
    if not wanted:
        return None
    active = [d for d in store.departments() if d.active]
    by_id = next((d.id for d in active if d.id == wanted), None)
    return by_id or next((d.id for d in active if d.name == wanted), None)


def _audit_refusal(store: FeatureStore, name: str, address: str, reason: str) -> None:
    store.audit(
        name,
        "sign_in_failed",
        f"user:{name}",
        reason=reason,
        detail={"reason": reason, "source": AccountSource.OIDC.value},
        address=address,
    )
    log.info("unified sign-in of %r from %s refused: %s", name, address, reason)


def _refuse(
    store: FeatureStore, name: str, address: str, reason: str, field: str | None = None
) -> NoReturn:
    """Audit a refused attempt and raise the one error."""
    _audit_refusal(store, name, address, reason)
    raise oidc_refused(field)
