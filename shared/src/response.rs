//! How the gateway's answers look on the wire. Every response gets the same security
//! headers; error bodies are JSON, or HTML for browsers.

use http::{HeaderValue, Response, StatusCode, header};

use crate::error::RequestError;
use crate::error_page;
use crate::lang::Lang;
use crate::redirect::form_post::form_post_page;
use crate::redirect::result_url::result_url;
use crate::return_url::ReturnUrl;
use crate::scope::ResponseMode;

pub type GatewayResponse = Response<String>;

/// For HTML pages: nothing may load or run; inline styles only.
const HTML_CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

pub fn redirect(location: &str) -> GatewayResponse {
    match HeaderValue::from_str(location) {
        Ok(value) => {
            let mut response = with_headers(StatusCode::FOUND, String::new());
            response.headers_mut().insert(header::LOCATION, value);
            response
        }
        // Locations are built from percent-encoded parts; this cannot happen, and if it
        // did, a 500 is better than a mangled redirect.
        Err(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "bad redirect".into()),
    }
}

/// Hands a finished login's result (or an authorization response) to the front end or
/// relying party at `return_url`, as the response mode asks.
pub fn result(
    return_url: &ReturnUrl,
    mode: ResponseMode,
    fields: &[(String, String)],
    lang: Lang,
) -> GatewayResponse {
    let url = {
        let pairs: Vec<(&str, &str)> = fields
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        result_url(return_url, mode, &pairs)
    };
    match mode {
        ResponseMode::Query | ResponseMode::Fragment => redirect(&url),
        ResponseMode::FormPost => {
            let (page, csp) = form_post_page(&url, &return_url.origin(), fields, lang);
            let mut r = with_headers(StatusCode::OK, page);
            set(&mut r, header::CONTENT_TYPE, "text/html; charset=utf-8");
            // Under `no-referrer` a browser sends `Origin: null` with the cross-origin POST,
            // which relying parties that check Origin (CSRF defences) refuse. `origin` sends
            // the gateway's origin alone, never this page's URL, whose query holds the
            // code and the state.
            set(&mut r, header::REFERRER_POLICY, "origin");
            if let Ok(csp) = HeaderValue::from_str(&csp) {
                r.headers_mut().insert(header::CONTENT_SECURITY_POLICY, csp);
            }
            r
        }
    }
}

/// Adds `Set-Cookie` headers.
pub fn with_cookies(mut response: GatewayResponse, cookies: &[String]) -> GatewayResponse {
    for cookie in cookies {
        if let Ok(value) = HeaderValue::from_str(cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    response
}

/// A refusal: an HTML page in `html`'s language when the client prefers HTML, else JSON.
pub fn error(err: &RequestError, html: Option<Lang>) -> GatewayResponse {
    let mut response = if let Some(lang) = html {
        let mut r = with_headers(err.status(), error_page::render(err, lang));
        set(&mut r, header::CONTENT_TYPE, "text/html; charset=utf-8");
        set(&mut r, header::CONTENT_SECURITY_POLICY, HTML_CSP);
        r
    } else {
        let body = serde_json::json!({
            "error": err.code(),
            "error_description": err.description(),
        })
        .to_string();
        let mut r = with_headers(err.status(), body);
        set(&mut r, header::CONTENT_TYPE, "application/json");
        r
    };
    if let RequestError::MethodNotAllowed(allow) = err {
        set(&mut response, header::ALLOW, allow);
    }
    if err.status() == StatusCode::SERVICE_UNAVAILABLE {
        // The store recovers by itself (throttling, a network blip): say when to retry.
        set(&mut response, header::RETRY_AFTER, "1");
    }
    response
}

/// A JSON body with the common headers (`no-store` included: token responses must not be
/// cached, RFC 6749 §5.1).
pub fn json(status: StatusCode, body: &serde_json::Value) -> GatewayResponse {
    let mut r = with_headers(status, body.to_string());
    set(&mut r, header::CONTENT_TYPE, "application/json");
    set(&mut r, header::PRAGMA, "no-cache");
    r
}

/// A public JSON document (discovery, JWKS): cacheable for five minutes, so a rotated key
/// is picked up soon, and readable by browser-based relying parties.
pub fn public_json(body: &serde_json::Value) -> GatewayResponse {
    let mut r = with_headers(StatusCode::OK, body.to_string());
    set(&mut r, header::CONTENT_TYPE, "application/json");
    set(&mut r, header::CACHE_CONTROL, "public, max-age=300");
    set(&mut r, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    r
}

/// Lets browser-based relying parties (single-page apps with PKCE) call an endpoint that
/// uses no cookies: any origin, no credentials.
pub fn allow_any_origin(mut r: GatewayResponse) -> GatewayResponse {
    set(&mut r, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    r
}

/// The answer to a CORS preflight for `methods`.
pub fn preflight(methods: &'static str) -> GatewayResponse {
    let mut r = with_headers(StatusCode::NO_CONTENT, String::new());
    set(&mut r, header::ACCESS_CONTROL_ALLOW_ORIGIN, "*");
    set(&mut r, header::ACCESS_CONTROL_ALLOW_METHODS, methods);
    set(
        &mut r,
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        "Authorization, Content-Type",
    );
    set(&mut r, header::ACCESS_CONTROL_MAX_AGE, "600");
    r
}

pub fn plain(status: StatusCode, body: String) -> GatewayResponse {
    let mut r = with_headers(status, body);
    set(&mut r, header::CONTENT_TYPE, "text/plain; charset=utf-8");
    r
}

/// A response with the headers every answer carries.
pub fn with_headers(status: StatusCode, body: String) -> GatewayResponse {
    let mut r = Response::new(body);
    *r.status_mut() = status;
    set(&mut r, header::CACHE_CONTROL, "no-store");
    set(&mut r, header::REFERRER_POLICY, "no-referrer");
    set(&mut r, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    r
}

/// How long a browser that saw the gateway over https keeps to https for it (one year,
/// its host only: `includeSubDomains` would bind sites wxauth does not own).
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// `Strict-Transport-Security` on a response sent over https: a later plain-http link to
/// the gateway (where a network could rewrite the redirect to WeChat or back) is upgraded
/// by the browser first.
pub fn with_hsts(mut r: GatewayResponse) -> GatewayResponse {
    set(
        &mut r,
        header::STRICT_TRANSPORT_SECURITY,
        STRICT_TRANSPORT_SECURITY,
    );
    r
}

fn set(r: &mut GatewayResponse, name: header::HeaderName, value: &'static str) {
    r.headers_mut()
        .insert(name, HeaderValue::from_static(value));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::return_url::ReturnUrlError;

    #[test]
    fn errors_never_redirect_and_escape_what_they_echo() {
        let err =
            RequestError::ReturnUrl(ReturnUrlError::NotCanonical("https://x/<script>".into()));
        let html = error(&err, Some(Lang::En));
        assert_eq!(html.status(), 400);
        assert!(html.headers().get(header::LOCATION).is_none());
        assert!(html.body().contains("&lt;script&gt;"));
        assert!(!html.body().contains("<script>"));
        assert_eq!(html.headers()[header::CONTENT_SECURITY_POLICY], HTML_CSP);
        let json = error(&err, None);
        let body: serde_json::Value = serde_json::from_str(json.body()).unwrap();
        assert_eq!(body["error"], "invalid_request");
        assert_eq!(json.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(json.headers()[header::REFERRER_POLICY], "no-referrer");
    }

    #[test]
    fn redirects_carry_the_security_headers() {
        let r = redirect("https://app.example.com/?openid=o1");
        assert_eq!(r.status(), 302);
        assert_eq!(
            r.headers()[header::LOCATION],
            "https://app.example.com/?openid=o1"
        );
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
        assert_eq!(r.headers()[header::REFERRER_POLICY], "no-referrer");
    }
}
