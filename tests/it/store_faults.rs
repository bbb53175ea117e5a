//! DynamoDB misbehaving: stopped mid-run, or throttling. The gateway answers 503 with a
//! clear error and a Retry-After, never panics, and works again as soon as the store does.

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wxauth_core::store::DynamoStateStore;
use wxauth_core::{Config, Gateway, WeChatClient};
use wxauth_tests::*;

/// A DynamoDB Local of this test's own, started and stopped through the project's script.
struct OwnDynamoDb {
    dir: PathBuf,
    port: u16,
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../scripts/dynamodb-local.sh")
}

fn run_script(args: &[&str]) {
    let status = Command::new(script()).args(args).status().unwrap();
    assert!(status.success(), "scripts/dynamodb-local.sh {args:?}");
}

impl OwnDynamoDb {
    fn start() -> Self {
        // Unique per start: every test of the suite shares this process.
        static STARTED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir = std::env::temp_dir().join(format!("wxauth-ddb-{}-{n}", std::process::id()));
        run_script(&["start", dir.to_str().unwrap()]);
        let port = std::fs::read_to_string(dir.join("port"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        Self { dir, port }
    }

    fn stop(&self) {
        run_script(&["stop", self.dir.to_str().unwrap()]);
    }

    /// On the same port, as after an outage (in memory, so empty).
    fn restart(&self) {
        run_script(&["start", self.dir.to_str().unwrap(), &self.port.to_string()]);
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for OwnDynamoDb {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

async fn client_for(endpoint: &str) -> aws_sdk_dynamodb::Client {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .timeout_config(wxauth_core::store::dynamo_timeouts())
        .load()
        .await;
    let config = aws_sdk_dynamodb::config::Builder::from(&sdk)
        .endpoint_url(endpoint)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

async fn gateway_on(env: &TestEnv, client: aws_sdk_dynamodb::Client, table: &str) -> Gateway {
    let vars = env.vars().clone();
    let config = Config::from_lookup(|name| vars.get(name).cloned()).unwrap();
    let store = DynamoStateStore::new(client, table);
    Gateway::new(config, Arc::new(store), WeChatClient::http_client())
}

fn auth_query() -> String {
    encode(&[
        ("url", "https://app.example.com/"),
        ("scope", "snsapi_base"),
    ])
}

#[tokio::test]
async fn a_stopped_store_is_a_503_and_a_restarted_one_works_again() {
    let env = TestEnv::start().await;
    let ddb = OwnDynamoDb::start();
    let client = client_for(&ddb.endpoint()).await;
    let table = create_state_table(&client).await;
    let gateway = gateway_on(&env, client.clone(), &table).await;
    let ok = env.invoke_on(&gateway, "/auth", &auth_query(), None).await;
    assert_eq!(ok.status(), 302);
    let pending_state = state_of(&location(&ok).unwrap());

    ddb.stop();
    let down = env.invoke_on(&gateway, "/auth", &auth_query(), None).await;
    assert_eq!(down.status(), 503, "{}", body_text(&down));
    assert!(location(&down).is_none());
    assert_eq!(down.headers()["retry-after"], "1");
    let body = json_body(&down);
    assert_eq!(body["error"], "temporarily_unavailable");
    assert!(
        !body["error_description"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1")
    );
    let page = env
        .invoke_on(&gateway, "/auth", &auth_query(), Some("text/html"))
        .await;
    assert_eq!(page.status(), 503);
    assert!(body_text(&page).contains("<h1>"));
    let callback = env
        .invoke_on(
            &gateway,
            "/getOpenId",
            &encode(&[("code", "x"), ("state", &pending_state)]),
            None,
        )
        .await;
    assert_eq!(callback.status(), 503);

    // Back up (in memory, so empty): the very next request works.
    ddb.restart();
    create_state_table_named(&client, &table).await;
    let again = env.invoke_on(&gateway, "/auth", &auth_query(), None).await;
    assert_eq!(again.status(), 302, "{}", body_text(&again));
}

/// A DynamoDB endpoint that throttles every request, as DynamoDB answers them.
async fn throttling_endpoint() -> (String, Arc<std::sync::atomic::AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let hits = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = Arc::clone(&hits);
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            tokio::spawn(async move {
                let mut request = Vec::new();
                let mut buf = [0u8; 4096];
                // Read the head and the declared body, then answer.
                loop {
                    let n = socket.read(&mut buf).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    request.extend_from_slice(&buf[..n]);
                    let text = String::from_utf8_lossy(&request).to_string();
                    if let Some((head, body)) = text.split_once("\r\n\r\n") {
                        let length = head
                            .lines()
                            .find_map(|l| {
                                l.to_ascii_lowercase()
                                    .strip_prefix("content-length:")
                                    .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                            })
                            .unwrap_or(0);
                        if body.len() >= length {
                            break;
                        }
                    }
                }
                let body = r#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","message":"Rate of requests exceeds the allowed throughput."}"#;
                let answer = format!(
                    "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.0\r\nx-amzn-RequestId: test\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    (url, hits)
}

#[tokio::test]
async fn throttling_is_retried_then_answered_as_retryable() {
    let env = TestEnv::start().await;
    let (endpoint, hits) = throttling_endpoint().await;
    let gateway = gateway_on(&env, client_for(&endpoint).await, "wxauth-states").await;
    let started = std::time::Instant::now();
    let response = env.invoke_on(&gateway, "/auth", &auth_query(), None).await;
    assert_eq!(response.status(), 503, "{}", body_text(&response));
    assert_eq!(response.headers()["retry-after"], "1");
    assert_eq!(json_body(&response)["error"], "temporarily_unavailable");
    assert!(
        hits.load(std::sync::atomic::Ordering::SeqCst) >= 2,
        "the SDK retries throttling"
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
}
