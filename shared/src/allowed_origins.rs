//! ALLOWED_RETURN_ORIGINS: where a login may send the user back to.

use std::fmt;

use url::{Host, Url};

use crate::hostname::is_dns_hostname;

/// One allowed origin: `scheme://host[:port]`, where the host may be `*.example.com`
/// (any subdomain, not the bare domain).
#[derive(Clone, Debug, PartialEq, Eq)]
struct OriginRule {
    scheme: String,
    host: HostRule,
    port: u16,
    text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum HostRule {
    Exact(String),
    /// Holds the suffix without the leading `*.`.
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
    #[error("`{0}` is not an origin: write scheme://host[:port] with nothing after it")]
    NotAnOrigin(String),
    #[error("`{0}` must use http or https")]
    Scheme(String),
    #[error(
        "`{0}`: a wildcard must be a whole first label over a domain with a dot in it, as in *.example.com"
    )]
    Wildcard(String),
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

    /// Whether a parsed URL's origin is allowed.
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
        let (scheme, rest) = entry.split_once("://").ok_or_else(not_origin)?;
        if scheme != "http" && scheme != "https" {
            return Err(OriginRuleError::Scheme(entry.to_owned()));
        }
        if rest.is_empty() || rest.contains(['/', '?', '#', '@', '\\']) {
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
        if canonical_rest != host_part {
            let prefix = if wildcard { "*." } else { "" };
            return Err(OriginRuleError::NotCanonical(
                entry.to_owned(),
                format!("{scheme}://{prefix}{canonical_rest}"),
            ));
        }
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
            text: entry.to_owned(),
        })
    }

    fn matches(&self, url: &Url) -> bool {
        if url.scheme() != self.scheme || url.port_or_known_default() != Some(self.port) {
            return false;
        }
        match (&self.host, url.host()) {
            (HostRule::Exact(expected), Some(host)) => host.to_string() == *expected,
            (HostRule::AnySubdomainOf(suffix), Some(Host::Domain(domain))) => domain
                .strip_suffix(suffix.as_str())
                .and_then(|label| label.strip_suffix('.'))
                .is_some_and(|label| !label.is_empty()),
            _ => false,
        }
    }
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
            "https://example.com/",
            "https://example.com/path",
            "https://user@example.com",
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
}
