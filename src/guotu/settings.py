"""The server's settings: name, type, default and help.

Settings come from defaults, then environment variables ``GUOTU_<NAME>`` (upper case), then
explicit keyword arguments (the CLI's options); the web app is built from a :class:`Settings`
by :func:`guotu.web.app.create_app`. A few variables are read where they are used, because
they concern one run rather than the server: ``GUOTU_LANG`` (the output language,
:func:`guotu.cli.language.run_language`), ``GUOTU_USER`` (who a command on a GeoPackage acts
as, :func:`guotu.cli.principal.os_user`), ``GUOTU_TOKEN`` (the access token a command on
PostGIS signs in with, :mod:`guotu.cli.principal`), ``GUOTU_PDF_FONT`` (:mod:`guotu.io.fonts`) and the
variable an ``env:NAME`` workspace names (:func:`guotu.services.workspace.resolve_location`).
"""

from __future__ import annotations

import ipaddress
import os
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from typing import Any
from urllib.parse import urlsplit

from guotu.domain.access.passwords import SignInLimits
from guotu.domain.access.roles import get_access_role
from guotu.errors import ConfigError

__all__ = ["AUTH_MODES", "Settings", "group_roles", "is_loopback_host", "load_settings"]


@dataclass(frozen=True)
class Settings:
    """Server and limit settings (units in the names).

    Attributes
    ----------
    workspace
        Workspace location: a GeoPackage path, ``postgresql://…`` or ``env:NAME``.
    host, port
        Where ``guotu serve`` listens.
    max_items_limit
        Largest page of an items request: a larger ``limit`` is clamped to it (OGC API -
        Features Part 1). ``/api`` states it as ``limit``'s maximum.
    default_items_limit
        ``limit`` when a request gives none; ``/api`` states it as ``limit``'s default. (A
        bbox is never refused for its size: the page limit protects the server.)
    max_upload_mb
        Largest request body: an uploaded plan or table, a site-query polygon.
    max_unzipped_mb
        Largest total an uploaded zip may unpack to (zip bombs stop here).
    max_zip_members
        Most files an uploaded zip may hold.
    review_jobs_queued
        Most review jobs waiting or running at once; more answer 429 (try again later).
    monitor_targets, monitor_statistics
        Plan targets and statistics by year (CSV/XLSX) for the monitoring dashboard, instead
        of the workspace's tables ``targets`` and ``statistics`` (``guotu monitor
        targets|statistics import``); empty: the workspace's (without them, indicators show
        values and trends without status).
    max_query_vertices
        Largest polygon a site query accepts.
    tile_cache_tiles
        Tiles kept in memory per process.
    max_yaml_kb
        Largest YAML file (rule pack, check list, indicator catalogue, workflow) read.
    max_yaml_depth
        Deepest nesting of mappings and lists a YAML file may have.
    max_yaml_nodes
        Most scalars, mappings and lists a YAML file may hold (aliases are refused).
    max_table_mb
        Largest attribute table (CSV, or an XLSX's unpacked content) an import reads.
    max_table_rows
        Most rows an attribute table may have.
    pdf_font
        A TrueType font file with Chinese glyphs to embed in PDF reports, instead of the one
        found on the machine (Debian's fonts-wqy-microhei); see :mod:`guotu.io.fonts`.
    auth
        Who may use the server: ``none`` (one user on this machine: every request acts as a
        local user with the business roles; ``guotu serve`` then listens on a loopback
        address only), ``local`` (accounts with passwords kept in the workspace), ``ldap``
        (the bureau's directory, and local accounts beside it) or ``oidc`` (the unified
        identity platform, 统一身份认证, and local accounts beside it).
    ldap_url, ldap_search_base, ldap_user_dn_template, ldap_service_dn, ldap_group_base
        Where the directory is and how people and groups are found in it
        (:class:`guotu.io.ldap_directory.LdapSettings`): give the search base (search as the
        service account, then bind) or the user DN template (bind directly).
    ldap_service_password_env
        The *name* of the environment variable holding the service account's password (the
        password itself is never a setting, so it is in no file and no process listing).
    ldap_department_attribute
        The attribute of a person's entry naming their department; it is matched to a
        department of the workspace by the department's name.
    ldap_group_roles
        Which directory groups give which roles: ``group=role[,role];group=role``, e.g.
        ``guotu-viewers=viewer;guotu-reviewers=reviewer``; a group not named gives nothing.
    ldap_start_tls, ldap_ca_file
        Upgrade an ``ldap://`` connection to TLS, and the CA certificate file to check the
        server's certificate against (``ldaps://`` is TLS from the start).
    oidc_issuer
        With ``auth = oidc``: the unified identity platform's (统一身份认证) issuer URL, e.g.
        ``https://idp.example.gov.cn/realms/gov``; its discovery document is
        ``<issuer>/.well-known/openid-configuration``. ``https://`` (``http://`` only to this
        machine, for tests).
    oidc_client_id, oidc_client_secret_env
        guotu's client id at the provider, and the *name* of the environment variable
        holding its client secret (the secret itself is never a setting).
    oidc_redirect_url
        The redirect URI registered at the provider, e.g.
        ``https://guotu.example.gov.cn/auth/oidc/callback``; empty: made from each request's
        own address (set it behind a proxy that changes the host or scheme).
    oidc_scopes
        The scopes asked for, space-separated; ``openid`` is required.
    oidc_username_claim, oidc_department_claim, oidc_groups_claim
        The claims naming the person's user name, department (matched to a department of the
        workspace by its id, then by its name) and groups (a list of names).
    oidc_group_roles
        Which provider groups give which roles, as :attr:`ldap_group_roles`; a group not
        named gives nothing.
    oidc_ca_file
        The CA certificate file to check the provider's certificate against (empty: the
        system's).
    session_idle_minutes, session_absolute_hours
        A browser session ends when unused this long, and this long after sign-in in any
        case (GB/T 22239-2019 level 3 asks for session timeouts; the numbers are guotu's).
    auth_cache_seconds
        How long a server process keeps who a token or session cookie is, so a user's next
        requests do not read the store again (:mod:`guotu.web.callers`). A revoked token, a
        disabled account or an ended session stops working on every server process within
        this time (at once on the process that made the change); 0 reads on every request.
    sign_in_max_failures, sign_in_lockout_minutes
        Consecutive failed sign-ins that lock an account, and for how long.
    argon2_time_cost, argon2_memory_kib, argon2_parallelism
        The argon2id parameters of new password hashes. The defaults are the OWASP Password
        Storage Cheat Sheet's minimum argon2id configuration (m=19 MiB, t=2, p=1); a hash
        made with other parameters is renewed at its next successful sign-in.
    cors_origins
        Origins (``https://portal.example.gov.cn``) whose pages may call the API from the
        browser (CORS); empty: none, no ``Access-Control-Allow-Origin`` is ever sent. In the
        environment: comma-separated.
    secure_cookies
        Mark the session cookie ``Secure`` (sent over HTTPS only). Unset: yes, unless the
        server listens on a loopback address (a developer's machine without TLS).
    sign_ins_per_minute
        Sign-in attempts one address may make per minute (then 429).
    uploads_per_minute
        Plan reviews and uploads one user (or, anonymous, one address) may submit per minute.
    approval_authority
        The authority named on the decision documents approval cases issue (发证机关), e.g.
        ``示范县自然资源和规划局``; empty: ``自然资源主管部门``.
    approval_base_url
        The address the public reaches this server at (``https://ghzy.example.gov.cn``): the
        verification address printed as a QR code on issued documents starts with it. Empty:
        the address of the request that closed the case.
    workflow_profiles
        A folder of the province's or bureau's procedure profiles (``<id>.yaml``, extending the
        shipped procedures; docs/workflows.md). Empty: the shipped procedures only.
    holiday_arrangement
        A YAML file of the State Council's holiday arrangement for years the calendar package
        does not hold yet (schema ``calendar-v1``); without it such years are computed by the
        statutory rule and every date in them is marked 暂定.
    approval_outbox
        A file approval notices are appended to as JSON lines (who must act now, 补正 asked,
        case closed) for an SMS or e-mail gateway to deliver; empty: none leave the app (the
        待办 lists are the notification inside it).
    """

    workspace: str = "demo_county.gpkg"
    host: str = "127.0.0.1"
    port: int = 8000
    max_items_limit: int = 10_000
    default_items_limit: int = 100
    max_upload_mb: float = 200.0
    max_unzipped_mb: float = 2_000.0
    max_zip_members: int = 10_000
    review_jobs_queued: int = 4
    monitor_targets: str = ""
    monitor_statistics: str = ""
    max_query_vertices: int = 100_000
    tile_cache_tiles: int = 20_000
    max_yaml_kb: int = 2_048
    max_yaml_depth: int = 64
    max_yaml_nodes: int = 200_000
    max_table_mb: float = 500.0
    max_table_rows: int = 5_000_000
    pdf_font: str = ""
    auth: str = "none"
    ldap_url: str = ""
    ldap_search_base: str = ""
    ldap_user_dn_template: str = ""
    ldap_service_dn: str = ""
    ldap_service_password_env: str = ""
    ldap_group_base: str = ""
    ldap_department_attribute: str = "ou"
    ldap_group_roles: str = ""
    ldap_start_tls: bool = False
    ldap_ca_file: str = ""
    oidc_issuer: str = ""
    oidc_client_id: str = ""
    oidc_client_secret_env: str = ""
    oidc_redirect_url: str = ""
    oidc_scopes: str = "openid profile email"
    oidc_username_claim: str = "preferred_username"
    oidc_department_claim: str = "department"
    oidc_groups_claim: str = "groups"
    oidc_group_roles: str = ""
    oidc_ca_file: str = ""
    session_idle_minutes: int = 30
    session_absolute_hours: int = 8
    auth_cache_seconds: float = 2.0
    sign_in_max_failures: int = 5
    sign_in_lockout_minutes: int = 15
    argon2_time_cost: int = 2
    argon2_memory_kib: int = 19_456
    argon2_parallelism: int = 1
    cors_origins: tuple[str, ...] = ()
    secure_cookies: bool | None = None
    sign_ins_per_minute: int = 10
    uploads_per_minute: int = 10
    approval_authority: str = ""
    approval_base_url: str = ""
    workflow_profiles: str = ""
    holiday_arrangement: str = ""
    approval_outbox: str = ""

    def __post_init__(self) -> None:
        if self.auth not in AUTH_MODES:
            raise ConfigError(
                f"Unknown auth mode {self.auth!r}.",
                field="auth",
                fix=f"Use one of: {', '.join(AUTH_MODES)}.",
                message_zh=f"没有“{self.auth}”这一登录方式（auth）。",
                fix_zh="请用 none（单机单人，不登录）、local（本地账号）、ldap（目录账号）"
                "或 oidc（统一身份认证）。",
            )
        if self.auth == "ldap" and not self.ldap_url:
            raise ConfigError(
                "auth is ldap but no LDAP URL is set.",
                field="ldap_url",
                fix="Set ldap_url (GUOTU_LDAP_URL), e.g. ldaps://ldap.example.gov.cn.",
                message_zh="登录方式为 ldap，但没有设置目录服务器地址。",
                fix_zh="请设置 ldap_url（环境变量 GUOTU_LDAP_URL），如 ldaps://ldap.example.gov.cn。",
            )
        numbers = {
            "session_idle_minutes": self.session_idle_minutes,
            "session_absolute_hours": self.session_absolute_hours,
            "sign_in_max_failures": self.sign_in_max_failures,
            "sign_in_lockout_minutes": self.sign_in_lockout_minutes,
            "argon2_time_cost": self.argon2_time_cost,
            "argon2_parallelism": self.argon2_parallelism,
            "sign_ins_per_minute": self.sign_ins_per_minute,
            "uploads_per_minute": self.uploads_per_minute,
        }
        for name, value in numbers.items():
            if value < 1:
                raise ConfigError(
                    f"The setting {name} must be at least 1; it is {value}.",
                    field=name,
                    fix=f"Set {name} to a positive whole number.",
                    message_zh=f"设置 {name} 至少为 1，现为 {value}。",
                    fix_zh=f"请把 {name} 设为正整数。",
                )
        if self.argon2_memory_kib < 8 * self.argon2_parallelism:
            raise ConfigError(
                "argon2_memory_kib must be at least 8 KiB per lane of argon2_parallelism.",
                field="argon2_memory_kib",
                fix="Keep the default 19456 (19 MiB) or raise it.",
                message_zh="argon2_memory_kib 至少为 argon2_parallelism 的 8 倍（KiB）。",
                fix_zh="请保留默认值 19456（19 MiB）或调高。",
            )
        if not 0 <= self.auth_cache_seconds <= 60:
            raise ConfigError(
                f"auth_cache_seconds must be between 0 and 60; it is {self.auth_cache_seconds}.",
                field="auth_cache_seconds",
                fix="Keep the default 2, or 0 to resolve every request's credential afresh.",
                message_zh=f"auth_cache_seconds 须在 0 到 60 之间，现为 {self.auth_cache_seconds}。",
                fix_zh="请保留默认值 2；设为 0 则每个请求都重新核验身份。",
            )
        group_roles(self.ldap_group_roles)  # refuses a mapping that does not parse
        group_roles(self.oidc_group_roles, field="oidc_group_roles")
        if self.auth == "oidc":
            _check_oidc(self)

    @property
    def is_loopback(self) -> bool:
        """Whether the server listens on this machine only (127.0.0.0/8, ``::1``,
        ``localhost``)."""
        return is_loopback_host(self.host)

    @property
    def cookies_secure(self) -> bool:
        """Whether the session cookie is ``Secure``: :attr:`secure_cookies`, or when unset,
        whenever the server listens beyond this machine."""
        return not self.is_loopback if self.secure_cookies is None else self.secure_cookies

    @property
    def sign_in_limits(self) -> SignInLimits:
        """Failed sign-ins and session lifetimes as the identity services take them."""
        return SignInLimits(
            max_failures=self.sign_in_max_failures,
            lockout_minutes=self.sign_in_lockout_minutes,
            idle_minutes=self.session_idle_minutes,
            absolute_hours=self.session_absolute_hours,
        )

    @property
    def group_role_map(self) -> dict[str, frozenset[str]]:
        """:attr:`ldap_group_roles` parsed: directory group → role ids."""
        return group_roles(self.ldap_group_roles)

    @property
    def oidc_group_role_map(self) -> dict[str, frozenset[str]]:
        """:attr:`oidc_group_roles` parsed: the provider's group → role ids."""
        return group_roles(self.oidc_group_roles, field="oidc_group_roles")


#: The values of :attr:`Settings.auth`.
AUTH_MODES = ("none", "local", "ldap", "oidc")


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` is an address of this machine only.

    Examples
    --------
    >>> is_loopback_host("127.0.0.1"), is_loopback_host("::1"), is_loopback_host("0.0.0.0")
    (True, True, False)
    """
    text = host.strip().strip("[]").lower()
    if text == "localhost":
        return True
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False


def group_roles(text: str, *, field: str = "ldap_group_roles") -> dict[str, frozenset[str]]:
    """Directory (or identity provider) group → role ids, from ``group=role[,role];group=role``;
    an error names ``field``.

    Examples
    --------
    >>> sorted(group_roles("guotu-viewers=viewer; guotu-admins=reviewer,approver")["guotu-admins"])
    ['approver', 'reviewer']
    """
    out: dict[str, frozenset[str]] = {}
    for part in filter(None, (p.strip() for p in text.split(";"))):
        group, sep, roles = part.partition("=")
        names = frozenset(r.strip() for r in roles.split(",") if r.strip())
        if not sep or not group.strip() or not names:
            raise ConfigError(
                f"The group mapping {part!r} is not group=role[,role].",
                field=field,
                fix="Write it as group=role[,role];group=role, e.g. guotu-viewers=viewer.",
                message_zh=f"组与角色的对应“{part}”格式不对。",
                fix_zh="请写成 组=角色[,角色];组=角色，如 guotu-viewers=viewer。",
            )
        for role in names:
            get_access_role(role)  # an unknown role is refused, listing the known ones
        out[group.strip()] = out.get(group.strip(), frozenset()) | names
    return out


def _check_oidc(settings: Settings) -> None:
    """Refuse ``auth = oidc`` settings that cannot work, naming the first wrong one."""
    try:
        issuer = urlsplit(settings.oidc_issuer)
        redirect = urlsplit(settings.oidc_redirect_url)
    except ValueError:  # e.g. an unclosed [ of an IPv6 address: neither is usable
        issuer = redirect = urlsplit("")
    is_local = issuer.scheme == "http" and is_loopback_host(issuer.hostname or "")
    problems = [
        (
            "oidc_issuer",
            not (issuer.hostname and (issuer.scheme == "https" or is_local)),
            f"auth is oidc but oidc_issuer {settings.oidc_issuer!r} is not an https:// URL.",
            "登录方式为 oidc，但统一身份认证地址（oidc_issuer）未设置或不是 https:// 地址。",
            "请设置 oidc_issuer（环境变量 GUOTU_OIDC_ISSUER），"
            "如 https://idp.example.gov.cn/realms/gov。",
        ),
        (
            "oidc_client_id",
            not settings.oidc_client_id.strip(),
            "auth is oidc but no oidc_client_id is set.",
            "登录方式为 oidc，但没有设置客户端编号（oidc_client_id）。",
            "请填写在统一身份认证平台登记的客户端编号。",
        ),
        (
            "oidc_client_secret_env",
            not settings.oidc_client_secret_env.strip(),
            "auth is oidc but oidc_client_secret_env names no environment variable.",
            "登录方式为 oidc，但没有指定保存客户端密钥的环境变量（oidc_client_secret_env）。",
            "请把 oidc_client_secret_env 设为保存密钥的环境变量名，并设置该变量。",
        ),
        (
            "oidc_redirect_url",
            bool(settings.oidc_redirect_url)
            and not (redirect.scheme in ("http", "https") and redirect.hostname),
            f"oidc_redirect_url {settings.oidc_redirect_url!r} is not an http(s) URL.",
            "回调地址（oidc_redirect_url）不是完整的 http(s) 地址。",
            "请填写完整地址，如 https://guotu.example.gov.cn/auth/oidc/callback，或留空。",
        ),
        (
            "oidc_scopes",
            "openid" not in settings.oidc_scopes.split(),
            f"oidc_scopes {settings.oidc_scopes!r} lacks openid.",
            "授权范围（oidc_scopes）中没有 openid。",
            "请用空格分隔各范围，并包含 openid，如 openid profile email。",
        ),
        (
            "oidc_username_claim",
            not settings.oidc_username_claim.strip(),
            "oidc_username_claim is empty.",
            "用户名声明（oidc_username_claim）为空。",
            "请保留默认值 preferred_username，或填写平台提供用户名的声明名。",
        ),
    ]
    for name, is_wrong, message, message_zh, fix_zh in problems:
        if is_wrong:
            raise ConfigError(
                message,
                field=name,
                fix=f"Set {name} (GUOTU_{name.upper()}).",
                message_zh=message_zh,
                fix_zh=fix_zh,
            )


def _boolean(raw: str) -> bool:
    text = raw.strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def _words(raw: str) -> tuple[str, ...]:
    return tuple(w.strip() for w in raw.split(",") if w.strip())


def _parser(annotation: Any) -> tuple[Callable[[str], Any], str]:
    """How an environment variable's text becomes a value of the field's type, and the type's
    name for the message."""
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    kinds = [k for k in typing.get_args(annotation) if k is not type(None)] if union else []
    kind = kinds[0] if kinds else annotation
    if kind is bool:
        return _boolean, "bool (true/false)"
    if typing.get_origin(kind) is tuple:
        return _words, "comma-separated list"
    return kind, kind.__name__


def load_settings(environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
    """Defaults, then ``GUOTU_*`` environment variables, then ``overrides`` (not None).

    Examples
    --------
    >>> load_settings({"GUOTU_PORT": "9000"}, host="0.0.0.0").port
    9000
    >>> load_settings({"GUOTU_CORS_ORIGINS": "https://a.gov.cn, https://b.gov.cn"}).cors_origins
    ('https://a.gov.cn', 'https://b.gov.cn')
    """
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(Settings)
    values: dict[str, Any] = {}
    for f in fields(Settings):
        name = f"GUOTU_{f.name.upper()}"
        raw = env.get(name)
        if raw is None:
            continue
        parse, kind = _parser(hints[f.name])
        try:
            values[f.name] = parse(raw)
        except ValueError:
            raise ConfigError(
                f"Environment variable {name}={raw!r} is not a {kind}.",
                fix=f"Set it to a {kind}.",
                message_zh=f"环境变量 {name}={raw!r} 不是有效的 {kind}。",
                fix_zh="请改为正确的值。",
            ) from None
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(Settings(), **values)
