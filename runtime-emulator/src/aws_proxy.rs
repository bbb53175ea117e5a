//! A recording proxy for AWS JSON-protocol services (DynamoDB, SSM …): put it between a
//! function and the endpoint it would call (`AWS_ENDPOINT_URL_DYNAMODB=<proxy>`), and it
//! forwards every request unchanged while recording the operation each one names in
//! `X-Amz-Target` and, for DynamoDB, the partition keys it names. Tests compare what a
//! function really calls, and on which keys, with what its IAM role grants.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use tokio::task::JoinHandle;

/// One forwarded request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Call {
    /// Its `X-Amz-Target` (`DynamoDB_20120810.PutItem` …), `(none)` without one.
    pub target: String,
    /// The values of the partition key it names (the `Key` of a read or an update, the
    /// `Item` of a put): what IAM's `dynamodb:LeadingKeys` sees. A string key as it is,
    /// another type as its JSON; empty for a call naming none (DescribeTable).
    pub leading_keys: Vec<String>,
}

#[derive(Clone)]
struct Proxy {
    upstream: String,
    partition_key: String,
    client: reqwest::Client,
    calls: Arc<Mutex<Vec<Call>>>,
}

/// The proxy on a loopback port until dropped.
pub struct RecordingProxy {
    pub addr: SocketAddr,
    calls: Arc<Mutex<Vec<Call>>>,
    task: JoinHandle<()>,
}

impl RecordingProxy {
    /// Forwards to `upstream` (e.g. DynamoDB Local's `http://127.0.0.1:PORT`), recording
    /// each call's values of `partition_key`, the attribute the table is keyed by.
    pub async fn serve(upstream: &str, partition_key: &str) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let calls = Arc::new(Mutex::new(Vec::new()));
        let proxy = Proxy {
            upstream: upstream.trim_end_matches('/').to_owned(),
            partition_key: partition_key.to_owned(),
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

    /// Every call forwarded so far, in order.
    pub fn calls(&self) -> Vec<Call> {
        self.calls.lock().unwrap().clone()
    }

    /// Every `X-Amz-Target` forwarded so far, in order (`DynamoDB_20120810.PutItem` …).
    pub fn targets(&self) -> Vec<String> {
        self.calls().into_iter().map(|c| c.target).collect()
    }

    /// The operations called, as IAM names them for `service`: `dynamodb:PutItem` …
    pub fn iam_actions(&self, service: &str) -> BTreeSet<String> {
        self.calls().iter().map(|c| c.iam_action(service)).collect()
    }
}

impl Call {
    /// The operation as IAM names it for `service`: `dynamodb:PutItem` …
    pub fn iam_action(&self, service: &str) -> String {
        let operation = self.target.rsplit('.').next().unwrap_or(&self.target);
        format!("{service}:{operation}")
    }
}

/// The values of `partition_key` in a DynamoDB request's `Key` or `Item` (the single-item
/// calls; a batch or a query names its keys elsewhere, and is recorded with none).
fn leading_keys(body: &[u8], partition_key: &str) -> Vec<String> {
    let Ok(request) = serde_json::from_slice::<serde_json::Value>(body) else {
        return Vec::new();
    };
    ["Key", "Item"]
        .iter()
        .filter_map(|field| request.get(field)?.get(partition_key))
        .map(
            |value| match value.get("S").and_then(serde_json::Value::as_str) {
                Some(s) => s.to_owned(),
                None => value.to_string(),
            },
        )
        .collect()
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
    let leading_keys = leading_keys(&body, &proxy.partition_key);
    proxy.calls.lock().unwrap().push(Call {
        target,
        leading_keys,
    });
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
