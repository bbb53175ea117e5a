//! Real relying-party libraries (openid-client on Node, Authlib on Python) against the
//! function binaries; skipped when they are not installed.

use std::collections::BTreeMap;

use wechat_simulator::SimulatorConfig;
use wxauth_tests::{APP_ID, APP_SECRET, exclusive};

use super::Stack;

/// The clients the relying-party libraries' tests use (tests/oidc-clients/clients.json,
/// both openid-client's and Authlib's), as OIDC_CLIENTS.
fn library_clients() -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/oidc-clients/clients.json");
    let by_library: BTreeMap<String, BTreeMap<String, serde_json::Value>> =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let all: Vec<&serde_json::Value> = by_library.values().flat_map(|c| c.values()).collect();
    serde_json::to_string(&all).unwrap()
}

/// The relying-party libraries' test suites (tests/oidc-clients/), as commands run from the
/// repository's root; `None` when scripts/oidc-clients.sh has not installed them: a
/// failure under CI (`CI` set), else a visible skip.
fn relying_party_suites() -> Option<Vec<(&'static str, std::process::Command)>> {
    let root = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/.."));
    let cache = root.join(".cache/oidc-clients");
    let python = cache.join("venv/bin/python");
    let runs = |command: &mut std::process::Command| {
        command
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let installed = runs(std::process::Command::new("node").arg("--version"))
        && cache
            .join("node_modules/openid-client/package.json")
            .is_file()
        && runs(std::process::Command::new(&python).args(["-c", "import authlib, pytest"]));
    if !installed {
        let reason = "the relying-party libraries (openid-client, Authlib) are not installed in \
                      .cache/oidc-clients; scripts/oidc-clients.sh installs them";
        assert!(std::env::var_os("CI").is_none(), "{reason}");
        // Straight to stderr: libtest captures eprintln! of passing tests.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!("skipped: {reason}\n").as_bytes(),
        );
        return None;
    }
    let mut node = std::process::Command::new("node");
    node.args(["--test", "tests/oidc-clients/openid-client.test.mjs"]);
    let mut pytest = std::process::Command::new(python);
    pytest.args([
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        "tests/oidc-clients/test_authlib.py",
    ]);
    let suites = vec![("openid-client", node), ("Authlib", pytest)];
    Some(
        suites
            .into_iter()
            .map(|(name, mut command)| {
                command.current_dir(root);
                (name, command)
            })
            .collect(),
    )
}

/// The real relying-party libraries (Node's openid-client and Python's Authlib, the suites
/// of tests/oidc-clients/ that otherwise run against wxauth-local) against the function
/// binaries under the emulator: discovery, PKCE, state, nonce, the code exchange with each
/// client authentication, the ID token checked against the JWKS, userinfo, form_post, the
/// refusals. The libraries must reach the issuer, so the API is served on a port bound
/// first and the functions are given it as PUBLIC_BASE_URL (plain http on loopback).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relying_party_libraries_against_the_functions() {
    let Some(suites) = relying_party_suites() else {
        return;
    };
    let _exclusive = exclusive().await;
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0))
        .await
        .unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    // As in wxauth-local's demo: bound to the Open Platform, so profile logins have a
    // unionid, which the suites check.
    let mut wechat = SimulatorConfig::new(APP_ID, APP_SECRET);
    wechat.bound_to_open_platform = true;
    let stack = Stack::deploy_on(
        "$default",
        |env| {
            env.insert("PUBLIC_BASE_URL".into(), issuer.clone());
            env.insert("OIDC_CLIENTS".into(), library_clients());
        },
        None,
        wechat,
        Some(listener),
    )
    .await;
    assert_eq!(stack.api.base_url(), issuer);

    for (name, mut command) in suites {
        command.env("WXAUTH_OIDC_ISSUER", &issuer);
        let started = std::time::Instant::now();
        // Off the runtime's threads: the API and its environments keep serving meanwhile.
        let output = tokio::task::spawn_blocking(move || command.output())
            .await
            .unwrap()
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{name}'s tests failed against the functions ({}):\n{stdout}\n{stderr}\n\
             functions' logs:\n{}",
            output.status,
            stack.logs()
        );
        // What ran and what was skipped, where it is seen: straight to stderr.
        let summary: Vec<&str> = stdout
            .lines()
            .filter(|l| {
                (l.starts_with("# ") && !l.starts_with("# Subtest"))
                    || l.contains("skipped")
                    || l.contains(" passed")
            })
            .collect();
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            format!(
                "{name} against the functions ({:.1?}):\n{}\n",
                started.elapsed(),
                summary.join("\n")
            )
            .as_bytes(),
        );
    }

    let logs = stack.logs();
    let clients = library_clients();
    let clients: Vec<serde_json::Value> = serde_json::from_str(&clients).unwrap();
    for secret in clients
        .iter()
        .filter_map(|c| c["client_secret"].as_str())
        .chain([APP_SECRET])
    {
        assert!(!logs.contains(secret), "a secret reached the logs");
    }
    assert!(logs.contains("\"route\":\"oidc-userinfo\""), "{logs}");
}
