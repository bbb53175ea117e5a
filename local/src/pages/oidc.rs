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
use wxauth_core::lang::Lang;
use wxauth_core::login_state::now_epoch_seconds;

use super::layout::{page, secure};
use super::{DemoSite, page_lang, page_origin};
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
        // The unionid too: the demo shows it tie a person's logins across its two apps.
        .append_pair(
            "scope",
            if profile {
                "openid profile unionid"
            } else {
                "openid unionid"
            },
        )
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
    let lang = page_lang(&headers);
    let t = |en: &'static str, zh: &'static str| lang.pick(en, zh);
    let outcome = relying_party(&own, &headers, &params).await;
    let body = match outcome {
        Ok(signed_in) => html! {
            h1 { (t("Logged in with OIDC", "已通过 OIDC 登录")) }
            p.ok {
                @match lang {
                    Lang::En => {
                        "ID token verified against " code { (own) "/.well-known/jwks.json" }
                        ": " (signed_in.alg) " signature of key " code { (signed_in.kid) }
                        ", issuer, audience " code { (DEMO_CLIENT_ID) }
                        ", expiry, nonce and at_hash."
                    }
                    Lang::ZhCn => {
                        "ID Token 校验通过：用 " code { (own) "/.well-known/jwks.json" }
                        " 中的密钥 " code { (signed_in.kid) } " 验证了 " (signed_in.alg)
                        " 签名，并核对了签发方、受众 " code { (DEMO_CLIENT_ID) }
                        "、有效期、nonce 和 at_hash。"
                    }
                }
            }
            h2 { (t("ID token claims", "ID Token 中的声明")) }
            (claims_table(&signed_in.claims, lang))
            h2 { (t("Userinfo", "用户信息（userinfo）")) }
            (claims_table(&signed_in.userinfo, lang))
            p { a href="/" { (t("Back to the demo", "返回演示")) } }
        },
        Err(problem) => html! {
            h1 { (t("OIDC login failed", "OIDC 登录失败")) }
            p.bad { (problem.explain(lang)) }
            p { a href="/" { (t("Back to the demo", "返回演示")) } }
        },
    };
    let mut response = page(
        &site,
        lang,
        StatusCode::OK,
        t("OIDC login", "OIDC 登录"),
        body,
    );
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

/// Something the relying party could not fetch or read.
enum Source {
    Url(String),
    TokenEndpoint,
    TokenResponse,
    Userinfo,
}

impl Source {
    fn english(&self) -> &str {
        match self {
            Self::Url(url) => url,
            Self::TokenEndpoint => "the token endpoint",
            Self::TokenResponse => "the token response",
            Self::Userinfo => "userinfo",
        }
    }

    /// Who answered (or did not): "令牌端点" both for the endpoint and its response.
    fn chinese(&self) -> &str {
        match self {
            Self::Url(url) => url,
            Self::TokenEndpoint | Self::TokenResponse => "令牌端点",
            Self::Userinfo => "userinfo 接口",
        }
    }
}

/// Why the relying party refused the response: shown on the page, in the visitor's language.
enum Problem {
    NoLoginInFlight,
    CookieDamaged,
    StateMismatch,
    WrongIss(String),
    ProviderError {
        error: String,
        description: String,
    },
    NoCode,
    NotAnswered(Source, reqwest::Error),
    Unreadable(Source, reqwest::Error),
    NotJson(Source),
    OtherIssuer,
    /// A field missing from the discovery document or the token response.
    Missing(&'static str),
    TokenError {
        error: String,
        description: String,
    },
    NotBase64url,
    NotCompactJws,
    BadHeader,
    BadPayload,
    NoKid,
    KidNotInJwks,
    JwkLacks(&'static str),
    AlgDoesNotFitKey(String),
    BadSignature,
    WrongIssuerOrAudience,
    Expired,
    WrongNonce,
    WrongAtHash,
    UserinfoSubDiffers,
}

impl Problem {
    fn explain(&self, lang: Lang) -> String {
        match lang {
            Lang::En => self.english(),
            Lang::ZhCn => self.chinese(),
        }
    }

    fn english(&self) -> String {
        match self {
            Self::NoLoginInFlight => "no login in flight in this browser (start again)".into(),
            Self::CookieDamaged => "the relying party's cookie is damaged".into(),
            Self::StateMismatch => "the state does not match this browser's login".into(),
            Self::WrongIss(own) => format!("the response's iss is not {own} (RFC 9207)"),
            Self::ProviderError { error, description } => {
                format!("the provider answered {error}: {description}")
            }
            Self::NoCode => "no code came back".into(),
            Self::NotAnswered(what, e) => format!("{} did not answer: {e}", what.english()),
            Self::Unreadable(what, e) => format!("{} could not be read: {e}", what.english()),
            Self::NotJson(what) => format!("{} is not JSON", what.english()),
            Self::OtherIssuer => "the discovery document names another issuer".into(),
            Self::Missing(field) => format!("no {field}"),
            Self::TokenError { error, description } => {
                format!("the token endpoint answered {error}: {description}")
            }
            Self::NotBase64url => "the ID token is not base64url".into(),
            Self::NotCompactJws => "the ID token is not a compact JWS".into(),
            Self::BadHeader => "bad ID token header".into(),
            Self::BadPayload => "bad ID token payload".into(),
            Self::NoKid => "the ID token names no kid".into(),
            Self::KidNotInJwks => "the ID token's kid is not in the JWKS".into(),
            Self::JwkLacks(name) => format!("the JWK lacks {name}"),
            Self::AlgDoesNotFitKey(alg) => format!("the ID token's alg {alg} does not fit its key"),
            Self::BadSignature => "the ID token's signature does not verify".into(),
            Self::WrongIssuerOrAudience => "the ID token's issuer or audience is wrong".into(),
            Self::Expired => "the ID token has expired".into(),
            Self::WrongNonce => "the ID token's nonce is not this login's".into(),
            Self::WrongAtHash => "the ID token's at_hash does not match the access token".into(),
            Self::UserinfoSubDiffers => "userinfo's sub differs from the ID token's".into(),
        }
    }

    fn chinese(&self) -> String {
        match self {
            Self::NoLoginInFlight => "这个浏览器里没有进行中的登录（请重新开始）".into(),
            Self::CookieDamaged => "依赖方的 cookie 已损坏".into(),
            Self::StateMismatch => "state 与这个浏览器里的登录不符".into(),
            Self::WrongIss(own) => format!("响应中的 iss 不是 {own}（RFC 9207）"),
            Self::ProviderError { error, description } => {
                format!("提供方返回了 {error}：{description}")
            }
            Self::NoCode => "没有收到 code".into(),
            Self::NotAnswered(what, e) => {
                let what = what.chinese();
                format!("{what}{}没有响应：{e}", gap_after(what))
            }
            Self::Unreadable(what, e) => {
                let what = what.chinese();
                format!(
                    "无法读取{}{what}{}的响应：{e}",
                    gap_before(what),
                    gap_after(what)
                )
            }
            Self::NotJson(what) => {
                let what = what.chinese();
                format!("{what}{}返回的不是 JSON", gap_after(what))
            }
            Self::OtherIssuer => "发现文档中的 issuer 不是本提供方".into(),
            Self::Missing(field) => format!("缺少 {field}"),
            Self::TokenError { error, description } => {
                format!("令牌端点返回了 {error}：{description}")
            }
            Self::NotBase64url => "ID Token 不是 base64url 编码".into(),
            Self::NotCompactJws => "ID Token 不是紧凑格式的 JWS".into(),
            Self::BadHeader => "ID Token 的头部无法解析".into(),
            Self::BadPayload => "ID Token 的载荷无法解析".into(),
            Self::NoKid => "ID Token 没有指明 kid".into(),
            Self::KidNotInJwks => "ID Token 的 kid 不在 JWKS 中".into(),
            Self::JwkLacks(name) => format!("JWK 缺少 {name}"),
            Self::AlgDoesNotFitKey(alg) => format!("ID Token 的 alg {alg} 与密钥不匹配"),
            Self::BadSignature => "ID Token 的签名校验失败".into(),
            Self::WrongIssuerOrAudience => "ID Token 的签发方或受众不对".into(),
            Self::Expired => "ID Token 已过期".into(),
            Self::WrongNonce => "ID Token 的 nonce 不属于这次登录".into(),
            Self::WrongAtHash => "ID Token 的 at_hash 与 access token 不匹配".into(),
            Self::UserinfoSubDiffers => "userinfo 返回的 sub 与 ID Token 的不一致".into(),
        }
    }
}

/// The space Chinese text sets between itself and a Latin word that ends `text`
/// ("令牌端点没有响应", "http://… 没有响应").
fn gap_after(text: &str) -> &'static str {
    if text.ends_with(|c: char| c.is_ascii()) {
        " "
    } else {
        ""
    }
}

/// The same for a Latin word that starts `text`.
fn gap_before(text: &str) -> &'static str {
    if text.starts_with(|c: char| c.is_ascii()) {
        " "
    } else {
        ""
    }
}

async fn relying_party(
    own: &str,
    headers: &HeaderMap,
    params: &[(String, String)],
) -> Result<SignedIn, Problem> {
    let param = |name: &str| {
        params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let saved = cookie_value(headers).ok_or(Problem::NoLoginInFlight)?;
    let mut parts = saved.splitn(3, '.');
    let (Some(state), Some(nonce), Some(verifier)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err(Problem::CookieDamaged);
    };
    if param("state") != Some(state) {
        return Err(Problem::StateMismatch);
    }
    if param("iss") != Some(own) {
        return Err(Problem::WrongIss(own.to_owned()));
    }
    if let Some(error) = param("error") {
        return Err(Problem::ProviderError {
            error: error.to_owned(),
            description: param("error_description").unwrap_or("").to_owned(),
        });
    }
    let code = param("code").ok_or(Problem::NoCode)?;
    let http = reqwest::Client::new();
    let discovery: Value =
        get_json(&http, &format!("{own}/.well-known/openid-configuration")).await?;
    if discovery["issuer"] != own {
        return Err(Problem::OtherIssuer);
    }
    let token_endpoint = discovery["token_endpoint"]
        .as_str()
        .ok_or(Problem::Missing("token_endpoint"))?;
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
        .map_err(|e| Problem::NotAnswered(Source::TokenEndpoint, e))?;
    let tokens = json_of(response, Source::TokenResponse).await?;
    if let Some(error) = tokens["error"].as_str() {
        return Err(Problem::TokenError {
            error: error.to_owned(),
            description: tokens["error_description"].to_string(),
        });
    }
    let id_token = tokens["id_token"]
        .as_str()
        .ok_or(Problem::Missing("id_token"))?;
    let access_token = tokens["access_token"]
        .as_str()
        .ok_or(Problem::Missing("access_token"))?;
    let jwks_uri = discovery["jwks_uri"]
        .as_str()
        .ok_or(Problem::Missing("jwks_uri"))?;
    let jwks = get_json(&http, jwks_uri).await?;
    let (alg, kid, claims) = verify_with_jwks(id_token, &jwks)?;
    let now = now_epoch_seconds();
    if claims["iss"] != own || claims["aud"] != DEMO_CLIENT_ID {
        return Err(Problem::WrongIssuerOrAudience);
    }
    if claims["exp"].as_i64().is_none_or(|exp| now >= exp) {
        return Err(Problem::Expired);
    }
    if claims["nonce"] != nonce {
        return Err(Problem::WrongNonce);
    }
    let at_hash = URL_SAFE_NO_PAD.encode(&Sha256::digest(access_token.as_bytes())[..16]);
    if claims["at_hash"] != at_hash.as_str() {
        return Err(Problem::WrongAtHash);
    }
    let userinfo_endpoint = discovery["userinfo_endpoint"]
        .as_str()
        .ok_or(Problem::Missing("userinfo_endpoint"))?;
    let response = http
        .get(userinfo_endpoint)
        .bearer_auth(access_token)
        .send()
        .await
        .map_err(|e| Problem::NotAnswered(Source::Userinfo, e))?;
    let userinfo = json_of(response, Source::Userinfo).await?;
    if userinfo["sub"] != claims["sub"] {
        return Err(Problem::UserinfoSubDiffers);
    }
    Ok(SignedIn {
        alg,
        kid,
        claims,
        userinfo,
    })
}

async fn get_json(http: &reqwest::Client, url: &str) -> Result<Value, Problem> {
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| Problem::NotAnswered(Source::Url(url.to_owned()), e))?;
    json_of(response, Source::Url(url.to_owned())).await
}

async fn json_of(response: reqwest::Response, what: Source) -> Result<Value, Problem> {
    let text = match response.text().await {
        Ok(text) => text,
        Err(e) => return Err(Problem::Unreadable(what, e)),
    };
    serde_json::from_str(&text).map_err(|_| Problem::NotJson(what))
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
fn verify_with_jwks(token: &str, jwks: &Value) -> Result<(String, String, Value), Problem> {
    let decode = |part: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|_| Problem::NotBase64url)
    };
    let mut parts = token.split('.');
    let (Some(head), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Problem::NotCompactJws);
    };
    let header: Value = serde_json::from_slice(&decode(head)?).map_err(|_| Problem::BadHeader)?;
    let kid = header["kid"].as_str().ok_or(Problem::NoKid)?;
    let key = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kid"] == kid))
        .ok_or(Problem::KidNotInJwks)?;
    let alg = header["alg"].as_str().unwrap_or("");
    let message = format!("{head}.{payload}");
    let signature = decode(signature)?;
    let field = |name: &'static str| {
        key[name]
            .as_str()
            .ok_or(Problem::JwkLacks(name))
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
        _ => return Err(Problem::AlgDoesNotFitKey(alg.to_owned())),
    };
    if !verified {
        return Err(Problem::BadSignature);
    }
    let claims = serde_json::from_slice(&decode(payload)?).map_err(|_| Problem::BadPayload)?;
    Ok((alg.to_owned(), kid.to_owned(), claims))
}

fn claims_table(claims: &Value, lang: Lang) -> maud::Markup {
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
            tr { th { (lang.pick("claim", "声明")) } th { (lang.pick("value", "值")) } }
            @for (name, value) in rows {
                tr { th { (name) } td { (value) } }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_read_naturally_in_both_languages() {
        let cases = [
            (
                Problem::NotJson(Source::Url(
                    "http://127.0.0.1:3000/.well-known/jwks.json".into(),
                )),
                "http://127.0.0.1:3000/.well-known/jwks.json is not JSON",
                "http://127.0.0.1:3000/.well-known/jwks.json 返回的不是 JSON",
            ),
            (
                Problem::NotJson(Source::TokenResponse),
                "the token response is not JSON",
                "令牌端点返回的不是 JSON",
            ),
            (
                Problem::NotJson(Source::Userinfo),
                "userinfo is not JSON",
                "userinfo 接口返回的不是 JSON",
            ),
            (
                Problem::WrongIss("http://127.0.0.1:3000".into()),
                "the response's iss is not http://127.0.0.1:3000 (RFC 9207)",
                "响应中的 iss 不是 http://127.0.0.1:3000（RFC 9207）",
            ),
            (
                Problem::ProviderError {
                    error: "access_denied".into(),
                    description: "the user declined".into(),
                },
                "the provider answered access_denied: the user declined",
                "提供方返回了 access_denied：the user declined",
            ),
            (Problem::Missing("id_token"), "no id_token", "缺少 id_token"),
        ];
        for (problem, en, zh) in cases {
            assert_eq!(problem.explain(Lang::En), en);
            assert_eq!(problem.explain(Lang::ZhCn), zh);
        }
        assert_eq!(gap_before("令牌端点"), "");
        assert_eq!(gap_before("http://x"), " ");
        assert_eq!(gap_after("userinfo 接口"), "");
        assert_eq!(gap_after("http://x"), " ");
    }
}
