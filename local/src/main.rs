//! `wxauth-local`: the gateway on 127.0.0.1:$PORT (default 3000), configured like the
//! Lambda functions; a self-contained demo when neither WECHAT_APP_ID nor WECHAT_APPS is set.

use std::io::IsTerminal;
use std::net::Ipv4Addr;
use std::process::ExitCode;
use std::time::Duration;

use tokio::net::TcpListener;
use tracing::subscriber::set_global_default;
use tracing::{info, warn};
use wxauth_core::logging::{LogFilter, json_logs, text_logs};
use wxauth_local::{
    JWKS_COMMAND, LogFormat, StartError, parse_log_format, parse_port, public_jwks, start,
};

/// Exit status for a configuration the server cannot run with.
const BAD_CONFIG: u8 = 2;

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args
        .iter()
        .map(String::as_str)
        .collect::<Vec<_>>()
        .as_slice()
    {
        [] => {}
        [command] if *command == JWKS_COMMAND => return print_jwks(),
        _ => {
            eprintln!(
                "usage: wxauth-local            the gateway on 127.0.0.1:$PORT\n       \
                 wxauth-local jwks < keys.pem  the public JWK Set of PEM private keys"
            );
            return ExitCode::from(BAD_CONFIG);
        }
    }
    let log_format = parse_log_format(var("LOG_FORMAT").as_deref());
    let port = parse_port(var("PORT").as_deref());
    let (log_format, port) = match (log_format, port) {
        (Ok(log_format), Ok(port)) => (log_format, port),
        (log_format, port) => {
            eprintln!("invalid configuration:");
            for problem in [log_format.err(), port.err()].into_iter().flatten() {
                eprintln!("  {problem}");
            }
            return ExitCode::from(BAD_CONFIG);
        }
    };
    init_tracing(log_format);

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

/// `wxauth-local jwks`: stdin's PEM private keys, their public JWK Set on stdout.
fn print_jwks() -> ExitCode {
    let mut pem = String::new();
    if let Err(err) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut pem) {
        eprintln!("cannot read the PEM keys on stdin: {err}");
        return ExitCode::from(BAD_CONFIG);
    }
    match public_jwks(&pem) {
        Ok(jwks) => {
            println!("{jwks}");
            ExitCode::SUCCESS
        }
        Err(problem) => {
            eprintln!("{problem}");
            ExitCode::from(BAD_CONFIG)
        }
    }
}

/// A variable's value; one that is not UTF-8 is kept (mangled) for its parser to refuse.
fn var(name: &str) -> Option<String> {
    std::env::var_os(name).map(|value| value.to_string_lossy().into_owned())
}

/// Logs on stderr (stdout is for the banner): human-readable, coloured only on a terminal,
/// or the Lambda functions' JSON lines. Filter and cap as theirs (wxauth_core::logging):
/// RUST_LOG, else AWS_LAMBDA_LOG_LEVEL, else `info`.
fn init_tracing(format: LogFormat) {
    let filter = LogFilter::from_env("info");
    let installed = match format {
        LogFormat::Text => set_global_default(text_logs(
            std::io::stderr,
            &filter,
            std::io::stderr().is_terminal(),
        )),
        LogFormat::Json => set_global_default(json_logs(std::io::stderr, &filter)),
    };
    if installed.is_ok()
        && let Some(ignored) = &filter.ignored
    {
        warn!(filter = filter.directives(), "{ignored}");
    }
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
