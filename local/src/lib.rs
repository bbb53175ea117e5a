//! wxauth on your machine: the gateway as one HTTP server on 127.0.0.1.
//!
//! Configured through the same environment variables as the Lambda functions. Without
//! `WECHAT_APP_ID` or `WECHAT_APPS` it runs the **demo**: a simulated WeChat nested at `/wechat`, a landing
//! page at `/` and a result page at `/demo/result`, so a whole login can be tried in a
//! browser without an Official Account.

mod banner;
mod demo;
mod favicon;
mod host;
mod jwks_command;
mod log_format;
mod pages;
mod port;
mod server;

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tracing::{error, info};
use wechat_simulator::WeChatSimulator;
use wxauth_core::store::{DynamoStateStore, MemoryStateStore};
use wxauth_core::{Config, Gateway, StateStore, WeChatClient};

pub use demo::{DEMO_APP_ID, DEMO_WEB_APP_ID};
pub use jwks_command::{JWKS_COMMAND, public_jwks};
pub use log_format::{LogFormat, parse_log_format};
pub use port::{DEFAULT_PORT, parse_port};

/// A running local server; it stops when this is dropped.
pub struct LocalServer {
    /// `http://127.0.0.1:PORT`, without a trailing slash.
    pub base_url: String,
    /// The demo's freshly generated token signing key (demo mode only). A configured
    /// TOKEN_SIGNING_KEY is never exposed.
    pub demo_signing_key: Option<String>,
    banner: banner::Banner,
    simulator: Option<WeChatSimulator>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] wxauth_core::ConfigError),
    #[error("the local server could not start: {0}")]
    Io(#[from] std::io::Error),
}

/// Starts the server on `listener` with configuration read through `lookup` (environment
/// variable name → value). Demo mode when WECHAT_APP_ID and WECHAT_APPS are absent (or
/// empty).
pub async fn start(
    lookup: impl Fn(&str) -> Option<String>,
    listener: tokio::net::TcpListener,
) -> Result<LocalServer, StartError> {
    let port = listener.local_addr()?.port();
    let base_url = format!("http://127.0.0.1:{port}");

    let demo = demo::wanted(&lookup).then(|| demo::Demo::new(port));
    let config = match &demo {
        Some(demo) => Config::from_lookup(|name| demo.lookup(name, &lookup))?,
        None => Config::from_lookup(&lookup)?,
    };

    let (store, store_label): (Arc<dyn StateStore>, String) = match &config.state_table {
        Some(table) => (
            Arc::new(DynamoStateStore::from_env(table.clone()).await),
            format!("DynamoDB table {table}"),
        ),
        None => (
            Arc::new(MemoryStateStore::new()),
            "in-memory (logins in progress are lost on restart)".to_owned(),
        ),
    };

    let banner = banner::Banner {
        base_url: base_url.clone(),
        demo: demo.as_ref().map(|d| banner::DemoBanner {
            signing_key: d.signing_key_text.clone(),
            ignored: demo::ignored_variables(&lookup),
        }),
        apps: config
            .apps
            .iter()
            .map(|app| format!("{} ({} {})", app.name, app.kind, app.app_id))
            .collect(),
        wechat_open_base: config.wechat_open_base.to_string(),
        public_base_url: config.public_base_url.as_ref().map(|b| b.to_string()),
        store: store_label,
    };

    let site = demo
        .as_ref()
        .map(|d| Arc::new(pages::DemoSite::new(port, d.signing_key.clone())));
    let simulator = demo.map(|d| d.simulator);
    let http = WeChatClient::http_client_with(config.wechat_extra_roots.as_ref());
    let gateway = Arc::new(Gateway::new(config, store, http));
    let app = server::router(gateway, site, simulator.clone());

    let (shutdown, shutdown_signal) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let stop = async {
            // A dropped sender also stops the server (after `abort` nobody waits anyway).
            let _ = shutdown_signal.await;
        };
        if let Err(err) = axum::serve(listener, app)
            .with_graceful_shutdown(stop)
            .await
        {
            error!(error = %err, "the local server stopped");
        }
    });
    info!(
        url = %base_url,
        mode = if simulator.is_some() { "demo" } else { "configured" },
        "listening"
    );

    Ok(LocalServer {
        base_url,
        demo_signing_key: banner.demo.as_ref().map(|d| d.signing_key.clone()),
        banner,
        simulator,
        shutdown: Some(shutdown),
        task,
    })
}

impl LocalServer {
    /// What to print at start: the URL to open, the mode and the store. In demo mode it
    /// includes the demo's signing key; it never contains a configured secret.
    pub fn banner(&self) -> String {
        self.banner.render()
    }

    /// The simulated WeChat served at `/wechat` (demo mode only), e.g. to ask which openid
    /// it gives a user.
    pub fn demo_simulator(&self) -> Option<&WeChatSimulator> {
        self.simulator.as_ref()
    }

    /// Stops accepting connections and lets requests in flight finish, for at most `grace`.
    pub async fn shutdown(mut self, grace: Duration) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if tokio::time::timeout(grace, &mut self.task).await.is_err() {
            info!("requests still in flight after the grace period; stopping anyway");
        }
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}
