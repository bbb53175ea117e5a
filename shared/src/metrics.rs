//! Per-outcome counters as CloudWatch Embedded Metric Format lines: printed to stdout, a
//! Lambda function's log stream turns them into metrics without any API call.

use std::sync::{Arc, Mutex};

use serde_json::json;

/// The metric namespace in CloudWatch.
pub const NAMESPACE: &str = "wxauth";

/// Where metric lines go.
#[derive(Clone, Default)]
pub enum MetricsSink {
    /// Not emitted (local server).
    #[default]
    Off,
    /// One JSON line per request on stdout (Lambda).
    Stdout,
    /// Kept in memory, for tests.
    Memory(Arc<Mutex<Vec<String>>>),
}

impl MetricsSink {
    pub fn record(&self, route: &str, outcome: &str, latency_ms: u64) {
        let line = || emf_line(route, outcome, latency_ms, now_millis());
        match self {
            Self::Off => {}
            Self::Stdout => println!("{}", line()),
            Self::Memory(lines) => lines.lock().unwrap_or_else(|e| e.into_inner()).push(line()),
        }
    }
}

/// One EMF object: a `Requests` count and the `Latency`, by route and outcome.
pub fn emf_line(route: &str, outcome: &str, latency_ms: u64, timestamp_ms: u64) -> String {
    json!({
        "_aws": {
            "Timestamp": timestamp_ms,
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [["Route", "Outcome"], ["Route"]],
                "Metrics": [
                    {"Name": "Requests", "Unit": "Count"},
                    {"Name": "Latency", "Unit": "Milliseconds"}
                ]
            }]
        },
        "Route": route,
        "Outcome": outcome,
        "Requests": 1,
        "Latency": latency_ms
    })
    .to_string()
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_follow_the_embedded_metric_format() {
        let line: serde_json::Value = serde_json::from_str(&emf_line(
            "base-callback",
            "signed_in",
            42,
            1_700_000_000_000,
        ))
        .unwrap();
        let directive = &line["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(line["_aws"]["Timestamp"], 1_700_000_000_000u64);
        assert_eq!(directive["Namespace"], "wxauth");
        // Every dimension and metric named in the directive is a top-level member.
        for dims in directive["Dimensions"].as_array().unwrap() {
            for d in dims.as_array().unwrap() {
                assert!(line.get(d.as_str().unwrap()).is_some(), "{d}");
            }
        }
        for m in directive["Metrics"].as_array().unwrap() {
            assert!(line[m["Name"].as_str().unwrap()].is_number());
        }
        assert_eq!(line["Outcome"], "signed_in");
    }

    #[test]
    fn memory_sink_keeps_lines() {
        let lines = Arc::new(Mutex::new(Vec::new()));
        MetricsSink::Memory(Arc::clone(&lines)).record("auth", "login_started", 3);
        MetricsSink::Off.record("auth", "login_started", 3);
        assert_eq!(lines.lock().unwrap().len(), 1);
    }
}
