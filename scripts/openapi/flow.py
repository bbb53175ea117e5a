"""Whole logins through wxauth-local's simulated WeChat, every gateway answer checked
against docs/openapi.yaml with schemathesis's own checks.

Schemathesis's generated requests never hold a real state, code or access token, so they
reach the gateway's refusals only. This walks the answers they cannot: the redirect to
WeChat, a callback's redirect and form_post page, the token response, userinfo, a replayed
code, an authorization error sent back to the relying party, an HTML error page; QR-code
logins (the demo's Website App `web`), scope=auto inside and outside WeChat (by
User-Agent), and /auth's app and scope refusals. Result tokens' claims are checked against
components/schemas/ResultTokenClaims, their `appid` against the app WeChat was asked for.

Usage: flow.py SPEC BASE_URL CLIENT_ID CLIENT_SECRET REDIRECT_URI RETURN_URL
Prints one line per step ("ok: …" or "FAIL: …") and, last, "flow: N passed, M failed".
"""

import base64
import hashlib
import json
import os
import secrets
import sys
import traceback
from urllib.parse import parse_qs, urlsplit

import jsonschema
import requests
import schemathesis
import yaml
from schemathesis.checks import load_all_checks
from schemathesis.specs.openapi import checks as openapi_checks

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
SPEC, BASE, CLIENT_ID, CLIENT_SECRET, REDIRECT_URI, RETURN_URL = sys.argv[1:7]

import hooks  # noqa: E402,F401 - scripts/openapi/hooks.py: HTML bodies are validated too

load_all_checks()
CHECKS = [
    openapi_checks.status_code_conformance,
    openapi_checks.content_type_conformance,
    openapi_checks.response_headers_conformance,
    openapi_checks.response_schema_conformance,
]
schema = schemathesis.openapi.from_path(SPEC)
with open(SPEC, encoding="utf-8") as spec_file:
    # The result token's payload, as docs/openapi.yaml describes it.
    TOKEN_CLAIMS = jsonschema.Draft202012Validator(
        yaml.safe_load(spec_file)["components"]["schemas"]["ResultTokenClaims"]
    )
passed = failed = 0

# WeChat's in-app browser (iPhone) and a desktop browser, for scope=auto.
IN_WECHAT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
             "Mobile/15E148 MicroMessenger/8.0.50(0x1800322f) NetType/WIFI Language/zh_CN")
DESKTOP = ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/126.0.0.0 Safari/537.36")


def call(session, path, method="GET", expect=None, accept=None, user_agent=None, **case_args):
    """One gateway request, built and validated by schemathesis; returns the response.
    `accept` and `user_agent` go to the transport: the session's `Accept: */*` wins over a
    Case's, and schemathesis sends its own User-Agent."""
    case = schema[path][method].Case(**case_args)
    extra = {}
    if accept:
        extra["Accept"] = accept
    if user_agent:
        extra["User-Agent"] = user_agent
    extra = extra or None
    response = case.call(base_url=BASE, session=session, headers=extra, allow_redirects=False)
    case.validate_response(response, checks=CHECKS, headers=extra)
    if expect is not None and response.status_code != expect:
        raise AssertionError(f"{method} {path}: {response.status_code}, expected {expect}: {response.text[:300]}")
    return response


def step(name, fn):
    global passed, failed
    try:
        fn()
    # schemathesis reports failed checks as an exception group (not an Exception).
    except (Exception, BaseExceptionGroup):  # noqa: BLE001 - every failure is reported and counted
        failed += 1
        print(f"FAIL: {name}", flush=True)
        traceback.print_exc()
    else:
        passed += 1
        print(f"ok: {name}", flush=True)


def through_wechat(session, location, decision="allow"):
    """Follows the simulated WeChat (a consent page for snsapi_userinfo) back to the
    gateway; returns the callback's path and query."""
    response = session.get(location, allow_redirects=False)
    if response.status_code == 200:  # the consent page: confirm as a user would
        parts = urlsplit(location)
        response = session.get(
            f"{parts.scheme}://{parts.netloc}{parts.path}/confirm?{parts.query}&decision={decision}",
            allow_redirects=False,
        )
    assert response.status_code == 302, f"simulated WeChat answered {response.status_code}"
    back = urlsplit(response.headers["location"])
    query = {k: v[0] for k, v in parse_qs(back.query, keep_blank_values=True).items()}
    return back.path, query


def location(response):
    return response.headers["location"][0]


def query_of(url):
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


def token_claims(result, to_wechat, scope):
    """The result token's claims, checked against ResultTokenClaims: its subject the openid
    shown, its scope, and its `appid` the app the login was sent to WeChat with (the
    signature is the Rust and browser tests' business)."""
    payload = result["token"].split(".")[1]
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    TOKEN_CLAIMS.validate(claims)
    assert claims["sub"] == result["openid"], (claims, result)
    assert claims["scope"] == scope, claims
    assert claims["appid"] == query_of(to_wechat)["appid"], (claims, to_wechat)
    assert claims.get("unionid") == result.get("unionid"), (claims, result)
    return claims


def redirect_mode_query():
    session = requests.Session()
    started = call(session, "/auth", expect=302, query={"url": RETURN_URL, "scope": "snsapi_base"})
    path, query = through_wechat(session, location(started))
    assert path == "/getOpenId", path
    back = call(session, path, expect=302, query=query)
    result = query_of(location(back))
    assert location(back).startswith(RETURN_URL), location(back)
    assert result.get("openid") and result.get("token"), result
    token_claims(result, location(started), "snsapi_base")


def qr_login():
    session = requests.Session()
    started = call(session, "/auth", expect=302,
                   query={"url": RETURN_URL, "scope": "snsapi_login", "app": "web"})
    assert "/connect/qrconnect?" in location(started), location(started)
    path, query = through_wechat(session, location(started))
    assert path == "/getQrUserInfo", path
    back = call(session, path, expect=302, query=query)
    result = query_of(location(back))
    assert location(back).startswith(RETURN_URL), location(back)
    assert result.get("openid") and result.get("unionid") and result.get("nickname"), result
    token_claims(result, location(started), "snsapi_login")


def scope_auto():
    # Inside WeChat: the Official Account with auto_scope, through to its token.
    session = requests.Session()
    query = {"url": RETURN_URL, "scope": "auto", "auto_scope": "snsapi_userinfo"}
    inside = call(session, "/auth", expect=302, query=query, user_agent=IN_WECHAT)
    assert "/connect/oauth2/authorize?" in location(inside), location(inside)
    assert query_of(location(inside))["scope"] == "snsapi_userinfo", location(inside)
    path, back_query = through_wechat(session, location(inside))
    assert path == "/getWxUserInfo", path
    back = call(session, path, expect=302, query=back_query)
    official = token_claims(query_of(location(back)), location(inside), "snsapi_userinfo")
    # Elsewhere (a desktop browser, or no User-Agent at all): the qr_app's QR page.
    for agent in (DESKTOP, None):
        session = requests.Session()
        outside = call(session, "/auth", expect=302, query=query, user_agent=agent)
        assert "/connect/qrconnect?" in location(outside), (agent, location(outside))
        assert query_of(location(outside))["appid"] != official["appid"], location(outside)
    path, back_query = through_wechat(session, location(outside))
    back = call(session, path, expect=302, query=back_query)
    qr = token_claims(query_of(location(back)), location(outside), "snsapi_login")
    assert qr["unionid"] == official["unionid"] and qr["sub"] != official["sub"], (qr, official)


def auth_refusals():
    cases = [
        ({"app": "nope"}, "invalid_request"),
        ({"scope": "snsapi_login"}, "invalid_scope"),  # the default app is an Official Account
        ({"scope": "snsapi_base", "app": "web"}, "invalid_scope"),
        ({"scope": "snsapi_userinfo", "app": "web"}, "invalid_scope"),
        ({"scope": "auto", "app": "web"}, "invalid_scope"),
        ({"scope": "snsapi_base", "auto_scope": "snsapi_base"}, "invalid_scope"),
        ({"scope": "auto", "auto_scope": "snsapi_login"}, "invalid_scope"),
    ]
    for extra, error in cases:
        query = {"url": RETURN_URL, "scope": "snsapi_base", **extra}
        answer = call(requests.Session(), "/auth", expect=400, query=query, user_agent=DESKTOP).json()
        assert answer["error"] == error, (query, answer)


def redirect_mode_form_post():
    session = requests.Session()
    started = call(
        session,
        "/auth",
        expect=302,
        query={"url": RETURN_URL, "scope": "snsapi_userinfo", "response_mode": "form_post", "nonce": "n 1~"},
    )
    path, query = through_wechat(session, location(started))
    assert path == "/getWxUserInfo", path
    page = call(session, path, expect=200, query=query)
    assert 'name="token"' in page.text and 'name="nickname"' in page.text, page.text[:300]


def redirect_mode_refused():
    session = requests.Session()
    started = call(session, "/auth", expect=302, query={"url": RETURN_URL, "scope": "snsapi_userinfo"})
    path, query = through_wechat(session, location(started), decision="deny")
    back = call(session, path, expect=302, query=query)
    assert query_of(location(back)).get("error") == "access_denied"
    # A repeat in the same browser gets the same answer; in another browser, a 400.
    assert location(call(session, path, expect=302, query=query)) == location(back)
    call(requests.Session(), path, expect=400, query=query)


def oidc_code_flow():
    session = requests.Session()
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    started = call(
        session,
        "/oauth2/authorize",
        expect=302,
        query={
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "response_type": "code",
            "scope": "openid profile",
            "state": "rp-state",
            "nonce": "rp-nonce",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        },
    )
    # Outside WeChat (requests' own User-Agent): the demo's QR app.
    assert "/connect/qrconnect?" in location(started), location(started)
    path, query = through_wechat(session, location(started))
    assert path == "/getQrUserInfo", path
    back = call(session, path, expect=302, query=query)
    result = query_of(location(back))
    assert location(back).startswith(REDIRECT_URI) and result.get("state") == "rp-state", result
    form = {"grant_type": "authorization_code", "code": result["code"], "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier}
    basic = "Basic " + base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    tokens = call(session, "/oauth2/token", "POST", expect=200, body=form, media_type="application/x-www-form-urlencoded",
                  headers={"Authorization": basic}).json()
    bearer = {"Authorization": f"Bearer {tokens['access_token']}"}
    claims = call(session, "/oauth2/userinfo", expect=200, headers=bearer).json()
    assert claims["sub"] and claims.get("name"), claims
    call(session, "/oauth2/userinfo", "POST", expect=200, headers=bearer)
    # client_secret_post, the same code again: invalid_grant, and the grant is revoked.
    again = dict(form, client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    refused = call(session, "/oauth2/token", "POST", expect=400, body=again,
                   media_type="application/x-www-form-urlencoded").json()
    assert refused["error"] == "invalid_grant", refused
    call(session, "/oauth2/userinfo", expect=401, headers=bearer)
    # A wrong secret by Basic: 401 with a Basic challenge.
    wrong = "Basic " + base64.b64encode(f"{CLIENT_ID}:not-the-secret".encode()).decode()
    denied = call(session, "/oauth2/token", "POST", expect=401, body=form,
                  media_type="application/x-www-form-urlencoded", headers={"Authorization": wrong})
    assert denied.headers["www-authenticate"][0].startswith("Basic "), denied.headers


def oidc_error_form_post():
    session = requests.Session()
    page = call(
        session,
        "/oauth2/authorize",
        expect=200,
        query={"client_id": CLIENT_ID, "redirect_uri": REDIRECT_URI, "response_type": "token",
               "scope": "openid", "state": "s", "response_mode": "form_post"},
    )
    assert 'value="unsupported_response_type"' in page.text, page.text[:300]


def html_error_page():
    page = call(requests.Session(), "/auth", expect=400, query={"scope": "snsapi_base"},
                accept="text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
    assert page.headers["content-type"][0].startswith("text/html"), page.headers
    assert "<code>invalid_request</code>" in page.text, page.text[:300]


def oversized_body():
    body = {"grant_type": "authorization_code", "code": "a" * (70 * 1024)}
    call(requests.Session(), "/oauth2/token", "POST", expect=413, body=body,
         media_type="application/x-www-form-urlencoded")


for name, fn in [
    ("redirect mode, query, snsapi_base: 302 to WeChat, callback 302 with openid and token", redirect_mode_query),
    ("redirect mode, form_post, snsapi_userinfo: callback 200 page", redirect_mode_form_post),
    ("redirect mode, refused at WeChat: 302 with access_denied, repeated 302, other browser 400", redirect_mode_refused),
    ("QR login, app=web, snsapi_login: 302 to the QR page, /getQrUserInfo 302, the Website App's appid",
     qr_login),
    ("scope=auto: the Official Account inside WeChat, the QR page elsewhere, one unionid", scope_auto),
    ("/auth refusals: unknown app 400 invalid_request, scopes an app cannot use 400 invalid_scope",
     auth_refusals),
    ("OIDC code flow with PKCE (by QR code): token 200, userinfo GET/POST 200, replay 400 and 401, wrong secret 401",
     oidc_code_flow),
    ("OIDC authorization error as form_post: 200 page", oidc_error_form_post),
    ("HTML error page for a browser: 400 text/html", html_error_page),
    ("a body over wxauth-local's 64 KiB: 413", oversized_body),
]:
    step(name, fn)
print(f"flow: {passed} passed, {failed} failed")
sys.exit(1 if failed else 0)
