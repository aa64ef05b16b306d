"""Identity: accounts, sign-in, sessions, access tokens and who a user is to the access
policy. One import for the callers (the web's security layer, the CLI's account commands);
the parts live in :mod:`~guotu.services.identity_passwords` (argon2id),
:mod:`~guotu.services.identity_accounts` (accounts, departments, layer policies, principals),
:mod:`~guotu.services.identity_sign_in`, :mod:`~guotu.services.identity_password_change` (a
user changing their own password), :mod:`~guotu.services.identity_sessions` and
:mod:`~guotu.services.identity_tokens`.

Examples
--------
>>> from guotu.services.identity import hash_password, verify_password
>>> verify_password(hash_password("Gh#2035plan"), "Gh#2035plan")
True
"""

from __future__ import annotations

from guotu.services.identity_accounts import (
    TOKEN_SCOPES,
    ScopedPrincipal,
    account_refusal,
    create_department,
    create_user,
    principal_for,
    set_active,
    set_layer_policy,
    set_password,
    set_roles,
    unlock,
)
from guotu.services.identity_password_change import change_password, password_change_required
from guotu.services.identity_passwords import (
    HashParameters,
    generate_password,
    hash_password,
    needs_rehash,
    verify_password,
)
from guotu.services.identity_sessions import (
    end_session,
    resolve_session,
    session_hash,
    start_session,
)
from guotu.services.identity_sign_in import SIGN_IN_REFUSED, sign_in, sign_in_refused
from guotu.services.identity_tokens import (
    MAX_TOKEN_DAYS,
    TOKEN_PREFIX,
    create_token,
    resolve_token,
    revoke_token,
)

__all__ = [
    "MAX_TOKEN_DAYS",
    "SIGN_IN_REFUSED",
    "TOKEN_PREFIX",
    "TOKEN_SCOPES",
    "HashParameters",
    "ScopedPrincipal",
    "account_refusal",
    "change_password",
    "create_department",
    "create_token",
    "create_user",
    "end_session",
    "generate_password",
    "hash_password",
    "needs_rehash",
    "password_change_required",
    "principal_for",
    "resolve_session",
    "resolve_token",
    "revoke_token",
    "session_hash",
    "set_active",
    "set_layer_policy",
    "set_password",
    "set_roles",
    "sign_in",
    "sign_in_refused",
    "start_session",
    "unlock",
    "verify_password",
]
