//! What every demo page shares: the HTML shell, the style sheet and the security headers.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use maud::{DOCTYPE, Markup, PreEscaped, html};
use wxauth_core::lang::Lang;

use super::DemoSite;

/// Inline (the CSP allows inline styles and nothing else), fixed, and the only unescaped
/// text on any page.
const STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;max-width:44em;margin:2.5em auto;\
padding:0 1em;color:#222}h1{font-size:1.6em}h2{font-size:1.15em;margin-top:1.6em}\
code{background:#f3f3f3;padding:0 .2em;word-break:break-all}\
input{font:inherit;padding:.4em .6em;border:1px solid #bbb;border-radius:6px}\
button,a.button{display:inline-block;font:inherit;padding:.5em 1em;border:0;border-radius:6px;\
background:#07c160;color:#fff;text-decoration:none;cursor:pointer;margin:.2em 0}\
.actions{margin:1.5em 0}table{border-collapse:collapse;width:100%}\
th,td{text-align:left;vertical-align:top;padding:.35em .6em;border-bottom:1px solid #e5e5e5}\
td{font-family:ui-monospace,Menlo,monospace;font-size:.9em;word-break:break-all}\
.ok{color:#0a7a3a;font-weight:600}.bad{color:#b3261e;font-weight:600}\
.note{color:#666;font-size:.9em}";

/// A whole page around `body` in `lang`, with the demo's headers.
pub(super) fn page(
    site: &DemoSite,
    lang: Lang,
    status: StatusCode,
    title: &str,
    body: Markup,
) -> Response {
    let html = html! {
        (DOCTYPE)
        html lang=(lang.tag()) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { (title) }
                style { (PreEscaped(STYLE)) }
            }
            body { (body) }
        }
    };
    let mut response = (status, html.into_string()).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(headers, site);
    response
}

/// The headers every demo answer carries: nothing cached, nothing leaked, nothing run.
pub(super) fn secure(headers: &mut HeaderMap, site: &DemoSite) {
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CONTENT_SECURITY_POLICY, site.csp.clone());
}
