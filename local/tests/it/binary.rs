//! The `wxauth-local` program itself: exit statuses, the banner, shutting down on SIGTERM.

use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::{self, program};

async fn run_to_end(vars: &[(&str, &str)]) -> (Option<i32>, String, String) {
    let output = tokio::time::timeout(Duration::from_secs(30), program(vars).output())
        .await
        .expect("the program should exit on its own")
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn a_malformed_port_is_a_configuration_error() {
    let (code, stdout, stderr) = run_to_end(&[("PORT", "80a")]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("PORT: must be a port number"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

#[tokio::test]
async fn an_unknown_log_format_is_a_configuration_error_reported_with_the_port() {
    let (code, stdout, stderr) = run_to_end(&[("LOG_FORMAT", "xml"), ("PORT", "80a")]).await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr.contains("  LOG_FORMAT: must be text (the default) or json (it is \"xml\")"),
        "{stderr}"
    );
    assert!(stderr.contains("  PORT: must be a port number"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

#[tokio::test]
async fn configuration_errors_exit_with_2_and_name_the_variables() {
    let (code, stdout, stderr) = run_to_end(&[
        ("PORT", "0"),
        ("WECHAT_APP_ID", "wx0123456789abcdef"),
        ("WECHAT_APP_SECRET", "app s3cr3t with spaces"),
        ("TOKEN_SIGNING_KEY", "short-s3cr3t"),
    ])
    .await;
    assert_eq!(code, Some(2), "{stderr}");
    for name in [
        "WECHAT_APP_SECRET",
        "ALLOWED_RETURN_ORIGINS",
        "TOKEN_SIGNING_KEY",
    ] {
        assert!(
            stderr.contains(&format!("  {name}: ")),
            "{name} in {stderr}"
        );
    }
    assert!(!stderr.contains("s3cr3t"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
}

#[tokio::test]
async fn a_port_in_use_is_reported() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let (code, _, stderr) = run_to_end(&[("PORT", &port)]).await;
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("already in use"), "{stderr}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_demo_prints_its_banner_serves_and_stops_on_sigterm() {
    let mut child = program(&[("PORT", "0")]).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut banner = Vec::new();
    while banner.len() < 4 {
        let line = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("the banner comes promptly")
            .unwrap()
            .expect("the banner has four lines");
        banner.push(line);
    }
    let first = &banner[0];
    let url = first
        .split_once("open ")
        .and_then(|(_, rest)| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    assert!(url.starts_with("http://127.0.0.1:"), "{url}");
    assert!(banner[1].contains("mode:  demo"), "{banner:?}");
    assert!(banner[2].contains("store: in-memory"), "{banner:?}");
    let key = banner[3].rsplit(' ').next().unwrap();
    assert_eq!(key.len(), 43, "{banner:?}");

    let landing = support::get(&url, &[]).await;
    assert_eq!(landing.status, 200);
    assert!(landing.body.contains("WeChat user name"));

    support::sigterm(&child).await;
    let status = tokio::time::timeout(Duration::from_secs(10), child.wait())
        .await
        .expect("SIGTERM stops the server")
        .unwrap();
    assert_eq!(status.code(), Some(0));
}

/// `wxauth-local ARGS` with `stdin` on its standard input, to its end.
async fn command_with_input(args: &[&str], stdin: &str) -> (Option<i32>, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut command = program(&[]);
    command.args(args).stdin(std::process::Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).await.unwrap();
    drop(input);
    let output = tokio::time::timeout(Duration::from_secs(30), child.wait_with_output())
        .await
        .expect("the command should end on its own")
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[tokio::test]
async fn jwks_prints_the_public_set_of_the_keys_on_stdin() {
    let pem = wxauth_core::oidc::keys::SigningKeys::generate_pem();
    let (code, stdout, stderr) = command_with_input(&["jwks"], &pem).await;
    assert_eq!(code, Some(0), "{stderr}");
    let keys = wxauth_core::oidc::keys::SigningKeys::from_pem(&pem).unwrap();
    let printed: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(printed, keys.jwks());
    assert!(!stdout.contains("PRIVATE"));
    // Not keys: a clear error, exit 2, nothing on stdout and nothing of the input echoed.
    let (code, stdout, stderr) = command_with_input(&["jwks"], "not-a-key-4f2a").await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("the PEM on stdin"), "{stderr}");
    assert!(!stderr.contains("not-a-key-4f2a"), "{stderr}");
    // An unknown command is a usage error, not a server started.
    let (code, stdout, stderr) = command_with_input(&["serve"], "").await;
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stdout.is_empty());
    assert!(stderr.contains("usage: wxauth-local"), "{stderr}");
}
