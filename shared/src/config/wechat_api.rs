//! Where the WeChat client goes and how long it may take: WeChat's open and API bases, the
//! fallbacks tried when the API base fails, and the budget of one callback's WeChat calls.
//! Plain http is allowed to loopback only, because the code exchange carries the AppSecret.

use std::time::Duration;

use url::Url;

use super::reader::Reader;
use crate::base_url::BaseUrl;

pub const DEFAULT_WECHAT_TIMEOUT_MS: u64 = 6500;
/// A callback must answer within 10 s whatever WeChat does; the store takes up to 3 s.
pub const MAX_WECHAT_TIMEOUT_MS: u64 = 6500;
pub const DEFAULT_WECHAT_OPEN_BASE: &str = "https://open.weixin.qq.com";
pub const DEFAULT_WECHAT_API_BASE: &str = "https://api.weixin.qq.com";
/// WeChat's disaster-recovery API domain, tried when the default API base fails.
pub const DEFAULT_WECHAT_API_FALLBACK: &str = "https://api2.weixin.qq.com";

/// The WeChat part of [`super::Config`], read together.
pub(super) struct WeChatApi {
    pub open_base: Url,
    pub api_base: Url,
    pub api_fallbacks: Vec<Url>,
    pub timeout: Duration,
}

impl WeChatApi {
    /// WECHAT_OPEN_BASE, WECHAT_API_BASE, WECHAT_API_FALLBACK_BASES and
    /// WECHAT_TIMEOUT_MS, in that order.
    pub(super) fn read(reader: &mut Reader<'_>) -> Self {
        let open_base = reader
            .optional("WECHAT_OPEN_BASE", wechat_base_url)
            .unwrap_or_else(|| Url::parse(DEFAULT_WECHAT_OPEN_BASE).expect("valid default"));
        let custom_api_base = reader.optional("WECHAT_API_BASE", wechat_base_url);
        // WeChat's own fallback only makes sense behind WeChat's own API domain.
        let default_fallbacks = match custom_api_base {
            None => vec![Url::parse(DEFAULT_WECHAT_API_FALLBACK).expect("valid default")],
            Some(_) => Vec::new(),
        };
        let api_base = custom_api_base
            .unwrap_or_else(|| Url::parse(DEFAULT_WECHAT_API_BASE).expect("valid default"));
        let api_fallbacks = reader
            .optional("WECHAT_API_FALLBACK_BASES", |v| {
                if v == "none" {
                    return Ok(Vec::new());
                }
                v.split(',')
                    .map(str::trim)
                    .filter(|b| !b.is_empty())
                    .map(|b| wechat_base_url(b).map_err(|e| format!("`{b}`: {e}")))
                    .collect()
            })
            .unwrap_or(default_fallbacks);
        let timeout = reader
            .optional("WECHAT_TIMEOUT_MS", |v| {
                let ms: u64 = v
                    .parse()
                    .map_err(|_| "must be a whole number of milliseconds".to_owned())?;
                if (100..=MAX_WECHAT_TIMEOUT_MS).contains(&ms) {
                    Ok(Duration::from_millis(ms))
                } else {
                    Err(format!("must be between 100 and {MAX_WECHAT_TIMEOUT_MS}"))
                }
            })
            .unwrap_or(Duration::from_millis(DEFAULT_WECHAT_TIMEOUT_MS));
        Self {
            open_base,
            api_base,
            api_fallbacks,
            timeout,
        }
    }
}

/// A WeChat base URL. Plain http only on loopback (the simulator, a local proxy): the
/// code exchange sends the AppSecret in the query, which must never cross a network in
/// clear text.
fn wechat_base_url(v: &str) -> Result<Url, String> {
    let url = BaseUrl::parse(v)
        .map_err(|e| e.to_string())
        .and_then(|b| Url::parse(b.as_str()).map_err(|e| e.to_string()))?;
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(format!(
            "`{v}`: use https (http only to 127.0.0.1, [::1] or localhost): the AppSecret would travel in clear text"
        ));
    }
    Ok(url)
}

pub(super) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
        Some(url::Host::Domain(name)) => name == "localhost",
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use crate::config::tests::{MINIMAL, config};

    #[test]
    fn wechat_bases_are_https_except_on_loopback() {
        for ok in [
            "https://api.weixin.qq.com",
            "http://127.0.0.1:9000",
            "http://127.1.2.3:9000/wechat",
            "http://[::1]:9000",
            "http://localhost:9000",
        ] {
            let mut vars = MINIMAL.to_vec();
            vars.extend([("WECHAT_API_BASE", ok), ("WECHAT_OPEN_BASE", ok)]);
            vars.push(("WECHAT_API_FALLBACK_BASES", ok));
            assert!(config(&vars).is_ok(), "{ok}");
        }
        for bad in [
            "http://api.weixin.qq.com",
            "http://10.0.0.1:9000",
            "http://localhost.example.com",
        ] {
            let mut vars = MINIMAL.to_vec();
            vars.extend([("WECHAT_API_BASE", bad), ("WECHAT_OPEN_BASE", bad)]);
            vars.push(("WECHAT_API_FALLBACK_BASES", bad));
            let err = config(&vars).unwrap_err();
            let names: Vec<&str> = err.problems.iter().map(|(n, _)| *n).collect();
            assert_eq!(
                names,
                [
                    "WECHAT_OPEN_BASE",
                    "WECHAT_API_BASE",
                    "WECHAT_API_FALLBACK_BASES"
                ],
                "{bad}"
            );
            assert!(err.to_string().contains("clear text"), "{err}");
        }
    }

    #[test]
    fn fallbacks_and_binding_are_configurable() {
        let mut vars = MINIMAL.to_vec();
        vars.push(("WECHAT_API_BASE", "http://127.0.0.1:9000"));
        let c = config(&vars).unwrap();
        assert!(
            c.wechat_api_fallbacks.is_empty(),
            "no WeChat fallback behind a custom base"
        );
        vars.push((
            "WECHAT_API_FALLBACK_BASES",
            "https://sh.api.weixin.qq.com, https://sz.api.weixin.qq.com",
        ));
        vars.push(("BROWSER_BINDING", "off"));
        let c = config(&vars).unwrap();
        assert_eq!(c.wechat_api_fallbacks.len(), 2);
        assert!(!c.browser_binding);
        let mut none = MINIMAL.to_vec();
        none.push(("WECHAT_API_FALLBACK_BASES", "none"));
        assert!(config(&none).unwrap().wechat_api_fallbacks.is_empty());
        let mut bad = MINIMAL.to_vec();
        bad.push(("BROWSER_BINDING", "false"));
        bad.push(("INIT_WARM_UP", "yes"));
        bad.push(("WECHAT_API_FALLBACK_BASES", "api2.weixin.qq.com"));
        let names: Vec<&str> = config(&bad)
            .unwrap_err()
            .problems
            .iter()
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            names,
            [
                "WECHAT_API_FALLBACK_BASES",
                "BROWSER_BINDING",
                "INIT_WARM_UP"
            ]
        );
    }

    #[test]
    fn an_extra_roots_file_that_cannot_be_used_is_a_configuration_error() {
        let dir = std::env::temp_dir().join(format!("wxauth-config-roots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        let missing = dir.join("missing.pem");
        for (path, says) in [(&empty, "holds no certificate"), (&missing, "cannot read")] {
            let mut vars = MINIMAL.to_vec();
            let path = path.to_str().unwrap();
            vars.push(("WECHAT_API_EXTRA_CA_FILE", path));
            let err = config(&vars).unwrap_err();
            assert_eq!(err.problems.len(), 1, "{err}");
            let (name, problem) = &err.problems[0];
            assert_eq!(*name, "WECHAT_API_EXTRA_CA_FILE");
            assert!(problem.contains(says), "{problem}");
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
