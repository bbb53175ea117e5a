//! ALLOWED_RETURN_ORIGINS (and an app's `allowed_return_origins`): where a login may send
//! the user back to. An entry is an origin (any path under it), a path prefix ending in `/`
//! (that path and below), or an exact URL without query (that path, any query): the
//! narrower the entry, the fewer pages of a site a stolen result can be steered to
//! (RFC 9700 §2.1, §4.1.1).

use std::fmt;

use url::{Host, Url};

use crate::hostname::is_dns_hostname;

mod public_suffix;

use public_suffix::{is_public_suffix, under_a_public_suffix_below};

/// One allowed entry: `scheme://host[:port]`, where the host may be `*.example.com` (any
/// subdomain, not the bare domain), and the paths it allows there.
#[derive(Clone, Debug, PartialEq, Eq)]
struct OriginRule {
    scheme: String,
    host: HostRule,
    port: u16,
    path: PathRule,
    text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum PathRule {
    /// An origin-only entry: any path.
    Any,
    /// `/login/`: that path and every path below it (not `/login`, not `/login-other`).
    Prefix(String),
    /// `/cb`: that path only, with any query.
    Exact(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostRule {
    Exact(String),
    /// Holds the suffix without the leading `*.`: a registrable domain or a name under one,
    /// never a public suffix, whose subdomains belong to different people.
    AnySubdomainOf(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AllowedOrigins {
    rules: Vec<OriginRule>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum OriginRuleError {
    #[error("the list is empty; give at least one origin such as https://app.example.com")]
    Empty,
    #[error(
        "`{0}` is not an origin or a URL without query: write scheme://host[:port], optionally followed by a path (/prefix/ or /exact)"
    )]
    NotAnOrigin(String),
    #[error(
        "`{0}`: the path must not hold an encoded slash or backslash (%2F, %5C), which servers read differently"
    )]
    EncodedSlash(String),
    #[error("`{0}` must use http or https")]
    Scheme(String),
    #[error(
        "`{0}`: a wildcard must be a whole first label over a domain with a dot in it, as in *.example.com"
    )]
    Wildcard(String),
    #[error(
        "`{0}`: a wildcard over a public suffix (one anybody can register under, on the Public Suffix List) would let any site under it receive logins; put the wildcard under your own domain, as https://*.example.co.uk"
    )]
    PublicSuffixWildcard(String),
    #[error("`{0}`: the host is not a DNS host name (letters, digits and hyphens between dots)")]
    NotAHostName(String),
    #[error("`{0}` is not in canonical form; write it as `{1}`")]
    NotCanonical(String, String),
}

impl AllowedOrigins {
    /// Parses the comma-separated list; every entry must already be in canonical form so
    /// that what the operator wrote is exactly what is compared.
    pub fn parse(list: &str) -> Result<Self, OriginRuleError> {
        let rules = list
            .split(',')
            .map(str::trim)
            .filter(|entry| !entry.is_empty())
            .map(OriginRule::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if rules.is_empty() {
            return Err(OriginRuleError::Empty);
        }
        Ok(Self { rules })
    }

    /// The list that allows no return URL: the origins of an app that never sends a browser
    /// back (a Mini Program, a mobile app).
    pub fn none() -> Self {
        Self { rules: Vec::new() }
    }

    /// Whether a parsed URL's origin (and, for entries with a path, its path) is allowed.
    pub fn allows(&self, url: &Url) -> bool {
        self.rules.iter().any(|rule| rule.matches(url))
    }

    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.text.as_str())
    }
}

impl fmt::Display for AllowedOrigins {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list: Vec<&str> = self.iter().collect();
        f.write_str(&list.join(","))
    }
}

impl OriginRule {
    fn parse(entry: &str) -> Result<Self, OriginRuleError> {
        let not_origin = || OriginRuleError::NotAnOrigin(entry.to_owned());
        let (scheme, after_scheme) = entry.split_once("://").ok_or_else(not_origin)?;
        if scheme != "http" && scheme != "https" {
            return Err(OriginRuleError::Scheme(entry.to_owned()));
        }
        let (rest, path) = match after_scheme.find('/') {
            Some(at) => after_scheme.split_at(at),
            None => (after_scheme, ""),
        };
        if rest.is_empty() || rest.contains(['?', '#', '@', '\\']) {
            return Err(not_origin());
        }
        if path.contains(['?', '#', '\\', '*']) {
            return Err(not_origin());
        }
        let (host_part, wildcard) = match rest.strip_prefix("*.") {
            Some(suffix) => (suffix, true),
            None => (rest, false),
        };
        if host_part.contains('*') {
            return Err(OriginRuleError::Wildcard(entry.to_owned()));
        }
        let url = Url::parse(&format!("{scheme}://{host_part}")).map_err(|_| not_origin())?;
        let canonical_rest = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_owned(),
        };
        let canonical_path = match path {
            "" => String::new(),
            path => Url::parse(&format!("{scheme}://{host_part}{path}"))
                .map_err(|_| not_origin())?
                .path()
                .to_owned(),
        };
        if canonical_rest != host_part || canonical_path != path {
            let prefix = if wildcard { "*." } else { "" };
            return Err(OriginRuleError::NotCanonical(
                entry.to_owned(),
                format!("{scheme}://{prefix}{canonical_rest}{canonical_path}"),
            ));
        }
        if has_encoded_slash(path) {
            return Err(OriginRuleError::EncodedSlash(entry.to_owned()));
        }
        let path = match path {
            "" | "/" => PathRule::Any,
            prefix if prefix.ends_with('/') => PathRule::Prefix(prefix.to_owned()),
            exact => PathRule::Exact(exact.to_owned()),
        };
        let port = url.port_or_known_default().ok_or_else(not_origin)?;
        let host = match url.host() {
            // A rule that names no real host could only ever match hosts that are not real.
            Some(Host::Domain(domain)) if !is_dns_hostname(domain) => {
                return Err(OriginRuleError::NotAHostName(entry.to_owned()));
            }
            Some(Host::Domain(domain)) if wildcard => {
                if !domain.contains('.') || domain.ends_with('.') {
                    return Err(OriginRuleError::Wildcard(entry.to_owned()));
                }
                if is_public_suffix(domain) {
                    return Err(OriginRuleError::PublicSuffixWildcard(entry.to_owned()));
                }
                HostRule::AnySubdomainOf(domain.to_owned())
            }
            Some(_) if wildcard => return Err(OriginRuleError::Wildcard(entry.to_owned())),
            Some(Host::Domain(domain)) if domain.ends_with('.') => {
                return Err(OriginRuleError::NotAnOrigin(entry.to_owned()));
            }
            Some(host) => HostRule::Exact(host.to_string()),
            None => return Err(not_origin()),
        };
        Ok(Self {
            scheme: scheme.to_owned(),
            host,
            port,
            path,
            text: entry.to_owned(),
        })
    }

    fn matches(&self, url: &Url) -> bool {
        if url.scheme() != self.scheme || url.port_or_known_default() != Some(self.port) {
            return false;
        }
        let path_allowed = match &self.path {
            PathRule::Any => true,
            // The URL is canonical (no dot segments left); an encoded slash is the one way
            // left for a server to read it as a path outside the prefix.
            PathRule::Prefix(prefix) => {
                url.path().starts_with(prefix.as_str()) && !has_encoded_slash(url.path())
            }
            PathRule::Exact(exact) => url.path() == exact,
        };
        path_allowed && self.host_matches(url)
    }

    fn host_matches(&self, url: &Url) -> bool {
        match (&self.host, url.host()) {
            (HostRule::Exact(expected), Some(host)) => host.to_string() == *expected,
            (HostRule::AnySubdomainOf(suffix), Some(Host::Domain(domain))) => {
                domain
                    .strip_suffix(suffix.as_str())
                    .and_then(|label| label.strip_suffix('.'))
                    .is_some_and(|label| !label.is_empty())
                    && !under_a_public_suffix_below(domain, suffix)
            }
            _ => false,
        }
    }
}

/// `%2F` or `%5C` (either case): a slash or backslash some servers decode before routing.
fn has_encoded_slash(path: &str) -> bool {
    let lower = path.to_ascii_lowercase();
    lower.contains("%2f") || lower.contains("%5c")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(list: &str, url: &str) -> bool {
        AllowedOrigins::parse(list)
            .unwrap()
            .allows(&Url::parse(url).unwrap())
    }

    #[test]
    fn exact_origins_match_scheme_host_and_port() {
        let list = "https://app.example.com,http://127.0.0.1:3000";
        assert!(allows(list, "https://app.example.com/x?y#z"));
        assert!(allows(list, "https://app.example.com:443/"));
        assert!(allows(list, "http://127.0.0.1:3000/"));
        assert!(!allows(list, "http://app.example.com/"));
        assert!(!allows(list, "https://app.example.com:8443/"));
        assert!(!allows(list, "https://example.com/"));
        assert!(!allows(list, "https://app.example.com.evil.com/"));
        assert!(!allows(list, "http://127.0.0.1:3001/"));
        assert!(!allows(list, "http://127.0.0.1/"));
    }

    #[test]
    fn wildcard_matches_subdomains_only() {
        let list = "https://*.example.com";
        assert!(allows(list, "https://a.example.com/"));
        assert!(allows(list, "https://a.b.example.com/"));
        assert!(!allows(list, "https://example.com/"));
        assert!(!allows(list, "https://evilexample.com/"));
        assert!(!allows(list, "https://example.com.evil.com/"));
        assert!(!allows(list, "http://a.example.com/"));
        assert!(!allows(list, "https://a.example.com:8443/"));
    }

    #[test]
    fn explicit_default_port_in_a_rule_is_not_canonical() {
        assert!(matches!(
            AllowedOrigins::parse("https://app.example.com:443"),
            Err(OriginRuleError::NotCanonical(_, fixed)) if fixed == "https://app.example.com"
        ));
    }

    #[test]
    fn bad_rules_are_refused_with_a_reason() {
        for bad in [
            "",
            " , ",
            "app.example.com",
            "ftp://example.com",
            "https://user@example.com",
            "https://example.com/a?b",
            "https://example.com/a#b",
            "https://example.com/a/../b",
            "https://example.com/a/./",
            "https://example.com/a%2Fb/",
            "https://example.com/a%5cb",
            "https://example.com/a b",
            "https://example.com/*/",
            "https://example.com/a\\b",
            "https://*",
            "https://*.com",
            "https://a.*.example.com",
            "https://*example.com",
            "https://*.127.0.0.1",
            "https://Example.com",
            "https://example.com.",
            "HTTPS://example.com",
            "https://exa mple.com",
            "https://a..example.com",
            "https://*.a..example.com",
            "https://a_b.example.com",
            "https://*.-x.example.com",
        ] {
            assert!(AllowedOrigins::parse(bad).is_err(), "accepted {bad:?}");
        }
    }

    #[test]
    fn list_tolerates_spaces_around_entries_and_displays_back() {
        let origins =
            AllowedOrigins::parse(" https://a.example.com , https://*.b.example.com ").unwrap();
        assert_eq!(
            origins.to_string(),
            "https://a.example.com,https://*.b.example.com"
        );
    }

    #[test]
    fn entries_may_name_a_path_prefix_or_an_exact_path() {
        let parsed = AllowedOrigins::parse(
            "https://a.example.com/,https://b.example.com/login/,https://c.example.com/cb",
        )
        .unwrap();
        let paths: Vec<&PathRule> = parsed.rules.iter().map(|r| &r.path).collect();
        assert_eq!(
            paths,
            [
                &PathRule::Any,
                &PathRule::Prefix("/login/".into()),
                &PathRule::Exact("/cb".into())
            ]
        );
        assert_eq!(
            parsed.to_string(),
            "https://a.example.com/,https://b.example.com/login/,https://c.example.com/cb"
        );
        assert!(allows(
            "https://a.example.com/",
            "https://a.example.com/x?y#z"
        ));
        assert!(allows(
            "https://b.example.com/login/",
            "https://b.example.com/login/"
        ));
        assert!(!allows(
            "https://b.example.com/login/",
            "https://b.example.com/login"
        ));
        assert!(!allows(
            "https://b.example.com/login/",
            "https://b.example.com/login-other"
        ));
        assert!(!allows(
            "https://b.example.com/login/",
            "https://b.example.com/login/%2F../x"
        ));
        assert!(allows(
            "https://c.example.com/cb",
            "https://c.example.com/cb?x=1"
        ));
        assert!(!allows(
            "https://c.example.com/cb",
            "https://c.example.com/cb/x"
        ));
        // A path is read as a browser writes it, or refused with the form to write.
        assert!(matches!(
            AllowedOrigins::parse("https://a.example.com/a b/"),
            Err(OriginRuleError::NotCanonical(_, fixed)) if fixed == "https://a.example.com/a%20b/"
        ));
        assert!(matches!(
            AllowedOrigins::parse("https://a.example.com/x/%2F/"),
            Err(OriginRuleError::EncodedSlash(_))
        ));
    }
}
