"""wxauth as an OpenID Provider, seen by Python's Authlib (docs/oidc-clients.md).

Authlib's ``OAuth2Session`` (requests) does the relying party's OAuth side: the
authorization URL with PKCE (``code_challenge_method='S256'``), state and nonce, the state
check on the way back, the code exchange with client_secret_basic, client_secret_post or
none, and the userinfo call. The ID token is checked as Authlib's own OpenID client does
it (``OpenIDMixin.parse_id_token``): signature against the provider's JWKS with joserfc,
then ``authlib.oidc.core.CodeIDToken`` for iss, aud, exp, iat, nonce and at_hash. The
user's side (browser and WeChat app) is played with plain requests, redirects not followed.

Run with ``.cache/oidc-clients/venv/bin/python -m pytest tests/oidc-clients/`` after
scripts/oidc-clients.sh (scripts/test does). With ``WXAUTH_OIDC_ISSUER`` set, the provider
there (already running, with the clients registered) is tested instead of wxauth-local:
tests/it/lambda_runtime/ so runs these tests against the function binaries under the
runtime emulator.
"""

import json
import os
import selectors
import subprocess
import time
from pathlib import Path
from urllib.parse import parse_qs, quote, urlsplit

import pytest

INSTALL = "scripts/oidc-clients.sh"
try:
    import requests
    from authlib.common.security import generate_token
    from authlib.integrations.base_client import OAuthError
    from authlib.integrations.requests_client import OAuth2Session
    from authlib.oauth2.rfc6749.errors import MismatchingStateException
    from authlib.oidc.core import CodeIDToken
    from joserfc import jwt
    from joserfc.errors import InvalidClaimError
    from joserfc.jwk import KeySet
    from joserfc.jws import JWSRegistry
except ImportError as missing:  # pragma: no cover - depends on the machine
    reason = f"Authlib is not installed in .cache/oidc-clients/venv ({missing}; run {INSTALL})"
    if os.environ.get("CI"):
        raise RuntimeError(f"relying-party tests cannot run: {reason}") from missing
    print(f"skipped: {reason}")
    pytest.skip(reason, allow_module_level=True)

ROOT = Path(__file__).resolve().parents[2]

# From clients.json, which the function binaries' run (tests/it/lambda_runtime/) registers
# too. basic: a secret with `+` and `%`: Authlib 1.9's client_secret_basic puts the secret
# into the Basic header without the form-urlencoding RFC 6749 §2.3.1 asks for; the provider
# takes either form of the one secret (docs/oidc-clients.md). post: a registered redirect
# URI with a query of its own, which Authlib sends back exactly. public: no secret (PKCE).
CLIENTS = json.loads((ROOT / "tests/oidc-clients/clients.json").read_text(encoding="utf-8"))["authlib"]
# An already running provider to test instead of starting wxauth-local, with CLIENTS
# registered (tests/it/lambda_runtime/ runs the function binaries under the runtime
# emulator so).
EXTERNAL_ISSUER = os.environ.get("WXAUTH_OIDC_ISSUER", "").rstrip("/") or None
AUTH_METHODS = {"basic": "client_secret_basic", "post": "client_secret_post", "public": "none"}


def local_binary():
    """$WXAUTH_LOCAL_BIN, else what `cargo build -p wxauth-local` makes."""
    if os.environ.get("WXAUTH_LOCAL_BIN"):
        return os.environ["WXAUTH_LOCAL_BIN"]
    build = subprocess.run(
        [
            "cargo", "build", "-p", "wxauth-local", "--bin", "wxauth-local", "--locked",
            "--message-format=json-render-diagnostics",
        ],
        cwd=ROOT, stdout=subprocess.PIPE, text=True, check=True,
    )
    for line in build.stdout.splitlines():
        if line.startswith("{"):
            message = json.loads(line)
            target = message.get("target") or {}
            if (
                message.get("reason") == "compiler-artifact"
                and target.get("name") == "wxauth-local"
                and message.get("executable")
            ):
                return message["executable"]
    raise RuntimeError("cargo build named no wxauth-local executable")


class Provider:
    """wxauth-local in demo mode on a free port, with CLIENTS registered."""

    def __init__(self):
        env = {
            "PATH": os.environ["PATH"],
            "HOME": os.environ.get("HOME", "/"),
            "PORT": "0",
            "RUST_LOG": "warn",
            "OIDC_CLIENTS": json.dumps(list(CLIENTS.values())),
        }
        self.process = subprocess.Popen(
            [local_binary()], cwd=ROOT, env=env, stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
        )
        # The banner, read unbuffered until its last line (the signing key) is complete.
        banner = b""
        selector = selectors.DefaultSelector()
        selector.register(self.process.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + 30
        while not (b"signing key" in banner and banner.endswith(b"\n")):
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"wxauth-local did not start: {banner.decode(errors='replace')}")
            if selector.select(timeout=1):
                banner += os.read(self.process.stdout.fileno(), 4096)
        selector.close()
        self.issuer = banner.decode().split("open ", 1)[1].split("/ ", 1)[0]

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


class ExternalProvider:
    """The provider at WXAUTH_OIDC_ISSUER, started by whoever set it."""

    def __init__(self, issuer):
        self.issuer = issuer

    def stop(self):
        pass


@pytest.fixture(scope="module")
def provider():
    running = ExternalProvider(EXTERNAL_ISSUER) if EXTERNAL_ISSUER else Provider()
    yield running
    running.stop()


@pytest.fixture(scope="module")
def metadata(provider):
    return requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=10).json()


def user_logs_in(authorization_url, user, allow=True):
    """The browser and the WeChat app: /oauth2/authorize (302 to WeChat, and a cookie
    binding this browser to the login), WeChat's page (a consent sheet for the profile
    scope, answered with `allow`), the provider's callback (with the cookie), and the
    redirect back to the relying party, whose URL is returned."""
    start = requests.get(authorization_url, allow_redirects=False, timeout=10)
    assert start.status_code == 302, start.text
    wechat_url = start.headers["location"].split("#")[0]
    assert start.cookies, "no browser-binding cookie"
    binding = "; ".join(f"{c.name}={c.value}" for c in start.cookies)
    user_cookie = {"cookie": f"wechat_sim_user={quote(user)}"}
    wechat = requests.get(wechat_url, headers=user_cookie, allow_redirects=False, timeout=10)
    if wechat.status_code == 200:
        page, query = wechat_url.split("?", 1)
        decision = "allow" if allow else "deny"
        wechat = requests.get(f"{page}/confirm?{query}&decision={decision}", headers=user_cookie,
                              allow_redirects=False, timeout=10)
    assert wechat.status_code == 302, wechat.text
    callback = requests.get(wechat.headers["location"], headers={"cookie": binding},
                            allow_redirects=False, timeout=10)
    assert callback.status_code == 302, callback.text
    return callback.headers["location"]


def session(kind, scope):
    client = CLIENTS[kind]
    return OAuth2Session(
        client_id=client["client_id"],
        client_secret=client.get("client_secret"),
        scope=scope,
        redirect_uri=client["redirect_uris"][0],
        token_endpoint_auth_method=AUTH_METHODS[kind],
        code_challenge_method="S256",
    )


def login(metadata, kind, scope, user, allow=True):
    """Starts a login with PKCE, state and nonce (Authlib's generators), lets the user
    through; returns the session, what it must check and the redirect back."""
    oauth = session(kind, scope)
    verifier = generate_token(48)
    nonce = generate_token(20)
    url, state = oauth.create_authorization_url(
        metadata["authorization_endpoint"], code_verifier=verifier, nonce=nonce
    )
    query = parse_qs(urlsplit(url).query)
    assert query["code_challenge_method"] == ["S256"]
    assert query["state"] == [state]
    redirect = user_logs_in(url, user, allow)
    return oauth, {"code_verifier": verifier, "nonce": nonce, "state": state}, redirect


def exchange(oauth, metadata, checks, redirect):
    """The callback: Authlib checks the state and redeems the code."""
    return oauth.fetch_token(
        metadata["token_endpoint"],
        authorization_response=redirect,
        state=checks["state"],
        code_verifier=checks["code_verifier"],
    )


def id_token_claims(metadata, client_id, token, nonce):
    """As Authlib's OpenIDMixin.parse_id_token: the signature against the JWKS, then
    CodeIDToken's claim checks (iss, aud, exp, iat, nonce, at_hash)."""
    jwks = requests.get(metadata["jwks_uri"], timeout=10).json()
    decoded = jwt.decode(
        token["id_token"],
        key=KeySet.import_key_set(jwks),
        registry=JWSRegistry(algorithms=metadata["id_token_signing_alg_values_supported"]),
    )
    claims = CodeIDToken(
        decoded.claims,
        decoded.header,
        {"iss": {"essential": True, "values": [metadata["issuer"]]}},
        {"nonce": nonce, "client_id": client_id, "access_token": token["access_token"]},
    )
    claims.validate(leeway=60)
    assert decoded.header["alg"] == "RS256" and decoded.header["kid"]
    return claims


def assert_redirect(provider, kind, redirect, state):
    """The authorization response: the registered URI, code, state and iss (RFC 9207)."""
    registered = CLIENTS[kind]["redirect_uris"][0]
    assert redirect.split("?")[0] == registered.split("?")[0]
    query = parse_qs(urlsplit(redirect).query)
    assert query["state"] == [state]
    assert query["iss"] == [provider.issuer]
    for name, values in parse_qs(urlsplit(registered).query).items():
        assert query[name] == values, "the registered URI's own query is kept"
    return query


def test_discovery(provider, metadata):
    assert metadata["issuer"] == provider.issuer
    assert "S256" in metadata["code_challenge_methods_supported"]
    assert {"client_secret_basic", "client_secret_post", "none"} <= set(
        metadata["token_endpoint_auth_methods_supported"]
    )
    assert metadata["authorization_response_iss_parameter_supported"] is True


@pytest.mark.parametrize(
    "kind, scope, user",
    [
        ("basic", "openid", "alice"),
        ("basic", "openid profile", "张小龙"),
        ("post", "openid", "bob"),
        ("post", "openid profile", "Bob Li"),
        ("public", "openid", "carol"),
        ("public", "openid profile", "carol"),
    ],
)
def test_login(provider, metadata, kind, scope, user):
    oauth, checks, redirect = login(metadata, kind, scope, user)
    assert_redirect(provider, kind, redirect, checks["state"])
    token = exchange(oauth, metadata, checks, redirect)
    assert token["token_type"].lower() == "bearer"
    assert token["scope"] == scope
    claims = id_token_claims(metadata, CLIENTS[kind]["client_id"], token, checks["nonce"])
    assert claims["sub"] == claims["openid"]
    assert abs(claims["auth_time"] - time.time()) < 60
    userinfo = oauth.get(metadata["userinfo_endpoint"], timeout=10)
    assert userinfo.status_code == 200, userinfo.text
    info = userinfo.json()
    assert info["sub"] == claims["sub"]
    if scope == "openid profile":
        assert claims["name"] == user and info["name"] == user
        assert claims["unionid"] and info["unionid"] == claims["unionid"]
    else:
        assert "name" not in claims and "name" not in info


def test_a_wrong_nonce_is_refused(metadata):
    oauth, checks, redirect = login(metadata, "public", "openid", "dave")
    token = exchange(oauth, metadata, checks, redirect)
    with pytest.raises(InvalidClaimError, match="nonce"):
        id_token_claims(metadata, "py-public", token, generate_token(20))
    # And the one sent passes.
    id_token_claims(metadata, "py-public", token, checks["nonce"])


def test_a_wrong_state_is_refused_before_the_token_endpoint(metadata):
    oauth, checks, redirect = login(metadata, "basic", "openid", "erin")
    with pytest.raises(MismatchingStateException):
        exchange(oauth, metadata, {**checks, "state": generate_token(30)}, redirect)
    # The code was not spent: with the right state it is redeemed.
    token = exchange(oauth, metadata, checks, redirect)
    id_token_claims(metadata, "py-basic", token, checks["nonce"])


def test_a_replayed_code_is_invalid_grant_and_revokes_the_access_token(metadata):
    oauth, checks, redirect = login(metadata, "post", "openid profile", "frank")
    token = exchange(oauth, metadata, checks, redirect)
    assert oauth.get(metadata["userinfo_endpoint"], timeout=10).status_code == 200
    with pytest.raises(OAuthError) as refused:
        exchange(session("post", "openid profile"), metadata, checks, redirect)
    assert refused.value.error == "invalid_grant"
    after = oauth.get(metadata["userinfo_endpoint"], timeout=10)
    assert after.status_code == 401
    assert 'error="invalid_token"' in after.headers["www-authenticate"]


def test_a_wrong_pkce_verifier_is_invalid_grant(metadata):
    oauth, checks, redirect = login(metadata, "public", "openid", "grace")
    with pytest.raises(OAuthError) as refused:
        exchange(oauth, metadata, {**checks, "code_verifier": generate_token(48)}, redirect)
    assert refused.value.error == "invalid_grant"


def test_a_declined_consent_is_access_denied_with_iss(provider, metadata):
    _, checks, redirect = login(metadata, "basic", "openid profile", "heidi", allow=False)
    query = assert_redirect(provider, "basic", redirect, checks["state"])
    assert query["error"] == ["access_denied"]
    assert "code" not in query
