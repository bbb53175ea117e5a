//! TLS like production for the cold-login benchmark: a certificate authority made for one
//! run, and TLS terminators (rustls, aws-lc-rs) in front of plain-HTTP loopback servers
//! (DynamoDB Local, the WeChat simulator).
//!
//! The chain is shaped like the public ones the functions meet: an RSA-2048 root (which the
//! functions are configured to trust, as they trust a real root), an RSA-2048 intermediate
//! and an RSA-2048 leaf for `localhost`; the server sends leaf and intermediate, so the
//! client builds and verifies a two-link path to its root. The terminator offers TLS 1.3
//! and 1.2 and the classic key exchanges (X25519, P-256, P-384): whether DynamoDB's and
//! WeChat's front ends accept rustls's post-quantum hybrid is not known here, and a client
//! pays for generating its hybrid key share either way.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose, PKCS_RSA_SHA256,
};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::{self, ServerConfig, pki_types::PrivateKeyDer};

/// A root, an intermediate and a `localhost` leaf, made fresh for one run.
pub struct TestPki {
    /// The root certificate, PEM, written to `ca.pem` in the folder given to [`Self::generate`].
    pub ca_pem_path: PathBuf,
    pub ca_pem: String,
    server: Arc<ServerConfig>,
}

impl TestPki {
    /// Generates the keys and certificates (RSA key generation takes a moment) and writes
    /// the root to `dir/ca.pem`.
    pub fn generate(dir: &Path) -> Self {
        let root_key = KeyPair::generate_for(&PKCS_RSA_SHA256).expect("an RSA root key");
        let mut root = CertificateParams::default();
        root.distinguished_name = name("wxauth benchmark root CA (one run)");
        root.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        root.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        let root_cert = root.self_signed(&root_key).expect("the root certificate");
        let root_issuer = Issuer::new(root, root_key);

        let intermediate_key =
            KeyPair::generate_for(&PKCS_RSA_SHA256).expect("an RSA intermediate key");
        let mut intermediate = CertificateParams::default();
        intermediate.distinguished_name = name("wxauth benchmark intermediate CA");
        intermediate.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        intermediate.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
        intermediate.use_authority_key_identifier_extension = true;
        let intermediate_cert = intermediate
            .signed_by(&intermediate_key, &root_issuer)
            .expect("the intermediate certificate");
        let intermediate_issuer = Issuer::new(intermediate, intermediate_key);

        let leaf_key = KeyPair::generate_for(&PKCS_RSA_SHA256).expect("an RSA leaf key");
        let mut leaf = CertificateParams::new(vec![
            "localhost".to_owned(),
            "127.0.0.1".to_owned(),
            "::1".to_owned(),
        ])
        .expect("the leaf's names");
        leaf.distinguished_name = name("localhost");
        leaf.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        leaf.extended_key_usages = vec![rcgen::ExtendedKeyUsagePurpose::ServerAuth];
        leaf.use_authority_key_identifier_extension = true;
        let leaf_cert = leaf
            .signed_by(&leaf_key, &intermediate_issuer)
            .expect("the leaf certificate");

        let server = ServerConfig::builder_with_provider(Arc::new(classic_provider()))
            .with_safe_default_protocol_versions()
            .expect("TLS 1.2 and 1.3")
            .with_no_client_auth()
            .with_single_cert(
                vec![leaf_cert.der().clone(), intermediate_cert.der().clone()],
                PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into()),
            )
            .expect("the leaf and its key");

        let ca_pem = root_cert.pem();
        let ca_pem_path = dir.join("ca.pem");
        std::fs::write(&ca_pem_path, &ca_pem).expect("write ca.pem");
        Self {
            ca_pem_path,
            ca_pem,
            server: Arc::new(server),
        }
    }

    /// A TLS terminator on a free loopback port forwarding to `upstream` (plain TCP).
    pub async fn terminate(&self, upstream: SocketAddr) -> Terminator {
        Terminator::start(Arc::clone(&self.server), upstream).await
    }
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    dn.push(DnType::OrganizationName, "wxauth benchmark");
    dn
}

/// aws-lc-rs with the key exchanges most public front ends offer (no post-quantum hybrid).
fn classic_provider() -> rustls::crypto::CryptoProvider {
    use rustls::crypto::aws_lc_rs::{self, kx_group};
    rustls::crypto::CryptoProvider {
        kx_groups: vec![kx_group::X25519, kx_group::SECP256R1, kx_group::SECP384R1],
        ..aws_lc_rs::default_provider()
    }
}

/// One TLS connection as the terminator saw it.
#[derive(Clone, Debug)]
pub struct Handshake {
    /// From accepting the TCP connection to the client's Finished (or the failure): the
    /// client's side of the handshake, on the client's CPU budget, plus the server's.
    pub duration: Duration,
    /// `Err` with rustls's reason when the client aborted the handshake (e.g. it did not
    /// trust the chain).
    pub result: Result<(), String>,
}

/// A TLS terminator: accepts TLS on `127.0.0.1` (and `[::1]` when it can bind the same
/// port), forwards the plaintext to its upstream, and records every handshake.
pub struct Terminator {
    pub port: u16,
    handshakes: Arc<Mutex<Vec<Handshake>>>,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Terminator {
    async fn start(config: Arc<ServerConfig>, upstream: SocketAddr) -> Self {
        let v4 = TcpListener::bind(("127.0.0.1", 0))
            .await
            .expect("a loopback port for the TLS terminator");
        let port = v4.local_addr().expect("its address").port();
        let mut listeners = vec![v4];
        // `localhost` may resolve to ::1 first; where it does, be there too.
        if let Ok(v6) = TcpListener::bind(("::1", port)).await {
            listeners.push(v6);
        }
        let handshakes = Arc::new(Mutex::new(Vec::new()));
        let acceptor = TlsAcceptor::from(config);
        let tasks = listeners
            .into_iter()
            .map(|listener| {
                let acceptor = acceptor.clone();
                let handshakes = Arc::clone(&handshakes);
                tokio::spawn(async move {
                    loop {
                        let Ok((client, _)) = listener.accept().await else {
                            continue;
                        };
                        let accepted = Instant::now();
                        let acceptor = acceptor.clone();
                        let handshakes = Arc::clone(&handshakes);
                        tokio::spawn(async move {
                            let _ = client.set_nodelay(true);
                            let tls = acceptor.accept(client).await;
                            let duration = accepted.elapsed();
                            let result = tls.as_ref().map(|_| ()).map_err(|e| e.to_string());
                            handshakes
                                .lock()
                                .unwrap()
                                .push(Handshake { duration, result });
                            let Ok(mut tls) = tls else { return };
                            let Ok(mut server) = TcpStream::connect(upstream).await else {
                                return;
                            };
                            let _ = server.set_nodelay(true);
                            let _ = tokio::io::copy_bidirectional(&mut tls, &mut server).await;
                        });
                    }
                })
            })
            .collect();
        Self {
            port,
            handshakes,
            tasks,
        }
    }

    /// `https://localhost:{port}`: the name the leaf certificate is for.
    pub fn base_url(&self) -> String {
        format!("https://localhost:{}", self.port)
    }

    /// The handshakes recorded since the last call.
    pub fn take_handshakes(&self) -> Vec<Handshake> {
        std::mem::take(&mut *self.handshakes.lock().unwrap())
    }
}

impl Drop for Terminator {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn client_config(roots: &[&str]) -> rustls::ClientConfig {
        let mut store = rustls::RootCertStore::empty();
        for pem in roots {
            use rustls::pki_types::{CertificateDer, pem::PemObject};
            for der in CertificateDer::pem_slice_iter(pem.as_bytes()) {
                store.add(der.unwrap()).unwrap();
            }
        }
        rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(store)
        .with_no_client_auth()
    }

    async fn connect(
        config: rustls::ClientConfig,
        port: u16,
    ) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
        let tcp = TcpStream::connect(("127.0.0.1", port)).await?;
        tokio_rustls::TlsConnector::from(Arc::new(config))
            .connect("localhost".try_into().unwrap(), tcp)
            .await
    }

    #[tokio::test]
    async fn a_client_trusting_the_root_reaches_the_upstream_and_others_are_refused() {
        let dir = std::env::temp_dir().join(format!("wxauth-bench-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let pki = TestPki::generate(&dir);
        let echo = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
        let upstream = echo.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = echo.accept().await.unwrap();
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(&buf).await.unwrap();
        });
        let terminator = pki.terminate(upstream).await;

        let mut tls = connect(client_config(&[&pki.ca_pem]), terminator.port)
            .await
            .expect("the chain verifies against the test root");
        tls.write_all(b"hello").await.unwrap();
        let mut back = [0u8; 5];
        tls.read_exact(&mut back).await.unwrap();
        assert_eq!(&back, b"hello");

        // Another run's root (or none) is not enough: verification is on.
        let other = TestPki::generate(&dir);
        assert!(
            connect(client_config(&[&other.ca_pem]), terminator.port)
                .await
                .is_err()
        );
        let mut seen = Vec::new();
        for _ in 0..200 {
            seen.extend(terminator.take_handshakes());
            if seen.len() >= 2 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        assert_eq!(seen.len(), 2, "{seen:?}");
        assert!(seen[0].result.is_ok());
        assert!(seen[1].result.is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
