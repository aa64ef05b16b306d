"""Password hashes: argon2id through argon2-cffi.

The parameters are the OWASP Password Storage Cheat Sheet's minimum argon2id configuration
(19 MiB of memory, 2 iterations, 1 lane; chosen in :class:`HashParameters` and in
:class:`guotu.settings.Settings`, whose ``argon2_*`` settings a bureau may raise). A hash
carries its own parameters (``$argon2id$v=19$m=19456,t=2,p=1$…``), so it verifies whatever the
settings say now; :func:`needs_rehash` tells the sign-in to renew a hash made with other
parameters once the password is known to be right.

Verification compares in constant time (libargon2 does), and :func:`dummy_hash` gives a hash
to verify against when there is no account, so that the time a sign-in takes does not tell
whether a user name exists.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import lru_cache

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

from guotu.domain.access.passwords import password_problems

__all__ = [
    "HashParameters",
    "dummy_hash",
    "generate_password",
    "hash_password",
    "needs_rehash",
    "verify_password",
]

#: Letters and digits of generated passwords, without the look-alikes (l, o, O, I, 0, 1).
_LOWER = "abcdefghijkmnpqrstuvwxyz"
_UPPER = "ABCDEFGHJKLMNPQRSTUVWXYZ"
_DIGITS = "23456789"


def generate_password(username: str = "") -> str:
    """A random password that meets the password rules: three groups of four letters and
    digits joined by ``-`` (about 70 bits), e.g. ``Xk7m-P2qr-9Tzw``; what the command line
    and the administration page give a new account or a reset.

    Examples
    --------
    >>> p = generate_password("wang")
    >>> len(p), p.count("-"), password_problems(p, "wang")
    (14, 2, [])
    """
    alphabet = _LOWER + _UPPER + _DIGITS
    while True:
        text = "-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3))
        kinds = (_LOWER, _UPPER, _DIGITS)
        if all(any(c in k for c in text) for k in kinds) and not password_problems(text, username):
            return text


@dataclass(frozen=True)
class HashParameters:
    """argon2id parameters: iterations, memory in KiB, lanes (OWASP's minimum by default)."""

    time_cost: int = 2
    memory_kib: int = 19_456
    parallelism: int = 1


@lru_cache(maxsize=8)
def _hasher(params: HashParameters) -> PasswordHasher:
    return PasswordHasher(
        time_cost=params.time_cost,
        memory_cost=params.memory_kib,
        parallelism=params.parallelism,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def hash_password(password: str, *, params: HashParameters = HashParameters()) -> str:
    """The argon2id hash of ``password`` (a new random salt each time).

    Examples
    --------
    >>> hash_password("Gh#2035plan").startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    True
    """
    return _hasher(params).hash(password)


def verify_password(
    password_hash: str, password: str, *, params: HashParameters = HashParameters()
) -> bool:
    """Whether ``password`` is the one ``password_hash`` was made from (constant time; a hash
    that does not parse is ``False``, never an exception).

    Examples
    --------
    >>> h = hash_password("Gh#2035plan")
    >>> verify_password(h, "Gh#2035plan"), verify_password(h, "gh#2035plan")
    (True, False)
    >>> verify_password("not a hash", "x")
    False
    """
    try:
        return _hasher(params).verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str, *, params: HashParameters = HashParameters()) -> bool:
    """Whether ``password_hash`` was made with other parameters than ``params`` (renew it at
    the next successful sign-in).

    Examples
    --------
    >>> needs_rehash(hash_password("Gh#2035plan", params=HashParameters(time_cost=1)))
    True
    """
    try:
        return _hasher(params).check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


@lru_cache(maxsize=8)
def dummy_hash(params: HashParameters = HashParameters()) -> str:
    """A hash of a random password nobody knows, with ``params``: what a sign-in verifies
    against when the user name has no password, so it takes as long as a real one."""
    return hash_password(secrets.token_urlsafe(32), params=params)
