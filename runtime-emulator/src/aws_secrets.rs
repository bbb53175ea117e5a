//! A loopback double of the two AWS calls that read secrets, speaking AWS's JSON protocol
//! (`application/x-amz-json-1.1`, `X-Amz-Target`) as the SDKs do:
//!
//! - SSM `AmazonSSM.GetParameter` (`{"Name", "WithDecryption"}` → `{"Parameter": {…}}`);
//! - Secrets Manager `secretsmanager.GetSecretValue` (`{"SecretId"}` → `{"SecretString", …}`).
//!
//! Point a client at it with `AWS_ENDPOINT_URL_SSM` / `AWS_ENDPOINT_URL_SECRETS_MANAGER`
//! (or an SDK config's endpoint URL). It refuses unsigned requests and requests signed for
//! another service, answers unknown names as AWS does (`ParameterNotFound`,
//! `ResourceNotFoundException`), and counts the calls it served.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use tokio::task::JoinHandle;

#[derive(Default)]
struct Store {
    parameters: HashMap<String, String>,
    secrets: HashMap<String, String>,
    calls: Vec<String>,
    delay: Duration,
}

/// The double; clones share the same store.
#[derive(Clone, Default)]
pub struct SecretsDouble {
    store: Arc<Mutex<Store>>,
}

/// The double served on a loopback port until dropped.
pub struct RunningSecretsDouble {
    pub addr: SocketAddr,
    task: JoinHandle<()>,
}

impl RunningSecretsDouble {
    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL_SSM` and
    /// `AWS_ENDPOINT_URL_SECRETS_MANAGER`.
    pub fn endpoint_url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for RunningSecretsDouble {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SecretsDouble {
    pub fn new() -> Self {
        Self::default()
    }

    /// A SecureString parameter, by name (as `/wxauth/app-secret`).
    pub fn put_parameter(&self, name: &str, value: &str) {
        self.lock().parameters.insert(name.into(), value.into());
    }

    /// A secret with a `SecretString`, by name or ARN (both are looked up as given).
    pub fn put_secret(&self, id: &str, secret_string: &str) {
        self.lock().secrets.insert(id.into(), secret_string.into());
    }

    /// Delays every answer (a slow or distant endpoint).
    pub fn set_delay(&self, delay: Duration) {
        self.lock().delay = delay;
    }

    /// The calls served so far, as `AmazonSSM.GetParameter /name` …
    pub fn calls(&self) -> Vec<String> {
        self.lock().calls.clone()
    }

    pub async fn serve_on_loopback(&self) -> std::io::Result<RunningSecretsDouble> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let app = Router::new()
            .route("/", post(handle))
            .with_state(self.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(RunningSecretsDouble { addr, task })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }
}

async fn handle(State(double): State<SecretsDouble>, headers: HeaderMap, body: Bytes) -> Response {
    let target = header(&headers, "x-amz-target");
    let delay = double.lock().delay;
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let service = match target {
        "AmazonSSM.GetParameter" => "ssm",
        "secretsmanager.GetSecretValue" => "secretsmanager",
        _ => return error(400, "UnknownOperationException", "unsupported operation"),
    };
    // A SigV4 signature for the right service (the double does not check the signature
    // itself: it has no way to know the caller's secret key).
    let authorization = header(&headers, "authorization");
    if !authorization.starts_with("AWS4-HMAC-SHA256 ")
        || !authorization.contains(&format!("/{service}/aws4_request"))
    {
        return error(
            400,
            "MissingAuthenticationTokenException",
            "not signed for this service",
        );
    }
    if !header(&headers, "content-type").starts_with("application/x-amz-json-1.1") {
        return error(
            400,
            "SerializationException",
            "expected application/x-amz-json-1.1",
        );
    }
    let Ok(input) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return error(400, "SerializationException", "body is not JSON");
    };
    let mut store = double.lock();
    match service {
        "ssm" => {
            let name = input["Name"].as_str().unwrap_or_default().to_owned();
            store.calls.push(format!("{target} {name}"));
            if input["WithDecryption"] != true {
                return error(
                    400,
                    "ValidationException",
                    "the double only serves decrypted reads",
                );
            }
            match store.parameters.get(&name) {
                Some(value) => ok(serde_json::json!({
                    "Parameter": {
                        "Name": name,
                        "Type": "SecureString",
                        "Value": value,
                        "Version": 1,
                        "DataType": "text",
                        "ARN": format!("arn:aws:ssm:us-east-1:123456789012:parameter{name}"),
                    }
                })),
                None => error(400, "ParameterNotFound", ""),
            }
        }
        _ => {
            let id = input["SecretId"].as_str().unwrap_or_default().to_owned();
            store.calls.push(format!("{target} {id}"));
            match store.secrets.get(&id) {
                Some(value) => ok(serde_json::json!({
                    "ARN": id,
                    "Name": id,
                    "SecretString": value,
                    "VersionId": "00000000-0000-0000-0000-000000000001",
                    "VersionStages": ["AWSCURRENT"],
                    "CreatedDate": 1_795_000_000.0,
                })),
                None => error(
                    400,
                    "ResourceNotFoundException",
                    "Secrets Manager can't find the specified secret.",
                ),
            }
        }
    }
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

fn ok(body: serde_json::Value) -> Response {
    (
        StatusCode::OK,
        [("content-type", "application/x-amz-json-1.1")],
        body.to_string(),
    )
        .into_response()
}

fn error(status: u16, code: &str, message: &str) -> Response {
    let mut body = serde_json::json!({ "__type": code });
    if !message.is_empty() {
        body["message"] = message.into();
    }
    (
        StatusCode::from_u16(status).expect("a status"),
        [
            ("content-type", "application/x-amz-json-1.1"),
            ("x-amzn-errortype", code),
        ],
        body.to_string(),
    )
        .into_response()
}
