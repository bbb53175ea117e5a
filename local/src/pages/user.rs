//! `/demo/user`: the simulated WeChat user a browser has chosen, kept in the cookie the
//! simulated WeChat reads.

use std::sync::Arc;

use axum::extract::{RawQuery, State};
use axum::response::{IntoResponse, Response};
use cookie::time::Duration;
use cookie::{Cookie, SameSite};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use percent_encoding::{NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use wechat_simulator::USER_COOKIE;

use super::layout::secure;
use super::{DemoSite, page_origin};

/// The longest user name `/demo/user` keeps.
pub(super) const MAX_USER_CHARS: usize = 64;
/// How long the browser remembers the chosen user.
const USER_COOKIE_MAX_AGE: Duration = Duration::days(30);

/// Remembers the user in the cookie the simulated WeChat reads, then goes back to `/`.
///
/// Cookies belong to a host name, and the simulated WeChat is reached as 127.0.0.1 (that
/// is its configured address). A page opened as `localhost` therefore has the cookie set
/// for both names: once here, once on a hop through 127.0.0.1 that returns to localhost.
pub(super) async fn set_user(
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
pub(super) fn cookie_user(headers: &HeaderMap) -> Option<String> {
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
}
