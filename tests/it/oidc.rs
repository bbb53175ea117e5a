//! The OpenID Provider end to end: the real handlers (auth, the callbacks, oidc-token,
//! oidc-userinfo) against DynamoDB Local and the WeChat simulator; ID tokens checked with
//! an independent JWT library against the published JWKS.

use std::collections::HashMap;
use std::sync::OnceLock;

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use jsonwebtoken::jwk::{Jwk, JwkSet};
use jsonwebtoken::{DecodingKey, Validation};
use serde_json::Value;
use sha2::{Digest, Sha256};
use wxauth_core::oidc::keys::SigningKeys;
use wxauth_tests::*;

pub(crate) const RP_SECRET: &str = "rp-client-secret+0123456789%41bcdef-xyz";
pub(crate) const RP_REDIRECT: &str = "https://rp.example.com/oidc/callback";
const SPA_REDIRECT: &str = "http://127.0.0.1:8080/cb";
pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// One key set for the whole run: RSA generation is slow in debug builds.
pub fn keys_pem() -> &'static str {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(SigningKeys::generate_pem)
}

fn clients() -> String {
    serde_json::json!([
        {"client_id": "rp", "client_secret": RP_SECRET, "redirect_uris": [RP_REDIRECT], "name": "Relying party"},
        {"client_id": "spa", "redirect_uris": [SPA_REDIRECT]},
    ])
    .to_string()
}

pub(crate) async fn provider() -> TestEnv {
    provider_with(|_| {}).await
}

pub(crate) async fn provider_with(customize: impl FnOnce(&mut Settings)) -> TestEnv {
    TestEnv::start_with(|s| {
        s.vars.insert("OIDC_CLIENTS", clients());
        s.vars.insert("OIDC_SIGNING_KEYS", keys_pem().to_owned());
        customize(s);
    })
    .await
}

pub(crate) async fn authorize(
    env: &TestEnv,
    params: &[(&str, &str)],
) -> aws_lambda_events::apigw::ApiGatewayV2httpResponse {
    env.invoke_on(&env.gateway, "/oauth2/authorize", &encode(params), None)
        .await
}

pub(crate) fn rp_request<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    let mut p = vec![
        ("client_id", "rp"),
        ("redirect_uri", RP_REDIRECT),
        ("response_type", "code"),
        ("scope", "openid profile"),
        ("state", "rp-state-1"),
        ("nonce", "n-0S6_WzA2Mj"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ];
    for (k, v) in extra {
        p.retain(|(name, _)| name != k);
        if !v.is_empty() {
            p.push((k, v));
        }
    }
    p
}

/// Authorization request → WeChat as `user` → callback; the parameters the relying party
/// receives at its redirect URI.
pub(crate) async fn authorization_response(
    env: &TestEnv,
    user: &str,
    params: &[(&str, &str)],
    allow: bool,
) -> HashMap<String, String> {
    let response = authorize(env, params).await;
    assert_eq!(response.status(), 302, "{}", body_text(&response));
    let to_wechat = location(&response).unwrap();
    let callback = env.wechat_authorize(&to_wechat, user, allow).await;
    let back = env.follow_callback(&callback).await;
    assert_eq!(back.status(), 302, "{}", body_text(&back));
    let location = location(&back).unwrap();
    let redirect = params.iter().find(|(k, _)| *k == "redirect_uri").unwrap().1;
    assert!(location.starts_with(redirect), "{location}");
    result_params(&location, false)
}

pub(crate) fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

async fn redeem_rp(
    env: &TestEnv,
    code: &str,
) -> aws_lambda_events::apigw::ApiGatewayV2httpResponse {
    let auth = basic("rp", RP_SECRET);
    env.token_request(
        &[
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", VERIFIER),
        ],
        &[("authorization", &auth)],
    )
    .await
}

/// The relying party `rp` redeems `code` and verifies the ID token against the JWKS:
/// the token response and the ID token's claims.
pub(crate) async fn redeem_and_verify(env: &TestEnv, code: &str) -> (Value, Value) {
    let tokens = json_body(&redeem_rp(env, code).await);
    let claims = verify_id_token(
        tokens["id_token"].as_str().unwrap(),
        &jwks(env).await,
        &env.issuer(),
        "rp",
    );
    (tokens, claims)
}

async fn jwks(env: &TestEnv) -> JwkSet {
    jwks_at(env, "/.well-known/jwks.json").await
}

async fn jwks_at(env: &TestEnv, path: &str) -> JwkSet {
    let response = env.oidc_request("GET", path, "", &[], None).await;
    assert_eq!(response.status(), 200, "{path}");
    serde_json::from_value(json_body(&response)).expect("a JWK set")
}

/// RESULT_SIGNING_KEYS: the result tokens' own keys, never [`keys_pem`]'s.
fn result_keys_pem() -> &'static str {
    static PEM: OnceLock<String> = OnceLock::new();
    PEM.get_or_init(SigningKeys::generate_pem)
}

/// Verifies `token` as a relying party does: the key by `kid` from the JWKS, the
/// algorithm that key names, issuer, audience and expiry.
fn verify_id_token(token: &str, keys: &JwkSet, issuer: &str, audience: &str) -> Value {
    let header = jsonwebtoken::decode_header(token).unwrap();
    let kid = header.kid.expect("a kid");
    let jwk: &Jwk = keys.find(&kid).expect("the kid is published");
    let mut validation = Validation::new(header.alg);
    validation.set_issuer(&[issuer]);
    validation.set_audience(&[audience]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &validation)
        .expect("the ID token verifies against the JWKS")
        .claims
}

/// `GET /oauth2/userinfo` with this `Authorization` header.
pub(crate) async fn userinfo(
    env: &TestEnv,
    authorization: &str,
) -> aws_lambda_events::apigw::ApiGatewayV2httpResponse {
    env.oidc_request(
        "GET",
        "/oauth2/userinfo",
        "",
        &[("authorization", authorization)],
        None,
    )
    .await
}

fn at_hash(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16])
}

fn header<'a>(
    response: &'a aws_lambda_events::apigw::ApiGatewayV2httpResponse,
    name: &str,
) -> &'a str {
    response
        .headers
        .get(name)
        .map(|v| v.to_str().unwrap())
        .unwrap_or_default()
}

#[tokio::test]
async fn discovery_and_jwks_describe_the_provider() {
    let env = provider().await;
    let response = env
        .oidc_request("GET", "/.well-known/openid-configuration", "", &[], None)
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
    let doc = json_body(&response);
    let issuer = env.issuer();
    assert_eq!(doc["issuer"], issuer.as_str());
    assert_eq!(
        doc["authorization_endpoint"],
        format!("{issuer}/oauth2/authorize")
    );
    assert_eq!(doc["token_endpoint"], format!("{issuer}/oauth2/token"));
    assert_eq!(
        doc["userinfo_endpoint"],
        format!("{issuer}/oauth2/userinfo")
    );
    assert_eq!(doc["jwks_uri"], format!("{issuer}/.well-known/jwks.json"));
    assert_eq!(doc["response_types_supported"], serde_json::json!(["code"]));
    assert_eq!(
        doc["grant_types_supported"],
        serde_json::json!(["authorization_code"])
    );
    assert_eq!(
        doc["subject_types_supported"],
        serde_json::json!(["public"])
    );
    assert_eq!(
        doc["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "ES256"])
    );
    assert_eq!(
        doc["token_endpoint_auth_methods_supported"],
        serde_json::json!(["client_secret_basic", "client_secret_post", "none"])
    );
    assert_eq!(
        doc["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        doc["scopes_supported"],
        serde_json::json!(["openid", "profile", "unionid"])
    );
    assert_eq!(doc["authorization_response_iss_parameter_supported"], true);
    for claim in [
        "sub",
        "openid",
        "unionid",
        "name",
        "picture",
        "nonce",
        "auth_time",
    ] {
        assert!(
            doc["claims_supported"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c == claim),
            "{claim}"
        );
    }

    let set = jwks(&env).await;
    assert_eq!(set.keys.len(), 2);
    let published = json_body(
        &env.oidc_request("GET", "/.well-known/jwks.json", "", &[], None)
            .await,
    );
    for key in published["keys"].as_array().unwrap() {
        // Public halves only.
        for private in ["d", "p", "q", "dp", "dq", "qi"] {
            assert!(key.get(private).is_none(), "{key}");
        }
        // kid = RFC 7638 thumbprint of the required members.
        let required = match key["kty"].as_str().unwrap() {
            "RSA" => serde_json::json!({"e": key["e"], "kty": "RSA", "n": key["n"]}),
            _ => serde_json::json!({"crv": key["crv"], "kty": "EC", "x": key["x"], "y": key["y"]}),
        };
        let thumbprint = URL_SAFE_NO_PAD.encode(Sha256::digest(required.to_string().as_bytes()));
        assert_eq!(key["kid"], thumbprint.as_str());
    }
    env.assert_no_secret_leaked();
}

#[tokio::test]
async fn a_confidential_client_signs_in_with_pkce_nonce_and_profile() {
    let env = provider_with(|s| s.simulator.bound_to_open_platform = true).await;
    env.sim.put_user(wechat_simulator::SimUser {
        nickname: "小明 ✨".into(),
        headimgurl: "https://thirdwx.qlogo.cn/mmopen/alice/132".into(),
        ..wechat_simulator::SimUser::named("alice")
    });
    let params = rp_request(&[]);
    let answer = authorization_response(&env, "alice", &params, true).await;
    assert_eq!(answer["state"], "rp-state-1");
    assert_eq!(answer["iss"], env.issuer());
    let code = &answer["code"];
    assert_eq!(code.len(), 43);

    let response = redeem_rp(&env, code).await;
    assert_eq!(response.status(), 200, "{}", body_text(&response));
    assert_eq!(header(&response, "cache-control"), "no-store");
    assert_eq!(header(&response, "content-type"), "application/json");
    let tokens = json_body(&response);
    assert_eq!(tokens["token_type"], "Bearer");
    assert_eq!(tokens["expires_in"], 600);
    assert_eq!(tokens["scope"], "openid profile");
    let access_token = tokens["access_token"].as_str().unwrap();
    let id_token = tokens["id_token"].as_str().unwrap();

    let claims = verify_id_token(id_token, &jwks(&env).await, &env.issuer(), "rp");
    let openid = env.sim.openid_for("alice");
    assert_eq!(claims["sub"], openid.as_str());
    assert_eq!(claims["openid"], openid.as_str());
    assert_eq!(claims["unionid"], env.sim.unionid_for("alice").as_str());
    assert_eq!(claims["nonce"], "n-0S6_WzA2Mj");
    assert_eq!(claims["at_hash"], at_hash(access_token).as_str());
    assert_eq!(claims["name"], "小明 ✨");
    assert_eq!(
        claims["picture"],
        "https://thirdwx.qlogo.cn/mmopen/alice/132"
    );
    let (iat, exp, auth_time) = (
        claims["iat"].as_i64().unwrap(),
        claims["exp"].as_i64().unwrap(),
        claims["auth_time"].as_i64().unwrap(),
    );
    assert!(exp - iat <= 600 && exp > iat);
    assert!(auth_time <= iat);
    assert_eq!(
        jsonwebtoken::decode_header(id_token).unwrap().alg,
        jsonwebtoken::Algorithm::RS256
    );

    let bearer = format!("Bearer {access_token}");
    for method in ["GET", "POST"] {
        let info = env
            .oidc_request(
                method,
                "/oauth2/userinfo",
                "",
                &[("authorization", &bearer)],
                None,
            )
            .await;
        assert_eq!(info.status(), 200, "{method}: {}", body_text(&info));
        let info = json_body(&info);
        assert_eq!(info["sub"], openid.as_str());
        assert_eq!(info["name"], claims["name"]);
        assert_eq!(info["picture"], claims["picture"]);
        assert_eq!(info["unionid"], claims["unionid"]);
    }
    env.assert_no_secret_leaked();
}

#[tokio::test]
async fn a_public_client_needs_pkce_and_no_secret_and_base_scope_has_no_profile() {
    let env = provider().await;
    let spa = |extra: &[(&'static str, &'static str)]| {
        let mut p = vec![
            ("client_id", "spa"),
            ("redirect_uri", SPA_REDIRECT),
            ("response_type", "code"),
            ("scope", "openid"),
            ("state", "s1"),
        ];
        p.extend_from_slice(extra);
        p
    };
    // Without a challenge: refused back at the redirect URI.
    let response = authorize(&env, &spa(&[])).await;
    let refused = result_params(&location(&response).unwrap(), false);
    assert_eq!(refused["error"], "invalid_request");
    assert!(refused["error_description"].contains("PKCE"));
    assert_eq!(refused["state"], "s1");
    assert_eq!(refused["iss"], env.issuer());

    let params = spa(&[
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]);
    let answer = authorization_response(&env, "bob", &params, true).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", answer["code"].as_str()),
        ("redirect_uri", SPA_REDIRECT),
        ("client_id", "spa"),
        ("code_verifier", VERIFIER),
    ];
    let response = env.token_request(&form, &[]).await;
    assert_eq!(response.status(), 200, "{}", body_text(&response));
    assert_eq!(header(&response, "access-control-allow-origin"), "*");
    let tokens = json_body(&response);
    assert_eq!(tokens["scope"], "openid");
    let claims = verify_id_token(
        tokens["id_token"].as_str().unwrap(),
        &jwks(&env).await,
        &env.issuer(),
        "spa",
    );
    assert_eq!(claims["sub"], env.sim.openid_for("bob").as_str());
    assert!(
        claims.get("nonce").is_none() && claims.get("name").is_none(),
        "{claims}"
    );
}

#[tokio::test]
async fn client_authentication_is_checked_by_every_method() {
    let env = provider().await;
    let answer = authorization_response(&env, "carol", &rp_request(&[]), true).await;
    let code = answer["code"].as_str();
    let form = |extra: &[(&'static str, &'static str)]| {
        let mut f = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", RP_REDIRECT),
            ("code_verifier", VERIFIER),
        ];
        f.extend_from_slice(extra);
        f
    };
    // Wrong secret over Basic: 401 with the Basic challenge; the code is not spent.
    let wrong = basic("rp", "rp-client-secret-0123456789abcdef-xyZ");
    let response = env
        .token_request(&form(&[]), &[("authorization", &wrong)])
        .await;
    assert_eq!(response.status(), 401);
    assert_eq!(json_body(&response)["error"], "invalid_client");
    assert!(header(&response, "www-authenticate").starts_with("Basic"));
    // Wrong secret in the body: 401 without a Basic challenge.
    let response = env
        .token_request(
            &form(&[("client_id", "rp"), ("client_secret", "nope")]),
            &[],
        )
        .await;
    assert_eq!(response.status(), 401);
    assert!(header(&response, "www-authenticate").is_empty());
    // A confidential client that does not authenticate.
    let response = env.token_request(&form(&[("client_id", "rp")]), &[]).await;
    assert_eq!(response.status(), 401);
    // Two methods at once.
    let right = basic("rp", RP_SECRET);
    let response = env
        .token_request(
            &form(&[("client_secret", RP_SECRET)]),
            &[("authorization", &right)],
        )
        .await;
    assert_eq!(response.status(), 400);
    assert_eq!(json_body(&response)["error"], "invalid_request");
    // An unknown client.
    let response = env
        .token_request(
            &form(&[("client_id", "nobody"), ("client_secret", RP_SECRET)]),
            &[],
        )
        .await;
    assert_eq!(json_body(&response)["error"], "invalid_client");
    // The secret as sent, not form-urlencoded (as Authlib 1.9 sends it), and encoded as
    // RFC 6749 §2.3.1 asks: both prove it; a lookalike does not. The code is still unspent.
    let raw = basic("rp", RP_SECRET);
    let encoded = basic(
        "rp",
        &form_urlencoded::byte_serialize(RP_SECRET.as_bytes()).collect::<String>(),
    );
    let lookalike = basic("rp", &RP_SECRET.replace('+', " "));
    // A redirect URI that does not fit: refused after authentication, nothing spent.
    let unfit = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", "https://rp.example.com/elsewhere"),
        ("code_verifier", VERIFIER),
    ];
    for (header, status) in [(&raw, 400), (&encoded, 400), (&lookalike, 401)] {
        let response = env
            .token_request(&unfit, &[("authorization", header)])
            .await;
        assert_eq!(
            response.status(),
            status,
            "{header}: {}",
            body_text(&response)
        );
    }
    // client_secret_post, as Cognito sends it: the code was never spent above.
    let response = env
        .token_request(
            &form(&[("client_id", "rp"), ("client_secret", RP_SECRET)]),
            &[],
        )
        .await;
    assert_eq!(response.status(), 200, "{}", body_text(&response));
    env.assert_no_secret_leaked();
    assert!(!body_text(&response).contains(RP_SECRET));
}

#[tokio::test]
async fn a_code_works_once_and_its_replay_revokes_the_access_token() {
    let env = provider().await;
    let answer = authorization_response(&env, "dave", &rp_request(&[]), true).await;
    let first = redeem_rp(&env, &answer["code"]).await;
    assert_eq!(first.status(), 200);
    let access_token = json_body(&first)["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    let bearer = format!("Bearer {access_token}");
    let live = userinfo(&env, &bearer).await;
    assert_eq!(live.status(), 200);

    let second = redeem_rp(&env, &answer["code"]).await;
    assert_eq!(second.status(), 400);
    assert_eq!(json_body(&second)["error"], "invalid_grant");
    let revoked = userinfo(&env, &bearer).await;
    assert_eq!(revoked.status(), 401);
    assert!(header(&revoked, "www-authenticate").contains("error=\"invalid_token\""));
}

#[tokio::test]
async fn a_code_that_does_not_fit_is_refused_without_being_spent() {
    let env = provider().await;
    let answer = authorization_response(&env, "erin", &rp_request(&[]), true).await;
    let code = answer["code"].as_str();
    let auth = basic("rp", RP_SECRET);
    let attempt = |redirect: &'static str, verifier: Option<&'static str>| {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
        ];
        if let Some(v) = verifier {
            form.push(("code_verifier", v));
        }
        form
    };
    for (form, why) in [
        (
            attempt(
                RP_REDIRECT,
                Some("wrong-verifier-wrong-verifier-wrong-verifier-0"),
            ),
            "does not match",
        ),
        (attempt(RP_REDIRECT, None), "missing"),
        (
            attempt("https://rp.example.com/oidc/other", Some(VERIFIER)),
            "redirect_uri",
        ),
    ] {
        let response = env.token_request(&form, &[("authorization", &auth)]).await;
        assert_eq!(response.status(), 400, "{why}");
        let body = json_body(&response);
        assert_eq!(body["error"], "invalid_grant", "{why}");
        assert!(
            body["error_description"].as_str().unwrap().contains(why),
            "{body}"
        );
    }
    // Another client cannot use it either (the spa client has no secret).
    let response = env
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", SPA_REDIRECT),
                ("client_id", "spa"),
                ("code_verifier", VERIFIER),
            ],
            &[],
        )
        .await;
    assert_eq!(json_body(&response)["error"], "invalid_grant");
    // The real request still works.
    assert_eq!(redeem_rp(&env, code).await.status(), 200);
    // Made-up codes.
    for fake in ["", "short", &"A".repeat(43)] {
        let response = redeem_rp(&env, fake).await;
        assert_eq!(json_body(&response)["error"], "invalid_grant", "{fake}");
    }
}

#[tokio::test]
async fn authorization_errors_never_redirect_to_an_unverified_uri() {
    let env = provider().await;
    for (params, why) in [
        (rp_request(&[("client_id", "nobody")]), "registered"),
        (
            rp_request(&[("redirect_uri", "https://rp.example.com/oidc/callback/")]),
            "registered",
        ),
        (
            rp_request(&[("redirect_uri", "https://evil.example.com/cb")]),
            "registered",
        ),
        (rp_request(&[("client_id", "")]), "client_id"),
        (rp_request(&[("redirect_uri", "")]), "redirect_uri"),
    ] {
        let response = authorize(&env, &params).await;
        assert_eq!(response.status(), 400, "{params:?}");
        assert!(location(&response).is_none());
        assert!(
            body_text(&response).contains(why),
            "{}",
            body_text(&response)
        );
    }
    // A repeated client_id or redirect_uri is refused on the page, not redirected.
    let repeated = format!("{}&client_id=rp", encode(&rp_request(&[])));
    let response = env
        .invoke_on(&env.gateway, "/oauth2/authorize", &repeated, None)
        .await;
    assert_eq!(response.status(), 400);
    assert!(location(&response).is_none());
}

#[tokio::test]
async fn other_authorization_errors_go_back_with_state_and_issuer() {
    let env = provider().await;
    let too_long_nonce = "n".repeat(257);
    let cases: Vec<(Vec<(&str, &str)>, &str)> = vec![
        (rp_request(&[("scope", "profile")]), "invalid_scope"),
        (rp_request(&[("scope", "")]), "invalid_scope"),
        (
            rp_request(&[("response_type", "token")]),
            "unsupported_response_type",
        ),
        (rp_request(&[("response_type", "")]), "invalid_request"),
        (
            rp_request(&[("code_challenge_method", "plain")]),
            "invalid_request",
        ),
        (
            rp_request(&[("code_challenge_method", "")]),
            "invalid_request",
        ),
        (
            rp_request(&[("code_challenge", "too-short")]),
            "invalid_request",
        ),
        (
            rp_request(&[("response_mode", "fragment")]),
            "invalid_request",
        ),
        (
            rp_request(&[("request", "eyJ.x.y")]),
            "request_not_supported",
        ),
        (rp_request(&[("nonce", &too_long_nonce)]), "invalid_request"),
    ];
    for (params, error) in cases {
        let response = authorize(&env, &params).await;
        assert_eq!(
            response.status(),
            302,
            "{params:?}: {}",
            body_text(&response)
        );
        let location = location(&response).unwrap();
        assert!(location.starts_with(RP_REDIRECT), "{location}");
        let answer = result_params(&location, false);
        assert_eq!(answer["error"], error, "{params:?}");
        assert_eq!(answer["state"], "rp-state-1", "{params:?}");
        assert_eq!(answer["iss"], env.issuer());
    }
    let repeated = format!("{}&scope=openid", encode(&rp_request(&[])));
    let response = env
        .invoke_on(&env.gateway, "/oauth2/authorize", &repeated, None)
        .await;
    let answer = result_params(&location(&response).unwrap(), false);
    assert_eq!(answer["error"], "invalid_request");
    assert!(answer["error_description"].contains("scope"));
    // state one past its limit: refused, and not echoed.
    let too_long_state = "s".repeat(wxauth_core::oidc::MAX_CLIENT_STATE_LEN + 1);
    let response = authorize(&env, &rp_request(&[("state", &too_long_state)])).await;
    let answer = result_params(&location(&response).unwrap(), false);
    assert_eq!(answer["error"], "invalid_request");
    assert!(!answer.contains_key("state"));
    // The nonce and the state at their limits, and prompt / login_hint / max_age, change
    // nothing.
    let long_nonce = "n".repeat(256);
    let long_state = "s".repeat(wxauth_core::oidc::MAX_CLIENT_STATE_LEN);
    let params = rp_request(&[
        ("prompt", "login"),
        ("login_hint", "x"),
        ("max_age", "0"),
        ("nonce", &long_nonce),
        ("state", &long_state),
    ]);
    let response = authorize(&env, &params).await;
    assert_eq!(response.status(), 302);
    assert!(
        location(&response)
            .unwrap()
            .starts_with(&env.sim_server.base_url)
    );
}

#[tokio::test]
async fn a_user_who_declines_is_access_denied_at_the_relying_party() {
    let env = provider().await;
    let answer = authorization_response(&env, "frank", &rp_request(&[]), false).await;
    assert_eq!(answer["error"], "access_denied");
    assert_eq!(answer["state"], "rp-state-1");
    assert_eq!(answer["iss"], env.issuer());
    assert!(!answer.contains_key("code"));
}

#[tokio::test]
async fn userinfo_refuses_anything_but_a_live_access_token() {
    let env = provider().await;
    let answer = authorization_response(&env, "grace", &rp_request(&[]), true).await;
    let tokens = json_body(&redeem_rp(&env, &answer["code"]).await);
    let id_token = tokens["id_token"].as_str().unwrap();
    let missing = env
        .oidc_request("GET", "/oauth2/userinfo", "", &[], None)
        .await;
    assert_eq!(missing.status(), 401);
    assert_eq!(
        header(&missing, "www-authenticate"),
        "Bearer realm=\"wxauth\""
    );
    let access = tokens["access_token"].as_str().unwrap();
    // One signature character changed (the first: a last character may carry only
    // padding bits, which decoders ignore).
    let (signed, signature) = access.rsplit_once('.').unwrap();
    let first = if signature.starts_with('A') { 'B' } else { 'A' };
    let tampered = format!("{signed}.{first}{}", &signature[1..]);
    for bad in [id_token, "garbage", "a.b.c", tampered.as_str()] {
        let bearer = format!("Bearer {bad}");
        let response = userinfo(&env, &bearer).await;
        assert_eq!(response.status(), 401, "{bad}");
        assert!(header(&response, "www-authenticate").contains("error=\"invalid_token\""));
    }
    let response = userinfo(&env, &basic("rp", RP_SECRET)).await;
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn userinfo_takes_the_access_token_in_a_posted_form_body_too() {
    let env = provider().await;
    let answer = authorization_response(&env, "gwen", &rp_request(&[]), true).await;
    let tokens = json_body(&redeem_rp(&env, &answer["code"]).await);
    let access = tokens["access_token"].as_str().unwrap();
    let form = [("content-type", "application/x-www-form-urlencoded")];
    let body = encode(&[("access_token", access)]);
    // RFC 6750 §2.2: POST, a form body, no Authorization header.
    let posted = env
        .oidc_request("POST", "/oauth2/userinfo", "", &form, Some(&body))
        .await;
    assert_eq!(posted.status(), 200, "{}", body_text(&posted));
    assert_eq!(
        json_body(&posted)["openid"],
        env.sim.openid_for("gwen").as_str()
    );
    // In both places: refused as ambiguous.
    let bearer = format!("Bearer {access}");
    let both = env
        .oidc_request(
            "POST",
            "/oauth2/userinfo",
            "",
            &[form[0], ("authorization", &bearer)],
            Some(&body),
        )
        .await;
    assert_eq!(both.status(), 400, "{}", body_text(&both));
    // A body that is not a form, or a GET's body, carries no token.
    let json = env
        .oidc_request(
            "POST",
            "/oauth2/userinfo",
            "",
            &[("content-type", "application/json")],
            Some(&format!("{{\"access_token\":\"{access}\"}}")),
        )
        .await;
    assert_eq!(json.status(), 401);
    let get = env
        .oidc_request("GET", "/oauth2/userinfo", "", &form, Some(&body))
        .await;
    assert_eq!(get.status(), 401);
    // A repeated access_token is a bad request; a forged one an invalid token.
    let twice = format!("{body}&{body}");
    let repeated = env
        .oidc_request("POST", "/oauth2/userinfo", "", &form, Some(&twice))
        .await;
    assert_eq!(repeated.status(), 400);
    let forged = env
        .oidc_request(
            "POST",
            "/oauth2/userinfo",
            "",
            &form,
            Some("access_token=a.b.c"),
        )
        .await;
    assert_eq!(forged.status(), 401);
    assert!(header(&forged, "www-authenticate").contains("invalid_token"));
}

#[tokio::test]
async fn the_token_endpoint_takes_only_a_form_post_of_the_code_grant() {
    let env = provider().await;
    let get = env
        .oidc_request("GET", "/oauth2/token", "", &[], None)
        .await;
    assert_eq!(get.status(), 405);
    assert_eq!(header(&get, "allow"), "POST");
    let auth = basic("rp", RP_SECRET);
    let json = env
        .oidc_request(
            "POST",
            "/oauth2/token",
            "",
            &[
                ("content-type", "application/json"),
                ("authorization", &auth),
            ],
            Some("{}"),
        )
        .await;
    assert_eq!(json_body(&json)["error"], "invalid_request");
    let response = env
        .token_request(
            &[("grant_type", "client_credentials")],
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(json_body(&response)["error"], "unsupported_grant_type");
    let response = env
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("grant_type", "authorization_code"),
            ],
            &[("authorization", &auth)],
        )
        .await;
    assert_eq!(json_body(&response)["error"], "invalid_request");
    let preflight = env
        .oidc_request("OPTIONS", "/oauth2/token", "", &[], None)
        .await;
    assert_eq!(preflight.status(), 204);
    assert_eq!(header(&preflight, "access-control-allow-origin"), "*");
}

#[tokio::test]
async fn without_clients_the_provider_routes_do_not_exist() {
    let env = TestEnv::start().await;
    for path in [
        "/.well-known/openid-configuration",
        "/.well-known/jwks.json",
        "/oauth2/userinfo",
    ] {
        assert_eq!(
            env.oidc_request("GET", path, "", &[], None).await.status(),
            404,
            "{path}"
        );
    }
    assert_eq!(authorize(&env, &rp_request(&[])).await.status(), 404);
    assert_eq!(env.token_request(&[], &[]).await.status(), 404);
}

#[tokio::test]
async fn a_snapshot_visitor_gets_access_denied_never_a_code() {
    let env = provider().await;
    env.sim.put_user(wechat_simulator::SimUser {
        snapshot: true,
        ..wechat_simulator::SimUser::named("virtual")
    });
    let answer = authorization_response(&env, "virtual", &rp_request(&[]), true).await;
    assert_eq!(answer["error"], "access_denied");
    assert!(
        answer["error_description"].contains("snapshot"),
        "{answer:?}"
    );
    assert_eq!(answer["state"], "rp-state-1");
    assert!(!answer.contains_key("code"), "{answer:?}");
    // A real user of the same provider still gets a code.
    let answer = authorization_response(&env, "real", &rp_request(&[]), true).await;
    assert!(answer.contains_key("code"), "{answer:?}");
}

#[tokio::test]
async fn the_unionid_reaches_a_relying_party_only_when_asked_for_or_as_its_subject() {
    let env = provider_with(|s| s.simulator.bound_to_open_platform = true).await;
    let unionid = env.sim.unionid_for("ulla");
    for (scope, shown) in [
        ("openid", false),
        ("openid unionid", true),
        ("openid profile", true),
        ("openid profile unionid", true),
    ] {
        let params = rp_request(&[("scope", scope)]);
        let answer = authorization_response(&env, "ulla", &params, true).await;
        let (tokens, claims) = redeem_and_verify(&env, &answer["code"]).await;
        assert_eq!(tokens["scope"], scope);
        let bearer = format!("Bearer {}", tokens["access_token"].as_str().unwrap());
        let info = json_body(&userinfo(&env, &bearer).await);
        for (what, seen) in [("ID token", &claims), ("userinfo", &info)] {
            match shown {
                true => assert_eq!(seen["unionid"], unionid.as_str(), "{scope}: {what}"),
                false => assert!(seen.get("unionid").is_none(), "{scope}: {what} {seen}"),
            }
        }
    }
    // As the subject it is shown whatever the scope: a QR login (which always learns the
    // unionid) with scope openid alone.
    const DESKTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
    let env = provider_with(|s| {
        two_apps(s);
        s.vars.insert("OIDC_SUBJECT", "unionid".into());
    })
    .await;
    let params = rp_request(&[("scope", "openid")]);
    let response = env
        .get_from("/oauth2/authorize", &encode(&params), DESKTOP)
        .await;
    let callback = env
        .wechat_authorize(&location(&response).unwrap(), "ulla", true)
        .await;
    let back = env.follow_callback(&callback).await;
    let answer = result_params(&location(&back).unwrap(), false);
    let (_, claims) = redeem_and_verify(&env, &answer["code"]).await;
    assert_eq!(claims["sub"], env.sim.unionid_for("ulla").as_str());
    assert_eq!(claims["unionid"], env.sim.unionid_for("ulla").as_str());
}

#[tokio::test]
async fn unionid_as_subject_refuses_users_without_one() {
    let env = provider_with(|s| {
        s.vars.insert("OIDC_SUBJECT", "unionid".into());
    })
    .await;
    let answer = authorization_response(&env, "heidi", &rp_request(&[]), true).await;
    assert_eq!(answer["error"], "access_denied");
    assert!(answer["error_description"].contains("unionid"));

    let env = provider_with(|s| {
        s.vars.insert("OIDC_SUBJECT", "unionid".into());
        s.simulator.bound_to_open_platform = true;
    })
    .await;
    let answer = authorization_response(&env, "heidi", &rp_request(&[]), true).await;
    let (_, claims) = redeem_and_verify(&env, &answer["code"]).await;
    assert_eq!(claims["sub"], env.sim.unionid_for("heidi").as_str());
    assert_eq!(claims["openid"], env.sim.openid_for("heidi").as_str());
}

#[tokio::test]
async fn the_redirect_mode_can_sign_with_keys_of_its_own_and_carry_a_nonce() {
    for alg in ["RS256", "ES256"] {
        let env = provider_with(|s| {
            s.vars.insert("TOKEN_SIGNING_ALG", alg.into());
            s.vars
                .insert("RESULT_SIGNING_KEYS", result_keys_pem().to_owned());
        })
        .await;
        let authorize = env
            .auth(&encode(&[
                ("url", "https://app.example.com/me"),
                ("scope", "snsapi_base"),
                ("nonce", "front-end-nonce"),
            ]))
            .await;
        assert_eq!(authorize.status(), 302);
        let callback = env
            .wechat_authorize(&location(&authorize).unwrap(), "ivan", true)
            .await;
        let back = env.follow_callback(&callback).await;
        let result = result_params(&location(&back).unwrap(), false);
        let token = &result["token"];
        let header = jsonwebtoken::decode_header(token).unwrap();
        assert_eq!(format!("{:?}", header.alg), alg);
        // Typed as a result token, never as an ID token (`JWT`).
        assert_eq!(header.typ.as_deref(), Some("wxauth-result+jwt"));
        // Its key is published at the result tokens' own JWKS, not at the ID tokens'.
        let kid = header.kid.clone().expect("a kid");
        let id_jwks = jwks(&env).await;
        assert!(id_jwks.find(&kid).is_none());
        let result_jwks = jwks_at(&env, "/.well-known/result-jwks.json").await;
        assert!(result_jwks.keys.iter().all(|k| {
            k.common
                .key_id
                .as_deref()
                .is_some_and(|id| id_jwks.find(id).is_none())
        }));
        let claims = verify_id_token(
            token,
            &result_jwks,
            &env.issuer(),
            "https://app.example.com",
        );
        assert_eq!(claims["sub"], env.sim.openid_for("ivan").as_str());
        assert_eq!(claims["nonce"], "front-end-nonce");
        // The HS256 key does not verify it.
        let hs = jsonwebtoken::decode::<Value>(
            token,
            &DecodingKey::from_secret(SIGNING_KEY.as_bytes()),
            &Validation::new(jsonwebtoken::Algorithm::HS256),
        );
        assert!(hs.is_err());
    }
    // The nonce at its limit comes back whole; one more character is refused at /auth.
    let env = TestEnv::start().await;
    let longest = "n".repeat(wxauth_core::login_state::MAX_NONCE_LEN);
    let landing = env
        .login_with_query(
            "judy",
            &encode(&[
                ("url", "https://app.example.com/me"),
                ("scope", "snsapi_base"),
                ("nonce", &longest),
            ]),
        )
        .await;
    let token = &result_params(&landing, false)["token"];
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(token)
        .unwrap()
        .claims;
    assert_eq!(claims["nonce"], longest.as_str());
    let too_long = "n".repeat(wxauth_core::login_state::MAX_NONCE_LEN + 1);
    let response = env
        .auth(&encode(&[
            ("url", "https://app.example.com/me"),
            ("scope", "snsapi_base"),
            ("nonce", &too_long),
        ]))
        .await;
    assert_eq!(response.status(), 400);
    assert!(body_text(&response).contains("nonce"));
}

#[tokio::test]
async fn wechat_failures_reach_the_relying_party_as_oauth_errors_with_state_and_issuer() {
    let env = provider().await;
    let cases: &[(i64, &str)] = &[
        (-1, "temporarily_unavailable"),
        (45011, "temporarily_unavailable"),
        // A code WeChat refuses, or our own credentials refused: not the user's doing.
        (40029, "server_error"),
        (40163, "server_error"),
        (40125, "server_error"),
        (48001, "server_error"),
    ];
    for &(errcode, expected) in cases {
        env.sim.inject(
            wechat_simulator::Endpoint::AccessToken,
            wechat_simulator::Fault::Errcode(errcode, format!("simulated {errcode}, rid: 1")),
            1,
        );
        let answer = authorization_response(&env, "olga", &rp_request(&[]), true).await;
        assert_eq!(answer["error"], expected, "errcode {errcode}");
        assert_eq!(answer["state"], "rp-state-1");
        assert_eq!(answer["iss"], env.issuer());
        assert_eq!(answer["wx_errcode"], errcode.to_string());
        assert!(!answer.contains_key("code"), "{answer:?}");
    }
    env.assert_no_secret_leaked();
}

#[tokio::test]
async fn an_expired_or_foreign_access_token_is_refused_at_userinfo() {
    use wxauth_core::oidc::jws::{ACCESS_TOKEN_TYPE, sign};
    let env = provider().await;
    let answer = authorization_response(&env, "pete", &rp_request(&[]), true).await;
    let tokens = json_body(&redeem_rp(&env, &answer["code"]).await);
    let live = tokens["access_token"].as_str().unwrap();
    let claims = jsonwebtoken::dangerous::insecure_decode::<Value>(live)
        .unwrap()
        .claims;
    let keys = SigningKeys::from_pem(keys_pem()).unwrap();
    let signer = keys.first();
    let now = wxauth_core::login_state::now_epoch_seconds();
    let variant = |change: &dyn Fn(&mut Value)| {
        let mut c = claims.clone();
        change(&mut c);
        sign(signer, ACCESS_TOKEN_TYPE, &c)
    };
    // Signed with the provider's own key, so only the claim itself can refuse them.
    let cases = [
        (variant(&|c| c["exp"] = (now - 1).into()), "expired"),
        (variant(&|c| c["aud"] = "rp".into()), "audience"),
        (
            variant(&|c| c["iss"] = "https://other.example.com".into()),
            "issuer",
        ),
        (variant(&|c| c["sub"] = "oSOMEONE-ELSE".into()), "grant"),
        (variant(&|c| c["jti"] = "0".repeat(64).into()), "grant"),
    ];
    for (token, why) in cases {
        let bearer = format!("Bearer {token}");
        let response = userinfo(&env, &bearer).await;
        assert_eq!(response.status(), 401, "{why}");
        let challenge = header(&response, "www-authenticate");
        assert!(
            challenge.contains("error=\"invalid_token\"") && challenge.contains(why),
            "{challenge}"
        );
    }
    // The untouched token still works: the refusals above came from the claims alone.
    let bearer = format!("Bearer {live}");
    let ok = userinfo(&env, &bearer).await;
    assert_eq!(ok.status(), 200);
}

#[tokio::test]
async fn a_client_registered_by_the_sha256_of_its_secret_authenticates_with_the_secret() {
    let digest: String = Sha256::digest(RP_SECRET.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let env = provider_with(|s| {
        let clients = serde_json::json!([
            {"client_id": "rp", "client_secret_sha256": digest, "redirect_uris": [RP_REDIRECT]},
        ]);
        s.vars.insert("OIDC_CLIENTS", clients.to_string());
    })
    .await;
    let answer = authorization_response(&env, "quinn", &rp_request(&[]), true).await;
    let response = redeem_rp(&env, &answer["code"]).await;
    assert_eq!(response.status(), 200, "{}", body_text(&response));
    // The digest is no credential.
    let answer = authorization_response(&env, "quinn", &rp_request(&[]), true).await;
    let with_digest = basic("rp", &digest);
    let refused = env
        .token_request(
            &[
                ("grant_type", "authorization_code"),
                ("code", &answer["code"]),
                ("redirect_uri", RP_REDIRECT),
                ("code_verifier", VERIFIER),
            ],
            &[("authorization", &with_digest)],
        )
        .await;
    assert_eq!(refused.status(), 401);
}

#[tokio::test]
async fn outside_wechat_the_default_apps_qr_app_logs_in_and_the_profile_only_when_asked() {
    const DESKTOP: &str = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36";
    let env = provider_with(two_apps).await;
    for (scope, profile) in [
        ("openid profile", true),
        ("openid unionid", false),
        ("openid", false),
    ] {
        let params = rp_request(&[("scope", scope)]);
        let response = env
            .get_from("/oauth2/authorize", &encode(&params), DESKTOP)
            .await;
        assert_eq!(response.status(), 302, "{}", body_text(&response));
        let to_wechat = location(&response).unwrap();
        assert!(
            to_wechat.contains(&format!("/connect/qrconnect?appid={WEB_APP_ID}&")),
            "{to_wechat}"
        );
        assert!(to_wechat.contains("&scope=snsapi_login&"), "{to_wechat}");
        let callback = env.wechat_authorize(&to_wechat, "olga", true).await;
        let back = env.follow_callback(&callback).await;
        let answer = result_params(&location(&back).unwrap(), false);
        let (tokens, claims) = redeem_and_verify(&env, &answer["code"]).await;
        assert_eq!(tokens["scope"], scope);
        assert_eq!(
            claims["sub"],
            env.sim.openid_for_app(WEB_APP_ID, "olga").as_str()
        );
        // The unionid only where asked for (profile or unionid).
        if scope == "openid" {
            assert!(claims.get("unionid").is_none(), "{claims}");
        } else {
            assert_eq!(claims["unionid"], env.sim.unionid_for("olga").as_str());
        }
        assert_eq!(claims.get("name").is_some(), profile, "{claims}");
    }
    // Inside WeChat (the events' default browser): the Official Account.
    let answer = authorization_response(&env, "olga", &rp_request(&[]), true).await;
    let (_, claims) = redeem_and_verify(&env, &answer["code"]).await;
    assert_eq!(claims["sub"], env.sim.openid_for("olga").as_str());
    assert_eq!(claims["unionid"], env.sim.unionid_for("olga").as_str());
}
