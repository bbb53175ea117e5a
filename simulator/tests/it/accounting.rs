//! What the simulator measures for benchmarks: connections accepted and time spent on API
//! calls.

use std::time::Duration;

use wechat_simulator::{Endpoint, Fault, Scope};

use crate::support::*;

#[tokio::test]
async fn a_keep_alive_client_opens_one_connection_and_fresh_clients_open_their_own() {
    let (sim, running) = start(config()).await;
    let shared = client();
    for _ in 0..5 {
        let code = sim.issue_code("ann", Scope::Base);
        exchange(&shared, &running.base_url, &code).await;
    }
    assert_eq!(running.connections_accepted(), 1);
    for _ in 0..3 {
        let code = sim.issue_code("ann", Scope::Base);
        exchange(&client(), &running.base_url, &code).await;
    }
    assert_eq!(running.connections_accepted(), 4);
}

#[tokio::test]
async fn api_time_includes_injected_latency_and_excludes_browser_pages() {
    let (sim, running) = start(config()).await;
    sim.inject(
        Endpoint::AccessToken,
        Fault::Delay(Duration::from_millis(30)),
        usize::MAX,
    );
    let http = client();
    for _ in 0..3 {
        let code = sim.issue_code("bea", Scope::Base);
        exchange(&http, &running.base_url, &code).await;
    }
    let spent = sim.api_time();
    assert!(spent >= Duration::from_millis(90), "{spent:?}");
    assert!(spent < Duration::from_millis(400), "{spent:?}");
    base_login(&http, &running.base_url, "bea").await;
    assert_eq!(
        sim.api_time(),
        spent,
        "the authorize page is not an API call"
    );
}
