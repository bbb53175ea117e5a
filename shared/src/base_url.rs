//! The gateway's own external base URL: where WeChat sends users back to, and the token's
//! issuer.

use std::fmt;

use url::Url;

/// `scheme://host[:port][/path]`, without a trailing slash, query or fragment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseUrl(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BaseUrlError {
    #[error("must be an absolute http(s) URL without query, fragment or user information")]
    Invalid,
    #[error("the Host header is missing or not a valid host[:port]")]
    BadHost,
}

impl BaseUrl {
    pub fn parse(text: &str) -> Result<Self, BaseUrlError> {
        let url = Url::parse(text).map_err(|_| BaseUrlError::Invalid)?;
        let ok = matches!(url.scheme(), "http" | "https")
            && url.host().is_some()
            && url.username().is_empty()
            && url.password().is_none()
            && url.query().is_none()
            && url.fragment().is_none();
        if !ok {
            return Err(BaseUrlError::Invalid);
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// From API Gateway's `requestContext`: `https://{domainName}` plus `/{stage}` unless the
    /// stage is `$default` (which has no path prefix).
    pub fn from_api_gateway(domain_name: &str, stage: Option<&str>) -> Result<Self, BaseUrlError> {
        check_host(domain_name)?;
        match stage {
            Some(stage) if !stage.is_empty() && stage != "$default" => {
                let stage: String = percent_encoding::utf8_percent_encode(
                    stage,
                    percent_encoding::NON_ALPHANUMERIC,
                )
                .collect();
                Self::parse(&format!("https://{domain_name}/{stage}"))
            }
            _ => Self::parse(&format!("https://{domain_name}")),
        }
    }

    /// From a `Host` header (local server). The header is the client's to choose, so only a
    /// plain `host[:port]` is accepted.
    pub fn from_host_header(scheme: &str, host: &str) -> Result<Self, BaseUrlError> {
        check_host(host)?;
        Self::parse(&format!("{scheme}://{host}")).map_err(|_| BaseUrlError::BadHost)
    }

    /// Whether the gateway is reached over https.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The path part of a gateway path on this base: `/prod` + `/getOpenId`.
    pub fn path_of(&self, path: &str) -> String {
        let after_scheme = self.0.split_once("://").map_or("", |(_, rest)| rest);
        let base_path = after_scheme.find('/').map_or("", |i| &after_scheme[i..]);
        format!("{base_path}{path}")
    }

    /// The absolute URL of a gateway path such as `/getOpenId`.
    pub fn join(&self, path: &str) -> String {
        format!("{}{path}", self.0)
    }
}

fn check_host(host: &str) -> Result<(), BaseUrlError> {
    let ok = !host.is_empty()
        && host.len() <= 260
        && host
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'));
    if ok {
        Ok(())
    } else {
        Err(BaseUrlError::BadHost)
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derives_from_api_gateway() {
        let d = "abc123.execute-api.us-east-1.amazonaws.com";
        assert_eq!(
            BaseUrl::from_api_gateway(d, Some("$default"))
                .unwrap()
                .as_str(),
            "https://abc123.execute-api.us-east-1.amazonaws.com"
        );
        assert_eq!(
            BaseUrl::from_api_gateway(d, Some("prod"))
                .unwrap()
                .join("/getOpenId"),
            "https://abc123.execute-api.us-east-1.amazonaws.com/prod/getOpenId"
        );
        assert!(BaseUrl::from_api_gateway("evil.com/x?", None).is_err());
    }

    #[test]
    fn host_headers_are_checked() {
        assert_eq!(
            BaseUrl::from_host_header("http", "127.0.0.1:3000")
                .unwrap()
                .as_str(),
            "http://127.0.0.1:3000"
        );
        assert_eq!(
            BaseUrl::from_host_header("http", "localhost")
                .unwrap()
                .as_str(),
            "http://localhost"
        );
        for bad in ["", "evil.com/path", "a@b", "a b", "evil.com#", "x\r\ny"] {
            assert!(BaseUrl::from_host_header("http", bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn configured_base_urls_are_normalised() {
        assert_eq!(
            BaseUrl::parse("https://login.example.com/")
                .unwrap()
                .as_str(),
            "https://login.example.com"
        );
        assert_eq!(
            BaseUrl::parse("https://login.example.com/wx/")
                .unwrap()
                .as_str(),
            "https://login.example.com/wx"
        );
        assert!(BaseUrl::parse("https://login.example.com/?x").is_err());
        assert!(BaseUrl::parse("ftp://login.example.com").is_err());
        assert!(BaseUrl::parse("login.example.com").is_err());
    }
}
