//! Binding a login's `state` to the browser that started it (RFC 9700 §4.7): `/auth` sets a
//! cookie and stores its hash with the state; the callback must present the same cookie.
//! Without it, an attacker could start a login, stop at WeChat's redirect, and lure a
//! victim onto the callback URL to log them in as the attacker.
//!
//! One cookie per login (named after its state) lets parallel tabs each finish their own
//! login; it expires with the state. Over https its name carries the `__Host-` prefix:
//! browsers then accept it only with `Secure`, `Path=/` and no `Domain` from an https
//! response of the gateway's own host, so neither a man-in-the-middle on plain http nor a
//! sibling subdomain (which could set a `Domain=` cookie for the parent) can plant or
//! overwrite one.
//!
//! `Path=/` puts every pending binding cookie on every request to the gateway's host, so
//! `/auth` caps them: beyond [`MAX_PENDING_LOGINS`] the oldest are expired
//! ([`expire_oldest`]) before they fill the browser's per-host cookie limit or API
//! Gateway's header size limit.

use std::collections::HashSet;

use sha2::{Digest, Sha256};

use crate::base_url::BaseUrl;
use crate::login_state::StateId;

/// How many binding cookies a browser keeps at most, the one `/auth` is setting included:
/// as many logins as a visitor plausibly has open in tabs at once. A ninth login expires
/// the oldest pending one, which then fails its binding and starts over.
pub const MAX_PENDING_LOGINS: usize = 8;

/// The cookie's random value, as set on the browser.
pub struct BindingCookie {
    pub name: String,
    pub value: String,
}

const PREFIX: &str = "wxauth_";
/// RFC 6265bis §4.1.3.2: a cookie so named must be set with `Secure` and `Path=/`, without
/// `Domain`, from a secure origin: it belongs to exactly the host that set it.
const HOST_PREFIX: &str = "__Host-";

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
    pub fn set_cookie(&self, base_url: &BaseUrl, max_age_seconds: u64) -> String {
        set_cookie_header(&self.name, &self.value, base_url, max_age_seconds)
    }
}

/// `Set-Cookie` that keeps the cookie only for the duplicate-callback window (or removes
/// it, with 0).
pub fn refresh_cookie(
    state: &StateId,
    value: &str,
    base_url: &BaseUrl,
    max_age_seconds: u64,
) -> String {
    set_cookie_header(
        &cookie_name(state, base_url),
        value,
        base_url,
        max_age_seconds,
    )
}

/// `Set-Cookie` headers (`Max-Age=0`) for the oldest binding cookies in a `Cookie` header,
/// so that with the one `/auth` sets next at most [`MAX_PENDING_LOGINS`] remain. Cookies
/// of one path come oldest first (RFC 6265 §5.4, step 2), and a refreshed cookie keeps its
/// creation time (§5.3, step 11.3), so the first ones are the oldest logins. Only names of
/// this scheme's binding cookies count (the prefix and a well-formed state); no value is
/// ever echoed.
pub fn expire_oldest(cookie_header: Option<&str>, base_url: &BaseUrl) -> Vec<String> {
    let mut seen = HashSet::new();
    let pending: Vec<&str> = cookie_header
        .into_iter()
        .flat_map(|header| header.split(';'))
        .filter_map(|pair| pair.trim().split_once('=').map(|(name, _)| name))
        .filter(|name| is_binding_name(name, base_url))
        // A name sent twice (say, one more cookie of another path) is one cookie to expire.
        .filter(|name| seen.insert(*name))
        .collect();
    let extra = (pending.len() + 1).saturating_sub(MAX_PENDING_LOGINS);
    pending[..extra]
        .iter()
        .map(|name| set_cookie_header(name, "", base_url, 0))
        .collect()
}

/// Over https, `Path=/` is what `__Host-` demands. Over plain http (loopback only) the
/// same `Path=/` keeps one cookie shape for both schemes and, above all, lets `/auth` see
/// the pending cookies it caps: a cookie scoped to a callback path never reaches `/auth`.
fn set_cookie_header(name: &str, value: &str, base_url: &BaseUrl, max_age_seconds: u64) -> String {
    let secure = if base_url.is_https() { "; Secure" } else { "" };
    format!("{name}={value}; Path=/; Max-Age={max_age_seconds}; HttpOnly; SameSite=Lax{secure}")
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

/// `__Host-` over https. A cookie from plain http (loopback only) cannot be `Secure`, which
/// the prefix requires, so the name is bare there.
fn name_prefix(base_url: &BaseUrl) -> &'static str {
    if base_url.is_https() { HOST_PREFIX } else { "" }
}

fn cookie_name(state: &StateId, base_url: &BaseUrl) -> String {
    format!("{}{PREFIX}{}", name_prefix(base_url), state.as_str())
}

/// Whether `name` is a binding cookie's name over this base URL's scheme.
fn is_binding_name(name: &str, base_url: &BaseUrl) -> bool {
    name.strip_prefix(name_prefix(base_url))
        .and_then(|rest| rest.strip_prefix(PREFIX))
        .is_some_and(|state| StateId::parse(state).is_some())
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

    const VALUE: &str = "Va1ueVa1ueVa1ue";

    fn https() -> BaseUrl {
        // A stage path, which the cookie's path no longer follows.
        BaseUrl::parse("https://gw.example.com/prod").unwrap()
    }

    fn http() -> BaseUrl {
        BaseUrl::parse("http://127.0.0.1:3000").unwrap()
    }

    #[test]
    fn over_https_the_cookie_is_host_only() {
        let state = StateId::parse("abc").unwrap();
        let cookie = BindingCookie::generate(&state, &https());
        assert_eq!(
            cookie.set_cookie(&https(), 600),
            format!(
                "__Host-wxauth_abc={}; Path=/; Max-Age=600; HttpOnly; SameSite=Lax; Secure",
                cookie.value
            )
        );
        assert_eq!(
            refresh_cookie(&state, VALUE, &https(), 60),
            format!(
                "__Host-wxauth_abc={VALUE}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax; Secure"
            )
        );
    }

    #[test]
    fn over_http_the_cookie_is_bare_and_not_secure() {
        let state = StateId::parse("abc").unwrap();
        let cookie = BindingCookie::generate(&state, &http());
        assert_eq!(
            cookie.set_cookie(&http(), 60),
            format!(
                "wxauth_abc={}; Path=/; Max-Age=60; HttpOnly; SameSite=Lax",
                cookie.value
            )
        );
        assert_eq!(
            refresh_cookie(&state, VALUE, &http(), 0),
            format!("wxauth_abc={VALUE}; Path=/; Max-Age=0; HttpOnly; SameSite=Lax")
        );
    }

    #[test]
    fn the_right_cookie_is_found_and_matched() {
        let state = StateId::parse("abc").unwrap();
        let cookie = BindingCookie::generate(&state, &http());
        let header = format!("other=1; wxauth_abcd=x; wxauth_abc={}; z=2", cookie.value);
        let found = find_cookie(Some(&header), &state, &http());
        assert_eq!(found, Some(cookie.value.as_str()));
        assert!(same_hash(&hash(found.unwrap()), &cookie.hash()));
        assert!(!same_hash(&hash("wrongvalue"), &cookie.hash()));
        assert!(!same_hash("", &cookie.hash()));
        assert_eq!(
            find_cookie(Some("wxauth_abc=bad-value!"), &state, &http()),
            None
        );
        assert_eq!(find_cookie(None, &state, &http()), None);
    }

    #[test]
    fn over_https_only_the_host_prefixed_cookie_counts() {
        let state = StateId::parse("abc").unwrap();
        let cookie = BindingCookie::generate(&state, &https());
        // Planted over plain http, or by a sibling subdomain with `Domain=` (which
        // `__Secure-` allows): neither is the binding.
        for planted in ["wxauth_abc", "__Secure-wxauth_abc", "__host-wxauth_abc"] {
            let header = format!("{planted}={}", cookie.value);
            assert_eq!(
                find_cookie(Some(&header), &state, &https()),
                None,
                "{planted}"
            );
        }
        let real = format!("__Host-wxauth_abc={}", cookie.value);
        assert_eq!(
            find_cookie(Some(&real), &state, &https()),
            Some(cookie.value.as_str())
        );
        // Over http the prefixed name is not the binding either.
        assert_eq!(find_cookie(Some(&real), &state, &http()), None);
    }

    /// A `Cookie` header with `count` binding cookies of states s0, s1, … (oldest first).
    fn pending(prefix: &str, count: usize) -> Vec<String> {
        (0..count)
            .map(|i| format!("{prefix}wxauth_s{i}={VALUE}{i}"))
            .collect()
    }

    #[test]
    fn one_login_short_of_the_cap_expires_nothing() {
        let header = pending("__Host-", MAX_PENDING_LOGINS - 1).join("; ");
        assert_eq!(expire_oldest(Some(&header), &https()), Vec::<String>::new());
        assert_eq!(expire_oldest(Some(""), &https()), Vec::<String>::new());
        assert_eq!(expire_oldest(None, &https()), Vec::<String>::new());
    }

    #[test]
    fn at_the_cap_the_oldest_is_expired() {
        let header = pending("__Host-", MAX_PENDING_LOGINS).join("; ");
        assert_eq!(
            expire_oldest(Some(&header), &https()),
            ["__Host-wxauth_s0=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure"]
        );
        let header = pending("", MAX_PENDING_LOGINS + 1).join("; ");
        assert_eq!(
            expire_oldest(Some(&header), &http()),
            [
                "wxauth_s0=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
                "wxauth_s1=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax",
            ]
        );
    }

    #[test]
    fn foreign_cookies_are_neither_counted_nor_expired() {
        let mut cookies = pending("__Host-", MAX_PENDING_LOGINS - 1);
        // Another application's, the demo's, a malformed state, another scheme's names,
        // a pair without `=`, and a binding cookie sent twice.
        cookies.extend(
            [
                "session=abc",
                "wxauth_demo_rp=1",
                "__Host-wxauth_=1",
                "__Host-wxauth_bad-state=1",
                "__Host-wxauth_s0=again",
                "__Secure-wxauth_x1=1",
                "wxauth_x2=1",
                "__Host-wxauth_x3",
                "__Host-session=1",
            ]
            .map(str::to_owned),
        );
        let header = cookies.join("; ");
        assert_eq!(expire_oldest(Some(&header), &https()), Vec::<String>::new());
        // One more real one: only the oldest binding cookie goes, without its value.
        let header = format!("{header}; __Host-wxauth_s9=new");
        let expired = expire_oldest(Some(&header), &https());
        assert_eq!(expired.len(), 1);
        assert!(expired[0].starts_with("__Host-wxauth_s0=; "), "{expired:?}");
        assert!(!expired[0].contains(VALUE));
    }
}
