//! `/demo/result`, the demo's return URL: every parameter that came back, and whether the
//! token verifies (for this page's origin, with the demo key).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use maud::{Markup, html};
use wxauth_core::lang::Lang;
use wxauth_core::login_state::now_epoch_seconds;
use wxauth_core::token::{self, ResultClaims, TokenError};

use super::layout::page;
use super::{DemoSite, page_lang, page_origin};

/// `response_mode=query`: the parameters in the query.
pub(super) async fn result_in_query(
    State(site): State<Arc<DemoSite>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let params = form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
        .into_owned()
        .collect();
    result(&site, &headers, params)
}

/// `response_mode=form_post`: the same result, POSTed as a form.
pub(super) async fn result_in_form(
    State(site): State<Arc<DemoSite>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    let params = form_urlencoded::parse(&body).into_owned().collect();
    result(&site, &headers, params)
}

fn result(site: &DemoSite, headers: &HeaderMap, params: Vec<(String, String)>) -> Response {
    let lang = page_lang(headers);
    let t = |en: &'static str, zh: &'static str| lang.pick(en, zh);
    let first = |wanted: &str| {
        params
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, value)| value.as_str())
    };
    let title = t("Login result", "登录结果");

    let body = if params.is_empty() {
        html! {
            h1 { (title) }
            p {
                @match lang {
                    Lang::En => {
                        "Nothing came back here yet. Start a login from the "
                        a href="/" { "demo page" } "."
                    }
                    Lang::ZhCn => {
                        "这里还没有收到任何结果。请从" a href="/" { "演示页面" } "开始登录。"
                    }
                }
            }
        }
    } else {
        html! {
            h1 { (title) }
            @if let Some(error) = first("error") {
                p.bad {
                    (t("The login did not succeed: ", "登录没有成功：")) code { (error) }
                    @if let Some(description) = first("error_description") {
                        (t(" (", "（")) (description) (t(")", "）"))
                    }
                }
            } @else if let Some(openid) = first("openid") {
                p.ok {
                    (t("Signed in as openid ", "已登录，openid 为 ")) code { (openid) }
                    (t(".", "。"))
                }
            }
            h2 { (t("Parameters", "参数")) }
            table {
                tr { th { (t("name", "参数名")) } th { (t("value", "值")) } }
                @for (name, value) in &params {
                    tr { th { (name) } td { (value) } }
                }
            }
            h2 { (t("Token", "令牌")) }
            (token_section(site, lang, headers, &params, first("openid")))
            p { a href="/" { (t("Back to the demo", "返回演示")) } }
        }
    };
    page(site, lang, StatusCode::OK, title, body)
}

fn token_section(
    site: &DemoSite,
    lang: Lang,
    headers: &HeaderMap,
    params: &[(String, String)],
    openid: Option<&str>,
) -> Markup {
    let t = |en: &'static str, zh: &'static str| lang.pick(en, zh);
    let tokens: Vec<&str> = params
        .iter()
        .filter(|(name, _)| name == "token")
        .map(|(_, value)| value.as_str())
        .collect();
    let token = match tokens.as_slice() {
        [] => {
            return html! {
                p {
                    (t(
                        "No token came back (a login that fails carries none).",
                        "没有收到令牌（登录失败时不会带令牌）。",
                    ))
                }
            };
        }
        [token] => *token,
        _ => {
            return html! {
                p.bad {
                    (t(
                        "Token not verified: more than one token came back.",
                        "令牌未校验：收到了不止一个令牌。",
                    ))
                }
            };
        }
    };
    let Some(audience) = page_origin(headers) else {
        return html! {
            p.bad {
                (t(
                    "Token not verified: this request's Host header is not a valid \
                     host[:port], so the page cannot tell its own origin.",
                    "令牌未校验：这个请求的 Host 头不是合法的 host[:port]，\
                     页面无法确定自己的来源（origin）。",
                ))
            }
        };
    };
    let now = now_epoch_seconds();
    match token::verify(token, &site.signing_key, Some(&audience), now) {
        Ok(claims) => html! {
            p.ok {
                @match lang {
                    Lang::En => {
                        "Token verified: signed with the demo key (HS256), not expired, and \
                         issued for this page's origin " code { (audience) } "."
                    }
                    Lang::ZhCn => {
                        "令牌校验通过：由演示密钥签名（HS256）、未过期，且签发给本页面的来源 "
                        code { (audience) } "。"
                    }
                }
            }
            @if openid != Some(claims.sub.as_str()) {
                p.bad {
                    @match lang {
                        Lang::En => {
                            "Its subject differs from the " code { "openid" } " parameter: \
                             trust the token, not the parameter."
                        }
                        Lang::ZhCn => {
                            "令牌的主体（sub）与 " code { "openid" } " 参数不一致：\
                             请以令牌为准，不要相信参数。"
                        }
                    }
                }
            }
            (claims_table(&claims, lang, now))
        },
        Err(err) => html! {
            p.bad {
                @match lang {
                    Lang::En => { "Token not verified: " (err) "." }
                    Lang::ZhCn => { "令牌校验失败：" (token_error_zh(&err)) "。" }
                }
            }
        },
    }
}

/// `TokenError`'s message in Chinese (its `Display` is English, for logs and JSON).
fn token_error_zh(err: &TokenError) -> &'static str {
    match err {
        TokenError::KeyTooShort => "签名密钥太短",
        TokenError::Malformed => "这不是格式正确的 JWT",
        TokenError::WrongAlgorithm => "令牌不是用 HS256 签名的",
        TokenError::WrongType => "令牌的 typ 不是 wxauth-result+jwt",
        TokenError::BadSignature => "签名不匹配",
        TokenError::Expired => "令牌已过期",
        TokenError::WrongAudience => "令牌是签发给其他来源的",
    }
}

fn claims_table(claims: &ResultClaims, lang: Lang, now: i64) -> Markup {
    let expires_in = claims.exp - now;
    let exp = match lang {
        Lang::En => format!("{} (in {expires_in} s)", claims.exp),
        Lang::ZhCn => format!("{}（{expires_in} 秒后过期）", claims.exp),
    };
    let mut rows: Vec<(&str, String)> = vec![
        ("iss", claims.iss.clone()),
        ("aud", claims.aud.clone()),
        ("sub", claims.sub.clone()),
        ("scope", claims.scope.clone()),
        ("appid", claims.appid.clone()),
        ("iat", claims.iat.to_string()),
        ("exp", exp),
        ("jti", claims.jti.clone()),
    ];
    let optional = [
        ("unionid", claims.unionid.clone()),
        ("nickname", claims.nickname.clone()),
        ("headimgurl", claims.headimgurl.clone()),
        (
            "is_snapshotuser",
            claims.is_snapshotuser.map(|v| v.to_string()),
        ),
    ];
    rows.extend(
        optional
            .into_iter()
            .filter_map(|(name, value)| value.map(|v| (name, v))),
    );
    html! {
        table {
            tr { th { (lang.pick("claim", "声明")) } th { (lang.pick("value", "值")) } }
            @for (name, value) in rows {
                tr { th { (name) } td { (value) } }
            }
        }
    }
}
