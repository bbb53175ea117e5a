//! The one HTTP client every WeChat call goes out on: its trust roots (Mozilla's,
//! compiled in, plus any extra ones the configuration names), its timeouts and pool.

use std::time::Duration;

use super::WeChatClient;

impl WeChatClient {
    /// The process-wide HTTP client. Per-call deadlines come from the caller's budget; the
    /// connect timeout keeps a black-holed address from eating all of it.
    ///
    /// Trusts Mozilla's root certificates, compiled in (`webpki-root-certs`), rather than
    /// the system's: the platform verifier read and parsed the system bundle at every cold
    /// start (docs/performance.md, "Levers"), and the roots are now the same wherever the
    /// gateway runs. They are updated with the dependency.
    ///
    /// [`EXTRA_ROOTS_VARIABLE`] adds roots to them (never replaces them); see there.
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

// --- Extra trusted roots (WECHAT_API_EXTRA_CA_FILE) -----------------------------------

/// A PEM file of root certificates the WeChat client trusts *in addition to* the
/// compiled-in ones: for a WeChat API reached through a TLS endpoint under a private CA
/// (the cold-start benchmark's test CA, a corporate egress proxy). Unset in production,
/// where nothing is read. Certificates are still verified in full (chain, name, validity).
/// Read and checked with the rest of the configuration ([`crate::Config`]): a file that
/// cannot be read or holds no certificate is a configuration error naming the variable,
/// rather than a process running with roots it was not meant to have.
pub const EXTRA_ROOTS_VARIABLE: &str = "WECHAT_API_EXTRA_CA_FILE";

/// The certificates of [`EXTRA_ROOTS_VARIABLE`]'s file, checked to parse.
#[derive(Clone)]
pub struct ExtraRoots {
    certs: Vec<reqwest::Certificate>,
}

impl ExtraRoots {
    /// Reads and checks the file at `path` (the variable's value).
    pub fn read(path: &str) -> Result<Self, String> {
        let pem = std::fs::read(path).map_err(|e| format!("cannot read {path}: {e}"))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|e| format!("{path} is not a PEM certificate bundle: {e}"))?;
        if certs.is_empty() {
            return Err(format!("{path} holds no certificate"));
        }
        Ok(Self { certs })
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.certs.len()
    }
}

impl std::fmt::Debug for ExtraRoots {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ExtraRoots({} certificates)", self.certs.len())
    }
}

// --- end of extra trusted roots ------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

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

    // --- extra trusted roots ---
    #[test]
    fn extra_roots_are_a_readable_pem_bundle_of_at_least_one_certificate() {
        use base64::Engine;
        let dir = std::env::temp_dir().join(format!("wxauth-extra-roots-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = |name: &str| dir.join(name).to_str().unwrap().to_owned();

        // Two real roots, as PEM: both are read.
        let pem: String = webpki_root_certs::TLS_SERVER_ROOT_CERTS[..2]
            .iter()
            .map(|der| {
                let b64 = base64::engine::general_purpose::STANDARD.encode(der.as_ref());
                let lines: Vec<&str> = b64
                    .as_bytes()
                    .chunks(64)
                    .map(|l| std::str::from_utf8(l).unwrap())
                    .collect();
                format!(
                    "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
                    lines.join("\n")
                )
            })
            .collect();
        std::fs::write(path("two.pem"), pem).unwrap();
        assert_eq!(ExtraRoots::read(&path("two.pem")).unwrap().len(), 2);

        std::fs::write(path("empty.pem"), "no certificate here\n").unwrap();
        let err = ExtraRoots::read(&path("empty.pem")).unwrap_err();
        assert!(err.ends_with("holds no certificate"), "{err}");
        let err = ExtraRoots::read(&path("missing.pem")).unwrap_err();
        assert!(err.starts_with("cannot read "), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
    // --- end of extra trusted roots ---
}
