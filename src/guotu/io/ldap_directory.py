"""Sign-in against the LDAP directory a bureau already runs (OpenLDAP, Active Directory …).

:func:`authenticate` gives the person as a :class:`DirectoryUser`, or ``None`` when the
directory does not know that username and password (never saying which: a sign-in page must
not tell anyone which usernames exist). :class:`LdapSettings` says how the person is found:
search (as a service account or anonymously; the username escaped, so ``*`` or ``)(`` match
nothing), then bind as the one entry found; or bind directly to ``user_dn_template``. Groups
are the ``groupOfNames`` under ``group_base`` with the person as a ``member``. An empty
password is refused unsent: LDAP takes a DN without one as an *unauthenticated* bind, which
many servers accept. A directory that cannot be reached or refuses the service account is a
:class:`~guotu.errors.DirectoryUnavailableError` (HTTP 503, exit 3) naming only its host:port.
"""

from __future__ import annotations

import logging
import math
import socket
import ssl
import warnings
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from guotu.errors import ConfigError, DirectoryUnavailableError

with warnings.catch_warnings():
    # ldap3 2.9.1 (its latest release) imports names pyasn1 deprecated in 0.6.1.
    warnings.filterwarnings("ignore", r"(tagMap|typeMap) is deprecated", DeprecationWarning)
    import ldap3
    from ldap3.core.exceptions import LDAPException
    from ldap3.utils.conv import escape_filter_chars
    from ldap3.utils.dn import escape_rdn

__all__ = ["DirectoryUser", "LdapSettings", "authenticate"]

logger = logging.getLogger(__name__)

_SERVER_TROUBLE = {51: "busy", 52: "unavailable", 80: "failing"}  #: bind results that are not "no"


@dataclass(frozen=True)
class LdapSettings:
    """Where the directory is and how people and groups are found in it.

    Give either ``search_base`` (search, then bind; ``service_dn`` and ``service_password``
    name the service account, neither means an anonymous search) or ``user_dn_template``
    (direct bind); ``{username}`` marks the username in it and in ``user_filter``. Without
    ``group_base`` nobody has groups. ``start_tls`` upgrades an ``ldap://`` connection,
    ``ldaps://`` is TLS from the start; both check the certificate (against ``ca_file``).

    Examples
    --------
    >>> settings = LdapSettings("ldap://127.0.0.1:389", search_base="ou=people,dc=guotu,dc=test",
    ...                         service_dn="cn=guotu-service,dc=test", service_password="s3cret")
    >>> settings.host_port, "s3cret" in repr(settings)
    ('127.0.0.1:389', False)
    """

    url: str
    search_base: str | None = None
    service_dn: str | None = None
    service_password: str | None = field(default=None, repr=False)
    user_dn_template: str | None = None
    user_filter: str = "(uid={username})"
    username_attribute: str = "uid"
    display_name_attribute: str = "cn"
    email_attribute: str = "mail"
    department_attribute: str = "ou"
    group_base: str | None = None
    group_object_class: str = "groupOfNames"
    group_member_attribute: str = "member"
    group_name_attribute: str = "cn"
    connect_timeout_s: float = 5.0
    receive_timeout_s: float = 10.0
    start_tls: bool = False
    ca_file: str | None = None

    def __post_init__(self) -> None:
        try:
            parts = urlsplit(self.url)
            is_url = parts.scheme in ("ldap", "ldaps") and bool(parts.hostname) and parts.port != 0
        except ValueError:  # a port that is not a number from 0 to 65535
            is_url = False
        template = self.user_dn_template or self.user_filter
        problems = [
            (
                not is_url,
                f"The LDAP URL {self.url!r} is not an ldap:// or ldaps:// URL with a host.",
                f"LDAP 地址 {self.url!r} 不是带主机名（和正确端口）的 ldap:// 或 ldaps:// 地址。",
            ),
            (
                (self.search_base is None) == (self.user_dn_template is None),
                "Give exactly one of the LDAP search base and user DN template.",
                "LDAP 查询起点（search_base）和用户 DN 模板（user_dn_template）须且只须设置一个。",
            ),
            (
                (self.service_dn is None) != (self.service_password is None),
                "Give both the LDAP service account's DN and its password, or neither.",
                "LDAP 服务账号的 DN 和密码须同时设置，或都不设置。",
            ),
            (
                "{username}" not in template,
                f"The LDAP user filter or DN template {template!r} has no {{username}}.",
                f"LDAP 用户过滤条件或 DN 模板 {template!r} 中没有 {{username}}。",
            ),
            (
                self.connect_timeout_s <= 0 or self.receive_timeout_s <= 0,
                "The LDAP timeouts must be more than 0 seconds.",
                "LDAP 超时时间须大于 0 秒。",
            ),
        ]
        fix = {"fix": "Correct the LDAP settings.", "fix_zh": "请修改 LDAP 设置。"}
        for is_wrong, message, message_zh in problems:
            if is_wrong:
                raise ConfigError(message, message_zh=message_zh, **fix)

    @property
    def host_port(self) -> str:
        """``host:port`` of the server, the only part of it an error message names."""
        parts = urlsplit(self.url)
        return f"{parts.hostname}:{parts.port or (636 if parts.scheme == 'ldaps' else 389)}"


@dataclass(frozen=True)
class DirectoryUser:
    """A person the directory signed in: what guotu keeps of the entry."""

    username: str
    display_name: str
    email: str | None
    department: str | None
    groups: tuple[str, ...]
    dn: str


def authenticate(settings: LdapSettings, username: str, password: str) -> DirectoryUser | None:
    """The person with this username and password, or ``None`` when the directory says no.

    ``None`` covers an unknown username, a wrong password, an empty password or username, and a
    username matching several entries (the reason is logged at debug level only).

    Raises
    ------
    DirectoryUnavailableError
        The directory cannot be reached, times out, refuses the service account or answers a
        search with an error (the message names its ``host:port`` and nothing else).

    Examples
    --------
    Against ``scripts/ldap-throwaway``, zhangwei's password gives his entry (张伟, 国土空间规划科,
    groups sorted); an empty password never reaches the server:

    >>> settings = LdapSettings("ldap://127.0.0.1:389", user_dn_template="uid={username},dc=test")
    >>> authenticate(settings, "zhangwei", "") is None
    True
    """
    if not username or not password or len(username) > 256:
        logger.debug("LDAP sign-in refused: empty or overlong username or password")
        return None
    with _driver_errors(settings):
        if settings.user_dn_template is not None:
            dn = settings.user_dn_template.format(username=escape_rdn(username))
            with _connection(settings, dn, password) as conn:
                if conn is None:
                    return None
                entries = _search(settings, conn, dn, "(objectClass=*)", ldap3.BASE, 1)
                return _user(settings, conn, entries[0], username) if entries else None
        with _connection(settings, settings.service_dn, settings.service_password) as service:
            if service is None:
                raise _unavailable(settings, "refuses the service account", "拒绝了服务账号")
            assert settings.search_base is not None  # __post_init__: one of the two is set
            query = settings.user_filter.format(username=escape_filter_chars(username))
            entries = _search(settings, service, settings.search_base, query, ldap3.SUBTREE, 2)
            if len(entries) != 1:
                logger.debug("LDAP sign-in refused: %d entries match", len(entries))
                return None
            with _connection(settings, entries[0]["dn"], password) as conn:
                if conn is None:
                    return None
            return _user(settings, service, entries[0], username)


def _user(
    settings: LdapSettings, conn: ldap3.Connection, entry: Mapping[str, Any], username: str
) -> DirectoryUser:
    """The :class:`DirectoryUser` of a search entry, its groups read through ``conn``."""
    attributes = entry["attributes"]
    dn = str(entry["dn"])
    groups: tuple[str, ...] = ()
    if settings.group_base is not None:
        query = (
            f"(&(objectClass={escape_filter_chars(settings.group_object_class)})"
            f"({settings.group_member_attribute}={escape_filter_chars(dn)}))"
        )
        found = _search(settings, conn, settings.group_base, query, ldap3.SUBTREE, 0)
        names = (_first(group["attributes"], settings.group_name_attribute) for group in found)
        groups = tuple(sorted({name for name in names if name}))
    return DirectoryUser(
        username=_first(attributes, settings.username_attribute) or username,
        display_name=_first(attributes, settings.display_name_attribute) or username,
        email=_first(attributes, settings.email_attribute),
        department=_first(attributes, settings.department_attribute),
        groups=groups,
        dn=dn,
    )


def _first(attributes: Mapping[str, Any], name: str) -> str | None:
    """The first text value of an attribute (ldap3 gives lists; bytes are not text)."""
    value = attributes.get(name)
    first = value[0] if isinstance(value, list) and value else value
    return first if isinstance(first, str) and first else None


def _search(
    settings: LdapSettings, conn: ldap3.Connection, base: str, query: str, scope: str, limit: int
) -> list[dict[str, Any]]:
    """The entries a search finds, at most ``limit`` (0: the server's limit)."""
    names = ("username", "display_name", "email", "department", "group_name")
    attributes = [getattr(settings, f"{name}_attribute") for name in names]
    conn.search(base, query, search_scope=scope, attributes=attributes, size_limit=limit)
    code = conn.result["result"]
    if code not in (0, 4):  # success, sizeLimitExceeded (the entries so far are kept)
        # noSuchObject (32) too: a base that does not exist is a setting to fix, not "no".
        logger.warning("LDAP server %s: search failed: %s", settings.host_port, conn.result)
        raise _unavailable(settings, "answers a search with an error", "查询时出错")
    return [entry for entry in conn.response or [] if entry.get("type") == "searchResEntry"]


@contextmanager
def _connection(
    settings: LdapSettings, dn: str | None, password: str | None
) -> Iterator[ldap3.Connection | None]:
    """A connection bound as ``dn`` (anonymous when ``None``), or ``None`` when the bind is refused."""
    parts = urlsplit(settings.url)
    is_tls = parts.scheme == "ldaps"
    tls = None
    if is_tls or settings.start_tls:
        tls = ldap3.Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=settings.ca_file)
    server = ldap3.Server(
        parts.hostname,
        port=parts.port,
        use_ssl=is_tls,
        tls=tls,
        get_info=ldap3.NONE,
        connect_timeout=settings.connect_timeout_s,
    )
    conn = ldap3.Connection(
        server,
        user=dn,
        password=password,
        read_only=True,
        raise_exceptions=False,
        receive_timeout=math.ceil(settings.receive_timeout_s),  # whole seconds (SO_RCVTIMEO)
    )
    try:
        conn.open()
        if settings.start_tls and not conn.start_tls():
            raise _unavailable(settings, "refuses StartTLS", "拒绝了 StartTLS 加密连接")
        if conn.bind():
            yield conn
            return
        code = conn.result["result"] if conn.result else None
        if code in _SERVER_TROUBLE:
            raise _unavailable(settings, f"is {_SERVER_TROUBLE[code]}", "忙或暂不可用")
        logger.debug("LDAP bind refused: %s", code)
        yield None
    finally:
        try:
            conn.unbind()
        except (LDAPException, OSError) as exc:  # the socket is gone already: nothing to close
            logger.debug("LDAP unbind failed: %s", type(exc).__name__)
        if isinstance(conn.socket, socket.socket):  # ldap3 leaves it open when connect fails
            conn.socket.close()


@contextmanager
def _driver_errors(settings: LdapSettings) -> Iterator[None]:
    """Re-raise ldap3's and the socket's exceptions as :class:`DirectoryUnavailableError`."""
    try:
        yield
    except (LDAPException, OSError) as exc:
        logger.warning("LDAP server %s: %s: %s", settings.host_port, type(exc).__name__, exc)
        raise _unavailable(settings, "cannot be reached", "无法连接") from exc


def _unavailable(settings: LdapSettings, what: str, what_zh: str) -> DirectoryUnavailableError:
    """The error for a directory guotu cannot use: it names the server's host:port only."""
    where = settings.host_port
    return DirectoryUnavailableError(
        f"The directory server {where} {what}: nobody can sign in with a directory account.",
        fix="Check that the LDAP server is running and reachable from this machine, and the "
        "LDAP settings (URL, service account, search base).",
        message_zh=f"目录服务器 {where} {what_zh}，暂时不能用目录账号登录。",
        fix_zh="请确认 LDAP 服务器正在运行、本机可以访问，并检查 LDAP 设置（地址、服务账号、查询起点）。",
    )
