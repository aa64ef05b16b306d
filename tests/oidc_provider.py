"""A small but real OpenID Provider for the tests of the unified sign-in (统一身份认证).

Built from Authlib's own server components (an ``AuthorizationServer`` with the
authorization-code grant, the PKCE extension and the OpenID Connect ``OpenIDCode``
extension) behind a Starlette app that uvicorn serves on a free loopback port in a thread:
discovery, JWKS (an RSA key made at start), the authorization endpoint (a page listing the
test users, or ``?user=<name>`` to choose one at once, ``?deny=1`` to refuse), the token
endpoint (client id and secret, code, PKCE verifier, redirect URI; an RS256 ID token with
``nonce``, ``aud``, ``iss``, ``exp`` and the claims ``preferred_username``, ``name``,
``department``, ``groups``) and userinfo.

It misbehaves on demand (:attr:`TestProvider.faults`): ``nonce`` (another nonce),
``audience`` (another client), ``expired`` (an ID token that expired 10 minutes ago),
``signature`` (signed by a key it does not publish), ``issuer`` (another issuer),
``claims_in_userinfo`` (the ID token without the person's claims; userinfo has them),
``token_error`` (the token endpoint answers 500). PKCE S256 is required of every
authorization request.
"""

from __future__ import annotations

import hmac
import html
import secrets
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, ClassVar

import uvicorn
from authlib.oauth2 import AuthorizationServer, OAuth2Request
from authlib.oauth2.rfc6749 import OAuth2Payload, grants
from authlib.oauth2.rfc6749.errors import InvalidRequestError, OAuth2Error
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

CLIENT_ID = "guotu-test"
CLIENT_SECRET = "s3cret-for-tests-only"
#: The people the provider knows: user name → (name, department, groups).
PEOPLE: dict[str, tuple[str, str, list[str]]] = {
    "zhangwei": ("张伟", "国土空间规划科", ["guotu-editors", "guotu-viewers"]),
    "lina": ("李娜", "gengdi", ["guotu-reviewers"]),
    "wangfang": ("王芳", "某不存在的科室", []),
    "both": ("两职", "国土空间规划科", ["guotu-admins", "guotu-auditors"]),
}
FAULTS = frozenset(
    {"nonce", "audience", "expired", "signature", "issuer", "claims_in_userinfo", "token_error"}
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@dataclass
class _Client:
    """The one registered client (Authlib's ``ClientMixin``)."""

    redirect_uris: list[str]
    client_id: str = CLIENT_ID
    client_secret: str = CLIENT_SECRET

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> str:
        return self.redirect_uris[0]

    def get_allowed_scope(self, scope: str) -> str:
        return " ".join(s for s in (scope or "").split() if s in ("openid", "profile", "email"))

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method in ("client_secret_basic", "client_secret_post")

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


@dataclass
class _Code:
    """An authorization code (Authlib's ``AuthorizationCodeMixin`` and what PKCE reads)."""

    code: str
    user: str
    redirect_uri: str
    scope: str
    nonce: str | None
    code_challenge: str | None
    code_challenge_method: str | None
    auth_time: int = field(default_factory=lambda: int(time.time()))

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> None:
        return None

    def get_amr(self) -> None:
        return None


class _Payload(OAuth2Payload):  # type: ignore[misc]
    def __init__(self, data: dict[str, str]) -> None:
        self._data = data

    @property
    def data(self) -> dict[str, str]:
        return self._data

    @property
    def datalist(self) -> dict[str, list[str]]:
        return {k: [v] for k, v in self._data.items()}


class _Request(OAuth2Request):  # type: ignore[misc]
    """What Authlib's server reads of a Starlette request (read beforehand: query and form)."""

    def __init__(self, request: Request, form: dict[str, str]) -> None:
        super().__init__(request.method, str(request.url), headers=request.headers)
        self._args = dict(request.query_params)
        self._form = form
        self.payload = _Payload({**self._args, **form})

    @property
    def args(self) -> dict[str, str]:
        return self._args

    @property
    def form(self) -> dict[str, str]:
        return self._form


class TestProvider:
    """The provider: its keys, client, codes and tokens, and the faults to show."""

    __test__ = False  # not a test class, whatever pytest thinks of the name

    def __init__(self) -> None:
        self.key = RSAKey.generate_key(2048, parameters={"kid": "test-key-1", "use": "sig"})
        self.other_key = RSAKey.generate_key(2048)
        self.client = _Client(redirect_uris=[])
        self.codes: dict[str, _Code] = {}
        self.tokens: dict[str, str] = {}  # access token → user name
        self.faults: set[str] = set()
        self.token_requests: list[dict[str, str]] = []
        self.url = ""
        self.server = self._authorization_server()

    @property
    def issuer(self) -> str:
        return self.url

    def rotate_key(self) -> None:
        """A new signing key under a new key id (the old one is no longer published)."""
        number = int(str(self.key.kid).rsplit("-", 1)[1]) + 1
        self.key = RSAKey.generate_key(2048, parameters={"kid": f"test-key-{number}", "use": "sig"})

    # -- Authlib's server, glued to this object -------------------------------------------
    def _authorization_server(self) -> AuthorizationServer:
        provider = self

        class Server(AuthorizationServer):  # type: ignore[misc]
            def query_client(self, client_id: str) -> _Client | None:
                return provider.client if client_id == provider.client.client_id else None

            def save_token(self, token: dict[str, Any], request: Any) -> None:
                provider.tokens[token["access_token"]] = request.user

            def create_oauth2_request(self, request: Any) -> Any:
                return request

            def create_json_request(self, request: Any) -> Any:
                return request

            def handle_response(self, status: int, body: Any, headers: Any) -> Response:
                if isinstance(body, dict):
                    return JSONResponse(body, status_code=status, headers=dict(headers))
                return Response(body or "", status_code=status, headers=dict(headers))

            def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
                return None

        class CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]
            TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [
                "client_secret_basic",
                "client_secret_post",
            ]

            def save_authorization_code(self, code: str, request: Any) -> None:
                data = request.payload.data
                if data.get("code_challenge_method") != "S256" or not data.get("code_challenge"):
                    raise InvalidRequestError("PKCE S256 is required.")
                provider.codes[code] = _Code(
                    code=code,
                    user=request.user,
                    redirect_uri=data.get("redirect_uri", ""),
                    scope=request.payload.scope or "",
                    nonce=data.get("nonce"),
                    code_challenge=data.get("code_challenge"),
                    code_challenge_method=data.get("code_challenge_method"),
                )

            def query_authorization_code(self, code: str, client: _Client) -> _Code | None:
                return provider.codes.get(code)

            def delete_authorization_code(self, authorization_code: _Code) -> None:
                provider.codes.pop(authorization_code.code, None)  # a code is used once

            def authenticate_user(self, authorization_code: _Code) -> str:
                return authorization_code.user

        class Claims(OpenIDCode):  # type: ignore[misc]
            def exists_nonce(self, nonce: str, request: Any) -> bool:
                return any(c.nonce == nonce for c in provider.codes.values())

            def resolve_client_private_key(self, client: _Client) -> RSAKey:
                return provider.other_key if "signature" in provider.faults else provider.key

            def get_client_algorithm(self, client: _Client) -> str:
                return "RS256"

            def get_encode_header(self, client: _Client) -> dict[str, str]:
                return {"alg": "RS256", "kid": provider.key.kid}  # the forger's claims it too

            def get_client_claims(self, client: _Client) -> dict[str, Any]:
                now = int(time.time())
                expired = "expired" in provider.faults
                return {
                    "iss": "https://elsewhere.example"
                    if "issuer" in provider.faults
                    else provider.issuer,
                    "aud": ["someone-else"]
                    if "audience" in provider.faults
                    else [client.client_id],
                    "iat": now - 900 if expired else now,
                    "exp": now - 600 if expired else now + 300,
                }

            def get_authorization_code_claims(self, authorization_code: _Code) -> dict[str, Any]:
                claims: dict[str, Any] = super().get_authorization_code_claims(authorization_code)
                if "nonce" in provider.faults:
                    claims["nonce"] = "not-the-nonce-that-was-sent"
                return claims

            def generate_user_info(self, user: str, scope: str) -> UserInfo:
                if "claims_in_userinfo" in provider.faults:
                    return UserInfo(sub=f"sub-{user}")
                return UserInfo(provider.person(user))

        server = Server(scopes_supported=["openid", "profile", "email"])
        server.register_grant(CodeGrant, [CodeChallenge(required=True), Claims(require_nonce=True)])
        server.register_token_generator(
            "default",
            BearerTokenGenerator(lambda *args, **kwargs: secrets.token_urlsafe(32)),
        )
        return server

    def person(self, user: str) -> dict[str, Any]:
        name, department, groups = PEOPLE[user]
        return {
            "sub": f"sub-{user}",
            "preferred_username": user,
            "name": name,
            "department": department,
            "groups": groups,
        }

    # -- the HTTP endpoints -----------------------------------------------------------------
    def app(self) -> Starlette:
        return Starlette(
            routes=[
                Route("/.well-known/openid-configuration", self.discovery),
                Route("/jwks", self.jwks),
                Route("/authorize", self.authorize, methods=["GET", "POST"]),
                Route("/token", self.token, methods=["POST"]),
                Route("/userinfo", self.userinfo),
            ]
        )

    async def discovery(self, request: Request) -> JSONResponse:
        base = self.url
        return JSONResponse(
            {
                "issuer": base,
                "authorization_endpoint": f"{base}/authorize",
                "token_endpoint": f"{base}/token",
                "jwks_uri": f"{base}/jwks",
                "userinfo_endpoint": f"{base}/userinfo",
                "response_types_supported": ["code"],
                "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "code_challenge_methods_supported": ["S256"],
                "token_endpoint_auth_methods_supported": [
                    "client_secret_basic",
                    "client_secret_post",
                ],
                "scopes_supported": ["openid", "profile", "email"],
                "claims_supported": ["sub", "preferred_username", "name", "department", "groups"],
            }
        )

    async def jwks(self, request: Request) -> JSONResponse:
        return JSONResponse({"keys": [self.key.as_dict(private=False)]})

    async def authorize(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        incoming = _Request(request, form)
        user = incoming.payload.data.get("user")
        try:
            grant = self.server.get_consent_grant(incoming, end_user=user)
        except OAuth2Error as error:
            return JSONResponse(dict(error.get_body()), status_code=error.status_code)
        if incoming.payload.data.get("deny"):
            return self.server.create_authorization_response(incoming, None, grant)
        if user is None:
            return self._choose_page(incoming)
        if user not in PEOPLE:
            return HTMLResponse("unknown user", status_code=400)
        return self.server.create_authorization_response(incoming, user, grant)

    def _choose_page(self, incoming: _Request) -> HTMLResponse:
        """The provider's sign-in page: pick a test user (a form posting everything back)."""
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in incoming.args.items()
        )
        buttons = "".join(
            f'<button type="submit" name="user" value="{u}" data-testid="idp-user-{u}">'
            f"{html.escape(PEOPLE[u][0])}</button>"
            for u in PEOPLE
        )
        return HTMLResponse(
            "<!doctype html><html lang='zh-CN'><meta charset='utf-8'><title>测试统一身份认证</title>"
            f"<form method='post' action='/authorize'>{hidden}{buttons}</form></html>"
        )

    async def token(self, request: Request) -> Response:
        form = {k: str(v) for k, v in (await request.form()).items()}
        self.token_requests.append(form)
        if "token_error" in self.faults:
            return JSONResponse({"error": "server_error"}, status_code=500)
        response: Response = self.server.create_token_response(_Request(request, form))
        return response

    async def userinfo(self, request: Request) -> JSONResponse:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        user = self.tokens.get(token) if scheme.lower() == "bearer" else None
        if user is None:
            return JSONResponse({"error": "invalid_token"}, status_code=401)
        return JSONResponse(self.person(user))


@contextmanager
def serving(provider: TestProvider | None = None) -> Iterator[TestProvider]:
    """The provider served by uvicorn on a free loopback port, in a thread."""
    provider = provider or TestProvider()
    port = free_port()
    provider.url = f"http://127.0.0.1:{port}"
    config = uvicorn.Config(
        provider.app(), host="127.0.0.1", port=port, log_level="warning", lifespan="off", ws="none"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test OpenID provider did not start within 20 s")
        time.sleep(0.02)
    try:
        yield provider
    finally:
        server.should_exit = True
        thread.join(timeout=10)
