//! The functions' logs: JSON lines that let an operator follow a request (request id,
//! route, outcome, errcode, latency) without ever holding a secret, a code, a token or a
//! raw openid. The capturing subscriber is the default of this test's thread only (a
//! current-thread runtime), so the suite's other tests, on other threads, neither write
//! into it nor lose their own events to it.

use std::time::Duration;

use wechat_simulator::{Endpoint, Fault};
use wxauth_core::Scope;
use wxauth_core::handled::openid_hash;
use wxauth_tests::*;

/// The capture sees an event whose callsite another thread without a subscriber (another
/// test, say) reached first: tracing must not have cached "nobody wants this" for it.
#[test]
fn a_capture_sees_callsites_another_thread_reached_first() {
    fn reach() {
        tracing::info!(marker = "reached-by-both-threads", "capture check");
    }
    let (captured, _guard) = CapturedLogs::start("info");
    std::thread::spawn(reach).join().unwrap();
    reach();
    let text = captured.text();
    assert_eq!(
        text.matches("reached-by-both-threads").count(),
        1,
        "only this thread's event, and not lost: {text:?}"
    );
}

#[tokio::test]
async fn logs_follow_each_request_and_never_hold_a_secret() {
    // Debug level (more than production logs); the SDK and HTTP stacks are capped at info
    // whatever the filter says (wxauth_core::logging), which is part of what is tested.
    let (captured, _guard) = CapturedLogs::start("debug");
    let env = TestEnv::start_with(all_response_modes).await;
    let secrets = a_busy_day(&env).await;
    let text = captured.text();
    assert!(text.lines().count() >= 15, "too few log lines:\n{text}");

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
        // The split adds up to the total (which is logged in whole milliseconds).
        let part = |name: &str| {
            line["fields"][name]
                .as_u64()
                .unwrap_or_else(|| panic!("{name}: {line}"))
        };
        let sum = part("wechat_us") + part("store_us") + part("own_us");
        let total_ms = part("latency_ms");
        assert!(
            sum / 1000 == total_ms || sum / 1000 == total_ms + 1,
            "{sum} us against {total_ms} ms: {line}"
        );
        if line["fields"]["outcome"] == "login_started" {
            assert_eq!(part("wechat_us"), 0, "/auth does not call WeChat: {line}");
            assert!(part("store_us") > 0, "/auth writes the state: {line}");
        }
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

#[tokio::test]
async fn each_line_tells_waiting_on_wechat_from_the_gateways_own_work() {
    let (captured, _guard) = CapturedLogs::start("info");
    let env = TestEnv::start().await;
    for endpoint in [Endpoint::AccessToken, Endpoint::UserInfo] {
        env.sim
            .inject(endpoint, Fault::Delay(Duration::from_millis(150)), 1);
    }
    env.login("dee", "https://app.example.com/", Scope::UserInfo, None)
        .await;
    let text = captured.text();
    let callback = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|l| l["fields"]["message"] == "handled" && l["fields"]["outcome"] == "signed_in")
        .expect("the callback's line");
    let field = |name: &str| callback["fields"][name].as_u64().unwrap();
    assert!(
        field("wechat_us") >= 300_000,
        "two delayed calls: {callback}"
    );
    assert!(field("wechat_us") < 2_000_000, "{callback}");
    assert!(field("store_us") > 0, "consume and record: {callback}");
    assert!(
        field("own_us") < 150_000,
        "the delay is not the gateway's: {callback}"
    );
}
