//! The demo's own pages: `/` to pick a WeChat user and start a login, `/demo/user` to
//! remember the user (a cookie the simulated WeChat reads), `/demo/result` to show what a
//! front end gets back and whether the token checks out. No scripts anywhere.

use std::sync::Arc;

use axum::Router;
use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cookie::time::Duration;
use cookie::{Cookie, SameSite};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use url::Url;
use wechat_simulator::{DEFAULT_USER, USER_COOKIE};
use wxauth_core::html::escape;
use wxauth_core::login_state::now_epoch_seconds;
use wxauth_core::token::{self, ResultClaims};
use wxauth_core::{BaseUrl, SigningKey};

use crate::server::host;

/// The longest user name `/demo/user` keeps.
const MAX_USER_CHARS: usize = 64;
/// How long the browser remembers the chosen user.
const USER_COOKIE_MAX_AGE: Duration = Duration::days(30);

pub(crate) struct DemoSite {
    port: u16,
    signing_key: SigningKey,
    csp: HeaderValue,
}

impl DemoSite {
    pub(crate) fn new(port: u16, signing_key: SigningKey) -> Self {
        // The user form may be sent to either loopback name: see `set_user`.
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
        .route("/", get(landing))
        .route("/demo/user", get(set_user))
        .route("/demo/result", get(result_in_query).post(result_in_form))
        .with_state(site)
}

/// The page's own origin (`http://host[:port]`) from its Host header, if that is valid.
fn page_origin(headers: &HeaderMap) -> Option<String> {
    let base = BaseUrl::from_host_header("http", host(headers)?).ok()?;
    let url = Url::parse(base.as_str()).ok()?;
    Some(url.origin().ascii_serialization())
}

async fn landing(State(site): State<Arc<DemoSite>>, headers: HeaderMap) -> Response {
    let origin = page_origin(&headers);
    let own = origin.clone().unwrap_or_else(|| site.canonical_origin());
    let return_url = format!("{own}/demo/result");
    let login = |scope: &str, mode: Option<&str>| {
        let mut query = form_urlencoded::Serializer::new(String::new());
        query
            .append_pair("url", &return_url)
            .append_pair("scope", scope);
        if let Some(mode) = mode {
            query.append_pair("response_mode", mode);
        }
        escape(&format!("/auth?{}", query.finish()))
    };
    let user = cookie_user(&headers).unwrap_or_else(|| DEFAULT_USER.to_owned());

    let mut body = String::from("<h1>wxauth demo</h1>");
    let on_loopback = origin
        .as_deref()
        .is_some_and(|o| o == site.canonical_origin() || o == site.localhost_origin());
    if !on_loopback {
        let canonical = escape(&site.canonical_origin());
        body.push_str(&format!(
            "<p class=\"bad\">This page was reached under another name than the demo's. \
             Open <a href=\"{canonical}/\">{canonical}/</a> instead: the simulated WeChat \
             lives there.</p>"
        ));
    }
    body.push_str(&format!(
        "<p>This is wxauth, a WeChat web-authorization gateway, running on your machine \
         against a simulated WeChat, so you can try a login without an Official Account. \
         Choose who is holding the phone, log in, and see exactly what your front end \
         would get back.</p>\
         <form method=\"get\" action=\"/demo/user\">\
         <label for=\"name\">WeChat user name</label> \
         <input id=\"name\" name=\"name\" value=\"{user}\" maxlength=\"{MAX_USER_CHARS}\" \
         autocomplete=\"off\"> <button type=\"submit\">Use this user</button></form>\
         <p class=\"actions\">\
         <a class=\"button\" href=\"{base}\">Log in (silent, snsapi_base)</a> \
         <a class=\"button\" href=\"{userinfo}\">Log in (with profile, snsapi_userinfo)</a> \
         <a class=\"button\" href=\"{form_post}\">Log in (with profile, result by form_post)</a>\
         </p>\
         <p class=\"note\">You come back to <code>{return_url}</code>. Result tokens are \
         signed with the demo key printed in the terminal; set <code>WECHAT_APP_ID</code> \
         and the other variables to use a real Official Account.</p>",
        user = escape(&user),
        base = login("snsapi_base", None),
        userinfo = login("snsapi_userinfo", None),
        form_post = login("snsapi_userinfo", Some("form_post")),
        return_url = escape(&return_url),
    ));
    page(&site, StatusCode::OK, "wxauth demo", &body)
}

/// Remembers the user in the cookie the simulated WeChat reads, then goes back to `/`.
///
/// Cookies belong to a host name, and the simulated WeChat is reached as 127.0.0.1 (that
/// is its configured address). A page opened as `localhost` therefore has the cookie set
/// for both names: once here, once on a hop through 127.0.0.1 that returns to localhost.
async fn set_user(
    State(site): State<Arc<DemoSite>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Response {
    let query = raw.unwrap_or_default();
    let param = |wanted: &str| {
        form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| name == wanted)
            .map(|(_, value)| value.into_owned())
    };
    let name: String = param("name")
        .unwrap_or_default()
        .trim()
        .chars()
        .take(MAX_USER_CHARS)
        .collect();
    let name = name.trim();

    let location = if param("from").as_deref() == Some("localhost") {
        // A fixed address, whatever the request says: not an open redirect.
        format!("{}/", site.localhost_origin())
    } else if page_origin(&headers) == Some(site.localhost_origin()) {
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("name", name)
            .append_pair("from", "localhost")
            .finish();
        format!("{}/demo/user?{query}", site.canonical_origin())
    } else {
        "/".to_owned()
    };

    let mut response = StatusCode::SEE_OTHER.into_response();
    let headers = response.headers_mut();
    secure(headers, &site);
    if let (Ok(location), Ok(cookie)) = (
        HeaderValue::from_str(&location),
        HeaderValue::from_str(&user_cookie(name).to_string()),
    ) {
        headers.insert(header::LOCATION, location);
        headers.insert(header::SET_COOKIE, cookie);
    }
    response
}

/// The return URL: every parameter that came back, and whether the token verifies.
async fn result_in_query(
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
async fn result_in_form(
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

    let mut body = String::from("<h1>Login result</h1>");
    if params.is_empty() {
        body.push_str(
            "<p>Nothing came back here yet. Start a login from the \
             <a href=\"/\">demo page</a>.</p>",
        );
        return page(site, StatusCode::OK, "Login result", &body);
    }

    if let Some(error) = first("error") {
        body.push_str(&format!(
            "<p class=\"bad\">The login did not succeed: <code>{}</code>{}</p>",
            escape(error),
            first("error_description")
                .map(|d| format!(" ({})", escape(d)))
                .unwrap_or_default()
        ));
    } else if let Some(openid) = first("openid") {
        body.push_str(&format!(
            "<p class=\"ok\">Signed in as openid <code>{}</code>.</p>",
            escape(openid)
        ));
    }

    body.push_str("<h2>Parameters</h2><table><tr><th>name</th><th>value</th></tr>");
    for (name, value) in &params {
        body.push_str(&format!(
            "<tr><th>{}</th><td>{}</td></tr>",
            escape(name),
            escape(value)
        ));
    }
    body.push_str("</table>");

    body.push_str("<h2>Token</h2>");
    body.push_str(&token_section(site, headers, &params, first("openid")));
    body.push_str("<p><a href=\"/\">Back to the demo</a></p>");
    page(site, StatusCode::OK, "Login result", &body)
}

fn token_section(
    site: &DemoSite,
    headers: &HeaderMap,
    params: &[(String, String)],
    openid: Option<&str>,
) -> String {
    let tokens: Vec<&str> = params
        .iter()
        .filter(|(name, _)| name == "token")
        .map(|(_, value)| value.as_str())
        .collect();
    let token = match tokens.as_slice() {
        [] => return "<p>No token came back (a login that fails carries none).</p>".into(),
        [token] => *token,
        _ => {
            return "<p class=\"bad\">Token not verified: more than one token came back.</p>"
                .into();
        }
    };
    let Some(audience) = page_origin(headers) else {
        return "<p class=\"bad\">Token not verified: this request's Host header is not a \
                valid host[:port], so the page cannot tell its own origin.</p>"
            .into();
    };
    let now = now_epoch_seconds();
    match token::verify(token, &site.signing_key, Some(&audience), now) {
        Ok(claims) => {
            let mut out = format!(
                "<p class=\"ok\">Token verified: signed with the demo key (HS256), not \
                 expired, and issued for this page's origin <code>{}</code>.</p>",
                escape(&audience)
            );
            if openid != Some(claims.sub.as_str()) {
                out.push_str(
                    "<p class=\"bad\">Its subject differs from the <code>openid</code> \
                     parameter: trust the token, not the parameter.</p>",
                );
            }
            out.push_str(&claims_table(&claims, now));
            out
        }
        Err(err) => format!(
            "<p class=\"bad\">Token not verified: {}.</p>",
            escape(&err.to_string())
        ),
    }
}

fn claims_table(claims: &ResultClaims, now: i64) -> String {
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
    let mut out = String::from("<table><tr><th>claim</th><th>value</th></tr>");
    for (name, value) in rows {
        out.push_str(&format!(
            "<tr><th>{name}</th><td>{}</td></tr>",
            escape(&value)
        ));
    }
    out.push_str("</table>");
    out
}

/// The cookie naming `name`, or clearing it when `name` is empty. Cookie values cannot
/// carry spaces or non-ASCII, so the name is percent-encoded (the simulator decodes it).
fn user_cookie(name: &str) -> Cookie<'static> {
    let (value, max_age) = if name.is_empty() {
        (String::new(), Duration::ZERO)
    } else {
        (
            utf8_percent_encode(name, NON_ALPHANUMERIC).to_string(),
            USER_COOKIE_MAX_AGE,
        )
    };
    Cookie::build((USER_COOKIE, value))
        .path("/")
        .max_age(max_age)
        .same_site(SameSite::Lax)
        .http_only(true)
        .build()
}

/// The simulated user named by this browser's cookie, if any. Read as the simulator reads
/// it: the first cookie of that name, surrounding quotes dropped, percent-decoded.
fn cookie_user(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        // A pair that does not parse (no `=`, no name) is skipped, as a browser would.
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == USER_COOKIE)
        .map(|cookie| {
            percent_decode_str(cookie.value().trim_matches('"'))
                .decode_utf8_lossy()
                .into_owned()
        })
        .filter(|value| !value.trim().is_empty())
}

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

/// A page; `body_html` must already be escaped.
fn page(site: &DemoSite, status: StatusCode, title: &str, body_html: &str) -> Response {
    let html = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\
         <title>{}</title><style>{STYLE}</style></head><body>{body_html}</body></html>\n",
        escape(title)
    );
    let mut response = (status, html).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    secure(headers, site);
    response
}

/// The headers every demo answer carries: nothing cached, nothing leaked, nothing run.
fn secure(headers: &mut HeaderMap, site: &DemoSite) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_user_is_decoded() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; broken; wechat_sim_user=\"alice%20w\"; b=2"),
        );
        assert_eq!(cookie_user(&headers).as_deref(), Some("alice w"));
        assert_eq!(cookie_user(&HeaderMap::new()), None);

        // Several Cookie headers (HTTP/2 may split them); the first of the name counts.
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, HeaderValue::from_static("a=1"));
        headers.append(
            header::COOKIE,
            HeaderValue::from_static("wechat_sim_user=%E5%BC%A0; wechat_sim_user=bob"),
        );
        assert_eq!(cookie_user(&headers).as_deref(), Some("张"));
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("wechat_sim_user=%20"),
        );
        assert_eq!(cookie_user(&headers), None);
    }

    #[test]
    fn the_user_cookie_is_set_encoded_and_cleared_when_empty() {
        let set = user_cookie("Bob <Li>").to_string();
        assert!(set.starts_with("wechat_sim_user=Bob%20%3CLi%3E;"), "{set}");
        for attribute in ["Path=/", "Max-Age=2592000", "SameSite=Lax", "HttpOnly"] {
            assert!(
                set.split("; ").any(|a| a == attribute),
                "{attribute}: {set}"
            );
        }
        let cleared = user_cookie("").to_string();
        assert!(cleared.starts_with("wechat_sim_user=;"), "{cleared}");
        assert!(cleared.contains("; Max-Age=0"), "{cleared}");
    }

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
