//! The `url` a front end asks to be sent back to, checked the way a browser will read it.
//!
//! Open-redirect bypasses live in the gap between what a checker thinks a URL means and
//! what the browser does with it (backslashes, userinfo, encoded or unicode hosts, IPv4
//! shorthands, trailing dots, tabs the browser strips...). We close the gap by accepting a
//! URL only if it is *already* in the form a WHATWG parser gives back: then there is one
//! reading, and its origin is what we compare with the allowlist.

use url::{Host, Url};

use crate::allowed_origins::AllowedOrigins;
use crate::hostname::is_dns_hostname;

/// The most characters a return URL may have, counted in the one form that is stored and
/// sent back: the canonical URL, which is what was given plus the `/` a browser adds
/// after a bare origin (`https://app.example.com` counts as `https://app.example.com/`).
/// Counting the given text instead let a 5,000-character URL without a path in, then
/// failed to read it back from the store at the callback.
pub const MAX_RETURN_URL_LEN: usize = 5000;

/// A return URL that is absolute http(s), canonical, and on the allowlist.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReturnUrl {
    url: Url,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ReturnUrlError {
    #[error("the url is longer than {MAX_RETURN_URL_LEN} characters")]
    TooLong,
    #[error("the url contains a control character")]
    ControlCharacter,
    #[error("the url contains a space; percent-encode it as %20")]
    Whitespace,
    #[error("the url contains a backslash")]
    Backslash,
    #[error("the url contains non-ASCII characters; percent-encode them and punycode the host")]
    NonAscii,
    #[error("the url must be absolute and start with https:// or http:// (lowercase)")]
    NotAbsoluteHttp,
    #[error("the url is not a valid URL: {0}")]
    Malformed(String),
    #[error("the url must not contain user information (user@ or user:password@)")]
    Userinfo,
    #[error("the url's host must not end with a dot")]
    TrailingDot,
    #[error(
        "the url's host is not a DNS host name (dot-separated labels of letters, digits and hyphens; punycode for international names)"
    )]
    NotAHostName,
    /// Holds the URL as a browser reads it, its query and fragment shown as `?…` / `#…`:
    /// an error is logged and shown, and a URL's query may carry someone's secrets.
    #[error("the url is not in canonical form; a browser would read it as {0}")]
    NotCanonical(String),
    /// Holds the origin only, for the same reason.
    #[error(
        "the url is not allowed by ALLOWED_RETURN_ORIGINS (its origin {0} is not listed, or no entry for it allows its path)"
    )]
    OriginNotAllowed(String),
}

impl ReturnUrl {
    pub fn parse(raw: &str, allowed: &AllowedOrigins) -> Result<Self, ReturnUrlError> {
        let url = parse_canonical(raw)?;
        if !allowed.allows(&url) {
            return Err(ReturnUrlError::OriginNotAllowed(
                url.origin().ascii_serialization(),
            ));
        }
        Ok(Self { url })
    }

    /// Rebuilds a URL that was checked when the login started (read back from the store).
    pub fn from_stored(raw: &str) -> Result<Self, ReturnUrlError> {
        parse_canonical(raw).map(|url| Self { url })
    }

    pub fn as_str(&self) -> &str {
        self.url.as_str()
    }

    pub fn url(&self) -> &Url {
        &self.url
    }

    /// `scheme://host[:port]`, as used for the token's audience.
    pub fn origin(&self) -> String {
        self.url.origin().ascii_serialization()
    }
}

fn parse_canonical(raw: &str) -> Result<Url, ReturnUrlError> {
    // The canonical form is never shorter than what was given: refuse early what cannot fit.
    if raw.len() > MAX_RETURN_URL_LEN {
        return Err(ReturnUrlError::TooLong);
    }
    for c in raw.chars() {
        match c {
            c if !c.is_ascii() => return Err(ReturnUrlError::NonAscii),
            ' ' => return Err(ReturnUrlError::Whitespace),
            c if c.is_ascii_control() => return Err(ReturnUrlError::ControlCharacter),
            '\\' => return Err(ReturnUrlError::Backslash),
            _ => {}
        }
    }
    let after_scheme = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))
        .ok_or(ReturnUrlError::NotAbsoluteHttp)?;
    let authority_end = after_scheme
        .find(['/', '?', '#'])
        .unwrap_or(after_scheme.len());
    if after_scheme[..authority_end].contains('@') {
        return Err(ReturnUrlError::Userinfo);
    }
    let url = Url::parse(raw).map_err(|e| ReturnUrlError::Malformed(e.to_string()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(ReturnUrlError::Userinfo);
    }
    match url.host() {
        Some(Host::Domain(domain)) if domain.ends_with('.') => {
            return Err(ReturnUrlError::TrailingDot);
        }
        Some(Host::Domain(domain)) if !is_dns_hostname(domain) => {
            return Err(ReturnUrlError::NotAHostName);
        }
        // IP literals pass here; they match only an allowlist entry that names them.
        Some(_) => {}
        None => return Err(ReturnUrlError::NotAbsoluteHttp),
    }
    // `https://example.com` and `https://example.com?x` only gain the "/" every http(s)
    // URL has; any other difference is a rewrite the browser would do behind our back.
    let scheme_len = raw.len() - after_scheme.len();
    let with_root_path = if after_scheme[authority_end..].starts_with('/') {
        None
    } else {
        let split = scheme_len + authority_end;
        Some(format!("{}/{}", &raw[..split], &raw[split..]))
    };
    let expected = with_root_path.as_deref().unwrap_or(raw);
    if url.as_str() != expected {
        return Err(ReturnUrlError::NotCanonical(without_query(&url)));
    }
    if url.as_str().len() > MAX_RETURN_URL_LEN {
        return Err(ReturnUrlError::TooLong);
    }
    Ok(url)
}

/// The URL with its query and fragment, if any, shown as `?…` and `#…`.
fn without_query(url: &Url) -> String {
    let mut shown = url.clone();
    shown.set_query(None);
    shown.set_fragment(None);
    let mut text = shown.as_str().to_owned();
    if url.query().is_some() {
        text.push_str("?…");
    }
    if url.fragment().is_some() {
        text.push_str("#…");
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origins() -> AllowedOrigins {
        AllowedOrigins::parse("https://app.example.com,https://*.example.org,http://127.0.0.1:3000")
            .unwrap()
    }

    #[test]
    fn accepts_canonical_allowed_urls() {
        for ok in [
            "https://app.example.com/",
            "https://app.example.com",
            "https://app.example.com?x=1",
            "https://app.example.com/path/page.html?a=1&b=%20#frag",
            "https://shop.example.org/#/home?x=1",
            "http://127.0.0.1:3000/demo",
        ] {
            let parsed = ReturnUrl::parse(ok, &origins());
            assert!(parsed.is_ok(), "{ok}: {parsed:?}");
        }
        assert_eq!(
            ReturnUrl::parse("https://app.example.com?x=1", &origins())
                .unwrap()
                .as_str(),
            "https://app.example.com/?x=1"
        );
    }

    #[test]
    fn reports_why_a_url_is_refused() {
        let cases: &[(&str, ReturnUrlError)] = &[
            ("//app.example.com/", ReturnUrlError::NotAbsoluteHttp),
            ("HTTPS://app.example.com/", ReturnUrlError::NotAbsoluteHttp),
            ("javascript:alert(1)", ReturnUrlError::NotAbsoluteHttp),
            (
                "https://app.example.com@evil.com/",
                ReturnUrlError::Userinfo,
            ),
            ("https:\\\\evil.com", ReturnUrlError::Backslash),
            ("https://app.example.com./", ReturnUrlError::TrailingDot),
            (
                "https://app.example.com/\t",
                ReturnUrlError::ControlCharacter,
            ),
            ("https://app.example.com/ x", ReturnUrlError::Whitespace),
            ("https://app.exаmple.com/", ReturnUrlError::NonAscii),
            (
                "https://APP.example.com/",
                ReturnUrlError::NotCanonical("https://app.example.com/".into()),
            ),
            (
                "https://evil.com/",
                ReturnUrlError::OriginNotAllowed("https://evil.com".into()),
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(
                ReturnUrl::parse(raw, &origins()).as_ref(),
                Err(expected),
                "{raw}"
            );
        }
        let long = format!("https://app.example.com/{}", "a".repeat(MAX_RETURN_URL_LEN));
        assert_eq!(
            ReturnUrl::parse(&long, &origins()),
            Err(ReturnUrlError::TooLong)
        );
    }

    #[test]
    fn the_length_limit_counts_the_stored_form() {
        let origin = "https://app.example.com";
        let with_path = |total: usize| format!("{origin}/{}", "a".repeat(total - origin.len() - 1));
        assert_eq!(with_path(MAX_RETURN_URL_LEN).len(), MAX_RETURN_URL_LEN);
        assert!(ReturnUrl::parse(&with_path(MAX_RETURN_URL_LEN), &origins()).is_ok());
        assert_eq!(
            ReturnUrl::parse(&with_path(MAX_RETURN_URL_LEN + 1), &origins()),
            Err(ReturnUrlError::TooLong)
        );
        // No path: the browser's `/` makes a 5,000-character URL 5,001 characters long.
        let query = |total: usize| format!("{origin}?{}", "q".repeat(total - origin.len() - 1));
        assert_eq!(query(MAX_RETURN_URL_LEN).len(), MAX_RETURN_URL_LEN);
        assert_eq!(
            ReturnUrl::parse(&query(MAX_RETURN_URL_LEN), &origins()),
            Err(ReturnUrlError::TooLong)
        );
        let fits = ReturnUrl::parse(&query(MAX_RETURN_URL_LEN - 1), &origins()).unwrap();
        assert_eq!(fits.as_str().len(), MAX_RETURN_URL_LEN);
        // Whatever is accepted reads back from the store as the same URL.
        assert_eq!(ReturnUrl::from_stored(fits.as_str()), Ok(fits));
    }

    #[test]
    fn hosts_must_be_dns_names_even_under_a_wildcard() {
        let wildcard =
            AllowedOrigins::parse("https://*.example.net,https://*.good.example.com").unwrap();
        for bad in [
            "https://a..example.net",
            "https://a..example.net/",
            "https://x-1....example.net//evil.com",
            "https://de..ep.'a.example.net/",
            "https://*.good.example.com/",
            "https://a_b.example.net/",
            "https://-a.example.net/",
        ] {
            assert_eq!(
                ReturnUrl::parse(bad, &wildcard),
                Err(ReturnUrlError::NotAHostName),
                "{bad}"
            );
        }
        assert!(ReturnUrl::parse("https://xn--fiqs8s.example.net/", &wildcard).is_ok());
        assert!(ReturnUrl::parse("https://a-1.b.example.net/", &wildcard).is_ok());
    }

    #[test]
    fn ip_literals_match_only_an_entry_naming_them() {
        let list =
            AllowedOrigins::parse("http://127.0.0.1:3000,http://[::1]:3000,https://*.example.net")
                .unwrap();
        assert!(ReturnUrl::parse("http://127.0.0.1:3000/", &list).is_ok());
        assert!(ReturnUrl::parse("http://[::1]:3000/", &list).is_ok());
        assert!(matches!(
            ReturnUrl::parse("http://127.0.0.2:3000/", &list),
            Err(ReturnUrlError::OriginNotAllowed(_))
        ));
        assert!(matches!(
            ReturnUrl::parse("https://1.2.3.4/", &list),
            Err(ReturnUrlError::OriginNotAllowed(_))
        ));
    }

    #[test]
    fn origin_is_the_ascii_serialization() {
        let url = ReturnUrl::parse("http://127.0.0.1:3000/x", &origins()).unwrap();
        assert_eq!(url.origin(), "http://127.0.0.1:3000");
    }

    #[test]
    fn a_refused_url_is_never_repeated_with_its_query_or_fragment() {
        let secret = "code=SECRETCODE&token=SECRETTOKEN";
        for raw in [
            format!("https://evil.com/x?{secret}#{secret}"),
            format!("https://APP.example.com/x?{secret}#{secret}"),
        ] {
            let err = ReturnUrl::parse(&raw, &origins()).unwrap_err();
            let told = err.to_string();
            assert!(!told.contains("SECRET"), "{told}");
            assert!(!format!("{err:?}").contains("SECRET"), "{err:?}");
        }
        assert_eq!(
            ReturnUrl::parse(&format!("https://APP.example.com/x?{secret}#f"), &origins()),
            Err(ReturnUrlError::NotCanonical(
                "https://app.example.com/x?…#…".into()
            ))
        );
    }

    #[test]
    fn path_entries_allow_their_prefix_or_their_exact_path_only() {
        let list = AllowedOrigins::parse(
            "https://m.example.com/app/,https://m.example.com/cb,https://*.shop.example.com/login/",
        )
        .unwrap();
        let allowed = |raw: &str| ReturnUrl::parse(raw, &list).is_ok();
        // The prefix: that path and below, at the boundary and one past it.
        assert!(allowed("https://m.example.com/app/"));
        assert!(allowed("https://m.example.com/app/x/y?q=1#f"));
        assert!(!allowed("https://m.example.com/app"));
        assert!(!allowed("https://m.example.com/application/"));
        assert!(!allowed("https://m.example.com/ap/"));
        // Dot segments are not canonical: a browser would leave the prefix.
        assert!(!allowed("https://m.example.com/app/../go"));
        assert!(!allowed("https://m.example.com/app/%2e%2e/go"));
        // An encoded slash is refused under a prefix.
        assert!(!allowed("https://m.example.com/app/..%2Fgo"));
        assert!(!allowed("https://m.example.com/app/%5cgo"));
        // The exact entry: that path with any query, nothing below or beside it.
        assert!(allowed("https://m.example.com/cb"));
        assert!(allowed("https://m.example.com/cb?next=1"));
        assert!(!allowed("https://m.example.com/cb/"));
        assert!(!allowed("https://m.example.com/cbx"));
        assert!(!allowed("https://m.example.com/"));
        assert!(!allowed("https://m.example.com/go?to=https://evil.example"));
        // A wildcard entry with a path.
        assert!(allowed("https://a.shop.example.com/login/done"));
        assert!(!allowed("https://a.shop.example.com/go"));
        assert!(!allowed("https://shop.example.com/login/"));
    }
}
