//! `wxauth-local`: the gateway on 127.0.0.1:$PORT (default 3000), configured like the
//! Lambda functions; a self-contained demo when WECHAT_APP_ID is not set.

use std::io::IsTerminal;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;
use tracing::info;
use tracing_subscriber::EnvFilter;
use wxauth_local::{StartError, parse_port, start};

/// Exit status for a configuration the server cannot run with.
const BAD_CONFIG: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    init_tracing();

    let port = match std::env::var("PORT") {
        Ok(value) => parse_port(Some(&value)),
        Err(std::env::VarError::NotPresent) => parse_port(None),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err("PORT: must be a port number from 0 to 65535".to_owned())
        }
    };
    let port = match port {
        Ok(port) => port,
        Err(problem) => {
            eprintln!("invalid configuration:\n  {problem}");
            return ExitCode::from(BAD_CONFIG);
        }
    };

    let listener = match TcpListener::bind((Ipv4Addr::LOCALHOST, port)).await {
        Ok(listener) => listener,
        Err(err) if err.kind() == std::io::ErrorKind::AddrInUse => {
            eprintln!(
                "cannot listen on 127.0.0.1:{port}: the port is already in use \
                 (set PORT to a free port, or 0 for any)"
            );
            return ExitCode::FAILURE;
        }
        Err(err) => {
            eprintln!("cannot listen on 127.0.0.1:{port}: {err}");
            return ExitCode::FAILURE;
        }
    };

    let server = match start(|name| std::env::var(name).ok(), listener).await {
        Ok(server) => server,
        Err(StartError::Config(err)) => {
            // Names every problem by variable; values are not echoed.
            eprint!("{err}");
            return ExitCode::from(BAD_CONFIG);
        }
        Err(err) => {
            eprintln!("{err}");
            return ExitCode::FAILURE;
        }
    };
    println!("{}", server.banner());

    shutdown_signal().await;
    info!("shutting down");
    server.shutdown(Duration::from_secs(5)).await;
    ExitCode::SUCCESS
}

/// Human-readable logs on stderr (stdout is for the banner), coloured only on a terminal;
/// RUST_LOG, default `info`.
fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
}

/// Ctrl-C, or SIGTERM on Unix.
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            // No way to listen for Ctrl-C: only SIGTERM (or a kill) stops us.
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut sigterm) => {
                sigterm.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
