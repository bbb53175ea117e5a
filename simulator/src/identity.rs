//! Which simulated WeChat user is "holding the phone" for a browser request.

use axum::http::HeaderMap;
use axum::http::header::COOKIE;
use cookie::Cookie;

use crate::params::Params;

pub(crate) const COOKIE_NAME: &str = "wechat_sim_user";
pub(crate) const HEADER_NAME: &str = "x-wechat-sim-user";
pub(crate) const QUERY_NAME: &str = "sim_user";
pub(crate) const DEFAULT_USER: &str = "demo-user";

/// Cookie, then header, then the `sim_user` query/form field, then `demo-user`.
pub(crate) fn browser_user(headers: &HeaderMap, params: &Params) -> String {
    from_cookie(headers)
        .or_else(|| from_header(headers))
        .or_else(|| params.get(QUERY_NAME).map(str::to_owned))
        .unwrap_or_else(|| DEFAULT_USER.to_owned())
}

/// The first `wechat_sim_user` cookie, surrounding quotes dropped, percent-decoded; empty
/// counts as none.
fn from_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(Cookie::split_parse)
        // A pair that does not parse (no `=`, no name) is skipped, as a browser would.
        .filter_map(Result::ok)
        .find(|cookie| cookie.name() == COOKIE_NAME)
        .map(|cookie| cookie.value().trim_matches('"').to_owned())
        .filter(|value| !value.is_empty())
        // Cookie values cannot carry spaces or non-ASCII, so callers percent-encode such names.
        .map(|value| {
            percent_encoding::percent_decode_str(&value)
                .decode_utf8_lossy()
                .into_owned()
        })
        .filter(|value| !value.is_empty())
}

fn from_header(headers: &HeaderMap) -> Option<String> {
    headers
        .get(HEADER_NAME)
        .map(|value| String::from_utf8_lossy(value.as_bytes()).trim().to_owned())
        .filter(|value| !value.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(*name, value.parse().unwrap());
        }
        map
    }

    #[test]
    fn cookie_beats_header_beats_query() {
        let q = Params::parse(Some("sim_user=carol"));
        let both = headers(&[
            ("cookie", "a=1; novalue; wechat_sim_user=\"alice%20w\"; b=2"),
            (HEADER_NAME, "bob"),
        ]);
        assert_eq!(browser_user(&both, &q), "alice w");
        assert_eq!(browser_user(&headers(&[(HEADER_NAME, "bob")]), &q), "bob");
        assert_eq!(browser_user(&HeaderMap::new(), &q), "carol");
        assert_eq!(
            browser_user(&HeaderMap::new(), &Params::parse(None)),
            DEFAULT_USER
        );
    }

    #[test]
    fn empty_sources_fall_through() {
        let h = headers(&[("cookie", "wechat_sim_user="), (HEADER_NAME, " ")]);
        assert_eq!(
            browser_user(&h, &Params::parse(Some("sim_user=dave"))),
            "dave"
        );
    }
}
