"""Sign-in through a unified identity platform (统一身份认证): the OpenID Connect provider as
guotu speaks to it.

The protocol is Authlib's: the authorization request (:func:`authorization_url`, the
authorization-code flow with PKCE S256, ``state`` and ``nonce``), the client's
authentication at the token endpoint (``client_secret_basic``, or ``client_secret_post``
when the provider offers only that) and the ID token's claims (``CodeIDToken``: ``iss``,
``aud``, ``azp``, ``exp``, ``iat``, ``nonce``, ``at_hash``), its signature checked by joserfc
(Authlib's JOSE library) against the provider's published keys (JWKS). The provider is found
through its discovery document (``<issuer>/.well-known/openid-configuration``), kept for
``metadata_ttl_s``; the keys are fetched again when a token names a key id they lack (the
provider rotated its keys).

HTTP goes through the standard library (``urllib``) with a timeout, the TLS certificate
checked against ``ca_file`` or the system's store. A provider that cannot be reached, answers
with a server error or with a document that is not what OpenID Connect says is a
:class:`~guotu.errors.DirectoryUnavailableError` (HTTP 503) naming its host only. A code the
provider refuses, or an ID token that fails a check, is an
:class:`~guotu.errors.AuthenticationError` whose English message is the reason (for the audit
log; a person is shown one sentence by :mod:`guotu.services.identity_oidc`).
"""

from __future__ import annotations

import json
import logging
import re
import ssl
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from http.client import HTTPException
from ipaddress import ip_address
from typing import Any
from urllib.parse import urlencode, urlsplit

from authlib.oauth2.auth import ClientAuth
from authlib.oauth2.rfc6749.parameters import prepare_grant_uri
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import InvalidKeyIdError, JoseError
from joserfc.jwk import KeySet
from joserfc.jws import JWSRegistry

from guotu.errors import AuthenticationError, ConfigError, DirectoryUnavailableError

__all__ = ["OidcProvider", "OidcSettings", "ProviderEndpoints", "is_local_http"]

log = logging.getLogger(__name__)

#: Signature algorithms an ID token may use (never ``none``, never a shared-secret HMAC).
_SIGNING = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512")
#: Largest answer read from the provider.
_MAX_BYTES = 1024 * 1024
#: What an OAuth error code may look like (RFC 6749 §5.2); anything else is not repeated.
_ERROR_CODE = re.compile(r"^[a-z_]{1,40}$")


def is_local_http(url: str) -> bool:
    """Whether ``url`` is plain ``http://`` to this machine (allowed for tests and a
    provider on the same host; anything else must be ``https://``).

    Examples
    --------
    >>> is_local_http("http://127.0.0.1:8080/realms/x"), is_local_http("http://idp.gov.cn")
    (True, False)
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        return parts.scheme == "http" and (host == "localhost" or ip_address(host).is_loopback)
    except ValueError:
        return False


@dataclass(frozen=True)
class OidcSettings:
    """The provider (``issuer``) and guotu's registration with it.

    Examples
    --------
    >>> s = OidcSettings("https://idp.example.gov.cn/realms/gov", "guotu", "s3cret")
    >>> s.host_port, "s3cret" in repr(s)
    ('idp.example.gov.cn:443', False)
    """

    issuer: str
    client_id: str
    client_secret: str = field(repr=False)
    scopes: tuple[str, ...] = ("openid", "profile", "email")
    ca_file: str | None = None
    timeout_s: float = 10.0
    leeway_s: int = 60
    metadata_ttl_s: float = 3600.0

    def __post_init__(self) -> None:
        try:
            parts = urlsplit(self.issuer)
        except ValueError:
            parts = urlsplit("")
        problems = [
            (
                not parts.hostname or not (parts.scheme == "https" or is_local_http(self.issuer)),
                f"The OIDC issuer {self.issuer!r} is not an https:// URL with a host.",
                f"统一身份认证地址（issuer）{self.issuer!r} 不是带主机名的 https:// 地址。",
            ),
            (
                not self.client_id or not self.client_secret,
                "The OIDC client id and client secret must both be given.",
                "统一身份认证的客户端编号（client_id）和密钥须同时提供。",
            ),
            (
                "openid" not in self.scopes,
                "The OIDC scopes must include openid.",
                "统一身份认证的授权范围（scopes）须包含 openid。",
            ),
            (
                self.timeout_s <= 0 or self.leeway_s < 0,
                "The OIDC timeout must be more than 0 seconds and the leeway not negative.",
                "统一身份认证的超时时间须大于 0 秒，时钟容差不能为负。",
            ),
        ]
        for is_wrong, message, message_zh in problems:
            if is_wrong:
                raise ConfigError(
                    message,
                    message_zh=message_zh,
                    fix="Correct the OIDC settings.",
                    fix_zh="请修改统一身份认证（OIDC）设置。",
                )

    @property
    def host_port(self) -> str:
        """``host:port`` of the provider, the only part of it an error message names."""
        parts = urlsplit(self.issuer)
        return f"{parts.hostname}:{parts.port or (443 if parts.scheme == 'https' else 80)}"


@dataclass(frozen=True)
class ProviderEndpoints:
    """What guotu uses of the provider's discovery document."""

    issuer: str
    authorization_endpoint: str
    token_endpoint: str
    jwks_uri: str
    userinfo_endpoint: str | None
    signing_algorithms: tuple[str, ...]
    token_auth_method: str


class OidcProvider:
    """One OpenID provider: its endpoints and keys (fetched once, shared by every request;
    thread-safe), the authorization URL, and the redemption of a code for checked claims."""

    def __init__(self, settings: OidcSettings) -> None:
        self.settings = settings
        try:
            context = ssl.create_default_context(cafile=settings.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"The OIDC CA certificate file {settings.ca_file!r} cannot be read.",
                field="oidc_ca_file",
                fix="Give the path of a PEM file with the CA certificate.",
                message_zh=f"无法读取统一身份认证的 CA 证书文件 {settings.ca_file!r}。",
                fix_zh="请填写 PEM 格式 CA 证书文件的路径。",
            ) from exc
        self._opener = urllib.request.build_opener(urllib.request.HTTPSHandler(context=context))
        self._lock = threading.Lock()
        self._endpoints: ProviderEndpoints | None = None
        self._fetched_at = 0.0
        self._keys: KeySet | None = None

    # -- discovery and keys -----------------------------------------------------------------
    def endpoints(self) -> ProviderEndpoints:
        """The provider's endpoints, from its discovery document (cached).

        Raises
        ------
        DirectoryUnavailableError
            The provider cannot be reached, or its document is not a usable one.
        """
        with self._lock:
            fresh = time.monotonic() - self._fetched_at < self.settings.metadata_ttl_s
            if self._endpoints is not None and fresh:
                return self._endpoints
        url = self.settings.issuer.rstrip("/") + "/.well-known/openid-configuration"
        status, doc = self._call(url)
        if status != 200:
            raise self._unavailable(f"answers discovery with HTTP {status}", "发现文档请求失败")
        found = self._parse_endpoints(doc)
        with self._lock:
            if found != self._endpoints:
                self._keys = None
            self._endpoints, self._fetched_at = found, time.monotonic()
        return found

    def _parse_endpoints(self, doc: Mapping[str, Any]) -> ProviderEndpoints:
        def text(name: str) -> str:
            value = doc.get(name)
            if not isinstance(value, str) or not value:
                log.warning("OIDC provider %s: discovery lacks %s", self.settings.host_port, name)
                raise self._unavailable(
                    "publishes an incomplete discovery document", "发现文档不完整"
                )
            return value

        if text("issuer") != self.settings.issuer:  # OpenID Connect Discovery §4.3
            log.warning("OIDC provider %s names issuer %r", self.settings.host_port, doc["issuer"])
            raise self._unavailable("names another issuer", "发现文档中的 issuer 与设置不符")
        methods = doc.get("code_challenge_methods_supported")
        if isinstance(methods, list) and "S256" not in methods:
            raise self._unavailable("does not support PKCE S256", "不支持 PKCE（S256）")
        offered = doc.get("id_token_signing_alg_values_supported")
        algorithms = tuple(a for a in _SIGNING if isinstance(offered, list) and a in offered)
        auth = doc.get("token_endpoint_auth_methods_supported")
        methods_offered = auth if isinstance(auth, list) else ["client_secret_basic"]
        is_post = (
            "client_secret_basic" not in methods_offered and "client_secret_post" in methods_offered
        )
        userinfo = doc.get("userinfo_endpoint")
        return ProviderEndpoints(
            issuer=self.settings.issuer,
            authorization_endpoint=text("authorization_endpoint"),
            token_endpoint=text("token_endpoint"),
            jwks_uri=text("jwks_uri"),
            userinfo_endpoint=userinfo if isinstance(userinfo, str) and userinfo else None,
            signing_algorithms=algorithms or ("RS256",),
            token_auth_method="client_secret_post" if is_post else "client_secret_basic",
        )

    def _key_set(self, endpoints: ProviderEndpoints, *, refresh: bool = False) -> KeySet:
        with self._lock:
            if self._keys is not None and not refresh:
                return self._keys
        status, doc = self._call(endpoints.jwks_uri)
        try:
            if status != 200:
                raise ValueError(f"HTTP {status}")
            keys = KeySet.import_key_set(doc)  # type: ignore[arg-type]
        except (ValueError, TypeError, KeyError, JoseError) as exc:
            log.warning("OIDC provider %s: JWKS unusable: %s", self.settings.host_port, exc)
            raise self._unavailable("publishes no usable signing keys", "签名公钥不可用") from None
        with self._lock:
            self._keys = keys
        return keys

    # -- the flow ---------------------------------------------------------------------------
    def authorization_url(
        self, *, redirect_uri: str, state: str, nonce: str, code_verifier: str
    ) -> str:
        """Where the browser is sent to sign in (the code flow, PKCE S256).

        Raises
        ------
        DirectoryUnavailableError
            The provider's discovery document cannot be had.
        """
        endpoints = self.endpoints()
        url: str = prepare_grant_uri(
            endpoints.authorization_endpoint,
            self.settings.client_id,
            "code",
            redirect_uri=redirect_uri,
            scope=list(self.settings.scopes),
            state=state,
            nonce=nonce,
            code_challenge=create_s256_code_challenge(code_verifier),
            code_challenge_method="S256",
        )
        return url

    def redeem(
        self,
        code: str,
        *,
        redirect_uri: str,
        code_verifier: str,
        nonce: str,
        wanted: Collection[str] = (),
    ) -> dict[str, Any]:
        """The checked claims of the person a code stands for: the ID token's, with what
        the userinfo endpoint adds when the ID token lacks one of the ``wanted`` claims (its
        ``sub`` must be the ID token's).

        Raises
        ------
        AuthenticationError
            The provider refuses the code, or the ID token fails a check (the English
            message says which, for the audit log).
        DirectoryUnavailableError
            The provider cannot be reached or answers with a server error.
        """
        endpoints = self.endpoints()
        body = urlencode(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": code_verifier,
            }
        )
        auth = ClientAuth(
            self.settings.client_id, self.settings.client_secret, endpoints.token_auth_method
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded"}
        _uri, headers, body = auth.prepare("POST", endpoints.token_endpoint, headers, body)
        status, doc = self._call(endpoints.token_endpoint, body=str(body), headers=headers)
        if status >= 500 or status in (404, 405):
            raise self._unavailable(f"answers the token request with HTTP {status}", "令牌接口出错")
        if status != 200:
            error = doc.get("error")
            shown = error if isinstance(error, str) and _ERROR_CODE.match(error) else "?"
            raise _refused(f"the provider refused the code ({shown}, HTTP {status})")
        id_token, access_token = doc.get("id_token"), doc.get("access_token")
        if not isinstance(id_token, str) or not id_token:
            raise _refused("the provider answered without an ID token")
        access = access_token if isinstance(access_token, str) and access_token else None
        claims = self._checked_claims(endpoints, id_token, nonce, access)
        if access is None or all(name in claims for name in wanted):
            return claims
        info = self._user_info(endpoints, access)
        if info and info.get("sub") != claims.get("sub"):
            raise _refused("the userinfo endpoint names another subject than the ID token")
        return {**info, **claims}

    def _checked_claims(
        self, endpoints: ProviderEndpoints, id_token: str, nonce: str, access_token: str | None
    ) -> dict[str, Any]:
        registry = JWSRegistry(algorithms=list(endpoints.signing_algorithms))
        try:
            try:
                token = jwt.decode(id_token, self._key_set(endpoints), registry=registry)
            except InvalidKeyIdError:  # the provider may have rotated its keys
                keys = self._key_set(endpoints, refresh=True)
                token = jwt.decode(id_token, keys, registry=registry)
            params: dict[str, Any] = {"nonce": nonce, "client_id": self.settings.client_id}
            if access_token:
                params["access_token"] = access_token
            options = {
                "iss": {"essential": True, "value": endpoints.issuer},
                "aud": {"essential": True, "value": self.settings.client_id},
                "exp": {"essential": True},
            }
            claims = CodeIDToken(token.claims, token.header, options, params)
            claims.validate(leeway=self.settings.leeway_s)
        except JoseError as exc:
            raise _refused(f"the ID token fails a check ({exc.error}: {exc.description})") from None
        return dict(claims)

    def _user_info(self, endpoints: ProviderEndpoints, access_token: str) -> dict[str, Any]:
        """The userinfo endpoint's claims for an access token (``{}`` without the endpoint).

        Raises
        ------
        AuthenticationError
            The endpoint refuses the token.
        DirectoryUnavailableError
            The provider cannot be reached or answers with a server error.
        """
        if endpoints.userinfo_endpoint is None:
            return {}
        headers = {"Authorization": f"Bearer {access_token}"}
        status, doc = self._call(endpoints.userinfo_endpoint, headers=headers)
        if status >= 500:
            raise self._unavailable(f"answers userinfo with HTTP {status}", "用户信息接口出错")
        if status != 200:
            raise _refused(f"the userinfo endpoint refused the access token (HTTP {status})")
        return dict(doc)

    # -- HTTP -------------------------------------------------------------------------------
    def _call(
        self, url: str, *, body: str | None = None, headers: Mapping[str, str] | None = None
    ) -> tuple[int, dict[str, Any]]:
        """``(status, JSON object)`` of a GET (or a form POST with ``body``); an error
        answer's JSON, or ``{}``.

        Raises
        ------
        DirectoryUnavailableError
            No answer, a TLS failure, an answer too large, or a 200 that is not JSON.
        """
        request = urllib.request.Request(
            url,
            data=body.encode("utf-8") if body is not None else None,
            headers={"Accept": "application/json", **(headers or {})},
            method="POST" if body is not None else "GET",
        )
        try:
            with self._opener.open(request, timeout=self.settings.timeout_s) as answer:
                status, raw = int(answer.status), answer.read(_MAX_BYTES + 1)
        except urllib.error.HTTPError as exc:
            with exc:
                status, raw = int(exc.code), exc.read(_MAX_BYTES + 1)
        except (urllib.error.URLError, OSError, HTTPException, ValueError) as exc:
            log.warning(
                "OIDC provider %s: %s: %s", self.settings.host_port, type(exc).__name__, exc
            )
            raise self._unavailable("cannot be reached", "无法连接") from exc
        if len(raw) > _MAX_BYTES:
            raise self._unavailable("answers with too much data", "返回的数据过大")
        try:
            doc = json.loads(raw) if raw else {}
        except ValueError:
            doc = None
        if not isinstance(doc, dict):
            if status == 200:
                raise self._unavailable(
                    "answers with something that is not JSON", "返回的不是 JSON"
                )
            doc = {}
        return status, doc

    def _unavailable(self, what: str, what_zh: str) -> DirectoryUnavailableError:
        where = self.settings.host_port
        return DirectoryUnavailableError(
            f"The unified identity provider {where} {what}: nobody can sign in through it now.",
            fix="Sign in with a local account, or ask the administrator to check that the "
            "identity provider is running and reachable and the OIDC settings.",
            message_zh=f"统一身份认证平台 {where} {what_zh}，暂时不能通过统一身份认证登录。",
            fix_zh="请稍后重试或使用本系统账号登录；也可请管理员检查统一身份认证平台是否正常、"
            "本机能否访问，以及 OIDC 设置。",
        )


def _refused(reason: str) -> AuthenticationError:
    """A refusal whose English message is the reason (the audit log's); the person sees
    the service's one sentence."""
    return AuthenticationError(
        reason,
        message_zh="统一身份认证未通过。",
        fix_zh="请重新登录。",
    )
