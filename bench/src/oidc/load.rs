//! The timed phases: redeeming minted codes at a fixed concurrency, and discovery or
//! userinfo requests for a fixed time. Each phase records the provider process's CPU time
//! and this load generator's, read from their POSIX CPU clocks right before and after.
//! Every answer is checked (status, and for the token endpoint the body), so an error
//! answered fast cannot pass for throughput.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::mint::Minted;
use super::provider::{AuthMethod, CLIENT_ID, CLIENT_SECRET, Provider, REDIRECT_URI};
use crate::cpu::process_cpu_time;

/// Requests answered in a phase, its wall time and both processes' CPU time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Phase {
    pub requests: usize,
    pub wall: Duration,
    pub server_cpu: Duration,
    pub load_cpu: Duration,
}

impl Phase {
    pub fn add(&mut self, other: Phase) {
        self.requests += other.requests;
        self.wall += other.wall;
        self.server_cpu += other.server_cpu;
        self.load_cpu += other.load_cpu;
    }

    pub fn per_second(&self) -> f64 {
        self.requests as f64 / self.wall.as_secs_f64()
    }

    /// The provider's CPU time per answered request, in microseconds.
    pub fn server_cpu_us(&self) -> f64 {
        self.server_cpu.as_secs_f64() * 1e6 / self.requests as f64
    }

    /// The share of one CPU the provider used while the phase ran.
    pub fn server_busy(&self) -> f64 {
        self.server_cpu.as_secs_f64() / self.wall.as_secs_f64()
    }

    /// The share of one CPU the load generator used: near 1, it may be the bottleneck.
    pub fn load_busy(&self) -> f64 {
        self.load_cpu.as_secs_f64() / self.wall.as_secs_f64()
    }
}

/// Both clocks at one moment.
struct Clocks {
    at: Instant,
    server: Duration,
    load: Duration,
}

impl Clocks {
    fn read(pid: u32) -> Self {
        Self {
            at: Instant::now(),
            server: process_cpu_time(pid).expect("the provider's CPU clock"),
            load: process_cpu_time(std::process::id()).expect("our own CPU clock"),
        }
    }

    fn since(&self, start: &Clocks, requests: usize) -> Phase {
        Phase {
            requests,
            wall: self.at - start.at,
            server_cpu: self.server - start.server,
            load_cpu: self.load - start.load,
        }
    }
}

/// Redeems every code, `concurrency` token requests in flight; the access tokens issued.
/// Each answer must be a 200 with a Bearer access token and an ID token signed with the
/// provider's algorithm: checked after the clocks stop.
pub async fn redeem(
    provider: &Provider,
    client: &reqwest::Client,
    codes: Vec<Minted>,
    concurrency: usize,
    auth: AuthMethod,
) -> (Phase, Vec<String>) {
    let count = codes.len();
    let codes = Arc::new(codes);
    let next = Arc::new(AtomicUsize::new(0));
    let url = provider.token_url();
    let start = Clocks::read(provider.pid);
    let mut tasks = Vec::new();
    for _ in 0..concurrency {
        let (codes, next, client, url) = (
            Arc::clone(&codes),
            Arc::clone(&next),
            client.clone(),
            url.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut bodies = Vec::new();
            loop {
                let index = next.fetch_add(1, Ordering::Relaxed);
                let Some(minted) = codes.get(index) else {
                    break;
                };
                let (request, body) = token_request(&client, &url, minted, auth);
                let answer = request
                    .header("content-type", "application/x-www-form-urlencoded")
                    .body(body)
                    .send()
                    .await
                    .expect("a token request");
                let status = answer.status();
                let body = answer.bytes().await.expect("a token response");
                bodies.push((status, body));
            }
            bodies
        }));
    }
    let mut bodies = Vec::with_capacity(count);
    for task in tasks {
        bodies.extend(task.await.expect("a redeeming task"));
    }
    let phase = Clocks::read(provider.pid).since(&start, bodies.len());
    let tokens = bodies
        .iter()
        .map(|(status, body)| access_token(provider, *status, body))
        .collect();
    (phase, tokens)
}

/// A token request redeeming `minted`, with the client's credentials where `auth` puts
/// them.
fn token_request(
    client: &reqwest::Client,
    url: &str,
    minted: &Minted,
    auth: AuthMethod,
) -> (reqwest::RequestBuilder, String) {
    let mut form = form_urlencoded::Serializer::new(String::new());
    form.append_pair("grant_type", "authorization_code")
        .append_pair("code", &minted.code)
        .append_pair("redirect_uri", REDIRECT_URI)
        .append_pair("code_verifier", &minted.verifier);
    let mut request = client.post(url);
    match auth {
        AuthMethod::Basic => request = request.basic_auth(CLIENT_ID, Some(CLIENT_SECRET)),
        AuthMethod::Post => {
            form.append_pair("client_id", CLIENT_ID)
                .append_pair("client_secret", CLIENT_SECRET);
        }
    }
    (request, form.finish())
}

/// The access token of a successful token response; anything else stops the benchmark.
fn access_token(provider: &Provider, status: reqwest::StatusCode, body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    assert!(
        status.is_success(),
        "{}: token request answered {status}: {text}",
        provider.label()
    );
    let answer: serde_json::Value = serde_json::from_slice(body).expect("a JSON token response");
    assert_eq!(answer["token_type"], "Bearer", "{text}");
    let id_token = answer["id_token"].as_str().expect("an ID token");
    let header = id_token.split('.').next().unwrap_or_default();
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header)
        .ok()
        .and_then(|h| serde_json::from_slice(&h).ok())
        .expect("a JWS header");
    assert_eq!(header["alg"], provider.alg, "{}", provider.label());
    answer["access_token"]
        .as_str()
        .expect("an access token")
        .to_owned()
}

/// Requests by `concurrency` tasks until `duration` has passed; each must answer 200.
/// `request` builds the `n`th request of a task.
pub async fn repeat(
    provider: &Provider,
    client: &reqwest::Client,
    concurrency: usize,
    duration: Duration,
    request: impl Fn(&reqwest::Client, usize) -> reqwest::RequestBuilder + Send + Sync + 'static,
) -> Phase {
    let stop = Arc::new(AtomicBool::new(false));
    let request = Arc::new(request);
    let label = provider.label();
    let start = Clocks::read(provider.pid);
    let mut tasks = Vec::new();
    for worker in 0..concurrency {
        let (stop, client, request, label) = (
            Arc::clone(&stop),
            client.clone(),
            Arc::clone(&request),
            label.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut done = 0;
            while !stop.load(Ordering::Relaxed) {
                let answer = request(&client, worker * 7919 + done)
                    .send()
                    .await
                    .expect("a request");
                let status = answer.status();
                let body = answer.bytes().await.expect("a response body");
                assert!(
                    status.is_success(),
                    "{label}: answered {status}: {}",
                    String::from_utf8_lossy(&body)
                );
                done += 1;
            }
            done
        }));
    }
    tokio::time::sleep(duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut requests = 0;
    for task in tasks {
        requests += task.await.expect("a requesting task");
    }
    Clocks::read(provider.pid).since(&start, requests)
}
