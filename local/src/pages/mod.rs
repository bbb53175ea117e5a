//! The demo's own pages: `/` to pick a WeChat user and start a login, `/demo/user` to
//! remember the user (a cookie the simulated WeChat reads), `/demo/result` to show what a
//! front end gets back and whether the token checks out; `/demo/oidc/…`, a relying party
//! that logs in through the OpenID Provider. No scripts anywhere.
//!
//! Every page speaks the visitor's language (`Accept-Language`: Simplified Chinese or
//! English, as the gateway's own pages); technical values (parameter and claim names,
//! codes, `error` values) are shown as they are.
//!
//! The pages are maud templates: every spliced value is HTML-escaped unless a template
//! says otherwise, and only the fixed style sheet does.

mod landing;
mod layout;
mod oidc;
mod result;
mod user;

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use http::{HeaderMap, HeaderValue};
use url::Url;
use wxauth_core::lang::Lang;
use wxauth_core::{BaseUrl, SigningKey};

use crate::host::host;

pub(crate) struct DemoSite {
    port: u16,
    signing_key: SigningKey,
    csp: HeaderValue,
}

impl DemoSite {
    pub(crate) fn new(port: u16, signing_key: SigningKey) -> Self {
        // The user form may be sent to either loopback name: see `user::set_user`.
        let csp = format!(
            "default-src 'none'; style-src 'unsafe-inline'; \
             form-action 'self' http://127.0.0.1:{port} http://localhost:{port}; \
             base-uri 'none'; frame-ancestors 'none'"
        );
        Self {
            port,
            signing_key,
            csp: HeaderValue::from_str(&csp).expect("the policy is ASCII"),
        }
    }

    /// Where the simulated WeChat lives, and so where its user cookie must be set.
    fn canonical_origin(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn localhost_origin(&self) -> String {
        format!("http://localhost:{}", self.port)
    }
}

pub(crate) fn router(site: Arc<DemoSite>) -> Router {
    Router::new()
        .route("/", get(landing::landing))
        .route("/demo/user", get(user::set_user))
        .route("/demo/oidc/start", get(oidc::start))
        .route(crate::demo::DEMO_OIDC_CALLBACK, get(oidc::callback))
        .route(
            "/demo/result",
            get(result::result_in_query).post(result::result_in_form),
        )
        .with_state(site)
}

/// The visitor's language, from `Accept-Language` (WeChat sends `zh-CN`), as the gateway's
/// own pages choose it.
fn page_lang(headers: &HeaderMap) -> Lang {
    Lang::from_accept_language(
        headers
            .get(http::header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The page's own origin (`http://host[:port]`) from its Host header, if that is valid.
fn page_origin(headers: &HeaderMap) -> Option<String> {
    let base = BaseUrl::from_host_header("http", host(headers)?).ok()?;
    let url = Url::parse(base.as_str()).ok()?;
    Some(url.origin().ascii_serialization())
}

#[cfg(test)]
mod tests {
    use http::header;

    use super::*;

    #[test]
    fn the_page_origin_comes_from_one_valid_host_header() {
        let mut headers = HeaderMap::new();
        assert_eq!(page_origin(&headers), None);
        headers.insert(header::HOST, HeaderValue::from_static("LocalHost:3000"));
        assert_eq!(
            page_origin(&headers).as_deref(),
            Some("http://localhost:3000")
        );
        headers.append(header::HOST, HeaderValue::from_static("evil.com"));
        assert_eq!(page_origin(&headers), None);
        headers.insert(header::HOST, HeaderValue::from_static("evil.com/x"));
        assert_eq!(page_origin(&headers), None);
    }
}
