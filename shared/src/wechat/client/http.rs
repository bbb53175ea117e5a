//! The one HTTP client every WeChat call goes out on: its trust roots (Mozilla's,
//! compiled in, plus any extra ones the configuration names, `wechat/extra_roots.rs`), its
//! timeouts and pool.

use std::time::Duration;

use super::WeChatClient;
use crate::wechat::ExtraRoots;

impl WeChatClient {
    /// The process-wide HTTP client. Per-call deadlines come from the caller's budget; the
    /// connect timeout keeps a black-holed address from eating all of it.
    ///
    /// Trusts Mozilla's root certificates, compiled in (`webpki-root-certs`), rather than
    /// the system's: the platform verifier read and parsed the system bundle at every cold
    /// start (docs/performance.md, "Levers"), and the roots are now the same wherever the
    /// gateway runs. They are updated with the dependency.
    ///
    /// [`crate::wechat::EXTRA_ROOTS_VARIABLE`] adds roots to them (never replaces them); see there.
    pub fn http_client() -> reqwest::Client {
        Self::http_client_with(None)
    }

    /// [`Self::http_client`], also trusting the configuration's extra roots.
    pub fn http_client_with(extra: Option<&ExtraRoots>) -> reqwest::Client {
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS
            .iter()
            .filter_map(|der| reqwest::Certificate::from_der(der).ok())
            .chain(
                extra
                    .into_iter()
                    .flat_map(|extra| extra.certs.iter().cloned()),
            );
        reqwest::Client::builder()
            .tls_certs_only(roots)
            .connect_timeout(Duration::from_secs(2))
            .pool_idle_timeout(Duration::from_secs(50))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("the HTTP client's TLS configuration is valid")
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_compiled_in_root_is_trusted() {
        let roots = webpki_root_certs::TLS_SERVER_ROOT_CERTS;
        assert!(roots.len() > 100, "Mozilla's set, not a pinned few");
        let usable = roots
            .iter()
            .filter(|der| reqwest::Certificate::from_der(der).is_ok())
            .count();
        assert_eq!(usable, roots.len());
    }
}
