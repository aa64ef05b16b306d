"""The OpenID provider adapter (:mod:`guotu.io.oidc_provider`) against the test provider of
``tests/oidc_provider.py`` over real HTTP: the discovery document and what it must say, the
code redeemed for checked claims, keys fetched again when the provider rotates them, and
the settings it refuses."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2 as httpx
import pytest

from guotu.errors import AuthenticationError, ConfigError, DirectoryUnavailableError
from guotu.io.oidc_provider import OidcProvider, OidcSettings

from ..oidc_provider import CLIENT_ID, CLIENT_SECRET, TestProvider, serving

CALLBACK = "http://127.0.0.1:9/auth/oidc/callback"


@pytest.fixture(scope="module")
def idp() -> Iterator[TestProvider]:
    with serving() as provider:
        provider.client.redirect_uris.append(CALLBACK)
        yield provider


def provider_of(idp: TestProvider, ca_file: str | None = None) -> OidcProvider:
    return OidcProvider(OidcSettings(idp.url, CLIENT_ID, CLIENT_SECRET, ca_file=ca_file))


def code_for(provider: OidcProvider, user: str) -> tuple[str, str, str]:
    """(code, verifier, nonce) of one sign-in of ``user`` at the provider."""
    verifier, nonce = secrets.token_urlsafe(48), secrets.token_urlsafe(24)
    url = provider.authorization_url(
        redirect_uri=CALLBACK, state="s" * 32, nonce=nonce, code_verifier=verifier
    )
    answer = httpx.get(f"{url}&{urlencode({'user': user})}", follow_redirects=False)
    code = parse_qs(urlsplit(answer.headers["location"]).query)["code"][0]
    return code, verifier, nonce


def test_the_discovery_document_gives_the_endpoints(idp: TestProvider) -> None:
    found = provider_of(idp).endpoints()
    assert found.token_endpoint == f"{idp.url}/token"
    assert found.jwks_uri == f"{idp.url}/jwks"
    assert found.signing_algorithms == ("RS256",)
    assert found.token_auth_method == "client_secret_basic"


def test_a_provider_naming_another_issuer_is_not_used(idp: TestProvider) -> None:
    # OpenID Connect Discovery §4.3: the document's issuer is exactly the one configured
    provider = OidcProvider(OidcSettings(idp.url + "/", CLIENT_ID, CLIENT_SECRET))
    with pytest.raises(DirectoryUnavailableError) as caught:
        provider.endpoints()
    assert "names another issuer" in str(caught.value)
    assert "与设置不符" in caught.value.render()


def test_a_code_is_redeemed_for_the_checked_claims(idp: TestProvider) -> None:
    provider = provider_of(idp)
    code, verifier, nonce = code_for(provider, "zhangwei")
    claims = provider.redeem(code, redirect_uri=CALLBACK, code_verifier=verifier, nonce=nonce)
    assert (claims["iss"], claims["aud"], claims["nonce"]) == (idp.url, [CLIENT_ID], nonce)
    assert (claims["preferred_username"], claims["groups"]) == (
        "zhangwei",
        ["guotu-editors", "guotu-viewers"],
    )


def test_a_wrong_verifier_is_refused_by_the_provider(idp: TestProvider) -> None:
    provider = provider_of(idp)
    code, _verifier, nonce = code_for(provider, "lina")
    with pytest.raises(AuthenticationError, match=r"refused the code \(invalid_grant"):
        provider.redeem(
            code, redirect_uri=CALLBACK, code_verifier=secrets.token_urlsafe(48), nonce=nonce
        )


def test_keys_are_fetched_again_when_the_provider_rotates_them(idp: TestProvider) -> None:
    provider = provider_of(idp)
    first = code_for(provider, "lina")
    provider.redeem(first[0], redirect_uri=CALLBACK, code_verifier=first[1], nonce=first[2])
    idp.rotate_key()
    code, verifier, nonce = code_for(provider, "lina")
    claims = provider.redeem(code, redirect_uri=CALLBACK, code_verifier=verifier, nonce=nonce)
    assert claims["preferred_username"] == "lina"


@pytest.mark.parametrize(
    ("issuer", "scopes", "zh"),
    [
        ("http://idp.example.gov.cn/realms/gov", ("openid",), "不是带主机名的 https:// 地址"),
        ("https:///realms/gov", ("openid",), "不是带主机名的 https:// 地址"),
        ("https://idp.example.gov.cn", ("profile",), "须包含 openid"),
    ],
)
def test_settings_that_cannot_work_are_refused(
    issuer: str, scopes: tuple[str, ...], zh: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        OidcSettings(issuer, "guotu", "secret", scopes=scopes)
    assert zh in caught.value.render()


def test_an_unreadable_ca_file_is_a_setting_to_fix(idp: TestProvider) -> None:
    with pytest.raises(ConfigError) as caught:
        provider_of(idp, ca_file="/nonexistent/ca.pem")
    assert caught.value.field == "oidc_ca_file"
