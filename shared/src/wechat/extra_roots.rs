//! The roots the WeChat client trusts besides the compiled-in ones, from
//! `WECHAT_API_EXTRA_CA_FILE`: rarely set, and read with the configuration so a file that
//! cannot be used stops the process at cold start.

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
    /// Read by the client that trusts them (`WeChatClient::http_client_with`).
    pub(super) certs: Vec<reqwest::Certificate>,
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
