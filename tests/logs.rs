//! The functions' logs: JSON lines that let an operator follow a request (request id,
//! route, outcome, errcode, latency) without ever holding a secret, a code, a token or a
//! raw openid. (Alone in its test binary: a thread-local log subscriber must not share the
//! process with tests that log nowhere.)

use std::io::Write;
use std::sync::{Arc, Mutex};

use wxauth_core::gateway::openid_hash;
use wxauth_tests::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test]
async fn logs_follow_each_request_and_never_hold_a_secret() {
    let captured = Captured::default();
    let writer = captured.clone();
    // Debug level for everything (the SDK and HTTP stacks too): more than production logs.
    let _guard =
        tracing::subscriber::set_default(wxauth_lambda::json_logs(move || writer.clone(), "debug"));
    let env = TestEnv::start().await;
    let secrets = a_busy_day(&env).await;
    let text = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(text.lines().count() > 20, "too few log lines:\n{text}");

    for secret in &secrets {
        assert!(secret.len() >= 8, "{secret:?} is too short to search for");
        if let Some(line) = text.lines().find(|l| l.contains(secret.as_str())) {
            panic!("a secret value reached the logs: {line}");
        }
    }

    let handled: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("every line is JSON"))
        .filter(|l| l["fields"]["message"] == "handled")
        .collect();
    assert!(
        handled.len() >= 15,
        "{}\n{}",
        handled.len(),
        text.lines()
            .filter(|l| l.contains("handled"))
            .take(3)
            .collect::<Vec<_>>()
            .join("\n")
    );
    for line in &handled {
        let span = &line["span"];
        assert!(
            span["request_id"].as_str().unwrap().starts_with("req-"),
            "{line}"
        );
        assert!(span["route"].is_string(), "{line}");
        assert!(line["fields"]["outcome"].is_string(), "{line}");
        assert!(line["fields"]["latency_ms"].is_u64(), "{line}");
    }
    let signed_in: Vec<&serde_json::Value> = handled
        .iter()
        .filter(|l| l["fields"]["outcome"] == "signed_in")
        .collect();
    assert_eq!(signed_in.len(), 3, "ann, bob and cid");
    assert!(
        signed_in
            .iter()
            .any(|l| l["fields"]["user"] == openid_hash(&env.sim.openid_for("ann"))),
        "users are followed by a hash of their openid"
    );
    assert!(
        handled
            .iter()
            .any(|l| l["fields"]["outcome"] == "server_error" && l["fields"]["wx_errcode"] == 40125),
        "WeChat's errcode is logged"
    );
}
