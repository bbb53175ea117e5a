//! Binding a login's `state` to the browser that started it (RFC 9700 §4.7): `/auth` sets a
//! cookie and stores its hash with the state; the callback must present the same cookie.
//! Without it, an attacker could start a login, stop at WeChat's redirect, and lure a
//! victim onto the callback URL to log them in as the attacker.
//!
//! One cookie per login (named after its state) lets parallel tabs each finish their own
//! login; it is scoped to the callback path and expires with the state. Over https its
//! name carries the `__Secure-` prefix: browsers then accept it only with `Secure` from an
//! https response, so a man-in-the-middle on plain http cannot plant or overwrite one.

use sha2::{Digest, Sha256};

use crate::base_url::BaseUrl;
use crate::login_state::StateId;
use crate::scope::Scope;

/// The cookie's random value, as set on the browser.
pub struct BindingCookie {
    pub name: String,
    pub value: String,
}

const PREFIX: &str = "wxauth_";
/// RFC 6265bis: a cookie so named must be set with `Secure` from a secure origin.
const SECURE_PREFIX: &str = "__Secure-";

impl BindingCookie {
    pub fn generate(state: &StateId, base_url: &BaseUrl) -> Self {
        Self {
            name: cookie_name(state, base_url),
            // A second StateId is simply 190 fresh random bits in a cookie-safe alphabet.
            value: StateId::generate().as_str().to_owned(),
        }
    }

    /// What the login stores: a hash, so a leaked item cannot be turned into the cookie.
    pub fn hash(&self) -> String {
        hash(&self.value)
    }

    /// `Set-Cookie` for `/auth`'s answer.
    pub fn set_cookie(&self, base_url: &BaseUrl, scope: Scope, max_age_seconds: u64) -> String {
        set_cookie_header(&self.name, &self.value, base_url, scope, max_age_seconds)
    }
}

/// `Set-Cookie` that keeps the cookie only for the duplicate-callback window (or removes
/// it, with 0).
pub fn refresh_cookie(
    state: &StateId,
    value: &str,
    base_url: &BaseUrl,
    scope: Scope,
    max_age_seconds: u64,
) -> String {
    set_cookie_header(
        &cookie_name(state, base_url),
        value,
        base_url,
        scope,
        max_age_seconds,
    )
}

fn set_cookie_header(
    name: &str,
    value: &str,
    base_url: &BaseUrl,
    scope: Scope,
    max_age_seconds: u64,
) -> String {
    let secure = if is_https(base_url) { "; Secure" } else { "" };
    format!(
        "{name}={value}; Path={}; Max-Age={max_age_seconds}; HttpOnly; SameSite=Lax{secure}",
        base_url.path_of(scope.callback_path())
    )
}

/// The binding cookie's value for this state in a `Cookie` header, if present and
/// well-formed.
pub fn find_cookie<'a>(
    cookie_header: Option<&'a str>,
    state: &StateId,
    base_url: &BaseUrl,
) -> Option<&'a str> {
    let name = cookie_name(state, base_url);
    cookie_header?
        .split(';')
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(n, _)| *n == name)
        .map(|(_, v)| v)
        .filter(|v| StateId::parse(v).is_some())
}

/// Whether two cookie hashes are equal, in constant time.
pub fn same_hash(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

fn cookie_name(state: &StateId, base_url: &BaseUrl) -> String {
    let secure = if is_https(base_url) {
        SECURE_PREFIX
    } else {
        ""
    };
    format!("{secure}{PREFIX}{}", state.as_str())
}

fn is_https(base_url: &BaseUrl) -> bool {
    base_url.as_str().starts_with("https://")
}

/// SHA-256 (hex) of a cookie value: what a login stores and a callback's claim presents.
pub fn hash(value: &str) -> String {
    Sha256::digest(value.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cookie_is_scoped_and_flagged() {
        let state = StateId::parse("abc").unwrap();
        let https = BaseUrl::parse("https://gw.example.com/prod").unwrap();
        let cookie = BindingCookie::generate(&state, &https);
        let header = cookie.set_cookie(&https, Scope::Base, 600);
        assert!(header.starts_with(&format!("__Secure-wxauth_abc={}; ", cookie.value)));
        assert!(header.contains("; Path=/prod/getOpenId; "));
        assert!(header.contains("; Max-Age=600; HttpOnly; SameSite=Lax; Secure"));
        let http = BaseUrl::parse("http://127.0.0.1:3000").unwrap();
        let cookie = BindingCookie::generate(&state, &http);
        let local = cookie.set_cookie(&http, Scope::UserInfo, 60);
        assert!(local.starts_with(&format!("wxauth_abc={}; ", cookie.value)));
        assert!(local.contains("; Path=/getWxUserInfo; "));
        assert!(!local.contains("Secure"));
    }

    #[test]
    fn the_right_cookie_is_found_and_matched() {
        let state = StateId::parse("abc").unwrap();
        let http = BaseUrl::parse("http://127.0.0.1:3000").unwrap();
        let cookie = BindingCookie::generate(&state, &http);
        let header = format!("other=1; wxauth_abcd=x; wxauth_abc={}; z=2", cookie.value);
        let found = find_cookie(Some(&header), &state, &http);
        assert_eq!(found, Some(cookie.value.as_str()));
        assert!(same_hash(&hash(found.unwrap()), &cookie.hash()));
        assert!(!same_hash(&hash("wrongvalue"), &cookie.hash()));
        assert!(!same_hash("", &cookie.hash()));
        assert_eq!(
            find_cookie(Some("wxauth_abc=bad-value!"), &state, &http),
            None
        );
        assert_eq!(find_cookie(None, &state, &http), None);
    }

    #[test]
    fn over_https_only_the_prefixed_cookie_counts() {
        let state = StateId::parse("abc").unwrap();
        let https = BaseUrl::parse("https://gw.example.com").unwrap();
        let cookie = BindingCookie::generate(&state, &https);
        // A cookie planted without the prefix (say, over plain http) is not the binding.
        let planted = format!("wxauth_abc={}", cookie.value);
        assert_eq!(find_cookie(Some(&planted), &state, &https), None);
        let real = format!("__Secure-wxauth_abc={}", cookie.value);
        assert_eq!(
            find_cookie(Some(&real), &state, &https),
            Some(cookie.value.as_str())
        );
    }
}
