//! `/demo/result`, the demo's return URL: every parameter that came back, and whether the
//! token verifies (for this page's origin, with the demo key).

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::Response;
use http::{HeaderMap, StatusCode};
use maud::{Markup, html};
use wxauth_core::login_state::now_epoch_seconds;
use wxauth_core::token::{self, ResultClaims};

use super::layout::page;
use super::{DemoSite, page_origin};

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
    let first = |wanted: &str| {
        params
            .iter()
            .find(|(name, _)| name == wanted)
            .map(|(_, value)| value.as_str())
    };

    let body = if params.is_empty() {
        html! {
            h1 { "Login result" }
            p {
                "Nothing came back here yet. Start a login from the "
                a href="/" { "demo page" } "."
            }
        }
    } else {
        html! {
            h1 { "Login result" }
            @if let Some(error) = first("error") {
                p.bad {
                    "The login did not succeed: " code { (error) }
                    @if let Some(description) = first("error_description") {
                        " (" (description) ")"
                    }
                }
            } @else if let Some(openid) = first("openid") {
                p.ok { "Signed in as openid " code { (openid) } "." }
            }
            h2 { "Parameters" }
            table {
                tr { th { "name" } th { "value" } }
                @for (name, value) in &params {
                    tr { th { (name) } td { (value) } }
                }
            }
            h2 { "Token" }
            (token_section(site, headers, &params, first("openid")))
            p { a href="/" { "Back to the demo" } }
        }
    };
    page(site, StatusCode::OK, "Login result", body)
}

fn token_section(
    site: &DemoSite,
    headers: &HeaderMap,
    params: &[(String, String)],
    openid: Option<&str>,
) -> Markup {
    let tokens: Vec<&str> = params
        .iter()
        .filter(|(name, _)| name == "token")
        .map(|(_, value)| value.as_str())
        .collect();
    let token = match tokens.as_slice() {
        [] => return html! { p { "No token came back (a login that fails carries none)." } },
        [token] => *token,
        _ => {
            return html! {
                p.bad { "Token not verified: more than one token came back." }
            };
        }
    };
    let Some(audience) = page_origin(headers) else {
        return html! {
            p.bad {
                "Token not verified: this request's Host header is not a valid host[:port], \
                 so the page cannot tell its own origin."
            }
        };
    };
    let now = now_epoch_seconds();
    match token::verify(token, &site.signing_key, Some(&audience), now) {
        Ok(claims) => html! {
            p.ok {
                "Token verified: signed with the demo key (HS256), not expired, and issued \
                 for this page's origin " code { (audience) } "."
            }
            @if openid != Some(claims.sub.as_str()) {
                p.bad {
                    "Its subject differs from the " code { "openid" } " parameter: trust the \
                     token, not the parameter."
                }
            }
            (claims_table(&claims, now))
        },
        Err(err) => html! { p.bad { "Token not verified: " (err) "." } },
    }
}

fn claims_table(claims: &ResultClaims, now: i64) -> Markup {
    let mut rows: Vec<(&str, String)> = vec![
        ("iss", claims.iss.clone()),
        ("aud", claims.aud.clone()),
        ("sub", claims.sub.clone()),
        ("scope", claims.scope.clone()),
        ("iat", claims.iat.to_string()),
        ("exp", format!("{} (in {} s)", claims.exp, claims.exp - now)),
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
            tr { th { "claim" } th { "value" } }
            @for (name, value) in rows {
                tr { th { (name) } td { (value) } }
            }
        }
    }
}
