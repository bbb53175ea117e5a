//! The two OpenID Providers the `oidc` benchmark compares, each a process of its own on
//! loopback, configured alike: one confidential client, PKCE S256 required, ID tokens
//! signed with the same key, state in memory. wxauth is `wxauth-local` in demo mode (its
//! in-memory store, the simulated WeChat in the same process, the core's handlers behind
//! the same axum server that serves the demo); the baseline is Node.js's certified
//! `oidc-provider` (`bench/node-oidc/server.mjs`, its own in-memory adapter).

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

/// The one relying party both providers know.
pub const CLIENT_ID: &str = "bench-rp";
/// At least 32 characters, as wxauth requires of a client secret.
pub const CLIENT_SECRET: &str = "bench-client-secret-0123456789abcdefghij";
/// Never fetched: the benchmark reads the code from the redirect's `Location`.
pub const REDIRECT_URI: &str = "http://127.0.0.1:9/cb";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Wxauth,
    Node,
}

/// How the client authenticates at the token endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuthMethod {
    Basic,
    Post,
}

impl AuthMethod {
    pub fn parse(text: &str) -> Self {
        match text {
            "basic" | "client_secret_basic" => Self::Basic,
            "post" | "client_secret_post" => Self::Post,
            other => panic!("--auth must be basic or post, not {other}"),
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Self::Basic => "client_secret_basic",
            Self::Post => "client_secret_post",
        }
    }
}

/// A running provider.
pub struct Provider {
    pub kind: Kind,
    pub alg: &'static str,
    pub base: String,
    pub pid: u32,
    _child: Child,
}

impl Provider {
    pub fn label(&self) -> String {
        let name = match self.kind {
            Kind::Wxauth => "wxauth",
            Kind::Node => "oidc-provider",
        };
        format!("{name} {}", self.alg)
    }

    pub fn authorize_url(&self) -> String {
        self.url("/oauth2/authorize", "/auth")
    }

    pub fn token_url(&self) -> String {
        self.url("/oauth2/token", "/token")
    }

    pub fn userinfo_url(&self) -> String {
        self.url("/oauth2/userinfo", "/me")
    }

    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.base)
    }

    fn url(&self, wxauth: &str, node: &str) -> String {
        let path = match self.kind {
            Kind::Wxauth => wxauth,
            Kind::Node => node,
        };
        format!("{}{path}", self.base)
    }
}

/// Starts `kind` signing with the PKCS#8 key `key_pem` (`alg` names its algorithm), on
/// CPU `cpu` alone when given (every thread of the process: the mask is set before exec).
pub async fn start(
    kind: Kind,
    alg: &'static str,
    key_pem: &str,
    auth: AuthMethod,
    wxauth_local: &Path,
    node_dir: &Path,
    cpu: Option<usize>,
) -> Provider {
    let port = free_port();
    let mut command = match kind {
        Kind::Wxauth => {
            let clients = serde_json::json!([{
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "redirect_uris": [REDIRECT_URI],
            }]);
            let mut command = Command::new(wxauth_local);
            command
                .env_clear()
                .env("PORT", port.to_string())
                .env("RUST_LOG", "warn")
                .env("OIDC_CLIENTS", clients.to_string())
                .env("OIDC_SIGNING_KEYS", key_pem);
            command
        }
        Kind::Node => {
            let mut command = Command::new("node");
            command
                .arg("server.mjs")
                .current_dir(node_dir)
                .env_clear()
                .env("PATH", std::env::var("PATH").unwrap_or_default())
                .env("NODE_ENV", "production")
                .env("PORT", port.to_string())
                .env("KEY_PEM", key_pem)
                .env("CLIENT_ID", CLIENT_ID)
                .env("CLIENT_SECRET", CLIENT_SECRET)
                .env("REDIRECT_URI", REDIRECT_URI)
                .env("AUTH_METHOD", auth.name());
            command
        }
    };
    if let Some(cpu) = cpu {
        // SAFETY: only a system call between fork and exec, no allocation.
        unsafe {
            command.pre_exec(move || {
                crate::oidc::pin_current_process(cpu);
                Ok(())
            });
        }
    }
    let child = command
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {kind:?}: {e}"));
    let provider = Provider {
        kind,
        alg,
        base: format!("http://127.0.0.1:{port}"),
        pid: child.id().expect("a running child"),
        _child: child,
    };
    wait_until_up(&provider).await;
    provider
}

fn free_port() -> u16 {
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    probe.local_addr().unwrap().port()
}

async fn wait_until_up(provider: &Provider) {
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if let Ok(answer) = client.get(provider.discovery_url()).send().await
            && answer.status().is_success()
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "{} did not answer its discovery document at {} (run it by hand to see why)",
        provider.label(),
        provider.base
    );
}
