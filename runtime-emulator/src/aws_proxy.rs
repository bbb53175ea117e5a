//! A recording proxy for AWS JSON-protocol services (DynamoDB, SSM …): put it between a
//! function and the endpoint it would call (`AWS_ENDPOINT_URL_DYNAMODB=<proxy>`), and it
//! forwards every request unchanged while recording the operation each one names in
//! `X-Amz-Target`. Tests compare what a function really calls with what its IAM role
//! grants.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

#[derive(Clone)]
struct Proxy {
    upstream: String,
    client: reqwest::Client,
    calls: Arc<Mutex<Vec<String>>>,
}

/// The proxy on a loopback port until dropped.
pub struct RecordingProxy {
    pub addr: SocketAddr,
    calls: Arc<Mutex<Vec<String>>>,
    task: JoinHandle<()>,
}

impl RecordingProxy {
    /// Forwards to `upstream` (e.g. DynamoDB Local's `http://127.0.0.1:PORT`).
    pub async fn serve(upstream: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let calls = Arc::new(Mutex::new(Vec::new()));
        let proxy = Proxy {
            upstream: upstream.trim_end_matches('/').to_owned(),
            client: reqwest::Client::new(),
            calls: Arc::clone(&calls),
        };
        let app = Router::new().fallback(forward).with_state(proxy);
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self { addr, calls, task })
    }

    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Every `X-Amz-Target` forwarded so far, in order (`DynamoDB_20120810.PutItem` …).
    pub fn targets(&self) -> Vec<String> {
        self.calls.lock().unwrap().clone()
    }

    /// The operations called, as IAM names them for `service`: `dynamodb:PutItem` …
    pub fn iam_actions(&self, service: &str) -> BTreeSet<String> {
        self.targets()
            .iter()
            .map(|t| format!("{service}:{}", t.rsplit('.').next().unwrap_or(t)))
            .collect()
    }
}

impl Drop for RecordingProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn forward(State(proxy): State<Proxy>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(body): Result<Bytes, _> = axum::body::to_bytes(body, 64 * 1024 * 1024).await else {
        return StatusCode::PAYLOAD_TOO_LARGE.into_response();
    };
    let target = parts
        .headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("(none)")
        .to_owned();
    proxy.calls.lock().unwrap().push(target);
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut upstream = proxy
        .client
        .request(parts.method, format!("{}{path}", proxy.upstream))
        .body(body);
    for (name, value) in &parts.headers {
        if !matches!(name.as_str(), "host" | "content-length" | "connection") {
            upstream = upstream.header(name, value);
        }
    }
    let Ok(answer) = upstream.send().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let mut response = Response::builder().status(answer.status());
    for (name, value) in answer.headers() {
        if !matches!(
            name.as_str(),
            "content-length" | "transfer-encoding" | "connection"
        ) {
            response = response.header(name, value);
        }
    }
    let Ok(bytes) = answer.bytes().await else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    response
        .body(Body::from(bytes))
        .unwrap_or_else(|_| StatusCode::BAD_GATEWAY.into_response())
}
