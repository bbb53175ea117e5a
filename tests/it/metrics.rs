//! One CloudWatch Embedded Metric Format line per request, by route and outcome.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use wxauth_core::metrics::MetricsSink;
use wxauth_tests::*;

#[tokio::test]
async fn every_request_emits_one_embedded_metric_line_by_outcome() {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let env = TestEnv::start_with(all_response_modes)
        .await
        .with_metrics(MetricsSink::Memory(Arc::clone(&lines)));
    a_busy_day(&env).await;
    let lines = lines.lock().unwrap();
    let mut by_outcome: HashMap<(String, String), usize> = HashMap::new();
    for line in lines.iter() {
        let emf: serde_json::Value = serde_json::from_str(line).unwrap();
        assert_eq!(emf["_aws"]["CloudWatchMetrics"][0]["Namespace"], "wxauth");
        assert_eq!(emf["Requests"], 1);
        *by_outcome
            .entry((
                emf["Route"].as_str().unwrap().to_owned(),
                emf["Outcome"].as_str().unwrap().to_owned(),
            ))
            .or_default() += 1;
    }
    let count = |route: &str, outcome: &str| {
        by_outcome
            .get(&(route.to_owned(), outcome.to_owned()))
            .copied()
            .unwrap_or(0)
    };
    assert_eq!(count("auth", "login_started"), 6);
    assert_eq!(count("auth", "rejected"), 1);
    assert_eq!(count("base-callback", "signed_in"), 2);
    assert_eq!(count("userinfo-callback", "signed_in"), 1);
    assert_eq!(count("base-callback", "repeated"), 1);
    assert_eq!(count("userinfo-callback", "refused"), 1);
    assert_eq!(count("base-callback", "server_error"), 1);
    assert_eq!(count("userinfo-callback", "temporarily_unavailable"), 1);
    assert_eq!(count("base-callback", "rejected"), 1);
    assert_eq!(lines.len(), 15);
}
