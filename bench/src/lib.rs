//! Shared pieces of the benchmarks: statistics and a browser that walks a login.

use std::time::Duration;

pub mod cpu;
pub mod functions;
mod handled;
pub mod oidc;
pub mod release_profile;
pub mod tls;
pub use handled::{HandledLines, HandledTimes};

/// Min, median, p99 and max of a sample, in milliseconds with microsecond precision.
pub struct Summary {
    pub count: usize,
    pub min: Duration,
    pub p50: Duration,
    pub p99: Duration,
    pub max: Duration,
}

impl Summary {
    pub fn of(samples: &[Duration]) -> Self {
        assert!(!samples.is_empty(), "no samples");
        let mut sorted = samples.to_vec();
        sorted.sort();
        // Nearest-rank percentiles.
        let rank =
            |p: f64| sorted[((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1];
        Self {
            count: sorted.len(),
            min: sorted[0],
            p50: rank(0.50),
            p99: rank(0.99),
            max: sorted[sorted.len() - 1],
        }
    }

    pub fn line(&self, label: &str) -> String {
        format!(
            "{label:<44} n={:<5} min {:>8.3} ms  p50 {:>8.3} ms  p99 {:>8.3} ms  max {:>8.3} ms",
            self.count,
            ms(self.min),
            ms(self.p50),
            ms(self.p99),
            ms(self.max)
        )
    }
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// A client like a browser that follows no redirects by itself.
pub fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1024)
        .build()
        .expect("client")
}

pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("location")
        .unwrap_or_else(|| panic!("expected a redirect, got {}", response.status()))
        .to_str()
        .unwrap()
        .to_owned()
}

/// `name=value` of the binding cookie an `/auth` answer sets.
pub fn binding_cookie(response: &reqwest::Response) -> Option<String> {
    response
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| cookie::Cookie::parse(v).ok())
        // `__Host-wxauth_…` when the gateway's base URL is https; an empty value is one
        // the gateway expires (a browser's oldest pending login).
        .find(|c| {
            c.name()
                .trim_start_matches("__Host-")
                .starts_with("wxauth_")
                && !c.value().is_empty()
        })
        .map(|c| format!("{}={}", c.name(), c.value()))
}

/// `name=value` of a `Set-Cookie` value, as a browser sends it back.
pub fn cookie_pair(set_cookie: &str) -> String {
    let cookie = cookie::Cookie::parse(set_cookie).expect("a well-formed Set-Cookie");
    format!("{}={}", cookie.name(), cookie.value())
}

/// The state table, as template.yaml declares it, in the DynamoDB the environment names.
pub async fn create_state_table(table: &str) -> aws_sdk_dynamodb::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .load()
        .await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    wxauth_core::store::DynamoStateStore::create_table(&client, table)
        .await
        .expect("create the table in DynamoDB Local");
    client
}

pub fn arg<T: std::str::FromStr>(name: &str, default: T) -> T {
    let flag = format!("--{name}=");
    std::env::args()
        .find_map(|a| a.strip_prefix(&flag).map(str::to_owned))
        .map(|v| {
            v.parse()
                .unwrap_or_else(|_| panic!("--{name} has a bad value: {v}"))
        })
        .unwrap_or(default)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        let s = Summary::of(&samples);
        assert_eq!(s.p50, Duration::from_millis(50));
        assert_eq!(s.p99, Duration::from_millis(99));
        assert_eq!(s.min, Duration::from_millis(1));
        assert_eq!(s.max, Duration::from_millis(100));
        let one = Summary::of(&[Duration::from_millis(7)]);
        assert_eq!(
            (one.p50, one.p99),
            (Duration::from_millis(7), Duration::from_millis(7))
        );
    }

    #[test]
    fn the_binding_cookie_is_the_wxauth_one_without_attributes() {
        let answer = http::Response::builder()
            .header("set-cookie", "other=1; Path=/")
            .header(
                "set-cookie",
                "__Host-wxauth_Old1=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax; Secure",
            )
            .header(
                "set-cookie",
                "__Host-wxauth_Ab12=v4lue; Path=/; Max-Age=600; HttpOnly; SameSite=Lax; Secure",
            )
            .body("")
            .unwrap();
        let answer = reqwest::Response::from(answer);
        assert_eq!(
            binding_cookie(&answer).as_deref(),
            Some("__Host-wxauth_Ab12=v4lue")
        );
        let none = reqwest::Response::from(http::Response::new(""));
        assert_eq!(binding_cookie(&none), None);
    }
}
