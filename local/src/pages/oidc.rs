//! "Log in with OIDC": a relying party built into the demo, as any OIDC client would do it.
//! `/demo/oidc/start` makes a PKCE verifier, a state and a nonce, keeps them in a cookie of
//! its own and sends the browser to `/oauth2/authorize` as the public client `wxauth-demo`;
//! `/demo/oidc/callback` checks `state` and `iss`, redeems the code at the token endpoint
//! over HTTP, verifies the ID token against the JWKS it fetches (signature by `kid`,
//! issuer, audience, expiry, nonce, at_hash), asks userinfo, and shows the claims.
//!
//! It only talks to the provider through its public HTTP interface: what works here works
//! for any relying party.

use std::sync::Arc;

use aws_lc_rs::signature::{
    ECDSA_P256_SHA256_FIXED, RSA_PKCS1_2048_8192_SHA256, RsaPublicKeyComponents, UnparsedPublicKey,
};
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cookie::{Cookie, SameSite};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use maud::html;
use serde_json::Value;
use sha2::{Digest, Sha256};
use wxauth_core::login_state::now_epoch_seconds;

use super::layout::{page, secure};
use super::{DemoSite, page_origin};
use crate::demo::{DEMO_CLIENT_ID, DEMO_OIDC_CALLBACK};

/// The relying party's own cookie: state, nonce and PKCE verifier of the login in flight.
const RP_COOKIE: &str = "wxauth_demo_rp";

fn random() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source failed");
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(super) async fn start(
    State(site): State<Arc<DemoSite>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let own = page_origin(&headers).unwrap_or_else(|| site.canonical_origin());
    let profile = raw
        .as_deref()
        .is_some_and(|q| q.split('&').any(|p| p == "profile=1"));
    let (state, nonce, verifier) = (random(), random(), random());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("client_id", DEMO_CLIENT_ID)
        .append_pair("redirect_uri", &format!("{own}{DEMO_OIDC_CALLBACK}"))
        .append_pair("response_type", "code")
        .append_pair("scope", if profile { "openid profile" } else { "openid" })
        .append_pair("state", &state)
        .append_pair("nonce", &nonce)
        .append_pair("code_challenge", &challenge)
        .append_pair("code_challenge_method", "S256")
        .finish();
    let cookie = Cookie::build((RP_COOKIE, format!("{state}.{nonce}.{verifier}")))
        .path("/demo/oidc")
        .http_only(true)
        .same_site(SameSite::Lax)
        .max_age(cookie::time::Duration::minutes(10))
        .build();
    let mut response = StatusCode::SEE_OTHER.into_response();
    let h = response.headers_mut();
    secure(h, &site);
    h.insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/oauth2/authorize?{query}")).expect("ASCII"),
    );
    h.insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie.to_string()).expect("ASCII"),
    );
    response
}

pub(super) async fn callback(
    State(site): State<Arc<DemoSite>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params: Vec<(String, String)> = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    let own = page_origin(&headers).unwrap_or_else(|| site.canonical_origin());
    let outcome = relying_party(&own, &headers, &params).await;
    let body = match outcome {
        Ok(signed_in) => html! {
            h1 { "Logged in with OIDC" }
            p.ok {
                "ID token verified against " code { (own) "/.well-known/jwks.json" } ": "
                (signed_in.alg) " signature of key " code { (signed_in.kid) } ", issuer, \
                audience " code { (DEMO_CLIENT_ID) } ", expiry, nonce and at_hash."
            }
            h2 { "ID token claims" }
            (claims_table(&signed_in.claims))
            h2 { "Userinfo" }
            (claims_table(&signed_in.userinfo))
            p { a href="/" { "Back to the demo" } }
        },
        Err(problem) => html! {
            h1 { "OIDC login failed" }
            p.bad { (problem) }
            p { a href="/" { "Back to the demo" } }
        },
    };
    let mut response = page(&site, StatusCode::OK, "OIDC login", body);
    // The login in flight is over either way.
    let gone = Cookie::build((RP_COOKIE, ""))
        .path("/demo/oidc")
        .max_age(cookie::time::Duration::ZERO)
        .build();
    if let Ok(value) = HeaderValue::from_str(&gone.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

struct SignedIn {
    alg: String,
    kid: String,
    claims: Value,
    userinfo: Value,
}

async fn relying_party(
    own: &str,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<SignedIn, String> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let saved = cookie_value(headers).ok_or("no login in flight in this browser (start again)")?;
    let mut parts = saved.splitn(3, '.');
    let (Some(state), Some(nonce), Some(verifier)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err("the relying party's cookie is damaged".into());
    };
    if param("state") != Some(state) {
        return Err("the state does not match this browser's login".into());
    }
    if param("iss") != Some(own) {
        return Err(format!("the response's iss is not {own} (RFC 9207)"));
    }
    if let Some(error) = param("error") {
        return Err(format!(
            "the provider answered {error}: {}",
            param("error_description").unwrap_or("")
        ));
    }
    let code = param("code").ok_or("no code came back")?;
    let http = reqwest::Client::new();
    let discovery: Value =
        get_json(&http, &format!("{own}/.well-known/openid-configuration")).await?;
    if discovery["issuer"] != own {
        return Err("the discovery document names another issuer".into());
    }
    let token_endpoint = discovery["token_endpoint"]
        .as_str()
        .ok_or("no token_endpoint")?;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code),
        ("redirect_uri", &format!("{own}{DEMO_OIDC_CALLBACK}")),
        ("client_id", DEMO_CLIENT_ID),
        ("code_verifier", verifier),
    ];
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form)
        .finish();
    let response = http
        .post(token_endpoint)
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .map_err(|e| format!("the token endpoint did not answer: {e}"))?;
    let tokens = json_of(response, "the token response").await?;
    if let Some(error) = tokens["error"].as_str() {
        return Err(format!(
            "the token endpoint answered {error}: {}",
            tokens["error_description"]
        ));
    }
    let id_token = tokens["id_token"].as_str().ok_or("no id_token")?;
    let access_token = tokens["access_token"].as_str().ok_or("no access_token")?;
    let jwks_uri = discovery["jwks_uri"].as_str().ok_or("no jwks_uri")?;
    let jwks = get_json(&http, jwks_uri).await?;
    let (alg, kid, claims) = verify_with_jwks(id_token, &jwks)?;
    let now = now_epoch_seconds();
    if claims["iss"] != own || claims["aud"] != DEMO_CLIENT_ID {
        return Err("the ID token's issuer or audience is wrong".into());
    }
    if claims["exp"].as_i64().is_none_or(|exp| now >= exp) {
        return Err("the ID token has expired".into());
    }
    if claims["nonce"] != nonce {
        return Err("the ID token's nonce is not this login's".into());
    }
    let at_hash = URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]);
    if claims["at_hash"] != at_hash.as_str() {
        return Err("the ID token's at_hash does not match the access token".into());
    }
    let userinfo_endpoint = discovery["userinfo_endpoint"]
        .as_str()
        .ok_or("no userinfo_endpoint")?;
    let response = http
        .get(userinfo_endpoint)
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|e| format!("userinfo did not answer: {e}"))?;
    let userinfo = json_of(response, "userinfo").await?;
    if userinfo["sub"] != claims["sub"] {
        return Err("userinfo's sub differs from the ID token's".into());
    }
    Ok(SignedIn {
        alg,
        kid,
        claims,
        userinfo,
    })
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, String> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url} did not answer: {e}"))?;
    json_of(response, url).await
}

async fn json_of(response: reqwest::Response, what: &str) -> Result<Value, String> {
    let text = response
        .text()
        .await
        .map_err(|e| format!("{what} could not be read: {e}"))?;
    serde_json::from_str(&text).map_err(|_| format!("{what} is not JSON"))
}

fn cookie_value(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
        .find(|c| c.name() == RP_COOKIE)
        .map(|c| c.value().to_owned())
}

/// The JWS's claims if a key of `jwks` with its `kid` signed it with that key's algorithm.
fn verify_with_jwks(token: &str, jwks: &Value) -> Result<(String, String, Value), String> {
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| "the ID token is not base64url".to_owned())
    };
    let mut parts = token.split('.');
    let (Some(head), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err("the ID token is not a compact JWS".into());
    };
    let header: Value =
        serde_json::from_slice(&decode(head)?).map_err(|_| "bad ID token header")?;
    let kid = header["kid"].as_str().ok_or("the ID token names no kid")?;
    let key = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid))
        .ok_or("the ID token's kid is not in the JWKS")?;
    let alg = header["alg"].as_str().unwrap_or("");
    let message = format!("{head}.{payload}");
    let signature = decode(signature)?;
    let field = |name: &str| {
        key[name]
            .as_str()
            .ok_or(format!("the JWK lacks {name}"))
            .and_then(decode)
    };
    let verified = match (alg, key["kty"].as_str()) {
        ("RS256", Some("RSA")) => RsaPublicKeyComponents {
            n: field("n")?,
            e: field("e")?,
        }
        .verify(&RSA_PKCS1_2048_8192_SHA256, message.as_bytes(), &signature)
        .is_ok(),
        ("ES256", Some("EC")) => {
            let mut point = vec![4u8];
            point.extend(field("x")?);
            point.extend(field("y")?);
            UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(message.as_bytes(), &signature)
                .is_ok()
        }
        _ => return Err(format!("the ID token's alg {alg} does not fit its key")),
    };
    if !verified {
        return Err("the ID token's signature does not verify".into());
    }
    let claims = serde_json::from_slice(&decode(payload)?).map_err(|_| "bad ID token payload")?;
    Ok((alg.to_owned(), kid.to_owned(), claims))
}

fn claims_table(claims: &Value) -> maud::Markup {
    let rows: Vec<(String, String)> = claims
        .as_object()
        .map(|o| {
            o.iter()
                .map(|(k, v)| {
                    (
                        k.clone(),
                        v.as_str().map_or_else(|| v.to_string(), str::to_owned),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    html! {
        table {
            tr { th { "claim" } th { "value" } }
            @for (name, value) in rows {
                tr { th { (name) } td { (value) } }
            }
        }
    }
}
